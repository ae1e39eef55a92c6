"""Names in a document: the one assignment a use reads, the uses of a name, module-level and all identifiers."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import identifiers, scope_of, walk_scope


def single_assignment(doc: ParsedDocument, name_node: Node) -> Node | None:
    """The value of the one plain assignment to `name` in its scope, made before this use; else None."""
    name = doc.node_text(name_node)
    found: list[Node] = []
    for node in walk_scope(scope_of(name_node)):
        if node.type in {"assignment", "augmented_assignment"}:
            left = node.child_by_field_name("left")
            if left is not None and any(doc.node_text(i) == name for i in identifiers(left)):
                if node.type == "augmented_assignment" or left.type != "identifier":
                    return None
                found.append(node)
        elif node.type in {"for_statement", "with_item", "as_pattern", "named_expression"}:
            target = (node.child_by_field_name("left") or node.child_by_field_name("alias")
                      or node.child_by_field_name("name"))
            if target is not None and any(doc.node_text(i) == name for i in identifiers(target)):
                return None
    if len(found) != 1 or found[0].end_byte > name_node.start_byte:
        return None
    return found[0].child_by_field_name("right")


def uses_of(doc: ParsedDocument, scope: Node, name: str) -> list[Node]:
    """Identifier nodes reading `name` in `scope` (assignment targets excluded)."""
    uses = []
    for node in identifiers(scope):
        if doc.node_text(node) != name:
            continue
        parent = node.parent
        if parent is not None and parent.type == "assignment" and parent.child_by_field_name("left") == node:
            continue
        if parent is not None and parent.type in {"keyword_argument"} and parent.child_by_field_name("name") == node:
            continue
        if parent is not None and parent.type == "attribute" and parent.child_by_field_name("attribute") == node:
            continue
        uses.append(node)
    return uses


def defined_names(doc: ParsedDocument) -> set[str]:
    """Names bound at module level: functions, classes, assignments, imports."""
    names: set[str] = set()
    for child in doc.tree.root_node.named_children:
        node = child
        if node.type == "decorated_definition":
            inner = node.child_by_field_name("definition")
            node = inner if inner is not None else node
        if node.type in {"function_definition", "class_definition"}:
            name = node.child_by_field_name("name")
            if name is not None:
                names.add(doc.node_text(name))
        elif node.type == "expression_statement" and node.named_children:
            inner_stmt = node.named_children[0]
            if inner_stmt.type == "assignment":
                left = inner_stmt.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    names.add(doc.node_text(left))
    return names


def all_identifiers(doc: ParsedDocument) -> set[str]:
    """Every identifier spelled anywhere in the document."""
    return {doc.node_text(n) for n in identifiers(doc.tree.root_node)}


def is_expression_statement(node: Node) -> bool:
    """True when `node`'s value is discarded (it is the whole expression statement)."""
    parent = node.parent
    return parent is not None and parent.type == "expression_statement" and parent.named_child_count == 1


def env_name(name: str) -> str:
    """An environment variable name for a Python name: `apiKey` / `api-key` -> `API_KEY`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    cleaned = re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").upper()
    if not cleaned:
        return "SECRET"
    return cleaned if not cleaned[0].isdigit() else "_" + cleaned


def unparenthesized(node: Node) -> Node:
    """The expression inside redundant parentheses (`(a + b)` -> `a + b`)."""
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        inner = node.named_children[0]
        if inner.type in {"yield", "generator_expression"}:
            break
        node = inner
    return node
