"""Suppression comments: `# coderev: ignore[class-id, ...]` (bare `ignore` silences all) and `# nosec`."""

from __future__ import annotations

import re

from tree_sitter import Query, QueryCursor

from ai_core.analysis.wordlist import contains_any
from ai_core.findings import Finding
from ai_core.parsing import ParsedDocument
from ai_core.parsing.document import python_language

_IGNORE = re.compile(r"#\s*coderev:\s*ignore(?:\[(?P<ids>[^\]]*)\])?")
_NOSEC = re.compile(r"#\s*nosec\b")


_COMMENTS = Query(python_language(), "(comment) @c")
_MARKERS = (b"coderev", b"nosec")


def suppressed_lines(doc: ParsedDocument, honour_nosec: bool) -> dict[int, frozenset[str] | None]:
    """Line (0-based) -> suppressed class/rule ids, or None meaning everything on that line."""
    result: dict[int, frozenset[str] | None] = {}
    if not contains_any(doc.data, _MARKERS):
        return result
    for node in QueryCursor(_COMMENTS).captures(doc.tree.root_node).get("c", []):
        text = doc.node_text(node)
        line = node.start_point[0]
        match = _IGNORE.search(text)
        if match:
            ids = match.group("ids")
            result[line] = (
                frozenset(part.strip() for part in ids.split(",") if part.strip()) if ids else None
            )
        elif honour_nosec and _NOSEC.search(text):
            result[line] = None
    return result


def is_suppressed(finding: Finding, lines: dict[int, frozenset[str] | None]) -> bool:
    """True when a comment on the finding's first or last line silences its class or rule."""
    for line in {finding.span.start_line, finding.span.end_line}:
        if line in lines:
            ids = lines[line]
            if ids is None or finding.vuln_class.value in ids or finding.rule in ids:
                return True
    return False
