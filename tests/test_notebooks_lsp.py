"""Notebook document sync over stdio with the real server: diagnostics per cell, cell-relative ranges."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tests.lsp_support import start_session
from tests.test_notebooks import SAFE, SETUP, VULNERABLE


def cell_uri(notebook: Path, n: int) -> str:
    return f"vscode-notebook-cell:{notebook.as_posix()}#W{n}sZmlsZQ%3D%3D"


async def cell_diagnostics(client: LanguageClient, uri: str, clean: bool = False,
                           timeout: float = 60.0) -> list[types.Diagnostic]:
    """The diagnostics of a cell once it has some (or, with `clean`, once it has none); a notebook publishes
    its cells back to back, so this reads the client's record instead of waiting for one notification."""
    async def settled() -> list[types.Diagnostic]:
        while uri not in client.diagnostics or bool(client.diagnostics[uri]) == clean:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(client.diagnostics[uri])

    return await asyncio.wait_for(settled(), timeout)


def open_notebook(client: LanguageClient, path: Path, handler: str, setup: str = SETUP) -> list[str]:
    """didOpen a notebook of a setup cell, a markdown cell and `handler` (as VS Code sends it); cell uris."""
    uris = [cell_uri(path, n) for n in range(3)]
    kinds = [types.NotebookCellKind.Code, types.NotebookCellKind.Markup, types.NotebookCellKind.Code]
    texts = [setup, "# The *handler*", handler]
    languages = ["python", "markdown", "python"]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=path.as_uri(), notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=k, document=u) for k, u in zip(kinds, uris, strict=True)]),
        cell_text_documents=[types.TextDocumentItem(uri=u, language_id=lang, version=1, text=t)
                             for u, lang, t in zip(uris, languages, texts, strict=True)]))
    return uris


async def test_server_declares_notebook_sync_for_python_cells_to_notebook_clients(lsp: LanguageClient,
                                                                                 tmp_path: Path):
    capabilities = client_capabilities(lsp.client_name)
    capabilities.notebook_document = types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities())
    result = await lsp.initialize_session(types.InitializeParams(capabilities=capabilities,
                                                                 root_uri=tmp_path.as_uri()))
    sync = result.capabilities.notebook_document_sync
    assert isinstance(sync, types.NotebookDocumentSyncOptions)
    assert [c.language for f in sync.notebook_selector for c in (f.cells or [])] == ["python"]


async def test_flow_across_cells_is_reported_on_the_sink_cell_with_a_cell_relative_range(
        lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    setup, _markdown, handler = open_notebook(lsp, tmp_path / "nb.ipynb", VULNERABLE)
    diagnostics = await cell_diagnostics(lsp, handler)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diagnostics] \
        == [("command-injection", 3, 4)]
    assert list(lsp.diagnostics[setup]) == []


async def test_editing_the_cell_safe_clears_its_diagnostic(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    path = tmp_path / "nb.ipynb"
    handler = open_notebook(lsp, path, VULNERABLE)[2]
    assert await cell_diagnostics(lsp, handler)
    lsp.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=path.as_uri(), version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=handler, version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(text=SAFE)])]))))
    assert await cell_diagnostics(lsp, handler, clean=True) == []


async def test_closing_the_notebook_clears_its_cells(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    path = tmp_path / "nb.ipynb"
    uris = open_notebook(lsp, path, VULNERABLE)
    assert await cell_diagnostics(lsp, uris[2])
    lsp.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        notebook_document=types.NotebookDocumentIdentifier(uri=path.as_uri()),
        cell_text_documents=[types.TextDocumentIdentifier(uri=u) for u in uris]))
    assert await cell_diagnostics(lsp, uris[2], clean=True) == []


async def test_a_settings_change_republishes_the_notebook(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    handler = open_notebook(lsp, tmp_path / "nb.ipynb", VULNERABLE)[2]
    assert await cell_diagnostics(lsp, handler)
    lsp.set_configuration({"minSeverity": "critical"}, section="coderev")
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert await cell_diagnostics(lsp, handler, clean=True) == []


async def test_a_taint_step_in_another_cell_points_at_that_cell(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    setup = "from flask import request\nimport os\n\nq = request.args['d']\n"
    source_cell, _markdown, sink_cell = open_notebook(lsp, tmp_path / "nb.ipynb", "os.system('ls ' + q)\n", setup)
    [diagnostic] = await cell_diagnostics(lsp, sink_cell)
    assert diagnostic.code == "command-injection"
    first = (diagnostic.related_information or [])[0]
    assert (first.location.uri, first.location.range.start.line) == (source_cell, 3)
    assert diagnostic.related_information[-1].location.uri == sink_cell
