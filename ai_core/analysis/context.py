"""What a check sees: the parsed document, its path, settings and (optionally) the project."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ai_core.analysis.docindex import DocIndex, build_index
from ai_core.analysis.imports import ImportTable, collect_imports
from ai_core.config import Settings
from ai_core.parsing import ParsedDocument


@dataclass
class AnalysisContext:
    """One document under analysis."""

    doc: ParsedDocument
    path: str
    settings: Settings = field(default_factory=Settings)
    project: Any = None
    """A project symbol table for cross-file resolution, when the caller has one."""

    @cached_property
    def imports(self) -> ImportTable:
        """The document's imports: local name -> fully qualified name."""
        return collect_imports(self.doc)

    @cached_property
    def lowered(self) -> bytes:
        """The document's bytes in lower case (for fast case-insensitive prefilters)."""
        return self.doc.data.lower()

    @cached_property
    def index(self) -> DocIndex:
        """Calls, assignments, comparisons and functions of the document (one query, shared by checks)."""
        return build_index(self.doc, self.imports)
