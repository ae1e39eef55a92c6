"""The indexed workspace folders: a LanceDB index per folder, its jobs on one worker thread, kept in step.

The LSP side (`server.indexing`) registers the handlers and reports progress; this module has no LSP types.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ai_core.heavy_imports import forget_failures, load_heavy
from ai_core.retrieval.provider import IndexDefinitionProvider
from ai_core.timing import timed_call
from server.session import CoderevServer, path_of

if TYPE_CHECKING:  # lancedb and pyarrow (~100 MB) load only once a folder is indexed
    from ai_core.retrieval.indexer import CodeIndex, SyncStats

log = logging.getLogger(__name__)

T = TypeVar("T")

INDEX_LIBRARIES = ("torch", "transformers", "sentence_transformers", "lancedb")


class Progress(Protocol):
    """Progress of one indexing job, fed from the worker thread."""

    def progress(self, done: int, total: int, message: str) -> None:
        """Report `done` of `total` files."""
        ...

    def finish(self, message: str) -> None:
        """End the job's progress (on the loop thread)."""
        ...


StartProgress = Callable[[str, str, threading.Event], Awaitable[Progress]]


class _Silent:
    """Progress nobody sees (no client progress support, or before the LSP side is wired)."""

    def progress(self, done: int, total: int, message: str) -> None:
        """Ignore a report."""

    def finish(self, message: str) -> None:
        """Ignore the end."""


async def _no_progress(_token: str, _title: str, _cancel: threading.Event) -> Progress:
    return _Silent()


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
        self.heavy_ready = False
        """Whether lancedb, torch and the embedder's libraries are imported (on the worker)."""
        self.importing: asyncio.Future[dict[str, str]] | None = None
        self.start_progress: StartProgress = _no_progress
        """Starts `$/progress` for a job (token, title, cancel flag); the LSP side sets it."""

    # -- which folders are indexed --------------------------------------------------------------------
    def ensure_folders(self) -> None:
        """Start indexing folders that have the index enabled; forget those that turned it off."""
        wanted: dict[str, tuple[Path, str]] = {}
        if not any(state.settings.index_enabled for state in self.server.folders.values()) and not self.folders:
            return
        if not self.heavy_ready:  # lancedb and the embedder import on the worker, never on the loop
            self._spawn(self.import_heavy())
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

    async def import_heavy(self) -> None:
        """Import the index's libraries on the worker thread (behind the one import lock), then start indexing."""
        if self.importing is None:
            self.importing = self._submit(lambda: load_heavy(INDEX_LIBRARIES))
        failed = {name: why for name, why in (await asyncio.shield(self.importing)).items() if why}
        if failed:
            log.warning("workspace indexing is unavailable: cannot import %s", ", ".join(failed))
            self.importing = None
            forget_failures()
            return
        if not self.heavy_ready:
            self.heavy_ready = True
            self.ensure_folders()

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
        reporter = await self.start_progress(f"coderev-index-{next(self.tokens)}-{uuid.uuid4().hex[:8]}",
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

    def on_watched(self, changes: list[tuple[str, bool]]) -> None:
        """Watched files changed, as (path, deleted): re-index created/changed files, drop deleted ones, per folder."""
        per_folder: dict[str, tuple[FolderIndex, list[Path], list[Path]]] = {}
        for path, was_deleted in changes:
            folder = self.folder_of(path)
            if folder is None or not path.endswith((".py", ".pyi")):
                continue
            _, changed, deleted = per_folder.setdefault(str(folder.root), (folder, [], []))
            (deleted if was_deleted else changed).append(Path(path))
        for folder, changed, deleted in per_folder.values():
            self._spawn(self.update(folder, changed, deleted))

    async def reindex(self, rebuild: bool) -> dict[str, Any]:
        """The coderev.reindex command: bring every folder's index up to date (or rebuild it)."""
        if not self.heavy_ready:
            await self.import_heavy()
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
