"""The intra-procedural taint evaluator: one pass over a function's statements, in order.

Branches are analyzed on copies of the environment and merged (a branch that returns, raises or
aborts does not reach the code after the `if`, which is how `if x not in ALLOWED: abort()` sanitises
`x`); loop bodies run twice so values carried around the loop are seen; calls are resolved to specs
(sources, sinks, sanitizers, propagators) or to project functions, whose summaries say what they do
with their arguments. Nested functions that handle requests or read this function's tainted variables
are evaluated after it, over its environment (closures); lambdas run where they are written.

FunctionEval is made of StatementEval (statements.py), ExpressionEval (expressions.py) and
CallSiteEval (call_sites.py), all over one EvalState (state.py), which Guards and ProjectCalls also use.
"""

from __future__ import annotations

import logging
import re

from tree_sitter import Node

from ai_core.analysis.specs.sources import LOCAL_USER_CLASSES
from ai_core.analysis.specs.spec_types import INJECTION_CLASSES
from ai_core.analysis.symbols import FunctionInfo, ModuleInfo
from ai_core.analysis.taint.call_sites import CallSiteEval
from ai_core.analysis.taint.calls import ProjectCalls
from ai_core.analysis.taint.expressions import ExpressionEval
from ai_core.analysis.taint.frameworks import is_request_param
from ai_core.analysis.taint.guards import Guards
from ai_core.analysis.taint.state import TaintHost, merge_envs
from ai_core.analysis.taint.statements import StatementEval
from ai_core.analysis.taint.summary import FunctionResult, Summary
from ai_core.analysis.taint.values import Fact, Origin, Val, join, sources_only
from ai_core.findings import Span, TaintStep

log = logging.getLogger(__name__)


class FunctionEval(StatementEval, ExpressionEval, CallSiteEval):
    """Evaluates one function (or a module's top-level code) into findings and a summary."""

    def __init__(self, analysis: TaintHost, module: ModuleInfo, info: FunctionInfo | None,
                 globals_env: dict[str, Val], depth: int) -> None:
        super().__init__(analysis, module, info, globals_env, depth)
        self.guards = Guards(self)
        self.calls = ProjectCalls(self)

    # ------------------------------------------------------------------ entry

    def run(self) -> FunctionResult:
        """Analyze the whole function (or module) once."""
        info = self.info
        if info is None:
            for stmt in self.module.statements:
                try:
                    self.stmt(stmt)
                except RecursionError:
                    log.warning("%s:%d: expression too deeply nested for the taint engine; statement skipped",
                                self.path, stmt.start_point[0] + 1)
            self.run_closures()
            return FunctionResult(Summary(), self.findings, frozenset(self.deps), env=dict(self.env))
        self.route = self.a.route(info)
        if self.requests:
            self.route.request_params = self.route.request_params | self.requests
        if self.route.registrar:
            self.deps.add(f"{self.route.registrar}::<module>")
        for param in info.params:
            self.env[param.name] = self.param_val(info, param.index, param.name, param.annotation, param.node)
        body = info.body
        if body is not None:
            self.block(body)
        self.run_closures()
        summary = Summary(tuple(self.sink_flows.values()))
        if self.returns:
            ret = join(self.returns)
            kinds = {v.kind for v in self.returns}
            summary.returns = ret.facts
            summary.returns_const = ret.const
            summary.return_kind = kinds.pop() if len(kinds) == 1 else None
            summary.returns_clean_head = all(v.head is not None and not v.head.facts for v in self.returns)
        attributes: dict[str, object] | None = None
        if info.is_method:  # self.x set from a source: what the class's other methods read
            attributes = {key[5:]: val for key, val in self.env.items() if key.startswith("self.")
                          and "." not in key[5:] and any(fact.origin.is_source for fact in val.facts)}
        return FunctionResult(summary, self.findings, frozenset(self.deps), attributes=attributes or None)

    def run_closures(self) -> None:
        """Nested functions that handle requests or read tainted variables of this one: their own findings."""
        defined: dict[int, tuple[FunctionInfo, list[dict[str, Val]]]] = {}
        for info, at_def in self.closures:  # a def inside a loop is seen once per pass
            defined.setdefault(info.node.start_byte, (info, []))[1].append(at_def)
        for info, envs in defined.values():
            closure = {name: sources_only(val) for name, val in merge_envs([*envs, self.env]).items()}
            tainted = [name for name, val in closure.items() if val.facts and "." not in name]
            data = self.data[info.node.start_byte:info.node.end_byte]
            if not self.a.is_root(info) and not (tainted and re.search(
                    rb"\b(?:" + "|".join(map(re.escape, tainted)).encode() + rb")\b", data)):
                continue
            nested = FunctionEval(self.a, self.module, info, {**self.globals, **closure}, self.depth)
            nested.local_defs = dict(self.local_defs)
            result = nested.run()
            self.adopt_findings(result.findings)
            self.deps.update(result.deps)

    def param_val(self, info: FunctionInfo, index: int, name: str, annotation: str, node: Node | None) -> Val:
        """A parameter's value: its own origin, plus a source when a framework fills it from the request."""
        site = node if node is not None else info.node
        facts = [Fact(Origin(index, label=name), frozenset(),
                      (TaintStep(self.path, Span.of_node(site), f"parameter {name} of {info.name}()"),))]
        label = self.route.source_params.get(name)
        if label is not None:
            classes = LOCAL_USER_CLASSES if self.route.framework == "cli" else INJECTION_CLASSES
            facts.insert(0, Fact(Origin(-1, f"framework.{self.route.framework}", label, classes),
                                 frozenset(), (TaintStep(self.path, Span.of_node(site), f"source: {label}"),)))
        kind = None
        if index == 0 and info.is_method and self.class_info is not None and name in {"self", "cls"}:
            kind = f"proj:{self.class_info.key}"
        elif name in self.route.request_params or is_request_param(name, annotation):
            kind = "<request>"
        elif annotation:
            kind = self.annotation_kind(annotation)
        return Val(tuple(facts), False, kind)

