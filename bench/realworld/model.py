"""The model on bench/realworld, in-process: each project's rule findings (the scan's candidates), scored by each
adapter through the scan's own scoring step, compared with rules alone on our labels.

Figures: label-level F1 (as bench/realworld scores tools) at each model threshold, ROC AUC of the confidence of
labelled findings (rules' prior vs the model's calibrated probability), and that confidence's ECE.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.model.metrics import expected_calibration_error, roc_auc
from ai_core.model.scoring import ModelJob, Scorer, score_jobs
from ai_core.scan import _model_job, scan_path
from bench.realworld.fetch import load_projects
from bench.realworld.peers import ToolFinding
from bench.realworld.scoring import Label, load_labels, match


@dataclass
class ProjectCandidates:
    """One project's rule findings: the model's jobs (Python files) and the findings it does not read (templates)."""

    name: str
    labels: list[Label]
    jobs: list[ModelJob]
    unscored: list[Finding]


def collect(projects: Sequence[str] = (), settings: Settings | None = None) -> list[ProjectCandidates]:
    """Rules alone on every exported project (or the named ones), with the model's input per file."""
    settings = dataclasses.replace(settings or Settings(), model_enabled=False)
    out = []
    for project in load_projects():
        if (projects and project.name not in projects) or not (project.folder / ".pinned").is_file():
            continue
        result = scan_path(project.folder, settings, workers=1)
        jobs, unscored = [], []
        for scanned in result.files:
            prepared = _model_job(scanned, Path(result.root), settings) if scanned.findings \
                and scanned.path.endswith(".py") else None
            if prepared is None:
                unscored += scanned.findings
            else:
                jobs.append(prepared[0])
        out.append(ProjectCandidates(project.name, load_labels(project.name), jobs, unscored))
    return out


def rules_only(project: ProjectCandidates) -> list[Finding]:
    """The project's findings as rules alone report them."""
    return [*(f for job in project.jobs for f in job.findings), *project.unscored]


def with_model(project: ProjectCandidates, scorer: Scorer, settings: Settings) -> list[Finding]:
    """The project's findings after the scan's model step (confidence, and drops at settings.model_threshold)."""
    scored = score_jobs(scorer, project.jobs, dataclasses.replace(settings, model_enabled=True))
    return [*(f for findings in scored for f in findings), *project.unscored]


def _located(finding: Finding) -> ToolFinding:
    return ToolFinding(finding.path, finding.span.start_line + 1, finding.span.end_line + 1,
                       finding.vuln_class.value, finding.rule, finding.tier)


@dataclass
class Tally:
    """Label-level counts and the (confidence, truth) of every labelled finding."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    confidence: list[float] = dataclasses.field(default_factory=list)
    truth: list[bool] = dataclasses.field(default_factory=list)

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def add(self, labels: Sequence[Label], findings: Sequence[Finding]) -> None:
        """Score one project's findings against its labels."""
        found: set[tuple[str, int, str]] = set()
        for finding in findings:
            hits = [label for label in labels if match(_located(finding), label)]
            if hits:
                self.confidence.append(finding.confidence)
                self.truth.append(any(h.vulnerable for h in hits))
            found.update((h.path, h.line, h.vuln_class) for h in hits)
        for label in labels:
            hit = (label.path, label.line, label.vuln_class) in found
            if label.vulnerable:
                self.tp += hit
                self.fn += not hit
            else:
                self.fp += hit

    def row(self) -> dict[str, Any]:
        """The figures of this tally."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "f1": round(self.f1, 3),
                "labelled_findings": len(self.truth), "auc": round(roc_auc(self.confidence, self.truth), 3),
                "ece": round(expected_calibration_error(self.confidence, self.truth, 10), 3)}
