"""Document sync and diagnostics: debounced push, pull, stale results dropped, parsing and analysis off the loop.

Handlers (registered by `register`): didOpen, didChange, didSave, didClose and textDocument/diagnostic.
The document notifications are coroutines that take the document's lock in the order they arrived, so an
open, its edits, a save and a close are handled in that order although parsing runs on a worker thread.
The folder (and so the settings) of a document is looked up once per edit and passed down the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from server.convert import to_content_changes, to_diagnostics
from server.session import Analyzed, CoderevServer, FolderState, notify, path_of

if TYPE_CHECKING:
    from ai_core.analysis import Analyzer
    from ai_core.findings import Finding

log = logging.getLogger(__name__)

SETTINGS_WAIT_S = 3.0
PULL_ATTEMPTS = 3


async def analyze_document(server: CoderevServer, uri: str, folder: FolderState | None = None,
                           rules_only: bool = False) -> Analyzed | None:
    """Analyze the current text of a document off the loop (by the rules alone if asked, else with the model
    when it is loaded); None if the document changed or closed meanwhile."""
    doc = await server.documents.current(uri)
    if doc is None:
        return None
    cached = server.results.get(uri)
    if cached is not None and cached.version == doc.version and (rules_only or cached.scored or not server.scorer):
        return cached
    if server.settings_ready is not None and not server.settings_ready.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.settings_ready.wait(), SETTINGS_WAIT_S)
    path = path_of(uri)
    folder = folder or server.folder_for(path)
    settings = folder.settings
    snapshot = doc.snapshot()
    analyzer: Analyzer = server.rules_analyzer_of(folder) if rules_only else server.analyzer_of(folder)
    scored = getattr(analyzer, "scorer", None) is not None  # a Reviewer with a loaded model
    if len(snapshot.data) > settings.max_file_bytes:
        log.warning("%s is %d bytes, over max_file_bytes=%d: not analyzed", path, len(snapshot.data),
                    settings.max_file_bytes)
        findings: list[Finding] = []
    elif snapshot.unparsed:
        log.warning("%s: not analyzed: %s", path, snapshot.unparsed)
        findings = []
    else:
        loop = asyncio.get_running_loop()
        try:  # the Analyzer too is built on the pool (its registry loads on first use)
            pool = server.model_executor if scored else server.executor
            findings = await loop.run_in_executor(pool, lambda: analyzer.analyze(snapshot, path))
        except Exception:
            log.exception("analysis of %s failed", path)
            findings = []
    if server.documents.get(uri) is not doc:  # edited (even at the same version) or closed meanwhile
        log.debug("dropping results for %s v%d", uri, snapshot.version)
        return None
    diagnostics, result_id = to_diagnostics(findings, snapshot.positions, server.encoding, snapshot.version,
                                            server.positions_of)
    result = Analyzed(snapshot.version, findings, diagnostics, result_id, scored=scored)
    if not rules_only or not result.scored:
        server.results[uri] = result
    return result


def same_diagnostics(first: Analyzed, second: Analyzed) -> bool:
    """Whether two analyses would show the same diagnostics (ranges, codes, messages and data)."""
    def shown(result: Analyzed) -> list[tuple[object, ...]]:
        return [(d.range, d.code, d.message, d.severity, repr(d.data)) for d in result.diagnostics]
    return first.version == second.version and shown(first) == shown(second)


def client_pulls(server: CoderevServer) -> bool:
    """True when the client declared pull diagnostics (textDocument/diagnostic)."""
    text_document = server.client_capabilities.text_document
    return bool(text_document and text_document.diagnostic is not None)


def pushes(server: CoderevServer, folder: FolderState) -> bool:
    """Whether diagnostics of the folder's documents are pushed, per its diagnostic_mode (a client never gets
    both unless asked: editors that pull and receive pushes show every finding twice)."""
    mode = folder.settings.diagnostic_mode
    return mode in ("push", "both") or (mode == "auto" and not client_pulls(server))


async def publish(server: CoderevServer, uri: str, folder: FolderState, delay_s: float = 0.0) -> None:
    """Wait `delay_s` (debounce), push the rules' diagnostics, then the model's where they differ."""
    try:
        if delay_s:
            await asyncio.sleep(delay_s)
        first = await analyze_document(server, uri, folder, rules_only=server.scorer is not None)
        if first is None or not pushes(server, folder):
            return
        _push(server, uri, first)
        if not first.scored and server.scorer is not None:  # the model refines the rules' findings
            refined = await analyze_document(server, uri, folder)
            if refined is not None and not same_diagnostics(first, refined):
                _push(server, uri, refined)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("publishing diagnostics for %s failed", uri)


def _push(server: CoderevServer, uri: str, result: Analyzed) -> None:
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri=uri, version=result.version, diagnostics=result.diagnostics))


def schedule(server: CoderevServer, uri: str, debounce: bool) -> None:
    """(Re)start the debounced analysis of a document, cancelling a pending one."""
    previous = server.scheduled.pop(uri, None)
    if previous is not None and not previous.done():
        previous.cancel()
    folder = server.folder_for(path_of(uri))
    delay = folder.settings.debounce_ms / 1000 if debounce else 0.0
    task = asyncio.get_running_loop().create_task(publish(server, uri, folder, delay))
    server.scheduled[uri] = task
    task.add_done_callback(lambda t: server.scheduled.pop(uri, None) if server.scheduled.get(uri) is t else None)


def reanalyze_all(server: CoderevServer) -> None:
    """Drop cached results and re-publish every open document (after a settings or model change)."""
    server.results.clear()
    for uri in server.documents:
        schedule(server, uri, debounce=False)
    workspace = server.client_capabilities.workspace
    if client_pulls(server) and workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
        server.workspace_diagnostic_refresh(None)  # ask pulling clients to pull again


async def did_open(ls: CoderevServer, params: types.DidOpenTextDocumentParams) -> None:
    """Parse the opened document (off the loop) and analyze it now."""
    item = params.text_document
    try:
        await ls.open_document(item.uri, item.text, item.version)
    except Exception:
        log.exception("cannot parse %s", item.uri)
        return
    schedule(ls, item.uri, debounce=False)


async def did_change(ls: CoderevServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply the edits (off the loop, in order) and analyze after the debounce."""
    uri = params.text_document.uri
    try:
        changed = await ls.change_document(uri, to_content_changes(list(params.content_changes)),
                                           params.text_document.version)
    except Exception:
        log.exception("cannot apply changes to %s; it is analyzed again once the editor reopens it", uri)
        ls.close_document(uri)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        return
    if changed is None:
        log.warning("didChange for unopened %s ignored", uri)
        return
    if changed.version != params.text_document.version:  # stale: the session logged and ignored it
        return
    schedule(ls, uri, debounce=True)


