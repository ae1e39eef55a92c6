"""Workspace indexing: a background LanceDB index per workspace folder, kept fresh on save and on file events.

After `initialized` every folder with `indexEnabled` is indexed on a worker thread of its own (never the
analysis pool, so diagnostics never wait for it), reporting cancellable `$/progress`. Saves and
`workspace/didChangeWatchedFiles` re-index just the files concerned; `coderev.reindex` re-checks every
file (`{"rebuild": true}` starts from scratch). The index also answers the analysis' project symbol
table for definitions it cannot find locally.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types

from ai_core.retrieval.provider import IndexDefinitionProvider
from ai_core.timing import timed_call
from server.app import CoderevServer
from server.diagnostics import path_of

if TYPE_CHECKING:  # lancedb and pyarrow (~100 MB) load only once a folder is indexed
    from ai_core.retrieval.indexer import CodeIndex, SyncStats

log = logging.getLogger(__name__)

REINDEX = "coderev.reindex"
PROGRESS_INTERVAL_S = 0.25
T = TypeVar("T")


@dataclass
class FolderIndex:
    """One workspace folder's index and the settings it was built with."""

    root: Path
    uri: str
    index: CodeIndex
    jobs: set[threading.Event] = field(default_factory=set)
    """Cancel flags of this folder's queued and running syncs."""


