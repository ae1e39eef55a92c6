"""Reports of a scan: text for people, JSON for scripts, SARIF for code-scanning dashboards."""

from ai_core.report.json_report import finding_records, to_json
from ai_core.report.sarif import to_sarif
from ai_core.report.text import to_text

FORMATS = {"text": to_text, "json": to_json, "sarif": to_sarif}

__all__ = ["FORMATS", "finding_records", "to_json", "to_sarif", "to_text"]
