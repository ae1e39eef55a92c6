"""The peer tools (Bandit, Semgrep) and coderev as subprocesses, and the one table mapping their ids onto our classes.

Every runner returns a list of ToolFinding (path relative to the scanned folder, 1-based line span, our class id);
a finding whose rule maps to no class is dropped and counted. Semgrep only ever runs with a local rules folder
(--config DIR, --metrics off): never the registry.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

VENV_BIN = Path(sys.executable).parent

CWE_CLASSES: dict[int, str] = {
    89: "sql-injection", 564: "sql-injection", 943: "sql-injection",
    78: "command-injection", 77: "command-injection", 88: "command-injection",
    79: "xss", 80: "xss", 116: "xss",
    918: "ssrf",
    287: "broken-auth", 521: "broken-auth", 916: "broken-auth", 347: "broken-auth", 328: "broken-auth",
    327: "broken-auth", 326: "broken-auth", 522: "broken-auth",
    384: "session-fixation", 613: "session-fixation",
    200: "sensitive-data-exposure", 532: "sensitive-data-exposure", 319: "sensitive-data-exposure",
    295: "sensitive-data-exposure", 209: "sensitive-data-exposure", 668: "sensitive-data-exposure",
    798: "hardcoded-secret", 259: "hardcoded-secret", 321: "hardcoded-secret",
    16: "security-misconfiguration", 489: "security-misconfiguration", 614: "security-misconfiguration",
    1004: "security-misconfiguration", 605: "security-misconfiguration", 215: "security-misconfiguration",
    732: "security-misconfiguration", 276: "security-misconfiguration",
    942: "cors-misconfiguration", 346: "cors-misconfiguration",
    22: "path-traversal", 23: "path-traversal", 73: "path-traversal",
    502: "insecure-deserialization",
    94: "code-injection", 95: "code-injection", 1336: "code-injection", 96: "code-injection",
    611: "xxe", 776: "xxe",
    601: "open-redirect",
    352: "csrf",
    330: "insecure-randomness", 338: "insecure-randomness",
}
"""CWE -> our class: how a Semgrep rule's metadata.cwe becomes a class (the first CWE that maps wins)."""

BANDIT_CLASSES: dict[str, str] = {
    "B102": "code-injection", "B307": "code-injection",
    "B404": "command-injection", "B601": "command-injection", "B602": "command-injection",
    "B603": "command-injection", "B604": "command-injection", "B605": "command-injection",
    "B606": "command-injection", "B607": "command-injection", "B609": "command-injection",
    "B608": "sql-injection", "B610": "sql-injection", "B611": "sql-injection",
    "B308": "xss", "B701": "xss", "B702": "xss", "B703": "xss", "B704": "xss",
    "B310": "ssrf",
    "B303": "broken-auth", "B324": "broken-auth",
    "B105": "hardcoded-secret", "B106": "hardcoded-secret", "B107": "hardcoded-secret",
    "B103": "security-misconfiguration", "B104": "security-misconfiguration", "B201": "security-misconfiguration",
    "B202": "path-traversal",
    "B301": "insecure-deserialization", "B302": "insecure-deserialization", "B403": "insecure-deserialization",
    "B506": "insecure-deserialization", "B614": "insecure-deserialization",
    "B311": "insecure-randomness",
    "B313": "xxe", "B314": "xxe", "B315": "xxe", "B316": "xxe", "B317": "xxe", "B318": "xxe", "B319": "xxe",
    "B320": "xxe", "B405": "xxe", "B406": "xxe", "B407": "xxe", "B408": "xxe", "B409": "xxe", "B410": "xxe",
    "B312": "sensitive-data-exposure", "B321": "sensitive-data-exposure", "B323": "sensitive-data-exposure",
    "B401": "sensitive-data-exposure", "B402": "sensitive-data-exposure", "B501": "sensitive-data-exposure",
    "B502": "sensitive-data-exposure", "B503": "sensitive-data-exposure", "B504": "sensitive-data-exposure",
    "B507": "sensitive-data-exposure", "B304": "sensitive-data-exposure", "B305": "sensitive-data-exposure",
}
"""Bandit test id -> our class (ids with no class, such as asserts or try/except/pass, are dropped)."""

SEMGREP_RULE_CLASSES: dict[str, str] = {
    "open-redirect": "open-redirect", "ssrf": "ssrf", "sql": "sql-injection", "xss": "xss",
    "csrf": "csrf", "deserial": "insecure-deserialization", "pickle": "insecure-deserialization",
    "path-traversal": "path-traversal", "secret": "hardcoded-secret", "password": "hardcoded-secret",
    "command": "command-injection", "subprocess": "command-injection", "eval": "code-injection",
    "exec": "code-injection", "ssti": "code-injection", "xxe": "xxe", "cors": "cors-misconfiguration",
    "debug": "security-misconfiguration", "cookie": "security-misconfiguration",
}
"""Fallback for Semgrep security rules with no CWE that maps: a fragment of the rule name -> our class."""


