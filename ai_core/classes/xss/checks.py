"""Template autoescaping switched off (CWE-79): jinja2 environments that do not escape HTML.

`jinja2.Environment()` does not escape by default; every `{{ value }}` rendered from it into HTML is
a cross-site scripting hole unless `autoescape=True` or `select_autoescape()` is passed. Flask's own
environment escapes .html templates already, and `aiohttp_jinja2.setup()` escapes unless it is given
`autoescape=False`.

Fix: `Environment(loader=..., autoescape=select_autoescape())`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Check, Rule
from ai_core.findings import Finding, Severity, VulnClass

AUTOESCAPE = Rule("xss.jinja2-autoescape-off", VulnClass.XSS, Severity.MEDIUM, 0.75,
                  "jinja2 environment without autoescaping")
_OFF = frozenset({"False", "None", "0"})


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """jinja2.Environment(...) without autoescape, or with autoescape=False; aiohttp_jinja2.setup(autoescape=False)."""
    if b"jinja2" not in ctx.doc.data:
        return
    index = ctx.index
    for site in index.calls_to("jinja2.Environment", "jinja2.environment.Environment", "aiohttp_jinja2.setup"):
        value = site.keyword("autoescape")
        explicit_only = site.qualified == "aiohttp_jinja2.setup"  # it escapes by default
        if (value is None and not explicit_only) or (value is not None and index.text(value) in _OFF):
            what = "aiohttp_jinja2 setup" if explicit_only else "jinja2 Environment"
            yield AUTOESCAPE.finding(ctx, site.node, f"this {what} does not escape HTML; pass "
                                                     "autoescape=select_autoescape()")


CHECK = Check("templates", (AUTOESCAPE,), run)
