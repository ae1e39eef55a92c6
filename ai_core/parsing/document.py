"""A parsed Python document that follows LSP content changes with incremental tree-sitter re-parses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import tree_sitter_python
from tree_sitter import Language, Parser, Point, Tree

from ai_core.parsing.positions import PositionEncoding, PositionMap


@cache
def python_language() -> Language:
    """The tree-sitter Python language (one per process)."""
    return Language(tree_sitter_python.language())


PARSE_CHUNK = 64 * 1024
"""Big sources are handed to tree-sitter in chunks of this size: it holds the GIL while it parses a bytes
object (a 5 MB file froze every other thread, the server's loop and its stdin reader, for 2 s), but a read
callback lets other threads run between chunks."""


def parse_python(data: bytes, old_tree: Tree | None = None) -> Tree:
    """Parse UTF-8 Python source; with `old_tree` (already edited) the parse is incremental."""
    parser = Parser(python_language())
    if len(data) <= PARSE_CHUNK:
        return parser.parse(data, old_tree) if old_tree is not None else parser.parse(data)
    view = memoryview(data)

    def read(offset: int, _point: object) -> bytes:
        return bytes(view[offset:offset + PARSE_CHUNK])

    return parser.parse(read, old_tree) if old_tree is not None else parser.parse(read)


@dataclass(frozen=True, slots=True)
class ContentChange:
    """One LSP content change: a range in `encoding` units and its new text, or a full replacement."""

    text: str
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None


class ParsedDocument:
    """A document's text, line map and syntax tree, kept in step with edits."""

    def __init__(self, text: str, path: str = "", version: int = 0) -> None:
        self.path = path
        self.version = version
        data = text.encode("utf-8", errors="surrogatepass")
        self._set(data, parse_python(data))

    def _set(self, data: bytes, tree: Tree) -> None:
        self.data = data
        self.tree = tree
        self._positions: PositionMap | None = None

    @property
    def positions(self) -> PositionMap:
        """The document's line map, built on first use (a scan converts positions for few of its files)."""
        positions = self._positions
        if positions is None:
            positions = self._positions = PositionMap(self.data)
        return positions

    @positions.setter
    def positions(self, positions: PositionMap) -> None:
        self._positions = positions

    @property
    def text(self) -> str:
        """The document's text."""
        return self.data.decode("utf-8", errors="replace")

    @property
    def has_syntax_errors(self) -> bool:
        """True when tree-sitter had to recover from errors."""
        return self.tree.root_node.has_error

    def node_text(self, node: object) -> str:
        """The source text of a node."""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")  # type: ignore[attr-defined]

    def apply_changes(
        self, changes: list[ContentChange], encoding: PositionEncoding, version: int | None = None
    ) -> None:
        """Apply LSP content changes in order, editing the old tree so the re-parse is incremental."""
        for change in changes:
            if change.start is None or change.end is None:
                data = change.text.encode("utf-8", errors="surrogatepass")
                self._set(data, parse_python(data))
                continue
            self._apply_range(change, encoding)
        if version is not None:
            self.version = version

    def _apply_range(self, change: ContentChange, encoding: PositionEncoding) -> None:
        assert change.start is not None and change.end is not None
        start = self.positions.offset_at(*change.start, encoding)
        end = max(start, self.positions.offset_at(*change.end, encoding))
        new_bytes = change.text.encode("utf-8", errors="surrogatepass")
        data = self.data[:start] + new_bytes + self.data[end:]
        start_point = self.positions.point_at(start)
        old_end_point = self.positions.point_at(end)
        new_end = start + len(new_bytes)
        new_map = PositionMap(data)
        new_end_point = new_map.point_at(new_end)
        old_tree = self.tree.copy()  # never mutate a tree a snapshot may be reading
        old_tree.edit(
            start_byte=start,
            old_end_byte=end,
            new_end_byte=new_end,
            start_point=Point(*start_point),
            old_end_point=Point(*old_end_point),
            new_end_point=Point(*new_end_point),
        )
        self.data = data
        self.tree = parse_python(data, old_tree)
        self.positions = new_map

    def snapshot(self) -> ParsedDocument:
        """An immutable-in-practice copy for analysis on another thread (shares bytes and tree)."""
        copy = object.__new__(ParsedDocument)
        copy.path, copy.version = self.path, self.version
        copy.data, copy.tree, copy._positions = self.data, self.tree, self._positions
        return copy
