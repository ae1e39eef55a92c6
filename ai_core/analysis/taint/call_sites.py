"""Call sites: sources, sinks, sanitizers and propagators from the specs, project calls by summary; findings."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.analysis.specs.sources import LOCAL_USER_CLASSES
from ai_core.analysis.specs.spec_types import NORMALIZED, ArgTest, Sink
from ai_core.analysis.symbols import ClassInfo, FunctionInfo
from ai_core.analysis.taint.calls import ProjectCalls
from ai_core.analysis.taint.guards import Guards
from ai_core.analysis.taint.review import (
    ANY_VALUE_SINKS,
    CONFIDENCE_FACTOR,
    REVIEW_CLASSES,
    built_string,
    identifiers,
    is_server_module,
    literal_prefix,
    review_rule,
    review_severity,
    setting_read,
)
from ai_core.analysis.taint.state import FALSY, FIXED_HOST, EvalState, short_text
from ai_core.analysis.taint.summary import SinkFlow
from ai_core.analysis.taint.values import CLEAN, CONST, Fact, Origin, Val, class_marks, join, join2, marked
from ai_core.analysis.taint.values import unproven as unproven_val
from ai_core.findings import Finding, Span, TaintPath, TaintStep, VulnClass


class CallSiteEval(EvalState):
    """Evaluates calls, checks the sinks they reach and records findings and summary flows."""

    guards: Guards
    calls: ProjectCalls

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
        label = dotted or short_text(self.data[fn.start_byte:fn.end_byte])
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
                return CONST  # numbers, booleans, hashes, rows: proven not the attacker's text (no review either)
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
        if sink.undone_by and self.undone(node, sink.undone_by):
            return
        vals: list[Val] = []
        nodes: list[Node] = []
        for selector in sink.args:
            if selector == "self":
                if receiver is not None and receiver_node is not None:
                    vals.append(receiver)
            elif selector == "*":
                vals.extend(v for _, v in positional)
                vals.extend(v for _, v in keywords.values())
            elif isinstance(selector, int):
                if selector < len(positional):
                    nodes.append(positional[selector][0])
                    vals.append(positional[selector][1])
            elif selector in keywords:
                nodes.append(keywords[selector][0])
                vals.append(keywords[selector][1])
        if not vals:
            return
        whole_list = False
        if sink.program_only:
            whole_list = all(v.head is None for v in vals)
            vals = [v.head if v.head is not None else v for v in vals]
        val = vals[0] if len(vals) == 1 else join(vals)
        built = sink.vuln_class in REVIEW_CLASSES and not val.const and (
            any(p in ANY_VALUE_SINKS for p in sink.patterns)
            or (self.callers_text(val, sink.vuln_class, nodes) if sink.review_params
                else any(built_string(n, self.defs, self.data) for n in nodes))
            or (sink.program_only and any(setting_read(n, self.defs, self.data) for n in nodes))) and not (
            sink.vuln_class is VulnClass.SSRF and any(FIXED_HOST.match(literal_prefix(n, self.data)) for n in nodes))
        self.report(sink, node, val, label, whole_list, built)

    def callers_text(self, val: Val, vuln_class: VulnClass, nodes: list[Node]) -> bool:
        """True when the argument is a caller's text: it names a parameter (other than self/cls), directly or in
        the expression last assigned to a local it names, and carries that parameter's data not cleared for the
        class. What a review_params sink reviews; markup the code writes from its own state or tables is not."""
        params = self.info.params if self.info is not None else []
        own = {p.name for p in params} - {"self", "cls"}
        if not own or not any(f.origin.param >= 0 and not f.cleared(vuln_class) for f in val.facts):
            return False
        named: set[str] = set()
        for node in nodes:
            for name in identifiers(node, self.data):
                named.add(name)
                assigned = self.defs.get(name)
                if assigned is not None:
                    named.update(identifiers(assigned, self.data))
        return bool(named & own)

    def undone(self, call: Node, methods: tuple[str, ...]) -> bool:
        """True when the call's result is at once given to one of `methods` (`Markup(x).unescape()`)."""
        parent = call.parent
        if parent is None or parent.type != "attribute" or parent.child_by_field_name("object") != call:
            return False
        attr = parent.child_by_field_name("attribute")
        return attr is not None and self.text(attr) in methods

    def report(self, sink: Sink, site: Node, val: Val, label: str, whole_list: bool = False,
               built: bool = False) -> None:
        """A sink reached by `val`: a finding for sources, a summary flow for parameters, a review finding for
        operator input or a value `built` from data not proven safe (see taint/review.py)."""
        vuln_class = sink.vuln_class
        flow: Fact | None = None
        operator: Fact | None = None
        relevant = False
        unproven = unproven_val(val, vuln_class)
        sink_step: TaintStep | None = None
        for fact in val.facts:
            if fact.cleared(vuln_class):
                continue
            relevant = True
            origin = fact.origin
            if origin.param < 0:
                if vuln_class in origin.classes:
                    if self.operator_input(origin):
                        operator = operator or fact
                    elif flow is None:
                        flow = fact
            else:
                # a handler's parameter that the framework does not fill from the request is typed or injected
                unproven = unproven or not self.route.framework
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
        elif vuln_class in REVIEW_CLASSES and not val.const and (operator is not None or (built and unproven)):
            self.add_review(sink, site, operator, label)

    def operator_input(self, origin: Origin) -> bool:
        """True for argv/input()/CLI parameters in a module that is not part of a server."""
        if origin.classes != LOCAL_USER_CLASSES:
            return False
        if self.server_module is None:
            self.server_module = is_server_module(self.module.imports)
        return not self.server_module

    def add_review(self, sink: Sink, site: Node, operator: Fact | None, label: str) -> None:
        """A review-tier finding: the sink's data is not proven safe (nor proven untrusted)."""
        rule = review_rule(sink)
        key = (rule, site.start_byte, site.end_byte)
        if key in self._finding_keys:
            return
        self._finding_keys.add(key)
        steps: tuple[TaintStep, ...] = ()
        if operator is not None:
            steps = (*operator.steps, self.step(site, f"sink: {label} ({sink.vuln_class.value})"))
            why = f"operator input ({operator.origin.label}) from line {steps[0].span.start_line + 1}"
        else:
            why = "a value built from data not proven safe"
        message = (f"{sink.vuln_class.title} (review): {why} reaches {label}; no untrusted source is proven, "
                   f"check where it comes from or pass it as a parameter / through a sanitizer")
        self.findings.append(Finding(
            vuln_class=sink.vuln_class, rule=rule, message=message, path=self.path, span=Span.of_node(site),
            severity=review_severity(sink.severity), confidence=round(sink.confidence * CONFIDENCE_FACTOR, 3),
            cwe=sink.cwe or sink.vuln_class.cwe, taint_path=TaintPath(steps) if steps else None,
            snippet=self.text(site), tier="review"))

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
            vuln_class=sink.vuln_class, rule=sink.id, message=message, path=self.path, span=Span.of_node(site),
            severity=sink.severity, confidence=confidence, cwe=sink.cwe or sink.vuln_class.cwe,
            taint_path=TaintPath(steps) if steps else None, snippet=self.text(site)))
