"""Fixing files on disk (the CLI): fix all verified findings per file, write atomically, journal, undo.

Applying is write-ahead: the journal intent, then each file replaced atomically, then the commit mark, all under
the workspace's apply lock. A failure in between puts back the files already written and rolls the intent
back; a crash in between is finished or rolled back by `ai_core.fixes.apply.recover` on the next start.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ai_core.config import Settings
from ai_core.files import PYTHON_SUFFIXES, TEMPLATE_SUFFIXES, SourceError, iter_python_files, read_source
from ai_core.findings import VulnClass
from ai_core.fixes.apply import (
    begin_applied,
    find_fix,
    fix_all_details,
    fix_all_fix,
    plan_undo,
    read_file_text,
    record_all_accepted,
    stale_files,
    texts_before,
)
from ai_core.fixes.engine import FixAllResult, Fixer, Proposal, make_fixer
from ai_core.fixes.journal import Entry, Journal, UndoRefused, inside, write_atomic
from ai_core.fixes.text import apply_edits
from ai_core.parsing import ParsedDocument
from ai_core.safe_write import pause_if_asked

log = logging.getLogger(__name__)


@dataclass
class FileFix:
    """The outcome of fixing one file in memory: texts before/after, what was fixed and what was not (with reasons)."""

    path: Path
    rel: str
    before: str
    outcome: FixAllResult | None = None
    error: str = ""
    entry: Entry | None = None

    @property
    def after(self) -> str:
        """The file's text with every verified fix."""
        return self.outcome.after if self.outcome is not None else self.before

    @property
    def fixed(self) -> list[Proposal]:
        """The verified fixes, in the order they were applied."""
        return self.outcome.fixed if self.outcome is not None else []

    @property
    def skipped(self) -> list[Proposal]:
        """The findings without a verified fix (each proposal says why)."""
        return self.outcome.skipped if self.outcome is not None else []

    @property
    def others(self) -> dict[str, tuple[str, str]]:
        """Other files changed by cross-file fixes: path -> (text before, text after)."""
        return self.outcome.others if self.outcome is not None else {}

    @property
    def changed(self) -> bool:
        """True when the file (or another file, for cross-file fixes) would change."""
        return self.after != self.before or any(b != a for b, a in self.others.values())


def find_root(path: Path) -> Path:
    """The workspace of `path`: the nearest folder with pyproject.toml, .git or .coderev, else the folder itself.

    Found from the path as given (a symlink is not followed first: its target may lie outside the workspace).
    """
    start = Path(os.path.abspath(path))
    folder = start if start.is_dir() and not start.is_symlink() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ("pyproject.toml", ".git", ".coderev")):
            return candidate.resolve()
    return folder.resolve()


def fix_files(target: Path, root: Path, settings: Settings, classes: Iterable[VulnClass] | None = None,
              fixer: Fixer | None = None) -> Iterator[FileFix]:
    """Fix every Python file and template under `target` (in memory); yields one FileFix per file with findings
    (and one with the error for each file or folder that cannot be read)."""
    fixer = fixer or make_fixer(root, settings)
    wanted = frozenset(classes) if classes else None
    unreadable: list[tuple[str, str]] = []
    for path in iter_python_files(target, settings.exclude, (*PYTHON_SUFFIXES, *TEMPLATE_SUFFIXES),
                                  on_unreadable=lambda *item: unreadable.append(item)):
        while unreadable:
            folder, reason = unreadable.pop(0)
            yield FileFix(target / folder, _relative_to(target / folder, root), "", error=reason)
        rel = _relative_to(path, root)
        try:
            text = read_source(path, settings.max_file_bytes)
        except SourceError as exc:
            yield FileFix(path, rel, "", error=str(exc))
            continue
        doc = ParsedDocument(text, path=str(path.resolve()))
        if doc.unparsed:
            yield FileFix(path, rel, "", error=doc.unparsed)
            continue
        findings = [f for f in fixer.analyzer.analyze(doc, doc.path) if wanted is None or f.vuln_class in wanted]
        if not findings:
            continue
        yield FileFix(path, rel, text, fixer.fix_all(doc, findings))
    for folder, reason in unreadable:
        yield FileFix(target / folder, _relative_to(target / folder, root), "", error=reason)


