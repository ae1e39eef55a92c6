"""Reports of a scan: text for people, JSON for scripts, SARIF for code-scanning dashboards, HTML to read."""

from ai_core.report.html import to_html
from ai_core.report.json_report import finding_records, to_json
from ai_core.report.report_items import Item, Report, build_report
from ai_core.report.sarif import to_sarif
from ai_core.report.text import to_text

FORMATS = {"text": to_text, "json": to_json, "sarif": to_sarif, "html": to_html}

__all__ = ["FORMATS", "Item", "Report", "build_report", "finding_records", "to_html", "to_json", "to_sarif",
           "to_text"]
