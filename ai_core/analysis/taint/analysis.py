"""Taint analysis of one module inside a project: which functions to analyze, summaries on demand, caching.

The functions analyzed for findings ("roots") are the module's top-level code, functions that mention
a source or a structural sink (a cheap byte-level prefilter), request/CLI handlers (decorated, registered,
methods of handler classes, or defined inside another function), methods reading a `self.x` that a
sibling method sets from a source, and functions that call a project function that reads a source.
Everything else is analyzed only when a root calls it with data that matters, as a summary; summaries
and findings are cached per function fingerprint in the Project, so an edit re-analyzes only the
functions it touched and those that depend on them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping

from ai_core.analysis.project import GlobalRef, Project
from ai_core.analysis.specs import SpecSet
from ai_core.analysis.symbols import SOURCE_TOKENS, ClassInfo, FunctionInfo, ModuleInfo
from ai_core.analysis.taint.engine import FunctionEval
from ai_core.analysis.taint.frameworks import ROUTE_METHODS, Route, local_bases, route_of
from ai_core.analysis.taint.handler_classes import FALCON_RESPONDER
from ai_core.analysis.taint.registrations import module_dotted, registration_for, registrations
from ai_core.analysis.taint.review import SQL_BUILDING
from ai_core.analysis.taint.summary import EMPTY, FunctionResult
from ai_core.analysis.taint.values import Val, join2
from ai_core.analysis.wordlist import contains_any
from ai_core.findings import Finding

log = logging.getLogger(__name__)

MAX_DEPTH = 8
"""How deep summaries are computed on demand before a call is treated like an unknown library call."""
_CALLS = re.compile(rb"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
_NESTED_ROUTE = re.compile(rb"@\s*[A-Za-z_][\w.]*\.(?:route|get|post|put|delete|patch|api_route|websocket|field)"
                           rb"\s*\(|\b(?:add_url_rule\s*\(|start_response\b)")
"""Handlers defined inside a function (`def init(app): @app.route(...)`) make it a root (prefilter on bytes)."""
_HANDLER_BASE = re.compile(r"(?:RequestHandler|MethodView|View|ViewSet|APIView|ObjectType|Mutation|Handler)\Z")
"""Last components of base class names whose methods may be request handlers (prefilter on names)."""
_HANDLER_SELF_SOURCE = re.compile(rb"\bself\.(?:get_(?:query_|body_)?arguments?|get_cookie|path|headers|rfile)\b")
"""Client data read through `self` in handler classes (Tornado, http.server), for methods without a source word."""
_SELF_ASSIGN = re.compile(rb"\bself\.([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)")
_LIBRARIES = frozenset({"flask", "django", "fastapi", "starlette", "os", "sys", "re", "json", "typing",
                        "collections", "logging", "subprocess", "pickle", "yaml", "requests", "httpx", "sqlalchemy",
                        "__future__", "typer", "click", "pathlib", "datetime", "functools", "itertools"})


def _reads_source(method: FunctionInfo) -> bool:
    """A method that may read client data: a source word, or a handler class's `self.get_argument(...)`."""
    return method.has_source_tokens() or method.module.mentions(_HANDLER_SELF_SOURCE, method.node.start_byte,
                                                                   method.node.end_byte)


def _is_library(target: str) -> bool:
    """True for imports of well-known libraries (never project code); relative imports are project code."""
    return not target.startswith(".") and target.split(".", 1)[0] in _LIBRARIES


