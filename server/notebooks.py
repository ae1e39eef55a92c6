"""Notebook document sync (LSP 3.17 `notebookDocument/*`): a notebook's code cells are analysed together as
one Python source, and each cell gets its own diagnostics.

pygls keeps the notebooks and their cell documents in the workspace; the handlers here only schedule the
analysis (debounced on change, off the event loop) and publish per cell uri, dropping results of a
notebook version that changed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lsprotocol import types
from pygls.uris import to_fs_path

from ai_core.findings import Finding
from ai_core.notebooks import NotebookSource, join_cells
from ai_core.parsing import PositionMap
from server.app import CoderevServer
from server.convert import to_diagnostic

log = logging.getLogger(__name__)

SETTINGS_WAIT_S = 3.0
SYNC_OPTIONS = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(
        cells=[types.NotebookCellLanguage(language="python")], notebook="*")],
    save=True,
)


def notebook_source(server: CoderevServer, notebook: types.NotebookDocument) -> NotebookSource:
    """The notebook's Python code cells, in order, joined (cells keyed by their document uri)."""
    cells = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.kind != types.NotebookCellKind.Code:
            continue
        document = server.workspace.get_text_document(cell.document)
        if document.language_id not in (None, "", "python"):
            continue
        cells.append((number, cell.document, document.source))
    return join_cells(cells)


def _analyse(server: CoderevServer, path: str, source: NotebookSource) -> list[Finding]:
    """Runs on the analysis pool: never raises."""
    try:
        return server.analyzer_for(path).analyze_text(source.text, path)
    except Exception:
        log.exception("analysis of notebook %s failed", path)
        return []


def cell_diagnostics(server: CoderevServer, source: NotebookSource,
                     findings: list[Finding]) -> dict[str, list[types.Diagnostic]]:
    """Diagnostics per cell uri (every code cell present, empty when clean)."""
    positions = {cell.key: PositionMap(server.workspace.get_text_document(cell.key).source.encode("utf-8"))
                 for cell in source.cells}
    by_cell: dict[str, list[types.Diagnostic]] = {cell.key: [] for cell in source.cells}
    for finding in findings:
        located = source.to_cell(finding)
        if located is None:
            continue
        cell, local = located
        try:
            diagnostic = to_diagnostic(local, positions[cell.key], server.encoding, positions.get)
        except Exception:
            log.exception("cannot convert finding %s", finding.rule)
            continue
        steps = local.taint_path.steps if local.taint_path else ()
        for related, step in zip(diagnostic.related_information or [], steps, strict=False):
            if step.path in positions:  # a step in a cell: point at the cell's document
                related.location.uri = step.path
        by_cell[cell.key].append(diagnostic)
    return by_cell


async def publish_notebook(server: CoderevServer, uri: str, delay_s: float = 0.0) -> None:
    """Wait `delay_s` (debounce), analyse the notebook, publish each cell's diagnostics if still current."""
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
        source = notebook_source(server, notebook)
        path = to_fs_path(uri) or uri
        loop = asyncio.get_running_loop()
        findings = await loop.run_in_executor(server.executor, _analyse, server, path, source)
        current = server.workspace.get_notebook_document(notebook_uri=uri)
        if current is None or current.version != version:
            log.debug("dropping results for notebook %s v%d", uri, version)
            return
        for cell_uri, diagnostics in cell_diagnostics(server, source, findings).items():
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=cell_uri, version=server.workspace.get_text_document(cell_uri).version,
                diagnostics=diagnostics))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("publishing diagnostics for notebook %s failed", uri)


def schedule(server: CoderevServer, uri: str, debounce: bool) -> None:
    """(Re)start the debounced analysis of a notebook, cancelling a pending one."""
    key = f"notebook:{uri}"
    pending = server.pending.pop(key, None)
    if pending is not None and not pending.done():
        pending.cancel()
    delay = server.settings_for(to_fs_path(uri) or uri).debounce_ms / 1000 if debounce else 0.0
    task = asyncio.get_running_loop().create_task(publish_notebook(server, uri, delay))
    server.pending[key] = task
    task.add_done_callback(lambda t: server.pending.pop(key, None) if server.pending.get(key) is t else None)


def reanalyze_notebooks(server: CoderevServer) -> None:
    """Re-publish every open notebook (after a settings change)."""
    for uri in list(server.workspace.notebook_documents):
        schedule(server, uri, debounce=False)


def register(server: CoderevServer) -> None:
    """Declare notebook sync for Python cells and register its handlers."""
    server._notebook_document_sync = SYNC_OPTIONS  # read by pygls when it builds the capabilities
    server.listeners.settings_changed.append(lambda: reanalyze_notebooks(server))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def did_open(ls: CoderevServer, params: types.DidOpenNotebookDocumentParams) -> None:
        schedule(ls, params.notebook_document.uri, debounce=False)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def did_change(ls: CoderevServer, params: types.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        cells = params.change.cells
        closed = [cell.uri for cell in (cells.structure.did_close or [])] if cells and cells.structure else []
        for cell_uri in closed:  # removed cells: clear what was shown on them
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell_uri, diagnostics=[]))
        schedule(ls, uri, debounce=True)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def did_close(ls: CoderevServer, params: types.DidCloseNotebookDocumentParams) -> None:
        pending = ls.pending.pop(f"notebook:{params.notebook_document.uri}", None)
        if pending is not None:
            pending.cancel()
        for cell in params.cell_text_documents:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))
