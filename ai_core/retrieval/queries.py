"""Questions asked of a workspace index: hybrid search, where a symbol is defined, which chunks call it."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ai_core.retrieval.chunks import KINDS
from ai_core.retrieval.embeddings import Embedder
from ai_core.retrieval.store import IndexStore, SearchResult
from ai_core.retrieval.tables import in_list, quote


class Definition(NamedTuple):
    """Where a symbol is defined: absolute path, 1-based inclusive lines, the dedented source."""

    path: str
    start_line: int
    end_line: int
    text: str


class IndexQueries:
    """The query side of CodeIndex (which supplies the store, the embedder and the file access below)."""

    root: Path
    store: IndexStore

    @property
    def embedder(self) -> Embedder:
        """The embedder of queries."""
        raise NotImplementedError

    def open(self) -> Any:
        """Open the store."""
        raise NotImplementedError

    def _relative(self, path: Path) -> str | None:
        raise NotImplementedError

    def _source_lines(self, rel: str, first: int, last: int) -> str | None:
        raise NotImplementedError

    def search(self, query: str, limit: int = 10, path: str | None = None, kind: str | Sequence[str] | None = None,
               mode: str = "hybrid") -> list[SearchResult]:
        """Chunks matching `query` by meaning and by words, fused by reciprocal rank.

        `path` keeps results in one file or folder (relative to the root); `kind` in some of KINDS.
        """
        self.open()
        vector = self.embedder.embed_one(query) if mode in ("hybrid", "vector") else None
        return self.store.search(vector, query, limit=limit, where=self._filter(path, kind), mode=mode)

    def _filter(self, path: str | None, kind: str | Sequence[str] | None) -> str | None:
        clauses = []
        if path:
            rel = path.strip("/")
            candidate = Path(path)
            if candidate.is_absolute():
                rel = self._relative(candidate) or rel
            clauses.append(f"(path = {quote(rel)} OR starts_with(path, {quote(rel.rstrip('/') + '/')}))")
        if kind:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            unknown = [k for k in kinds if k not in KINDS]
            if unknown:
                raise ValueError(f"unknown kind {unknown[0]!r}; expected one of {', '.join(KINDS)}")
            clauses.append(in_list("kind", kinds))
        return " AND ".join(clauses) or None

    def find_definitions(self, symbol: str, limit: int = 20, module: str | None = None) -> list[Definition]:
        """Functions, methods and classes named `symbol` (or `Class.method`), and module-level bindings.

        `module` (dotted, e.g. `billing.gateway`) keeps only files whose path ends in that module. Lines
        are 1-based and inclusive; paths are absolute; the text is the whole definition, read from the
        file when it still matches the index, else joined from the indexed chunks.
        """
        self.open()
        where = (f"(kind IN ('function', 'method', 'class') AND (name = {quote(symbol)} OR "
                 f"ends_with(name, {quote('.' + symbol)})))")
        if "." not in symbol:
            where += f" OR (kind = 'module' AND array_has(symbols, {quote(symbol)}))"
        if module:
            tail = module.replace(".", "/")
            files = (f"{tail}.py", f"{tail}/__init__.py", f"{tail}.pyi")
            where = f"({where}) AND (" + " OR ".join(
                f"path = {quote(name)} OR ends_with(path, {quote('/' + name)})" for name in files) + ")"
        rows = self.store.rows(where, columns=("path", "kind", "name", "start_line", "end_line", "scope_start",
                                               "scope_end", "text"))
        scopes: dict[tuple[str, int, int], list[dict]] = {}
        for row in rows:
            key = (row["path"], row["scope_start"], row["scope_end"])
            if row["kind"] == "module":
                key = (row["path"], row["start_line"], row["end_line"])
            scopes.setdefault(key, []).append(row)
        out = []
        for (rel, first, last), group in sorted(scopes.items())[:limit]:
            text = self._source_lines(rel, first, last)
            if text is None:
                text = "\n".join(row["text"] for row in sorted(group, key=lambda r: r["start_line"]))
            out.append(Definition(str(self.root / rel), first, last, textwrap.dedent(text)))
        return out

    def find_callers(self, symbol: str, limit: int = 50) -> list[SearchResult]:
        """Chunks that call `symbol` (as `symbol(...)` or `anything.symbol(...)`)."""
        self.open()
        short = symbol.rsplit(".", 1)[-1]
        rows = self.store.rows(f"array_has(calls, {quote(symbol)}) OR array_has(calls, {quote(short)}) OR "
                               f"concat(array_to_string(calls, ' '), ' ') LIKE {quote('%.' + short + ' %')}",
                               limit=limit * 4)
        results = []
        for row in rows:
            calls = tuple(row["calls"] or ())
            if not any(c in (symbol, short) or c.endswith("." + short) for c in calls):
                continue
            results.append(SearchResult(row["path"], row["start_line"], row["end_line"], row["kind"], row["name"],
                                        1.0, row["text"], tuple(row["symbols"] or ()), calls))
        return results[:limit]
