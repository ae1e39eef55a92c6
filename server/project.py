"""The project symbol table in the server: cross-file taint analysis over the workspace, kept current.

`server.project` is one `ai_core.analysis.project.Project` over all workspace folders. Open documents
take precedence over the files on disk (overlay); after `initialized` the workspace's Python files are
listed and parsed on the analysis pool, off the event loop. An edit re-parses only the edited module;
the project drops the cached results of the functions that changed and of everything that depended on
them, and this feature re-publishes the diagnostics of the other open files that used those functions
(a fix in a helper module clears the finding reported at the call in the view).
"""

from __future__ import annotations

import asyncio
import logging
import threading

from ai_core.analysis.project import Project
from ai_core.parsing import ParsedDocument
from server.diagnostics import schedule
from server.session import CoderevServer, path_of

log = logging.getLogger(__name__)

MAX_WARM_FILES = 5000
"""Files parsed ahead of time after start-up; larger workspaces are parsed on first use."""


class ProjectFeature:
    """Owns server.project: overlay of open documents, background build, invalidation fan-out."""

    def __init__(self, server: CoderevServer) -> None:
        self.server = server
        self.project = Project(overlay=self.overlay)
        self.project.listeners.append(self.on_invalidated)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()
        """Set once the workspace files are listed and parsed (tests and benchmarks wait on it)."""
        self.stop = threading.Event()
        server.project = self.project

    def overlay(self, path: str) -> ParsedDocument | None:
        """The open editor document at `path` (a snapshot), else None so the file on disk is used."""
        doc = self.server.documents.find(path)
        return doc.snapshot() if doc is not None else None

    def initialized(self) -> None:
        """Set the roots from the workspace folders and build the symbol table on the analysis pool."""
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        roots = [state.root for state in list(self.server.folders.values())]
        with self.project.lock:
            self.project.roots = [root.resolve() for root in roots]
        self.server.executor.submit(self.build)

    def build(self) -> None:
        """List the workspace's Python files and parse them (runs on the analysis pool)."""
        try:
            count = self.project.index_files()
            parsed = 0
            for path in sorted(self.project.files())[:MAX_WARM_FILES]:
                if self.stop.is_set() or getattr(self.server.executor, "_shutdown", False):
                    return
                if self.project.module_at(path) is not None:
                    parsed += 1
            log.info("project symbol table: %d Python files, %d parsed", count, parsed)
        except Exception:
            log.exception("building the project symbol table failed; cross-file analysis resolves lazily")
        finally:
            self.ready.set()

    def on_saved(self, uri: str) -> None:
        """After a save, re-read the file on the analysis pool (its open copy already is current)."""
        self.server.executor.submit(self._refresh, path_of(uri))

    def _refresh(self, path: str) -> None:
        try:
            self.project.refresh(path)
        except Exception:
            log.exception("refreshing %s in the project symbol table failed", path)

    def on_invalidated(self, keys: set[str]) -> None:
        """Re-analyze open documents that used functions whose cached results were just dropped."""
        changed = {key.split("::", 1)[0] for key in keys if "#" not in key}  # edited, not merely dependent
        files = self.project.dependent_files(keys) - changed
        if not files or self.loop is None:
            return
        uris = [uri for uri in map(self.server.documents.uri_for, sorted(files)) if uri is not None]
        if uris:
            log.debug("re-analyzing %d open documents that depend on %s", len(uris), sorted(changed))
            self.loop.call_soon_threadsafe(self._reschedule, uris)

    def _reschedule(self, uris: list[str]) -> None:
        for uri in uris:
            if uri in self.server.documents:
                self.server.results.pop(uri, None)
                schedule(self.server, uri, debounce=True)


def register(server: CoderevServer) -> None:
    """Create server.project and keep it current (start-up build, saves, edits via the overlay)."""
    feature = server.state(ProjectFeature)
    server.listeners.initialized.append(feature.initialized)
    server.listeners.saved.append(feature.on_saved)


__all__ = ["ProjectFeature", "register"]
