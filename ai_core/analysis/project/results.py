"""The Project: modules, name resolution, and per-function analysis results cached until what they used changes."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ai_core.analysis.project.modules import SCAN_MAX_MODULES, CachedResult
from ai_core.analysis.project.openapi import spec_operations
from ai_core.analysis.project.resolution import NameResolver
from ai_core.analysis.symbols import FunctionInfo, ModuleInfo
from ai_core.parsing import ParsedDocument


class Project(NameResolver):
    """Modules of a project by path, name resolution across them, and cached per-function results."""

    def view_for(self, doc: ParsedDocument, path: str) -> tuple[Project, ModuleInfo]:
        """The project to analyze `doc` in, and its module: this project when `doc` is the current text of
        `path`, a scratch copy when an open editor buffer says otherwise (a fix being verified, an outdated
        snapshot), so hypothetical text never replaces what other files resolve into."""
        key = self.key_of(path)
        if self.overlay is not None:
            current = self.overlay(key)
            if current is not None and current.data is not doc.data and current.data != doc.data:
                scratch = self.scratch(key, doc)
                return scratch, scratch.module_for(doc, path)
        return self, self.module_for(doc, path)

    def scratch(self, key: str, doc: ParsedDocument) -> Project:
        """A copy sharing this project's parsed modules and cached results, in which `doc` is the text at `key`."""
        base_overlay = self.overlay

        def overlay(path: str) -> ParsedDocument | None:
            if path == key:
                return doc
            return base_overlay(path) if base_overlay is not None else None

        with self.lock:
            copy = Project(self.roots, provider=self.provider, overlay=overlay, relative_to=self.relative_to,
                           check_disk=self.check_disk)
            copy._modules = OrderedDict(self._modules)
            copy._files = set(self._files) if self._files is not None else None
            copy._exists = dict(self._exists)
            copy._find_cache = dict(self._find_cache)
            copy._external = dict(self._external)
            copy._results = dict(self._results)
            copy._dependents = {k: set(v) for k, v in self._dependents.items()}
            copy._dirs = dict(self._dirs)
            return copy

    # ---------------------------------------------------------------- project files other than modules

    def has_file(self, path: str) -> bool:
        """Whether a file exists at an absolute path (the indexed files in a scan, else the disk)."""
        with self.lock:
            return self._exists_file(path)

    def openapi_operations(self) -> dict[str, str]:
        """'module.function' -> spec file, for the operationIds of the OpenAPI specs near the roots (read once)."""
        with self.lock:
            found: dict[str, str] | None = self.__dict__.get("_operations")
            if found is None:
                found = {}
                for root in self.roots:
                    if os.path.isdir(root):
                        for name, spec in spec_operations(str(root)).items():
                            found.setdefault(name, spec)
                self.__dict__["_operations"] = found
            return found

    # ---------------------------------------------------------------- cached results

    def cached(self, info: FunctionInfo | None, module: ModuleInfo, kind: str) -> Any:
        """A still-valid cached result for a function (or the module's own code when info is None)."""
        key = f"{module.key}::{info.qualname if info else '<module>'}#{kind}"
        with self.lock:
            entry = self._results.get(key)
            if entry is None:
                return None
            fingerprint = info.fingerprint if info is not None else module.header_hash
            if entry.fingerprint != fingerprint or entry.header != module.header_hash:
                self._results.pop(key, None)
                return None
            if self.check_disk or self.overlay is not None:  # a file it used may have changed unseen
                for dep_module in {dep.split("::", 1)[0] for dep in entry.deps} - {module.key}:
                    if os.path.isabs(dep_module):
                        self.module_at(dep_module)
                if self._results.get(key) is not entry:
                    return None
            self.stats.results_reused += 1
            return entry.value

    def cached_values(self, kind: str) -> list[Any]:
        """Every cached result of one kind, valid or not (callers check what they rely on)."""
        suffix = f"#{kind}"
        with self.lock:
            return [entry.value for key, entry in self._results.items() if key.endswith(suffix)]

    def store(self, info: FunctionInfo | None, module: ModuleInfo, kind: str, value: Any,
              deps: Iterable[str] = ()) -> None:
        """Cache a function's result; it is dropped when the function or one of `deps` changes."""
        name = info.qualname if info else "<module>"
        key = f"{module.key}::{name}#{kind}"
        with self.lock:
            self.stats.results_computed += 1
            dep_set = frozenset(deps) | {f"{module.key}::{name}"}
            self._results[key] = CachedResult(info.fingerprint if info else module.header_hash,
                                              module.header_hash, value, dep_set)
            for dep in dep_set:
                self._dependents.setdefault(dep, set()).add(key)

    def record_file_deps(self, path: str, deps: Iterable[str]) -> None:
        """Remember which function keys an analyzed file used (to re-analyze it when they change)."""
        with self.lock:
            self._file_deps[self.key_of(path)] = set(deps)

    def dependent_files(self, keys: set[str]) -> set[str]:
        """Analyzed files that used any of `keys` (function keys, with or without a '#kind' suffix)."""
        bare = {k.split("#", 1)[0] for k in keys}
        with self.lock:
            return {path for path, deps in self._file_deps.items() if deps & bare}


def project_for_scan(root: Path) -> Project:
    """A Project for a batch scan of `root`: files indexed once, disk assumed unchanged, relative paths."""
    root = Path(os.path.abspath(root))
    base = root.parent if root.is_file() else root
    project = Project([base], relative_to=base, check_disk=False, max_modules=SCAN_MAX_MODULES)
    project.index_files()
    return project
