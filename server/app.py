"""The pygls LanguageServer: lifecycle, state per document and per workspace folder, settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from ai_core import __version__
from ai_core.analysis import Analyzer
from ai_core.config import Settings, load_pyproject
from ai_core.findings import Finding
from ai_core.parsing import ParsedDocument, PositionEncoding
from ai_core.timing import StageObserver
from server.convert import encoding_of

log = logging.getLogger(__name__)

CONFIG_SECTION = "coderev"


class CoderevProtocol(LanguageServerProtocol):
    """The LSP protocol, preferring UTF-8 positions whenever the client offers them."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):  # type: ignore[no-untyped-def]
        """Move utf-8 to the front of the client's encodings, then initialize as usual."""
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            offered = list(general.position_encodings)
            if types.PositionEncodingKind.Utf8 in offered:
                offered.remove(types.PositionEncodingKind.Utf8)
                general.position_encodings = [types.PositionEncodingKind.Utf8, *offered]
        return (yield from super().lsp_initialize(params))


@dataclass
class Analysed:
    """The latest analysis of one document version."""

    version: int
    findings: list[Finding]
    diagnostics: list[types.Diagnostic]
    result_id: str


@dataclass
class FolderState:
    """Per workspace folder: its settings and the Analyzer built from them."""

    root: Path
    settings: Settings
    analyzer: Analyzer | None = None


@dataclass
class Listeners:
    """Hooks other features register (indexing on save, reconfiguring on settings change)."""

    saved: list[Callable[[str], Any]] = field(default_factory=list)
    settings_changed: list[Callable[[], Any]] = field(default_factory=list)
    initialized: list[Callable[[], Any]] = field(default_factory=list)


class CoderevServer(LanguageServer):
    """coderev's language server: documents, settings per folder, and a pool for analysis."""

    def __init__(self) -> None:
        super().__init__("coderev", __version__, protocol_cls=CoderevProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.documents: dict[str, ParsedDocument] = {}
        self.results: dict[str, Analysed] = {}
        self.folders: dict[str, FolderState] = {}
        self.init_options: dict[str, Any] = {}
        self.client_settings: dict[str, dict[str, Any]] = {}
        """Settings the client sent per folder uri ("" for the global/initializationOptions ones)."""
        self.scorer: Any = None
        """The model scorer (set by the model feature when it loaded)."""
        self.project: Any = None
        """The project symbol table for cross-file analysis (set by the analysis feature)."""
        self.executor = ThreadPoolExecutor(2, thread_name_prefix="coderev-analysis")
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.listeners = Listeners()
        self.settings_ready: asyncio.Event | None = None
        self.stage_observer: StageObserver | None = None
        """Told the latency of each pipeline stage (set by server.metrics)."""

    @property
    def encoding(self) -> PositionEncoding:
        """The position encoding negotiated with the client."""
        try:
            return encoding_of(self.workspace.position_encoding)
        except RuntimeError:  # before initialize
            return PositionEncoding.UTF16

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

    def analyzer_for(self, path: str) -> Analyzer:
        """The Analyzer configured for the folder of `path`."""
        state = self.folder_for(path)
        if state.analyzer is None or state.analyzer.scorer is not self.scorer:
            state.analyzer = Analyzer(state.settings, scorer=self.scorer, project=self.project,
                                      observe=self.stage_observer)
        return state.analyzer

    def settings_for(self, path: str) -> Settings:
        """The settings in force for a file."""
        return self.folder_for(path).settings

    def reconfigure(self) -> None:
        """Rebuild every folder's settings from pyproject + initializationOptions + client settings."""
        for key, state in self.folders.items():
            folder_uri = next((uri for uri, p in self._folder_paths().items() if p == key), "")
            state.settings = self._settings_for(key, folder_uri)
            state.analyzer = None
        for listener in self.listeners.settings_changed:
            try:
                listener()
            except Exception:
                log.exception("settings listener failed")

    def _folder_paths(self) -> dict[str, str]:
        try:
            folders = self.workspace.folders
        except RuntimeError:
            return {}
        return {uri: to_fs_path(uri) or uri for uri in folders}

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
        for uri, path in self._folder_paths().items():
            self.folders[path] = FolderState(Path(path), self._settings_for(path, uri))

    def shutdown(self) -> None:
        """Stop the analysis pool, then pygls."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        super().shutdown()


def create_server() -> CoderevServer:
    """A server with every feature registered."""
    from server import actions, diagnostics, indexing, lifecycle, notebooks, project
    from server import model as model_feature

    server = CoderevServer()
    lifecycle.register(server)
    project.register(server)
    diagnostics.register(server)
    model_feature.register(server)
    indexing.register(server)
    actions.register(server)
    notebooks.register(server)
    return server
