"""Exact mapping between UTF-8 byte offsets and (line, character) positions in UTF-8/16/32 units."""

from __future__ import annotations

import bisect
from enum import StrEnum


class PositionEncoding(StrEnum):
    """How a position's `character` counts: UTF-8 bytes, UTF-16 code units or code points."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


def _units(char: str, encoding: PositionEncoding) -> int:
    code = ord(char)
    if encoding is PositionEncoding.UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    if encoding is PositionEncoding.UTF16:
        return 2 if code >= 0x10000 else 1
    return 1


class PositionMap:
    """Line starts of a UTF-8 text, for converting byte offsets to positions and back."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        starts = [0]
        index = data.find(b"\n")
        while index != -1:
            starts.append(index + 1)
            index = data.find(b"\n", index + 1)
        self.line_starts = starts

    @property
    def line_count(self) -> int:
        """Number of lines (a trailing newline opens an empty last line)."""
        return len(self.line_starts)

    def line_bytes(self, line: int) -> bytes:
        """The bytes of `line` without its line break."""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.data)
        chunk = self.data[start:end]
        return chunk[:-1] if chunk.endswith(b"\r") else chunk

    def point_at(self, offset: int) -> tuple[int, int]:
        """(line, byte column) of a byte offset, clamped to the text."""
        offset = max(0, min(offset, len(self.data)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def position_at(self, offset: int, encoding: PositionEncoding) -> tuple[int, int]:
        """(line, character) of a byte offset, counting characters in `encoding` units."""
        line, column = self.point_at(offset)
        return line, self.character_of(line, column, encoding)

    def character_of(self, line: int, byte_col: int, encoding: PositionEncoding) -> int:
        """Convert a byte column on `line` into a character in `encoding` units."""
        if encoding is PositionEncoding.UTF8:
            return byte_col
        prefix = self.line_bytes(line)[:byte_col].decode("utf-8", errors="replace")
        if encoding is PositionEncoding.UTF32:
            return len(prefix)
        return sum(_units(char, encoding) for char in prefix)

    def offset_at(self, line: int, character: int, encoding: PositionEncoding) -> int:
        """Byte offset of (line, character); past the end of a line clamps to its end (as LSP says)."""
        if line >= len(self.line_starts):
            return len(self.data)
        if line < 0:
            return 0
        start = self.line_starts[line]
        raw = self.line_bytes(line)
        if encoding is PositionEncoding.UTF8:
            return start + min(max(character, 0), len(raw))
        text = raw.decode("utf-8", errors="replace")
        count = 0
        consumed = 0
        for char in text:
            if count >= character:
                break
            count += _units(char, encoding)
            consumed += len(char.encode("utf-8", errors="replace"))
        return start + min(consumed, len(raw))
