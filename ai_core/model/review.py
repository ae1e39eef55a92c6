"""The Reviewer: rules, then the model's judgement; the one analysis path of both the CLI scan and the editor."""

from __future__ import annotations

from collections.abc import Sequence

from ai_core.analysis.analyzer import Analyzer, sort_findings
from ai_core.analysis.rules import Registry
from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.model.scoring import ModelJob, Scorer, model_job, score_jobs
from ai_core.parsing import ParsedDocument
from ai_core.timing import StageObserver, timed


class Reviewer(Analyzer):
    """An Analyzer whose findings the model re-scores (when a scorer is given and the model is enabled)."""

    def __init__(
        self,
        settings: Settings | None = None,
        registry: Registry | None = None,
        scorer: Scorer | None = None,
        project: object | None = None,
        observe: StageObserver | None = None,
    ) -> None:
        super().__init__(settings, registry=registry, project=project, observe=observe)
        self.scorer = scorer

    def analyze(self, doc: ParsedDocument, path: str) -> list[Finding]:
        """Rule findings of `doc`, scored by the model, sorted by position."""
        return self.score([(doc, super().analyze(doc, path), path)])[0]

    def score(self, documents: Sequence[tuple[ParsedDocument, Sequence[Finding], str]]) -> list[list[Finding]]:
        """The model step for (document, rule findings, path) triples, all in one batch; rules alone without it."""
        settings = self.settings
        if self.scorer is None or not settings.model_enabled:
            return [list(findings) for _, findings, _ in documents]
        wanted = [i for i, (_, findings, _) in enumerate(documents) if findings or settings.model_function_level]
        out = [list(findings) for _, findings, _ in documents]
        with timed(self.observe, "model"):
            scored = self.score_jobs([model_job(*documents[i], settings) for i in wanted])
        for i, findings in zip(wanted, scored, strict=True):
            out[i] = findings
        return out

    def score_jobs(self, jobs: Sequence[ModelJob]) -> list[list[Finding]]:
        """The model step for prepared jobs (scoring.model_job), in one batch, each job's findings sorted."""
        if self.scorer is None or not self.settings.model_enabled:
            return [list(job.findings) for job in jobs]
        return [sort_findings(findings) for findings in score_jobs(self.scorer, jobs, self.settings)]
