"""The project symbol table: modules parsed from disk (or open editor buffers), cross-file name resolution,
and the per-function result cache with dependency-based invalidation.

`Project(roots)` resolves `import x`, `from x import y as z`, relative imports and re-exports to
definitions in the project's files, which it parses with tree-sitter on first use. Open documents
take precedence over disk through the `overlay` hook; definitions found nowhere locally can come from
a `DefinitionProvider` (e.g. the retrieval index). Analysis results are cached per function and
dropped when that function (or anything it depends on) changes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ai_core.analysis.symbols import ClassInfo, FunctionInfo, ModuleInfo, build_module
from ai_core.files import SourceError, iter_python_files, read_head, read_source
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

MAX_MODULE_BYTES = 2 * 1024 * 1024
SCAN_MAX_MODULES = 128
"""Parsed modules a batch scan keeps in memory per worker (the rest are re-read when a call needs them)."""
MAX_REEXPORT_DEPTH = 6


@dataclass(frozen=True, slots=True)
class ExternalDefinition:
    """Source text of a definition found outside the project files (e.g. by the retrieval index)."""

    path: str
    """Where it lives, as shown in taint paths."""
    source: str
    """A module, or just the definition (def/class) of the requested name."""


class DefinitionProvider(Protocol):
    """Supplies a definition by dotted name (e.g. 'billing.gateway.charge') when the project lacks it."""

    def __call__(self, qualified_name: str) -> ExternalDefinition | None:
        """The definition's source, or None."""
        ...


Overlay = Callable[[str], ParsedDocument | None]
"""Returns the open editor document for an absolute path, or None (then the file on disk is used)."""


@dataclass(frozen=True, slots=True)
class GlobalRef:
    """A module-level variable (e.g. `db = Database()`), found while resolving a dotted name."""

    module: ModuleInfo
    name: str


Resolved = FunctionInfo | ClassInfo | ModuleInfo | GlobalRef
_MISSING = object()
_NOT_PROVIDED = frozenset(sys.stdlib_module_names) | {
    "flask", "django", "fastapi", "starlette", "requests", "httpx", "aiohttp", "sqlalchemy", "yaml", "jinja2",
    "markupsafe", "werkzeug", "pydantic", "jwt", "jose", "passlib", "bcrypt", "numpy", "pandas", "torch",
    "click", "typer", "paramiko", "psycopg", "psycopg2", "pymysql", "urllib3", "boto3", "celery", "rest_framework"}
"""Top-level packages the definition provider is never asked about (libraries, not project code)."""


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


