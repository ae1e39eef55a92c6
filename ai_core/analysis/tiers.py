"""Finding tiers: a proven flow hides the review finding of the same sink; test code is review tier at most;
migrations report no sink without a proven source."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ai_core.analysis.specs.spec_types import INJECTION_CLASSES
from ai_core.findings import REVIEW_SUFFIX, Finding, Severity

REVIEW_CONFIDENCE_FACTOR = 0.5
"""A review finding's prior confidence is its rule's times this."""


def review_severity(severity: Severity) -> Severity:
    """One step below a rule's severity, at most medium, at least low."""
    return Severity(max(Severity.LOW, min(severity - 1, Severity.MEDIUM)))


def as_review(finding: Finding) -> Finding:
    """The same finding in the review tier: `.review` rule id, one severity step lower, less confident."""
    if finding.tier == "review":
        return finding
    return dataclasses.replace(
        finding, tier="review", rule=finding.rule + REVIEW_SUFFIX, severity=review_severity(finding.severity),
        confidence=round(finding.confidence * REVIEW_CONFIDENCE_FACTOR, 3))


FIXTURE_SECRET_RULES = frozenset({"secret.hardcoded-password", "secret.seeded-credentials", "secret.weak-signing-key"})
"""Secrets judged by their name only: in test code they are fixture credentials for a throwaway database or
app, not secrets (a known token format or a key literal in a test is still reported, in the review tier)."""


def demote_test_code(findings: Iterable[Finding], is_test: bool) -> list[Finding]:
    """Test code is not production: in a test file every finding is review tier at most, and fixture passwords
    and keys are not findings."""
    if not is_test:
        return list(findings)
    return [as_review(f) for f in findings if f.rule.removesuffix(REVIEW_SUFFIX) not in FIXTURE_SECRET_RULES]


def drop_offline_sinks(findings: Iterable[Finding], is_migration: bool) -> list[Finding]:
    """A migration runs once, by the operator, over the app's own database: a sink there without a proven
    untrusted source (unpickling its own legacy rows, raw SQL of its own) is not reported."""
    if not is_migration:
        return list(findings)
    return [f for f in findings if f.vuln_class not in INJECTION_CLASSES or (f.taint_path is not None
            and f.tier != "review")]


def settle_tiers(findings: Iterable[Finding]) -> list[Finding]:
    """Drop review findings whose sink a flow finding also reaches (at its own site or as its path's last step),
    so a sink is never reported in both tiers."""
    items = list(findings)
    proven: set[tuple[str, int, int, str]] = set()
    for f in items:
        if f.tier == "review":
            continue
        proven.add((f.path, f.span.start_byte, f.span.end_byte, f.rule))
        if f.taint_path is not None:
            sink = f.taint_path.sink
            proven.add((sink.path, sink.span.start_byte, sink.span.end_byte, f.rule))
    if not proven:
        return items
    return [f for f in items if f.tier != "review"
            or (f.path, f.span.start_byte, f.span.end_byte, f.rule.removesuffix(REVIEW_SUFFIX)) not in proven]

