"""The journal agrees with the files: write-ahead intents, kill -9 at the file-replace moments then recovery,
failures on a read-only workspace, and no secret kept in clear."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "ghp_a8F3kQ9zL2mX7vB1nC4dE6fG0hJ5kL8pQ2rS"
SETTINGS = f'import os\n\nAPI_TOKEN = "{SECRET}"\n\n\ndef token():\n    return API_TOKEN\n'
SETTINGS_FIXED = 'import os\n\nAPI_TOKEN = os.environ["API_TOKEN"]\n\n\ndef token():\n    return API_TOKEN\n'
ENV_EXAMPLE = "DEBUG=\n"
SHELL = '''import subprocess


def archive(folder):
    subprocess.run(f"tar czf /tmp/out.tgz {folder}", shell=True, check=True)
'''


def _env(root: Path, pause: str = "") -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CODEREV_CONFIG": str(root / "no-user-config.toml")}
    env.pop("CODEREV_TEST_PAUSE_AT", None)
    if pause:
        env["CODEREV_TEST_PAUSE_AT"] = pause
    return env


def coderev(*args: str, cwd: Path, wrap: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(wrap or []), sys.executable, "-m", "server.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300, env=_env(cwd))


def killed_at(moment: str, root: Path, *args: str) -> None:
    """Run `coderev fix --apply`, wait until it reports it reached `moment`, and kill -9 it there."""
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "fix", *args, "--apply"], cwd=root,
                            env=_env(root, moment), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if line.strip() == f"coderev: paused at {moment}":
            break
    else:
        proc.wait()
        pytest.fail(f"never reached {moment}: {''.join(seen)}")
    proc.kill()
    proc.wait()
    proc.stderr.close()


@pytest.fixture
def secret_ws(tmp_path: Path) -> Path:
    """A workspace whose one fix touches two files: settings.py and its .env.example."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
    (root / "settings.py").write_text(SETTINGS, encoding="utf-8")
    (root / ".env.example").write_text(ENV_EXAMPLE, encoding="utf-8")
    return root


@pytest.fixture
def shell_ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "tools").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "tools"\n', encoding="utf-8")
    (root / "tools" / "archive.py").write_text(SHELL, encoding="utf-8")
    return root


def _journal(root: Path) -> list[dict]:  # type: ignore[type-arg]
    path = root / ".coderev" / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _leftovers(root: Path) -> list[str]:
    """Temp files and intents a crash could leave."""
    found = [str(p.relative_to(root)) for p in root.rglob("*.coderev-tmp")]
    pending = root / ".coderev" / "pending"
    return found + ([str(p.relative_to(root)) for p in pending.iterdir()] if pending.exists() else [])


# -- kill -9 at the file-replace moments ------------------------------------------------------------------
def test_a_kill_before_the_first_replace_is_rolled_back_on_the_next_start(secret_ws: Path):
    killed_at("replace", secret_ws, ".")
    assert [p for p in _leftovers(secret_ws) if p.endswith(".coderev-tmp")], "the kill left the temp file"
    history = coderev("history", cwd=secret_ws)
    assert "had written no file: rolled back, nothing to do" in history.stderr
    assert (secret_ws / "settings.py").read_text(encoding="utf-8") == SETTINGS
    assert (secret_ws / ".env.example").read_text(encoding="utf-8") == ENV_EXAMPLE
    assert _journal(secret_ws) == [] and _leftovers(secret_ws) == []


def test_a_kill_between_the_two_files_of_a_fix_is_finished_on_the_next_start(secret_ws: Path):
    killed_at("between", secret_ws, ".")
    assert (secret_ws / "settings.py").read_text(encoding="utf-8") == SETTINGS_FIXED  # torn at the kill
    assert (secret_ws / ".env.example").read_text(encoding="utf-8") == ENV_EXAMPLE
    history = coderev("history", cwd=secret_ws)
    assert "wrote .env.example to finish it, committed" in history.stderr
    assert (secret_ws / ".env.example").read_text(encoding="utf-8") == ENV_EXAMPLE + "API_TOKEN=\n"
    [entry] = _journal(secret_ws)
    assert entry["file"] == "settings.py" and [c["file"] for c in entry["extra_files"]] == [".env.example"]
    assert _leftovers(secret_ws) == []


def test_a_kill_before_the_commit_is_committed_on_the_next_start_and_undoes(shell_ws: Path):
    killed_at("commit", shell_ws, "tools")
    assert _journal(shell_ws) == []  # files written, entry not yet journaled
    history = coderev("history", cwd=shell_ws)
    assert "had written every file: committed" in history.stderr
    assert "tools/archive.py" in history.stdout and len(_journal(shell_ws)) == 1
    undo = coderev("undo", cwd=shell_ws)
    assert undo.returncode == 0, undo.stderr
    assert (shell_ws / "tools" / "archive.py").read_bytes() == SHELL.encode()
    assert _leftovers(shell_ws) == []


