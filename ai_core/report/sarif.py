"""SARIF 2.1.0 report for GitHub code scanning and other dashboards: rules with help, taint paths as code flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ai_core import __version__
from ai_core.files import SourceError, folder_of, read_source
from ai_core.findings import Finding, Severity, Span, TaintStep
from ai_core.parsing.positions import PositionMap
from ai_core.report.fingerprint import VERSION as FINGERPRINT_KEY
from ai_core.report.report_items import FixView, Item, Report, as_report, column_of
from ai_core.report.rulehelp import rule_help
from ai_core.scan import ScanResult

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "SRCROOT"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "1.0"}
"""GitHub's bands: 9.0+ critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low."""
_MAX_TEXT_BYTES = 8 * 1024 * 1024


def rule_id(finding: Finding) -> str:
    """The SARIF rule of a finding: its rule id; model-only findings get one rule per class (own CWE, own help)."""
    return f"{finding.rule}.{finding.vuln_class.value}" if finding.model_only else finding.rule


class _Positions:
    """Code-point columns of any file of the scan (texts of the report first, then the disk)."""

    def __init__(self, report: Report) -> None:
        root = Path(report.root)
        self.folder = folder_of(root)
        self.maps: dict[str, PositionMap | None] = {
            path: PositionMap(text.encode("utf-8", errors="surrogatepass")) for path, text in report.texts.items()}

    def column(self, path: str, line: int, byte_col: int) -> int:
        if path not in self.maps:
            try:
                text = read_source(self.folder / path, _MAX_TEXT_BYTES)
                self.maps[path] = PositionMap(text.encode("utf-8", errors="surrogatepass"))
            except SourceError:
                self.maps[path] = None
        return column_of(self.maps[path], line, byte_col)

    def region(self, path: str, span: Span) -> dict[str, int]:
        return {"startLine": span.start_line + 1, "startColumn": self.column(path, span.start_line, span.start_col),
                "endLine": span.end_line + 1, "endColumn": self.column(path, span.end_line, span.end_col)}


def _relative(path: str, folder: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute() and candidate.resolve().is_relative_to(folder.resolve()):
        return candidate.resolve().relative_to(folder.resolve()).as_posix()
    return path


def _location(uri: str, region: dict[str, int], message: str = "", ident: int | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": SRCROOT},
                                                     "region": region}}
    if ident is not None:
        location["id"] = ident
    if message:
        location["message"] = {"text": message}
    return location


def _escape(text: str) -> str:
    """Message text with literal brackets escaped (SARIF reads `[text](id)` as a link to a related location)."""
    return text.replace("[", "\\[").replace("]", "\\]")


def _step_kinds(index: int, count: int) -> list[str]:
    if index == 0:
        return ["source"]
    return ["sink"] if index == count - 1 else ["taint"]


def _flow(steps: tuple[TaintStep, ...], finding: Finding, positions: _Positions) -> dict[str, Any]:
    """One codeFlow with one threadFlow: each step of the taint path, source first."""
    locations = []
    for index, step in enumerate(steps):
        path = _relative(step.path, positions.folder) or finding.path
        locations.append({"location": _location(path, positions.region(path, step.span), step.label),
                          "kinds": _step_kinds(index, len(steps)), "executionOrder": index + 1,
                          "importance": "essential" if index in {0, len(steps) - 1} else "important"})
    return {"message": {"text": " -> ".join(step.label for step in steps)}, "threadFlows": [{"locations": locations}]}


def _fix(fix: FixView) -> dict[str, Any]:
    changes: dict[str, list[dict[str, Any]]] = {}
    for r in fix.replacements:
        changes.setdefault(r.path, []).append({
            "deletedRegion": {"startLine": r.start_line, "startColumn": r.start_column,
                              "endLine": r.end_line, "endColumn": r.end_column},
            "insertedContent": {"text": r.text}})
    return {"description": {"text": fix.title},
            "artifactChanges": [{"artifactLocation": {"uri": path, "uriBaseId": SRCROOT}, "replacements": reps}
                                for path, reps in changes.items()]}