def _relative_to(path: Path, root: Path) -> str:
    resolved, base = path.resolve(), root.resolve()
    return resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else path.as_posix()


def read_disk_text(path: str) -> str | None:
    """A file's text on disk (a BOM dropped), None when it cannot be read or is not a regular file."""
    return read_file_text(path)


def _current_text(path: str) -> str | None:
    """A file's text on disk, "" for a file that does not exist (yet), None when it cannot be read."""
    return read_disk_text(path) if os.path.lexists(path) else ""


def apply_file_fix(journal: Journal, result: FileFix, check: Callable[[dict[str, str]], str] | None = None
                   ) -> Entry:
    """Write a fixed file atomically (refusing if it or another file of the fix changed since) and journal it.

    `check` (the workspace's tests, when the user asked for them) sees the new texts by relative path and
    returns a reason to refuse, or "". Raises UndoRefused or OSError with nothing written and nothing journaled.
    """
    if result.outcome is None or not result.fixed:
        raise UndoRefused(f"{result.rel} has no verified fix to write")
    path = inside(journal.root, result.path)
    others = {str(inside(journal.root, p)): before for p, (before, _after) in result.others.items()}
    fix = fix_all_fix(result.outcome, str(path))
    for extra_path, _edits in fix.extra_files:
        inside(journal.root, extra_path)
    texts = texts_before(fix, result.before, read_disk_text)
    writes = [(path, result.before, result.after)] + [
        (Path(p), texts[p], apply_edits(texts[p], e)) for p, e in fix.extra_files]
    if check is not None:
        refused = check({journal.relative(p): after for p, _before, after in writes})
        if refused:
            raise UndoRefused(f"{result.rel}: {refused}; nothing written")
    with journal.exclusive():
        expected = {str(path): result.before, **others, **{str(p): before for p, before, _after in writes}}
        for stale in stale_files(expected, _current_text):
            what = result.rel if stale == str(path) else Path(stale).name
            raise UndoRefused(f"{what} changed while {result.rel} was being fixed; nothing written")
        entry = begin_applied(journal, fix, texts, source="cli", extra=fix_all_details(result.outcome),
                              accepted=[p.finding for p in result.fixed])
        entry = _write_all(journal, entry, writes)
    record_all_accepted(journal.root, [p.finding for p in result.fixed])
    result.entry = entry
    return entry


def _write_all(journal: Journal, entry: Entry, writes: list[tuple[Path, str, str]]) -> Entry:
    """Replace each file, then commit (the journaled entry is returned); on any failure put back what was
    written and roll the intent back."""
    written: list[tuple[Path, str]] = []
    try:
        for number, (path, before, after) in enumerate(writes):
            write_atomic(path, after, journal.root, moment="replace" if number == 0 else "between")
            written.append((path, before))
        pause_if_asked("commit")
        return journal.commit(entry)
    except BaseException as exc:
        for path, before in reversed(written):
            try:
                write_atomic(path, before, journal.root)
            except OSError:
                log.exception("cannot put back %s after a failed fix; the next run's recovery will", path)
        try:
            journal.rollback(entry, f"{type(exc).__name__}: {exc}")
        except OSError:
            log.exception("cannot mark fix %s rolled back; the next run's recovery will", entry.id)
        raise


def undo_on_disk(journal: Journal, entry_id: str | None = None) -> Entry:
    """Revert a journaled fix in the files on disk (the last one by default); UndoRefused when they changed."""
    find_fix(journal, entry_id)  # NothingToUndo before anything is created
    with journal.exclusive():
        plan = plan_undo(journal, find_fix(journal, entry_id), lambda rel: read_disk_text(str(journal.root / rel)))
        undo = journal.begin_undo(plan.entry, source="cli")
        restored = plan.restored()
        return _write_all(journal, undo, [(journal.root / rel, plan.current[rel], text)
                                          for rel, text in restored.items()])
