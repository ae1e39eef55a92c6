"""The Analyzer: one document in, findings out; the CLI and the server both call it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from ai_core.analysis.candidates import Scorer, candidate_for
from ai_core.analysis.checks import default_registry
from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Registry
from ai_core.analysis.suppression import is_suppressed, suppressed_lines
from ai_core.config import Settings
from ai_core.findings import SAFE_LABEL, Finding
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)


class Analyzer:
    """Runs every enabled check on a document, isolates their failures, filters and scores the findings."""

    def __init__(
        self,
        settings: Settings | None = None,
        registry: Registry | None = None,
        scorer: Scorer | None = None,
        project: object | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.registry = registry or default_registry()
        self.scorer = scorer
        self.project = project

    def analyze_text(self, text: str, path: str) -> list[Finding]:
        """Parse `text` and analyse it."""
        return self.analyze(ParsedDocument(text, path=path), path)

    def analyze(self, doc: ParsedDocument, path: str) -> list[Finding]:
        """Findings of `doc`, sorted by position; a failing check is logged and skipped."""
        settings = self.settings
        ctx = AnalysisContext(doc=doc, path=path, settings=settings, project=self.project)
        findings: list[Finding] = []
        for check in self.registry.checks:
            if not (check.classes & settings.enabled_classes):
                continue
            try:
                findings.extend(check.run(ctx))
            except Exception:  # one broken check never stops the others
                log.exception("check %s failed on %s", check.name, path)
        findings = self._filter(doc, _dedupe(findings))
        if self.scorer is not None and settings.model_enabled and findings:
            findings = self._apply_model(doc, findings)
        return sorted(findings, key=lambda f: (f.span.start_byte, f.vuln_class.value, f.rule))

    def _filter(self, doc: ParsedDocument, findings: Iterable[Finding]) -> list[Finding]:
        settings = self.settings
        suppressed = suppressed_lines(doc, settings.honour_nosec)
        return [
            f
            for f in findings
            if f.vuln_class in settings.enabled_classes
            and f.severity >= settings.min_severity
            and f.confidence >= settings.min_confidence
            and not is_suppressed(f, suppressed)
        ]

    def _apply_model(self, doc: ParsedDocument, findings: list[Finding]) -> list[Finding]:
        """Re-score rule findings with the model; drop those it judges safe above the threshold."""
        assert self.scorer is not None
        try:
            scores = self.scorer.score([candidate_for(doc, f) for f in findings])
        except Exception:
            log.exception("model scoring failed on %s; keeping rule findings", doc.path)
            return findings
        kept: list[Finding] = []
        for finding, score in zip(findings, scores, strict=True):
            p_safe = score.probabilities.get(SAFE_LABEL, 0.0)
            if p_safe >= self.settings.model_threshold:
                log.info("model judged %s at %s:%d safe (p=%.2f)", finding.rule, doc.path,
                         finding.span.start_line + 1, p_safe)
                continue
            p_class = score.probabilities.get(finding.vuln_class.value, 0.0)
            confidence = round(min(1.0, max(0.0, (finding.confidence + p_class + (1 - p_safe)) / 3)), 3)
            kept.append(dataclasses.replace(finding, confidence=confidence))
        return kept


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, int, str]] = set()
    unique: list[Finding] = []
    for f in findings:
        key = (f.vuln_class.value, f.span.start_byte, f.span.end_byte, f.rule)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique
