"""The server session: open documents (by uri, with one path index), analysis results, workspace folders, settings.

Every feature module imports this module (never `server.app`); a feature keeps its own state in an object
created once per server with `server.state(Kind)`. Documents are parsed off the event loop; edits to one
document are applied in the order they arrived (one lock per uri), and readers wait for pending edits.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from ai_core import __version__
from ai_core.analysis import Analyzer
from ai_core.config import Settings, load_pyproject
from ai_core.findings import Finding
from ai_core.model.review import Reviewer
from ai_core.parsing import ContentChange, ParsedDocument, PositionEncoding, PositionMap
from ai_core.timing import StageObserver
from server.convert import encoding_of
from server.protocol import SYNC_KIND, CoderevProtocol, serve_stdio

if TYPE_CHECKING:
    from lsprotocol.types import Diagnostic

log = logging.getLogger(__name__)

CONFIG_SECTION = "coderev"
T = TypeVar("T")


def path_of(uri: str) -> str:
    """The filesystem path of a document uri (the uri itself for untitled documents)."""
    return to_fs_path(uri) or uri


def path_key(path: str) -> str:
    """The one normalisation of a path used to find open documents (absolute, normalised)."""
    return os.path.normcase(os.path.normpath(os.path.abspath(path)))


def decoded(doc: ParsedDocument) -> str:
    """A document's text (lone surrogates kept)."""
    return doc.data.decode("utf-8", errors="surrogatepass")


class Documents:
    """The open documents, by uri and by path; edits to a document are applied one at a time, off the loop."""

    def __init__(self) -> None:
        self._by_uri: dict[str, ParsedDocument] = {}
        self._uri_by_path: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, uri: str) -> ParsedDocument | None:
        """The open document at `uri`, if any."""
        return self._by_uri.get(uri)

    def __contains__(self, uri: object) -> bool:
        return uri in self._by_uri

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._by_uri))

    def uri_for(self, path: str) -> str | None:
        """The uri of the open document at `path`, if one is open."""
        return self._uri_by_path.get(path_key(path))

    def find(self, path: str) -> ParsedDocument | None:
        """The open document at `path` (any spelling of it), if one is open."""
        uri = self.uri_for(path)
        return self._by_uri.get(uri) if uri is not None else None

    def put(self, uri: str, doc: ParsedDocument) -> None:
        """Store (or replace) the document at `uri`."""
        self._by_uri[uri] = doc
        self._uri_by_path[path_key(path_of(uri))] = uri

    def pop(self, uri: str) -> ParsedDocument | None:
        """Forget the document at `uri`."""
        doc = self._by_uri.pop(uri, None)
        key = path_key(path_of(uri))
        if self._uri_by_path.get(key) == uri:
            del self._uri_by_path[key]
        self._locks.pop(uri, None)
        return doc

    def lock(self, uri: str) -> asyncio.Lock:
        """The lock that orders the edits of one document (FIFO, so edits apply in the order they came)."""
        return self._locks.setdefault(uri, asyncio.Lock())

    async def current(self, uri: str) -> ParsedDocument | None:
        """The document at `uri` once the edits received before this call are applied."""
        lock = self._locks.get(uri)
        if lock is not None and lock.locked():
            async with lock:
                pass
        return self._by_uri.get(uri)


@dataclass
class Analyzed:
    """The latest analysis of one document version: findings and the diagnostics they became."""

    version: int
    findings: list[Finding]
    diagnostics: list[Diagnostic]
    result_id: str
    scored: bool = False
    """Whether the model scored these findings (else they are the rules' alone)."""


@dataclass
class FolderState:
    """Per workspace folder: its settings and the Reviewer (rules + model) built from them."""

    root: Path
    settings: Settings
    analyzer: Reviewer | None = None
    rules_analyzer: Analyzer | None = None
    """The Analyzer without the model (the first, fast diagnostics)."""


@dataclass
class Listeners:
    """Hooks other features register (indexing on save, reconfiguring on settings change)."""

    saved: list[Callable[[str], Any]] = field(default_factory=list)
    settings_changed: list[Callable[[], Any]] = field(default_factory=list)
    initialized: list[Callable[[], Any]] = field(default_factory=list)


def notify(listeners: list[Callable[..., Any]], what: str, *args: Any) -> None:
    """Call every listener; one that fails is logged and the others still run."""
    for listener in listeners:
        try:
            listener(*args)
        except Exception:
            log.exception("%s listener failed", what)


class CoderevServer(LanguageServer):
    """coderev's language server: the session state every feature shares, and a pool for analysis."""

    def __init__(self) -> None:
        super().__init__("coderev", __version__, protocol_cls=CoderevProtocol, text_document_sync_kind=SYNC_KIND)
        self.documents = Documents()
        self.results: dict[str, Analyzed] = {}
        self.folders: dict[str, FolderState] = {}
        self.init_options: dict[str, Any] = {}
        self.client_settings: dict[str, dict[str, Any]] = {}
        """Settings the client sent per folder uri ("" for the global/initializationOptions ones)."""
        self.scorer: Any = None
        """The model scorer (set by the model feature when it loaded)."""
        self.project: Any = None
        """The project symbol table for cross-file analysis (set by the project feature)."""
        self.executor = ThreadPoolExecutor(2, thread_name_prefix="coderev-analysis")
        self.model_executor = ThreadPoolExecutor(1, thread_name_prefix="coderev-model")
        """The model's refinements run here, so the rules' first diagnostics never queue behind them."""
        self.scheduled: dict[str, asyncio.Task[None]] = {}
        """The debounced analysis task of each document uri."""
        self.listeners = Listeners()
        self.settings_ready: asyncio.Event | None = None
        self.stage_observer: StageObserver | None = None
        """Told the latency of each pipeline stage (set by server.metrics)."""
        self._states: dict[type, Any] = {}

    def state(self, kind: type[T]) -> T:
        """The state object of one feature (`kind(server)`, created on first use, one per server)."""
        found = self._states.get(kind)
        if found is None:
            found = self._states[kind] = kind(self)  # type: ignore[call-arg]
        return found  # type: ignore[no-any-return]

    @property
    def encoding(self) -> PositionEncoding:
        """The position encoding negotiated with the client."""
        try:
            return encoding_of(self.workspace.position_encoding)
        except RuntimeError:  # before initialize
            return PositionEncoding.UTF16

    # -- documents -----------------------------------------------------------------------------------------
    async def open_document(self, uri: str, text: str, version: int) -> ParsedDocument:
        """Parse a newly opened document off the loop and store it."""
        async with self.documents.lock(uri):
            doc = await asyncio.to_thread(ParsedDocument, text, path=path_of(uri), version=version)
            self.documents.put(uri, doc)
            self.results.pop(uri, None)
            return doc

    async def change_document(self, uri: str, changes: list[ContentChange], version: int) -> ParsedDocument | None:
        """Apply edits off the loop (to a copy, swapped in when parsed); None when the document is not open."""
        encoding = self.encoding
        async with self.documents.lock(uri):
            doc = self.documents.get(uri)
            if doc is None:
                return None
            if version < doc.version:
                log.warning("stale didChange for %s ignored: version %d after %d", uri, version, doc.version)
                return doc
            edited = doc.snapshot()  # readers keep the old version until the new one is parsed
            await asyncio.to_thread(edited.apply_changes, changes, encoding, version)
            if self.documents.get(uri) is doc:
                self.documents.put(uri, edited)
                self.results.pop(uri, None)  # even at the same version: the text is new
            return edited

    def close_document(self, uri: str) -> None:
        """Forget a closed document, its results and its pending analysis."""
        self.documents.pop(uri)
        self.results.pop(uri, None)
        task = self.scheduled.pop(uri, None)
        if task is not None:
            task.cancel()

    def text_of(self, path: str) -> str | None:
        """The editor's text of an open file, None when it is not open."""
        doc = self.documents.find(path)
        return decoded(doc) if doc is not None else None

    def positions_of(self, path: str) -> PositionMap | None:
        """Positions of a file: the open document's, else the disk's; None when unreadable."""
        doc = self.documents.find(path)
        if doc is not None:
            return doc.positions
        try:
            return PositionMap(Path(path).read_bytes())
        except OSError:
            return None

    def uri_of(self, path: str) -> str:
        """The uri of a file: the open document's spelling when it is open."""
        return self.documents.uri_for(path) or from_fs_path(path) or path

    # -- folders and settings ------------------------------------------------------------------------------
    def folder_for(self, path: str) -> FolderState:
        """The workspace folder containing `path` (the deepest), or a folder state for its directory."""
        best: FolderState | None = None
        for state in self.folders.values():
            if Path(path).is_relative_to(state.root) and (
                best is None or len(state.root.parts) > len(best.root.parts)
            ):
                best = state
        if best is None:
            root = Path(path).parent
            best = self.folders.setdefault(str(root), FolderState(root, self._settings_for(str(root), "")))
        return best

    def analyzer_of(self, folder: FolderState) -> Reviewer:
        """The Reviewer (rules + model) of a folder, rebuilt when its settings or the model scorer changed."""
        if folder.analyzer is None or folder.analyzer.scorer is not self.scorer:
            folder.analyzer = Reviewer(folder.settings, scorer=self.scorer, project=self.project,
                                       observe=self.stage_observer)
        return folder.analyzer

    def rules_analyzer_of(self, folder: FolderState) -> Analyzer:
        """The Analyzer of a folder without the model (rebuilt when its settings changed)."""
        if folder.rules_analyzer is None or folder.rules_analyzer.project is not self.project:
            folder.rules_analyzer = Analyzer(folder.settings, project=self.project, observe=self.stage_observer)
        return folder.rules_analyzer

    def analyzer_for(self, path: str) -> Reviewer:
        """The Reviewer (rules + model) configured for the folder of `path`."""
        return self.analyzer_of(self.folder_for(path))

    def settings_for(self, path: str) -> Settings:
        """The settings in force for a file."""
        return self.folder_for(path).settings

    def folder_uris(self) -> dict[str, str]:
        """The client's workspace folders: uri -> path."""
        try:
            folders = self.workspace.folders
        except RuntimeError:
            return {}
        return {uri: to_fs_path(uri) or uri for uri in folders}

    def reconfigure(self) -> None:
        """Rebuild every folder's settings from pyproject + initializationOptions + client settings."""
        uris = {path: uri for uri, path in self.folder_uris().items()}
        for key, state in self.folders.items():
            state.settings = self._settings_for(key, uris.get(key, ""))
            state.analyzer = state.rules_analyzer = None
        notify(self.listeners.settings_changed, "settings")

    def _settings_for(self, root: str, folder_uri: str) -> Settings:
        settings, _warnings = load_pyproject(Path(root))
        for layer in (self.init_options, self.client_settings.get("", {}),
                      self.client_settings.get(folder_uri, {})):
            if layer:
                settings, warnings = settings.with_overrides(layer)
                for warning in warnings:
                    log.warning("settings: %s", warning)
        return settings

    def load_folders(self) -> None:
        """(Re)create folder states for the workspace folders."""
        for uri, path in self.folder_uris().items():
            self.folders[path] = FolderState(Path(path), self._settings_for(path, uri))

    def first_root(self) -> Path | None:
        """The first workspace folder (sorted), where adapters and feedback live."""
        roots = sorted(state.root for state in self.folders.values())
        return roots[0] if roots else None

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio with coderev's reader (it resynchronises after a broken frame)."""
        serve_stdio(self.protocol, stdin, stdout)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        """Stop the analysis pool, then pygls."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.model_executor.shutdown(wait=False, cancel_futures=True)
        super().shutdown()
