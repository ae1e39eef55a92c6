"""Diff-only scans: the lines changed since a git revision (and new files), read from `git diff` itself."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ai_core.report.report_items import Item, Report

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
_TIMEOUT_S = 120


class GitDiffError(Exception):
    """git is missing, the folder is not in a repository, or the revision is unknown."""


@dataclass
class Changes:
    """Per path (relative to the scanned folder): the 0-based changed lines; new files are changed throughout."""

    lines: dict[str, set[int]] = field(default_factory=dict)
    new_files: set[str] = field(default_factory=set)

    def touches(self, path: str, first: int, last: int) -> bool:
        """True when any line first..last (0-based) of `path` changed, or the file is new."""
        if path in self.new_files:
            return True
        changed = self.lines.get(path, set())
        return any(line in changed for line in range(first, last + 1))


def _git(folder: Path, *args: str) -> str:
    command = next(a for a in args if not a.startswith("-") and "=" not in a)
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=_TIMEOUT_S,
                              env={**os.environ, "GIT_PAGER": "cat", "LC_ALL": "C"})
    except FileNotFoundError as exc:
        raise GitDiffError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitDiffError(f"git {command} took longer than {_TIMEOUT_S}s") from exc
    if done.returncode != 0:
        raise GitDiffError(f"git {command} failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
    return done.stdout


def _unquote(name: str) -> str:
    """A path as git prints it: C-style quoted when it holds unusual characters."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        raw = name[1:-1].encode("latin-1", errors="backslashreplace").decode("unicode_escape")
        return raw.encode("latin-1", errors="replace").decode("utf-8", errors="replace")
    return name


def parse_unified_zero(diff: str) -> Changes:
    """The added/changed lines of a `git diff --unified=0` output (new-file side; new files have every line)."""
    changes = Changes()
    path: str | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = _unquote(line[4:].rstrip("\t"))
            path = None if target == "/dev/null" else target.removeprefix("b/")
            if path is not None:
                changes.lines.setdefault(path, set())
        elif path is not None and (match := _HUNK.match(line)):
            start, count = int(match["start"]), int(match["count"] or 1)
            changes.lines[path].update(range(start - 1, start - 1 + count))
    return changes


def changes_since(folder: Path, rev: str) -> Changes:
    """Lines changed in `folder`'s working tree since `rev` (paths relative to `folder`), plus untracked files."""
    if rev.startswith("-"):
        raise GitDiffError(f"not a revision: {rev!r}")
    try:
        _git(folder, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except GitDiffError as exc:
        raise GitDiffError(f"unknown git revision {rev!r} in {folder} ({exc})") from exc
    diff = _git(folder, "-c", "core.quotePath=false", "diff", "--unified=0", "--no-color", "--no-ext-diff",
                "--no-renames", "--relative", "--src-prefix=a/", "--dst-prefix=b/", rev, "--", ".")
    changes = parse_unified_zero(diff)
    untracked = _git(folder, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    changes.new_files.update(p for p in untracked.split("\0") if p)
    return changes


def _relative(path: str, root: str) -> str:
    if os.path.isabs(path):
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            return path
    return path


def only_changed(report: Report, changes: Changes) -> None:
    """Keep the findings whose lines (or a step of whose taint path) changed, and those in new files."""
    def changed(item: Item) -> bool:
        f = item.finding
        if changes.touches(f.path, f.span.start_line, f.span.end_line):
            return True
        steps = f.taint_path.steps if f.taint_path is not None else ()
        return any(changes.touches(_relative(s.path, report.root) or f.path, s.span.start_line, s.span.end_line)
                   for s in steps)

    report.keep(changed, "diff")
