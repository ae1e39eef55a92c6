"""The shared vocabulary of coderev: vulnerability classes, severities, spans, findings and fixes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class VulnClass(StrEnum):
    """The vulnerability classes (the seed's 12, then five more); the values are stable ids used everywhere."""

    SQL_INJECTION = "sql-injection"
    COMMAND_INJECTION = "command-injection"
    XSS = "xss"
    SSRF = "ssrf"
    BROKEN_AUTH = "broken-auth"
    SESSION_FIXATION = "session-fixation"
    SENSITIVE_DATA_EXPOSURE = "sensitive-data-exposure"
    HARDCODED_SECRET = "hardcoded-secret"
    SECURITY_MISCONFIGURATION = "security-misconfiguration"
    CORS_MISCONFIGURATION = "cors-misconfiguration"
    PATH_TRAVERSAL = "path-traversal"
    INSECURE_DESERIALIZATION = "insecure-deserialization"
    CODE_INJECTION = "code-injection"
    XXE = "xxe"
    OPEN_REDIRECT = "open-redirect"
    CSRF = "csrf"
    INSECURE_RANDOMNESS = "insecure-randomness"

    @property
    def cwe(self) -> int:
        """The main CWE of the class."""
        return MAIN_CWE[self]

    @property
    def cwes(self) -> tuple[int, ...]:
        """Every CWE the class covers, the one a reviewer names first leading."""
        return CWES[self]

    @property
    def title(self) -> str:  # type: ignore[override]  # shadows str.title on purpose
        """A human title, e.g. 'SQL injection'."""
        return TITLES[self]


MAIN_CWE: dict[VulnClass, int] = {
    VulnClass.SQL_INJECTION: 89,
    VulnClass.COMMAND_INJECTION: 78,
    VulnClass.XSS: 79,
    VulnClass.SSRF: 918,
    VulnClass.BROKEN_AUTH: 287,
    VulnClass.SESSION_FIXATION: 384,
    VulnClass.SENSITIVE_DATA_EXPOSURE: 200,
    VulnClass.HARDCODED_SECRET: 798,
    VulnClass.SECURITY_MISCONFIGURATION: 16,
    VulnClass.CORS_MISCONFIGURATION: 942,
    VulnClass.PATH_TRAVERSAL: 22,
    VulnClass.INSECURE_DESERIALIZATION: 502,
    VulnClass.CODE_INJECTION: 94,
    VulnClass.XXE: 611,
    VulnClass.OPEN_REDIRECT: 601,
    VulnClass.CSRF: 352,
    VulnClass.INSECURE_RANDOMNESS: 330,
}

CWES: dict[VulnClass, tuple[int, ...]] = {
    VulnClass.SQL_INJECTION: (89,),
    VulnClass.COMMAND_INJECTION: (78, 77),
    VulnClass.XSS: (79, 80),
    VulnClass.SSRF: (918,),
    VulnClass.BROKEN_AUTH: (287, 521, 916, 347, 208),
    VulnClass.SESSION_FIXATION: (384, 613),
    VulnClass.SENSITIVE_DATA_EXPOSURE: (200, 209, 532, 319, 295, 327),
    VulnClass.HARDCODED_SECRET: (798, 259, 321),
    VulnClass.SECURITY_MISCONFIGURATION: (16, 489, 215, 614, 1004, 605, 732),
    VulnClass.CORS_MISCONFIGURATION: (942,),
    VulnClass.PATH_TRAVERSAL: (22, 23),
    VulnClass.INSECURE_DESERIALIZATION: (502,),
    VulnClass.CODE_INJECTION: (94, 95, 1336),
    VulnClass.XXE: (611, 776),
    VulnClass.OPEN_REDIRECT: (601,),
    VulnClass.CSRF: (352,),
    VulnClass.INSECURE_RANDOMNESS: (330, 338),
}
"""Every CWE of each class, main one first (a finding's own `cwe` may be any of them)."""

TITLES: dict[VulnClass, str] = {
    VulnClass.SQL_INJECTION: "SQL injection",
    VulnClass.COMMAND_INJECTION: "Command injection",
    VulnClass.XSS: "Cross-site scripting",
    VulnClass.SSRF: "Server-side request forgery",
    VulnClass.BROKEN_AUTH: "Broken authentication",
    VulnClass.SESSION_FIXATION: "Session fixation",
    VulnClass.SENSITIVE_DATA_EXPOSURE: "Sensitive data exposure",
    VulnClass.HARDCODED_SECRET: "Hardcoded secret",
    VulnClass.SECURITY_MISCONFIGURATION: "Security misconfiguration",
    VulnClass.CORS_MISCONFIGURATION: "CORS misconfiguration",
    VulnClass.PATH_TRAVERSAL: "Path traversal",
    VulnClass.INSECURE_DESERIALIZATION: "Insecure deserialization",
    VulnClass.CODE_INJECTION: "Code injection",
    VulnClass.XXE: "XML external entities",
    VulnClass.OPEN_REDIRECT: "Open redirect",
    VulnClass.CSRF: "Cross-site request forgery",
    VulnClass.INSECURE_RANDOMNESS: "Insecure randomness",
}

TIERS = ("flow", "review")
"""Finding tiers: "flow" (a proven flow from untrusted input, or a rule's own match) and "review" (a dangerous
sink fed by data not proven safe, e.g. a helper's parameter formatted into SQL)."""

REVIEW_SUFFIX = ".review"
"""Added to a sink's rule id for its review-tier findings."""

SAFE_LABEL = "safe"
"""The model's last label: the candidate is not a vulnerability."""


class Severity(IntEnum):
    """How bad a finding is; ordered so that `>=` filters by a minimum."""

    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        """Read 'high', 'HIGH', 4 or Severity.HIGH; raise ValueError otherwise."""
        if isinstance(value, Severity):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}") from None


