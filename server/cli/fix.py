"""`coderev fix PATH [--apply] [--class ...]`, `coderev history` and `coderev undo [ID]`.

`fix` prints a unified diff of the verified fixes (dry run, which never runs anything of the workspace) and, on
stderr, each fix's title and note (what the user must supply, whether it was offered for a review finding);
`--apply` writes each file atomically and journals it (write-ahead) in `.coderev/history.jsonl`, after the
workspace's tests pass when the user asked for them (`--run-tests`, or `run_tests_on_fix` in the user's own
config). `history` lists the journal; `undo` reverts a fix when the file still has the text the fix produced.
Each command first finishes or rolls back a fix that a crash interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ai_core.config import load_pyproject
from ai_core.findings import VulnClass
from ai_core.fixes.apply import recover
from ai_core.fixes.engine import Proposal
from ai_core.fixes.journal import Journal, OutsideWorkspace, UndoRefused
from ai_core.fixes.testrunner import tests_gate
from ai_core.fixes.text import unified_diff
from ai_core.fixes.workspace import apply_file_fix, find_root, fix_files, undo_on_disk


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `fix`, `history` and `undo`."""
    parser = sub.add_parser("fix", help="show (or --apply) verified fixes for a folder or file")
    parser.add_argument("path", type=Path, help="folder or Python file to fix")
    parser.add_argument("--apply", action="store_true", help="write the fixed files and journal them")
    parser.add_argument("--class", dest="classes", action="append", default=[], metavar="CLASS",
                        choices=[c.value for c in VulnClass], help="only this class (repeatable)")
    parser.add_argument("--run-tests", action="store_true",
                        help="with --apply: run the workspace's tests (isolated copy, no network) before writing")
    parser.add_argument("--root", type=Path, help="workspace root (default: nearest pyproject.toml/.git)")
    parser.set_defaults(func=run_fix)
    history = sub.add_parser("history", help="list the fix journal of a workspace")
    history.add_argument("--root", type=Path, default=None, help="workspace root (default: current folder's)")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.set_defaults(func=run_history)
    undo = sub.add_parser("undo", help="revert a journaled fix (the last one by default)")
    undo.add_argument("id", nargs="?", help="journal entry id (or a unique prefix)")
    undo.add_argument("--root", type=Path, default=None, help="workspace root (default: current folder's)")
    undo.set_defaults(func=run_undo)


def run_fix(args: argparse.Namespace) -> int:
    """Print the diff of verified fixes; with --apply write them. Exit 0 when everything fixable was fixed."""
    from server.cli import UsageError

    target: Path = args.path
    if not target.exists():
        raise UsageError(f"no such file or folder: {target}")
    root = (args.root or find_root(target)).resolve()
    if not target.resolve().is_relative_to(root):
        raise UsageError(f"{target} is outside the workspace {root}")
    if args.run_tests and not args.apply:
        raise UsageError("--run-tests runs the workspace's tests before writing: it needs --apply")
    settings, warnings = load_pyproject(root)
    for warning in warnings:
        print(f"coderev: warning: {warning}", file=sys.stderr)
    settings = settings.with_overrides({"model_enabled": False, **({"run_tests_on_fix": True} if args.run_tests
                                                                   else {})})[0]
    journal = Journal(root)
    report_recovery(journal)
    check = tests_gate(root, settings) if args.apply else None
    classes = [VulnClass(c) for c in args.classes] or None
    fixed = skipped = files = failed = 0
    for result in fix_files(target, root, settings, classes):
        if result.error:
            print(f"coderev: skipped {result.rel}: {result.error}", file=sys.stderr)
            continue
        fixed += len(result.fixed)
        skipped += len(result.skipped)
        for proposal in result.fixed:
            print_fix(result.rel, proposal)
        for proposal in result.skipped:
            line = proposal.finding.span.start_line + 1
            print(f"coderev: no verified fix for {result.rel}:{line} {proposal.finding.rule}: {proposal.reason}",
                  file=sys.stderr)
        if not result.changed:
            continue
        files += 1
        if args.apply:
            try:
                entry = apply_file_fix(journal, result, check)
            except (UndoRefused, OutsideWorkspace, OSError) as exc:
                print(f"coderev: not written {result.rel}: {exc}", file=sys.stderr)
                failed += 1
                fixed -= len(result.fixed)
                continue
            print(f"fixed {result.rel}: {len(result.fixed)} finding(s) (journal {entry.id})")
        else:
            sys.stdout.write(unified_diff(result.before, result.after, result.rel))
            for other, (before, after) in sorted(result.others.items()):
                other_rel = Path(other).resolve().relative_to(root).as_posix() if Path(other).resolve(
                ).is_relative_to(root) else other
                sys.stdout.write(unified_diff(before, after, other_rel))
    verb = "applied" if args.apply else "verified (dry run; --apply writes them)"
    written = f"; {failed} file(s) not written" if failed else ""
    print(f"coderev: {fixed} fix(es) {verb} in {files - failed} file(s); {skipped} finding(s) without a verified "
          f"fix{written}", file=sys.stderr)
    return 0 if skipped == 0 and failed == 0 else 1


def print_fix(rel: str, proposal: Proposal) -> None:
    """One verified fix on stderr: where, its title (which says what the user must supply, and whether it was
    offered for a review finding), and its note."""
    line = proposal.finding.span.start_line + 1
    title = proposal.fix.title if proposal.fix is not None else ""
    print(f"coderev: fix {rel}:{line} {proposal.finding.rule}: {title}", file=sys.stderr)
    if proposal.note:
        print(f"coderev:   note: {proposal.note}", file=sys.stderr)


def report_recovery(journal: Journal) -> None:
    """Finish or roll back a fix a crash interrupted, saying so on stderr."""
    for line in recover(journal):
        print(f"coderev: journal: {line}", file=sys.stderr)


def run_history(args: argparse.Namespace) -> int:
    """Print the journal, oldest first."""
    root = (args.root or find_root(Path.cwd())).resolve()
    journal = Journal(root)
    report_recovery(journal)
    entries = journal.entries()
    undone = journal.undone()
    for entry in entries:
        if args.json:
            sys.stdout.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
            continue
        files = ", ".join(c.file for c in entry.changes)
        state = " (undone)" if entry.id in undone else ""
        version = entry.changes[0].version if entry.changes else None
        at = f" v{version}" if version is not None else ""
        sys.stdout.write(f"{entry.id}  {entry.time}  {entry.kind:<4}  {entry.vuln_class:<26} {files}{at}  "
                         f"{entry.title}{state}\n")
    if not entries and not args.json:
        print(f"coderev: no fixes journaled in {journal.path}", file=sys.stderr)
    return 0


def run_undo(args: argparse.Namespace) -> int:
    """Revert a fix on disk; exit 1 with a clear message when the file changed since."""
    root = (args.root or find_root(Path.cwd())).resolve()
    journal = Journal(root)
    report_recovery(journal)
    try:
        entry = undo_on_disk(journal, args.id)
    except UndoRefused as exc:
        print(f"coderev: undo refused: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"coderev: undo failed, nothing changed: {exc}", file=sys.stderr)
        return 1
    print(f"undid {entry.undoes}: {entry.title} ({', '.join(c.file for c in entry.changes)})")
    return 0
