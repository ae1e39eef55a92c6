"""The shape of a spec entry: sources, sinks, sanitizers and propagators, each with a reason and an example.

Patterns are dotted names after import resolution:
- `subprocess.run` matches a call of that exact qualified name (`sp.run` after `import subprocess as sp`);
- `*.execute` matches a method named `execute` on any receiver;
- `<request>.GET` matches attributes of a web request object (a parameter named `request`/`req`, one
  annotated `Request`/`HttpRequest`, or `self.request`); flask's `request` is `flask.request`;
- source patterns match by prefix: `flask.request.args` also matches `flask.request.args.get("q")`.
Typed receivers get their type from a constructor or factory in a propagator (`kind="type"`):
`sqlite3.connect(...)` returns `sqlite3.Connection`, so `conn.cursor().execute` is
`sqlite3.Cursor.execute`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ai_core.analysis.rules import Rule
from ai_core.findings import Severity, VulnClass

INJECTION_CLASSES: frozenset[VulnClass] = frozenset({
    VulnClass.SQL_INJECTION, VulnClass.COMMAND_INJECTION, VulnClass.XSS, VulnClass.SSRF,
    VulnClass.PATH_TRAVERSAL, VulnClass.INSECURE_DESERIALIZATION, VulnClass.SESSION_FIXATION,
    VulnClass.CORS_MISCONFIGURATION, VulnClass.CODE_INJECTION, VulnClass.XXE, VulnClass.OPEN_REDIRECT,
})
"""Classes that untrusted input (request data, argv, sockets) can trigger at a sink."""

FLOW_CLASSES: frozenset[VulnClass] = INJECTION_CLASSES | {VulnClass.SENSITIVE_DATA_EXPOSURE}
"""Every class that has data-flow sinks."""

REVIEW_CLASSES: frozenset[VulnClass] = frozenset(
    c for c in VulnClass if c.value in {"sql-injection", "command-injection", "path-traversal", "ssrf",
                                         "insecure-deserialization", "xss", "code-injection"})
"""Classes whose sinks also get review-tier findings (data not proven safe; ai_core/analysis/taint/review.py)."""

ALL = "*"
"""A sanitizer mark meaning 'safe for every class' (e.g. after int())."""
NORMALIZED = "normalized"
"""A mark set by realpath/abspath/resolve: a later prefix check then proves containment."""


@dataclass(frozen=True, slots=True)
class ArgTest:
    """A condition on one argument of a call, by keyword name and optional position."""

    name: str
    position: int | None = None
    truthy: bool | None = None
    """True: the argument must be present and not a false literal; False: absent or a false literal."""
    endswith: tuple[str, ...] = ()
    """The argument's source text ends with one of these (e.g. a safe yaml Loader)."""
    contains: tuple[str, ...] = ()
    """The argument's source text contains one of these (e.g. 'json' in a content type)."""
    matches: str = ""
    """A regex the argument's source text must match from its start (e.g. a literal '/path' prefix)."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where untrusted data enters: an attribute or a call whose value the attacker controls."""

    id: str
    patterns: tuple[str, ...]
    reason: str
    example: str
    kind: str = "any"
    """'attribute', 'call' or 'any' (the pattern matches the attribute or a call through it)."""
    classes: frozenset[VulnClass] = INJECTION_CLASSES
    """The sink classes this source is dangerous for."""
    label: str = ""
    """How a taint path names it (defaults to the pattern)."""


@dataclass(frozen=True, slots=True)
class Sink:
    """A call (or a return / header assignment) where untrusted data does harm."""

    id: str
    vuln_class: VulnClass
    patterns: tuple[str, ...]
    reason: str
    example: str
    args: tuple[int | str, ...] = (0,)
    """Positions and keyword names of the dangerous arguments; 'self' is the receiver."""
    severity: Severity = Severity.HIGH
    confidence: float = 0.85
    cwe: int = 0
    structural: bool = False
    """Also report arguments of unknown origin that are not constants (e.g. any non-literal pickle.loads)."""
    structural_confidence: float = 0.6
    when: tuple[ArgTest, ...] = ()
    """All must hold for the call to be a sink (e.g. shell=True)."""
    unless: tuple[ArgTest, ...] = ()
    """If any holds the call is not a sink (e.g. Loader=SafeLoader)."""
    program_only: bool = False
    """Only the program matters: the first element of an argument list, or the whole string."""
    undone_by: tuple[str, ...] = ()
    """Methods that, called on the sink call's result, undo it: `Markup(x).unescape()` is plain text again."""
    review_params: bool = False
    """Review tier for a caller's data (a parameter other than self), built into a string or passed as it is
    (mark_safe(text): the helper vouches for whatever text its caller gives it), and not for strings the code
    builds from its own state (mark_safe(f"<img src='{icon}'>"))."""
    passes_data: bool = False
    """The call's result still carries its arguments' data (a parsed XML tree); other sinks' results are clean."""
    context: str = ""
    """For `*.method` patterns on receivers of unknown type: a regex the call's text must match
    (e.g. a cursor-like receiver or SQL keywords for `*.execute`)."""
    title: str = ""

    @property
    def rule(self) -> Rule:
        """The Rule that findings of this sink carry."""
        return Rule(self.id, self.vuln_class, self.severity, self.confidence,
                    self.title or self.reason.split(".")[0], self.cwe)


@dataclass(frozen=True, slots=True)
class Sanitizer:
    """A call or check after which data is safe for some classes."""

    id: str
    patterns: tuple[str, ...]
    reason: str
    example: str
    classes: frozenset[VulnClass] | None = None
    """The classes it protects against; None means all."""
    kind: str = "call"
    """'call': the result is clean for `classes`; 'attribute': the attribute's value is; 'guard': an `if`
    on it proves the checked values safe in its true branch; 'builtin': implemented by the engine itself
    (documented here)."""
    marks: frozenset[str] = frozenset()
    """Extra marks the result carries (NORMALIZED for realpath/abspath/resolve)."""
    requires: str = ""
    """For guards: the checked value must carry this mark (a prefix check proves nothing before realpath)."""
    by_origin: bool = False
    """For guards: also clear every value that came from the same origins as the checked ones (an HMAC
    check on `expected = hmac.new(key, blob)` vouches for `blob`)."""


@dataclass(frozen=True, slots=True)
class Propagator:
    """How data moves through a library call that is neither source, sink nor sanitizer."""

    id: str
    patterns: tuple[str, ...]
    reason: str
    example: str
    kind: str = "propagate"
    """'propagate' (args and receiver taint the result), 'clean' (result never tainted, e.g. len),
    'mutate' (the receiver absorbs the arguments, e.g. list.append), 'type' (result has type `returns`),
    'normalize' (propagate and mark NORMALIZED, e.g. os.path.realpath)."""
    returns: str = ""
    """For kind 'type': the type name of the result (used to resolve methods on it)."""


@dataclass(frozen=True, slots=True)
class ClassSpec:
    """Everything declarative about one vulnerability class."""

    vuln_class: VulnClass
    sources: tuple[Source, ...] = ()
    sinks: tuple[Sink, ...] = ()
    sanitizers: tuple[Sanitizer, ...] = ()
    propagators: tuple[Propagator, ...] = ()
    tables: Mapping[str, Any] = field(default_factory=dict)
    """Data for the non-flow checks of this class (names, formats, settings)."""


class SpecError(ValueError):
    """A user-supplied spec entry (extra_sources/sinks/sanitizers) that cannot be used."""


