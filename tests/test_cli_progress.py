"""`coderev scan` on a terminal and off it: a progress bar only where a person watches, and `-j N`."""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
from pathlib import Path

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"


def coderev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_progress_bar_stays_off_when_stderr_is_not_a_terminal(tmp_path: Path):
    (tmp_path / "app.py").write_text(VULNERABLE)
    result = coderev("scan", str(tmp_path), "--no-model", "-j", "1")
    assert result.stderr == ""


def scan_on_a_terminal(tmp_path: Path, *extra: str) -> str:
    """What a scan writes to stderr when stderr is a (pseudo) terminal."""
    (tmp_path / "app.py").write_text(VULNERABLE)
    primary, secondary = pty.openpty()
    try:
        process = subprocess.run([sys.executable, "-m", "server.cli", "scan", str(tmp_path), "--no-model", *extra],
                                 stdout=subprocess.DEVNULL, stderr=secondary, timeout=300,
                                 env={**os.environ, "HF_HUB_OFFLINE": "1", "TERM": "xterm", "COLUMNS": "100"})
        assert process.returncode == 1
        os.close(secondary)
        chunks = []
        with contextlib.suppress(OSError):  # EIO once the terminal is drained
            while chunk := os.read(primary, 65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")
    finally:
        os.close(primary)


def test_progress_bar_shows_files_done_on_a_terminal(tmp_path: Path):
    assert "1/1" in scan_on_a_terminal(tmp_path)


def test_quiet_hides_the_progress_bar_on_a_terminal(tmp_path: Path):
    assert scan_on_a_terminal(tmp_path, "--quiet") == ""


def test_jobs_and_the_workers_alias_give_the_same_report(tmp_path: Path):
    for n in range(12):  # more than a pool's minimum, so -j 2 really uses processes
        (tmp_path / f"m{n}.py").write_text(VULNERABLE if n % 3 == 0 else f"x = {n}\n")
    reports = [coderev("scan", str(tmp_path), "--no-model", "--format", "json", *flag).stdout
               for flag in (["-j", "1"], ["-j", "2"], ["--workers", "2"])]
    assert reports[0] == reports[1] == reports[2]
    assert reports[0].count('"insecure-deserialization"') == 4


def test_negative_jobs_is_a_usage_error(tmp_path: Path):
    result = coderev("scan", str(tmp_path), "-j", "-1")
    assert result.returncode == 2
    assert "-j" in result.stderr
