"""Rewriters per vulnerability class (ai_core/classes/<class>/rewriters.py, its `REWRITERS` in order).

Rewriters are keyed on the finding's class and on the code shape at its span, never on rule ids; each returns
None when the shape is not its own, and the engine tries the next. Shapes that several classes share (TLS
verification, cookie flags, secrets in logs) are listed under each class the engine may report them as.
"""

from __future__ import annotations

from functools import cache

from ai_core.classes import class_parts
from ai_core.findings import VulnClass
from ai_core.fixes.context import Rewriter


@cache
def rewriter_table() -> dict[VulnClass, tuple[Rewriter, ...]]:
    """Every class's rewriters, by class."""
    return {vuln_class: tuple(module.REWRITERS) for vuln_class, module in class_parts("rewriters")}


def rewriters_for(vuln_class: VulnClass) -> tuple[Rewriter, ...]:
    """The rewriters tried, in order, for a class."""
    return rewriter_table().get(vuln_class, ())
