"""The intra-procedural taint evaluator: one pass over a function's statements, in order.

Branches are analysed on copies of the environment and merged (a branch that returns, raises or
aborts does not reach the code after the `if`, which is how `if x not in ALLOWED: abort()` sanitises
`x`); loop bodies run twice so values carried around the loop are seen; calls are resolved to specs
(sources, sinks, sanitizers, propagators) or to project functions, whose summaries say what they do
with their arguments.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from ai_core.analysis.specs.sources import LOCAL_USER_CLASSES
from ai_core.analysis.specs.spec_types import INJECTION_CLASSES, NORMALIZED, ArgTest, Sink, Source
from ai_core.analysis.symbols import ClassInfo, FunctionInfo, ModuleInfo, function_info
from ai_core.analysis.taint.calls import ProjectCalls
from ai_core.analysis.taint.frameworks import Route, is_request_param, route_of
from ai_core.analysis.taint.guards import LITERALS, SSRF_MARK, Guards
from ai_core.analysis.taint.summary import FunctionResult, SinkFlow, Summary
from ai_core.analysis.taint.values import (
    CLEAN,
    CONST,
    Fact,
    Origin,
    Val,
    class_marks,
    join,
    join2,
    marked,
    stepped,
)
from ai_core.findings import Finding, Span, TaintPath, TaintStep, VulnClass

if TYPE_CHECKING:
    from ai_core.analysis.taint.analysis import TaintAnalysis

log = logging.getLogger(__name__)

_DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_FIXED_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://[^/?#{}\s]+[/?#]")
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


def _span(node: Node) -> Span:
    start_row, start_col = node.start_point
    end_row, end_col = node.end_point
    return Span(node.start_byte, node.end_byte, start_row, start_col, end_row, end_col)


def _short(raw: bytes, limit: int = 40) -> str:
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


class FunctionEval:
    """Evaluates one function (or a module's top-level code) into findings and a summary."""

    def __init__(self, analysis: TaintAnalysis, module: ModuleInfo, info: FunctionInfo | None,
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
        self.defs: dict[str, Node] = {}
        """The latest expression assigned to each local name."""
        self.derived: dict[str, str] = {}
        """x -> y when x was computed from y (host = urlparse(url).hostname): checking x says something of y."""
        self.route = Route()
        self.loop_depth = 0
        self.guards = Guards(self)
        self.calls = ProjectCalls(self)
        self.class_info: ClassInfo | None = (module.classes.get(info.class_name) if info is not None
                                             and info.class_name else None)

    # ------------------------------------------------------------------ entry

    def run(self) -> FunctionResult:
        """Analyse the whole function (or module) once."""
        info = self.info
        if info is None:
            for stmt in self.module.statements:
                try:
                    self.stmt(stmt)
                except RecursionError:
                    log.warning("%s:%d: expression too deeply nested for the taint engine; statement skipped",
                                self.path, stmt.start_point[0] + 1)
            return FunctionResult(Summary(), self.findings, frozenset(self.deps), env=dict(self.env))
        self.route = route_of(self.module, info, self.a.global_kinds(self.module))
        for param in info.params:
            self.env[param.name] = self.param_val(info, param.index, param.name, param.annotation, param.node)
        body = info.body
        if body is not None:
            self.block(body)
        summary = Summary(tuple(self.sink_flows.values()))
        if self.returns:
            ret = join(self.returns)
            kinds = {v.kind for v in self.returns}
            summary.returns = ret.facts
            summary.returns_const = ret.const
            summary.return_kind = kinds.pop() if len(kinds) == 1 else None
            summary.returns_clean_head = all(v.head is not None and not v.head.facts for v in self.returns)
        return FunctionResult(summary, self.findings, frozenset(self.deps))

    def param_val(self, info: FunctionInfo, index: int, name: str, annotation: str, node: Node | None) -> Val:
        """A parameter's value: its own origin, plus a source when a framework fills it from the request."""
        site = node if node is not None else info.node
        facts = [Fact(Origin(index, label=name), frozenset(),
                      (TaintStep(self.path, _span(site), f"parameter {name} of {info.name}()"),))]
        label = self.route.source_params.get(name)
        if label is not None:
            classes = LOCAL_USER_CLASSES if self.route.framework == "cli" else INJECTION_CLASSES
            facts.insert(0, Fact(Origin(-1, f"framework.{self.route.framework}", label, classes),
                                 frozenset(), (TaintStep(self.path, _span(site), f"source: {label}"),)))
        kind = None
        if index == 0 and info.is_method and self.class_info is not None and name in {"self", "cls"}:
            kind = f"proj:{self.class_info.key}"
        elif is_request_param(name, annotation):
            kind = "<request>"
        elif annotation:
            kind = self.annotation_kind(annotation)
        return Val(tuple(facts), False, kind)

    def annotation_kind(self, annotation: str) -> str | None:
        """A type name for an annotation: a spec type or a project class."""
        text = annotation.strip().strip("'\"")
        if text.endswith(" | None"):
            text = text[:-7]
        if not _DOTTED.match(text.encode()):
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
        if _DOTTED.match(raw):
            return raw.decode("ascii")
        if (node.type == "attribute" and b"\n" in raw) or b" " in raw:
            compact = re.sub(rb"\s+", b"", raw)
            if _DOTTED.match(compact):
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
        val = self.env.get(head)
        if val is not None:
            if val.kind:
                return val.kind + sep + rest
            return ("<local>" + sep + rest) if rest else "<local>"
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

    def step(self, node: Node, label: str) -> TaintStep:
        """A taint step at a node of this module."""
        return TaintStep(self.path, _span(node), label)

    # ------------------------------------------------------------------ statements

    def block(self, node: Node | None) -> None:
        """Run the statements of a block."""
        if node is None:
            return
        for child in node.named_children:
            try:
                self.stmt(child)
            except RecursionError:  # absurdly deep expressions: skip the statement, keep the rest
                log.warning("%s:%d: expression too deeply nested for the taint engine; statement skipped",
                            self.path, child.start_point[0] + 1)

    def stmt(self, node: Node) -> None:
        """Run one statement."""
        kind = node.type
        if kind == "expression_statement":
            for child in node.named_children:
                ctype = child.type
                if ctype == "assignment":
                    self.st_assign(child)
                elif ctype == "augmented_assignment":
                    self.st_augmented(child)
                else:
                    self.ev(child)
        elif kind == "return_statement":
            self.st_return(node)
        elif kind == "if_statement":
            self.st_if(node)
        elif kind in {"for_statement", "while_statement"}:
            self.st_loop(node)
        elif kind == "try_statement":
            self.st_try(node)
        elif kind == "with_statement":
            self.st_with(node)
        elif kind == "function_definition":
            self.st_def(node, [])
        elif kind == "decorated_definition":
            inner = node.child_by_field_name("definition")
            if inner is not None and inner.type == "function_definition":
                self.st_def(inner, [c for c in node.named_children if c.type == "decorator"])
        elif kind == "assert_statement":
            for child in node.named_children:
                self.ev(child)
            first = node.named_children[0] if node.named_child_count else None
            if first is not None:
                self.env = self.guards.refined(self.env, first, True)
        elif kind == "match_statement":
            self.st_match(node)
        elif kind == "block":
            self.block(node)
        elif kind in SKIP_STATEMENTS:
            return
        else:
            for child in node.named_children:
                if child.type != "block":
                    self.ev(child)
                else:
                    self.block(child)

    def st_assign(self, node: Node) -> Val:
        """`left = right` (also chained and annotated assignments); returns the assigned value."""
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if right is None or left is None:
            return CLEAN
        if right.type == "assignment":
            val = self.st_assign(right)
        elif left.type in PATTERNS and right.type in PATTERNS and \
                len(left.named_children) == len(right.named_children):
            for target, value in zip(left.named_children, right.named_children, strict=True):
                self.assign(target, self.ev(value))
            return CLEAN
        else:
            val = self.ev(right)
            if left.type == "identifier":
                self.defs[self.text(left)] = right
            if left.type == "identifier" and right.type in {"call", "attribute", "subscript"} and val.facts:
                base, exact = self.guards.target_key(right)
                if base is not None and not exact:
                    self.derived[self.text(left)] = base
        annotation = node.child_by_field_name("type")
        if annotation is not None and val.kind is None and not val.const:
            kind = self.annotation_kind(self.text(annotation))
            if kind:
                val = val.typed(kind)
        self.assign(left, val)
        return val

    def assign(self, target: Node, val: Val) -> None:
        """Bind a value to an assignment target."""
        kind = target.type
        if kind == "identifier":
            name = self.text(target)
            self.env[name] = stepped(val, self.step(target, f"assigned to {name}")) if val.facts else val
        elif kind in PATTERNS:
            element = Val(val.facts, val.const) if (val.kind or val.head) else val
            for child in target.named_children:
                self.assign(child, element)
        elif kind == "attribute":
            dotted = self.dotted_of(target)
            if dotted is not None:
                self.env[dotted] = stepped(val, self.step(target, f"assigned to {dotted}")) if val.facts else val
            else:
                obj = target.child_by_field_name("object")
                if obj is not None:
                    self.ev(obj)
        elif kind == "subscript":
            self.assign_item(target, val)
        elif kind in {"list_splat_pattern", "parenthesized_expression"} and target.named_child_count:
            self.assign(target.named_children[0], val)

    def assign_item(self, target: Node, val: Val) -> None:
        """`container[key] = val`: the container absorbs the value; header assignments can be sinks."""
        container = target.child_by_field_name("value")
        key = target.child_by_field_name("subscript")
        if key is not None:
            self.ev(key)
            if key.type == "string" and val.facts:
                header = self.text(key)[1:-1].lower()
                for sink in self.specs.special_sinks(f"<header-assign>:{header}"):
                    self.report(sink, target.parent or target, val, f"{self.text(target)} =")
        if container is None:
            return
        dotted = self.dotted_of(container)
        if dotted is None:
            self.ev(container)
            return
        old = self.env.get(dotted) or self.globals.get(dotted) or CLEAN
        merged = join2(old, val)
        self.env[dotted] = Val(merged.facts, False, old.kind, old.head) if (old.kind or old.head) else merged

    def st_augmented(self, node: Node) -> None:
        """`x += y`: x keeps its data and gains y's."""
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            return
        old = self.ev(left)
        new = self.ev(right)
        merged = join2(old, new)
        if old.head is not None or old.kind:
            merged = Val(merged.facts, merged.const, old.kind, old.head)
        self.assign(left, merged)

    def st_return(self, node: Node) -> None:
        """Record the returned value; in request handlers the return value is the response."""
        expr = node.named_children[0] if node.named_child_count else None
        if expr is None:
            self.returns.append(CONST)
            return
        first_node = expr
        if expr.type in {"expression_list", "tuple"} and expr.named_child_count:
            vals = [self.ev(child) for child in expr.named_children]
            first_node = expr.named_children[0]
            first, val = vals[0], join(vals)
        else:
            val = first = self.ev(expr)
        self.returns.append(val)
        if self.route.framework in {"flask", "fastapi", "django"}:
            self.check_route_return(first_node, first)

    def check_route_return(self, node: Node, val: Val) -> None:
        """A handler's return value reaching the client: HTML for Flask views, any body for errors."""
        if not val.facts or val.kind in RESPONSE_KINDS:
            return
        for sink in self.specs.special_sinks("<route-return>"):
            if sink.vuln_class is VulnClass.XSS and (
                    not self.route.html_return or val.kind in CONTAINER_KINDS or node.type in {
                        "dictionary", "list", "dictionary_comprehension", "list_comprehension"}):
                continue
            self.report(sink, node, val, "the response")

    def st_if(self, node: Node) -> None:
        """Both branches on copies of the environment, refined by the condition; merged after."""
        cond = node.child_by_field_name("condition")
        if cond is None:
            return
        self.ev(cond)
        before = self.env
        outcomes: list[tuple[dict[str, Val], bool]] = []
        self.env = self.guards.refined(before, cond, True)
        consequence = node.child_by_field_name("consequence")
        self.block(consequence)
        outcomes.append((self.env, self.guards.terminates(consequence)))
        false_env = self.guards.refined(before, cond, False)
        has_else = False
        for alt in node.children_by_field_name("alternative"):
            if alt.type == "elif_clause":
                cond2 = alt.child_by_field_name("condition")
                body = alt.child_by_field_name("consequence")
                self.env = false_env
                if cond2 is not None:
                    self.ev(cond2)
                    self.env = self.guards.refined(false_env, cond2, True)
                else:
                    self.env = dict(false_env)
                self.block(body)
                outcomes.append((self.env, self.guards.terminates(body)))
                if cond2 is not None:
                    false_env = self.guards.refined(false_env, cond2, False)
            else:
                has_else = True
                body = alt.child_by_field_name("body")
                self.env = dict(false_env)
                self.block(body)
                outcomes.append((self.env, self.guards.terminates(body)))
        if not has_else:
            outcomes.append((false_env, False))
        live = [env for env, ended in outcomes if not ended] or [env for env, _ in outcomes]
        self.env = merge_envs(live)

    def st_loop(self, node: Node) -> None:
        """for/while: the body may run zero, one or more times (run twice, merged with the entry state)."""
        is_for = node.type == "for_statement"
        left = node.child_by_field_name("left")
        source = node.child_by_field_name("right" if is_for else "condition")
        element = self.ev(source) if source is not None else CLEAN
        element = Val(element.facts, element.const) if element.facts else (CONST if element.const else CLEAN)
        before = self.env
        env = dict(before)
        passes = 2 if self.loop_depth < MAX_LOOP_DEPTH else 1
        self.loop_depth += 1
        body = node.child_by_field_name("body")
        for _ in range(passes):
            self.env = env
            if is_for and left is not None:
                self.assign(left, element)
            elif source is not None:
                self.env = self.guards.refined(self.env, source, True)
            self.block(body)
            env = merge_envs([before, self.env])
        self.loop_depth -= 1
        self.env = env
        alternative = node.child_by_field_name("alternative")
        if alternative is not None:
            self.block(alternative.child_by_field_name("body"))

    def st_try(self, node: Node) -> None:
        """try/except/else/finally: handlers start from before-or-after the body."""
        before = dict(self.env)
        self.block(node.child_by_field_name("body"))
        after_body = self.env
        outcomes = [after_body]
        finally_block: Node | None = None
        for child in node.named_children:
            if child.type in {"except_clause", "except_group_clause"}:
                self.env = merge_envs([before, after_body])
                if self.env is after_body:
                    self.env = dict(after_body)
                for part in child.named_children:
                    if part.type == "as_pattern":
                        alias = part.child_by_field_name("alias")
                        if alias is not None and alias.named_child_count:
                            self.assign(alias.named_children[0], CLEAN)
                    elif part.type == "block":
                        self.block(part)
                        if self.guards.terminates(part):
                            break
                else:
                    outcomes.append(self.env)
            elif child.type == "else_clause":
                self.env = dict(after_body)
                self.block(child.child_by_field_name("body"))
                outcomes[0] = self.env
            elif child.type == "finally_clause":
                finally_block = child
        self.env = merge_envs(outcomes)
        if finally_block is not None:
            for part in finally_block.named_children:
                if part.type == "block":
                    self.block(part)

    def st_with(self, node: Node) -> None:
        """`with expr as name:` binds the context manager's value (file, cursor, session...)."""
        for clause in node.named_children:
            if clause.type != "with_clause":
                continue
            for item in clause.named_children:
                value = item.child_by_field_name("value")
                if value is None:
                    continue
                if value.type == "as_pattern":
                    expr = value.named_children[0] if value.named_child_count else None
                    alias = value.child_by_field_name("alias")
                    val = self.ev(expr) if expr is not None else CLEAN
                    if alias is not None and alias.named_child_count:
                        self.assign(alias.named_children[0], val)
                else:
                    self.ev(value)
        self.block(node.child_by_field_name("body"))

    def st_match(self, node: Node) -> None:
        """match/case: each case is a branch."""
        subject = node.child_by_field_name("subject")
        if subject is not None:
            self.ev(subject)
        before = self.env
        outcomes = [before]
        body = node.child_by_field_name("body")
        for case in body.named_children if body is not None else []:
            if case.type != "case_clause":
                continue
            self.env = dict(before)
            self.block(case.child_by_field_name("consequence"))
            outcomes.append(self.env)
        self.env = merge_envs(outcomes)

    def st_def(self, node: Node, decorators: list[Node]) -> None:
        """A nested function: resolvable by name within this function."""
        prefix = f"{self.info.qualname}.<locals>." if self.info is not None else "<module>."
        info = function_info(self.module, node, decorators, None, prefix=prefix)
        self.local_defs[info.name] = info
        self.env.pop(info.name, None)

    def is_module_name(self, dotted: str) -> bool:
        """True when a dotted name starts with an imported module (not a local value)."""
        head = dotted.split(".", 1)[0]
        return head not in self.env and head in self.module.imports

    # ------------------------------------------------------------------ expressions

    def ev(self, node: Node | None) -> Val:
        """The abstract value of an expression (evaluating calls inside it for their sinks)."""
        if node is None:
            return CLEAN
        kind = node.type
        if kind == "identifier":
            return self.lookup(self.data[node.start_byte:node.end_byte].decode("utf-8", errors="replace"))
        if kind == "call":
            return self.ev_call(node)
        if kind == "attribute":
            return self.ev_attribute(node)
        if kind == "string":
            return self.ev_string(node)
        if kind in LITERALS:
            return CONST
        if kind == "subscript":
            value = self.ev(node.child_by_field_name("value"))
            for index in node.children_by_field_name("subscript"):
                self.ev(index)
            return Val(value.facts, value.const) if (value.kind or value.head) else value
        if kind == "binary_operator":
            return self.ev_binary(node)
        if kind == "parenthesized_expression" and node.named_child_count == 1:
            return self.ev(node.named_children[0])
        if kind in {"list", "tuple", "expression_list", "set"}:
            vals = [self.ev(c) for c in node.named_children]
            if not vals:
                return Val((), True, "builtins.list" if kind == "list" else None)
            val = join(vals)
            return Val(val.facts, val.const, "builtins.list" if kind == "list" else None, vals[0])
        if kind == "dictionary":
            val = join(self.ev(c) for c in node.named_children)
            return Val(val.facts, val.const, "builtins.dict")
        if kind == "pair":
            return join2(self.ev(node.child_by_field_name("key")), self.ev(node.child_by_field_name("value")))
        if kind in {"comparison_operator", "not_operator"}:
            for child in node.named_children:
                self.ev(child)
            return CLEAN
        if kind in {"list_comprehension", "set_comprehension", "generator_expression", "dictionary_comprehension"}:
            return self.ev_comprehension(node)
        if kind == "concatenated_string":
            val = join(self.ev(c) for c in node.named_children)
            first = node.named_children[0] if node.named_child_count else None
            if val.facts and first is not None and self.fixed_host(first):
                return marked(val, SSRF_MARK)
            return val
        if kind == "named_expression":
            name = node.child_by_field_name("name")
            val = self.ev(node.child_by_field_name("value"))
            if name is not None:
                self.assign(name, val)
            return val
        if kind == "lambda":
            return CLEAN
        if kind == "keyword_argument":
            return self.ev(node.child_by_field_name("value"))
        if kind == "yield":
            val = join(self.ev(c) for c in node.named_children)
            self.returns.append(val)
            return CLEAN
        if kind == "conditional_expression":  # `a if cond else b`: each side under what cond says
            children = node.named_children
            if len(children) == 3:
                self.ev(children[1])
                saved = self.env
                self.env = self.guards.refined(saved, children[1], True)
                chosen = self.ev(children[0])
                self.env = self.guards.refined(saved, children[1], False)
                other = self.ev(children[2])
                self.env = saved
                return join2(chosen, other)
        if kind == "slice":
            for child in node.named_children:
                self.ev(child)
            return CONST
        vals = [self.ev(c) for c in node.named_children]
        return join(vals) if vals else CLEAN

    def ev_string(self, node: Node) -> Val:
        """f-strings carry the data of their interpolations; a fixed 'scheme://host/' prefix rules out SSRF."""
        vals: list[Val] = []
        for child in node.named_children:
            if child.type == "interpolation":
                vals.append(self.ev(child.child_by_field_name("expression")))
        if not vals:
            return CONST
        val = join(vals)
        if val.facts and self.fixed_host(node):
            return marked(val, SSRF_MARK)
        return val

    def fixed_host(self, node: Node) -> bool:
        """True when the string (or the named constant) starts with a literal 'scheme://host/'."""
        if node.type == "identifier":
            value = self.module.globals.get(self.text(node))
            if value is None or value.type != "string":
                return False
            node = value
        if node.type != "string":
            return False
        prefix: list[str] = []
        for child in node.children:
            if child.type == "interpolation":
                expr = child.child_by_field_name("expression")
                constant = self.module.globals.get(self.text(expr)) if expr is not None and \
                    expr.type == "identifier" else None
                if constant is None or constant.type != "string" or any(
                        c.type == "interpolation" for c in constant.named_children):
                    break
                prefix.extend(self.text(c) for c in constant.named_children if c.type == "string_content")
                continue
            if child.type == "string_content":
                prefix.append(self.text(child))
        return bool(_FIXED_HOST.match("".join(prefix)))

    def ev_binary(self, node: Node) -> Val:
        """`+`, `%`, `/` (pathlib) and arithmetic: the result carries both sides' data."""
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        lval = self.ev(left)
        rval = self.ev(right)
        val = join2(lval, rval)
        op = operator.type if operator is not None else ""
        if op == "/" and lval.kind == "pathlib.Path":
            return Val(val.facts, val.const, "pathlib.Path")
        if op in {"%", "+"} and lval.kind == "markupsafe.Markup":  # Markup escapes what is added to it
            return marked(val, XSS_MARK).typed("markupsafe.Markup")
        if val.facts and op in {"+", "%"} and left is not None and self.fixed_host(left):
            val = marked(val, SSRF_MARK)
        if op == "+" and lval.head is not None:
            return Val(val.facts, val.const, lval.kind, lval.head)
        return val

    def ev_attribute(self, node: Node) -> Val:
        """`obj.attr`: a source (request.args), a tracked attribute (self.x), or the object's data."""
        dotted = self.dotted_of(node)
        if dotted is not None:
            val = self.env.get(dotted)
            if val is not None:
                return val
            qualified = self.qualify(dotted)
            source = self.specs.source(qualified, False)
            if source is not None:
                return self.source_val(source, node)
            head = dotted.split(".", 1)[0]
            if head not in self.env and head in self.module.imports and "." in qualified:
                sanitizer = self.specs.attribute_sanitizer(qualified)
                return CLEAN if sanitizer is None else CONST
        obj = node.child_by_field_name("object")
        attr = node.child_by_field_name("attribute")
        val = self.ev(obj)
        if not val.facts:
            return CONST if val.const else CLEAN
        if val.kind and attr is not None:
            sanitizer = self.specs.attribute_sanitizer(f"{val.kind}.{self.text(attr)}")
            if sanitizer is not None:
                return marked(val, class_marks(sanitizer.classes))
        return Val(val.facts)

    def ev_comprehension(self, node: Node) -> Val:
        """Comprehensions: loop variables take the iterable's data; filters refine them."""
        saved = self.env
        self.env = dict(saved)
        body = node.child_by_field_name("body")
        try:
            for clause in node.named_children:
                if clause.type == "for_in_clause":
                    left = clause.child_by_field_name("left")
                    iterable = self.ev(clause.child_by_field_name("right"))
                    if left is not None:
                        self.assign(left, Val(iterable.facts, iterable.const))
                elif clause.type == "if_clause" and clause.named_child_count:
                    condition = clause.named_children[0]
                    self.ev(condition)
                    self.env = self.guards.refined(self.env, condition, True)
            val = self.ev(body)
        finally:
            self.env = saved
        kind = "builtins.dict" if node.type == "dictionary_comprehension" else \
            "builtins.list" if node.type == "list_comprehension" else None
        return Val(val.facts, val.const, kind)

    def source_val(self, source: Source, node: Node) -> Val:
        """A fresh source fact at `node`."""
        label = source.label or source.patterns[0]
        origin = Origin(-1, source.id, label, source.classes)
        return Val((Fact(origin, frozenset(), (self.step(node, f"source: {label}"),)),))

    # ------------------------------------------------------------------ calls

    def ev_args(self, args: Node | None) -> tuple[list[tuple[Node, Val]], dict[str, tuple[Node, Val]]]:
        """Positional and keyword argument nodes with their values."""
        positional: list[tuple[Node, Val]] = []
        keywords: dict[str, tuple[Node, Val]] = {}
        if args is None:
            return positional, keywords
        if args.type == "generator_expression":
            return [(args, self.ev(args))], keywords
        for child in args.named_children:
            kind = child.type
            if kind == "keyword_argument":
                name = child.child_by_field_name("name")
                value = child.child_by_field_name("value")
                if name is not None and value is not None:
                    keywords[self.text(name)] = (value, self.ev(value))
            elif kind == "dictionary_splat":
                inner = child.named_children[0] if child.named_child_count else child
                keywords["**"] = (child, self.ev(inner))
            elif kind == "list_splat":
                inner = child.named_children[0] if child.named_child_count else child
                positional.append((child, self.ev(inner)))
            elif kind != "comment":
                positional.append((child, self.ev(child)))
        return positional, keywords

    def ev_call(self, node: Node) -> Val:
        """A call: source, sink, sanitizer, project function (via its summary), or library propagation."""
        fn = node.child_by_field_name("function")
        if fn is None:
            return CLEAN
        positional, keywords = self.ev_args(node.child_by_field_name("arguments"))
        kind = fn.type
        receiver: Val | None = None
        receiver_node: Node | None = None
        dotted: str | None = None
        method = ""
        if kind == "identifier":
            dotted = self.text(fn)
        elif kind == "attribute":
            receiver_node = fn.child_by_field_name("object")
            attr = fn.child_by_field_name("attribute")
            method = self.text(attr) if attr is not None else ""
            dotted = self.dotted_of(fn)
            receiver = self.ev(receiver_node)
        else:
            callee = self.ev(fn)
            return join([callee, *(v for _, v in positional), *(v for _, v in keywords.values())])
        if dotted is not None:
            qualified = self.qualify(dotted)
        else:
            qualified = f"{receiver.kind if receiver is not None and receiver.kind else '<expr>'}.{method}"
        specs = self.specs
        label = dotted or _short(self.data[fn.start_byte:fn.end_byte])
        exact_sinks = specs.exact_sinks(qualified)
        resolved: FunctionInfo | ClassInfo | None = None
        bound = False
        if not exact_sinks and not qualified.startswith("<request>"):
            resolved, bound = self.calls.resolve_call(dotted, method, receiver)
        if resolved is None:
            if exact_sinks:
                for sink in exact_sinks:
                    self.check_sink(sink, node, label, positional, keywords, receiver, receiver_node)
            else:
                for sink in specs.sinks(qualified):
                    if not sink.context or self.typed_receiver(qualified) or \
                            re.search(sink.context, self.text(node)):
                        self.check_sink(sink, node, label, positional, keywords, receiver, receiver_node)
        source = specs.source(qualified, True)
        if source is not None:
            return self.source_val(source, node)
        sanitizer = specs.sanitizer(qualified)
        if sanitizer is not None:
            base = self.args_val(positional, keywords, None)
            return marked(base, class_marks(sanitizer.classes) | sanitizer.marks)
        if resolved is not None:
            if isinstance(resolved, ClassInfo):
                return self.calls.construct(resolved, node, label, positional, keywords)
            return self.calls.apply(resolved, bound, node, label, positional, keywords, receiver, receiver_node)
        propagator = specs.propagator(qualified)
        if exact_sinks and any(sink.passes_data for sink in exact_sinks):
            return self.args_val(positional, keywords, None)
        if exact_sinks and (propagator is None or propagator.kind != "type"):
            return CLEAN
        if propagator is not None:
            pkind = propagator.kind
            if pkind == "clean":
                return CLEAN
            if pkind == "type":
                if exact_sinks:
                    return Val((), False, propagator.returns)
                val = self.args_val(positional, keywords, receiver)
                return Val(val.facts, False, propagator.returns)
            if pkind == "mutate":
                self.mutate(receiver_node, receiver, positional, keywords)
                return CLEAN
            val = self.args_val(positional, keywords, receiver)
            if pkind == "normalize":
                val = Val(tuple(Fact(f.origin, f.marks | {NORMALIZED}, f.steps) for f in val.facts), val.const,
                          receiver.kind if receiver is not None and receiver.kind == "pathlib.Path" else None)
            return val
        if exact_sinks:
            return CLEAN
        if kind == "attribute" and dotted is not None and self.is_module_name(dotted):
            return self.args_val(positional, keywords, None)
        if receiver is not None:
            return Val(receiver.facts) if receiver.facts else CLEAN
        return self.args_val(positional, keywords, None)

    @staticmethod
    def typed_receiver(qualified: str) -> bool:
        """True when the receiver's type is a known database/client type (not a guess from a method name)."""
        return qualified.startswith(("sqlite3.", "dbapi.", "sqlalchemy.", "django.db", "psycopg", "pymysql"))

    def args_val(self, positional: list[tuple[Node, Val]], keywords: dict[str, tuple[Node, Val]],
                 receiver: Val | None) -> Val:
        """The join of every argument (and the receiver)."""
        vals = [v for _, v in positional]
        vals.extend(v for _, v in keywords.values())
        if receiver is not None:
            vals.append(receiver)
        return join(vals) if vals else CLEAN

    def mutate(self, receiver_node: Node | None, receiver: Val | None, positional: list[tuple[Node, Val]],
               keywords: dict[str, tuple[Node, Val]]) -> None:
        """list.append(x) and friends: the container absorbs x."""
        if receiver_node is None:
            return
        dotted = self.dotted_of(receiver_node)
        added = self.args_val(positional, keywords, None)
        if dotted is None or not added.facts:
            return
        old = receiver or CLEAN
        merged = join2(old, added)
        self.env[dotted] = Val(merged.facts, False, old.kind, old.head)

    def arg(self, positional: list[tuple[Node, Val]], keywords: dict[str, tuple[Node, Val]], name: str,
            position: int | None) -> tuple[Node, Val] | None:
        """An argument by keyword name or position."""
        found = keywords.get(name)
        if found is None and position is not None and position < len(positional):
            found = positional[position]
        return found

    def test(self, test: ArgTest, positional: list[tuple[Node, Val]],
             keywords: dict[str, tuple[Node, Val]]) -> bool:
        """Whether a call satisfies an argument condition of a sink."""
        found = self.arg(positional, keywords, test.name, test.position)
        if test.truthy is True:
            return found is not None and self.text(found[0]) not in FALSY
        if test.truthy is False:
            return found is None or self.text(found[0]) in FALSY
        if found is None:
            return False
        text = self.text(found[0])
        if test.endswith:
            return text.endswith(test.endswith)
        if test.contains:
            return any(part in text for part in test.contains)
        if test.matches:
            return re.match(test.matches, text) is not None
        return True

    def check_sink(self, sink: Sink, node: Node, label: str, positional: list[tuple[Node, Val]],
                   keywords: dict[str, tuple[Node, Val]], receiver: Val | None, receiver_node: Node | None) -> None:
        """Report the dangerous arguments of a sink call."""
        if sink.when and not all(self.test(t, positional, keywords) for t in sink.when):
            return
        if sink.unless and any(self.test(t, positional, keywords) for t in sink.unless):
            return
        vals: list[Val] = []
        for selector in sink.args:
            if selector == "self":
                if receiver is not None and receiver_node is not None:
                    vals.append(receiver)
            elif selector == "*":
                vals.extend(v for _, v in positional)
                vals.extend(v for _, v in keywords.values())
            elif isinstance(selector, int):
                if selector < len(positional):
                    vals.append(positional[selector][1])
            elif selector in keywords:
                vals.append(keywords[selector][1])
        if not vals:
            return
        whole_list = False
        if sink.program_only:
            whole_list = all(v.head is None for v in vals)
            vals = [v.head if v.head is not None else v for v in vals]
        val = vals[0] if len(vals) == 1 else join(vals)
        self.report(sink, node, val, label, whole_list)

    def report(self, sink: Sink, site: Node, val: Val, label: str, whole_list: bool = False) -> None:
        """A sink reached by `val`: a finding for sources, a summary flow for parameters."""
        vuln_class = sink.vuln_class
        flow: Fact | None = None
        relevant = False
        sink_step: TaintStep | None = None
        for fact in val.facts:
            if fact.cleared(vuln_class):
                continue
            relevant = True
            origin = fact.origin
            if origin.param < 0:
                if flow is None and vuln_class in origin.classes:
                    flow = fact
            else:
                key = (origin.param, sink.id)
                if key not in self.sink_flows:
                    sink_step = sink_step or self.step(site, f"sink: {label} ({vuln_class.value})")
                    self.sink_flows[key] = SinkFlow(origin.param, sink, fact.marks, (*fact.steps, sink_step),
                                                    whole_list)
        if flow is not None:
            sink_step = sink_step or self.step(site, f"sink: {label} ({vuln_class.value})")
            self.add_finding(sink, site, (*flow.steps, sink_step), flow.origin.label, label)
        elif sink.structural and not val.const and (relevant or not val.facts):
            self.add_finding(sink, site, (), "", label)

    def add_finding(self, sink: Sink, site: Node, steps: tuple[TaintStep, ...], source_label: str,
                    label: str, via: str = "") -> None:
        """One finding per rule and site."""
        key = (sink.id, site.start_byte, site.end_byte)
        if key in self._finding_keys:
            return
        self._finding_keys.add(key)
        title = sink.title or sink.vuln_class.title
        if steps:
            source_line = steps[0].span.start_line + 1
            where = f" (in {steps[0].path})" if steps[0].path != self.path else ""
            through = f" through {via}" if via else ""
            message = (f"{sink.vuln_class.title}: untrusted {source_label} from line {source_line}{where} "
                       f"reaches {label}{through}; {title}")
            confidence = sink.confidence
        else:
            message = f"{label}: {sink.reason}"
            confidence = sink.structural_confidence
        self.findings.append(Finding(
            vuln_class=sink.vuln_class, rule=sink.id, message=message, path=self.path, span=_span(site),
            severity=sink.severity, confidence=confidence, cwe=sink.cwe or sink.vuln_class.cwe,
            taint_path=TaintPath(steps) if steps else None, snippet=self.text(site)))
