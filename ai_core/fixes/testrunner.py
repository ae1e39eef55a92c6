"""Running the workspace's tests on a copy of it with a patched file: time-limited, without network."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ai_core.files import SKIPPED_DIRS, is_skipped_dir
from ai_core.fixes.text import sha256_text
from ai_core.fixes.verdict import VerificationError

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
        for _folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not is_skipped_dir(d)]
            if any((f.startswith("test_") and f.endswith(".py")) or f.endswith("_test.py") for f in files):
                return True
        return False

    def run(self, overrides: dict[str, str]) -> TestOutcome:
        """Run pytest in a copy of the workspace where `overrides` (relative path -> text) replace files."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="coderev-tests-") as tmp:
            copy = Path(tmp) / "ws"
            shutil.copytree(self.root, copy, ignore=shutil.ignore_patterns(*SKIPPED_DIRS, "*.egg-info"), symlinks=True)
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
