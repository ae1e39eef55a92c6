"""The state of one function's evaluation (environment, findings, flows) and its name helpers.

`TaintHost` is what the evaluator asks of the project-wide analysis; the evaluator's parts (statements,
expressions, call sites) and the helpers they use (guards, project calls) all work on an `EvalState`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from tree_sitter import Node

from ai_core.analysis.project import Project
from ai_core.analysis.specs import SpecSet
from ai_core.analysis.specs.spec_types import Sink, Source
from ai_core.analysis.symbols import ClassInfo, FunctionInfo, ModuleInfo
from ai_core.analysis.taint.frameworks import Route
from ai_core.analysis.taint.summary import FunctionResult, SinkFlow
from ai_core.analysis.taint.values import CLEAN, CONST, Fact, Val, join2
from ai_core.findings import Finding, Span, TaintStep, VulnClass

DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
FIXED_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://[^/?#{}\s]+[/?#]")
FALSY = frozenset({"False", "None", "0", '""', "''"})
SKIP_STATEMENTS = frozenset({"pass_statement", "break_statement", "continue_statement", "import_statement",
                             "import_from_statement", "future_import_statement", "global_statement",
                             "nonlocal_statement", "comment", "class_definition", "delete_statement",
                             "type_alias_statement", "print_statement", "exec_statement"})
RESPONSE_KINDS = frozenset({"flask.Response", "django.http.HttpResponse"})
CONTAINER_KINDS = frozenset({"builtins.dict", "builtins.list"})
PATTERNS = frozenset({"pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "expression_list"})
XSS_MARK = frozenset({VulnClass.XSS.value})
MAX_LOOP_DEPTH = 2


def short_text(raw: bytes, limit: int = 40) -> str:
    """Source text on one line, shortened for messages."""
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def merge_envs(envs: list[dict[str, Val]]) -> dict[str, Val]:
    """The environment after branches: each variable may hold what any branch left in it."""
    if len(envs) == 1:
        return envs[0]
    result = dict(envs[0])
    for env in envs[1:]:
        for key, val in env.items():
            current = result.get(key)
            if current is None:
                result[key] = val
            elif current is not val:
                merged = join2(current, val)
                kind = current.kind if current.kind == val.kind else None
                head = join2(current.head, val.head) if current.head is not None and val.head is not None else None
                result[key] = Val(merged.facts, merged.const, kind, head) if kind or head else merged
    return result


class TaintHost(Protocol):
    """What the project-wide analysis offers one function's evaluation."""

    specs: SpecSet
    project: Project

    def global_kinds(self, module: ModuleInfo) -> Mapping[str, str | None]:
        """Global name -> type."""
        ...

    def imported_kind(self, module: ModuleInfo, head: str, rest: str) -> str | None:
        """The qualified name through a project module's object, else None."""
        ...

    def class_by_kind(self, kind: str) -> ClassInfo | None:
        """The project class behind a 'proj:' type."""
        ...

    def function_result(self, info: FunctionInfo, depth: int) -> FunctionResult | None:
        """A function's findings and summary."""
        ...

    def request_result(self, info: FunctionInfo, depth: int, requests: frozenset[str]) -> FunctionResult | None:
        """A function's findings and summary when the parameters `requests` hold request objects."""
        ...

    def route(self, info: FunctionInfo) -> Route:
        """A function's framework role."""
        ...

    def class_bases(self, cls: ClassInfo) -> tuple[str, ...]:
        """Qualified names of a class's bases."""
        ...

    def is_root(self, info: FunctionInfo) -> bool:
        """Whether a function needs analyzing for findings of its own."""
        ...

    def sourced_fields(self, cls: ClassInfo) -> frozenset[str]:
        """Names of `self.x` that source-reading methods of the class assign."""
        ...

    def class_fields(self, cls: ClassInfo, depth: int) -> dict[str, Val]:
        """`self.x` -> the source data the class's methods leave in it."""
        ...

    def family_methods(self, cls: ClassInfo) -> list[FunctionInfo]:
        """The methods of a class and of its project base classes."""
        ...


