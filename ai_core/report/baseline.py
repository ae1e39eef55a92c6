"""Baselines: the fingerprints of the findings a team has accepted, so that scans report only new ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_core import __version__
from ai_core.report.report_items import Report

FORMAT_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or written."""


def baseline_json(report: Report) -> str:
    """The baseline file of a report: every finding's fingerprint, with where it was (for people reading it)."""
    rows = [{"fingerprint": item.fingerprint, "path": item.finding.path, "line": item.finding.span.start_line + 1,
             "class": item.finding.vuln_class.value, "rule": item.finding.rule}
            for item in report.items]
    data: dict[str, Any] = {"tool": "coderev", "version": FORMAT_VERSION, "coderev": __version__,
                            "created": datetime.now(UTC).isoformat(timespec="seconds"), "findings": rows}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load_baseline(path: Path) -> frozenset[str]:
    """The fingerprints recorded in a baseline file; raise BaselineError when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("tool") != "coderev" or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path} is not a coderev baseline (make one with `coderev baseline PATH -o FILE`)")
    if data.get("version") != FORMAT_VERSION:
        raise BaselineError(f"baseline {path} has format version {data.get('version')!r}; "
                            f"this coderev reads version {FORMAT_VERSION} (re-create it)")
    return frozenset(str(row["fingerprint"]) for row in data["findings"]
                     if isinstance(row, dict) and "fingerprint" in row)


def hide_baseline(report: Report, known: frozenset[str]) -> None:
    """Leave out the findings recorded in the baseline."""
    report.keep(lambda item: item.fingerprint not in known, "baseline")