async def did_save(ls: CoderevServer, params: types.DidSaveTextDocumentParams) -> None:
    """Tell the save listeners (indexing, project) and analyze unless an analysis is pending."""
    uri = params.text_document.uri
    await ls.documents.current(uri)  # after the edits that came before the save
    notify(ls.listeners.saved, "save", uri)
    if uri in ls.documents and uri not in ls.scheduled:
        schedule(ls, uri, debounce=False)


async def did_close(ls: CoderevServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget the document (after the edits that came before) and clear its diagnostics."""
    uri = params.text_document.uri
    async with ls.documents.lock(uri):
        ls.close_document(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


async def pull(ls: CoderevServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
    """textDocument/diagnostic: the current version's diagnostics (unchanged when the result id matches)."""
    uri = params.text_document.uri
    result = None
    for _ in range(PULL_ATTEMPTS):  # the document may change while we analyze; try its newest version
        result = await analyze_document(ls, uri)
        if result is not None:
            break
    if result is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    if params.previous_result_id == result.result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result.result_id)
    return types.RelatedFullDocumentDiagnosticReport(items=result.diagnostics, result_id=result.result_id)


def register(server: CoderevServer) -> None:
    """Register document sync and diagnostics handlers."""
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE)(did_save)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        identifier="coderev", inter_file_dependencies=True, workspace_diagnostics=False))(pull)
