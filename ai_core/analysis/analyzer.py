"""The Analyzer: one document in, rule findings out (ai_core.model.review.Reviewer adds the model step)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ai_core.analysis.checks import default_registry
from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Registry
from ai_core.analysis.suppression import is_suppressed, suppressed_lines
from ai_core.analysis.templates.project import template_findings
from ai_core.analysis.tiers import demote_test_code, drop_offline_sinks, settle_tiers
from ai_core.config import Settings
from ai_core.files import is_migration, is_template, is_test_path
from ai_core.findings import Finding, VulnClass
from ai_core.parsing import ParsedDocument
from ai_core.timing import StageObserver, timed

log = logging.getLogger(__name__)


class Analyzer:
    """Runs every enabled check on a document, isolates their failures, filters the findings."""

    def __init__(
        self,
        settings: Settings | None = None,
        registry: Registry | None = None,
        project: object | None = None,
        observe: StageObserver | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.registry = registry or default_registry()
        self.project = project
        self.observe = observe
        """Told how long the "parse", "analysis" and "model" stages took (metrics)."""

    def analyze_text(self, text: str, path: str) -> list[Finding]:
        """Parse `text` and analyze it."""
        with timed(self.observe, "parse"):
            doc = ParsedDocument(text, path=path)
        return self.analyze(doc, path)

    def analyze(self, doc: ParsedDocument, path: str) -> list[Finding]:
        """Findings of `doc`, sorted by position; a failing check is logged and skipped."""
        settings = self.settings
        if is_template(path):  # an open template: its unsafe outputs (views are joined by `scan`)
            found = template_findings(path, doc.data.decode("utf-8", errors="replace"))
            return sort_findings(self._filter(doc, found)) if VulnClass.XSS in settings.enabled_classes else []
        if doc.unparsed:  # over the parse budget: nothing to analyse (scan reports it as skipped)
            return []
        ctx = AnalysisContext(doc=doc, path=path, settings=settings, project=self.project)
        findings: list[Finding] = []
        with timed(self.observe, "analysis"):
            for check in self.registry.checks:
                if not (check.classes & settings.enabled_classes):
                    continue
                try:
                    findings.extend(check.run(ctx))
                except Exception:  # one broken check never stops the others
                    log.exception("check %s failed on %s", check.name, path)
            roots = getattr(self.project, "roots", ())
            findings = demote_test_code(settle_tiers(_dedupe(findings)), is_test_path(path, roots))
            findings = drop_offline_sinks(findings, is_migration(path, doc.data))
            return sort_findings(self._filter(doc, findings))

    def _filter(self, doc: ParsedDocument, findings: Iterable[Finding]) -> list[Finding]:
        settings = self.settings
        suppressed = suppressed_lines(doc, settings.honour_nosec)
        return [
            f
            for f in findings
            if f.vuln_class in settings.enabled_classes
            and f.tier in settings.tiers
            and f.severity >= settings.min_severity
            and f.confidence >= settings.min_confidence
            and not is_suppressed(f, suppressed)
        ]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in document order (then class and rule), the order every report and client sees."""
    return sorted(findings, key=lambda f: (f.span.start_byte, f.vuln_class.value, f.rule))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, int, str]] = set()
    unique: list[Finding] = []
    for f in findings:
        key = (f.vuln_class.value, f.span.start_byte, f.span.end_byte, f.rule)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique
