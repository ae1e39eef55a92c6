"""Function summaries: what a function does with its parameters, so callers need not re-analyze it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_core.analysis.specs.spec_types import Sink
from ai_core.analysis.taint.values import Fact
from ai_core.findings import Finding, TaintStep


@dataclass(frozen=True, slots=True)
class SinkFlow:
    """Parameter `param` reaches `sink` inside the function (steps from the parameter to the sink)."""

    param: int
    sink: Sink
    marks: frozenset[str]
    steps: tuple[TaintStep, ...]
    whole_list: bool = False
    """For program-only sinks: the parameter is the whole command list, so only its first element matters."""


@dataclass(slots=True)
class Summary:
    """Parameter-to-sink flows, what the return value carries (parameters or sources), and its type."""

    sinks: tuple[SinkFlow, ...] = ()
    returns: tuple[Fact, ...] = ()
    return_kind: str | None = None
    returns_const: bool = False
    returns_clean_head: bool = False
    """Every return value is a list whose first element carries no data (e.g. [sys.executable, ...])."""


@dataclass(slots=True)
class FunctionResult:
    """One function analyzed: its summary and the findings where sources meet sinks inside it."""

    summary: Summary
    findings: list[Finding] = field(default_factory=list)
    deps: frozenset[str] = frozenset()
    env: dict[str, object] | None = None
    """For module-level code: the globals it leaves (used by the module's functions)."""
    attributes: dict[str, object] | None = None
    """For methods: `self.x` -> the source data the method left in it (read by the class's other methods)."""


EMPTY = FunctionResult(Summary())
