"""Definitions from the retrieval index for the analysis' project symbol table.

`ai_core.analysis.project.Project` asks a `DefinitionProvider` for a dotted name it cannot resolve in
the project's files (`billing.gateway.charge`). `IndexDefinitionProvider` answers from the workspace
indexes: the definition whose file's module path ends with the dotted prefix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ai_core.retrieval.chunker import module_name
from ai_core.retrieval.indexer import CodeIndex, Definition

log = logging.getLogger(__name__)


def _module_matches(rel_path: str, dotted_module: str) -> bool:
    """True when the file's module (`src/billing/gateway.py` -> `src.billing.gateway`) ends with it."""
    name = module_name(rel_path)
    return name == dotted_module or name.endswith("." + dotted_module)


class IndexDefinitionProvider:
    """A DefinitionProvider (see ai_core.analysis.project) backed by one or more CodeIndexes."""

    def __init__(self, indexes: Callable[[], Iterable[CodeIndex]]) -> None:
        self.indexes = indexes
        self.calls = 0

    def lookup(self, qualified_name: str) -> Definition | None:
        """The indexed definition of `pkg.module.name` or `pkg.module.Class.method`, if unambiguous."""
        parts = [p for p in qualified_name.split(".") if p]
        if len(parts) < 2:
            return None
        for index in self.indexes():
            for cut in range(len(parts) - 1, 0, -1):
                module, symbol = ".".join(parts[:cut]), ".".join(parts[cut:])
                try:
                    found = index.find_definitions(symbol)
                except Exception:
                    log.exception("index lookup of %s failed", qualified_name)
                    return None
                for definition in found:
                    rel = Path(definition.path).relative_to(index.root).as_posix() \
                        if Path(definition.path).is_relative_to(index.root) else definition.path
                    if _module_matches(rel, module):
                        return definition
        return None

    def __call__(self, qualified_name: str) -> Any:
        """An `ExternalDefinition` for the project symbol table, or None."""
        self.calls += 1
        definition = self.lookup(qualified_name)
        if definition is None:
            return None
        from ai_core.analysis.project import ExternalDefinition

        return ExternalDefinition(path=definition.path, source=definition.text)


__all__ = ["IndexDefinitionProvider"]
