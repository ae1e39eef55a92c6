"""Baselines: fingerprints survive unrelated edits, line moves and reformatting; a changed sink is new."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_core.config import Settings
from ai_core.report import build_report
from ai_core.scan import scan_path

APP = '''import os
import subprocess

from flask import Flask, request

app = Flask(__name__)


def helper(value):
    return value.strip()


@app.route("/ping")
def ping():
    host = request.args.get("host")
    return subprocess.check_output("ping -c 1 " + host, shell=True)


@app.route("/read")
def read():
    name = request.args.get("name")
    return open(os.path.join("/srv/files", name)).read()
'''
PING = 'subprocess.check_output("ping -c 1 " + host, shell=True)'


def fingerprints(tmp_path: Path, text: str) -> dict[str, str]:
    """rule -> fingerprint of a one-file scan (rules only)."""
    folder = tmp_path / f"v{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / "app.py").write_text(text, encoding="utf-8")
    report = build_report(scan_path(folder, Settings(model_enabled=False), workers=1))
    prints = {item.finding.rule: item.fingerprint for item in report.items}
    assert len(prints) == len(report.items)
    return prints


@pytest.fixture
def original(tmp_path: Path) -> dict[str, str]:
    prints = fingerprints(tmp_path, APP)
    assert {"command.subprocess-shell", "path.open"} <= set(prints)
    return prints


def test_lines_inserted_above_keep_the_fingerprints(tmp_path: Path, original: dict[str, str]):
    moved = APP.replace("import os\n", 'import os\nimport json\n\n\nCONFIG = json.loads("{}")\n\n\n')
    assert fingerprints(tmp_path, moved) == original


def test_renaming_an_unrelated_function_keeps_the_fingerprints(tmp_path: Path, original: dict[str, str]):
    renamed = APP.replace("def helper(value):", "def clean_value(value):")
    assert fingerprints(tmp_path, renamed) == original


def test_reformatting_keeps_the_fingerprints(tmp_path: Path, original: dict[str, str]):
    reformatted = APP.replace(PING, "subprocess.check_output(\n        'ping -c 1 ' + host,\n"
                                    "        shell = True,  # the shell is needed here\n    )")
    reformatted = reformatted.replace("    name = request.args.get(\"name\")", "    name = request.args.get( 'name' )")
    assert reformatted != APP
    assert fingerprints(tmp_path, reformatted) == original


def test_changing_the_vulnerable_line_makes_a_new_fingerprint(tmp_path: Path, original: dict[str, str]):
    changed = fingerprints(tmp_path, APP.replace("ping -c 1 ", "ping -c 3 "))
    assert changed["command.subprocess-shell"] != original["command.subprocess-shell"]
    assert changed["path.open"] == original["path.open"]


def test_identical_sinks_in_one_function_get_distinct_fingerprints(tmp_path: Path):
    twice = APP.replace(f"    return {PING}", f"    {PING}\n    return {PING}")
    folder = tmp_path / "twice"
    folder.mkdir()
    (folder / "app.py").write_text(twice, encoding="utf-8")
    report = build_report(scan_path(folder, Settings(model_enabled=False), workers=1))
    shell = [item.fingerprint for item in report.items if item.finding.rule == "command.subprocess-shell"]
    assert len(shell) == 2 and len(set(shell)) == 2


def coderev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_scan_with_baseline_reports_only_new_findings(tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(APP, encoding="utf-8")
    baseline = tmp_path / "coderev-baseline.json"
    made = coderev("baseline", str(project), "-o", str(baseline), "--no-model")
    assert made.returncode == 0, made.stderr
    assert len(json.loads(baseline.read_text())["findings"]) == 2

    (project / "app.py").write_text("import json\n\n" + APP.replace("def helper", "def tidy"), encoding="utf-8")
    clean = coderev("scan", str(project), "--baseline", str(baseline), "--no-model")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 findings" in clean.stdout and "2 hidden by baseline" in clean.stdout

    new_sink = '\n\n@app.route("/del")\ndef delete():\n    path = request.args.get("p")\n    os.system("rm " + path)\n'
    (project / "app.py").write_text(APP + new_sink, encoding="utf-8")
    new = coderev("scan", str(project), "--baseline", str(baseline), "--no-model", "--format", "json")
    assert new.returncode == 1
    [row] = json.loads(new.stdout)
    assert row["class"] == "command-injection" and row["line"] == APP.count("\n") + 6


def test_a_file_that_is_not_a_baseline_is_a_usage_error(tmp_path: Path):
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "bogus.json").write_text('{"findings": 3}')
    result = coderev("scan", str(tmp_path), "--baseline", str(tmp_path / "bogus.json"), "--no-model")
    assert result.returncode == 2
    assert "not a coderev baseline" in result.stderr
