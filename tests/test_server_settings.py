"""Settings reach the server from initializationOptions and workspace/configuration, and apply live."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp_support import open_document, start_session, wait_for_diagnostics

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"


async def test_disabled_class_is_not_reported(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name, settings={"enabledClasses": ["sql-injection"]})
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []


async def test_configuration_change_applies_without_restart(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    assert (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    lsp.set_configuration({"minSeverity": "critical"}, section="coderev")
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []


async def test_invalid_setting_is_logged_to_the_client_and_ignored(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name, settings={"minSeverity": "apocalyptic"})
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    assert (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    assert any("apocalyptic" in message.message for message in lsp.log_messages)


async def test_pyproject_settings_of_the_workspace_apply(lsp: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.coderev]\nenabled_classes = [\"xss\"]\n")
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []


async def test_suppression_comment_silences_the_line(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    text = VULNERABLE.replace("(blob)\n", "(blob)  # coderev: ignore[insecure-deserialization]\n")
    uri = open_document(lsp, tmp_path / "app.py", text)
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []
