"""Text report: one line per finding, like a compiler, then a summary."""

from __future__ import annotations

from ai_core.report.json_report import finding_records
from ai_core.scan import ScanResult


def to_text(result: ScanResult) -> str:
    """The human-readable report."""
    lines = [
        f"{r['path']}:{_cell(r)}{r['line']}:{r['column']}: {r['severity']} {r['class']} (CWE-{r['cwe']}, "
        f"confidence {r['confidence']:.2f}) {r['message']} [{r['rule']}]"
        for r in finding_records(result)
    ]
    lines.extend(f"{path}: skipped: {reason}" for path, reason in result.skipped)
    count = len(result.findings)
    lines.append(
        f"{count} finding{'s' if count != 1 else ''} in {len(result.files)} files "
        f"({result.lines} lines, {len(result.skipped)} skipped) in {result.seconds:.2f}s"
    )
    return "\n".join(lines) + "\n"


def _cell(record: dict[str, object]) -> str:
    """`cell N:` for a finding in a notebook."""
    return f"cell {record['cell']}:" if "cell" in record else ""
