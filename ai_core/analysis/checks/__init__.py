"""The built-in checks; `default_registry` is the one place they are all listed."""

from __future__ import annotations

from ai_core.analysis.checks import auth, cors, exposure, misconfig, secrets, session, taint, templates
from ai_core.analysis.rules import Registry


def default_registry() -> Registry:
    """A registry with every built-in check: the taint engine and the non-flow checks."""
    return Registry([taint.CHECK, secrets.CHECK, misconfig.CHECK, cors.CHECK, auth.CHECK, session.CHECK,
                     exposure.CHECK, templates.CHECK])