class TaintAnalysis:
    """Runs the taint engine over one module, computing callee summaries across the project on demand."""

    def __init__(self, project: Project, specs: SpecSet) -> None:
        self.project = project
        self.specs = specs
        self.kind = f"taint:{specs.version}"
        self._stack: set[str] = set()
        self._kinds: dict[str, GlobalKinds] = {}
        self._file_tokens: dict[str, bool] = {}
        self._imported: dict[tuple[str, str, str], str | None] = {}
        self._callee_words: dict[str, tuple[bytes, ...]] = {}
        self._callee_patterns: dict[str, re.Pattern[bytes]] = {}
        self._fields: dict[str, dict[str, Val]] = {}
        self._request_results: dict[str, FunctionResult] = {}
        self.deps: set[str] = set()

    # ------------------------------------------------------------------ per module

    def analyze(self, module: ModuleInfo) -> list[Finding]:
        """Findings of a module: its top-level code and its root functions."""
        top = self.module_result(module)
        findings = list(top.findings)
        self.deps.update(d.split("#", 1)[0] for d in top.deps)
        for info in list(module.functions.values()):
            if not self.is_root(info):
                continue
            try:
                result = self.function_result(info, 0)
            except RecursionError:
                log.warning("taint analysis of %s too deep; skipped", info.key)
                continue
            if result is not None:
                findings.extend(result.findings)
                self.deps.add(info.key)
                self.deps.update(d.split("#", 1)[0] for d in result.deps)
        self.project.record_file_deps(module.key, self.deps)
        return findings

    def module_result(self, module: ModuleInfo) -> FunctionResult:
        """The module's own code, analyzed once per version (its globals feed every function)."""
        cached = self.project.cached(None, module, self.kind)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        key = f"{module.key}::<module>"
        if key in self._stack:
            return EMPTY
        self._stack.add(key)
        try:
            evaluator = FunctionEval(self, module, None, {}, 0)
            result = evaluator.run()
        finally:
            self._stack.discard(key)
        self.project.store(None, module, self.kind, result, result.deps)
        return result

    def globals_env(self, module: ModuleInfo) -> dict[str, Val]:
        """Values of the module's globals after its top-level code ran."""
        env = self.module_result(module).env
        return env if env is not None else {}  # type: ignore[return-value]

    def global_kinds(self, module: ModuleInfo) -> GlobalKinds:
        """Global name -> type (e.g. app -> flask.Flask), for recognising route decorators."""
        kinds = self._kinds.get(module.key)
        if kinds is None:
            kinds = self._kinds[module.key] = GlobalKinds(self, module)
        return kinds

    def imported_kind(self, module: ModuleInfo, head: str, rest: str) -> str | None:
        """`fetcher.session.post` where fetcher.session is a module-level `requests.Session()` of a project
        module: the qualified name through that object's type ('requests.Session.post'), else None."""
        key = (module.key, head, rest)
        if key in self._imported:
            return self._imported[key]
        result: str | None = None
        target = module.imports[head]
        parts = [p for p in rest.split(".") if p] if rest else []
        if self.project.module_path(module, target.rsplit(".", 1)[0] if "." in target else target) is not None \
                or self.project.module_path(module, target) is not None:
            for cut in range(0, min(len(parts), 2) + 1):
                found = self.project.resolve(module, ".".join([target, *parts[:cut]]))
                if isinstance(found, GlobalRef):
                    val = self.globals_env(found.module).get(found.name)
                    if val is not None and val.kind and not val.kind.startswith("proj:"):
                        result = ".".join([val.kind, *parts[cut:]])
                    break
                if found is None or isinstance(found, FunctionInfo | ClassInfo):
                    break
        self._imported[key] = result
        return result

    def class_by_kind(self, kind: str) -> ClassInfo | None:
        """The project class behind a 'proj:<module>::<Class>' type."""
        module_key, _, name = kind[5:].rpartition("::")
        module = self.project.module_at(module_key) if not module_key.startswith("external:") else None
        if module is None:
            for candidate in self.project.modules:
                if candidate.key == module_key:
                    module = candidate
                    break
        return module.classes.get(name) if module is not None else None

    # ------------------------------------------------------------------ handlers

    def route(self, info: FunctionInfo) -> Route:
        """What framework role a function has: decorators, its class's bases, or a registration by call."""
        bases = self.class_bases(info.module.classes[info.class_name]) \
            if info.class_name and info.class_name in info.module.classes else ()
        return route_of(info.module, info, self.global_kinds(info.module), bases,
                        registration_for(self.project, info))

    def class_bases(self, cls: ClassInfo, depth: int = 0) -> tuple[str, ...]:
        """Qualified names of a class's bases, through the project's own classes (cached on the class)."""
        cached: tuple[str, ...] | None = cls.__dict__.get("_qualified_bases")
        if cached is not None:
            return cached
        found = list(local_bases(cls.module, cls.bases))
        for base in cls.bases:
            target = cls.module.imports.get(base.partition(".")[0])
            if depth < 3 and (target is None or not _is_library(target)):
                parent = self.project.class_named(cls.module, base)
                if parent is not None and parent is not cls:
                    found.extend(self.class_bases(parent, depth + 1))
        result = tuple(found)
        cls.__dict__["_qualified_bases"] = result
        return result

    def handler_like(self, info: FunctionInfo) -> bool:
        """Cheap: a method of a handler-looking class, a registered view, a Falcon responder, a WSGI app."""
        module = info.module
        if info.class_name is not None:
            cls = module.classes.get(info.class_name)
            if cls is not None and any(_HANDLER_BASE.search(b) for b in cls.bases):
                return True
            if FALCON_RESPONDER.match(info.name) or info.name.startswith("resolve_"):
                return True
            return self.reads_sourced_attribute(info)
        if registrations(module).get(info.name) is not None:
            return True
        if info.params and info.params[-1].name == "start_response":
            return True
        operations = self.project.openapi_operations()
        return bool(operations) and any(f"{module_dotted(module, str(root))}.{info.name}" in operations
                                        for root in self.project.roots)

    def reads_sourced_attribute(self, info: FunctionInfo) -> bool:
        """A method reading `self.x` where a sibling method that reads a source assigns `self.x`."""
        cls = info.module.classes.get(info.class_name or "")
        if cls is None or not self.sourced_fields(cls):
            return False
        pattern: re.Pattern[bytes] = cls.__dict__["_sourced_pattern"]
        return bool(pattern.search(info.module.data[info.node.start_byte:info.node.end_byte]))

    def sourced_fields(self, cls: ClassInfo) -> frozenset[str]:
        """Names `x` that a method of the class mentioning a source assigns as `self.x` (by text, cached)."""
        cached: frozenset[str] | None = cls.__dict__.get("_sourced_fields")
        if cached is not None:
            return cached
        fields: set[bytes] = set()
        for method in self.family_methods(cls):
            if _reads_source(method):
                fields.update(_SELF_ASSIGN.findall(method.module.data[method.node.start_byte:method.node.end_byte]))
        if fields:
            cls.__dict__["_sourced_pattern"] = re.compile(rb"\bself\.(?:" + b"|".join(sorted(fields)) + rb")\b")
        result = frozenset(f.decode("ascii", "replace") for f in fields)
        cls.__dict__["_sourced_fields"] = result
        return result

    def family_methods(self, cls: ClassInfo) -> list[FunctionInfo]:
        """The methods of a class and of its project base classes (a base's `prepare()` sets what `get()` reads)."""
        methods: list[FunctionInfo] = []
        seen: set[str] = set()
        stack = [(cls, 0)]
        while stack:
            current, depth = stack.pop()
            if current.key in seen:
                continue
            seen.add(current.key)
            methods.extend(current.methods.values())
            if depth < 3:
                for base in current.bases:
                    head = base.partition(".")[0]
                    target = current.module.imports.get(head)
                    if head in current.module.classes or (target is not None and not _is_library(target)
                                                          and self.module_may_have_sources(current.module, target)):
                        parent = self.project.class_named(current.module, base)  # parses only files with sources
                        if parent is not None:
                            stack.append((parent, depth + 1))
        return methods

    def class_fields(self, cls: ClassInfo, depth: int) -> dict[str, Val]:
        """`self.x` -> the source data the class's source-reading methods leave in it (once per class)."""
        found = self._fields.get(cls.key)
        if found is not None:
            return found
        fields: dict[str, Val] = {}
        self._fields[cls.key] = fields  # while computing, a method asking again sees what is known so far
        for method in self.family_methods(cls):
            if not _reads_source(method) or not _SELF_ASSIGN.search(
                    method.module.data[method.node.start_byte:method.node.end_byte]):
                continue
            result = self.function_result(method, depth)
            for attr, val in (result.attributes or {}).items() if result is not None else ():
                if isinstance(val, Val):
                    old = fields.get(attr)
                    fields[attr] = join2(old, val) if old is not None else val
        return fields

    # ------------------------------------------------------------------ functions

    def function_result(self, info: FunctionInfo, depth: int) -> FunctionResult | None:
        """A function's findings and summary (cached; None when the call chain is too deep)."""
        cached = self.project.cached(info, info.module, self.kind)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if depth > MAX_DEPTH:
            return None
        key = info.key
        if key in self._stack:
            return EMPTY
        self._stack.add(key)
        try:
            evaluator = FunctionEval(self, info.module, info, self.globals_env(info.module), depth)
            result = evaluator.run()
        finally:
            self._stack.discard(key)
        self.project.store(info, info.module, self.kind, result, result.deps)
        return result

    def request_result(self, info: FunctionInfo, depth: int, requests: frozenset[str]) -> FunctionResult | None:
        """A function analyzed with request objects in the parameters `requests` (once per file and set)."""
        key = f"{info.key}#requests:{','.join(sorted(requests))}"
        found = self._request_results.get(key)
        if found is not None:
            return found
        if depth > MAX_DEPTH:
            return None
        if key in self._stack:
            return EMPTY
        self._stack.add(key)
        try:
            evaluator = FunctionEval(self, info.module, info, self.globals_env(info.module), depth)
            evaluator.requests = requests
            result = evaluator.run()
        finally:
            self._stack.discard(key)
        self._request_results[key] = result
        return result

    def is_root(self, info: FunctionInfo) -> bool:
        """Whether a function needs analyzing for findings of its own (see the module docstring); the byte
        prefilters first, then what resolves names."""
        if info.has_source_tokens(self.specs.extra_source_tokens):
            return True
        module, start, end = info.module, info.node.start_byte, info.node.end_byte
        if module.mentions(self.specs.structural_tokens, start, end):
            return True
        if module.mentions(self.specs.review_tokens, start, end):
            return True  # a helper that builds SQL or a command from its parameters: review tier
        if module.mentions(SQL_BUILDING, start, end):
            return True  # builds SQL for a project helper that runs it: review tier at the call
        if module.mentions(_NESTED_ROUTE, start, end):
            return True
        for dec in info.decorators:
            text = module.data[dec.start_byte:dec.end_byte]
            if b"(" in text and text.split(b"(", 1)[0].rsplit(b".", 1)[-1].lstrip(b"@ ").decode(errors="replace") \
                    in ROUTE_METHODS:
                return True
            if any(word in text for word in (b"click", b".command", b"strawberry", b"view_config", b".field(")):
                return True
        return self.handler_like(info) or self.calls_source_function(info, module.data[start:end])

    def source_callees(self, module: ModuleInfo) -> tuple[bytes, ...]:
        """The names through which a module's functions may call source-reading project functions."""
        cached = self._callee_words.get(module.key)
        if cached is not None:
            return cached
        names = {name for name, info in module.functions.items() if "." not in name and info.has_source_tokens()}
        methods = {name.split(".", 1)[1] for name, info in module.functions.items()
                   if "." in name and info.has_source_tokens()}
        for local, target in module.imports.items():
            if not _is_library(target) and self.module_may_have_sources(module, target):
                names.add(local)
        words = tuple(word.encode() for word in [*sorted(names), *(f"self.{m}" for m in sorted(methods))])
        self._callee_words[module.key] = words
        return words

    def calls_source_function(self, info: FunctionInfo, data: bytes) -> bool:
        """True when the function calls a project function that reads a source (e.g. a get_param helper)."""
        module = info.module
        words = self.source_callees(module)
        if not contains_any(data, words):  # what the regex below needs, without compiling it for every module
            return False
        pattern = self._callee_patterns.get(module.key)
        if pattern is None:
            pattern = self._callee_patterns[module.key] = re.compile(
                rb"\b(?:" + b"|".join(re.escape(word) for word in words) + rb")\b")
        if not pattern.search(data):
            return False
        for match in _CALLS.finditer(data):
            name = match.group(1).decode("ascii", errors="replace")
            head, _, rest = name.partition(".")
            if head == "self" and info.class_name:
                method = module.functions.get(f"{info.class_name}.{rest}")
                if method is not None and method is not info and method.has_source_tokens():
                    return True
                continue
            if not rest and head in module.functions:
                callee = module.functions[head]
                if callee is not info and callee.has_source_tokens():
                    return True
                continue
            target = module.imports.get(head)
            if target is None or _is_library(target):
                continue
            found = self.project.resolve(module, f"{target}.{rest}" if rest else target) \
                if self.module_may_have_sources(module, target) else None
            if isinstance(found, FunctionInfo) and found.has_source_tokens():
                return True
        return False

    def module_may_have_sources(self, importer: ModuleInfo, target: str) -> bool:
        """Cheap check before parsing an imported module: does the file mention source words at all?"""
        candidates = [target]
        if "." in target.lstrip("."):
            candidates.append(target.rsplit(".", 1)[0])
        for dotted in candidates:
            path = self.project.module_path(importer, dotted)
            if path is None:
                continue
            cached = self._file_tokens.get(path)
            if cached is None:
                cached = bool(SOURCE_TOKENS.search(self.project.source_bytes(path)))
                self._file_tokens[path] = cached
            return cached
        return False


class GlobalKinds(Mapping[str, str | None]):
    """Global name -> type of one module: its own globals, and an imported name (`from app import app`) resolved
    the first time it is asked for (a decorator's head) rather than every import of every module analyzed."""

    def __init__(self, analysis: TaintAnalysis, module: ModuleInfo) -> None:
        self._analysis = analysis
        self._module = module
        self._kinds = {name: val.kind for name, val in analysis.globals_env(module).items()}
        self._asked: set[str] = set()

    def __getitem__(self, name: str) -> str | None:
        if name not in self._kinds and name not in self._asked:
            self._asked.add(name)
            target = self._module.imports.get(name)
            if target is not None and not _is_library(target):
                found = self._analysis.project.resolve(self._module, target)
                if isinstance(found, GlobalRef):
                    val = self._analysis.globals_env(found.module).get(found.name)
                    self._kinds[name] = val.kind if val is not None else None
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        for name in list(self._module.imports):
            self.get(name)
        return iter(self._kinds)

    def __len__(self) -> int:
        return sum(1 for _ in self)
