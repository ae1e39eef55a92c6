"""Moving around a tree-sitter tree: the node at a span, ancestors, descendants, the enclosing function or statement."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import cache

from tree_sitter import Node, Query, QueryCursor

from ai_core.findings import Span
from ai_core.parsing.document import ParsedDocument, python_language

STATEMENT_PARENTS = frozenset({"block", "module"})
SCOPE_BOUNDARIES = frozenset({"function_definition", "lambda", "class_definition"})


def node_at(doc: ParsedDocument, span: Span) -> Node:
    """The smallest named node covering the span's bytes (the module when none does)."""
    root = doc.tree.root_node
    node = root.named_descendant_for_byte_range(span.start_byte, max(span.start_byte, span.end_byte))
    return node if node is not None else root


def ancestors(node: Node) -> Iterator[Node]:
    """The node itself, then each parent up to the module."""
    current: Node | None = node
    while current is not None:
        yield current
        current = current.parent


def enclosing(node: Node, *types: str, stop: Collection[str] = ()) -> Node | None:
    """The nearest ancestor-or-self of one of `types`; None when a node of a `stop` type comes first."""
    for current in ancestors(node):
        if current.type in types:
            return current
        if current.type in stop:
            return None
    return None


def enclosing_function(node: Node, include_decorators: bool = False) -> Node | None:
    """The innermost function definition that is or contains `node`.

    With `include_decorators`, a decorated function's `decorated_definition` (its extent with the decorators).
    """
    function = enclosing(node, "function_definition")
    if include_decorators and function is not None and function.parent is not None \
            and function.parent.type == "decorated_definition":
        return function.parent
    return function


@cache
def _type_query(kind: str) -> Query:
    return Query(python_language(), f"({kind}) @node")


def nodes_of_type(node: Node, kind: str) -> list[Node]:
    """Every node of one type under `node`, in source order (a tree-sitter query, faster than a Python walk)."""
    found = QueryCursor(_type_query(kind)).captures(node).get("node", [])
    return sorted(found, key=lambda n: n.start_byte)


def walk(node: Node) -> Iterator[Node]:
    """Every node under `node` (pre-order), itself first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def walk_scope(scope: Node) -> Iterator[Node]:
    """Nodes of one scope, itself excluded: nested functions, lambdas and classes are yielded, not entered."""
    stack = list(reversed(scope.children))
    while stack:
        current = stack.pop()
        yield current
        if current.type not in SCOPE_BOUNDARIES:
            stack.extend(reversed(current.children))


def identifiers(node: Node) -> Iterator[Node]:
    """Every identifier node under `node`."""
    return (n for n in walk(node) if n.type == "identifier")


def statement_of(node: Node) -> Node:
    """The statement (a direct child of a block or the module) that contains `node`."""
    for current in ancestors(node):
        if current.parent is not None and current.parent.type in STATEMENT_PARENTS:
            return current
    return node


def scope_of(node: Node) -> Node:
    """The body of the function that `node` belongs to, or the module."""
    function = enclosing_function(node.parent) if node.parent is not None else None
    if function is not None:
        body = function.child_by_field_name("body")
        if body is not None:
            return body
    current = node
    while current.parent is not None:
        current = current.parent
    return current


def string_value(node: Node | None) -> str | None:
    """The value of a plain string literal (no interpolation), else None."""
    if node is None:
        return None
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        return string_value(node.named_children[0])
    if node.type == "concatenated_string":
        parts = [string_value(c) for c in node.named_children]
        return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
    if node.type != "string":
        return None
    content = []
    for child in node.named_children:
        if child.type == "interpolation":
            return None
        if child.type == "string_content" or child.type == "escape_sequence":
            content.append((child.text or b"").decode("utf-8", "replace"))
    return "".join(content)
