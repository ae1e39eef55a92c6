"""Template findings of a project: unsafe outputs in templates, joined to the views that render them.

An unsafe output whose variable a view fills with request data is an XSS flow, reported at both ends: at the
template line (the view as taint step) and at the view's render call. An unsafe output no view is seen filling
with request data is reported in the review tier.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from ai_core.analysis.templates.renders import RenderedVariable, render_calls
from ai_core.analysis.templates.usages import KINDS, Usage, unsafe_usages
from ai_core.files import SourceError, read_source, relative
from ai_core.findings import Finding, Severity, Span, TaintPath, TaintStep, VulnClass
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

RULE_PREFIX = "xss.template-"
RENDER_RULE = "xss.template-render-unescaped"
FLOW_CONFIDENCE = 0.8
REVIEW_CONFIDENCE = {"safe-filter": 0.45, "autoescape-off": 0.45, "script-variable": 0.35,
                     "unquoted-attribute": 0.35}


def usage_span(text: str, usage: Usage) -> Span:
    """The byte span of a usage (character offsets in `text`) with 0-based line and byte-column points."""
    start_byte = len(text[:usage.start].encode("utf-8"))
    end_byte = start_byte + len(text[usage.start:usage.end].encode("utf-8"))
    start_line = text.count("\n", 0, usage.start)
    end_line = text.count("\n", 0, usage.end)
    start_col = len(text[text.rfind("\n", 0, usage.start) + 1:usage.start].encode("utf-8"))
    end_col = len(text[text.rfind("\n", 0, usage.end) + 1:usage.end].encode("utf-8"))
    return Span(start_byte, end_byte, start_line, start_col, end_line, end_col)


def template_findings(rel: str, text: str, renders: Iterable[tuple[str, RenderedVariable]] = ()) -> list[Finding]:
    """Findings of one template: flows where a view (path, rendered variable) fills an unsafe output with request
    data, review findings for the other unsafe outputs but those every view fills with its own literal text."""
    by_variable: dict[str, list[tuple[str, RenderedVariable]]] = {}
    passed: dict[str, list[bool]] = {}
    for path, rendered in renders:
        passed.setdefault(rendered.variable, []).append(rendered.constant)
        if rendered.from_request:
            by_variable.setdefault(rendered.variable, []).append((path, rendered))
    findings: list[Finding] = []
    for usage in unsafe_usages(text, rel):
        if usage.variable and all(passed.get(usage.variable, [False])):
            continue  # every view fills it with text the code wrote itself
        span = usage_span(text, usage)
        snippet = text[usage.start:usage.end]
        why = KINDS[usage.kind]
        views = by_variable.get(usage.variable, []) if usage.variable else []
        if views:
            path, rendered = views[0]
            steps = (*_view_steps(path, rendered), TaintStep(rel, span, f"sink: {snippet} (xss)"))
            findings.append(Finding(
                vuln_class=VulnClass.XSS, rule=RULE_PREFIX + usage.kind, path=rel, span=span,
                severity=Severity.HIGH, confidence=FLOW_CONFIDENCE, taint_path=TaintPath(steps), snippet=snippet,
                message=f"Cross-site scripting: request data rendered as '{usage.variable}' by {path} line "
                        f"{steps[0].span.start_line + 1} reaches {snippet}; {why}"))
        else:
            findings.append(Finding(
                vuln_class=VulnClass.XSS, rule=RULE_PREFIX + usage.kind + ".review", path=rel, span=span,
                severity=Severity.MEDIUM if usage.kind in {"safe-filter", "autoescape-off"} else Severity.LOW,
                confidence=REVIEW_CONFIDENCE[usage.kind], snippet=snippet, tier="review",
                message=f"Cross-site scripting (review): {snippet}: {why}; no view is seen filling it with "
                        "request data"))
    return findings


def render_findings(template: str, text: str, renders: Iterable[tuple[str, RenderedVariable]]
                    ) -> list[Finding]:
    """Findings at the views' render calls that fill an unsafe output of template `template` with request data."""
    usages = {u.variable: u for u in unsafe_usages(text, template) if u.variable}
    findings: list[Finding] = []
    for path, rendered in renders:
        usage = usages.get(rendered.variable)
        if usage is None or not rendered.from_request:
            continue
        span = usage_span(text, usage)
        steps = (*_view_steps(path, rendered),
                 TaintStep(template, span, f"sink: {text[usage.start:usage.end]} (xss)"))
        findings.append(Finding(
            vuln_class=VulnClass.XSS, rule=RENDER_RULE, path=path, span=Span.of_node(rendered.call),
            severity=Severity.HIGH, confidence=FLOW_CONFIDENCE, taint_path=TaintPath(steps),
            snippet=(rendered.call.text or b"").decode("utf-8", errors="replace"),
            message=f"Cross-site scripting: request data passed as '{rendered.variable}' to {rendered.template} "
                    f"is output unescaped at {template} line {span.start_line + 1} ({KINDS[usage.kind]})"))
    return findings


def _view_steps(path: str, rendered: RenderedVariable) -> tuple[TaintStep, ...]:
    source = rendered.source if rendered.source is not None else rendered.value
    return (TaintStep(path, Span.of_node(source), f"source: request data for {rendered.variable}"),
            TaintStep(path, Span.of_node(rendered.call), f"rendered into {rendered.template}"))


def project_template_findings(root: Path, templates: list[tuple[str, str]], python_files: Iterable[Path],
                              max_bytes: int) -> dict[str, list[Finding]]:
    """Findings per relative path for the project's templates (rel path, text) and the views that render them."""
    unsafe = {rel: text for rel, text in templates if unsafe_usages(text, rel)}
    result: dict[str, list[Finding]] = {}
    if not unsafe:
        return result
    names = {_template_name(rel) for rel in unsafe} | {rel.rsplit("/", 1)[-1] for rel in unsafe}
    words = {name.rsplit("/", 1)[-1].encode() for name in names}
    renders: dict[str, list[tuple[str, RenderedVariable]]] = {}
    for path in python_files:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if not any(word in raw for word in words):
            continue
        try:
            text = read_source(path, max_bytes)
        except SourceError:
            continue
        rel_py = relative(path, root)
        for rendered in render_calls(ParsedDocument(text, path=rel_py), names):
            for template_rel in unsafe:
                if _names_template(template_rel, rendered.template):
                    renders.setdefault(template_rel, []).append((rel_py, rendered))
    for rel, text in unsafe.items():
        views = renders.get(rel, [])
        result.setdefault(rel, []).extend(template_findings(rel, text, views))
        for view_path, found in _by_path(render_findings(rel, text, views)).items():
            result.setdefault(view_path, []).extend(found)
    return result


def _by_path(findings: list[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.path, []).append(finding)
    return grouped


def _template_name(rel: str) -> str:
    """The name a view uses for a template: its path below a `templates/` folder, else its file name."""
    marker = "templates/"
    index = rel.rfind(marker)
    return rel[index + len(marker):] if index >= 0 else rel.rsplit("/", 1)[-1]


def _names_template(rel: str, name: str) -> bool:
    return rel == name or rel.endswith("/" + name) or _template_name(rel) == name
