"""Applying verified fixes for any front end: one Fix for a fix-all, merged appends, journaling, undo plans.

The CLI (`ai_core.fixes.workspace`, files on disk) and the server (editor buffers) differ only in how they
read a file's current text and how they write the result; everything else about applying a fix is here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.findings import Finding, Fix, TextEdit
from ai_core.fixes.engine import FixAllResult
from ai_core.fixes.journal import Entry, Journal, NothingToUndo, OutsideWorkspace, UndoRefused, inside
from ai_core.fixes.text import apply_edits, diff_edits

log = logging.getLogger(__name__)

ReadText = Callable[[str], "str | None"]
"""A front end's current text of a file (an editor buffer or the disk), None when it cannot be read."""


def merge_appends(edits: Sequence[TextEdit]) -> tuple[TextEdit, ...]:
    """Appends to one file by several fixes, joined into one edit (each new line once)."""
    if not edits:
        return ()
    point = edits[0].start_byte
    if any(e.start_byte != point or e.end_byte != point for e in edits):
        return (edits[0],)
    lines: list[str] = []
    lead = ""
    for edit in edits:
        text = edit.new_text
        if text.startswith("\n"):
            lead, text = "\n", text[1:]
        lines.extend(line for line in text.splitlines(keepends=True) if line not in lines)
    return (TextEdit(point, point, lead + "".join(lines)),)


def appended_edits(outcome: FixAllResult) -> dict[str, list[TextEdit]]:
    """Edits the fixes make to files the fix-all did not rewrite (such as `.env.example` appends), per path."""
    rewritten = {os.path.abspath(p) for p in outcome.others}
    extra: dict[str, list[TextEdit]] = {}
    for proposal in outcome.fixed:
        if proposal.fix is None:
            continue
        for path, edits in proposal.fix.extra_files:
            if os.path.abspath(path) not in rewritten:
                extra.setdefault(path, []).extend(edits)
    return extra


def fix_all_fix(outcome: FixAllResult, path: str) -> Fix:
    """One Fix for a fix-all outcome: the file's edits, the merged appends, the other rewritten files' diffs."""
    if not outcome.fixed:
        raise ValueError("a fix-all without any verified fix")
    extra_files = tuple((p, merge_appends(e)) for p, e in appended_edits(outcome).items()) + tuple(
        (p, diff_edits(before, after)) for p, (before, after) in outcome.others.items())
    classes = sorted({p.finding.vuln_class.value for p in outcome.fixed})
    return Fix(title=f"Fix {len(outcome.fixed)} finding(s): {', '.join(classes)}", edits=outcome.edits, path=path,
               vuln_class=outcome.fixed[0].finding.vuln_class,
               rule=",".join(p.finding.rule for p in outcome.fixed), verified=True, extra_files=extra_files)


def fix_all_details(outcome: FixAllResult) -> dict[str, Any]:
    """The journal's `extra` for a fix-all: class, rule, title and line of each fix."""
    return {"fixes": [{"class": p.finding.vuln_class.value, "rule": p.finding.rule,
                       "title": p.fix.title if p.fix else "", "line": p.finding.span.start_line + 1}
                      for p in outcome.fixed]}


def stale_files(expected: Mapping[str, str], read: ReadText) -> list[str]:
    """The paths whose current text is no longer the text a fix was computed from."""
    return [path for path, before in expected.items() if read(path) != before]


def texts_before(fix: Fix, main_text: str, read: ReadText) -> dict[str, str]:
    """Each touched file's text before the fix (a file the fix creates reads as empty)."""
    texts = {fix.path: main_text}
    for path, _edits in fix.extra_files:
        texts[path] = read(path) or ""
    return texts


def record_applied(journal: Journal, fix: Fix, texts: Mapping[str, str],
                   versions: Mapping[str, int | None] | None = None, source: str = "",
                   finding: Finding | None = None, extra: dict[str, Any] | None = None,
                   accepted: Iterable[Finding] = ()) -> Entry:
    """Journal an applied fix and record its findings as accepted (a feedback failure is only logged)."""
    entry = journal.record_fix(fix, texts, versions, source=source, finding=finding, extra=extra)
    for accepted_finding in accepted:
        record_accepted(journal.root, accepted_finding)
    log.info("journaled fix %s (%s) in %s", entry.id, fix.title, journal.path)
    return entry


def record_accepted(root: Path, finding: Finding) -> None:
    """Record in `.coderev/feedback.jsonl` that a finding's fix was accepted, when the model package is present."""
    try:
        from ai_core.model.feedback import record_feedback
    except ImportError:
        return
    try:
        record_feedback(root, "accepted", finding)
    except Exception:
        log.exception("recording feedback for %s failed", finding.rule)


def find_fix(journal: Journal, entry_id: str | None = None) -> Entry:
    """The journaled fix `entry_id` (a unique prefix will do), or the last one not undone; NothingToUndo if none."""
    entry = journal.find(entry_id) if entry_id else journal.last_undoable()
    if entry is None:
        raise NothingToUndo(f"no fix {entry_id} in {journal.path}" if entry_id else f"no fix to undo in {journal.path}")
    return entry


@dataclass(frozen=True)
class UndoPlan:
    """What undoing one journaled fix takes: per file (relative path), its current text and the inverse edits."""

    entry: Entry
    current: dict[str, str]
    edits: dict[str, list[TextEdit]]

    def restored(self) -> dict[str, str]:
        """The text of each file once undone."""
        return {rel: apply_edits(self.current[rel], edits) for rel, edits in self.edits.items()}


def plan_undo(journal: Journal, entry: Entry, read: ReadText) -> UndoPlan:
    """Check each file of `entry` (read by its path relative to the workspace) still has the fixed text, and
    plan its inverse edits."""
    current: dict[str, str] = {}
    for change in entry.changes:
        try:
            inside(journal.root, change.file)
        except OutsideWorkspace as exc:
            raise UndoRefused(str(exc)) from exc
        text = read(change.file)
        if text is None:
            raise UndoRefused(f"cannot read {change.file}; nothing was undone")
        current[change.file] = text
    return UndoPlan(entry, current, journal.plan_undo(entry, current))
