"""The "suppress with comment" action: `# coderev: ignore[class-id]` on a line of the finding."""

from __future__ import annotations

import re

from ai_core.findings import Finding, TextEdit
from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import ancestors

_EXISTING = re.compile(r"#\s*coderev:\s*ignore(?P<ids>\[[^\]]*\])?")


def _usable_line_end(doc: ParsedDocument, line: int) -> int | None:
    """Where a comment can go on `line`: after its last non-blank byte, unless the line ends inside a string."""
    starts = doc.positions.line_starts
    if line >= len(starts):
        return None
    raw = doc.positions.line_bytes(line)
    content = raw.rstrip()
    if not content or content.endswith(b"\\"):
        return None
    end = starts[line] + len(content)
    node = doc.tree.root_node.descendant_for_byte_range(end - 1, end)
    if node is None:
        return None
    for current in ancestors(node):
        if current.type in {"string", "string_content", "concatenated_string"} and current.end_byte > end:
            return None
    return end


def suppression_edit(doc: ParsedDocument, finding: Finding) -> TextEdit | None:
    """An edit silencing the finding's class on its first (or last) line; None when no line can take a comment."""
    class_id = finding.vuln_class.value
    for line in dict.fromkeys((finding.span.start_line, finding.span.end_line)):
        end = _usable_line_end(doc, line)
        if end is None:
            continue
        comment = doc.tree.root_node.descendant_for_byte_range(end - 1, end)
        if comment is not None and comment.type == "comment":
            match = _EXISTING.search(doc.node_text(comment))
            if match and not match.group("ids"):
                return None  # already silences everything
            if match:
                close = comment.start_byte + len(doc.node_text(comment)[:match.end()].encode()) - 1
                return TextEdit(close, close, f", {class_id}")
        return TextEdit(end, end, f"  # coderev: ignore[{class_id}]")
    return None