class EvalState:
    """What one function's evaluation holds, and how it reads names; its parts are mixed into FunctionEval."""

    def __init__(self, analysis: TaintHost, module: ModuleInfo, info: FunctionInfo | None,
                 globals_env: dict[str, Val], depth: int) -> None:
        self.a = analysis
        self.specs = analysis.specs
        self.project = analysis.project
        self.module = module
        self.data = module.doc.data
        self.info = info
        self.path = module.path
        self.globals = globals_env
        self.depth = depth
        self.env: dict[str, Val] = {}
        self.findings: list[Finding] = []
        self._finding_keys: set[tuple[str, int, int]] = set()
        self.sink_flows: dict[tuple[int, str], SinkFlow] = {}
        self.returns: list[Val] = []
        self.deps: set[str] = set()
        self.local_defs: dict[str, FunctionInfo] = {}
        self.closures: list[tuple[FunctionInfo, dict[str, Val]]] = []
        """Nested functions with the environment where they were defined (they read it as closures)."""
        self.defs: dict[str, Node] = {}
        """The latest expression assigned to each local name."""
        self.local_imports: dict[str, str] = {}
        """Names a function-level `from lib import name` bound (local name -> qualified name)."""
        self.derived: dict[str, str] = {}
        """x -> y when x was computed from y (host = urlparse(url).hostname): checking x says something of y."""
        self.route = Route()
        self.server_module: bool | None = None
        """Whether the module imports a web framework (its argv/input are then not operator input); on first use."""
        self.requests: frozenset[str] = frozenset()
        """Parameters a caller passes request objects in (beyond the route's own)."""
        self.loop_depth = 0
        self.class_info: ClassInfo | None = (module.classes.get(info.class_name) if info is not None
                                             and info.class_name else None)

    def annotation_kind(self, annotation: str) -> str | None:
        """A type name for an annotation: a spec type or a project class."""
        text = annotation.strip().strip("'\"")
        if text.endswith(" | None"):
            text = text[:-7]
        if not DOTTED.match(text.encode()):
            return None
        cls = self.project.class_named(self.module, text)
        if cls is not None:
            return f"proj:{cls.key}"
        head, sep, rest = text.partition(".")
        target = self.module.imports.get(head)
        return (target + sep + rest) if target else None


    # ------------------------------------------------------------------ helpers

    def text(self, node: Node) -> str:
        """Source text of a node."""
        return self.data[node.start_byte:node.end_byte].decode("utf-8", errors="replace")

    def dotted_of(self, node: Node) -> str | None:
        """'a.b.c' for a plain name/attribute chain, else None."""
        raw = self.data[node.start_byte:node.end_byte]
        if DOTTED.match(raw):
            return raw.decode("ascii")
        if (node.type == "attribute" and b"\n" in raw) or b" " in raw:
            compact = re.sub(rb"\s+", b"", raw)
            if DOTTED.match(compact):
                return compact.decode("ascii")
        return None

    def qualify(self, dotted: str) -> str:
        """The qualified name of a dotted name: imports, types of locals, request objects."""
        head, sep, rest = dotted.partition(".")
        if head == "self" and rest:
            if rest == "request" or rest.startswith("request."):
                return "<request>" + rest[7:]
            if rest == "kwargs" or rest.startswith("kwargs."):
                return dotted
            first = rest.split(".", 1)[0]
            if first in self.route.self_sources:
                return "<self-request>." + rest
            if self.route.self_type and self.class_info is not None and first not in self.class_info.methods:
                return f"{self.route.self_type}.{rest}"
        val = self.env.get(head)
        if val is not None:
            if val.kind:
                return val.kind + sep + rest
            return ("<local>" + sep + rest) if rest else "<local>"
        local_import = self.local_imports.get(head)
        if local_import is not None:
            return local_import + sep + rest
        target = self.module.imports.get(head)
        if target is not None:
            if rest or target.count(".") > 0:
                kind = self.a.imported_kind(self.module, head, rest)
                if kind is not None:
                    return kind
            return target + sep + rest
        val = self.globals.get(head)
        if val is not None:
            if val.kind:
                return val.kind + sep + rest
            return ("<global>" + sep + rest) if rest else "<global>"
        return dotted

    def lookup(self, name: str) -> Val:
        """The value of a name: local, module global, import or builtin."""
        val = self.env.get(name)
        if val is not None:
            return val
        val = self.globals.get(name)
        if val is not None:
            return val
        if name in {"True", "False", "None"}:
            return CONST
        return CLEAN

    def adopt_findings(self, findings: list[Finding]) -> None:
        """Findings of another evaluation of this module's code (a closure, a helper given the request)."""
        for finding in findings:
            key = (finding.rule, finding.span.start_byte, finding.span.end_byte)
            if key not in self._finding_keys:
                self._finding_keys.add(key)
                self.findings.append(finding)

    def step(self, node: Node, label: str) -> TaintStep:
        """A taint step at a node of this module."""
        return TaintStep(self.path, Span.of_node(node), label)

    def is_module_name(self, dotted: str) -> bool:
        """True when a dotted name starts with an imported module (not a local value)."""
        head = dotted.split(".", 1)[0]
        return head not in self.env and head in self.module.imports


    # ------------------------------------------------------------------ implemented by the other parts

    def ev(self, node: Node | None) -> Val:
        """The abstract value of an expression (ExpressionEval)."""
        raise NotImplementedError

    def args_val(self, positional: list[tuple[Node, Val]], keywords: dict[str, tuple[Node, Val]],
                 receiver: Val | None) -> Val:
        """The join of every argument and the receiver (CallSiteEval)."""
        raise NotImplementedError

    def add_finding(self, sink: Sink, site: Node, steps: tuple[TaintStep, ...], source_label: str,
                    label: str, via: str = "") -> None:
        """One finding per rule and site (CallSiteEval)."""
        raise NotImplementedError

    def add_review(self, sink: Sink, site: Node, operator: Fact | None, label: str) -> None:
        """A review-tier finding at a site (CallSiteEval)."""
        raise NotImplementedError

    def ev_call(self, node: Node) -> Val:
        """The value of a call, checking the sinks it reaches (CallSiteEval)."""
        raise NotImplementedError

    def source_val(self, source: Source, node: Node) -> Val:
        """A fresh source fact at `node` (ExpressionEval)."""
        raise NotImplementedError

    def assign(self, target: Node, val: Val) -> None:
        """Bind `val` to an assignment target (StatementEval)."""
        raise NotImplementedError

    def report(self, sink: Sink, site: Node, val: Val, label: str, whole_list: bool = False,
               built: bool = False) -> None:
        """A sink reached by `val` (CallSiteEval)."""
        raise NotImplementedError
