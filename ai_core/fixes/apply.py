"""Applying verified fixes for any front end: one Fix for a fix-all, merged appends, journaling, undo plans.

The CLI (`ai_core.fixes.workspace`, files on disk) and the server (editor buffers) differ only in how they
read a file's current text and how they write the result; everything else about applying a fix is here,
including the recovery of a fix interrupted between its journal intent and its commit mark.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.files import SourceError, read_head
from ai_core.findings import Finding, Fix, TextEdit
from ai_core.fixes.engine import FixAllResult
from ai_core.fixes.journal import (
    INTENT,
    PENDING_DIR,
    Change,
    Entry,
    Journal,
    NothingToUndo,
    OutsideWorkspace,
    UndoRefused,
    inside,
    write_atomic,
)
from ai_core.fixes.text import apply_edits, diff_edits, sha256_text
from ai_core.redact import secret_values
from ai_core.safe_write import STATE_DIR, remove_temp_files

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
    """Journal a fix the editor applied and record its findings as accepted (a feedback failure is only logged)."""
    accepted = list(accepted)
    entry = journal.record_fix(fix, texts, versions, source=source, finding=finding, extra=extra,
                               secrets=secret_values([finding, *accepted]))
    record_all_accepted(journal.root, accepted)
    log.info("journaled fix %s (%s) in %s", entry.id, fix.title, journal.path)
    return entry


def begin_applied(journal: Journal, fix: Fix, texts: Mapping[str, str],
                  versions: Mapping[str, int | None] | None = None, source: str = "",
                  finding: Finding | None = None, extra: dict[str, Any] | None = None,
                  accepted: Iterable[Finding] = ()) -> Entry:
    """Write the journal intent of a fix about to be applied (before any file is touched)."""
    return journal.begin_fix(fix, texts, versions, source=source, finding=finding, extra=extra,
                             secrets=secret_values([finding, *accepted]))


def record_all_accepted(root: Path, findings: Iterable[Finding]) -> None:
    """Record each finding's fix as accepted."""
    for accepted_finding in findings:
        record_accepted(root, accepted_finding)


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


MAX_FILE_BYTES = 64 * 1024 * 1024
"""Files of a fix larger than this are not read back (a fix never produced one)."""


def read_file_text(path: str | Path) -> str | None:
    """A regular file's text on disk (a BOM dropped); None when it is missing, special, too large or unreadable."""
    try:
        data = read_head(Path(path), MAX_FILE_BYTES + 1)
    except SourceError:
        return None
    return data.decode("utf-8-sig", errors="surrogatepass") if len(data) <= MAX_FILE_BYTES else None


def _disk_text(root: Path, rel: str) -> str | None:
    try:
        path = inside(root, rel)
    except OutsideWorkspace:
        return None
    return "" if not os.path.lexists(path) else read_file_text(path)  # "": a file the fix was to create


def recover(journal: Journal) -> list[str]:
    """Finish or roll back every fix or undo interrupted between its intent and its commit; one line per decision.

    Per file: its after-hash means written, its before-hash means untouched. All written: committed. None
    written: rolled back (nothing to do). Some written (a crash between files, CLI only): the rest is written
    too, then committed. A file with neither hash was changed by someone else: left alone, the entry rolled
    back with a warning. An editor's intent (source "lsp") never writes to disk. Temp files left beside the
    files and in `.coderev/` are removed.
    """
    lines = [f"removed the temp file {folder}/{name} left by an interrupted write"
             for folder in (STATE_DIR, PENDING_DIR) for name in remove_temp_files(journal.root, folder)]
    if not journal.pending():
        for line in lines:
            log.warning("journal recovery in %s: %s", journal.root, line)
        return lines
    try:
        with journal.exclusive():
            pending = journal.pending()  # again, under the lock: another process may have finished them
            for entry in pending:
                try:
                    lines.extend(_recover_one(journal, entry))
                except (UndoRefused, OSError) as exc:
                    lines.append(f"cannot settle the interrupted {entry.kind} {entry.id}: {exc}")
            folders = {STATE_DIR} | {str(Path(c.file).parent) for e in pending for c in e.changes}
            for folder in sorted(folders):
                for name in remove_temp_files(journal.root, folder if folder != "." else ""):
                    lines.append(f"removed the temp file {folder}/{name} left by an interrupted write")
    except OSError as exc:
        log.warning("cannot recover the fix journal %s: %s", journal.path, exc)
        return [f"cannot recover the interrupted fixes: {exc}"]
    for line in lines:
        log.warning("journal recovery in %s: %s", journal.root, line)
    return lines


def _recover_one(journal: Journal, entry: Entry) -> list[str]:
    states: dict[str, str] = {}
    texts: dict[str, str] = {}
    for change in entry.changes:
        text = _disk_text(journal.root, change.file)
        digest = sha256_text(text) if text is not None else ""
        states[change.file] = "after" if hmac.compare_digest(digest, change.after) else \
            "before" if hmac.compare_digest(digest, change.before) else "other"
        texts[change.file] = text or ""
    what = f"{entry.kind} {entry.id} ({entry.title})"
    if all(s == "after" for s in states.values()):
        journal.commit(entry)
        return [f"interrupted {what} had written every file: committed"]
    if all(s == "before" for s in states.values()):
        journal.rollback(entry, "interrupted before any file was written")
        return [f"interrupted {what} had written no file: rolled back, nothing to do"]
    others = sorted(f for f, s in states.items() if s == "other")
    if others:
        journal.rollback(entry, "interrupted; files changed since")
        return [f"interrupted {what}: {', '.join(others)} changed since; left as they are, entry rolled back"]
    if entry.source == "lsp":  # the editor's buffers, not the disk, took the edit: never written from here
        journal.rollback(entry, "the editor's edit is not on disk")
        return [f"interrupted {what}: the editor's edit is not on disk; entry rolled back"]
    finished: list[str] = []
    for change in entry.changes:
        if states[change.file] == "before":
            _finish(journal, change, texts[change.file])
            finished.append(change.file)
    journal.commit(entry)
    return [f"interrupted {what}: wrote {', '.join(finished)} to finish it, committed"]


def _finish(journal: Journal, change: Change, before: str) -> None:
    after = apply_edits(before, change.edits)
    if sha256_text(after) != change.after:  # pragma: no cover - the edits are the ones that made the hash
        raise UndoRefused(f"cannot finish {change.file}: the journaled edits do not give the journaled text")
    write_atomic(journal.root / change.file, after, journal.root)


__all__ = ["INTENT", "MAX_FILE_BYTES", "UndoPlan", "begin_applied", "find_fix", "fix_all_details", "fix_all_fix",
           "merge_appends", "plan_undo", "read_file_text", "record_accepted", "record_all_accepted", "record_applied",
           "recover", "stale_files", "texts_before"]
