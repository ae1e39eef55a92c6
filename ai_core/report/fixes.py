"""Verified fixes for a report's findings, from the fix engine, as diffs and byte replacements."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from ai_core.config import Settings
from ai_core.files import file_in, folder_of
from ai_core.findings import TextEdit
from ai_core.fixes.engine import Proposal
from ai_core.fixes.text import unified_diff
from ai_core.fixes.workspace import make_fixer
from ai_core.parsing import ParsedDocument
from ai_core.parsing.positions import PositionEncoding, PositionMap
from ai_core.report.report_items import FixView, Replacement, Report

log = logging.getLogger(__name__)


def replacements(path: str, before: str, edits: tuple[TextEdit, ...]) -> list[Replacement]:
    """The edits of one file as replacements with 1-based code-point positions in `before`."""
    positions = PositionMap(before.encode("utf-8", errors="surrogatepass"))
    out = []
    for edit in edits:
        start = positions.position_at(edit.start_byte, PositionEncoding.UTF32)
        end = positions.position_at(edit.end_byte, PositionEncoding.UTF32)
        out.append(Replacement(path, edit.start_byte, edit.end_byte, start[0] + 1, start[1] + 1,
                               end[0] + 1, end[1] + 1, edit.new_text))
    return out


def fix_view(proposal: Proposal, rel: str, before: str, root: Path) -> FixView | None:
    """A verified proposal as a report shows it (None when the engine found no verified fix)."""
    fix = proposal.fix
    if fix is None:
        return None
    diff = unified_diff(before, proposal.after, rel) if proposal.after != before else ""
    edits = replacements(rel, before, fix.edits)
    others = {str(Path(p).resolve()): (b, a) for p, b, a in proposal.files}
    for other, other_edits in fix.extra_files:
        other_rel = _relative(other, root)
        other_before, other_after = others.get(str(Path(other).resolve()), ("", ""))
        if not other_before and not other_after:
            continue
        diff += unified_diff(other_before, other_after, other_rel)
        edits += replacements(other_rel, other_before, other_edits)
    return FixView(fix.title, diff, tuple(edits))


def _relative(path: str, root: Path) -> str:
    resolved = Path(path).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path


def attach_fixes(report: Report, settings: Settings) -> int:
    """Give each finding the fix engine's verified fix, where there is one; returns how many were found."""
    root = Path(report.root).resolve()
    folder = folder_of(root)
    fixer = make_fixer(folder, settings)
    found = 0
    for item in report.active:
        finding = item.finding
        before = report.texts.get(finding.path)
        if not before:
            continue
        absolute = str(file_in(root, finding.path))
        try:
            proposal = fixer.propose(ParsedDocument(before, path=absolute), dataclasses.replace(finding, path=absolute))
        except Exception:  # the report stands without the fix
            log.exception("fixing %s at %s:%d failed", finding.rule, finding.path, finding.span.start_line + 1)
            continue
        view = fix_view(proposal, finding.path, before, folder)
        if view is not None:
            report.with_fix(item.fingerprint, view)
            found += 1
    return found
