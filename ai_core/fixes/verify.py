"""Verification before a fix is offered: it parses, the finding is gone, nothing new, ruff is no worse, tests pass."""

from __future__ import annotations

import ast
import dataclasses
import difflib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.fixes.text import sha256_text
from ai_core.model.review import Reviewer
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

RUFF_TIMEOUT_S = 30.0
REPAIRABLE = frozenset({"I001", "E501"})
CACHE_SIZE = 256
COPY_IGNORE = (".git", ".hg", ".venv", "venv", "node_modules", ".coderev", "__pycache__", ".mypy_cache",
               ".ruff_cache", ".pytest_cache", ".tox", "*.egg-info", "build", "dist")
PROXY_VARS = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy")

_NO_NETWORK = '''"""Installed by coderev while it runs a workspace's tests to check a fix: no network."""
import socket

def _refuse(*_args, **_kwargs):
    raise OSError("network access is disabled while coderev verifies a fix")

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex

def _guarded(method):
    def call(self, address, *args):
        if getattr(socket, "AF_UNIX", None) is not None and self.family == socket.AF_UNIX:
            return method(self, address, *args)
        return _refuse()
    return call

socket.socket.connect = _guarded(_connect)
socket.socket.connect_ex = _guarded(_connect_ex)
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of verifying one patched text."""

    ok: bool
    reason: str = ""
    new_codes: tuple[str, ...] = ()
    """Ruff codes the patch introduced (when that is why it failed)."""
    file: str = ""
    """For a multi-file fix: the other file those codes are in."""

    @property
    def repairable(self) -> bool:
        """True when the only problems are import order (I001) or long lines (E501), which ruff can repair."""
        return bool(self.new_codes) and set(self.new_codes) <= REPAIRABLE


class VerificationError(Exception):
    """A verification step could not run (ruff missing, timeout)."""


def _ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except Exception:  # the python package is absent or has no binary: look on PATH
        candidate = Path(sys.executable).with_name("ruff")
        return str(candidate) if candidate.is_file() else shutil.which("ruff")


class Ruff:
    """`ruff check` on in-memory text via stdin, with the workspace's configuration."""

    def __init__(self, binary: str | None = None, timeout_s: float = RUFF_TIMEOUT_S) -> None:
        self.binary = binary or _ruff_binary()
        self.timeout_s = timeout_s
        self._cache: OrderedDict[tuple[str, str], Counter[str]] = OrderedDict()
        self._lock = threading.Lock()

    def _run(self, args: list[str], text: str, path: str, cwd: Path | None) -> subprocess.CompletedProcess[bytes]:
        if not self.binary:
            raise VerificationError("ruff is not installed")
        try:
            return subprocess.run(
                [self.binary, *args, "--stdin-filename", path, "-"],
                input=text.encode("utf-8", errors="surrogatepass"), capture_output=True,
                timeout=self.timeout_s, cwd=str(cwd) if cwd and cwd.is_dir() else None, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VerificationError(f"ruff could not run: {exc}") from exc

    def codes(self, text: str, path: str, cwd: Path | None = None) -> Counter[str]:
        """Counts of ruff error codes for `text` as if it were the file at `path`."""
        key = (sha256_text(text), path)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return Counter(self._cache[key])
        proc = self._run(["check", "--no-cache", "--output-format", "json", "--exit-zero", "--quiet"], text,
                         path, cwd)
        try:
            records = json.loads(proc.stdout.decode("utf-8", errors="replace") or "[]")
        except json.JSONDecodeError as exc:
            raise VerificationError(f"ruff output unreadable: {proc.stderr.decode(errors='replace')[:200]}") \
                from exc
        counts = Counter(str(r.get("code") or "syntax-error") for r in records)
        with self._lock:
            self._cache[key] = counts
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return Counter(counts)

    def sort_imports(self, text: str, path: str, cwd: Path | None = None) -> str:
        """`text` with only ruff's import-sorting fix (I001) applied."""
        proc = self._run(["check", "--no-cache", "--select", "I001", "--fix-only", "--exit-zero", "--quiet"],
                         text, path, cwd)
        if proc.returncode != 0 or not proc.stdout:
            raise VerificationError(f"ruff could not sort imports: {proc.stderr.decode(errors='replace')[:200]}")
        return proc.stdout.decode("utf-8", errors="surrogatepass")


    def format_lines(self, text: str, path: str, ranges: list[tuple[int, int]], cwd: Path | None = None) -> str:
        """`text` with only the given 1-based line ranges formatted by `ruff format` (bottom-up)."""
        for first, last in sorted(ranges, reverse=True):
            lines = text.splitlines()
            if not lines or first > len(lines):
                continue
            last = min(last, len(lines))
            span = f"{first}:1-{last}:{len(lines[last - 1]) + 1}"  # "N:M" alone would mean "to the end of file"
            proc = self._run(["format", "--no-cache", "--quiet", "--range", span], text, path, cwd)
            if proc.returncode != 0:
                raise VerificationError(f"ruff could not format: {proc.stderr.decode(errors='replace')[:200]}")
            text = proc.stdout.decode("utf-8", errors="surrogatepass")
        return text


def changed_lines(before: str, after: str) -> list[tuple[int, int]]:
    """1-based line ranges of `after` that differ from `before`."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return [(j1 + 1, max(j1 + 1, j2)) for tag, _i1, _i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal" and j2 > j1]


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """Result of one run of the workspace's tests."""

    __test__ = False

    passed: bool
    summary: str
    seconds: float


def _unshare_available() -> bool:
    exe = shutil.which("unshare")
    if exe is None or not sys.platform.startswith("linux"):
        return False
    try:
        return subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class TestRunner:
    """Runs the workspace's tests on a copy of it (with the patched file), time-limited and without network."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Path, timeout_s: float = 60.0, python: str | None = None) -> None:
        self.root = root
        self.timeout_s = timeout_s
        venv_python = root / ".venv" / "bin" / "python"
        self.python = python or (str(venv_python) if venv_python.is_file() else sys.executable)
        self._baseline: dict[str, TestOutcome] = {}
        self._unshare: bool | None = None

    def has_tests(self) -> bool:
        """True when the workspace has pytest-style test files (virtualenvs and caches are not searched)."""
        skip = {name for name in COPY_IGNORE if "*" not in name}
        for _folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
            if any((f.startswith("test_") and f.endswith(".py")) or f.endswith("_test.py") for f in files):
                return True
        return False

    def run(self, overrides: dict[str, str]) -> TestOutcome:
        """Run pytest in a copy of the workspace where `overrides` (relative path -> text) replace files."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="coderev-tests-") as tmp:
            copy = Path(tmp) / "ws"
            shutil.copytree(self.root, copy, ignore=shutil.ignore_patterns(*COPY_IGNORE), symlinks=True)
            for rel, text in overrides.items():
                target = (copy / rel).resolve()
                if not target.is_relative_to(copy.resolve()):
                    raise VerificationError(f"{rel} is outside the workspace")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            guard = Path(tmp) / "guard"
            guard.mkdir()
            (guard / "sitecustomize.py").write_text(_NO_NETWORK, encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
            env["PYTHONPATH"] = os.pathsep.join([str(guard), str(copy), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            command = [self.python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
            if self._unshare is None:
                self._unshare = _unshare_available()
            if self._unshare:
                command = ["unshare", "-rn", *command]
            proc = subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                output, _ = proc.communicate(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                return TestOutcome(False, f"tests timed out after {self.timeout_s:.0f} s",
                                   time.perf_counter() - started)
        lines = output.decode("utf-8", errors="replace").strip().splitlines()
        summary = lines[-1] if lines else f"exit code {proc.returncode}"
        passed = proc.returncode in (0, 5)  # 5: no tests collected
        return TestOutcome(passed, summary, time.perf_counter() - started)

    def baseline(self, rel: str, before: str) -> TestOutcome:
        """The tests' result on the unpatched workspace (cached per original text)."""
        key = f"{rel}\0{sha256_text(before)}"
        if key not in self._baseline:
            self._baseline[key] = self.run({rel: before})
        return self._baseline[key]


def _parses_as_python(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


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
        doc = ParsedDocument(after, path=path)
        if doc.has_syntax_errors:
            line = _first_error_line(doc)
            return Verdict(False, f"the patched file does not parse (syntax error near line {line})")
        if _parses_as_python(before) and not _parses_as_python(after):
            return Verdict(False, "the patched file is not valid Python for this interpreter")
        verdict = self._check_findings(before, after, path, targets)
        if not verdict.ok:
            return verdict
        try:
            old_codes = self.ruff.codes(before, path, self.root)
            new_codes = self.ruff.codes(after, path, self.root)
        except VerificationError as exc:
            return Verdict(False, str(exc))
        added = new_codes - old_codes
        if added:
            listed = ", ".join(f"{code} x{count}" for code, count in sorted(added.items()))
            return Verdict(False, f"ruff reports new problems: {listed}", new_codes=tuple(sorted(added)))
        return self._check_tests(before, after, path)

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
            name = os.path.basename(other)
            if ParsedDocument(after, path=other).has_syntax_errors:
                return Verdict(False, f"{name} does not parse after the fix")
            if _parses_as_python(before) and not _parses_as_python(after):
                return Verdict(False, f"{name} is not valid Python for this interpreter after the fix")
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
                added = self.ruff.codes(after, other, self.root) - self.ruff.codes(before, other, self.root)
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
