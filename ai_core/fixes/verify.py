"""Verification before a fix is offered: it parses, the finding is gone, nothing new, ruff is no worse, tests pass."""

from __future__ import annotations

import ast
import dataclasses
import logging
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.analysis.templates.syntax import still_reads
from ai_core.files import is_template
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.fixes.ruff_runner import Ruff
from ai_core.fixes.testrunner import TestRunner
from ai_core.fixes.text import sha256_text
from ai_core.fixes.verdict import Verdict, VerificationError
from ai_core.model.review import Reviewer
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

CACHE_SIZE = 256


def _parses_as_python(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def syntax_problem(before: str, after: str, path: str, subject: str = "the patched file") -> str | None:
    """Why the patched text no longer reads as its file kind (None when it does): a template must still lex and,
    where it parsed before, parse with jinja2's own parser (never rendered); Python must parse (tree-sitter, and
    CPython's parser where the original passed it)."""
    if is_template(path):
        problem = still_reads(before, after, os.path.basename(path))
        return f"{subject} {problem}" if problem else None
    doc = ParsedDocument(after, path=path)
    if doc.has_syntax_errors:
        return f"{subject} does not parse (syntax error near line {_first_error_line(doc)})"
    if _parses_as_python(before) and not _parses_as_python(after):
        return f"{subject} is not valid Python for this interpreter"
    return None


def _key(f: Finding) -> tuple[str, str]:
    return (f.vuln_class.value, f.rule)


class Verifier:
    """Checks a patched text against the original: parse, findings, ruff and (optionally) the tests."""

    def __init__(self, analyzer: Analyzer, root: Path | None = None, ruff: Ruff | None = None,
                 tests: TestRunner | None = None) -> None:
        settings = dataclasses.replace(analyzer.settings, min_severity=Severity.INFO, min_confidence=0.0,
                                       enabled_classes=frozenset(VulnClass), model_enabled=False)
        self.analyzer = analyzer
        self.relaxed = Analyzer(settings, registry=analyzer.registry, project=analyzer.project)
        self.root = root
        self.ruff = ruff or Ruff()
        self.tests = tests
        self._findings: OrderedDict[tuple[str, str], list[Finding]] = OrderedDict()
        self._lock = threading.Lock()

    def findings(self, text: str, path: str) -> list[Finding]:
        """Every rule finding of `text` (no thresholds, no model), cached by content."""
        key = (sha256_text(text), path)
        with self._lock:
            if key in self._findings:
                self._findings.move_to_end(key)
                return self._findings[key]
        found = self.relaxed.analyze(ParsedDocument(text, path=path), path)
        with self._lock:
            self._findings[key] = found
            while len(self._findings) > CACHE_SIZE:
                self._findings.popitem(last=False)
        return found

    def verify(self, before: str, after: str, path: str, targets: Sequence[Finding]) -> Verdict:
        """Is `after` a safe replacement for `before` that removes every finding in `targets`?"""
        if after == before:
            return Verdict(False, "the fix changes nothing")
        problem = syntax_problem(before, after, path)
        if problem is not None:
            return Verdict(False, problem)
        verdict = self._check_findings(before, after, path, targets)
        if not verdict.ok:
            return verdict
        try:
            added = self._lint_added(before, after, path)
        except VerificationError as exc:
            return Verdict(False, str(exc))
        if added:
            listed = ", ".join(f"{code} x{count}" for code, count in sorted(added.items()))
            return Verdict(False, f"ruff reports new problems: {listed}", new_codes=tuple(sorted(added)))
        return self._check_tests(before, after, path)

    def _lint_added(self, before: str, after: str, path: str) -> Counter[str]:
        """The ruff codes the patch adds (none for a template: ruff reads Python only)."""
        if is_template(path):
            return Counter()
        return self.ruff.codes(after, path, self.root) - self.ruff.codes(before, path, self.root)

    def overlay_analyzer(self, texts: dict[str, str], scorer: object | None = None,
                         settings: object | None = None) -> Analyzer:
        """An Analyzer whose cross-file resolution sees `texts` (absolute path -> text) instead of the disk."""
        from ai_core.analysis.project import Project

        base = self.analyzer.project
        docs = {os.path.abspath(p): ParsedDocument(t, path=p) for p, t in texts.items()}
        base_overlay = getattr(base, "overlay", None)

        def overlay(path: str) -> ParsedDocument | None:
            doc = docs.get(os.path.abspath(path))
            if doc is None and base_overlay is not None:
                return base_overlay(path)  # type: ignore[no-any-return]
            return doc

        project = Project(roots=getattr(base, "roots", ()), overlay=overlay,
                          relative_to=getattr(base, "relative_to", None))
        chosen = settings if settings is not None else self.relaxed.settings
        return Reviewer(chosen, registry=self.relaxed.registry, scorer=scorer, project=project)  # type: ignore[arg-type]

    def verify_files(self, path: str, text: str, files: Sequence[tuple[str, str, str]],
                     targets: Sequence[Finding]) -> Verdict:
        """Verify a fix that changes other files (path, before, after) and leaves `path` (text) as it is."""
        changed = {os.path.abspath(p): (before, after) for p, before, after in files}
        for other, (before, after) in changed.items():
            problem = syntax_problem(before, after, other, f"after the fix, {os.path.basename(other)}")
            if problem is not None:
                return Verdict(False, problem)
        patched = self.overlay_analyzer({p: after for p, (_, after) in changed.items()})
        verdict, _unmatched = self._compare(self.findings(text, path),
                                            patched.analyze(ParsedDocument(text, path=path), path), targets)
        if not verdict.ok:
            return verdict
        for other, (before, after) in changed.items():
            verdict, _unmatched = self._compare(self.findings(before, other),
                                                patched.analyze(ParsedDocument(after, path=other), other), [])
            if not verdict.ok:
                return Verdict(False, f"in {os.path.basename(other)}: {verdict.reason}")
            try:
                added = self._lint_added(before, after, other)
            except VerificationError as exc:
                return Verdict(False, str(exc))
            if added:
                listed = ", ".join(f"{code} x{count}" for code, count in sorted(added.items()))
                return Verdict(False, f"ruff reports new problems in {os.path.basename(other)}: {listed}",
                               new_codes=tuple(sorted(added)), file=other)
        if self.tests is None or self.root is None:
            return Verdict(True)
        try:
            overrides = {Path(p).resolve().relative_to(self.root.resolve()).as_posix(): after
                         for p, (_, after) in changed.items()}
        except ValueError:
            return Verdict(False, "the fix touches a file outside the workspace")
        if not self.tests.has_tests() or self.tests.run(overrides).passed:
            return Verdict(True)
        if not self.tests.run({}).passed:
            return Verdict(True)
        return Verdict(False, "the workspace's tests fail with the fix")

    def _check_findings(self, before: str, after: str, path: str, targets: Sequence[Finding]) -> Verdict:
        verdict, unmatched = self._compare(self.findings(before, path), self.findings(after, path), targets)
        if verdict.ok and unmatched:  # targets the rules do not report (the model's): they must go there too
            full_before = Counter(_key(f) for f in self.analyzer.analyze_text(before, path))
            full_after = Counter(_key(f) for f in self.analyzer.analyze_text(after, path))
            for target in unmatched:
                if full_before[_key(target)] and full_after[_key(target)] >= full_before[_key(target)]:
                    return Verdict(False, f"{target.rule} is still reported after the fix")
        return verdict

    def _compare(self, old: list[Finding], new: list[Finding], targets: Sequence[Finding]
                 ) -> tuple[Verdict, list[Finding]]:
        """Targets gone (those the rules report) and no (class, rule) more frequent than before; also the
        targets the rules did not report in `old` (left for the caller to check)."""
        expected = Counter(_key(f) for f in old)
        unmatched: list[Finding] = []
        for target in targets:
            match = next((f for f in old if _key(f) == _key(target) and (
                f.span.start_byte == target.span.start_byte or f.snippet == target.snippet)), None)
            if match is None:
                unmatched.append(target)
            else:
                expected[_key(target)] -= 1
        got = Counter(_key(f) for f in new)
        target_keys = {_key(t) for t in targets}
        for key, count in got.items():
            if count > expected.get(key, 0):
                if key in target_keys:
                    return Verdict(False, f"{key[1]} is still reported after the fix"), unmatched
                where = next(f for f in new if _key(f) == key)
                return Verdict(False, f"the fix introduces {key[1]} ({key[0]}) at line "
                                      f"{where.span.start_line + 1}"), unmatched
        return Verdict(True), unmatched

    def _check_tests(self, before: str, after: str, path: str) -> Verdict:
        if self.tests is None or self.root is None:
            return Verdict(True)
        try:
            rel = Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return Verdict(False, f"{path} is outside the workspace; cannot run its tests")
        if not self.tests.has_tests():
            return Verdict(True)
        outcome = self.tests.run({rel: after})
        if outcome.passed:
            return Verdict(True)
        baseline = self.tests.baseline(rel, before)
        if not baseline.passed:
            log.info("tests already fail without the fix (%s); not blocking it", baseline.summary)
            return Verdict(True)
        return Verdict(False, f"the workspace's tests fail with the fix: {outcome.summary}")


def _first_error_line(doc: ParsedDocument) -> int:
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return int(node.start_point[0]) + 1
        if node.has_error:
            stack.extend(reversed(node.children))
    return 1
