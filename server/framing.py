"""JSON-RPC base-protocol framing that survives a wrong `Content-Length`: it resynchronises on the next header.

A body can never hold a raw `Content-Length: N` line (JSON strings cannot contain a raw CR or LF), so a
header seen inside a claimed body means the length was wrong: the broken frame is dropped, reading goes
on from that header, and nothing after one bad frame is lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

log = logging.getLogger(__name__)

HEADER = re.compile(rb"Content-Length: *(\d+)\r\n(?:[A-Za-z-]+: *[^\r\n]*\r\n)*\r\n")
OVERLAP = 512
"""How far back a search starts again at each feed (a header may be split across two reads)."""
MAX_BODY = 256 * 1024 * 1024
"""A frame claiming more than this is broken (the largest document an editor would send is far smaller)."""


class Framer:
    """Fed raw bytes from the client, yields each complete message body; broken frames are logged and dropped."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.checked = 0
        """How far the pending frame's body was searched for a header (so each byte is searched once)."""
        self.dropped = 0
        """How many broken frames (or runs of garbage) were dropped."""

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Add `data`; yield the bodies now complete."""
        self.buffer += data
        while True:
            header = HEADER.search(self.buffer)
            if header is None:
                self._trim_garbage()
                return
            if header.start() > 0:
                self._drop(header.start(), "bytes before a header")
                continue
            length, start = int(header.group(1)), header.end()
            if length > MAX_BODY:
                self._drop(start, f"a frame claiming {length} bytes")
                continue
            following = HEADER.search(self.buffer, max(start, self.checked - OVERLAP), start + length)
            if following is not None:  # the next frame began inside this one: the length was too long
                self._drop(following.start(), f"a frame whose Content-Length {length} runs into the next one")
                continue
            if len(self.buffer) < start + length:
                self.checked = len(self.buffer)
                return
            body = bytes(self.buffer[start:start + length])
            del self.buffer[:start + length]
            self.checked = 0
            yield body

    def _trim_garbage(self) -> None:
        """Keep only what could still begin a header (garbage without one is dropped, not hoarded)."""
        keep = self.buffer.rfind(b"Content-Length")
        keep = keep if keep >= 0 else max(0, len(self.buffer) - len("Content-Length"))
        if keep > 0 and not self.buffer[:keep].strip():
            del self.buffer[:keep]
        elif keep > 0:
            self._drop(keep, "bytes without a header")

    def _drop(self, count: int, what: str) -> None:
        self.dropped += 1
        log.warning("dropped %d bytes from the client (%s); reading on from the next header", count, what)
        del self.buffer[:count]
        self.checked = 0