def test_recovery_leaves_a_file_changed_after_the_crash_alone(shell_ws: Path):
    killed_at("commit", shell_ws, "tools")
    edited = "# edited by hand after the crash\n"
    (shell_ws / "tools" / "archive.py").write_text(edited, encoding="utf-8")
    history = coderev("history", cwd=shell_ws)
    assert "tools/archive.py changed since; left as they are, entry rolled back" in history.stderr
    assert (shell_ws / "tools" / "archive.py").read_text(encoding="utf-8") == edited
    assert _journal(shell_ws) == [] and _leftovers(shell_ws) == []


# -- read-only places ------------------------------------------------------------------------------------
def read_only(folder: Path) -> list[str]:
    """A command prefix under which `folder` cannot be written (even by root: a read-only bind mount)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    script = f"mount --bind {shlex.quote(str(folder))} {shlex.quote(str(folder))} && " \
             f"mount -o remount,bind,ro {shlex.quote(str(folder))} && exec \"$@\""
    probe = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("cannot make a folder read-only for root here (no mount namespace)")
    return ["unshare", "-m", "sh", "-c", script, "sh"]


def test_a_read_only_coderev_folder_fails_the_command_and_writes_nothing(shell_ws: Path):
    (shell_ws / ".coderev").mkdir()
    wrap = read_only(shell_ws / ".coderev")
    result = coderev("fix", "tools", "--apply", cwd=shell_ws, wrap=wrap)
    assert result.returncode == 1 and "not written tools/archive.py" in result.stderr
    assert "fixed tools/archive.py" not in result.stdout and "0 fix(es) applied" in result.stderr
    assert (shell_ws / "tools" / "archive.py").read_text(encoding="utf-8") == SHELL


def test_a_read_only_source_folder_fails_the_command_and_journals_nothing(shell_ws: Path):
    wrap = read_only(shell_ws / "tools")
    result = coderev("fix", "tools", "--apply", cwd=shell_ws, wrap=wrap)
    assert result.returncode == 1 and "not written tools/archive.py" in result.stderr
    assert (shell_ws / "tools" / "archive.py").read_text(encoding="utf-8") == SHELL
    assert _journal(shell_ws) == [] and _leftovers(shell_ws) == []


# -- secrets ---------------------------------------------------------------------------------------------
def test_the_journal_keeps_only_a_hash_of_a_removed_secret(secret_ws: Path):
    assert coderev("fix", ".", "--apply", cwd=secret_ws).returncode == 0
    stored = (secret_ws / ".coderev" / "history.jsonl").read_text(encoding="utf-8")
    assert SECRET not in stored
    assert hashlib.sha256(SECRET.encode()).hexdigest() in stored
    assert SECRET not in "".join(p.read_text(encoding="utf-8") for p in (secret_ws / ".coderev").rglob("*.jsonl"))


def test_undo_of_a_secret_fix_is_refused_with_the_reason(secret_ws: Path):
    assert coderev("fix", ".", "--apply", cwd=secret_ws).returncode == 0
    undo = coderev("undo", cwd=secret_ws)
    assert undo.returncode == 1 and "keeps only its SHA-256" in undo.stderr
    assert (secret_ws / "settings.py").read_text(encoding="utf-8") == SETTINGS_FIXED


def test_a_fix_without_secrets_keeps_the_replaced_text_for_undo(shell_ws: Path):
    assert coderev("fix", "tools", "--apply", cwd=shell_ws).returncode == 0
    [entry] = _journal(shell_ws)
    assert any('shell=True' in e["old"] for e in entry["edits"]) and not any(e.get("masked") for e in entry["edits"])


@pytest.mark.slow
def test_kills_at_random_moments_never_leave_the_journal_and_the_files_disagreeing(tmp_path: Path):
    rng = random.Random(16)
    for attempt in range(8):
        root = tmp_path / f"ws{attempt}"
        root.mkdir()
        (root / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
        (root / "settings.py").write_text(SETTINGS, encoding="utf-8")
        (root / ".env.example").write_text(ENV_EXAMPLE, encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "fix", ".", "--apply"], cwd=root,
                                env=_env(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rng.uniform(0.5, 4.0))  # the kill lands anywhere from start-up to the end
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert coderev("history", cwd=root).returncode == 0
        texts = ((root / "settings.py").read_text(encoding="utf-8"),
                 (root / ".env.example").read_text(encoding="utf-8"))
        if _journal(root):
            assert texts == (SETTINGS_FIXED, ENV_EXAMPLE + "API_TOKEN=\n"), f"attempt {attempt}"
        else:
            assert texts == (SETTINGS, ENV_EXAMPLE), f"attempt {attempt}"
        assert _leftovers(root) == [], f"attempt {attempt}"
