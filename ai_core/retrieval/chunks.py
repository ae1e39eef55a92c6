"""What a retrieval chunk is: its kind, name, lines and the names it defines, imports and calls; id and hash."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from pathlib import PurePosixPath

KINDS = ("module", "class", "function", "method", "window")
"""Chunk kinds: module-level statements, class header and attributes, functions, methods, line windows."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable piece of a file, with the names it defines, imports and calls."""

    path: str
    """Path relative to the indexed root, with forward slashes."""
    kind: str
    """One of KINDS."""
    name: str
    """Qualified name: `func`, `Class`, `Class.method`, or the dotted module name for module chunks."""
    start_line: int
    """First line (1-based)."""
    end_line: int
    """Last line (1-based, inclusive)."""
    text: str
    """The exact source lines."""
    symbols: tuple[str, ...] = ()
    """Names this chunk defines (function, class, method and assigned names; imports are in `imports`)."""
    imports: tuple[str, ...] = ()
    """Qualified names of the imports this chunk uses or makes, e.g. `flask.request`."""
    calls: tuple[str, ...] = ()
    """Dotted names of what it calls, as written (`cursor.execute`, `clean`)."""
    scope_start: int = 0
    """First line of the whole definition this chunk belongs to (equals start_line unless split)."""
    scope_end: int = 0
    """Last line of that definition."""
    part: int = 0
    """0 for a whole definition, 1.. for the parts of a split one."""
    _hash: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def embedding_text(self) -> str:
        """What gets embedded: a header naming the chunk, then its dedented code."""
        label = f"{self.kind} {self.name}" + (f" (part {self.part})" if self.part else "")
        return f"{label}\n{textwrap.dedent(self.text)}"

    @property
    def content_hash(self) -> str:
        """Hash of the embedded text: equal hashes share one embedding."""
        if not self._hash:
            self._hash.append(content_hash(self.embedding_text))
        return self._hash[0]

    @property
    def id(self) -> str:
        """Row key: path, position and content."""
        key = f"{self.path}\0{self.start_line}\0{self.end_line}\0{self.content_hash}"
        return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def content_hash(text: str) -> str:
    """The hash under which an embedding of `text` is cached."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def module_name(path: str) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`; `pkg/__init__.py` -> `pkg`."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts) or path
