"""The built-in checks; `default_registry` is the one place they are all listed."""

from __future__ import annotations

from ai_core.analysis.checks import taint
from ai_core.analysis.rules import Registry


def default_registry() -> Registry:
    """A registry with every built-in check."""
    return Registry([taint.CHECK])
