"""Document sync and diagnostics: debounced push, pull, stale results dropped, analysis off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

from lsprotocol import types
from pygls.uris import to_fs_path

from ai_core.findings import Finding
from ai_core.parsing import ParsedDocument, PositionMap
from server.app import Analysed, CoderevServer
from server.convert import to_content_changes, to_diagnostic

log = logging.getLogger(__name__)

SETTINGS_WAIT_S = 3.0


def path_of(uri: str) -> str:
    """The filesystem path of a document uri (the uri itself for untitled documents)."""
    return to_fs_path(uri) or uri


def _positions_of(server: CoderevServer, path: str) -> PositionMap | None:
    for uri, doc in server.documents.items():
        if path_of(uri) == path:
            return doc.positions
    try:
        with open(path, "rb") as handle:
            return PositionMap(handle.read())
    except OSError:
        return None


def _analyse(server: CoderevServer, uri: str, doc: ParsedDocument) -> list[Finding]:
    """Runs on the analysis pool: never raises."""
    path = path_of(uri)
    settings = server.settings_for(path)
    if len(doc.data) > settings.max_file_bytes:
        log.warning("%s is %d bytes, over max_file_bytes=%d: not analysed", path, len(doc.data),
                    settings.max_file_bytes)
        return []
    try:
        return server.analyzer_for(path).analyze(doc, path)
    except Exception:
        log.exception("analysis of %s failed", path)
        return []


async def analyse_document(server: CoderevServer, uri: str) -> Analysed | None:
    """Analyse the current version of a document off the loop; None if it changed or closed meanwhile."""
    doc = server.documents.get(uri)
    if doc is None:
        return None
    cached = server.results.get(uri)
    if cached is not None and cached.version == doc.version:
        return cached
    if server.settings_ready is not None and not server.settings_ready.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.settings_ready.wait(), SETTINGS_WAIT_S)
    snapshot = doc.snapshot()
    loop = asyncio.get_running_loop()
    findings = await loop.run_in_executor(server.executor, _analyse, server, uri, snapshot)
    current = server.documents.get(uri)
    if current is None or current.version != snapshot.version:
        log.debug("dropping results for %s v%d (now %s)", uri, snapshot.version,
                  current.version if current else "closed")
        return None
    encoding = server.encoding
    diagnostics = []
    for finding in findings:
        try:
            diagnostics.append(to_diagnostic(finding, snapshot.positions, encoding,
                                             lambda p: _positions_of(server, p)))
        except Exception:
            log.exception("cannot convert finding %s", finding.rule)
    digest = hashlib.sha256(repr([(d.range, d.code, d.message) for d in diagnostics]).encode())
    result = Analysed(snapshot.version, findings, diagnostics,
                      f"{snapshot.version}-{digest.hexdigest()[:12]}")
    server.results[uri] = result
    return result


def client_pulls(server: CoderevServer) -> bool:
    """True when the client declared pull diagnostics (textDocument/diagnostic)."""
    text_document = server.client_capabilities.text_document
    return bool(text_document and text_document.diagnostic is not None)


def pushes(server: CoderevServer, uri: str) -> bool:
    """Whether diagnostics of `uri` are pushed, per the diagnostic_mode setting (a client never gets both
    unless asked: editors that pull and receive pushes show every finding twice)."""
    mode = server.settings_for(path_of(uri)).diagnostic_mode
    return mode in ("push", "both") or (mode == "auto" and not client_pulls(server))


async def publish(server: CoderevServer, uri: str, delay_s: float = 0.0) -> None:
    """Wait `delay_s` (debounce), analyse, and push diagnostics if the version is still current."""
    try:
        if delay_s:
            await asyncio.sleep(delay_s)
        result = await analyse_document(server, uri)
        if result is None or not pushes(server, uri):
            return
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=result.version, diagnostics=result.diagnostics))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("publishing diagnostics for %s failed", uri)


def schedule(server: CoderevServer, uri: str, debounce: bool) -> None:
    """(Re)start the debounced analysis of a document, cancelling a pending one."""
    pending = server.pending.pop(uri, None)
    if pending is not None and not pending.done():
        pending.cancel()
    delay = server.settings_for(path_of(uri)).debounce_ms / 1000 if debounce else 0.0
    task = asyncio.get_running_loop().create_task(publish(server, uri, delay))
    server.pending[uri] = task
    task.add_done_callback(lambda t: server.pending.pop(uri, None) if server.pending.get(uri) is t else None)


def reanalyze_all(server: CoderevServer) -> None:
    """Drop cached results and re-publish every open document (after a settings or model change)."""
    server.results.clear()
    for uri in list(server.documents):
        schedule(server, uri, debounce=False)
    workspace = server.client_capabilities.workspace
    if client_pulls(server) and workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
        server.workspace_diagnostic_refresh(None)  # ask pulling clients to pull again


def register(server: CoderevServer) -> None:
    """Register document sync and diagnostics handlers."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CoderevServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        try:
            ls.documents[item.uri] = ParsedDocument(item.text, path=path_of(item.uri), version=item.version)
        except Exception:
            log.exception("cannot parse %s", item.uri)
            return
        ls.results.pop(item.uri, None)
        schedule(ls, item.uri, debounce=False)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CoderevServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.documents.get(uri)
        if doc is None:
            log.warning("didChange for unopened %s ignored", uri)
            return
        try:
            changes = to_content_changes(list(params.content_changes))
            doc.apply_changes(changes, ls.encoding, params.text_document.version)
        except Exception:
            log.exception("cannot apply changes to %s; resyncing from the editor's copy", uri)
            text = ls.workspace.get_text_document(uri).source
            ls.documents[uri] = ParsedDocument(text, path=path_of(uri), version=params.text_document.version)
        schedule(ls, uri, debounce=True)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CoderevServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        for listener in ls.listeners.saved:
            try:
                listener(uri)
            except Exception:
                log.exception("save listener failed for %s", uri)
        if uri in ls.documents and uri not in ls.pending:
            schedule(ls, uri, debounce=False)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CoderevServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.documents.pop(uri, None)
        ls.results.pop(uri, None)
        pending = ls.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="coderev", inter_file_dependencies=True,
                                workspace_diagnostics=False),
    )
    async def pull(ls: CoderevServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        result = None
        for _ in range(3):  # the document may change while we analyse; try its newest version
            result = await analyse_document(ls, uri)
            if result is not None:
                break
        if result is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id == result.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result.result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=result.diagnostics, result_id=result.result_id)
