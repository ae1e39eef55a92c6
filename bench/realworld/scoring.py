"""Our labels and how a tool's findings are scored against them (shared with the model bench).

A finding matches a label when it is in the same file, of the same class, and its line is within +-2 of the
label's line or its span covers it. A "vuln" label matched by some finding is a true positive, unmatched a false
negative; a "safe" label matched by some finding is a false positive. Findings on unlabelled lines are not counted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

LABELS = Path(__file__).resolve().parent / "labels"
SLACK = 2
CLASSES = frozenset({
    "sql-injection", "command-injection", "xss", "ssrf", "broken-auth", "session-fixation",
    "sensitive-data-exposure", "hardcoded-secret", "security-misconfiguration", "cors-misconfiguration",
    "path-traversal", "insecure-deserialization", "code-injection", "xxe", "open-redirect", "csrf",
    "insecure-randomness",
})
"""The class ids of /work/shared/DESIGN.md (the seed's twelve and the five beyond them)."""

SHAPES: dict[str, str] = {
    "handler-direct": "request data reaches the sink inside (or one call below) a recognisable handler",
    "nested-handler": "the handler is defined inside a function (blueprint/route factories)",
    "fastapi-controller": "FastAPI class-based controller methods, Form/Query params, UploadFile.filename",
    "helper-sink": "the sink end of a flow: a helper/service function fed by its parameter",
    "object-attribute": "the value travels through self.x, model objects, forms, config or the current user",
    "dynamic-dispatch": "request args dispatched to methods by name (RPC getattr(api, func)(**kwargs))",
    "stored-content": "stored or third-party content (snapshots, session files) served or deserialised",
    "template": "template-level output: |safe, mark_safe/Markup of rendered HTML, unescaped e-mail bodies",
    "rendered-command": "SQL or a shell/psql command built by rendering a Jinja template with request data",
    "weak-sanitizer": "a containment check that does not contain (replace('../'), commonprefix, abspath)",
    "library-default": "a dangerous library default or API (lxml parser, tar/zip names, XPath 3, jq, TLS off)",
    "library-parameter": "library code: caller arguments reach subprocess options or file paths",
    "header-trust": "a security decision taken on a client-controlled header (Host, X-Forwarded-Proto)",
    "missing-control": "an absent control: auth decorator missing or misordered, no throttling, state change on GET",
    "secret-by-use": "secrets judged by use: default credentials, random keys, secrets logged/stored/compared",
}
"""How a positive looks in the code (the optional 'shape' of a vuln label), to group what a tool misses."""


@dataclass(frozen=True)
class Label:
    """One labelled line of one project: vulnerable or a safe look-alike, for one class."""

    project: str
    path: str
    line: int
    vuln_class: str
    vulnerable: bool
    reason: str
    shape: str = ""


class Located(Protocol):
    """Anything with a file, a 1-based line span and a class (a ToolFinding, a Finding adapter...)."""

    @property
    def path(self) -> str:
        """File, relative to the scanned project folder (posix)."""

    @property
    def line(self) -> int:
        """First line, 1-based."""

    @property
    def end_line(self) -> int:
        """Last line, 1-based (the first line when the finding has no span)."""

    @property
    def vuln_class(self) -> str:
        """Our class id."""


def load_labels(project: str, folder: Path = LABELS) -> list[Label]:
    """The labels of one project (labels/<project>.jsonl); a missing file is no labels."""
    path = folder / f"{project}.jsonl"
    if not path.is_file():
        return []
    labels = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        row = json.loads(text)
        if row["label"] not in ("vuln", "safe"):
            raise ValueError(f"{path}:{number}: label must be vuln or safe, not {row['label']!r}")
        if row["class"] not in CLASSES:
            raise ValueError(f"{path}:{number}: unknown class {row['class']!r}")
        if row.get("shape", "") not in ("", *SHAPES):
            raise ValueError(f"{path}:{number}: unknown shape {row['shape']!r}")
        labels.append(Label(project, row["path"], int(row["line"]), row["class"], row["label"] == "vuln",
                            row.get("reason", ""), row.get("shape", "")))
    return labels


def label_problems(labels: Iterable[Label], folder: Path) -> list[str]:
    """Labels that do not fit the exported project: missing file, line past the end, blank line, duplicates."""
    problems, seen = [], set()
    for label in labels:
        key = (label.path, label.line, label.vuln_class)
        if key in seen:
            problems.append(f"{label.project} {label.path}:{label.line} {label.vuln_class}: labelled twice")
        seen.add(key)
        source = folder / label.path
        if not source.is_file():
            problems.append(f"{label.project} {label.path}: no such file at the pinned commit")
            continue
        lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
        if label.line > len(lines) or not lines[label.line - 1].strip():
            problems.append(f"{label.project} {label.path}:{label.line}: past the end or a blank line")
    return problems


def match(finding: Located, label: Label, slack: int = SLACK) -> bool:
    """Whether finding lands on label: same file and class, line within +-slack or inside its span."""
    if finding.path != label.path or finding.vuln_class != label.vuln_class:
        return False
    return finding.line - slack <= label.line <= max(finding.end_line, finding.line) + slack


@dataclass
class Tally:
    """True positives, false positives and false negatives, with the derived scores."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Tally) -> None:
        """Adds another tally into this one."""
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 0 when nothing labelled was reported."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 0 when there is nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """The counts and scores, rounded, for the JSON summary."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 3),
                "recall": round(self.recall, 3), "f1": round(self.f1, 3)}


@dataclass
class Outcome:
    """Each label's fate under one tool: which labels were hit, and the tallies per class."""

    hits: dict[Label, bool] = field(default_factory=dict)

    def tally(self, vuln_class: str | None = None) -> Tally:
        """The tally over all labels, or over one class's."""
        tally = Tally()
        for label, hit in self.hits.items():
            if vuln_class is not None and label.vuln_class != vuln_class:
                continue
            if label.vulnerable:
                tally.tp += hit
                tally.fn += not hit
            else:
                tally.fp += hit
        return tally

    def missed(self) -> list[Label]:
        """The vulnerable labels nothing matched."""
        return [label for label, hit in self.hits.items() if label.vulnerable and not hit]

    def false_alarms(self) -> list[Label]:
        """The safe labels something matched."""
        return [label for label, hit in self.hits.items() if not label.vulnerable and hit]


def score(findings: Iterable[Located], labels: Iterable[Label]) -> Outcome:
    """Which labels the findings hit."""
    by_file: dict[str, list[Located]] = defaultdict(list)
    for finding in findings:
        by_file[finding.path].append(finding)
    return Outcome({label: any(match(f, label) for f in by_file.get(label.path, ())) for label in labels})
