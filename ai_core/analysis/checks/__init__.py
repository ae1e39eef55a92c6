"""The built-in checks: the taint engine plus each class's non-flow checks (ai_core/classes/<class>/checks.py)."""

from __future__ import annotations

from ai_core.analysis.checks import taint
from ai_core.analysis.rules import Registry
from ai_core.classes import class_parts


def default_registry() -> Registry:
    """A registry with every built-in check: the taint engine and the non-flow checks of every class."""
    return Registry([taint.CHECK, *(module.CHECK for _, module in class_parts("checks"))])
