"""Statements: assignments, returns, branches merged (an aborting branch sanitises), loops run twice, try/with."""

from __future__ import annotations

import logging

from tree_sitter import Node

from ai_core.analysis.symbols import function_info
from ai_core.analysis.taint.calls import ProjectCalls
from ai_core.analysis.taint.guards import Guards
from ai_core.analysis.taint.state import (
    CONTAINER_KINDS,
    MAX_LOOP_DEPTH,
    PATTERNS,
    RESPONSE_KINDS,
    SKIP_STATEMENTS,
    EvalState,
    merge_envs,
)
from ai_core.analysis.taint.values import CLEAN, CONST, Val, join, join2, stepped
from ai_core.findings import VulnClass

log = logging.getLogger(__name__)


class StatementEval(EvalState):
    """Runs a function's statements in order on its environment."""

    guards: Guards
    calls: ProjectCalls

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
        elif kind in {"import_from_statement", "import_statement"}:
            self.st_import(node)
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
        if self.route.framework and self.route.framework != "cli":
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

    def st_import(self, node: Node) -> None:
        """`from markupsafe import escape` inside a function: the name is the library's (or the project's) from
        here on."""
        if node.type == "import_statement":
            for child in node.named_children:
                name = child.child_by_field_name("name") if child.type == "aliased_import" else child
                alias = child.child_by_field_name("alias") if child.type == "aliased_import" else None
                if name is not None:
                    full = self.text(name)
                    self.local_imports[self.text(alias) if alias is not None else full.split(".")[0]] = \
                        full if alias is not None else full.split(".")[0]
            return
        source = node.child_by_field_name("module_name")
        base = self.text(source).replace(" ", "") if source is not None else ""
        if not base:
            return
        for child in node.children_by_field_name("name"):
            name = child.child_by_field_name("name") if child.type == "aliased_import" else child
            alias = child.child_by_field_name("alias") if child.type == "aliased_import" else None
            if name is not None:
                local = self.text(alias) if alias is not None else self.text(name).split(".")[-1]
                self.local_imports[local] = base + self.text(name) if base.endswith(".") \
                    else f"{base}.{self.text(name)}"
                self.env.pop(local, None)

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
        self.closures.append((info, dict(self.env)))

