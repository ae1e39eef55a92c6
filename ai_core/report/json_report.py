"""JSON report: a list of finding objects with 1-based lines and columns."""

from __future__ import annotations

import json
from typing import Any

from ai_core.findings import Finding
from ai_core.notebooks import NotebookSource
from ai_core.parsing.positions import PositionEncoding, PositionMap
from ai_core.scan import ScanResult


def column_of(positions: PositionMap | None, line: int, byte_col: int) -> int:
    """1-based character (code point) column of a 0-based line and byte column."""
    if positions is None:
        return byte_col + 1
    return positions.character_of(line, byte_col, PositionEncoding.UTF32) + 1


def finding_record(finding: Finding, positions: PositionMap | None,
                   notebook: NotebookSource | None = None) -> dict[str, Any]:
    """One finding as a plain dict (the JSON report's row); in a notebook, lines count within its "cell"."""
    span = finding.span
    record: dict[str, Any] = {
        "path": finding.path,
        "line": span.start_line + 1,
        "end_line": span.end_line + 1,
        "column": column_of(positions, span.start_line, span.start_col),
        "end_column": column_of(positions, span.end_line, span.end_col),
        "class": finding.vuln_class.value,
        "cwe": finding.cwe,
        "severity": finding.severity.name.lower(),
        "confidence": round(finding.confidence, 3),
        "message": finding.message,
        "rule": finding.rule,
        "model_only": finding.model_only,
        "fingerprint": finding.fingerprint,
    }
    if finding.taint_path:
        record["taint_path"] = [
            {"path": step.path, "line": step.span.start_line + 1, "label": step.label}
            for step in finding.taint_path.steps
        ]
    if notebook is not None:
        _to_cells(record, finding, notebook)
    return record


def _to_cells(record: dict[str, Any], finding: Finding, notebook: NotebookSource) -> None:
    """Notebook lines as (cell number, line in the cell), 1-based, in place."""
    record["cell"], line = notebook.locate(finding.span.start_line)
    record["line"] = line + 1
    record["end_line"] = notebook.locate(finding.span.end_line)[1] + 1
    if finding.taint_path:
        for row, step in zip(record["taint_path"], finding.taint_path.steps, strict=True):
            if step.path == finding.path:
                row["cell"], step_line = notebook.locate(step.span.start_line)
                row["line"] = step_line + 1


def finding_records(result: ScanResult) -> list[dict[str, Any]]:
    """All findings of a scan as dicts, file by file."""
    records: list[dict[str, Any]] = []
    for scanned in result.files:
        positions = PositionMap(scanned.text.encode("utf-8")) if scanned.text else None
        records.extend(finding_record(f, positions, scanned.notebook) for f in scanned.findings)
    return records


def to_json(result: ScanResult) -> str:
    """The JSON report."""
    return json.dumps(finding_records(result), indent=2, ensure_ascii=False) + "\n"
