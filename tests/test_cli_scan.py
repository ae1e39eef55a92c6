"""`coderev scan`: formats, exit codes, and files that cannot be read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.unreadable import locked

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"


def coderev(*args: str, cwd: Path | None = None, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "server.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "app.py").write_text("# 😀 数据\n" + VULNERABLE, encoding="utf-8")
    (tmp_path / "pkg" / "safe.py").write_text("import json\nprint(json.loads('{}'))\n")
    (tmp_path / "latin1.py").write_bytes("x = 'café'\n".encode("latin-1"))
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02binary")
    return tmp_path


def test_json_report_has_relative_paths_and_one_based_positions(project: Path):
    result = coderev("scan", str(project), "--format", "json", "--no-model")
    assert result.returncode == 1
    [row] = json.loads(result.stdout)
    assert row["path"] == "pkg/app.py"
    assert (row["line"], row["end_line"], row["column"]) == (6, 6, 12)
    assert row["class"] == "insecure-deserialization"
    assert row["cwe"] == 502
    assert row["severity"] == "high"
    assert 0 < row["confidence"] <= 1
    assert row["rule"] and row["message"]


def test_unreadable_files_are_reported_and_skipped(project: Path):
    result = coderev("scan", str(project), "--format", "json", "--no-model")
    assert "latin1.py: not valid UTF-8" in result.stderr
    assert "blob.py: binary file" in result.stderr


def test_an_unreadable_folder_is_reported_and_the_rest_is_scanned(project: Path):
    with locked(project / "pkg") as prefix:
        text = coderev("scan", str(project), "--no-model", prefix=prefix)
        as_json = coderev("scan", str(project), "--format", "json", "--no-model", prefix=prefix)
        as_sarif = coderev("scan", str(project), "--format", "sarif", "--no-model", prefix=prefix)
    assert "pkg: skipped: unreadable folder: Permission denied" in text.stdout
    assert "0 findings in 0 files (0 lines, 3 skipped)" in text.stdout
    assert "coderev: skipped pkg: unreadable folder: Permission denied" in as_json.stderr
    assert json.loads(as_json.stdout) == []
    [notice] = [n for n in json.loads(as_sarif.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
                if "pkg" in n["message"]["text"]]
    assert notice["message"]["text"] == "skipped pkg: unreadable folder: Permission denied"


def test_a_readable_folder_beside_an_unreadable_one_is_scanned(project: Path):
    (project / "locked").mkdir()
    (project / "locked" / "hidden.py").write_text(VULNERABLE, encoding="utf-8")
    with locked(project / "locked") as prefix:
        result = coderev("scan", str(project), "--format", "json", "--no-model", prefix=prefix)
    assert result.returncode == 1
    assert [row["path"] for row in json.loads(result.stdout)] == ["pkg/app.py"]
    assert "coderev: skipped locked: unreadable folder" in result.stderr


def test_a_scan_whose_every_file_was_skipped_fails_with_a_clear_message(project: Path):
    (project / "pkg" / "app.py").unlink()
    (project / "pkg" / "safe.py").unlink()
    result = coderev("scan", str(project), "--no-model")
    assert result.returncode == 2
    assert "nothing was analysed: all 2 file(s) or folder(s) found were skipped" in result.stderr
    assert "latin1.py: skipped: not valid UTF-8" in result.stdout


def test_allow_skipped_lets_a_scan_of_only_skipped_files_pass(project: Path):
    (project / "pkg" / "app.py").unlink()
    (project / "pkg" / "safe.py").unlink()
    result = coderev("scan", str(project), "--no-model", "--allow-skipped")
    assert result.returncode == 0, result.stderr
    assert "nothing was analysed" not in result.stderr


def test_an_unreadable_scan_root_fails_unless_skipping_is_allowed(tmp_path: Path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text(VULNERABLE, encoding="utf-8")
    with locked(root) as prefix:
        failed = coderev("scan", str(root), "--format", "json", "--no-model", prefix=prefix)
        allowed = coderev("scan", str(root), "--format", "json", "--no-model", "--allow-skipped", prefix=prefix)
    assert failed.returncode == 2 and "skipped .: unreadable folder: Permission denied" in failed.stderr
    assert "nothing was analysed" in failed.stderr
    assert allowed.returncode == 0 and json.loads(allowed.stdout) == []


def test_clean_tree_exits_zero(tmp_path: Path):
    (tmp_path / "ok.py").write_text("print('hello')\n")
    result = coderev("scan", str(tmp_path), "--no-model")
    assert result.returncode == 0
    assert "0 findings" in result.stdout


def test_missing_path_is_a_usage_error_on_one_line(tmp_path: Path):
    result = coderev("scan", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no such file" in result.stderr


def test_sarif_report_is_written_to_output_file(project: Path, tmp_path: Path):
    out = tmp_path / "out" / "report.sarif"
    result = coderev("scan", str(project / "pkg"), "--format", "sarif", "--output", str(out), "--no-model")
    assert result.returncode == 1
    sarif = json.loads(out.read_text())
    [finding] = sarif["runs"][0]["results"]
    region = finding["locations"][0]["physicalLocation"]["region"]
    assert finding["ruleId"] == "deserialization.pickle-loads"
    assert (region["startLine"], region["startColumn"]) == (6, 12)
    assert finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py"


def test_single_file_scan_reports_the_file_name(project: Path):
    result = coderev("scan", str(project / "pkg" / "app.py"), "--format", "json", "--no-model")
    assert json.loads(result.stdout)[0]["path"] == "app.py"


def test_exclude_globs_from_pyproject_are_honoured(project: Path):
    (project / "pyproject.toml").write_text('[tool.coderev]\nexclude = ["pkg/**"]\n')
    (project / "ok.py").write_text("print('hello')\n")  # besides the two unreadable files, one is analysed
    result = coderev("scan", str(project), "--format", "json", "--no-model")
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_text_report_is_the_default(project: Path):
    result = coderev("scan", str(project / "pkg"), "--no-model")
    assert "app.py:6:12: high insecure-deserialization" in result.stdout


def test_version_prints_the_version_and_exits_zero():
    from ai_core import __version__

    result = coderev("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"coderev {__version__}"


def test_min_severity_drops_less_severe_findings(tmp_path: Path):
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    everything = json.loads(coderev("scan", str(tmp_path), "--format", "json", "--no-model").stdout)
    assert [row["severity"] for row in everything] == ["high"]
    critical = coderev("scan", str(tmp_path), "--format", "json", "--no-model", "--min-severity", "critical")
    assert critical.returncode == 0
    assert json.loads(critical.stdout) == []
    high = coderev("scan", str(tmp_path), "--format", "json", "--no-model", "--min-severity", "high")
    assert len(json.loads(high.stdout)) == 1


def test_min_confidence_drops_less_confident_findings(tmp_path: Path):
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    [row] = json.loads(coderev("scan", str(tmp_path), "--format", "json", "--no-model").stdout)
    above = coderev("scan", str(tmp_path), "--format", "json", "--no-model",
                    "--min-confidence", str(min(1.0, row["confidence"] + 0.01)))
    assert json.loads(above.stdout) == []
    at = coderev("scan", str(tmp_path), "--format", "json", "--no-model", "--min-confidence", str(row["confidence"]))
    assert len(json.loads(at.stdout)) == 1


def test_min_confidence_outside_zero_to_one_is_a_usage_error(tmp_path: Path):
    result = coderev("scan", str(tmp_path), "--min-confidence", "1.5")
    assert result.returncode == 2
    assert "--min-confidence" in result.stderr


def test_exit_zero_reports_findings_but_exits_zero(project: Path):
    result = coderev("scan", str(project / "pkg"), "--no-model", "--exit-zero")
    assert result.returncode == 0
    assert "insecure-deserialization" in result.stdout