class Worker:
    """One daemon thread running indexing jobs in order (a daemon, so it never holds up exit)."""

    def __init__(self) -> None:
        self.jobs: queue.Queue[tuple[Callable[[], Any], asyncio.AbstractEventLoop, asyncio.Future[Any]]] = \
            queue.Queue()
        self.thread = threading.Thread(target=self._run, name="coderev-index", daemon=True)
        self.thread.start()

    def submit(self, job: Callable[[], T]) -> asyncio.Future[T]:
        """Queue `job`; the future resolves on the caller's loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self.jobs.put((job, loop, future))
        return future

    def _run(self) -> None:
        while True:
            job, loop, future = self.jobs.get()
            try:
                result, error = job(), None
            except BaseException as exc:  # delivered to the awaiting coroutine
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop is gone: the server is exiting
                return


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Indexing:
    """The indexing feature's state: folder indexes, the worker, the running job's cancel flag."""

    def __init__(self, server: CoderevServer) -> None:
        self.server = server
        self.folders: dict[str, FolderIndex] = {}
        self.worker: Worker | None = None
        self.tokens = itertools.count(1)
        self.provider = IndexDefinitionProvider(lambda: [f.index for f in list(self.folders.values())])
        self.tasks: set[asyncio.Task[Any]] = set()

    # -- which folders are indexed --------------------------------------------------------------------
    def ensure_folders(self) -> None:
        """Start indexing folders that have the index enabled; forget those that turned it off."""
        wanted: dict[str, tuple[Path, str]] = {}
        if not any(state.settings.index_enabled for state in self.server.folders.values()) and not self.folders:
            return
        from ai_core.retrieval.indexer import CodeIndex
        from ai_core.retrieval.store import resolve_uri

        for key, state in list(self.server.folders.items()):
            if state.settings.index_enabled:
                wanted[key] = (state.root, resolve_uri(state.settings.index_uri, state.root))
        for key in list(self.folders):
            if key not in wanted or self.folders[key].uri != wanted[key][1]:
                log.info("indexing of %s turned off or moved", key)
                for job in self.folders.pop(key).jobs:
                    job.set()
        for key, (root, uri) in wanted.items():
            if key in self.folders:
                self.folders[key].index.settings = self.server.folders[key].settings  # e.g. new excludes
                continue
            settings = self.server.folders[key].settings
            self.folders[key] = FolderIndex(root, uri, CodeIndex(root, settings, uri=uri))
            self._spawn(self.sync(self.folders[key], rebuild=False, title="coderev: indexing workspace"))

    def _spawn(self, coroutine: Any) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coroutine)
        except RuntimeError:  # no loop (not started yet): the initialized listener will come back
            coroutine.close()
            return
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def folder_of(self, path: str) -> FolderIndex | None:
        """The indexed folder containing `path` (the deepest)."""
        best = None
        for folder in self.folders.values():
            if Path(path).is_relative_to(folder.root) and (best is None or
                                                           len(folder.root.parts) > len(best.root.parts)):
                best = folder
        return best

    def wire_provider(self) -> None:
        """Let the analysis' project symbol table ask the index for definitions it lacks."""
        project = self.server.project
        if project is not None and hasattr(project, "provider") and project.provider is None and self.folders:
            project.provider = self.provider
            log.info("project symbol table now also resolves definitions through the index")

    # -- running jobs -----------------------------------------------------------------------------------
    def _submit(self, job: Callable[[], T]) -> asyncio.Future[T]:
        if self.worker is None:
            self.worker = Worker()
        observe = self.server.stage_observer
        return self.worker.submit(lambda: timed_call(observe, "index", job))

    async def sync(self, folder: FolderIndex, rebuild: bool, title: str) -> SyncStats | None:
        """Index a folder in the background with `$/progress`; None when it failed."""
        cancel = threading.Event()
        folder.jobs.add(cancel)
        reporter = await Reporter.start(self.server, f"coderev-index-{next(self.tokens)}-{uuid.uuid4().hex[:8]}",
                                        title, cancel)
        job = folder.index.rebuild if rebuild else folder.index.sync
        stats: SyncStats | None = None
        try:
            stats = await self._submit(lambda: job(progress=reporter.progress, cancel=cancel))
        except Exception:
            log.exception("indexing %s failed; retrieval is unavailable for it", folder.root)
        finally:
            folder.jobs.discard(cancel)
            reporter.finish(stats.summary() if stats is not None else "indexing failed")
        if stats is not None and not stats.cancelled:
            self.wire_provider()  # only now: the project caches the provider's answers, "not found" included
        return stats

    async def update(self, folder: FolderIndex, changed: list[Path], deleted: list[Path]) -> SyncStats | None:
        """Re-index some files of a folder (no progress: it is quick)."""
        try:
            return await self._submit(lambda: folder.index.update(changed, deleted))
        except Exception:
            log.exception("re-indexing %d files of %s failed", len(changed) + len(deleted), folder.root)
            return None

    def on_saved(self, uri: str) -> None:
        """didSave: re-index that file."""
        folder = self.folder_of(path_of(uri))
        if folder is not None and path_of(uri).endswith((".py", ".pyi")):
            self._spawn(self.update(folder, [Path(path_of(uri))], []))

    def on_watched(self, changes: list[types.FileEvent]) -> None:
        """didChangeWatchedFiles: re-index created/changed files, drop deleted ones, per folder."""
        per_folder: dict[str, tuple[FolderIndex, list[Path], list[Path]]] = {}
        for change in changes:
            path = path_of(change.uri)
            folder = self.folder_of(path)
            if folder is None or not path.endswith((".py", ".pyi")):
                continue
            _, changed, deleted = per_folder.setdefault(str(folder.root), (folder, [], []))
            (deleted if change.type == types.FileChangeType.Deleted else changed).append(Path(path))
        for folder, changed, deleted in per_folder.values():
            self._spawn(self.update(folder, changed, deleted))

    async def reindex(self, rebuild: bool) -> dict[str, Any]:
        """The coderev.reindex command: bring every folder's index up to date (or rebuild it)."""
        self.ensure_folders()
        results = []
        for folder in list(self.folders.values()):
            stats = await self.sync(folder, rebuild=rebuild, title="coderev: re-indexing workspace")
            counts: dict[str, Any] = {}
            if stats is not None:
                counts = await self._submit(folder.index.stats)
            results.append({"root": str(folder.root), "ok": stats is not None,
                            "summary": stats.summary() if stats else "failed",
                            "files": counts.get("files", 0), "chunks": counts.get("chunks", 0),
                            "changed": stats.changed if stats else 0, "removed": stats.removed if stats else 0,
                            "embedded": stats.embedded if stats else 0,
                            "cancelled": stats.cancelled if stats else False})
        return {"folders": results}

    async def register_watchers(self) -> None:
        """Ask the client to send didChangeWatchedFiles for Python files, if it can register them."""
        capabilities = self.server.client_capabilities.workspace
        watched = capabilities.did_change_watched_files if capabilities else None
        if not self.folders or watched is None or not watched.dynamic_registration:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*.py")])
        try:
            await asyncio.wait_for(self.server.client_register_capability_async(types.RegistrationParams(
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


def indexing_of(server: CoderevServer) -> Indexing | None:
    """The indexing feature of a server (for other features: explain, the fixer), if registered."""
    feature = getattr(server, "indexing", None)
    return feature if isinstance(feature, Indexing) else None


def index_for(server: CoderevServer, path: str) -> CodeIndex | None:
    """The index of the workspace folder containing `path`, if that folder is indexed."""
    feature = indexing_of(server)
    folder = feature.folder_of(path) if feature is not None else None
    return folder.index if folder is not None else None


def register(server: CoderevServer) -> None:
    """Register background indexing, re-indexing on save and file events, and coderev.reindex."""
    feature = Indexing(server)
    server.indexing = feature  # type: ignore[attr-defined]  # found again through indexing_of()

    def initialized() -> None:
        feature.ensure_folders()
        feature._spawn(feature.register_watchers())

    server.listeners.initialized.append(initialized)
    server.listeners.settings_changed.append(feature.ensure_folders)
    server.listeners.saved.append(feature.on_saved)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: CoderevServer, params: types.DidChangeWatchedFilesParams) -> None:
        try:
            feature.on_watched(list(params.changes))
        except Exception:
            log.exception("handling watched-file changes failed")

    @server.command(REINDEX)
    async def reindex(ls: CoderevServer, *args: Any) -> dict[str, Any]:
        return await feature.reindex(_rebuild_requested(args))


__all__ = ["REINDEX", "Indexing", "index_for", "indexing_of", "register"]
