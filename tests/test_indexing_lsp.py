"""Workspace indexing through the real server: background $/progress, diagnostics meanwhile, saves, deletes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from ai_core.retrieval import CodeIndex
from tests.lsp_support import open_document, start_session, wait_for_diagnostics

pytestmark = pytest.mark.slow  # 20-35 s each (real LanceDB and embeddings); still run by `make test`

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
FILES = {
    "shop/db.py": "import sqlite3\n\n\ndef load_customer(conn, customer_id):\n"
                  "    return conn.execute('SELECT * FROM customers WHERE id = ?', (customer_id,)).fetchone()\n",
    "shop/text.py": "import html\n\n\ndef sanitize_markup(value):\n    return html.escape(value)\n",
    "shop/mail.py": "class Mailer:\n    def send_welcome_email(self, address):\n        return address\n",
}


def write_project(root: Path) -> None:
    """A small workspace."""
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


async def next_progress(client: LanguageClient, timeout: float = 300.0) -> None:
    """Wait for the next $/progress notification."""
    await asyncio.wait_for(client.wait_for_notification(types.PROGRESS), timeout)


async def indexing_token(client: LanguageClient) -> str:
    """The token of the server's indexing progress, once it has begun."""
    while True:
        for token, reports in client.progress_reports.items():
            if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and "index" in reports[0].title:
                return str(token)
        await next_progress(client)


async def progress_end(client: LanguageClient, token: str) -> types.WorkDoneProgressEnd:
    """The `end` report of a progress token."""
    while True:
        ends = [r for r in client.progress_reports.get(token, []) if isinstance(r, types.WorkDoneProgressEnd)]
        if ends:
            return ends[0]
        await next_progress(client)


async def log_line(client: LanguageClient, pattern: str, start: int, timeout: float = 300.0) -> str:
    """The first window/logMessage after message number `start` matching `pattern`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for message in client.log_messages[start:]:
            if re.search(pattern, message.message):
                return message.message
        await asyncio.wait_for(client.wait_for_notification(types.WINDOW_LOG_MESSAGE), deadline - loop.time())


def accept_registrations(client: LanguageClient) -> list[types.Registration]:
    """Answer client/registerCapability as an editor would; returns the list the registrations go to."""
    registrations: list[types.Registration] = []
    if types.CLIENT_REGISTER_CAPABILITY not in client.protocol.fm.features:
        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register_capability(_client: LanguageClient, params: types.RegistrationParams) -> None:
            registrations.extend(params.registrations)

    return registrations


def ended(client: LanguageClient, token: str) -> bool:
    """True once the progress has ended."""
    return any(isinstance(r, types.WorkDoneProgressEnd) for r in client.progress_reports.get(token, []))


async def test_the_workspace_is_indexed_in_the_background_while_diagnostics_still_arrive(
        lsp: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    registrations = accept_registrations(lsp)
    await start_session(lsp, tmp_path, lsp.client_name, settings={"indexEnabled": True})
    token = await indexing_token(lsp)
    begin = lsp.progress_reports[token][0]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable

    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    diagnostics = await wait_for_diagnostics(lsp, uri, version=1)
    assert [d.code for d in diagnostics.diagnostics] == ["insecure-deserialization"]
    assert not ended(lsp, token)  # published while the index was still being built

    end = await progress_end(lsp, token)
    assert "3 files (3 changed" in (end.message or "")
    reports = [r for r in lsp.progress_reports[token] if isinstance(r, types.WorkDoneProgressReport)]
    assert reports and reports[-1].percentage == 100
    index = CodeIndex(tmp_path)
    [found] = index.find_definitions("load_customer")
    assert found.path == str(tmp_path / "shop" / "db.py") and found.start_line == 4
    assert await log_line(lsp, "resolves definitions through the index", 0)  # wired into server.project
    watched = lsp.capabilities.workspace.did_change_watched_files  # type: ignore[union-attr]
    if watched is not None and watched.dynamic_registration:  # VS Code: the server asks for *.py events
        assert [r.method for r in registrations] == [types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
        assert registrations[0].register_options["watchers"][0]["globPattern"] == "**/*.py"
    else:
        assert registrations == []


async def test_saves_and_deleted_files_update_the_index_and_reindex_reports_it(
        lsp: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    accept_registrations(lsp)
    await start_session(lsp, tmp_path, lsp.client_name, settings={"indexEnabled": True})
    await progress_end(lsp, await indexing_token(lsp))

    text = tmp_path / "shop" / "text.py"
    text.write_text(text.read_text() + "\n\ndef strip_tags(value):\n    return value.replace('<', '')\n")
    uri = open_document(lsp, text, text.read_text())
    start = len(lsp.log_messages)
    lsp.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert await log_line(lsp, r"\(1 changed, 0 removed", start)

    mail = tmp_path / "shop" / "mail.py"
    mail.unlink()
    start = len(lsp.log_messages)
    lsp.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=mail.as_uri(), type=types.FileChangeType.Deleted)]))
    assert await log_line(lsp, r"\(0 changed, 1 removed", start)

    index = CodeIndex(tmp_path)
    assert index.find_definitions("strip_tags")[0].text.startswith("def strip_tags(value):")
    assert index.find_definitions("Mailer") == []

    result = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command="coderev.reindex"))
    [folder] = result["folders"]
    assert folder["ok"] and folder["root"] == str(tmp_path)
    assert (folder["files"], folder["changed"], folder["embedded"]) == (2, 0, 0)


async def test_indexing_can_be_cancelled_from_the_client(lsp: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    accept_registrations(lsp)
    await start_session(lsp, tmp_path, lsp.client_name, settings={"indexEnabled": True})
    token = await indexing_token(lsp)
    lsp.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    end = await progress_end(lsp, token)
    assert "(cancelled)" in (end.message or "")


async def test_the_index_setting_is_respected_and_turning_it_on_starts_indexing(
        lsp: LanguageClient, tmp_path: Path):
    write_project(tmp_path)
    accept_registrations(lsp)
    await start_session(lsp, tmp_path, lsp.client_name)  # the test default: indexEnabled false
    (tmp_path / "app.py").write_text(VULNERABLE)
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    await wait_for_diagnostics(lsp, uri, version=1)
    result = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command="coderev.reindex"))
    assert result == {"folders": []}
    assert not (tmp_path / ".coderev").exists()

    lsp.set_configuration({"indexEnabled": True, "indexUri": "build/code-index"}, section="coderev")
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    end = await progress_end(lsp, await indexing_token(lsp))
    assert "(4 changed" in (end.message or "")  # app.py is on disk now too
    assert (tmp_path / "build" / "code-index" / "chunks.lance").is_dir()
    assert not (tmp_path / ".coderev").exists()
