"""With default settings (model and indexing on) the model loads in the editor, and the rules answer first."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tests.lsp_support import open_document, server_config, wait_for_diagnostics
from tests.test_model_server import VULNERABLE, wait_for_log

MODEL_STATUS = "coderev/modelStatus"
pytestmark = pytest.mark.slow  # 10-15 s each (the real model and index load); still run by `make test`


@pytest_lsp.fixture(config=server_config(), params=["neovim", "visual_studio_code"])
async def editor(lsp_client: LanguageClient, request: Any):
    """A client with a recorded editor's capabilities that records the server's model status notifications."""
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    lsp_client.model_status = []  # type: ignore[attr-defined]

    @lsp_client.feature(MODEL_STATUS)
    def on_status(params: Any) -> None:
        lsp_client.model_status.append(params)  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(_params: types.RegistrationParams) -> None:
        """Accept the file watchers, as an editor does."""

    yield
    await lsp_client.shutdown_session()


async def start_with_defaults(client: LanguageClient, root: Path, **settings: Any) -> None:
    """initialize with no coderev settings but `settings` (the defaults a fresh workspace gets)."""
    client.set_configuration(settings, section="coderev")
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(client.client_name),  # type: ignore[attr-defined]
        root_uri=root.as_uri(), workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options={"coderev": settings} if settings else None))


def states(client: LanguageClient) -> list[str]:
    """The model states the server reported, in order."""
    return [status.state if hasattr(status, "state") else status["state"]
            for status in client.model_status]  # type: ignore[attr-defined]


async def test_with_default_settings_the_model_loads_beside_the_indexer(editor: LanguageClient, tmp_path: Path):
    for index in range(3):  # something for the background indexer to embed meanwhile
        (tmp_path / f"module_{index}.py").write_text(VULNERABLE)
    await start_with_defaults(editor, tmp_path)
    assert "adapter" in await wait_for_log(editor, "model loaded", timeout=300)
    assert states(editor)[-1] == "loaded"
    assert "model unavailable" not in " ".join(m.message for m in editor.log_messages)


async def test_on_a_warm_server_the_rules_publish_first_within_300_ms(editor: LanguageClient, tmp_path: Path):
    await start_with_defaults(editor, tmp_path, diagnosticMode="push")
    await wait_for_log(editor, "model loaded", timeout=300)
    await wait_for_diagnostics(editor, open_document(editor, tmp_path / "warm.py", VULNERABLE), version=1)
    latencies = []
    for index in range(3):  # the best of three, so one scheduling hiccup on a busy machine does not decide
        started = time.monotonic()
        uri = open_document(editor, tmp_path / f"app_{index}.py", VULNERABLE.replace("restore", f"restore{index}"))
        first = await wait_for_diagnostics(editor, uri, version=1)
        latencies.append(time.monotonic() - started)
        assert "insecure-deserialization" in [d.code for d in first.diagnostics]
    assert min(latencies) < 0.3, latencies


async def test_an_unavailable_model_is_shown_to_the_user_with_the_reason(editor: LanguageClient, tmp_path: Path):
    await start_with_defaults(editor, tmp_path, adapter="9.9.9", indexEnabled=False)
    assert "9.9.9" in await wait_for_log(editor, "model unavailable", timeout=300)
    assert states(editor)[-1] == "unavailable"
    [shown] = [m for m in editor.messages if "model is unavailable" in m.message]
    assert shown.type == types.MessageType.Warning and "9.9.9" in shown.message
