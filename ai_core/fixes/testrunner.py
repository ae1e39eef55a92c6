"""Running the workspace's tests on a copy of it with the patched files, isolated, only when the user asked.

Trust: nothing here runs unless the user's own settings say so (`run_tests_on_fix`, see ai_core.config
USER_ONLY), and only while a fix is being applied (never to list or preview fixes). The run is isolated:
- a copy of the tree in a temp folder (symlinks leading out of the tree, FIFOs and devices are not copied);
- no network: a new network namespace (`unshare -rn`) when unprivileged user namespaces work; otherwise a
  `sitecustomize` guard that refuses non-local sockets, plus an environment without proxy variables;
- a clean environment (none of the user's variables, so no tokens), HOME, TMPDIR and the cwd inside the copy;
- rlimits set in the child: CPU time (the timeout), address space (`test_memory_mb`), file size, no core
  dumps; and a wall-clock timeout that kills the whole process group;
- the interpreter running coderev, unless the user configured another (`test_python`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ai_core.config import Settings
from ai_core.files import is_skipped_dir
from ai_core.fixes.text import sha256_text
from ai_core.fixes.verdict import VerificationError

log = logging.getLogger(__name__)

PROXY_VARS = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy")
DEFAULT_COMMAND = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider")
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "SYSTEMROOT", "TZ")
"""The only variables of coderev's own environment the tests see."""
MAX_FILE_BYTES = 1 << 30
"""No file the tests write may grow beyond this (RLIMIT_FSIZE)."""


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
    """Runs the workspace's tests on an isolated copy of it (with patched files)."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Path, timeout_s: float = 60.0, python: str | None = None, memory_mb: int = 4096,
                 command: tuple[str, ...] = ()) -> None:
        self.root = root
        self.timeout_s = timeout_s
        self.python = python or sys.executable
        self.memory_mb = memory_mb
        self.command = command or DEFAULT_COMMAND
        self._baseline: dict[str, TestOutcome] = {}
        self._unshare: bool | None = None

    @classmethod
    def from_settings(cls, root: Path, settings: Settings) -> TestRunner:
        """The runner the user configured (`test_*` settings; a relative `test_python` is the workspace's)."""
        python = settings.test_python
        if python and not Path(python).is_absolute() and os.sep in python:
            python = str(root / python)
        return cls(root, settings.test_timeout_s, python or None, settings.test_memory_mb, settings.test_command)

    def has_tests(self) -> bool:
        """True when the workspace has pytest-style test files (virtualenvs and caches are not searched)."""
        for _folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not is_skipped_dir(d)]
            if any((f.startswith("test_") and f.endswith(".py")) or f.endswith("_test.py") for f in files):
                return True
        return False

    def run(self, overrides: dict[str, str]) -> TestOutcome:
        """Run the tests in a copy of the workspace where `overrides` (relative path -> text) replace files."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="coderev-tests-") as tmp:
            copy = Path(tmp) / "ws"
            shutil.copytree(self.root, copy, ignore=_not_copied(self.root.resolve()), symlinks=True)
            for rel, text in overrides.items():
                target = (copy / rel).resolve()
                if not target.is_relative_to(copy.resolve()):
                    raise VerificationError(f"{rel} is outside the workspace")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            env = self._environment(Path(tmp), copy)
            command = [self.python, *self.command]
            if self._unshare is None:
                self._unshare = _unshare_available()
                log.info("workspace tests run %s", "in a network namespace (unshare -rn)" if self._unshare
                         else "with a sitecustomize network guard (no unprivileged network namespace here)")
            if self._unshare:
                command = ["unshare", "-rn", *command]
            proc = subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=_limits(self.timeout_s, self.memory_mb))
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

    def _environment(self, tmp: Path, copy: Path) -> dict[str, str]:
        guard = tmp / "guard"
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(_NO_NETWORK, encoding="utf-8")
        home = tmp / "home"
        scratch = tmp / "tmp"
        home.mkdir()
        scratch.mkdir()
        env = {k: v for k, v in os.environ.items() if k in PASSED_ENV}
        env.update({"HOME": str(home), "TMPDIR": str(scratch), "TEMP": str(scratch), "TMP": str(scratch),
                    "PYTHONPATH": os.pathsep.join([str(guard), str(copy)]), "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONNOUSERSITE": "1", "XDG_CACHE_HOME": str(scratch), "XDG_CONFIG_HOME": str(home)})
        return env

    def baseline(self, rel: str, before: str) -> TestOutcome:
        """The tests' result on the unpatched workspace (cached per original text)."""
        key = f"{rel}\0{sha256_text(before)}"
        if key not in self._baseline:
            self._baseline[key] = self.run({rel: before})
        return self._baseline[key]


def _not_copied(root: Path) -> Callable[[str, list[str]], set[str]]:
    """copytree's ignore: skipped folders, symlinks that lead out of the tree, and anything not a file or folder."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        dropped: set[str] = set()
        for name in names:
            path = Path(folder) / name
            if is_skipped_dir(name) or name.endswith(".egg-info"):
                dropped.add(name)
                continue
            try:
                info = path.lstat()
            except OSError:
                dropped.add(name)
                continue
            if stat.S_ISLNK(info.st_mode):
                target = path.resolve()
                if not target.is_relative_to(root) or not (target.is_file() or target.is_dir()):
                    dropped.add(name)
            elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                dropped.add(name)
        return dropped
    return ignore


def _limits(timeout_s: float, memory_mb: int) -> Callable[[], None]:
    """The child's preexec_fn: CPU time, address space and file size limits, no core dumps."""
    def apply() -> None:
        import resource

        cpu = max(1, int(timeout_s) + 1)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        if memory_mb > 0:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def tests_gate(root: Path, settings: Settings) -> Callable[[dict[str, str]], str] | None:
    """What applying a fix checks first when the user turned `run_tests_on_fix` on: a function of the new texts
    (relative path -> text) returning "" when the tests pass with them (or already failed without), else why."""
    if not settings.run_tests_on_fix:
        return None
    runner = TestRunner.from_settings(root, settings)

    def check(overrides: dict[str, str]) -> str:
        if not runner.has_tests():
            return ""
        outcome = runner.run(overrides)
        if outcome.passed:
            return ""
        baseline = runner.run({})
        if not baseline.passed:
            log.info("tests already fail without the fix (%s); not blocking it", baseline.summary)
            return ""
        return f"the workspace's tests fail with the fix: {outcome.summary}"
    return check
