"""A parsed Python document that follows LSP content changes with incremental tree-sitter re-parses."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache

import tree_sitter_python
from tree_sitter import Language, Parser, Point, Tree

from ai_core.parsing.budget import over_budget
from ai_core.parsing.positions import PositionEncoding, PositionMap

log = logging.getLogger(__name__)


@cache
def python_language() -> Language:
    """The tree-sitter Python language (one per process)."""
    return Language(tree_sitter_python.language())


PARSE_CHUNK = 64 * 1024
"""Big sources are handed to tree-sitter in chunks of this size: it holds the GIL while it parses a bytes
object (a 5 MB file froze every other thread, the server's loop and its stdin reader, for 2 s), but a read
callback lets other threads run between chunks."""


_LONE_CR = re.compile(rb"\r(?!\n)")


def python_line_ends(data: bytes) -> bytes:
    """`data` with each lone CR as LF: Python ends a line at either, tree-sitter only at LF (same length, so
    every byte offset holds)."""
    return _LONE_CR.sub(b"\n", data) if b"\r" in data else data


def parse_python(data: bytes, old_tree: Tree | None = None) -> Tree:
    """Parse UTF-8 Python source (lone CRs end lines); with `old_tree` (already edited) the parse is incremental."""
    data = python_line_ends(data)
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
    """A document's text, line map and syntax tree, kept in step with edits.

    A source over the parse budget (ai_core.parsing.budget) gets an empty tree and `unparsed` says why.
    """

    def __init__(self, text: str, path: str = "", version: int = 0) -> None:
        self.path = path
        self.version = version
        self.unparsed = ""
        data = text.encode("utf-8", errors="surrogatepass")
        self._set(data, self._parse(data))

    def _parse(self, data: bytes, old_tree: Tree | None = None) -> Tree:
        """The tree of `data` (incremental from `old_tree`), or an empty one when it is over the budget."""
        was_unparsed, self.unparsed = self.unparsed, over_budget(data)
        if self.unparsed:
            if not was_unparsed:
                log.info("%s: not parsed: %s", self.path or "<document>", self.unparsed)
            return parse_python(b"")
        return parse_python(data, None if was_unparsed else old_tree)

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
        """True when tree-sitter had to recover from errors (or the source was too large to parse)."""
        return bool(self.unparsed) or self.tree.root_node.has_error

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
                self._set(data, self._parse(data))
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
        new_end = start + len(new_bytes)
        if start and self.data[start - 1] == 0x0D:  # a CR just before: the edit may make it (or unmake it) CRLF
            start -= 1
        start_point = self.positions.point_at(start)
        old_end_point = self.positions.point_at(end)
        new_map = PositionMap(data)
        new_end_point = new_map.point_at(new_end)
        old_tree = None
        if not self.unparsed:  # an empty stand-in tree has nothing to edit
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
        self.tree = self._parse(data, old_tree)
        self.positions = new_map

    def snapshot(self) -> ParsedDocument:
        """An immutable-in-practice copy for analysis on another thread (shares bytes and tree)."""
        copy = object.__new__(ParsedDocument)
        copy.path, copy.version, copy.unparsed = self.path, self.version, self.unparsed
        copy.data, copy.tree, copy._positions = self.data, self.tree, self._positions
        return copy
