"""`coderev scan --diff REV`: only findings on lines changed since a git revision, and in new files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_core.report.gitdiff import parse_unified_zero

OLD = '''import os

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host")
    return os.popen("ping -c 1 " + host).read()
'''
ADDED = '''

@app.route("/rm")
def remove():
    path = request.args.get("path")
    return str(os.system("rm " + path))
'''
NEW_FILE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=coderev", "-c", "user.email=coderev@example.invalid",
                    "-c", "commit.gpgsign=false", *args], cwd=repo, check=True, capture_output=True)


def coderev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one committed vulnerable file."""
    git(tmp_path, "init", "-q")
    (tmp_path / "app.py").write_text(OLD, encoding="utf-8")
    git(tmp_path, "add", "app.py")
    git(tmp_path, "commit", "-q", "-m", "initial")
    return tmp_path


def test_diff_reports_only_findings_on_changed_lines_and_new_files(repo: Path):
    (repo / "app.py").write_text(OLD + ADDED, encoding="utf-8")
    (repo / "loader.py").write_text(NEW_FILE, encoding="utf-8")
    result = coderev("scan", ".", "--diff", "HEAD", "--format", "json", "--no-model", cwd=repo)
    assert result.returncode == 1, result.stderr
    rows = sorted((row["path"], row["line"]) for row in json.loads(result.stdout))
    assert rows == [("app.py", OLD.count("\n") + 6), ("loader.py", 5)]


def test_diff_with_no_changes_reports_nothing_but_the_full_scan_does(repo: Path):
    full = coderev("scan", ".", "--format", "json", "--no-model", cwd=repo)
    assert len(json.loads(full.stdout)) == 1
    result = coderev("scan", ".", "--diff", "HEAD", "--no-model", cwd=repo)
    assert result.returncode == 0
    assert "1 hidden by diff" in result.stdout


def test_committed_changes_since_an_older_revision_count(repo: Path):
    (repo / "app.py").write_text(OLD + ADDED, encoding="utf-8")
    git(repo, "commit", "-q", "-am", "add remove()")
    since_first = coderev("scan", ".", "--diff", "HEAD~1", "--format", "json", "--no-model", cwd=repo)
    assert [row["line"] for row in json.loads(since_first.stdout)] == [OLD.count("\n") + 6]


def test_unknown_revision_is_a_usage_error(repo: Path):
    result = coderev("scan", ".", "--diff", "no-such-branch", "--no-model", cwd=repo)
    assert result.returncode == 2
    assert "no-such-branch" in result.stderr


def test_unified_zero_hunks_give_the_new_side_lines():
    diff = ("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -3 +3,2 @@\n-a\n+b\n+c\n"
            "@@ -10,2 +11,0 @@\n-d\n-e\n"
            "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n")
    changes = parse_unified_zero(diff)
    assert changes.lines == {"x.py": {2, 3}}


def test_pre_commit_hook_fails_only_on_findings_in_the_changes(repo: Path):
    import shlex

    import yaml

    [hook] = yaml.safe_load((Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (hook["id"], hook["entry"], hook["types"]) == ("coderev", "coderev scan", ["python"])
    command = [*shlex.split(hook["entry"])[1:], *hook["args"]]
    assert coderev(*command, cwd=repo).returncode == 0  # the committed finding is not in the changes
    (repo / "app.py").write_text(OLD + ADDED, encoding="utf-8")
    failing = coderev(*command, cwd=repo)
    assert failing.returncode == 1
    assert f"app.py:{OLD.count(chr(10)) + 6}:" in failing.stdout


def test_a_changed_step_in_another_file_keeps_the_flow(repo: Path):
    (repo / "db.py").write_text("import sqlite3\n\n\ndef find_user(name):\n    conn = sqlite3.connect('app.db')\n"
                                "    return conn.execute('SELECT 1 WHERE 1 = 1').fetchall()\n", encoding="utf-8")
    (repo / "views.py").write_text("from flask import Flask, request\n\nfrom db import find_user\n\n"
                                   "app = Flask(__name__)\n\n\n@app.route('/user')\ndef user():\n"
                                   "    return str(find_user(request.args.get('name')))\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "views")
    sink = "    return conn.execute(\"SELECT * FROM users WHERE name = '\" + name + \"'\").fetchall()\n"
    text = (repo / "db.py").read_text(encoding="utf-8").splitlines(keepends=True)
    (repo / "db.py").write_text("".join(text[:5]) + sink, encoding="utf-8")
    result = coderev("scan", ".", "--diff", "HEAD", "--format", "json", "--no-model", cwd=repo)
    rows = json.loads(result.stdout)
    assert ("views.py", 10) in {(row["path"], row["line"]) for row in rows}
