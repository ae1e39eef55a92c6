"""Calls into project functions: resolving the callee (imports, methods on self and on instances,
constructors) and applying its summary at the call site, which turns the callee's parameter-to-sink
flows into findings (or flows of the caller) and its return value into the call's value."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.analysis.specs.sources import REQUEST_GLOBALS
from ai_core.analysis.specs.spec_types import ALL, REVIEW_CLASSES
from ai_core.analysis.symbols import ClassInfo, FunctionInfo
from ai_core.analysis.taint.frameworks import is_request_param
from ai_core.analysis.taint.review import built_string
from ai_core.analysis.taint.state import EvalState
from ai_core.analysis.taint.summary import SinkFlow
from ai_core.analysis.taint.values import CLEAN, SANITIZED, Fact, Val, join2
from ai_core.analysis.taint.values import unproven as unproven_val


class ProjectCalls:
    """Resolution and summary application for one function evaluation."""

    def __init__(self, ev: EvalState) -> None:
        self.ev = ev

    def resolve_call(self, dotted: str | None, method: str, receiver: Val | None
                     ) -> tuple[FunctionInfo | ClassInfo | None, bool]:
        """The project function or class a call names, and whether it is bound to an instance."""
        if dotted is None:
            if receiver is not None and receiver.kind and receiver.kind.startswith("proj:"):
                cls = self.ev.a.class_by_kind(receiver.kind)
                if cls is not None:
                    return self.ev.project.method_of(cls, method), True
            return None, False
        head, sep, rest = dotted.partition(".")
        if not rest and head in self.ev.local_defs:
            return self.ev.local_defs[head], False
        val = self.ev.env.get(head)
        if val is None and head not in self.ev.module.imports:
            val = self.ev.globals.get(head)
        if val is not None:
            if val.kind and val.kind.startswith("proj:") and rest and "." not in rest:
                cls = self.ev.a.class_by_kind(val.kind)
                if cls is not None:
                    return self.ev.project.method_of(cls, rest), True
            if not (head in self.ev.module.functions or head in self.ev.module.classes) or head in self.ev.env:
                return None, False
        module = self.ev.module
        if head in self.ev.local_imports:  # `from .helpers import render` inside the function
            found = self.ev.project.resolve(module, self.ev.local_imports[head] + sep + rest)
            return (found, False) if isinstance(found, FunctionInfo | ClassInfo) else (None, False)
        if head in module.imports:
            target = module.imports[head] + sep + rest
            found = self.ev.project.resolve(module, target)
            if isinstance(found, FunctionInfo):
                bound = False
                if found.is_method and "." in target:
                    owner = self.ev.project.resolve(module, target.rsplit(".", 1)[0])
                    bound = not isinstance(owner, ClassInfo)
                return found, bound
            if isinstance(found, ClassInfo):
                return found, False
            if found is None:
                self.ev.deps.add(f"{target}::*")
            return None, False
        if head in module.functions or head in module.classes:
            found = self.ev.project.resolve_in_module(module, dotted.split("."))
            if isinstance(found, FunctionInfo | ClassInfo):
                return found, False
        return None, False

    def reviewable(self, flow: SinkFlow, passed: Node, val: Val) -> bool:
        """A string built from data not proven safe, passed to a function that sinks that parameter: review tier
        at this call (the callee's own sink only sees a parameter)."""
        if flow.sink.vuln_class not in REVIEW_CLASSES or val.const or flow.sink.structural:
            return False
        vuln_class = flow.sink.vuln_class
        if any(f.origin.param < 0 and vuln_class in f.origin.classes and not f.cleared(vuln_class)
               for f in val.facts):
            return False  # a proven flow: reported as such below
        unproven = unproven_val(val, vuln_class) or any(not f.cleared(vuln_class) and f.origin.param >= 0
                                                        for f in val.facts)
        if unproven and val.facts and self.ev.route.framework:
            unproven = False  # the handler's own parameters are typed or injected by the framework
        return unproven and built_string(passed, self.ev.defs, self.ev.data)

    def request_params(self, info: FunctionInfo, args: dict[int, tuple[Node | None, Val]]) -> frozenset[str]:
        """Parameters of `info` that receive a request object here but are not named or typed as one
        (`get_arg(request, "q")` into `def get_arg(r, name)`)."""
        names: set[str] = set()
        for index, (node, val) in args.items():
            if index >= len(info.params):
                continue
            param = info.params[index]
            if param.star or is_request_param(param.name, param.annotation):
                continue
            dotted = self.ev.dotted_of(node) if node is not None and val.kind is None else None
            if val.kind == "<request>" or (dotted is not None and self.ev.qualify(dotted) in REQUEST_GLOBALS):
                names.add(param.name)
        return frozenset(names)

    def construct(self, cls: ClassInfo, node: Node, label: str, positional: list[tuple[Node, Val]],
                  keywords: dict[str, tuple[Node, Val]]) -> Val:
        """`Cls(...)`: its __init__ sees the arguments; the result is an instance of Cls."""
        init = self.ev.project.method_of(cls, "__init__")
        if init is not None:
            self.apply(init, True, node, label, positional, keywords, CLEAN, None)
        return Val((), False, f"proj:{cls.key}")

    def apply(self, info: FunctionInfo, bound: bool, node: Node, label: str, positional: list[tuple[Node, Val]],
              keywords: dict[str, tuple[Node, Val]], receiver: Val | None, receiver_node: Node | None) -> Val:
        """Apply a callee's summary: its parameter-to-sink flows become findings or flows of ours."""
        params = info.params
        args: dict[int, tuple[Node | None, Val]] = {}
        offset = 0
        if bound and info.is_method:
            args[0] = (receiver_node, receiver or CLEAN)
            offset = 1
        star = next((p.index for p in params if p.star == "*"), None)
        for position, (arg_node, val) in enumerate(positional):
            index = position + offset
            if index < len(params) and not params[index].star:
                args[index] = (arg_node, val)
            elif star is not None:
                previous = args.get(star)
                args[star] = (arg_node, join2(previous[1], val) if previous else val)
        kwstar = next((p.index for p in params if p.star == "**"), None)
        for name, (arg_node, val) in keywords.items():
            param = info.param(name)
            if param is not None and not param.star:
                args[param.index] = (arg_node, val)
            elif kwstar is not None:
                previous = args.get(kwstar)
                args[kwstar] = (arg_node, join2(previous[1], val) if previous else val)
            if name == "**":  # f(**mapping) may fill any parameter not passed otherwise
                for param in params[offset:]:
                    if not param.star and param.index not in args:
                        args[param.index] = (arg_node, val)
        requests = self.request_params(info, args)
        result = self.ev.a.request_result(info, self.ev.depth + 1, requests) if requests else \
            self.ev.a.function_result(info, self.ev.depth + 1)
        self.ev.deps.add(info.key)
        if result is None:  # too deep: library-like propagation
            return self.ev.args_val(positional, keywords, receiver if bound else None)
        if requests and info.module is self.ev.module:
            self.ev.adopt_findings(result.findings)  # the helper's own sinks fed by the request it was given
        summary = result.summary
        callee = f"{info.name}()"
        for flow in summary.sinks:
            found = args.get(flow.param)
            if found is None:
                continue
            passed, val = found
            if passed is not None and self.reviewable(flow, passed, val):
                sink_label = flow.steps[-1].label.removeprefix("sink: ").split(" (")[0]
                self.ev.add_review(flow.sink, node, None, f"{sink_label} through {callee}")
            if not val.facts:
                continue
            if flow.whole_list and val.head is not None:
                val = val.head  # the callee runs this list: only its program matters
            param_name = params[flow.param].name if flow.param < len(params) else "?"
            step = self.ev.step(passed if passed is not None else node, f"passed to {callee} as {param_name}")
            vuln_class = flow.sink.vuln_class
            for fact in val.facts:
                marks = fact.marks | flow.marks
                if marks and (ALL in marks or vuln_class.value in marks):
                    continue
                origin = fact.origin
                steps = (*fact.steps, step, *flow.steps)
                if origin.param < 0:
                    if vuln_class in origin.classes:
                        sink_label = flow.steps[-1].label.removeprefix("sink: ").split(" (")[0]
                        self.ev.add_finding(flow.sink, node, steps, origin.label, sink_label, via=callee)
                else:
                    key = (origin.param, flow.sink.id)
                    if key not in self.ev.sink_flows:
                        self.ev.sink_flows[key] = SinkFlow(origin.param, flow.sink, marks, steps, flow.whole_list)
        facts: list[Fact] = []
        for ret in summary.returns:
            origin = ret.origin
            if origin.param < 0:
                facts.append(Fact(origin, ret.marks, (*ret.steps, self.ev.step(node, f"returned by {callee}"))))
                continue
            found = args.get(origin.param)
            if found is None:
                continue
            passed, val = found
            if not val.facts and not val.const and ret.marks:
                facts.append(Fact(SANITIZED, ret.marks, ()))  # the helper sanitizes what it is given
            for fact in val.facts:
                step = self.ev.step(passed if passed is not None else node, f"through {callee}")
                facts.append(Fact(fact.origin, fact.marks | ret.marks, (*fact.steps, step, *ret.steps[1:])))
        head = CLEAN if summary.returns_clean_head else None
        if not facts:
            return Val((), summary.returns_const, summary.return_kind, head)
        return Val(tuple(facts[:6]), False, summary.return_kind, head)
