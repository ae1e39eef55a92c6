"""Conditions that prove values safe: allowlists, equality with constants, character-class and regex checks,
realpath prefix checks, HMAC verification, and blocks that always leave (return/raise/abort)."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.analysis.specs.spec_types import ALL
from ai_core.analysis.taint.state import EvalState
from ai_core.analysis.taint.values import Val, class_marks, marked
from ai_core.findings import VulnClass

_ANCHORED = re.compile(r"^[rbuRBU]*['\"]{1,3}\^.*(\$|\\Z)['\"]{1,3}$", re.S)
LITERALS = frozenset({"integer", "float", "true", "false", "none", "ellipsis"})
TERMINAL_STATEMENTS = frozenset({"return_statement", "raise_statement", "continue_statement", "break_statement"})
ABORT_CALLS = frozenset({"abort", "exit", "_exit", "fail", "deny", "forbid", "reject", "bad_request",
                         "permission_denied", "not_found", "abort_request", "unauthorized", "forbidden"})
CHECKED_KEYWORDS = frozenset({"url", "value", "path", "target"})
"""Keyword arguments of a guard call that name the checked value (`url_has_allowed_host_and_scheme(url=nxt)`)."""
SSRF_MARK = frozenset({VulnClass.SSRF.value, VulnClass.OPEN_REDIRECT.value})
"""What a fixed or checked host proves: the request (SSRF) or the redirect (open redirect) stays on it."""


def _common(first: list[tuple[str, frozenset[str]]], second: list[tuple[str, frozenset[str]]]) \
        -> list[tuple[str, frozenset[str]]]:
    """What holds whichever of two conditions is true (`not (a and b)`: a is false or b is): the variables both
    clear, with the marks both give."""
    found: list[tuple[str, frozenset[str]]] = []
    for key, marks in first:
        for other_key, other in second:
            if key == other_key:
                common = other if ALL in marks else marks if ALL in other else marks & other
                if common:
                    found.append((key, common))
    return found


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


class Guards:
    """The guard logic of one function evaluation (reads its environment, never changes it)."""

    def __init__(self, ev: EvalState) -> None:
        self.ev = ev

    def refined(self, env: dict[str, Val], cond: Node, truth: bool) -> dict[str, Val]:
        """A copy of `env` where the condition being `truth` proves some values safe."""
        new = dict(env)
        saved = self.ev.env
        self.ev.env = env
        try:
            refinements = self.refinements(cond, truth)
        finally:
            self.ev.env = saved
        for key, marks in refinements:
            val = new.get(key) or self.ev.globals.get(key)
            if val is not None and val.facts:
                new[key] = marked(val, marks)
        return new

    def refinements(self, cond: Node, truth: bool) -> list[tuple[str, frozenset[str]]]:
        """(variable, marks) pairs that hold when `cond` evaluates to `truth`."""
        kind = cond.type
        if kind == "parenthesized_expression" and cond.named_child_count:
            return self.refinements(cond.named_children[0], truth)
        if kind == "not_operator":
            argument = cond.child_by_field_name("argument")
            return self.refinements(argument, not truth) if argument is not None else []
        if kind == "boolean_operator":
            operator = cond.child_by_field_name("operator")
            op = operator.type if operator is not None else ""
            left = cond.child_by_field_name("left")
            right = cond.child_by_field_name("right")
            if left is None or right is None:
                return []
            if (op == "and") == truth:
                return self.refinements(left, truth) + self.refinements(right, truth)
            return _common(self.refinements(left, truth), self.refinements(right, truth))
        if kind == "comparison_operator":
            return self.comparison_refinements(cond, truth)
        if kind == "call":
            return self.guard_refinements(cond, truth)
        if kind == "identifier":  # `ok = is_safe(url)` ... `if ok:`
            definition = self.ev.defs.get(self.ev.text(cond))
            if definition is not None and definition.type == "call" and self.is_guard_call(definition):
                return self.guard_refinements(definition, truth)
        if kind in {"identifier", "attribute"} and not truth:  # a falsy value is empty: `if parts.netloc: abort()`
            return self.clear(cond, frozenset({ALL}))
        return []

    def is_guard_call(self, call: Node) -> bool:
        """A call of a known check (a guard sanitizer or a regex match)."""
        fn = call.child_by_field_name("function")
        dotted = self.ev.dotted_of(fn) if fn is not None else None
        if dotted is None:
            return False
        qualified = self.ev.qualify(dotted)
        return qualified in {"re.match", "re.search", "re.fullmatch"} or self.ev.specs.guard(qualified) is not None

    def comparison_refinements(self, cond: Node, truth: bool) -> list[tuple[str, frozenset[str]]]:
        """`x in CONSTANTS`, `x == "literal"`, `commonpath([...]) == base`."""
        operators = [op.type for op in cond.children_by_field_name("operators")]
        operands = cond.named_children
        if len(operators) != 1 or len(operands) != 2:
            return []
        op = operators[0]
        left, right = operands
        if op in {"in", "not in"}:
            if ((op == "in") == truth) and self.is_constant_collection(right):
                return self.clear(left, frozenset({ALL}))
            return []
        if op in {"==", "!=", "is", "is not"}:
            positive = (op in {"==", "is"}) == truth
            if positive and self.is_literal_value(right):
                return self.clear(left, frozenset({ALL}))
            if positive and self.is_literal_value(left):
                return self.clear(right, frozenset({ALL}))
            if op == "==" and left.type == "call":
                return self.guard_refinements(left, truth)
        return []

    def guard_refinements(self, call: Node, truth: bool) -> list[tuple[str, frozenset[str]]]:
        """Checks made by calling a guard: name.isdigit(), re.fullmatch(p, x), full.startswith(BASE)."""
        if not truth:
            return []
        fn = call.child_by_field_name("function")
        args = call.child_by_field_name("arguments")
        if fn is None:
            return []
        dotted = self.ev.dotted_of(fn)
        if dotted is None:
            return []
        qualified = self.ev.qualify(dotted)
        positional = [c for c in args.named_children if c.type not in {"keyword_argument", "comment"}] \
            if args is not None else []
        checked = [c.child_by_field_name("value") for c in (args.named_children if args is not None else ())
                   if c.type == "keyword_argument" and _text(c.child_by_field_name("name")) in CHECKED_KEYWORDS]
        if qualified in {"re.match", "re.search", "re.fullmatch"} and len(positional) >= 2:
            if qualified == "re.fullmatch" or _ANCHORED.match(self.ev.text(positional[0])):
                return self.clear(positional[1], frozenset({ALL}))
            return []
        guard = self.ev.specs.guard(qualified)
        if guard is None:
            return []
        marks = class_marks(guard.classes)
        targets: list[Node] = []
        if fn.type == "attribute" and not self.ev.is_module_name(dotted):
            obj = fn.child_by_field_name("object")
            if obj is not None:
                targets.append(obj)
        else:
            stack = [*positional, *(node for node in checked if node is not None)]
            while stack:
                node = stack.pop()
                if node.type in {"identifier", "attribute"} and self.ev.dotted_of(node) is not None:
                    targets.append(node)
                else:
                    stack.extend(node.named_children)
        result: list[tuple[str, frozenset[str]]] = []
        if guard.by_origin:  # an HMAC check vouches for what the compared values were computed from
            names = {self.ev.text(t) for t in targets}
            for name in list(names):
                definition = self.ev.defs.get(name)
                if definition is not None:
                    names.update(self.identifiers(definition))
            result.extend((name, marks) for name in names if name in self.ev.env or name in self.ev.globals)
        for target in targets:
            for key, target_marks in self.clear(target, marks):
                if guard.requires:
                    val = self.ev.env.get(key) or self.ev.globals.get(key)
                    if val is None or not val.facts or not all(guard.requires in f.marks for f in val.facts):
                        continue
                result.append((key, target_marks))
        return result

    def clear(self, expr: Node, marks: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
        """The variable an expression checks; derived values (urlparse(u).hostname) only clear SSRF."""
        key, exact = self.target_key(expr)
        if key is None:
            return []
        result = [(key, marks if exact else SSRF_MARK)]
        base = self.ev.derived.get(key)
        if base is not None:
            result.append((base, SSRF_MARK))
        return result

    def target_key(self, expr: Node) -> tuple[str | None, bool]:
        """(variable name, checked exactly) for the expression an `if` tests."""
        kind = expr.type
        if kind == "identifier":
            return self.ev.text(expr), True
        if kind == "attribute":
            dotted = self.ev.dotted_of(expr)
            if dotted is not None and (dotted in self.ev.env or "." not in dotted):
                return dotted, True
            obj = expr.child_by_field_name("object")
            if obj is None:
                return None, False
            key, _ = self.target_key(obj)
            return key, False
        if kind == "call":
            fn = expr.child_by_field_name("function")
            if fn is not None and fn.type == "attribute":
                obj = fn.child_by_field_name("object")
                if obj is not None and not self.ev.is_module_name(self.ev.dotted_of(fn) or ""):
                    return self.target_key(obj)
            args = expr.child_by_field_name("arguments")
            first = next((c for c in args.named_children if c.type != "comment"), None) if args else None
            if first is not None:
                key, _ = self.target_key(first)
                return key, False
            return None, False
        if kind == "subscript":
            value = expr.child_by_field_name("value")
            if value is not None:
                key, _ = self.target_key(value)
                return key, False
        if kind == "parenthesized_expression" and expr.named_child_count:
            return self.target_key(expr.named_children[0])
        return None, False

    def identifiers(self, node: Node) -> set[str]:
        """Every identifier inside an expression."""
        found: set[str] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "identifier":
                found.add(self.ev.text(current))
            else:
                stack.extend(current.named_children)
        return found

    def is_constant_collection(self, node: Node) -> bool:
        """Literal containers, UPPER_CASE names and constant globals: the allowlist of an `in` check."""
        kind = node.type
        if kind in {"list", "tuple", "set", "dictionary"}:
            return all(self.is_literal_value(c) or c.type == "pair" for c in node.named_children)
        if kind in {"identifier", "attribute"}:
            dotted = self.ev.dotted_of(node) or ""
            last = dotted.rsplit(".", 1)[-1]
            if last.isupper() or last.lstrip("_").isupper():
                return True
            val = self.ev.env.get(dotted) or self.ev.globals.get(dotted)
            return bool(val is not None and val.const)
        if kind == "call":
            fn = node.child_by_field_name("function")
            if fn is not None and fn.type == "attribute":
                obj = fn.child_by_field_name("object")
                return obj is not None and self.is_constant_collection(obj)
        return False

    def is_literal_value(self, node: Node) -> bool:
        """A literal constant (string without interpolation, number, True/False/None)."""
        kind = node.type
        if kind in LITERALS:
            return True
        if kind == "string":
            return not any(c.type == "interpolation" for c in node.named_children)
        if kind == "identifier":
            name = self.ev.text(node)
            return name.isupper() and len(name) > 1
        return False

    def terminates(self, block: Node | None) -> bool:
        """True when a block always leaves: return, raise, continue, break, abort()/exit()."""
        if block is None:
            return False
        last = None
        for child in block.named_children:
            if child.type != "comment":
                last = child
        if last is None:
            return False
        if last.type in TERMINAL_STATEMENTS:
            return True
        if last.type == "expression_statement" and last.named_child_count:
            inner = last.named_children[0]
            if inner.type == "call":
                fn = inner.child_by_field_name("function")
                if fn is not None:
                    name = self.ev.text(fn).rsplit(".", 1)[-1]
                    return name in ABORT_CALLS
        return False
