"""What the model's scores do to findings: confidence, dropping what it judges safe, function-level findings."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ai_core.analysis.specs.spec_types import INJECTION_CLASSES
from ai_core.config import Settings
from ai_core.findings import SAFE_LABEL, Finding, Severity, VulnClass
from ai_core.model.calibration import IDENTITY, Calibration
from ai_core.model.candidates import Candidate, candidate_for, document_context, function_candidates
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

FUNCTION_LEVEL_RULE = "model.function-level"
FUNCTION_LEVEL_SEVERITY = Severity.LOW
REQUEST_FLOW_FLOOR = 0.5
"""A proven flow from a request to a sink never reads below this confidence, whatever the model says."""
REQUEST_SOURCE = re.compile(r"source: (?:request\.|route variable |request parameter |self\.kwargs)")
"""Taint-path source labels of client data (ai_core.analysis.specs.sources and taint.frameworks name them so)."""


@dataclass(frozen=True, slots=True)
class Score:
    """The model's judgement: its most likely label and the probability of each label."""

    label: str
    confidence: float
    probabilities: dict[str, float]


class Scorer(Protocol):
    """Anything that judges candidates in batches (the LoRA classifier implements this)."""

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        """One Score per candidate, in order."""
        ...


def request_flow(finding: Finding) -> bool:
    """True for a proven flow (tier "flow": a taint path) whose path starts at client data of a request."""
    path = finding.taint_path
    return not finding.model_only and path is not None and bool(path.steps) \
        and REQUEST_SOURCE.match(path.steps[0].label) is not None


def apply_scores(findings: Sequence[Finding], scores: Sequence[Score], settings: Settings, path: str = "",
                 calibration: Calibration = IDENTITY) -> list[Finding]:
    """Give each rule finding the model's calibrated P(vulnerable) as confidence; drop (or demote, with
    show_model_dropped) the safe ones. A proven request flow reads at least REQUEST_FLOW_FLOOR (only an explicit
    model_threshold below 1 drops it)."""
    kept: list[Finding] = []
    for finding, score in zip(findings, scores, strict=True):
        p_vulnerable = calibration.vulnerable(1.0 - score.probabilities.get(SAFE_LABEL, 0.0))
        p_safe = 1.0 - p_vulnerable
        confidence = round(min(1.0, max(0.0, p_vulnerable)), 3)
        if request_flow(finding):
            confidence = max(confidence, REQUEST_FLOW_FLOOR)
        if settings.model_threshold < 1.0 and p_safe >= settings.model_threshold:
            log.info("model judged %s at %s:%d safe (p=%.2f)%s", finding.rule, path or finding.path,
                     finding.span.start_line + 1, p_safe, "; shown as a hint" if settings.show_model_dropped else "")
            if settings.show_model_dropped:
                kept.append(dataclasses.replace(
                    finding, confidence=confidence, severity=Severity.INFO,
                    message=f"{finding.message} (the model judged this safe, p={p_safe:.2f})"))
            continue
        kept.append(dataclasses.replace(finding, confidence=confidence))
    return kept


def model_only_findings(candidates: Sequence[Candidate], scores: Sequence[Score], settings: Settings,
                        path: str) -> list[Finding]:
    """Findings for functions the model flags on its own (confident, not safe, class enabled)."""
    out: list[Finding] = []
    for candidate, score in zip(candidates, scores, strict=True):
        if score.label == SAFE_LABEL or score.confidence < settings.model_function_threshold:
            continue
        try:
            vuln_class = VulnClass(score.label)
        except ValueError:
            continue
        if vuln_class not in settings.enabled_classes or vuln_class not in settings.model_function_classes \
                or candidate.span is None:
            continue
        if vuln_class in INJECTION_CLASSES and not candidate.reads_input:
            # An injection needs untrusted input; a helper that only gets parameters is the taint engine's
            # job (it follows callers' data into it), and the model cannot see who calls it.
            log.debug("model's %s on %s() not reported: the function reads no untrusted input", vuln_class.value,
                      candidate.name)
            continue
        out.append(Finding(
            vuln_class=vuln_class, rule=FUNCTION_LEVEL_RULE, path=path, span=candidate.span,
            message=f"{vuln_class.title} likely in {candidate.name}() (model, p={score.confidence:.2f}; "
                    "no rule fired)",
            severity=FUNCTION_LEVEL_SEVERITY, confidence=round(score.confidence, 3), model_only=True,
            snippet=candidate.code.split("\n", 1)[0]))
    return out


@dataclass(frozen=True, slots=True)
class ModelJob:
    """One document's part of a batch: its rule findings and what the model reads for them (and its functions)."""

    path: str
    findings: Sequence[Finding]
    rules: list[Candidate]
    functions: list[Candidate]


def model_job(doc: ParsedDocument, findings: Sequence[Finding], path: str, settings: Settings) -> ModelJob:
    """The candidates of one document: a rule candidate per finding, function-level ones when that mode is on."""
    context = document_context(doc, findings[0].path or doc.path or "") if findings else None  # one path per file
    rules = [candidate_for(doc, f, context) for f in findings]
    functions = function_candidates(doc, findings) if settings.model_function_level else []
    return ModelJob(path, findings, rules, functions)


def score_jobs(scorer: Scorer, jobs: Sequence[ModelJob], settings: Settings) -> list[list[Finding]]:
    """Every job's candidates scored in one batch, then applied; when the model fails, every job keeps its rules.

    Rule findings get the scorer's `calibration` (fitted on rule candidates); function-level scores stay raw.
    """
    batch = [c for job in jobs for c in (*job.rules, *job.functions)]
    if not batch:
        return [list(job.findings) for job in jobs]
    try:
        scores = scorer.score(batch)
    except Exception:
        log.exception("model scoring failed; keeping rule findings")
        return [list(job.findings) for job in jobs]
    calibration = getattr(scorer, "calibration", None) or IDENTITY  # after scoring: a model loaded on the way
    out: list[list[Finding]] = []
    at = 0
    for job in jobs:
        rule_scores, at = scores[at: at + len(job.rules)], at + len(job.rules)
        function_scores, at = scores[at: at + len(job.functions)], at + len(job.functions)
        out.append(apply_scores(job.findings, rule_scores, settings, job.path, calibration)
                   + model_only_findings(job.functions, function_scores, settings, job.path))
    return out


def score_documents(scorer: Scorer, documents: Sequence[tuple[ParsedDocument, Sequence[Finding], str]],
                    settings: Settings) -> list[list[Finding]]:
    """Each (document, rule findings, path) re-scored by the model in one batch, plus function-level findings.

    A document without candidates keeps its findings; when the model fails, every document keeps its rules.
    """
    return score_jobs(scorer, [model_job(doc, findings, path, settings) for doc, findings, path in documents],
                      settings)
