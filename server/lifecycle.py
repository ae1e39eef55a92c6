"""initialize / initialized / configuration: how settings reach the server and change it live."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from lsprotocol import types

from server import logs
from server.app import CONFIG_SECTION, CoderevServer

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
    folder_uris = list(server._folder_paths())
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


def register(server: CoderevServer) -> None:
    """Register the lifecycle handlers."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: CoderevServer, params: types.InitializeParams) -> None:
        ls.init_options = _section(params.initialization_options)
        ls.settings_ready = asyncio.Event()
        ls.load_folders()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CoderevServer, _params: types.InitializedParams) -> None:
        logs.install(ls, asyncio.get_running_loop())
        log.info("coderev %s ready (positions: %s)", ls.version, ls.encoding.value)
        try:
            await fetch_configuration(ls)
        finally:
            if ls.settings_ready is not None:
                ls.settings_ready.set()
        for listener in ls.listeners.initialized:
            try:
                listener()
            except Exception:
                log.exception("initialized listener failed")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: CoderevServer, params: types.DidChangeConfigurationParams
    ) -> None:
        pushed = _section(params.settings)
        if pushed:  # clients that push settings instead of answering workspace/configuration
            ls.client_settings[""] = pushed
            ls.reconfigure()
        await fetch_configuration(ls)
        from server.diagnostics import reanalyze_all

        reanalyze_all(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(
        ls: CoderevServer, _params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        ls.load_folders()
        await fetch_configuration(ls)
