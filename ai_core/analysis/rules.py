"""Rule metadata and the registry of checks; a registry rejects duplicate rule ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ai_core.analysis.context import AnalysisContext
from ai_core.findings import Finding, Severity, VulnClass


@dataclass(frozen=True, slots=True)
class Rule:
    """A stable rule id with its class, CWE, default severity and prior confidence."""

    id: str
    vuln_class: VulnClass
    severity: Severity
    confidence: float
    title: str
    cwe: int = 0

    def finding(self, ctx: AnalysisContext, node: object, message: str, **extra: object) -> Finding:
        """A finding of this rule on a tree-sitter node of `ctx`'s document."""
        from ai_core.findings import Span

        return Finding(
            vuln_class=self.vuln_class,
            rule=self.id,
            message=message,
            path=ctx.path,
            span=Span.of_node(node),
            severity=self.severity,
            confidence=self.confidence,
            cwe=self.cwe or self.vuln_class.cwe,
            snippet=ctx.doc.node_text(node),
            **extra,  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class Check:
    """A named check: the rules it can report and the function that finds them."""

    name: str
    rules: tuple[Rule, ...]
    run: Callable[[AnalysisContext], Iterable[Finding]]

    @property
    def classes(self) -> frozenset[VulnClass]:
        """The classes this check can report."""
        return frozenset(rule.vuln_class for rule in self.rules)


class Registry:
    """Checks by name and rules by id; duplicates are an error."""

    def __init__(self, checks: Iterable[Check] = ()) -> None:
        self.checks: list[Check] = []
        self.rules: dict[str, Rule] = {}
        for check in checks:
            self.add(check)

    def add(self, check: Check) -> None:
        """Register a check; raise ValueError on a duplicate check name or rule id."""
        if any(existing.name == check.name for existing in self.checks):
            raise ValueError(f"duplicate check {check.name!r}")
        for rule in check.rules:
            if rule.id in self.rules:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            self.rules[rule.id] = rule
        self.checks.append(check)
