"""HTML report: one self-contained page (inline CSS, JS and SVG, no network) rendered from a jinja2 template."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from ai_core import __version__
from ai_core.findings import Severity
from ai_core.report.report_items import Item, Report, as_report
from ai_core.report.rulehelp import rule_help
from ai_core.scan import ScanResult

TEMPLATE = "report.html.j2"
SEVERITIES = [s.name.lower() for s in sorted(Severity, reverse=True)]
TIERS = [("flow", "proven flow"), ("review", "review"), ("model", "model only")]
"""A finding's tier: a taint path from untrusted input, a rule without one, or the model alone."""
CONTEXT_LINES = 2
MAX_EXCERPT_LINES = 30
_CHART = {"label": 210, "bar": 560, "row": 22}


def tier_of(item: Item) -> str:
    """'flow', 'review' or 'model'."""
    if item.finding.model_only:
        return "model"
    return "flow" if item.finding.taint_path is not None and item.finding.taint_path.steps else "review"


def _excerpt(report: Report, item: Item) -> list[tuple[int, str, bool]]:
    """(1-based line number, text, flagged) around the finding, secrets masked."""
    text = report.texts.get(item.finding.path, "")
    if not text:
        return []
    lines = report.mask(text).splitlines()
    span = item.finding.span
    last = min(span.end_line, span.start_line + MAX_EXCERPT_LINES - 1)
    first, end = max(0, span.start_line - CONTEXT_LINES), min(len(lines), last + CONTEXT_LINES + 1)
    return [(i + 1, lines[i], span.start_line <= i <= span.end_line) for i in range(first, end)]


def _diff_lines(diff: str) -> list[tuple[str, str]]:
    kinds = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kinds.append(("file", line))
        elif line.startswith("@@"):
            kinds.append(("hunk", line))
        elif line.startswith("+"):
            kinds.append(("add", line))
        elif line.startswith("-"):
            kinds.append(("del", line))
        else:
            kinds.append(("ctx", line))
    return kinds


def _finding(report: Report, item: Item, number: int) -> dict[str, Any]:
    f = item.finding
    helped = rule_help(f.vuln_class, f.rule, f.cwe)
    steps: list[dict[str, Any]] = [{"label": s.label, "path": s.path or f.path, "line": s.span.start_line + 1}
                                   for s in (f.taint_path.steps if f.taint_path is not None else ())]
    tier = tier_of(item)
    return {
        "anchor": f"finding-{number}", "vuln_class": f.vuln_class.value, "title": f.vuln_class.title,
        "severity": f.severity.name.lower(), "tier": tier, "tier_label": dict(TIERS)[tier], "cwe": f.cwe,
        "rule": f.rule, "path": f.path, "line": f.span.start_line + 1, "column": item.column,
        "confidence": f.confidence, "message": f.message, "suppression": item.suppression,
        "excerpt": _excerpt(report, item), "steps": steps, "why": helped.why, "reason": helped.reason,
        "fix": {"title": item.fix.title, "lines": _diff_lines(report.mask(item.fix.diff))} if item.fix else None,
        "search": " ".join([f.path, f.rule, f.message, f.vuln_class.value, *(str(s["label"]) for s in steps)]).lower(),
    }


def _chart(items: list[Item]) -> dict[str, Any]:
    """Bars per class, stacked by severity, laid out for an inline SVG."""
    counts: dict[str, Counter[str]] = {}
    for item in items:
        counts.setdefault(item.finding.vuln_class.value, Counter())[item.finding.severity.name.lower()] += 1
    biggest = max((sum(c.values()) for c in counts.values()), default=1)
    scale = _CHART["bar"] / biggest
    bars = []
    titles = {item.finding.vuln_class.value: item.finding.vuln_class.title for item in items}
    for row, (vuln_class, by_severity) in enumerate(sorted(counts.items(), key=lambda kv: -sum(kv[1].values()))):
        x = float(_CHART["label"])
        segments = []
        for severity in SEVERITIES:
            if by_severity[severity]:
                width = max(2.0, by_severity[severity] * scale)
                segments.append({"severity": severity, "x": round(x, 1), "width": round(width, 1),
                                 "count": by_severity[severity]})
                x += width
        bars.append({"vuln_class": vuln_class, "title": titles[vuln_class], "y": row * _CHART["row"],
                     "segments": segments, "total": sum(by_severity.values()), "end": round(x, 1)})
    return {"bars": bars, "width": _CHART["label"] + _CHART["bar"] + 50,
            "height": max(24, len(bars) * _CHART["row"] + 4)}


_BACKTICKS = re.compile(r"`([^`]+)`")


def inline_code(text: str) -> Markup:
    """Escaped text with `backticked` spans as <code> (the spec's reasons are written that way)."""
    return Markup(_BACKTICKS.sub(r"<code>\1</code>", str(escape(text))))


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("ai_core.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["inline_code"] = inline_code
    return env


def to_html(source: Report | ScanResult) -> str:
    """The HTML report."""
    report = as_report(source)
    active = report.active
    classes = Counter(item.finding.vuln_class for item in report.items)
    severity_counts = Counter(item.finding.severity.name.lower() for item in active)
    hidden = ", ".join(f"{n} hidden by {reason}" for reason, n in sorted(report.hidden.items()) if n)
    summary = (f"{len(active)} finding{'s' if len(active) != 1 else ''} in {report.files} files "
               f"({report.lines} lines, {len(report.skipped)} skipped)" + (f"; {hidden}" if hidden else ""))
    context = {
        "version": __version__, "root_name": Path(report.root).name or report.root, "summary_line": summary,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "chart": _chart(active),
        "severities": SEVERITIES, "severity_counts": severity_counts, "tiers": TIERS,
        "classes": [{"id": c.value, "title": c.title, "count": n} for c, n in sorted(classes.items())],
        "suppressed_count": len(report.items) - len(active),
        "findings": [_finding(report, item, number) for number, item in enumerate(report.items, 1)],
    }
    return _environment().get_template(TEMPLATE).render(context)
