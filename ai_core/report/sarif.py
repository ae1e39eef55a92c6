"""SARIF 2.1.0 report, for GitHub code scanning and other dashboards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ai_core import __version__
from ai_core.findings import Severity
from ai_core.report.json_report import finding_records
from ai_core.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {s.name.lower(): str(float(s.value * 2 - 1)) for s in Severity}


def to_sarif(result: ScanResult) -> str:
    """The SARIF log of a scan (columns count Unicode code points)."""
    records = finding_records(result)
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for r in records:
        rules.setdefault(r["rule"], {
            "id": r["rule"],
            "name": r["rule"],
            "shortDescription": {"text": f"{r['class']} (CWE-{r['cwe']})"},
            "helpUri": f"https://cwe.mitre.org/data/definitions/{r['cwe']}.html",
            "properties": {"tags": ["security", r["class"], f"external/cwe/cwe-{r['cwe']}"],
                           "security-severity": _SECURITY_SEVERITY[r["severity"]]},
        })
        results.append({
            "ruleId": r["rule"],
            "level": _LEVEL[r["severity"]],
            "message": {"text": r["message"]},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": r["path"], "uriBaseId": "SRCROOT"},
                "region": {"startLine": r["line"], "startColumn": r["column"],
                           "endLine": r["end_line"], "endColumn": r["end_column"]},
            }}],
            "partialFingerprints": {"coderev/v1": r["fingerprint"]},
            "properties": {"class": r["class"], "confidence": r["confidence"],
                           "modelOnly": r["model_only"]},
        })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "coderev", "version": __version__,
                                "informationUri": "https://github.com/coderev/coderev",
                                "rules": list(rules.values())}},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"SRCROOT": {"uri": Path(result.root).as_uri().rstrip("/") + "/"}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
