"""Helpers for end-to-end tests that drive the real server over stdio with pytest-lsp."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def server_config(env: dict[str, str] | None = None) -> ClientServerConfig:
    """Start `coderev serve` from this interpreter."""
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "server.cli", "serve"],
        server_env={**SERVER_ENV, **(env or {})},
    )


async def start_session(
    client: LanguageClient,
    root: Path,
    client_name: str = "neovim",
    settings: dict[str, Any] | None = None,
    encodings: list[str] | None = None,
) -> types.InitializeResult:
    """Initialize the server with a recorded client's capabilities and `root` as the workspace."""
    capabilities = client_capabilities(client_name)
    if encodings is not None:
        if capabilities.general is None:
            capabilities.general = types.GeneralClientCapabilities()
        capabilities.general.position_encodings = encodings  # type: ignore[assignment]
    client.set_configuration(settings or {}, section="coderev")
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options={"coderev": {"modelEnabled": False, "indexEnabled": False, "diagnosticMode": "push",
                                            **(settings or {})}},
    ))


async def wait_for_diagnostics(
    client: LanguageClient, uri: str, version: int | None = None, timeout: float = 60.0
) -> types.PublishDiagnosticsParams:
    """The next publishDiagnostics for `uri` (and `version`, if given); fails after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"no diagnostics for {uri} v{version}")
        params = await asyncio.wait_for(
            client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), remaining)
        if params.uri == uri and (version is None or params.version == version):
            return params


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    """Send didOpen for `text` at `path`; returns the uri."""
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def replace_all(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """Send a didChange that replaces the whole document."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def edit(client: LanguageClient, uri: str, version: int, start: tuple[int, int], end: tuple[int, int],
         text: str) -> None:
    """Send an incremental didChange replacing [start, end) (in the negotiated encoding)."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(*start), end=types.Position(*end)), text=text)]))
