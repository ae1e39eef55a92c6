"""Reviewed real code as training data: our labels name the engine's findings, and become examples as the scan
renders them."""

from __future__ import annotations

import json
from pathlib import Path

from ai_core.findings import SAFE_LABEL, Finding, Severity, Span, VulnClass
from ai_core.model.candidates import Candidate
from ai_core.model.data import reviewed
from ai_core.model.data.dataset import source_of
from ai_core.model.data.reviewed import ReviewedProject, ReviewLabel, examples_of, label_of, load_projects

HELD_OUT = {"semgrep-rules", "bandit", "securityeval", "benchmarkpython", "realvuln", "vulpy", "dvpwa", "pygoat"}
EVALUATION = {"pyload", "changedetection.io", "calibre-web", "archivy", "django-helpdesk", "mealie", "gitpython",
              "pgadmin4"}


def finding(line: int, rule: str = "sql.dbapi-execute", vuln_class: VulnClass = VulnClass.SQL_INJECTION,
            path: str = "app/views.py") -> Finding:
    return Finding(vuln_class, rule, "m", path, Span(0, 1, line - 1, 0, line - 1, 1), Severity.HIGH, 0.8)


def labels(*rows: tuple[int, bool]) -> tuple[ReviewLabel, ...]:
    return tuple(ReviewLabel("app/views.py", line, "sql-injection", "sql.dbapi-execute", vulnerable, "r")
                 for line, vulnerable in rows)


def test_a_label_names_the_finding_on_its_line_or_the_nearest_within_two_lines():
    assert label_of(finding(10), labels((10, True))) is not None
    assert label_of(finding(12), labels((10, True), (13, False))).line == 13
    assert label_of(finding(13), labels((10, True))) is None


def test_a_label_names_the_same_rule_in_either_tier_but_not_another_class_or_file():
    assert label_of(finding(10, rule="sql.dbapi-execute.review"), labels((10, True))) is not None
    assert label_of(finding(10, rule="sql.sqlalchemy-text"), labels((10, True))) is None
    assert label_of(finding(10, vuln_class=VulnClass.XSS), labels((10, True))) is None
    assert label_of(finding(10, path="app/other.py"), labels((10, True))) is None


def test_labelled_candidates_become_examples_of_their_class_or_safe_and_unlabelled_ones_are_left_out():
    project = ReviewedProject("demo", "o/demo", "0" * 40, ("app",), labels((10, True), (20, False)))
    candidates = [Candidate(code=f"cursor.execute(q)  # {n}", finding=finding(n)) for n in (10, 20, 30)]
    vulnerable, safe = examples_of(project, candidates)
    assert (vulnerable.label, safe.label) == ("sql-injection", SAFE_LABEL)
    assert vulnerable.text.startswith("# evidence: tier=flow rule=sql.dbapi-execute class=sql-injection")
    assert vulnerable.view == "reviewed" and source_of(vulnerable) == "reviewed"
    assert vulnerable.rule_confidence == 0.8


def test_the_shipped_reviewed_projects_are_pinned_labelled_and_none_is_held_out_or_evaluated():
    projects = load_projects()
    assert len(projects) >= 5
    for project in projects:
        assert len(project.commit) == 40 and project.subdirs and project.labels
        assert project.split in {"train", "val", "test"}
        name = project.repo.split("/")[-1].lower()
        assert name not in HELD_OUT and name not in EVALUATION
        assert all(label.vuln_class and label.reason for label in project.labels)
    assert {p.split for p in projects} == {"train", "val", "test"}  # split by project, every split has one


def test_every_reviewed_labels_file_has_a_pinned_project():
    pinned = {row["name"] for row in json.loads((reviewed.FOLDER / reviewed.PROJECTS_FILE).read_text())}
    assert {path.stem for path in Path(reviewed.FOLDER).glob("*.jsonl")} == pinned
