"""SARIF 2.1.0: valid against the official schema, shaped as GitHub code scanning takes it, paths as code flows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ai_core.findings import Finding, Severity, Span, VulnClass
from ai_core.report.report_items import Report, items_of
from ai_core.report.sarif import sarif_log

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
SECRET = "sk_live_4f9a8b7c6d5e4f3a2b1c0d9e"
APP = f'''"""A small Flask app with known problems (test fixture)."""

import sqlite3
import subprocess

from flask import Flask, request

app = Flask(__name__)
API_TOKEN = "{SECRET}"


@app.route("/user")
def user():
    name = request.args.get("name")
    query = "SELECT * FROM users WHERE name = '" + name + "'"
    db = sqlite3.connect("app.db")
    return str(db.execute(query).fetchall())


@app.route("/run")
def run():
    cmd = request.args.get("cmd")
    return subprocess.check_output(cmd, shell=True)  # coderev: ignore[command-injection] reviewed: admin only
'''


def coderev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The fixture app and its SARIF log (one real scan, with fixes and suppressions)."""
    root = tmp_path_factory.mktemp("sarif-app")
    (root / "app.py").write_text(APP, encoding="utf-8")
    out = root / "report.sarif"
    done = coderev("scan", str(root), "--format", "sarif", "-o", str(out), "--no-model")
    assert done.returncode == 1, done.stderr
    return root, json.loads(out.read_text(encoding="utf-8"))


def results_by_rule(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in log["runs"][0]["results"]}


def test_log_validates_against_the_official_sarif_2_1_0_schema(scanned):
    _, log = scanned
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0"


def test_log_has_the_fields_github_code_scanning_requires(scanned):
    _, log = scanned
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "coderev" and driver["version"]
    rules = driver["rules"]
    assert len({rule["id"] for rule in rules}) == len(rules)
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        tags = rule["properties"]["tags"]
        assert len(tags) <= 20 and any(re.fullmatch(r"external/cwe/cwe-\d+", t) for t in tags)
        assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert result["level"] in {"error", "warning", "note", "none"}
        [location] = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and "\\" not in uri
        assert physical["region"]["startLine"] >= 1 and physical["region"]["startColumn"] >= 1
        assert result["partialFingerprints"]["coderev/v1"]
        assert len(result.get("relatedLocations", [])) <= 1000


def test_taint_path_is_a_code_flow_with_every_step(scanned):
    _, log = scanned
    sql = results_by_rule(log)["sql.dbapi-execute"]
    [flow] = sql["codeFlows"]
    [thread] = flow["threadFlows"]
    steps = [(s["location"]["physicalLocation"]["region"]["startLine"], s["location"]["message"]["text"])
             for s in thread["locations"]]
    assert steps == [(14, "source: request.args"), (14, "assigned to name"), (15, "assigned to query"),
                     (17, "sink: db.execute (sql-injection)")]
    assert thread["locations"][0]["kinds"] == ["source"] and thread["locations"][-1]["kinds"] == ["sink"]
    assert [r["id"] for r in sql["relatedLocations"]] == [1, 2, 3, 4]


