"""Reviewed real code: the engine's candidates on real open-source web apps, each read and labelled by us (vuln or
safe, with a reason), as training data in the exact form the scan gives the model.

The projects (pinned by commit, never the held-out suites nor bench/realworld's) and labels live in
`reviewed/`; the code itself is exported from a local mirror by the bench (bench/model_real.py build), and
each project goes to one split (`project_split` of "reviewed:<name>").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ai_core.findings import REVIEW_SUFFIX, SAFE_LABEL, Finding
from ai_core.model.candidates import Candidate
from ai_core.model.data.generator import Example
from ai_core.model.data.mutations import project_split

FOLDER = Path(__file__).resolve().parent / "reviewed"
PROJECTS_FILE = "projects.json"
LINE_SLACK = 2
"""A label still names its finding when the engine moved the finding's line by at most this much."""
VIEW = "reviewed"


@dataclass(frozen=True)
class ReviewLabel:
    """One finding we read: where, which class and rule, and our verdict."""

    path: str
    line: int
    vuln_class: str
    rule: str
    vulnerable: bool
    reason: str


@dataclass(frozen=True)
class ReviewedProject:
    """A real project pinned at a commit, the folders of it that were scanned, and our labels."""

    name: str
    repo: str
    commit: str
    subdirs: tuple[str, ...]
    labels: tuple[ReviewLabel, ...]

    @property
    def split(self) -> str:
        """train, val or test: the whole project goes to one."""
        return project_split(f"reviewed:{self.name}")


def load_projects(folder: Path = FOLDER) -> list[ReviewedProject]:
    """Every reviewed project with its labels (`projects.json` and `<name>.jsonl` in `folder`)."""
    out = []
    for row in json.loads((folder / PROJECTS_FILE).read_text(encoding="utf-8")):
        labels = []
        for line in (folder / f"{row['name']}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                labels.append(ReviewLabel(item["path"], int(item["line"]), item["class"], item.get("rule", ""),
                                          item["label"] == "vuln", item.get("reason", "")))
        out.append(ReviewedProject(row["name"], row["repo"], row["commit"], tuple(row["subdirs"]), tuple(labels)))
    return out


def _base_rule(rule: str) -> str:
    return rule.removesuffix(REVIEW_SUFFIX)


def label_of(finding: Finding, labels: Sequence[ReviewLabel]) -> ReviewLabel | None:
    """Our label for an engine finding: same file, class and rule (either tier), nearest line within LINE_SLACK."""
    line = finding.span.start_line + 1
    near = [label for label in labels if label.path == finding.path and label.vuln_class == finding.vuln_class.value
            and (not label.rule or _base_rule(label.rule) == _base_rule(finding.rule))
            and abs(label.line - line) <= LINE_SLACK]
    return min(near, key=lambda label: abs(label.line - line)) if near else None


def examples_of(project: ReviewedProject, candidates: Iterable[Candidate]) -> list[Example]:
    """The labelled candidates of one project as examples (unlabelled candidates are left out)."""
    out = []
    for candidate in candidates:
        if candidate.finding is None:
            continue
        label = label_of(candidate.finding, project.labels)
        if label is None:
            continue
        out.append(Example(candidate.render(evidence=True), label.vuln_class if label.vulnerable else SAFE_LABEL,
                           f"reviewed:{project.name}", VIEW, candidate.finding.confidence))
    return out
