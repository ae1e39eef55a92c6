"""Expressions: the abstract value of names, strings, operators, attributes and comprehensions."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.analysis.specs.sources import FORM_ATTRIBUTES
from ai_core.analysis.specs.spec_types import Source
from ai_core.analysis.taint.calls import ProjectCalls
from ai_core.analysis.taint.guards import LITERALS, SSRF_MARK, Guards
from ai_core.analysis.taint.state import FIXED_HOST, XSS_MARK, EvalState
from ai_core.analysis.taint.values import CLEAN, CONST, Fact, Origin, Val, class_marks, join, join2, marked

LAMBDA_KIND = "<lambda>"
FORM_ATTRS = frozenset(name for name, _ in FORM_ATTRIBUTES)
FORM_BASES = ("flask_wtf.", "wtforms.", "django.forms.", "django.contrib.auth.forms.")


class ExpressionEval(EvalState):
    """Evaluates expressions to values (calls go to CallSiteEval)."""

    guards: Guards
    calls: ProjectCalls

    def ev(self, node: Node | None) -> Val:
        """The abstract value of an expression (evaluating calls inside it for their sinks)."""
        if node is None:
            return CLEAN
        kind = node.type
        if kind == "identifier":
            return self.lookup(self.data[node.start_byte:node.end_byte].decode("utf-8", errors="replace"))
        if kind == "call":
            fn = node.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                callee = self.env.get(self.text(fn))
                if callee is not None and callee.kind == LAMBDA_KIND:
                    return join2(self.ev_call(node), Val(callee.facts))
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
            return self.ev_lambda(node)
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
        return bool(FIXED_HOST.match("".join(prefix)))

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

    def ev_lambda(self, node: Node) -> Val:
        """A lambda: its body runs here (sinks in it see this scope's data); its value carries the body's data."""
        saved = self.env
        self.env = dict(saved)
        params = node.child_by_field_name("parameters")
        try:
            for param in params.named_children if params is not None else []:
                name = param.child_by_field_name("name") if param.type != "identifier" else param
                if name is not None and name.type == "identifier":
                    self.env[self.text(name)] = CONST
            val = self.ev(node.child_by_field_name("body"))
        finally:
            self.env = saved
        return Val(val.facts, False, LAMBDA_KIND)

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
            head, _, rest = dotted.partition(".")
            if head == "self" and rest and "." not in rest and self.class_info is not None:
                field = self.class_field(rest)
                if field is not None:
                    return field
            form_source = self.form_source(head, dotted)
            if form_source is not None:
                return self.source_val(form_source, node)
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

    def class_field(self, name: str) -> Val | None:
        """What the class's other methods that read sources leave in `self.<name>`."""
        cls = self.class_info
        if cls is None or name not in self.a.sourced_fields(cls):
            return None
        val = self.a.class_fields(cls, self.depth + 1).get(name)
        if val is not None:
            self.deps.update(m.key for m in self.a.family_methods(cls) if m is not self.info)
        return val

    def form_source(self, head: str, dotted: str) -> Source | None:
        """`form.title.data` / `form.cleaned_data` of an instance of a project form class (WTForms, Django)."""
        attr = dotted.rsplit(".", 1)[-1]
        if attr not in FORM_ATTRS:
            return None
        val = self.env.get(head)
        if val is None or not val.kind or not val.kind.startswith("proj:"):
            return None
        cls = self.a.class_by_kind(val.kind)
        if cls is None or not any(base.startswith(FORM_BASES) for base in self.a.class_bases(cls)):
            return None
        return self.specs.source(f"<form>.{attr}", False)

    def source_val(self, source: Source, node: Node) -> Val:
        """A fresh source fact at `node`."""
        label = source.label or source.patterns[0]
        origin = Origin(-1, source.id, label, source.classes)
        return Val((Fact(origin, frozenset(), (self.step(node, f"source: {label}"),)),))

