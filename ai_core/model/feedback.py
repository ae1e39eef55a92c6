"""Learning from use: accepted fixes and dismissed diagnostics, recorded in `.coderev/feedback.jsonl`.

Each record keeps the model input as it was when the user acted (the code slice around the finding and
its taint path, read from the file on disk), so `coderev train --feedback` can fold it into training:
an accepted fix confirms the finding's class, a dismissal labels it `safe`. The file is written and read
without following symlinks (`ai_core.safe_write`); a hardcoded secret's value is masked (`ai_core.redact`).
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ai_core.files import SourceError, read_source
from ai_core.findings import SAFE_LABEL, Finding
from ai_core.model.candidates import Candidate, window
from ai_core.redact import mask_secrets, secret_values
from ai_core.safe_write import append_bytes, read_bytes

log = logging.getLogger(__name__)

FEEDBACK_FILE = Path(".coderev") / "feedback.jsonl"
MAX_SOURCE_BYTES = 8 * 1024 * 1024
KINDS = ("accepted", "dismissed")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class FeedbackItem:
    """One recorded user decision, as a labelled model input."""

    kind: str
    label: str
    text: str
    fingerprint: str
    path: str


def _slice(root: Path, finding: Finding) -> str:
    path = Path(finding.path)
    if not path.is_absolute():
        path = root / path
    try:
        lines = read_source(path, MAX_SOURCE_BYTES).split("\n")
    except SourceError:
        return finding.snippet
    return window(lines, finding.span.start_line, finding.span.end_line)


def record_feedback(root: Path, kind: str, finding: Finding, detail: str = "") -> None:
    """Append one decision ("accepted" or "dismissed") about `finding` to root/.coderev/feedback.jsonl."""
    if kind not in KINDS:
        raise ValueError(f"feedback kind must be one of {KINDS}, got {kind!r}")
    taint = finding.taint_path.render() if finding.taint_path else ""
    text = mask_secrets(Candidate(code=_slice(root, finding), taint=taint).render(), secret_values([finding]))
    record = {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "kind": kind,
        "class": finding.vuln_class.value,
        "rule": finding.rule,
        "path": finding.path,
        "line": finding.span.start_line + 1,
        "fingerprint": finding.fingerprint,
        "model_only": finding.model_only,
        "confidence": finding.confidence,
        "detail": detail,
        "input": text,
    }
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", errors="surrogatepass")
    with _LOCK:
        append_bytes(root, FEEDBACK_FILE, line, sync=False)
    log.info("feedback %s recorded for %s at %s:%d", kind, finding.rule, finding.path, finding.span.start_line + 1)


def load_feedback(root: Path) -> list[FeedbackItem]:
    """Recorded decisions as labelled inputs (malformed lines are logged and skipped; the last word wins)."""
    target = root / FEEDBACK_FILE
    try:
        data = read_bytes(root, FEEDBACK_FILE)
    except FileNotFoundError:
        return []
    except OSError as exc:  # a symlink or a special file: refused
        log.warning("cannot read %s: %s", target, exc)
        return []
    latest: dict[str, FeedbackItem] = {}
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            kind = row["kind"]
            label = row["class"] if kind == "accepted" else SAFE_LABEL
            item = FeedbackItem(kind, label, row["input"], row.get("fingerprint", ""), row.get("path", ""))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            log.warning("%s:%d: bad feedback record skipped (%s)", target, number, exc)
            continue
        if kind in KINDS:
            latest[item.fingerprint or item.text] = item
    return list(latest.values())