def _result(item: Item, index: int, positions: _Positions, report: Report) -> dict[str, Any]:
    f = item.finding
    region = {"startLine": f.span.start_line + 1, "startColumn": item.column,
              "endLine": f.span.end_line + 1, "endColumn": item.end_column}
    steps = f.taint_path.steps if f.taint_path is not None else ()
    message = _escape(f.message)
    if steps:
        message += f" Path: [{_escape(steps[0].label)}](1) -> [{_escape(steps[-1].label)}]({len(steps)})."
    result: dict[str, Any] = {
        "ruleId": rule_id(f),
        "ruleIndex": index,
        "level": LEVEL[f.severity],
        "message": {"text": message},
        "locations": [_location(f.path, region)],
        "partialFingerprints": {FINGERPRINT_KEY: item.fingerprint},
        "properties": {"class": f.vuln_class.value, "cwe": f"CWE-{f.cwe}", "confidence": round(f.confidence, 3),
                       "modelOnly": f.model_only, "rule": f.rule, "severity": f.severity.name.lower(),
                       "tier": f.tier, "tags": ["security", f"external/cwe/cwe-{f.cwe}"]},
    }
    if steps:
        result["codeFlows"] = [_flow(steps, f, positions)]
        result["relatedLocations"] = [
            _location(path, positions.region(path, step.span), step.label, number)
            for number, step in enumerate(steps, 1)
            for path in [_relative(step.path, positions.folder) or f.path]]
    if f.snippet:
        result["locations"][0]["physicalLocation"]["region"]["snippet"] = {"text": report.mask(f.snippet)}
    if item.fix is not None:
        result["fixes"] = [_fix(item.fix)]
    if item.suppression is not None:
        result["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": item.suppression}]
    return result


def _rule(finding: Finding, severity: Severity) -> dict[str, Any]:
    helped = rule_help(finding.vuln_class, finding.rule, finding.cwe)
    name = "".join(part.capitalize() for part in rule_id(finding).replace("-", ".").replace("_", ".").split("."))
    return {
        "id": rule_id(finding),
        "name": name,
        "shortDescription": {"text": helped.title},
        "fullDescription": {"text": f"{helped.why} {helped.reason}".strip()},
        "help": {"text": helped.text(), "markdown": helped.markdown()},
        "helpUri": helped.cwe_uri,
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "tags": ["security", finding.vuln_class.value, f"external/cwe/cwe-{finding.cwe}"],
            "security-severity": SECURITY_SEVERITY[severity],
            "precision": "medium" if finding.model_only else "high",
            "problem.severity": {"error": "error", "warning": "warning"}.get(LEVEL[severity], "recommendation"),
        },
    }


def sarif_log(source: Report | ScanResult) -> dict[str, Any]:
    """The SARIF log of a report as a dict (columns count Unicode code points)."""
    report = as_report(source)
    positions = _Positions(report)
    worst: dict[str, tuple[Finding, Severity]] = {}
    for item in report.items:
        key = rule_id(item.finding)
        seen = worst.get(key)
        worst[key] = (item.finding, max(item.finding.severity, seen[1] if seen else Severity.INFO))
    order = {key: index for index, key in enumerate(worst)}
    results = [_result(item, order[rule_id(item.finding)], positions, report) for item in report.items]
    notifications = [{"level": "warning", "message": {"text": f"skipped {path}: {reason}"},
                      "locations": [_location(path, {"startLine": 1})]} for path, reason in report.skipped]
    root = Path(report.root)
    folder = folder_of(root)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "coderev", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://github.com/coderev/coderev",
                                "rules": [_rule(f, severity) for f, severity in worst.values()]}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {SRCROOT: {"uri": folder.as_uri().rstrip("/") + "/"}},
            "results": results,
        }],
    }


def to_sarif(source: Report | ScanResult) -> str:
    """The SARIF report."""
    return json.dumps(sarif_log(source), indent=2, ensure_ascii=False) + "\n"
