"""Help for a rule: what the class is, why it matters, this rule's reason, and a vulnerable/fixed example."""

from __future__ import annotations

import logging
import textwrap
from dataclasses import dataclass
from functools import cache

from ai_core.analysis.specs import CLASS_SPECS
from ai_core.findings import VulnClass
from ai_core.fixes.explain import WHY

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RuleHelp:
    """Everything a report says about one rule of one class."""

    vuln_class: VulnClass
    rule: str
    cwe: int
    title: str
    why: str
    reason: str
    """The spec entry's reason ('' for rules that are not spec sinks)."""
    vulnerable: str
    fixed: str

    @property
    def cwe_uri(self) -> str:
        """The class's CWE page."""
        return f"https://cwe.mitre.org/data/definitions/{self.cwe}.html"

    def text(self) -> str:
        """Plain-text help."""
        parts = [f"{self.title} (CWE-{self.cwe})", "", self.why]
        if self.reason:
            parts += ["", self.reason]
        if self.vulnerable:
            parts += ["", "Vulnerable:", textwrap.indent(self.vulnerable, "    ")]
        if self.fixed:
            parts += ["", "Fixed:", textwrap.indent(self.fixed, "    ")]
        parts += ["", f"Silence a reviewed finding with `# coderev: ignore[{self.vuln_class.value}]`.", self.cwe_uri]
        return "\n".join(parts)

    def markdown(self) -> str:
        """Markdown help (GitHub shows it on the alert)."""
        parts = [f"## {self.title} (CWE-{self.cwe})", "", self.why]
        if self.reason:
            parts += ["", f"**This rule (`{self.rule}`):** {self.reason}"]
        if self.vulnerable:
            parts += ["", "### Vulnerable", "", "```python", self.vulnerable, "```"]
        if self.fixed:
            parts += ["", "### Fixed", "", "```python", self.fixed, "```"]
        parts += ["", f"Silence a reviewed finding on its line with `# coderev: ignore[{self.vuln_class.value}]`.",
                  "", f"[CWE-{self.cwe}]({self.cwe_uri})"]
        return "\n".join(parts)


def _example(vuln_class: VulnClass) -> tuple[str, str]:
    """The class's first knowledge-base example (vulnerable, fixed), or the spec's sink example alone."""
    try:
        from ai_core.retrieval.knowledge import examples_for

        examples = examples_for(vuln_class)
    except Exception:  # the help stands without the example
        log.exception("no knowledge-base example for %s", vuln_class.value)
        examples = []
    if examples:
        return textwrap.dedent(examples[0].vulnerable).strip(), textwrap.dedent(examples[0].fixed).strip()
    return "", ""


@cache
def rule_help(vuln_class: VulnClass, rule: str, cwe: int = 0) -> RuleHelp:
    """Help for `rule` of `vuln_class` (spec sinks have their own reason and example)."""
    sink = next((s for s in CLASS_SPECS[vuln_class].sinks if s.id == rule), None)
    vulnerable, fixed = _example(vuln_class)
    reason = ""
    title = vuln_class.title
    if sink is not None:
        reason = sink.reason + (f" For example: `{sink.example}`." if sink.example else "")
        title = f"{vuln_class.title}: {sink.title}" if sink.title else title
    return RuleHelp(vuln_class, rule, cwe or vuln_class.cwe, title, WHY[vuln_class], reason, vulnerable, fixed)
