"""Abstract values of the taint engine: where data came from (facts), whether it is a constant, its type.

A Fact is one origin (a source, or a parameter of the function being summarised) with the path it
took and the marks sanitizers left on it (class ids it is safe for, ALL, NORMALIZED). A Val is what an
expression evaluates to: a few facts, a constant flag, a type name and, for lists, the first element
(the program of a command line).
"""

from __future__ import annotations

from collections.abc import Iterable

from ai_core.analysis.specs.spec_types import ALL, INJECTION_CLASSES
from ai_core.findings import TaintStep, VulnClass

MAX_STEPS = 18
MAX_FACTS = 6


class Origin:
    """A source (param == -1) or the parameter at `param` of the function being analyzed."""

    __slots__ = ("classes", "label", "param", "source_id")

    def __init__(self, param: int, source_id: str = "", label: str = "",
                 classes: frozenset[VulnClass] = INJECTION_CLASSES) -> None:
        self.param = param
        self.source_id = source_id
        self.label = label
        self.classes = classes

    @property
    def is_source(self) -> bool:
        """True for real sources (request data, argv...), False for parameters."""
        return self.param < 0

    def __repr__(self) -> str:
        return f"Origin({self.label or self.source_id or self.param})"


class Fact:
    """One origin reaching this value, with sanitizer marks and the steps it took."""

    __slots__ = ("marks", "origin", "steps")

    def __init__(self, origin: Origin, marks: frozenset[str], steps: tuple[TaintStep, ...]) -> None:
        self.origin = origin
        self.marks = marks
        self.steps = steps

    def cleared(self, vuln_class: VulnClass) -> bool:
        """True when a sanitizer made this data safe for `vuln_class`."""
        marks = self.marks
        return bool(marks) and (ALL in marks or vuln_class.value in marks)

    def then(self, step: TaintStep) -> Fact:
        """This fact one step further."""
        return Fact(self.origin, self.marks, _cap((*self.steps, step)))

    def __repr__(self) -> str:
        return f"Fact({self.origin!r}, {sorted(self.marks)})"


class Val:
    """The abstract value of an expression."""

    __slots__ = ("const", "facts", "head", "kind")

    def __init__(self, facts: tuple[Fact, ...] = (), const: bool = False, kind: str | None = None,
                 head: Val | None = None) -> None:
        self.facts = facts
        self.const = const
        self.kind = kind
        self.head = head

    def __repr__(self) -> str:
        return f"Val({list(self.facts)}, const={self.const}, kind={self.kind})"

    def typed(self, kind: str | None) -> Val:
        """The same data with another type."""
        return Val(self.facts, self.const, kind, self.head)


CLEAN = Val()
"""Not tainted, not known to be constant (e.g. the result of an unknown call)."""
CONST = Val(const=True)
"""Built from literals only."""


def _cap(steps: tuple[TaintStep, ...]) -> tuple[TaintStep, ...]:
    if len(steps) <= MAX_STEPS:
        return steps
    return steps[:3] + steps[-(MAX_STEPS - 3):]


def merge_facts(groups: Iterable[tuple[Fact, ...]]) -> tuple[Fact, ...]:
    """Facts of several values, one per (origin, marks), first path wins."""
    result: list[Fact] = []
    seen: set[tuple[int, frozenset[str]]] = set()
    for facts in groups:
        for fact in facts:
            key = (id(fact.origin), fact.marks)
            if key not in seen:
                seen.add(key)
                result.append(fact)
                if len(result) >= MAX_FACTS:
                    return tuple(result)
    return tuple(result)


def join(vals: Iterable[Val]) -> Val:
    """The value of an expression combining `vals` (taint of any, constant only if all are)."""
    groups: list[tuple[Fact, ...]] = []
    const = True
    count = 0
    for val in vals:
        count += 1
        if val.facts:
            groups.append(val.facts)
        if not val.const:
            const = False
    if not groups:
        return CONST if const and count else CLEAN
    if len(groups) == 1:
        return Val(groups[0])
    return Val(merge_facts(groups))


def join2(a: Val, b: Val) -> Val:
    """join() of two values, without building a list."""
    if not a.facts and not b.facts:
        return CONST if a.const and b.const else CLEAN
    if not b.facts:
        return Val(a.facts)
    if not a.facts:
        return Val(b.facts)
    return Val(merge_facts((a.facts, b.facts)))


def stepped(val: Val, step: TaintStep) -> Val:
    """`val` with one more step on each of its facts (constants and clean values unchanged)."""
    if not val.facts:
        return val
    return Val(tuple(fact.then(step) for fact in val.facts), val.const, val.kind, val.head)


def sources_only(val: Val) -> Val:
    """`val` without the parameters of the function it came from (what a nested function may see of it)."""
    if not val.facts or all(fact.origin.is_source for fact in val.facts):
        return val
    return Val(tuple(fact for fact in val.facts if fact.origin.is_source), val.const, val.kind, val.head)


SANITIZED = Origin(-2, "sanitizer", "a sanitizer's output", frozenset())
"""What a sanitizer returns when nothing was known of its input: safe for the sanitizer's classes (its marks), no
source for any class (`escape(row.title)` is not data 'not proven safe' for XSS any more)."""


def sanitized(marks: frozenset[str]) -> Val:
    """A sanitizer's output for an input of unknown origin."""
    return Val((Fact(SANITIZED, marks, ()),)) if marks else CLEAN


def unproven(val: Val, vuln_class: VulnClass) -> bool:
    """No origin is known (nothing, or only sanitizer outputs) and no sanitizer cleared it for `vuln_class`."""
    return not val.facts or (all(f.origin is SANITIZED for f in val.facts)
                             and not all(f.cleared(vuln_class) for f in val.facts))


def marked(val: Val, marks: frozenset[str]) -> Val:
    """`val` after a sanitizer: its facts carry `marks`; with ALL it is as safe as a constant."""
    if ALL in marks:
        return CONST
    if not val.facts:
        return val if val.const else sanitized(marks)
    return Val(tuple(Fact(f.origin, f.marks | marks, f.steps) for f in val.facts), False, val.kind, val.head)


def class_marks(classes: Iterable[VulnClass] | None) -> frozenset[str]:
    """Sanitizer marks for a set of classes (None: every class)."""
    if classes is None:
        return frozenset({ALL})
    return frozenset(c.value for c in classes)
