"""JSON report: a list of finding objects with 1-based lines and columns."""

from __future__ import annotations

import json
from typing import Any

from ai_core.report.report_items import Item, Report, as_report
from ai_core.scan import ScanResult


def finding_record(item: Item) -> dict[str, Any]:
    """One finding as a plain dict (the JSON report's row)."""
    finding = item.finding
    span = finding.span
    record: dict[str, Any] = {
        "path": finding.path,
        "line": span.start_line + 1,
        "end_line": span.end_line + 1,
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
    if finding.taint_path:
        record["taint_path"] = [
            {"path": step.path, "line": step.span.start_line + 1, "label": step.label}
            for step in finding.taint_path.steps
        ]
    return record


def finding_records(source: Report | ScanResult) -> list[dict[str, Any]]:
    """The report's findings (not those suppressed in the source) as dicts, file by file."""
    return [finding_record(item) for item in as_report(source).active]


def to_json(source: Report | ScanResult) -> str:
    """The JSON report."""
    return json.dumps(finding_records(source), indent=2, ensure_ascii=False) + "\n"
