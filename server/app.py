"""Assembles the language server: a session (`server.session`) with every feature module registered."""

from __future__ import annotations

from server import (
    code_action_resolve,
    code_actions,
    diagnostics,
    fix_commands,
    indexing,
    lifecycle,
    model_loading,
    notebooks,
    project,
)
from server.session import CoderevServer

FEATURES = (lifecycle, project, diagnostics, model_loading, indexing, code_actions, code_action_resolve,
            fix_commands, notebooks)
"""The feature modules, in registration order (listeners run in this order)."""


def create_server() -> CoderevServer:
    """A server with every feature registered."""
    server = CoderevServer()
    for feature in FEATURES:
        feature.register(server)
    return server
