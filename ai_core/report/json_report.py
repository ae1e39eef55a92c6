"""JSON report: a list of finding objects with 1-based lines and columns."""

from __future__ import annotations

import json
from typing import Any

from ai_core.findings import TaintStep
from ai_core.report.report_items import Item, Report, as_report
from ai_core.scan import ScanResult


def finding_record(item: Item) -> dict[str, Any]:
    """One finding as a plain dict (the JSON report's row); in a notebook, lines count within its "cell"."""
    finding = item.finding
    span = finding.span
    cell, line = item.cell_line(span.start_line)
    record: dict[str, Any] = {
        "path": finding.path,
        "line": line,
        "end_line": item.cell_line(span.end_line)[1],
        "column": item.column,
        "end_column": item.end_column,
        "class": finding.vuln_class.value,
        "cwe": finding.cwe,
        "severity": finding.severity.name.lower(),
        "confidence": round(finding.confidence, 3),
        "message": finding.message,
        "rule": finding.rule,
        "model_only": finding.model_only,
        "tier": finding.tier,
        "fingerprint": item.fingerprint,
    }
    if cell is not None:
        record["cell"] = cell
    if finding.taint_path:
        record["taint_path"] = [_step_record(item, step) for step in finding.taint_path.steps]
    return record


def _step_record(item: Item, step: TaintStep) -> dict[str, Any]:
    """One taint step; a step in the same notebook gets its cell and the line in that cell."""
    if step.path == item.finding.path and item.notebook is not None:
        cell, line = item.cell_line(step.span.start_line)
        return {"path": step.path, "line": line, "cell": cell, "label": step.label}
    return {"path": step.path, "line": step.span.start_line + 1, "label": step.label}


def finding_records(source: Report | ScanResult) -> list[dict[str, Any]]:
    """The report's findings (not those suppressed in the source) as dicts, file by file."""
    return [finding_record(item) for item in as_report(source).active]


def to_json(source: Report | ScanResult) -> str:
    """The JSON report."""
    return json.dumps(finding_records(source), indent=2, ensure_ascii=False) + "\n"
