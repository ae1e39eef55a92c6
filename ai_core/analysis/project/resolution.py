"""Cross-file name resolution: imports, relative imports and re-exports to definitions in the project's files.

Definitions found nowhere locally can come from a `DefinitionProvider` (e.g. the retrieval index).
"""

from __future__ import annotations

import logging
import os
import sys

from ai_core.analysis.project.definitions import GlobalRef, Resolved
from ai_core.analysis.project.modules import ModuleTable
from ai_core.analysis.symbols import ClassInfo, FunctionInfo, ModuleInfo, build_module
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

MAX_REEXPORT_DEPTH = 6
_MISSING = object()
_NOT_PROVIDED = frozenset(sys.stdlib_module_names) | {
    "flask", "django", "fastapi", "starlette", "requests", "httpx", "aiohttp", "sqlalchemy", "yaml", "jinja2",
    "markupsafe", "werkzeug", "pydantic", "jwt", "jose", "passlib", "bcrypt", "numpy", "pandas", "torch",
    "click", "typer", "paramiko", "psycopg", "psycopg2", "pymysql", "urllib3", "boto3", "celery", "rest_framework"}
"""Top-level packages the definition provider is never asked about (libraries, not project code)."""


class NameResolver(ModuleTable):
    """Resolves dotted names seen from a module to functions, classes, modules and globals of the project."""

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

