"""initialize / initialized / configuration: how settings reach the server and change it live.

Handlers (registered by `register`): initialize, initialized, workspace/didChangeConfiguration and
workspace/didChangeWorkspaceFolders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from lsprotocol import types

from server import logs
from server.diagnostics import reanalyze_all
from server.session import CONFIG_SECTION, CoderevServer, notify

log = logging.getLogger(__name__)

CONFIG_TIMEOUT_S = 5.0


def _section(value: Any) -> dict[str, Any]:
    """Accept {"coderev": {...}} or the section itself; anything else is empty."""
    if isinstance(value, Mapping):
        inner = value.get(CONFIG_SECTION)
        return dict(inner) if isinstance(inner, Mapping) else dict(value)
    return {}


async def fetch_configuration(server: CoderevServer) -> None:
    """Ask the client for the `coderev` section, globally and per workspace folder."""
    capabilities = server.client_capabilities
    if not (capabilities.workspace and capabilities.workspace.configuration):
        return
    folder_uris = list(server.folder_uris())
    items = [types.ConfigurationItem(section=CONFIG_SECTION)]
    items += [types.ConfigurationItem(scope_uri=uri, section=CONFIG_SECTION) for uri in folder_uris]
    try:
        answers = await asyncio.wait_for(
            server.workspace_configuration_async(types.ConfigurationParams(items=items)),
            CONFIG_TIMEOUT_S,
        )
    except Exception as exc:  # a client that cannot answer keeps the defaults
        log.warning("workspace/configuration failed (%s); keeping current settings", exc)
        return
    answers = list(answers or [])
    server.client_settings = {"": _section(answers[0] if answers else None)}
    for uri, answer in zip(folder_uris, answers[1:], strict=False):
        server.client_settings[uri] = _section(answer)
    server.reconfigure()


def initialize(ls: CoderevServer, params: types.InitializeParams) -> None:
    """Take the initializationOptions and create the workspace folders' states."""
    ls.init_options = _section(params.initialization_options)
    ls.settings_ready = asyncio.Event()
    ls.load_folders()


async def initialized(ls: CoderevServer, _params: types.InitializedParams) -> None:
    """Forward logs to the client, ask it for settings, then start the features that wait for both."""
    logs.install(ls, asyncio.get_running_loop())
    log.info("coderev %s ready (positions: %s)", ls.version, ls.encoding.value)
    try:
        await fetch_configuration(ls)
    finally:
        if ls.settings_ready is not None:
            ls.settings_ready.set()
    notify(ls.listeners.initialized, "initialized")


async def did_change_configuration(ls: CoderevServer, params: types.DidChangeConfigurationParams) -> None:
    """Take pushed settings (or ask for them), reconfigure live and analyze the open documents again."""
    pushed = _section(params.settings)
    if pushed:  # clients that push settings instead of answering workspace/configuration
        ls.client_settings[""] = pushed
        ls.reconfigure()
    await fetch_configuration(ls)
    reanalyze_all(ls)


async def did_change_folders(ls: CoderevServer, _params: types.DidChangeWorkspaceFoldersParams) -> None:
    """Create states for new workspace folders and fetch their settings."""
    ls.load_folders()
    await fetch_configuration(ls)


def register(server: CoderevServer) -> None:
    """Register the lifecycle handlers."""
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(did_change_folders)
