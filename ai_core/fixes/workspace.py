"""Fixing files on disk (the CLI): fix all verified findings per file, write atomically, journal, undo."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.files import SourceError, iter_python_files, read_source
from ai_core.findings import Fix, TextEdit, VulnClass
from ai_core.fixes.engine import Fixer, Proposal
from ai_core.fixes.journal import Entry, Journal, OutsideWorkspace, UndoRefused, inside, write_atomic
from ai_core.fixes.testrunner import TestRunner
from ai_core.fixes.text import apply_edits, diff_edits, sha256_text
from ai_core.fixes.verify import Verifier
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)


@dataclass
class FileFix:
    """The outcome of fixing one file: texts before/after, what was fixed and what was not (with reasons)."""

    path: Path
    rel: str
    before: str
    after: str
    edits: tuple[TextEdit, ...] = ()
    fixed: list[Proposal] = field(default_factory=list)
    skipped: list[Proposal] = field(default_factory=list)
    extra_files: dict[str, list[TextEdit]] = field(default_factory=dict)
    error: str = ""
    entry: Entry | None = None
    others: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Other files changed by cross-file fixes: path -> (text before, text after)."""

    @property
    def changed(self) -> bool:
        """True when the file (or another file, for cross-file fixes) would change."""
        return self.after != self.before or any(b != a for b, a in self.others.values())


def find_root(path: Path) -> Path:
    """The workspace of `path`: the nearest folder with pyproject.toml, .git or .coderev, else the folder itself."""
    start = path.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ("pyproject.toml", ".git", ".coderev")):
            return candidate
    return folder


def make_fixer(root: Path, settings: Settings, analyzer: Analyzer | None = None) -> Fixer:
    """A Fixer for a workspace, honouring run_tests_on_fix and the generative settings."""
    from ai_core.fixes.generative import from_settings

    analyzer = analyzer or Analyzer(settings)
    tests = TestRunner(root, settings.test_timeout_s) if settings.run_tests_on_fix else None
    return Fixer(analyzer, root, verifier=Verifier(analyzer, root, tests=tests),
                 generator=from_settings(settings, root))


def fix_files(target: Path, root: Path, settings: Settings, classes: Iterable[VulnClass] | None = None,
              fixer: Fixer | None = None) -> Iterator[FileFix]:
    """Fix every Python file under `target` (in memory); yields one FileFix per file with findings."""
    fixer = fixer or make_fixer(root, settings)
    wanted = frozenset(classes) if classes else None
    for path in iter_python_files(target, settings.exclude):
        rel = path.resolve().relative_to(root.resolve()).as_posix() if path.resolve().is_relative_to(
            root.resolve()) else path.as_posix()
        try:
            text = read_source(path, settings.max_file_bytes)
        except SourceError as exc:
            yield FileFix(path, rel, "", "", error=str(exc))
            continue
        doc = ParsedDocument(text, path=str(path.resolve()))
        findings = [f for f in fixer.analyzer.analyze(doc, doc.path) if wanted is None or f.vuln_class in wanted]
        if not findings:
            continue
        outcome = fixer.fix_all(doc, findings)
        extra: dict[str, list[TextEdit]] = {}
        others = {os.path.abspath(p) for p in outcome.others}
        for proposal in outcome.fixed:
            if proposal.fix is not None:
                for extra_path, edits in proposal.fix.extra_files:
                    if os.path.abspath(extra_path) not in others:  # .env.example appends
                        extra.setdefault(extra_path, []).extend(edits)
        yield FileFix(path, rel, text, outcome.after, outcome.edits, outcome.fixed, outcome.skipped, extra,
                      others=dict(outcome.others))


def apply_file_fix(journal: Journal, result: FileFix) -> Entry:
    """Write a fixed file atomically (refusing if it changed since it was read) and journal the fix."""
    path = inside(journal.root, result.path)
    current = path.read_bytes().decode("utf-8-sig", errors="surrogatepass")
    if sha256_text(current) != sha256_text(result.before):
        raise UndoRefused(f"{result.rel} changed while it was being fixed; nothing written")
    texts = {str(path): result.before}
    extra_files: list[tuple[str, tuple[TextEdit, ...]]] = []
    for other, (other_before, other_after) in result.others.items():
        target = inside(journal.root, other)
        current_other = target.read_bytes().decode("utf-8-sig", errors="surrogatepass")
        if sha256_text(current_other) != sha256_text(other_before):
            raise UndoRefused(f"{target.name} changed while {result.rel} was being fixed; nothing written")
        texts[str(target)] = other_before
        extra_files.append((str(target), diff_edits(other_before, other_after)))
    for extra_path, edits in result.extra_files.items():
        target = inside(journal.root, extra_path)
        before = target.read_bytes().decode("utf-8", errors="surrogatepass") if target.exists() else ""
        merged = _merge_appends(edits)
        texts[str(target)] = before
        extra_files.append((str(target), merged))
    classes = sorted({p.finding.vuln_class.value for p in result.fixed})
    fix = Fix(title=f"Fix {len(result.fixed)} finding(s): {', '.join(classes)}", edits=result.edits,
              path=str(path), vuln_class=result.fixed[0].finding.vuln_class,
              rule=",".join(p.finding.rule for p in result.fixed), verified=True, extra_files=tuple(extra_files))
    write_atomic(path, result.after)
    for extra_path, extra_edits in extra_files:
        write_atomic(Path(extra_path), apply_edits(texts[extra_path], extra_edits))
    extra = {"fixes": [{"class": p.finding.vuln_class.value, "rule": p.finding.rule,
                        "title": p.fix.title if p.fix else "", "line": p.finding.span.start_line + 1}
                       for p in result.fixed]}
    entry = journal.record_fix(fix, texts, source="cli", extra=extra)
    for proposal in result.fixed:
        _feedback(journal.root, proposal)
    result.entry = entry
    return entry


def _merge_appends(edits: list[TextEdit]) -> tuple[TextEdit, ...]:
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


def _feedback(root: Path, proposal: Proposal) -> None:
    try:
        from ai_core.model.feedback import record_feedback
    except ImportError:
        return
    try:
        record_feedback(root, "accepted", proposal.finding)
    except Exception:
        log.exception("recording feedback failed")


def undo_on_disk(journal: Journal, entry_id: str | None = None) -> Entry:
    """Revert a journaled fix in the files on disk (the last one by default); UndoRefused when they changed."""
    entry = journal.find(entry_id) if entry_id else journal.last_undoable()
    if entry is None:
        raise UndoRefused(f"no fix {entry_id} in {journal.path}" if entry_id else f"no fix to undo in {journal.path}")
    current: dict[str, str] = {}
    for change in entry.changes:
        try:
            path = inside(journal.root, change.file)
        except OutsideWorkspace as exc:
            raise UndoRefused(str(exc)) from exc
        try:
            current[change.file] = path.read_bytes().decode("utf-8", errors="surrogatepass")
        except OSError as exc:
            raise UndoRefused(f"cannot read {change.file}: {exc.strerror or exc}") from exc
    plan = journal.plan_undo(entry, current)
    for rel, edits in plan.items():
        write_atomic(journal.root / rel, apply_edits(current[rel], edits))
    return journal.record_undo(entry, source="cli")
