"""The project's modules by path: parsed from disk or open buffers on first use, dropped when they change.

Dropping a module also drops the cached results of its functions and of everything that depended on them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_core.analysis.project.definitions import DefinitionProvider, Overlay
from ai_core.analysis.symbols import ModuleInfo, build_module
from ai_core.files import SourceError, iter_python_files, read_head, read_source
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

MAX_MODULE_BYTES = 2 * 1024 * 1024
SCAN_MAX_MODULES = 512
"""Parsed modules a batch scan keeps in memory per worker (the rest are re-read when a call needs them; on Django
5.1, 256 re-reads a quarter fewer than 128 at the same peak memory, and 512 a third fewer than 256 for about 12%
more peak memory and 5% less CPU)."""


@dataclass
class CachedResult:
    """One function's analysis result, valid while its fingerprint and module header are unchanged."""

    fingerprint: str
    header: str
    value: Any
    deps: frozenset[str] = frozenset()


@dataclass
class _Entry:
    module: ModuleInfo
    stamp: object


@dataclass
class ProjectStats:
    """Counters for benchmarks and tests."""

    modules_parsed: int = 0
    results_computed: int = 0
    results_reused: int = 0
    invalidated: int = 0
    provider_calls: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class ModuleTable:
    """Modules of a project by path (LRU-bounded), with the invalidation of what depended on them."""

    def __init__(
        self,
        roots: Iterable[Path | str] = (),
        provider: DefinitionProvider | None = None,
        overlay: Overlay | None = None,
        relative_to: Path | str | None = None,
        check_disk: bool = True,
        max_modules: int | None = None,
    ) -> None:
        self.roots = [Path(os.path.abspath(r)) for r in roots]
        self.provider = provider
        self.overlay = overlay
        self.relative_to = Path(os.path.abspath(relative_to)) if relative_to is not None else None
        self.check_disk = check_disk
        self.max_modules = max_modules
        """Keep at most this many parsed modules (least recently used go; they are re-read on demand)."""
        self.lock = threading.RLock()
        self.stats = ProjectStats()
        self.listeners: list[Callable[[set[str]], None]] = []
        """Called with the keys of invalidated functions (the server re-analyzes open dependents)."""
        self._modules: OrderedDict[str, _Entry] = OrderedDict()
        self._files: set[str] | None = None
        self._exists: dict[str, bool] = {}
        self._find_cache: dict[tuple[str, str], str | None] = {}
        self._external: dict[str, ModuleInfo | None] = {}
        self._results: dict[str, CachedResult] = {}
        self._dependents: dict[str, set[str]] = {}
        self._file_deps: dict[str, set[str]] = {}
        self._resolved: dict[tuple[str, str], object] = {}
        self._dirs: dict[str, list[str]] = {}
        self._generation = 0
        self._resolved_generation = 0

    # ---------------------------------------------------------------- files and modules

    def index_files(self, files: Iterable[Path | str] | None = None) -> int:
        """Record the project's Python files (all under the roots by default); returns how many."""
        found: set[str] = set()
        if files is None:
            for root in self.roots:
                found.update(str(path) for path in iter_python_files(root))
        else:
            found = {os.path.abspath(f) for f in files}
        with self.lock:
            self._files = found
            self._exists.clear()
            self._find_cache.clear()
        return len(found)

    def files(self) -> set[str]:
        """The indexed Python files (empty before index_files())."""
        with self.lock:
            return set(self._files or ())

    @property
    def modules(self) -> list[ModuleInfo]:
        """Modules parsed so far."""
        with self.lock:
            return [entry.module for entry in self._modules.values()]

    def key_of(self, path: str) -> str:
        """The normalised absolute path used as a module's key."""
        if os.path.isabs(path):
            return os.path.normpath(path)
        base = self.relative_to or (self.roots[0] if self.roots else None)
        return os.path.normpath(os.path.join(base, path)) if base is not None else path

    def display_of(self, key: str) -> str:
        """How a module's path is shown in findings (relative to the scan root in a scan)."""
        if self.relative_to is not None and os.path.isabs(key):
            try:
                return Path(key).relative_to(self.relative_to).as_posix()
            except ValueError:
                return key
        return key

    def module_for(self, doc: ParsedDocument, path: str) -> ModuleInfo:
        """The module for a document being analyzed (registered so other files resolve into it)."""
        key = self.key_of(path)
        with self.lock:
            entry = self._modules.get(key)
            if entry is not None and (entry.module.doc.data is doc.data or entry.module.doc.data == doc.data):
                self._modules.move_to_end(key)
                return entry.module
            module = build_module(doc, key, path, Path(key) if os.path.isabs(key) else None)
            self._replace(key, entry, module, stamp=("doc", len(doc.data)))
            return module

    def parsed(self, path: str, data: bytes) -> ParsedDocument | None:
        """The document of the module already held for `path` when it has exactly `data` (a scan reuses its
        tree instead of parsing the file again)."""
        with self.lock:
            entry = self._modules.get(self.key_of(path))
            if entry is None or entry.module.doc.data != data:
                return None
            self.stats.extra["documents_reused"] = self.stats.extra.get("documents_reused", 0) + 1
            return entry.module.doc

    def module_at(self, key: str) -> ModuleInfo | None:
        """The module stored at an absolute path (overlay first, then disk), parsed on first use."""
        with self.lock:
            entry = self._modules.get(key)
            if entry is not None:
                self._modules.move_to_end(key)
            if self.overlay is not None:
                doc = self.overlay(key)
                if doc is not None:
                    if entry is not None and entry.module.doc.data is doc.data:
                        return entry.module
                    if entry is not None and entry.module.doc.data == doc.data:
                        return entry.module
                    module = build_module(doc, key, self.display_of(key), Path(key))
                    self._replace(key, entry, module, stamp=("overlay", doc.version))
                    return module
            if entry is not None and (not self.check_disk or entry.stamp[0] == "doc"):  # type: ignore[index]
                return entry.module
            try:
                stat = os.stat(key)
            except OSError:
                if entry is not None and entry.stamp[0] != "doc":  # type: ignore[index]
                    self.forget(key)  # deleted on disk
                    return None
                return entry.module if entry is not None else None
            stamp = ("disk", stat.st_mtime_ns, stat.st_size)
            if entry is not None and entry.stamp == stamp:
                return entry.module
            if stat.st_size > MAX_MODULE_BYTES:
                return None
            try:
                data = read_source(Path(key), MAX_MODULE_BYTES)
            except SourceError as exc:
                log.debug("cannot read %s: %s", key, exc)
                return None
            doc = ParsedDocument(data, path=key)
            self.stats.modules_parsed += 1
            module = build_module(doc, key, self.display_of(key), Path(key))
            self._replace(key, entry, module, stamp=stamp)
            return module

    def refresh(self, path: str) -> set[str]:
        """Re-read a file (after a save or a change on disk); returns the invalidated function keys."""
        key = self.key_of(path)
        with self.lock:
            before = set(self._results)
            entry = self._modules.get(key)
            if entry is not None and entry.stamp[0] == "doc":  # type: ignore[index]
                entry.stamp = ("stale",)
            if not os.path.exists(key):
                self.forget(key)
            else:
                self.module_at(key)
            return before - set(self._results)

    def forget(self, path: str) -> None:
        """Drop a deleted file and everything that depended on it."""
        key = self.key_of(path)
        with self.lock:
            self._resolved.clear()
            entry = self._modules.pop(key, None)
            if entry is not None:
                self._invalidate_module(entry.module, None)
            if self._files is not None:
                self._files.discard(key)
            self._find_cache.clear()
            self._exists.pop(key, None)

    def _replace(self, key: str, old: _Entry | None, module: ModuleInfo, stamp: object) -> None:
        self._generation += 1
        self._resolved.clear()
        self._resolved_generation = self._generation
        if old is not None:
            self._invalidate_module(old.module, module)
        elif self._files is None or key not in self._files:
            # a file nobody knew about may satisfy an import that failed before
            self._find_cache = {k: v for k, v in self._find_cache.items() if v is not None}
            self._invalidate_keys({f"{key}::*"})
        self._modules[key] = _Entry(module, stamp)
        self._modules.move_to_end(key)
        if self._files is not None:
            self._files.add(key)
        self._exists[key] = True
        if self.max_modules is not None:
            while len(self._modules) > self.max_modules:
                self._modules.popitem(last=False)  # results stay cached; the file is re-read if needed

    def _invalidate_module(self, old: ModuleInfo, new: ModuleInfo | None) -> None:
        keys: set[str] = set()
        if new is None or new.header_hash != old.header_hash:
            keys = {f"{old.key}::{q}" for q in old.functions} | {f"{old.key}::<module>", f"{old.key}::*"}
            if new is not None:
                keys |= {f"{new.key}::{q}" for q in new.functions}
        else:  # only function bodies changed: exactly those functions (and their dependents) go
            for qualname, info in old.functions.items():
                fresh = new.functions.get(qualname)
                if fresh is None or fresh.fingerprint != info.fingerprint:
                    keys.add(info.key)
        self._invalidate_keys(keys)

    def _invalidate_keys(self, keys: set[str]) -> None:
        if not keys:
            return
        dropped: set[str] = set()
        stack = list(keys)
        while stack:
            key = stack.pop()
            if key in dropped:
                continue
            dropped.add(key)
            if self._results.pop(key, None) is not None:
                self.stats.invalidated += 1
            stack.extend(self._dependents.pop(key, ()))
        for listener in list(self.listeners):
            try:
                listener(dropped)
            except Exception:
                log.exception("project listener failed")

    def _exists_file(self, path: str) -> bool:
        known = self._exists.get(path)
        if known is not None:
            return known
        result = path in self._files if self._files is not None else os.path.isfile(path)
        self._exists[path] = result
        return result

    def source_bytes(self, key: str) -> bytes:
        """A module's bytes: the parsed copy when there is one, else the file (b'' if unreadable)."""
        with self.lock:
            entry = self._modules.get(key)
            if entry is not None:
                return entry.module.data
        try:
            return read_head(Path(key), MAX_MODULE_BYTES)
        except SourceError:
            return b""
