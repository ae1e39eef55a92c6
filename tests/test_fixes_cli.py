"""`coderev fix` (dry run and --apply), `coderev history` and `coderev undo` on a real workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unreadable import locked

SHELL = '''import subprocess
import sys


def archive(folder):
    subprocess.run(f"tar czf /tmp/out.tgz {folder}", shell=True, check=True)


if __name__ == "__main__":
    archive(sys.argv[1])
'''
LOADER = '''import pickle
import sys


def load(path):
    with open("state/" + os.path.basename(path), "rb") as handle:
        return pickle.load(handle)


if __name__ == "__main__":
    print(load(sys.argv[1]))
'''.replace("import pickle\n", "import os\nimport pickle\n")


def coderev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "tools"\n', encoding="utf-8")
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "archive.py").write_text(SHELL, encoding="utf-8")
    (tmp_path / "tools" / "state.py").write_text(LOADER, encoding="utf-8")
    return tmp_path


def test_dry_run_prints_a_diff_and_writes_nothing(workspace: Path):
    result = coderev("fix", "tools", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert '-    subprocess.run(f"tar czf /tmp/out.tgz {folder}", shell=True, check=True)' in result.stdout
    assert '+    subprocess.run(["tar", "czf", "/tmp/out.tgz", folder], check=True)' in result.stdout
    assert "+        return json.load(handle)" in result.stdout
    assert (workspace / "tools" / "archive.py").read_text(encoding="utf-8") == SHELL
    assert not (workspace / ".coderev").exists()
    assert "fix(es) verified (dry run" in result.stderr


def test_apply_writes_journals_and_a_rescan_is_clean(workspace: Path):
    result = coderev("fix", "tools", "--apply", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "fixed tools/archive.py: 1 finding(s)" in result.stdout  # one fix removes the sink and its call site
    scan = coderev("scan", "tools", "--no-model", "--format", "json", cwd=workspace)
    assert scan.returncode == 0 and json.loads(scan.stdout) == []
    lines = (workspace / ".coderev" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["file"] for line in lines) == ["tools/archive.py", "tools/state.py"]
    for path in (workspace / "tools").iterdir():
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_class_filter_fixes_only_that_class(workspace: Path):
    result = coderev("fix", "tools", "--apply", "--class", "insecure-deserialization", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert (workspace / "tools" / "archive.py").read_text(encoding="utf-8") == SHELL
    assert "json.load(handle)" in (workspace / "tools" / "state.py").read_text(encoding="utf-8")


def test_history_lists_fixes_and_undo_restores_the_exact_bytes(workspace: Path):
    coderev("fix", "tools/archive.py", "--apply", cwd=workspace)
    history = coderev("history", cwd=workspace)
    assert history.returncode == 0
    [line] = history.stdout.splitlines()
    assert "fix" in line and "tools/archive.py" in line and "command-injection" in line
    undo = coderev("undo", cwd=workspace)
    assert undo.returncode == 0, undo.stderr
    assert (workspace / "tools" / "archive.py").read_bytes() == SHELL.encode()
    assert "(undone)" in coderev("history", cwd=workspace).stdout
    again = coderev("undo", cwd=workspace)
    assert again.returncode == 1 and "no fix to undo" in again.stderr


def test_undo_refuses_when_the_file_changed_after_the_fix(workspace: Path):
    coderev("fix", "tools/archive.py", "--apply", cwd=workspace)
    target = workspace / "tools" / "archive.py"
    edited = target.read_text(encoding="utf-8") + "# local change\n"
    target.write_text(edited, encoding="utf-8")
    undo = coderev("undo", cwd=workspace)
    assert undo.returncode == 1
    assert "undo refused: tools/archive.py changed since fix" in undo.stderr
    assert target.read_text(encoding="utf-8") == edited


def test_a_path_outside_the_workspace_is_refused(workspace: Path, tmp_path_factory: pytest.TempPathFactory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "x.py").write_text(SHELL, encoding="utf-8")
    result = coderev("fix", str(elsewhere / "x.py"), "--root", str(workspace), "--apply", cwd=workspace)
    assert result.returncode == 2 and "is outside the workspace" in result.stderr
    assert (elsewhere / "x.py").read_text(encoding="utf-8") == SHELL


def test_fix_reports_an_unreadable_folder_and_fixes_the_rest(workspace: Path):
    (workspace / "locked").mkdir()
    (workspace / "locked" / "other.py").write_text(SHELL, encoding="utf-8")
    with locked(workspace / "locked") as prefix:
        result = subprocess.run([*prefix, sys.executable, "-m", "server.cli", "fix", "."], capture_output=True,
                                text=True, cwd=workspace, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert "coderev: skipped locked: unreadable folder: Permission denied" in result.stderr
    assert '+    subprocess.run(["tar", "czf", "/tmp/out.tgz", folder], check=True)' in result.stdout
    assert "locked/other.py" not in result.stdout
