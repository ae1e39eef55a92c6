"""Findings silenced in the source (`# coderev: ignore[...]`, `# nosec`), found again so reports can list them."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from tree_sitter import Query, QueryCursor

from ai_core.analysis import Analyzer
from ai_core.analysis.project import project_for_scan
from ai_core.analysis.suppression import is_suppressed, suppressed_lines
from ai_core.config import Settings
from ai_core.files import SourceError, file_in, read_source
from ai_core.parsing import ParsedDocument
from ai_core.parsing.document import python_language
from ai_core.report.report_items import Item, items_of
from ai_core.scan import ScanResult

log = logging.getLogger(__name__)

_MARKER = re.compile(rb"coderev:\s*ignore(?:\[[^\]\n]*\])?|nosec\b")
_COMMENTS = Query(python_language(), "(comment) @c")


def unmarked(doc: ParsedDocument) -> str:
    """The text with every suppression marker in a comment blanked out (same byte offsets)."""
    data = bytearray(doc.data)
    for node in QueryCursor(_COMMENTS).captures(doc.tree.root_node).get("c", []):
        for match in _MARKER.finditer(doc.data, node.start_byte, node.end_byte):
            data[match.start():match.end()] = b" " * (match.end() - match.start())
    return data.decode("utf-8", errors="surrogatepass")


def _comment_on(doc: ParsedDocument, lines: tuple[int, ...]) -> str:
    """The suppressing comment's text on one of `lines` (the justification SARIF shows)."""
    for node in QueryCursor(_COMMENTS).captures(doc.tree.root_node).get("c", []):
        if node.start_point[0] in lines and _MARKER.search(doc.data, node.start_byte, node.end_byte):
            return doc.node_text(node)
    return ""


def suppressed_items(result: ScanResult, settings: Settings) -> list[Item]:
    """The findings of a scan that comments silenced, each with the suppressing comment."""
    root = Path(result.root)
    analyzer: Analyzer | None = None
    items: list[Item] = []
    for scanned in result.files:
        text = scanned.text
        if not text:
            try:
                text = read_source(file_in(root, scanned.path), settings.max_file_bytes)
            except SourceError:
                continue
        if not _MARKER.search(text.encode("utf-8", errors="surrogatepass")):
            continue
        doc = ParsedDocument(text, path=scanned.path)
        lines = suppressed_lines(doc, settings.honour_nosec)
        if not lines:
            continue
        if analyzer is None:
            analyzer = Analyzer(settings, project=project_for_scan(root))
        try:
            found = [f for f in analyzer.analyze_text(unmarked(doc), scanned.path) if is_suppressed(f, lines)]
        except Exception:  # a report never fails because of one file
            log.exception("could not list the suppressed findings of %s", scanned.path)
            continue
        notes: list[str | None] = [
            _comment_on(doc, (f.span.start_line, f.span.end_line)) or "suppressed in source" for f in found]
        items.extend(items_of(found, text, notes))
    return items
