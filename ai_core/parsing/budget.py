"""The memory budget of a parse: a big source whose syntax tree would take too much memory is not parsed.

tree-sitter keeps ~150 bytes per token (a 6 MB `1+1+…+1` expression took 0.9 GB, 1 M nested brackets in 2 MB
0.7 GB). Before a big source (over BUDGET_FROM_BYTES) is parsed, its tokens are counted and its brackets'
nesting measured at C speed, strings and comments set aside; over the budget, the reason is returned.
"""

from __future__ import annotations

import re
from itertools import accumulate

BUDGET_FROM_BYTES = 256 * 1024
"""Smaller sources are always parsed (their tree stays under ~40 MB whatever their shape)."""
MAX_TOKENS = 1_000_000
"""The most tokens a parsed source may have (~200 MB of syntax tree)."""
MAX_NESTING = 200
"""The deepest bracket nesting parsed in a big source (Python itself refuses more than 200)."""

_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") | frozenset(range(0x80, 0x100))
_SPACE = frozenset(b" \t\r\n\f\v\\")
_CLASSES = bytes(ord("a") if b in _WORD else ord(" ") if b in _SPACE else ord("p") for b in range(256))
"""Each byte as its class: a word character, white space, or punctuation (one token each)."""
_BRACKETS = b"()[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_DEPTH_STEP = {ord("("): 1, ord("["): 1, ord("{"): 1, ord(")"): -1, ord("]"): -1, ord("}"): -1}
_QUOTE_OR_COMMENT = re.compile(rb"[#'\"]")
_SHORT_STRING = {q: re.compile(rb"%s(?:\\.|[^%s\\\r\n])*%s?" % (q, q, q)) for q in (b"'", b'"')}


def over_budget(data: bytes, max_tokens: int = MAX_TOKENS, max_nesting: int = MAX_NESTING) -> str:
    """Why `data` is too large to parse ("" when it is not): too many tokens, or brackets nested too deep."""
    if len(data) <= BUDGET_FROM_BYTES:
        return ""
    if not _exceeds(data, max_tokens, max_nesting):  # strings and comments counted as code: an upper bound
        return ""
    code = _without_strings(data)
    tokens = _tokens(code)
    if tokens > max_tokens:
        line = max(code.split(b"\n"), key=len)
        if _tokens(line) * 2 > tokens:
            return (f"expression too large for analysis: about {_tokens(line):,} tokens on one line "
                    f"(at most {max_tokens:,} per file)")
        return f"too large for analysis: about {tokens:,} tokens (at most {max_tokens:,} per file)"
    depth = _depth(code)
    if depth > max_nesting:
        return f"expression too deeply nested for analysis: brackets {depth:,} deep (at most {max_nesting})"
    return ""


def _exceeds(data: bytes, max_tokens: int, max_nesting: int) -> bool:
    return _tokens(data) > max_tokens or (_opening(data) > max_nesting and _depth(data) > max_nesting)


def _tokens(data: bytes) -> int:
    """Word runs plus punctuation bytes (an operator of two characters counts twice)."""
    classes = data.translate(_CLASSES)
    words = classes.count(b" a") + classes.count(b"pa") + classes.startswith(b"a")
    return words + classes.count(b"p")


def _opening(data: bytes) -> int:
    return data.count(b"(") + data.count(b"[") + data.count(b"{")


def _depth(data: bytes) -> int:
    """The deepest bracket nesting (closing brackets without an opening one ignored)."""
    steps = (_DEPTH_STEP[b] for b in data.translate(None, _NOT_BRACKETS))
    return max(accumulate(steps, _step, initial=0))


def _step(depth: int, step: int) -> int:
    return depth + step if depth + step > 0 else 0


def _without_strings(data: bytes) -> bytes:
    """`data` with every string literal replaced by one word and every comment dropped (linear time)."""
    parts: list[bytes] = []
    at = 0
    while (found := _QUOTE_OR_COMMENT.search(data, at)) is not None:
        start = found.start()
        parts.append(data[at:start])
        char = data[start:start + 1]
        if char == b"#":
            end = data.find(b"\n", start)
            at = len(data) if end < 0 else end
            continue
        if data.startswith(char * 3, start):
            at = _triple_end(data, start + 3, char * 3)
        else:
            match = _SHORT_STRING[char].match(data, start)
            at = match.end() if match is not None else start + 1
        parts.append(b" s ")
    parts.append(data[at:])
    return b"".join(parts)


def _triple_end(data: bytes, at: int, quotes: bytes) -> int:
    """Where a triple-quoted string that started before `at` ends (the end of `data` if it never does)."""
    while (end := data.find(quotes, at)) >= 0:
        before = end - 1
        while before >= at and data[before] == 0x5C:  # a backslash
            before -= 1
        if (end - 1 - before) % 2 == 0:
            return end + 3
        at = end + 1
    return len(data)