@dataclass(frozen=True)
class ToolFinding:
    """One finding of one tool, in the scanned folder's terms."""

    path: str
    line: int
    end_line: int
    vuln_class: str
    rule: str
    tier: str = ""


@dataclass
class ToolRun:
    """What one tool reported on one project: mapped findings, the unmapped count, seconds, and an error if any."""

    tool: str
    findings: list[ToolFinding]
    unmapped: int = 0
    seconds: float = 0.0
    error: str = ""


def relative(filename: str, folder: Path) -> str:
    """A tool's file name as a posix path relative to the scanned folder."""
    path = Path(filename)
    if not path.is_absolute():
        path = folder / path
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return Path(filename).as_posix()


def coderev_command(folder: Path, model: bool, workers: int) -> list[str]:
    """The coderev CLI call that scans folder as a user would (JSON out)."""
    command = [str(VENV_BIN / "coderev"), "scan", str(folder), "--format", "json", "--workers", str(workers)]
    return command if model else [*command, "--no-model"]


def parse_coderev(report: list[dict], folder: Path) -> ToolRun:
    """coderev's JSON findings as ToolFindings (all classes are ours already)."""
    findings = [ToolFinding(relative(row["path"], folder), int(row["line"]), int(row.get("end_line") or row["line"]),
                            row["class"], row.get("rule", ""), str(row.get("tier", "")))
                for row in report]
    return ToolRun("coderev", findings)


def parse_bandit(report: dict, folder: Path) -> ToolRun:
    """Bandit's JSON results mapped through BANDIT_CLASSES."""
    findings, unmapped = [], 0
    for issue in report.get("results", []):
        vuln_class = BANDIT_CLASSES.get(issue["test_id"])
        if vuln_class is None:
            unmapped += 1
            continue
        lines = issue.get("line_range") or [issue["line_number"]]
        findings.append(ToolFinding(relative(issue["filename"], folder), int(issue["line_number"]),
                                    int(max(lines)), vuln_class, issue["test_id"]))
    return ToolRun("bandit", findings, unmapped)


def semgrep_class(result: dict) -> str | None:
    """Our class for one Semgrep security result: by its CWE metadata, else by its rule name; None for the rest."""
    metadata = result.get("extra", {}).get("metadata", {}) or {}
    if str(metadata.get("category", "security")).strip("'\"") != "security":
        return None
    cwes = metadata.get("cwe", [])
    for cwe in [cwes] if isinstance(cwes, str) else cwes:
        match = re.search(r"CWE-(\d+)", str(cwe))
        if match and int(match.group(1)) in CWE_CLASSES:
            return CWE_CLASSES[int(match.group(1))]
    rule = result.get("check_id", "").lower().rsplit(".", 1)[-1]
    return next((cls for fragment, cls in SEMGREP_RULE_CLASSES.items() if fragment in rule), None)


def parse_semgrep(report: dict, folder: Path) -> ToolRun:
    """Semgrep's JSON results mapped through CWE_CLASSES (then SEMGREP_RULE_CLASSES)."""
    findings, unmapped = [], 0
    for result in report.get("results", []):
        vuln_class = semgrep_class(result)
        if vuln_class is None:
            unmapped += 1
            continue
        findings.append(ToolFinding(relative(result["path"], folder), int(result["start"]["line"]),
                                    int(result["end"]["line"]), vuln_class, result.get("check_id", "")))
    return ToolRun("semgrep", findings, unmapped)


def run_json(command: list[str], env: dict[str, str] | None = None, timeout: int = 3600) -> tuple[object, str]:
    """(parsed stdout, error text) of a command that prints JSON; (None, why) when it printed none."""
    try:
        run = subprocess.run(command, capture_output=True, text=True, check=False, env=env, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if not run.stdout.strip():
        return None, f"exit {run.returncode}: {run.stderr.strip()[-400:]}"
    try:
        return json.loads(run.stdout), ""
    except json.JSONDecodeError as exc:
        return None, f"unreadable JSON ({exc}): {run.stderr.strip()[-300:]}"


def bandit_command(folder: Path) -> list[str]:
    """Bandit over the whole folder, JSON out, default profile."""
    return [sys.executable, "-m", "bandit", "-r", str(folder), "-f", "json", "-q"]


def semgrep_executable() -> str | None:
    """The semgrep CLI of this venv (or on PATH), or None when it is not installed."""
    local = VENV_BIN / "semgrep"
    return str(local) if local.exists() else shutil.which("semgrep")


def semgrep_command(executable: str, folder: Path, rules: Path) -> list[str]:
    """Semgrep with the local rules folder only: no registry, no metrics, no version check."""
    return [executable, "scan", "--config", str(rules), "--json", "--metrics", "off", "--disable-version-check",
            "--no-git-ignore", "--timeout", "30", "--jobs", "1", "--max-memory", "3000",
            "--include", "*.py", "--include", "*.html", str(folder)]


def semgrep_env() -> dict[str, str]:
    """The environment Semgrep runs in: offline, no metrics, its own home under the cache."""
    env = dict(os.environ)
    env.update({"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"})
    return env
