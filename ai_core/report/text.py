"""Text report: one line per finding, like a compiler, then a summary."""

from __future__ import annotations

from ai_core.report.report_items import Report, as_report
from ai_core.scan import ScanResult


def to_text(source: Report | ScanResult) -> str:
    """The human-readable report."""
    report = as_report(source)
    lines = []
    for item in report.active:
        f = item.finding
        cell, line = item.cell_line(f.span.start_line)
        where = f"cell {cell}:{line}" if cell is not None else f"{line}"
        lines.append(f"{f.path}:{where}:{item.column}: {f.severity.name.lower()} "
                     f"{f.vuln_class.value} (CWE-{f.cwe}, confidence {f.confidence:.2f}) {f.message} [{f.rule}]")
    lines.extend(f"{path}: skipped: {reason}" for path, reason in report.skipped)
    count = len(report.active)
    hidden = ", ".join(f"{n} hidden by {reason}" for reason, n in sorted(report.hidden.items()) if n)
    lines.append(
        f"{count} finding{'s' if count != 1 else ''} in {report.files} files "
        f"({report.lines} lines, {len(report.skipped)} skipped) in {report.seconds:.2f}s"
        + (f"; {hidden}" if hidden else "")
    )
    return "\n".join(lines) + "\n"
