"""Workspace indexing: a background LanceDB index per workspace folder, kept fresh on save and on file events.

After `initialized` every folder with `indexEnabled` is indexed on a worker thread of its own (never the
analysis pool, so diagnostics never wait for it), reporting cancellable `$/progress`. Saves and
`workspace/didChangeWatchedFiles` re-index just the files concerned; `coderev.reindex` re-checks every
file (`{"rebuild": true}` starts from scratch). The index also answers the analysis' project symbol
table for definitions it cannot find locally.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from lsprotocol import types

from server.index_folders import Indexing
from server.session import CoderevServer, path_of

log = logging.getLogger(__name__)

REINDEX = "coderev.reindex"
PROGRESS_INTERVAL_S = 0.25


async def register_watchers(server: CoderevServer) -> None:
    """Ask the client to send didChangeWatchedFiles for Python files, if it can register them."""
    capabilities = server.client_capabilities.workspace
    watched = capabilities.did_change_watched_files if capabilities else None
    indexed = server.state(Indexing).folders or any(f.settings.index_enabled for f in server.folders.values())
    if not indexed or watched is None or not watched.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern="**/*.py")])
    try:
        await asyncio.wait_for(server.client_register_capability_async(types.RegistrationParams(
            registrations=[types.Registration(id=f"coderev-watch-{uuid.uuid4().hex[:8]}",
                                              method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                              register_options=options)])), 10)
    except Exception as exc:
        log.info("client did not register file watchers (%s); indexing follows saves only", exc)


class Reporter:
    """`$/progress` for one indexing job, fed from the worker thread, throttled, cancellable by the client."""

    def __init__(self, server: CoderevServer, token: str | None, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.token = token
        self.loop = loop
        self.last = 0.0

    @classmethod
    async def start(cls, server: CoderevServer, token: str, title: str, cancel: threading.Event) -> Reporter:
        """Create the progress token (if the client supports it) and send `begin`."""
        loop = asyncio.get_running_loop()
        window = server.client_capabilities.window
        if not (window and window.work_done_progress):
            return cls(server, None, loop)
        try:
            await asyncio.wait_for(server.work_done_progress.create_async(token), 10)
        except Exception as exc:
            log.info("no progress reporting (%s)", exc)
            return cls(server, None, loop)
        server.work_done_progress.tokens[token].add_done_callback(lambda _future: cancel.set())
        server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=title, cancellable=True, message="scanning files", percentage=0))
        return cls(server, token, loop)

    def progress(self, done: int, total: int, message: str) -> None:
        """Called on the worker thread; sends a report at most every PROGRESS_INTERVAL_S."""
        now = time.monotonic()
        if self.token is None or (now - self.last < PROGRESS_INTERVAL_S and done < total):
            return
        self.last = now
        percentage = int(100 * done / total) if total else 100
        report = types.WorkDoneProgressReport(message=f"{done}/{total} files: {message}", percentage=percentage,
                                              cancellable=True)
        self.loop.call_soon_threadsafe(self._send, report)

    def _send(self, report: types.WorkDoneProgressReport) -> None:
        if self.token is not None:
            try:
                self.server.work_done_progress.report(self.token, report)
            except Exception:
                log.debug("progress report failed", exc_info=True)

    def finish(self, message: str) -> None:
        """Send `end` (on the loop thread) and forget the token."""
        if self.token is None:
            return
        try:
            self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        except Exception:
            log.debug("progress end failed", exc_info=True)
        future = self.server.work_done_progress.tokens.pop(self.token, None)
        if future is not None and not future.done():
            future.set_result(None)
        self.token = None


def _rebuild_requested(args: tuple[Any, ...]) -> bool:
    first = args[0] if args else None
    return bool(isinstance(first, Mapping) and first.get("rebuild"))


def did_change_watched_files(ls: CoderevServer, params: types.DidChangeWatchedFilesParams) -> None:
    """Re-index created and changed Python files, drop deleted ones."""
    try:
        ls.state(Indexing).on_watched([(path_of(change.uri), change.type == types.FileChangeType.Deleted)
                                       for change in params.changes])
    except Exception:
        log.exception("handling watched-file changes failed")


async def reindex(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.reindex: bring every folder's index up to date (`{"rebuild": true}` starts from scratch)."""
    return await ls.state(Indexing).reindex(_rebuild_requested(args))


def register(server: CoderevServer) -> None:
    """Register background indexing, re-indexing on save and file events, and coderev.reindex."""
    feature = server.state(Indexing)

    async def start_progress(token: str, title: str, cancel: threading.Event) -> Reporter:
        return await Reporter.start(server, token, title, cancel)

    feature.start_progress = start_progress

    def initialized() -> None:
        feature.ensure_folders()
        feature._spawn(register_watchers(server))

    server.listeners.initialized.append(initialized)
    server.listeners.settings_changed.append(feature.ensure_folders)
    server.listeners.saved.append(feature.on_saved)
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)
    server.command(REINDEX)(reindex)


__all__ = ["REINDEX", "Indexing", "register"]