def _classes(value: Any, default: frozenset[VulnClass] | None) -> frozenset[VulnClass] | None:
    if value is None:
        return default
    items = [value] if isinstance(value, str) else list(value)
    try:
        return frozenset(VulnClass(str(item)) for item in items)
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def _patterns(entry: Mapping[str, Any]) -> tuple[str, ...]:
    raw = entry.get("patterns") or entry.get("pattern") or entry.get("callee") or entry.get("name")
    items = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list | tuple) else []
    patterns = tuple(item.strip() for item in items if isinstance(item, str) and item.strip())
    if not patterns:
        raise SpecError("needs a 'pattern' (dotted name such as 'mylib.db.run_sql' or '*.run_sql')")
    return patterns


def source_from_mapping(entry: Mapping[str, Any]) -> Source:
    """A Source from a `[[tool.coderev.extra_sources]]` table; raise SpecError if unusable."""
    patterns = _patterns(entry)
    pattern = patterns[0]
    kind = str(entry.get("kind", "any"))
    if kind not in {"any", "attribute", "call"}:
        raise SpecError(f"source kind {kind!r} is not one of any, attribute, call")
    classes = _classes(entry.get("classes"), INJECTION_CLASSES) or INJECTION_CLASSES
    return Source(id=str(entry.get("id") or f"user.source.{pattern}"), patterns=patterns,
                  reason=str(entry.get("reason", "configured in extra_sources")),
                  example=str(entry.get("example", "")), kind=kind, classes=classes)


def sink_from_mapping(entry: Mapping[str, Any]) -> Sink:
    """A Sink from a `[[tool.coderev.extra_sinks]]` table; raise SpecError if unusable."""
    patterns = _patterns(entry)
    pattern = patterns[0]
    raw_class = entry.get("class") or entry.get("vuln_class") or entry.get("vulnClass")
    if raw_class is None:
        raise SpecError(f"sink {pattern!r} needs a 'class' (one of the class ids)")
    try:
        vuln_class = VulnClass(str(raw_class))
    except ValueError:
        raise SpecError(f"sink {pattern!r}: unknown class {raw_class!r}") from None
    args_raw = entry.get("args", [0])
    args_list = [args_raw] if isinstance(args_raw, int | str) else list(args_raw)
    args: list[int | str] = []
    for item in args_list:
        if isinstance(item, int) or (isinstance(item, str) and not item.isdigit()):
            args.append(item)
        elif isinstance(item, str):
            args.append(int(item))
        else:
            raise SpecError(f"sink {pattern!r}: args must be positions or keyword names")
    try:
        severity = Severity.parse(entry.get("severity", "high"))
        confidence = float(entry.get("confidence", 0.8))
    except ValueError as exc:
        raise SpecError(f"sink {pattern!r}: {exc}") from None
    if not 0.0 <= confidence <= 1.0:
        raise SpecError(f"sink {pattern!r}: confidence {confidence} is not between 0 and 1")
    return Sink(id=str(entry.get("id") or f"user.sink.{pattern}"), vuln_class=vuln_class, patterns=patterns,
                reason=str(entry.get("reason", "configured in extra_sinks")),
                example=str(entry.get("example", "")), args=tuple(args), severity=severity,
                confidence=confidence, cwe=int(entry.get("cwe", 0) or 0))


def sanitizer_from_mapping(entry: Mapping[str, Any]) -> Sanitizer:
    """A Sanitizer from a `[[tool.coderev.extra_sanitizers]]` table; raise SpecError if unusable."""
    patterns = _patterns(entry)
    pattern = patterns[0]
    kind = str(entry.get("kind", "call"))
    if kind not in {"call", "guard", "attribute"}:
        raise SpecError(f"sanitizer kind {kind!r} is not one of call, attribute, guard")
    return Sanitizer(id=str(entry.get("id") or f"user.sanitizer.{pattern}"), patterns=patterns,
                     reason=str(entry.get("reason", "configured in extra_sanitizers")),
                     example=str(entry.get("example", "")), classes=_classes(entry.get("classes"), None),
                     kind=kind)
