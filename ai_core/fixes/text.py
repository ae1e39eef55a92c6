"""Byte-level text edits: apply, invert, hash, and minimal line diffs between two texts."""

from __future__ import annotations

import difflib
import hashlib
import itertools
from collections.abc import Iterable, Sequence

from ai_core.findings import TextEdit


class EditError(ValueError):
    """Edits that overlap or fall outside the text."""


def sha256_text(text: str | bytes) -> str:
    """Hex SHA-256 of a text's UTF-8 bytes (the journal's before/after hashes)."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(data).hexdigest()


def sorted_edits(edits: Iterable[TextEdit]) -> list[TextEdit]:
    """Edits in document order; raise EditError when two of them overlap."""
    ordered = sorted(edits, key=lambda e: (e.start_byte, e.end_byte))
    for before, after in itertools.pairwise(ordered):
        if after.start_byte < before.end_byte or (
            after.start_byte == before.end_byte == after.end_byte == before.start_byte
        ):
            raise EditError(f"overlapping edits at bytes {before.start_byte}-{before.end_byte} "
                            f"and {after.start_byte}-{after.end_byte}")
    return ordered


def apply_edits_bytes(data: bytes, edits: Iterable[TextEdit]) -> bytes:
    """`data` with every edit applied (offsets refer to the original bytes)."""
    out: list[bytes] = []
    cursor = 0
    for edit in sorted_edits(edits):
        if edit.start_byte < cursor or edit.end_byte > len(data) or edit.start_byte > edit.end_byte:
            raise EditError(f"edit {edit.start_byte}-{edit.end_byte} outside a {len(data)}-byte text")
        out.append(data[cursor:edit.start_byte])
        out.append(edit.new_text.encode("utf-8", errors="surrogatepass"))
        cursor = edit.end_byte
    out.append(data[cursor:])
    return b"".join(out)


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """`text` with every edit applied."""
    data = text.encode("utf-8", errors="surrogatepass")
    return apply_edits_bytes(data, edits).decode("utf-8", errors="surrogatepass")


def invert_edits(data: bytes, edits: Sequence[TextEdit]) -> list[TextEdit]:
    """Edits that turn the patched text back into `data` (offsets refer to the patched text)."""
    inverse: list[TextEdit] = []
    delta = 0
    for edit in sorted_edits(edits):
        new_len = len(edit.new_text.encode("utf-8", errors="surrogatepass"))
        start = edit.start_byte + delta
        old = data[edit.start_byte:edit.end_byte].decode("utf-8", errors="surrogatepass")
        inverse.append(TextEdit(start, start + new_len, old))
        delta += new_len - (edit.end_byte - edit.start_byte)
    return inverse


def diff_edits(before: str, after: str) -> tuple[TextEdit, ...]:
    """Minimal whole-line edits turning `before` into `after` (byte offsets into `before`)."""
    old_lines = before.encode("utf-8", errors="surrogatepass").splitlines(keepends=True)
    new_lines = after.encode("utf-8", errors="surrogatepass").splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    edits: list[TextEdit] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        new_text = b"".join(new_lines[j1:j2]).decode("utf-8", errors="surrogatepass")
        edits.append(TextEdit(starts[i1], starts[i2], new_text))
    return tuple(edits)


def map_offset(offset: int, edits: Sequence[TextEdit]) -> int | None:
    """Where byte `offset` of the original lands after `edits`; None when an edit replaced it."""
    delta = 0
    for edit in sorted_edits(edits):
        if offset < edit.start_byte:
            break
        if offset < edit.end_byte:
            return None
        delta += len(edit.new_text.encode("utf-8", errors="surrogatepass")) - (edit.end_byte - edit.start_byte)
    return offset + delta


def unified_diff(before: str, after: str, path: str) -> str:
    """A unified diff of two texts, labelled with `path`."""
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}",
    ))
