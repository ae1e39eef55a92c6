"""What a project lookup returns or takes: resolved definitions, external definitions, the overlay hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ai_core.analysis.symbols import ClassInfo, FunctionInfo, ModuleInfo
from ai_core.parsing import ParsedDocument


@dataclass(frozen=True, slots=True)
class ExternalDefinition:
    """Source text of a definition found outside the project files (e.g. by the retrieval index)."""

    path: str
    """Where it lives, as shown in taint paths."""
    source: str
    """A module, or just the definition (def/class) of the requested name."""


class DefinitionProvider(Protocol):
    """Supplies a definition by dotted name (e.g. 'billing.gateway.charge') when the project lacks it."""

    def __call__(self, qualified_name: str) -> ExternalDefinition | None:
        """The definition's source, or None."""
        ...


Overlay = Callable[[str], ParsedDocument | None]
"""Returns the open editor document for an absolute path, or None (then the file on disk is used)."""


@dataclass(frozen=True, slots=True)
class GlobalRef:
    """A module-level variable (e.g. `db = Database()`), found while resolving a dotted name."""

    module: ModuleInfo
    name: str


Resolved = FunctionInfo | ClassInfo | ModuleInfo | GlobalRef
"""What a dotted name resolves to."""
