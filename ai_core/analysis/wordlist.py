"""Word lists, searched fast: an alternation written as a trie (`a|ab|b` as `(?:ab?|b)`, the same matches, but
the regex engine rejects most positions on their first character), and plain `in` tests for file-level hints."""

from __future__ import annotations

import re
from collections.abc import Iterable

_END = ""
_Trie = dict[str, "_Trie"]


def alternation(words: Iterable[str]) -> str:
    """A regex group matching exactly one of `words` (literal text), the longest first at a position."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[_END] = {}
    return f"(?:{_emit(trie)})" if trie else "(?!)"


def _emit(node: _Trie) -> str:
    branches = [re.escape(char) + _emit(child) for char, child in sorted(node.items()) if char != _END]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{body})?" if _END in node else body


def contains_any(data: bytes, words: tuple[bytes, ...]) -> bool:
    """True when `data` contains one of `words` (a file-level hint: `in` scans bytes far faster than a regex
    of the same alternatives)."""
    return any(word in data for word in words)
