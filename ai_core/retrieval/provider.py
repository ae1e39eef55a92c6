"""Definitions from the retrieval index for the analysis' project symbol table.

`ai_core.analysis.project.Project` asks a `DefinitionProvider` for a dotted name it cannot resolve in
the project's files (`billing.gateway.charge`). `IndexDefinitionProvider` answers from the workspace
indexes: the definition in a file whose path ends with the dotted prefix (`billing/gateway.py`), found
by a scalar filter (no embedding), so that unknown library names cost one small query each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the index (and lancedb with it) loads only when a folder is indexed
    from ai_core.retrieval.indexer import CodeIndex, Definition

log = logging.getLogger(__name__)


class IndexDefinitionProvider:
    """A DefinitionProvider (see ai_core.analysis.project) backed by one or more CodeIndexes."""

    def __init__(self, indexes: Callable[[], Iterable[CodeIndex]]) -> None:
        self.indexes = indexes
        self.calls = 0

    def lookup(self, qualified_name: str) -> Definition | None:
        """The indexed definition of `pkg.module.name` or `pkg.module.Class.method`, if there is one."""
        parts = [p for p in qualified_name.split(".") if p]
        if len(parts) < 2:
            return None
        for index in self.indexes():
            for cut in range(len(parts) - 1, 0, -1):
                module, symbol = ".".join(parts[:cut]), ".".join(parts[cut:])
                try:
                    found = index.find_definitions(symbol, limit=1, module=module)
                except Exception:
                    log.exception("index lookup of %s failed", qualified_name)
                    return None
                if found:
                    return found[0]
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