def test_verified_fix_replacements_rebuild_the_fixed_file(scanned):
    _, log = scanned
    [fix] = results_by_rule(log)["sql.dbapi-execute"]["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "app.py"
    lines = APP.splitlines(keepends=True)

    def offset(line: int, column: int) -> int:
        return sum(len(text) for text in lines[: line - 1]) + column - 1

    text = APP
    for replacement in sorted(change["replacements"], key=lambda r: -offset(
            r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"])):
        region = replacement["deletedRegion"]
        start = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        text = text[:start] + replacement["insertedContent"]["text"] + text[end:]
    assert 'query = "SELECT * FROM users WHERE name = ?"' in text
    assert "db.execute(query, (name,))" in text


def test_suppressed_finding_is_reported_as_a_sarif_suppression(scanned):
    _, log = scanned
    command = results_by_rule(log)["command.subprocess-shell"]
    [suppression] = command["suppressions"]
    assert suppression["kind"] == "inSource"
    assert "reviewed: admin only" in suppression["justification"]
    assert "fixes" not in command


def test_unsuppressed_twin_carries_no_suppression(scanned):
    _, log = scanned
    assert "suppressions" not in results_by_rule(log)["sql.dbapi-execute"]


def test_rule_help_has_the_vulnerable_and_fixed_example_and_the_cwe_tag(scanned):
    _, log = scanned
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    sql = rules["sql.dbapi-execute"]
    markdown = sql["help"]["markdown"]
    assert "### Vulnerable" in markdown and "### Fixed" in markdown and "```python" in markdown
    assert "Vulnerable:" in sql["help"]["text"] and "Fixed:" in sql["help"]["text"]
    assert "external/cwe/cwe-89" in sql["properties"]["tags"]
    assert sql["properties"]["security-severity"] == "8.0"


def test_hardcoded_secret_is_masked_in_the_log(scanned):
    root, log = scanned
    text = (root / "report.sarif").read_text(encoding="utf-8")
    assert SECRET not in text
    assert "secret.hardcoded-credential" in results_by_rule(log)


def test_partial_fingerprints_are_the_baseline_fingerprints(scanned, tmp_path: Path):
    root, log = scanned
    out = tmp_path / "baseline.json"
    assert coderev("baseline", str(root), "-o", str(out), "--no-model").returncode == 0
    recorded = {row["fingerprint"] for row in json.loads(out.read_text())["findings"]}
    active = {r["partialFingerprints"]["coderev/v1"] for r in log["runs"][0]["results"] if "suppressions" not in r}
    assert active == recorded


def _model_only(vuln_class: VulnClass, line: int) -> Finding:
    span = Span(line * 20, line * 20 + 10, line, 0, line, 10)
    return Finding(vuln_class, "model.function-level", f"possible {vuln_class.value}", "m.py", span,
                   Severity.MEDIUM, 0.7, model_only=True)


def test_model_only_findings_of_two_classes_get_two_rules_with_their_own_cwe():
    text = "\n".join(f"def f{i}(x):\n    return x" for i in range(10)) + "\n"
    findings = [_model_only(VulnClass.SQL_INJECTION, 0), _model_only(VulnClass.PATH_TRAVERSAL, 2)]
    report = Report(root="/tmp", items=items_of(findings, text), texts={"m.py": text})
    run = sarif_log(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["model.function-level.sql-injection",
                                              "model.function-level.path-traversal"]
    assert "external/cwe/cwe-89" in rules[0]["properties"]["tags"]
    assert "external/cwe/cwe-22" in rules[1]["properties"]["tags"]
    assert [r["properties"]["cwe"] for r in run["results"]] == ["CWE-89", "CWE-22"]
    assert [rules[r["ruleIndex"]]["id"] for r in run["results"]] == [r["ruleId"] for r in run["results"]]


def test_result_message_links_the_source_and_sink_related_locations(scanned):
    _, log = scanned
    sql = results_by_rule(log)["sql.dbapi-execute"]
    assert sql["message"]["text"].endswith("Path: [source: request.args](1) -> [sink: db.execute (sql-injection)](4).")


def test_empty_and_model_only_logs_validate_too():
    text = "def f(x):\n    return x\n"
    model_only = Report(root="/tmp", items=items_of([_model_only(VulnClass.SSRF, 0)], text), texts={"m.py": text})
    for report in (Report(root="/tmp"), model_only):
        jsonschema.Draft4Validator(SCHEMA).validate(sarif_log(report))


def test_no_fixes_leaves_out_fixes_and_suppressed_findings(scanned, tmp_path: Path):
    root, _ = scanned
    out = tmp_path / "plain.sarif"
    assert coderev("scan", str(root / "app.py"), "--format", "sarif", "-o", str(out), "--no-model",
                   "--no-fixes").returncode == 1
    results = json.loads(out.read_text())["runs"][0]["results"]
    assert results and not any("fixes" in r or "suppressions" in r for r in results)
    assert "command.subprocess-shell" not in {r["ruleId"] for r in results}


DB = '''import sqlite3


def find_user(name):
    conn = sqlite3.connect("app.db")
    return conn.execute("SELECT * FROM users WHERE name = '" + name + "'").fetchall()
'''
VIEWS = '''from flask import Flask, request

from db import find_user

app = Flask(__name__)


@app.route("/user")
def user():
    return str(find_user(request.args.get("name")))
'''


def test_cross_file_flow_has_steps_in_both_files_and_a_fix_in_the_sink_file(tmp_path: Path):
    (tmp_path / "db.py").write_text(DB, encoding="utf-8")
    (tmp_path / "views.py").write_text(VIEWS, encoding="utf-8")
    out = tmp_path / "report.sarif"
    assert coderev("scan", str(tmp_path), "--format", "sarif", "-o", str(out), "--no-model").returncode == 1
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [result] = log["runs"][0]["results"]
    steps = [(s["location"]["physicalLocation"]["artifactLocation"]["uri"],
              s["location"]["physicalLocation"]["region"]["startLine"])
             for s in result["codeFlows"][0]["threadFlows"][0]["locations"]]
    assert steps[0] == ("views.py", 10) and steps[-1] == ("db.py", 6)
    [fix] = result["fixes"]
    assert [change["artifactLocation"]["uri"] for change in fix["artifactChanges"]] == ["db.py"]
