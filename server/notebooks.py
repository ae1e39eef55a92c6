"""Notebook document sync (LSP 3.17 `notebookDocument/*`): a notebook's code cells are analyzed together as
one Python source, and each cell gets its own diagnostics.

pygls keeps the notebooks and their cell documents in the workspace; the handlers here only schedule the
analysis (debounced on change, off the event loop) and publish per cell uri, dropping results of a
notebook version that changed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from server.convert import cell_diagnostics, notebook_source
from server.session import CoderevServer

if TYPE_CHECKING:
    from ai_core.findings import Finding
    from ai_core.notebooks import NotebookSource

log = logging.getLogger(__name__)

SETTINGS_WAIT_S = 3.0
SYNC_OPTIONS = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(
        cells=[types.NotebookCellLanguage(language="python")], notebook="*")],
    save=True,
)


def _analyze(server: CoderevServer, path: str, source: NotebookSource) -> list[Finding]:
    """Runs on the analysis pool: never raises."""
    try:
        return server.analyzer_for(path).analyze_text(source.text, path)
    except Exception:
        log.exception("analysis of notebook %s failed", path)
        return []


async def publish_notebook(server: CoderevServer, uri: str, delay_s: float = 0.0) -> None:
    """Wait `delay_s` (debounce), analyze the notebook, publish each cell's diagnostics if still current."""
    try:
        if delay_s:
            await asyncio.sleep(delay_s)
        notebook = server.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is None:
            return
        if server.settings_ready is not None and not server.settings_ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.settings_ready.wait(), SETTINGS_WAIT_S)
        version = notebook.version
        source = notebook_source(notebook, lambda uri: _cell_text(server, uri))
        path = to_fs_path(uri) or uri
        loop = asyncio.get_running_loop()
        findings = await loop.run_in_executor(server.executor, _analyze, server, path, source)
        current = server.workspace.get_notebook_document(notebook_uri=uri)
        if current is None or current.version != version:
            log.debug("dropping results for notebook %s v%d", uri, version)
            return
        texts = {cell.key: _cell_text(server, cell.key)[1] for cell in source.cells}
        for cell_uri, diagnostics in cell_diagnostics(source, findings, texts, server.encoding).items():
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=cell_uri, version=server.workspace.get_text_document(cell_uri).version,
                diagnostics=diagnostics))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("publishing diagnostics for notebook %s failed", uri)


def _cell_text(server: CoderevServer, uri: str) -> tuple[str | None, str]:
    """A notebook cell's (language id, text), from the cell documents pygls keeps for notebooks."""
    document = server.workspace.get_text_document(uri)
    return document.language_id, document.source


def schedule(server: CoderevServer, uri: str, debounce: bool) -> None:
    """(Re)start the debounced analysis of a notebook, cancelling a pending one."""
    key = f"notebook:{uri}"
    previous = server.scheduled.pop(key, None)
    if previous is not None and not previous.done():
        previous.cancel()
    delay = server.settings_for(to_fs_path(uri) or uri).debounce_ms / 1000 if debounce else 0.0
    task = asyncio.get_running_loop().create_task(publish_notebook(server, uri, delay))
    server.scheduled[key] = task
    task.add_done_callback(lambda t: server.scheduled.pop(key, None) if server.scheduled.get(key) is t else None)


def reanalyze_notebooks(server: CoderevServer) -> None:
    """Re-publish every open notebook (after a settings change)."""
    for uri in list(server.workspace.notebook_documents):
        schedule(server, uri, debounce=False)


def register(server: CoderevServer) -> None:
    """Declare notebook sync for Python cells and register its handlers."""
    server._notebook_document_sync = SYNC_OPTIONS  # read by pygls when it builds the capabilities
    server.listeners.settings_changed.append(lambda: reanalyze_notebooks(server))
    server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)(did_close)


def did_open(ls: CoderevServer, params: types.DidOpenNotebookDocumentParams) -> None:
    """A notebook opened: analyze it now."""
    schedule(ls, params.notebook_document.uri, debounce=False)

def did_change(ls: CoderevServer, params: types.DidChangeNotebookDocumentParams) -> None:
    """Cells edited, added or removed: clear removed cells, analyze again after the debounce."""
    uri = params.notebook_document.uri
    cells = params.change.cells
    closed = [cell.uri for cell in (cells.structure.did_close or [])] if cells and cells.structure else []
    for cell_uri in closed:  # removed cells: clear what was shown on them
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell_uri, diagnostics=[]))
    schedule(ls, uri, debounce=True)

def did_close(ls: CoderevServer, params: types.DidCloseNotebookDocumentParams) -> None:
    """A notebook closed: stop its analysis, clear its cells."""
    previous = ls.scheduled.pop(f"notebook:{params.notebook_document.uri}", None)
    if previous is not None:
        previous.cancel()
    for cell in params.cell_text_documents:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))
