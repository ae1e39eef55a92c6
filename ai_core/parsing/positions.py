"""Exact mapping between UTF-8 byte offsets and (line, character) positions in UTF-8/16/32 units.

A line ends at LF, CRLF or a lone CR (as LSP clients and Python count lines); a lone surrogate (which editors
may send) counts as one UTF-16 unit, three UTF-8 bytes.
"""

from __future__ import annotations

import bisect
import re
from enum import StrEnum

_LINE_BREAK = re.compile(rb"\r\n?|\n")


class PositionEncoding(StrEnum):
    """How a position's `character` counts: UTF-8 bytes, UTF-16 code units or code points."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


def decode_line(data: bytes) -> str:
    """UTF-8 bytes as text, lone surrogates kept (surrogatepass); any other bad sequence becomes U+FFFD."""
    parts: list[str] = []
    while True:
        try:
            parts.append(data.decode("utf-8", "surrogatepass"))
            return "".join(parts)
        except UnicodeDecodeError as exc:
            parts.append(data[:exc.start].decode("utf-8", "surrogatepass") + "\ufffd")
            data = data[exc.end:]


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
        if b"\r" in data:
            self.line_starts = [0, *(match.end() for match in _LINE_BREAK.finditer(data))]
            return
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
        if line + 1 == len(self.line_starts):
            return self.data[start:]
        chunk = self.data[start:self.line_starts[line + 1]]
        return chunk[:-2] if chunk.endswith(b"\r\n") else chunk[:-1]

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
        prefix = decode_line(self.line_bytes(line)[:byte_col])
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
        text = decode_line(raw)
        count = 0
        consumed = 0
        for char in text:
            if count >= character:
                break
            count += _units(char, encoding)
            consumed += len(char.encode("utf-8", errors="surrogatepass"))
        return start + min(consumed, len(raw))