class Project:
    """Modules of a project by path, name resolution across them, and cached per-function results."""

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
        """Called with the keys of invalidated functions (the server re-analyses open dependents)."""
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
        """The module for a document being analysed (registered so other files resolve into it)."""
        key = self.key_of(path)
        with self.lock:
            entry = self._modules.get(key)
            if entry is not None and (entry.module.doc.data is doc.data or entry.module.doc.data == doc.data):
                self._modules.move_to_end(key)
                return entry.module
            module = build_module(doc, key, path, Path(key) if os.path.isabs(key) else None)
            self._replace(key, entry, module, stamp=("doc", len(doc.data)))
            return module

    def view_for(self, doc: ParsedDocument, path: str) -> tuple[Project, ModuleInfo]:
        """The project to analyse `doc` in, and its module: this project when `doc` is the current text of
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

    def find_module(self, importer: ModuleInfo, dotted: str) -> ModuleInfo | None:
        """The module a dotted import names, seen from `importer` (relative imports included)."""
        with self.lock:
            found = self.module_path(importer, dotted)
            return self.module_at(found) if found is not None else None

    def module_path(self, importer: ModuleInfo, dotted: str) -> str | None:
        """The file a dotted import names, seen from `importer`, without parsing it."""
        with self.lock:
            cache_key = (importer.folder, dotted)
            if cache_key not in self._find_cache:
                self._find_cache[cache_key] = self._locate(importer, dotted)
            return self._find_cache[cache_key]

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

    def _locate(self, importer: ModuleInfo, dotted: str) -> str | None:
        if dotted.startswith("."):
            level = len(dotted) - len(dotted.lstrip("."))
            base = os.path.dirname(importer.key)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            rest = dotted[level:]
            return self._in_dir(base, rest.split(".") if rest else [])
        parts = dotted.split(".")
        for base in self._search_dirs(importer):
            found = self._in_dir(base, parts)
            if found is not None:
                return found
        return None

    def _search_dirs(self, importer: ModuleInfo) -> list[str]:
        cached = self._dirs.get(importer.folder)
        if cached is None:
            cached = self._dirs[importer.folder] = self._compute_search_dirs(importer)
        return cached

    def _compute_search_dirs(self, importer: ModuleInfo) -> list[str]:
        dirs: list[str] = []
        if os.path.isabs(importer.key):
            current = os.path.dirname(importer.key)
            stops = {str(r) for r in self.roots}
            for _ in range(8):  # the importer's folder and its parents, as sys.path entries
                dirs.append(current)
                if current in stops:
                    break
                parent = os.path.dirname(current)
                if parent == current:
                    break
                current = parent
        for root in self.roots:
            for base in (str(root), os.path.join(str(root), "src")):
                if base not in dirs:
                    dirs.append(base)
        return dirs

    def _in_dir(self, base: str, parts: list[str]) -> str | None:
        if not parts:
            init = os.path.join(base, "__init__.py")
            return init if self._exists_file(init) else None
        stem = os.path.join(base, *parts)
        for candidate in (stem + ".py", os.path.join(stem, "__init__.py"), stem + ".pyi"):
            if self._exists_file(candidate):
                return candidate
        return None

    # ---------------------------------------------------------------- resolution

    def resolve(self, importer: ModuleInfo, dotted: str, depth: int = 0) -> Resolved | None:
        """The definition a dotted name (after import resolution) refers to, in the project or the provider."""
        if depth > MAX_REEXPORT_DEPTH or not dotted:
            return None
        memo_key = (importer.key, dotted)
        found = self._resolved.get(memo_key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        with self.lock:
            found = self._resolve(importer, dotted, depth)
            if self._resolved_generation == self._generation:
                self._resolved[memo_key] = found
            return found

    def _resolve(self, importer: ModuleInfo, dotted: str, depth: int) -> Resolved | None:
        with self.lock:
            level = len(dotted) - len(dotted.lstrip("."))
            prefix, names = dotted[:level], [p for p in dotted[level:].split(".") if p]
            for cut in range(len(names), -1 if level else 0, -1):
                module = self.find_module(importer, prefix + ".".join(names[:cut]))
                if module is not None:
                    rest = names[cut:]
                    if not rest:
                        return module
                    found = self.resolve_in_module(module, rest, depth + 1)
                    if found is not None:
                        return found
            if self.provider is not None and not dotted.startswith(".") and \
                    dotted.split(".", 1)[0] not in _NOT_PROVIDED:
                return self._from_provider(dotted)
            return None

    def resolve_in_module(self, module: ModuleInfo, rest: list[str], depth: int = 0) -> Resolved | None:
        """A name path (['Repo', 'find']) inside a module, following re-exports and instances."""
        if depth > MAX_REEXPORT_DEPTH or not rest:
            return module if not rest else None
        head = rest[0]
        if len(rest) == 1 and head in module.functions and "." not in head:
            return module.functions[head]
        cls = module.classes.get(head)
        if cls is not None:
            if len(rest) == 1:
                return cls
            if len(rest) == 2:
                return self.method_of(cls, rest[1])
            return None
        target = module.imports.get(head)
        if target is not None:
            return self.resolve(module, ".".join([target, *rest[1:]]), depth + 1)
        if head in module.globals:
            if len(rest) == 1:
                return GlobalRef(module, head)
            instance = self.class_of_global(module, head, depth + 1)
            if instance is not None and len(rest) == 2:
                return self.method_of(instance, rest[1])
        return None

    def class_of_global(self, module: ModuleInfo, name: str, depth: int = 0) -> ClassInfo | None:
        """The project class of a module-level instance (`db = Database(...)`), if it is one."""
        value = module.globals.get(name)
        if value is None or value.type != "call":
            return None
        fn = value.child_by_field_name("function")
        if fn is None or fn.type not in {"identifier", "attribute"}:
            return None
        text = module.text(fn)
        head, _, tail = text.partition(".")
        if head in module.classes and not tail:
            return module.classes[head]
        target = module.imports.get(head)
        if target is None:
            return None
        found = self.resolve(module, f"{target}.{tail}" if tail else target, depth + 1)
        return found if isinstance(found, ClassInfo) else None

    def method_of(self, cls: ClassInfo, name: str, depth: int = 0) -> FunctionInfo | None:
        """A method of a class or of its project base classes."""
        method = cls.methods.get(name)
        if method is not None or depth > 5:
            return method
        for base in cls.bases:
            base_cls = self.class_named(cls.module, base)
            if base_cls is not None and base_cls is not cls:
                found = self.method_of(base_cls, name, depth + 1)
                if found is not None:
                    return found
        return None

    def class_named(self, module: ModuleInfo, dotted: str) -> ClassInfo | None:
        """The project class a (possibly imported) name refers to in `module`."""
        head, _, tail = dotted.partition(".")
        if not tail and head in module.classes:
            return module.classes[head]
        target = module.imports.get(head)
        if target is None:
            return None
        found = self.resolve(module, f"{target}.{tail}" if tail else target)
        return found if isinstance(found, ClassInfo) else None

    def _from_provider(self, dotted: str) -> Resolved | None:
        if dotted in self._external:
            module = self._external[dotted]
        else:
            module = None
            self.stats.provider_calls += 1
            try:
                definition = self.provider(dotted) if self.provider is not None else None
            except Exception:
                log.exception("definition provider failed for %s", dotted)
                definition = None
            if definition is not None:
                doc = ParsedDocument(definition.source, path=definition.path)
                module = build_module(doc, f"external:{definition.path}:{dotted}", definition.path, None)
            self._external[dotted] = module
        if module is None:
            return None
        parts = dotted.split(".")
        for size in (2, 1):
            if len(parts) >= size:
                found = self.resolve_in_module(module, parts[-size:])
                if isinstance(found, FunctionInfo) and found.params and found.params[0].name in {"self", "cls"}:
                    found.is_method = True  # a method handed over without its class
                if found is not None and not isinstance(found, ModuleInfo):
                    return found
        return None

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
        """Remember which function keys an analysed file used (to re-analyse it when they change)."""
        with self.lock:
            self._file_deps[self.key_of(path)] = set(deps)

    def dependent_files(self, keys: set[str]) -> set[str]:
        """Analysed files that used any of `keys` (function keys, with or without a '#kind' suffix)."""
        bare = {k.split("#", 1)[0] for k in keys}
        with self.lock:
            return {path for path, deps in self._file_deps.items() if deps & bare}

    @property
    def modules(self) -> list[ModuleInfo]:
        """Modules parsed so far."""
        with self.lock:
            return [entry.module for entry in self._modules.values()]


def project_for_scan(root: Path) -> Project:
    """A Project for a batch scan of `root`: files indexed once, disk assumed unchanged, relative paths."""
    root = Path(os.path.abspath(root))
    base = root.parent if root.is_file() else root
    project = Project([base], relative_to=base, check_disk=False, max_modules=SCAN_MAX_MODULES)
    project.index_files()
    return project