@dataclass(frozen=True, slots=True)
class Span:
    """A region of one file: byte offsets plus 0-based (line, UTF-8 byte column) points."""

    start_byte: int
    end_byte: int
    start_line: int
    start_col: int
    end_line: int
    end_col: int

    @classmethod
    def of_node(cls, node: object) -> Span:
        """The span of a tree-sitter node."""
        start_row, start_col = node.start_point  # type: ignore[attr-defined]
        end_row, end_col = node.end_point  # type: ignore[attr-defined]
        return cls(
            node.start_byte,  # type: ignore[attr-defined]
            node.end_byte,  # type: ignore[attr-defined]
            start_row,
            start_col,
            end_row,
            end_col,
        )

    def contains(self, other: Span) -> bool:
        """True when `other` lies within this span."""
        return self.start_byte <= other.start_byte and other.end_byte <= self.end_byte


@dataclass(frozen=True, slots=True)
class TaintStep:
    """One hop of untrusted data: where it was and what happened to it."""

    path: str
    span: Span
    label: str
    """What happens here, e.g. "source: request.args", "assigned to user_id", "sink: cursor.execute"."""


@dataclass(frozen=True, slots=True)
class TaintPath:
    """The path untrusted data took: source first, sink last."""

    steps: tuple[TaintStep, ...]

    @property
    def source(self) -> TaintStep:
        """Where the untrusted data entered."""
        return self.steps[0]

    @property
    def sink(self) -> TaintStep:
        """Where the untrusted data was used dangerously."""
        return self.steps[-1]

    def render(self) -> str:
        """A compact one-line rendering, used in messages and as model input."""
        return " -> ".join(f"{step.label} (line {step.span.start_line + 1})" for step in self.steps)


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace bytes [start_byte, end_byte) of a file's UTF-8 text with `new_text`."""

    start_byte: int
    end_byte: int
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A proposed change that removes a finding; edits per file path, applied atomically."""

    title: str
    edits: tuple[TextEdit, ...]
    path: str
    vuln_class: VulnClass
    rule: str
    verified: bool = False
    extra_files: tuple[tuple[str, tuple[TextEdit, ...]], ...] = ()
    """Edits to other files, for fixes that span several (path, edits)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability found in one file."""

    vuln_class: VulnClass
    rule: str
    """Stable id of the rule or spec entry that produced it, e.g. "deserialization.pickle-loads"."""
    message: str
    path: str
    span: Span
    severity: Severity
    confidence: float
    """0..1: how sure coderev is (rule prior, then the model's probability when it ran)."""
    cwe: int = 0
    taint_path: TaintPath | None = None
    model_only: bool = False
    """True when only the model flagged it (no rule fired): reported with lower severity."""
    snippet: str = ""
    """The source text of the flagged region (for reports and the model)."""
    fixes: tuple[Fix, ...] = field(default=())
    tier: str = "flow"
    """"flow" for proven flows and rule matches, "review" for sinks fed by data not proven safe (see TIERS)."""

    def __post_init__(self) -> None:
        if not self.cwe:
            object.__setattr__(self, "cwe", self.vuln_class.cwe)
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence out of range: {self.confidence}")

    @property
    def fingerprint(self) -> str:
        """A location-independent id: class, rule and the flagged text (stable across edits elsewhere)."""
        digest = hashlib.sha256(
            f"{self.path}\0{self.vuln_class}\0{self.rule}\0{self.snippet}".encode()
        ).hexdigest()
        return digest[:16]
