"""Import tables and call-name resolution: `sp.run` after `import subprocess as sp` is `subprocess.run`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from ai_core.parsing import ParsedDocument
from ai_core.parsing.document import python_language


@dataclass
class ImportTable:
    """Local names bound by imports, mapped to qualified names."""

    names: dict[str, str] = field(default_factory=dict)

    def qualify(self, dotted: str) -> str:
        """Resolve the first component of a dotted name through the imports."""
        head, _, rest = dotted.partition(".")
        target = self.names.get(head)
        if target is None:
            return dotted
        return f"{target}.{rest}" if rest else target


_COMPOUND = frozenset({"module", "block", "function_definition", "class_definition", "decorated_definition",
                       "if_statement", "elif_clause", "else_clause", "for_statement", "while_statement",
                       "try_statement", "except_clause", "except_group_clause", "finally_clause", "with_statement",
                       "match_statement", "case_clause"})


def _import_nodes(doc: ParsedDocument) -> list[Node]:
    """Import statements at any depth, found by walking statements only (expressions are never entered)."""
    found: list[Node] = []
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        for child in node.children:
            kind = child.type
            if kind in {"import_statement", "import_from_statement"}:
                found.append(child)
            elif kind in _COMPOUND:
                stack.append(child)
    return found


def collect_imports(doc: ParsedDocument) -> ImportTable:
    """Every import statement of the document (at any depth), in source order."""
    table = ImportTable()
    if b"import" not in doc.data:
        return table
    for node in sorted(_import_nodes(doc), key=lambda n: n.start_byte):
        if node.type == "import_statement":
            for child in node.named_children:
                _bind_import(doc, child, table)
        else:
            module = node.child_by_field_name("module_name")
            base = doc.node_text(module) if module is not None else ""
            for child in node.children_by_field_name("name"):
                if child.type == "aliased_import":
                    name = child.child_by_field_name("name")
                    alias = child.child_by_field_name("alias")
                    if name is not None and alias is not None:
                        table.names[doc.node_text(alias)] = f"{base}.{doc.node_text(name)}"
                else:
                    local = doc.node_text(child)
                    table.names[local.split(".")[-1]] = f"{base}.{local}"
    return table


def _bind_import(doc: ParsedDocument, node: Node, table: ImportTable) -> None:
    if node.type == "aliased_import":
        name = node.child_by_field_name("name")
        alias = node.child_by_field_name("alias")
        if name is not None and alias is not None:
            table.names[doc.node_text(alias)] = doc.node_text(name)
    elif node.type == "dotted_name":
        full = doc.node_text(node)
        table.names.setdefault(full.split(".")[0], full.split(".")[0])


_CALLS = Query(python_language(), "(call function: (_) @fn) @call")


def dotted_name(doc: ParsedDocument, node: Node) -> str | None:
    """`a.b.c` for identifier/attribute chains, else None."""
    if node.type == "identifier":
        return doc.node_text(node)
    if node.type == "attribute":
        obj = node.child_by_field_name("object")
        attr = node.child_by_field_name("attribute")
        if obj is None or attr is None:
            return None
        base = dotted_name(doc, obj)
        return f"{base}.{doc.node_text(attr)}" if base else None
    return None


def iter_calls(doc: ParsedDocument, imports: ImportTable) -> Iterator[tuple[Node, str]]:
    """Each call node with its qualified callee name (calls on non-name expressions are skipped)."""
    for _, match in QueryCursor(_CALLS).matches(doc.tree.root_node):
        call = match["call"][0]
        name = dotted_name(doc, match["fn"][0])
        if name:
            yield call, imports.qualify(name)


def keyword_argument(call: Node, name: str) -> Node | None:
    """The value node of keyword argument `name` of a call, if present."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return None
    for child in args.named_children:
        if child.type == "keyword_argument":
            key = child.child_by_field_name("name")
            if key is not None and key.text == name.encode():
                return child.child_by_field_name("value")
    return None


def positional_arguments(call: Node) -> list[Node]:
    """The positional argument nodes of a call."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [
        child
        for child in args.named_children
        if child.type not in {"keyword_argument", "list_splat", "dictionary_splat", "comment"}
    ]


LITERAL_TYPES = frozenset({"string", "integer", "float", "true", "false", "none", "concatenated_string"})


def is_literal(node: Node) -> bool:
    """True for constants and containers of constants (no interpolation)."""
    if node.type == "string":
        return not any(child.type == "interpolation" for child in node.named_children)
    if node.type == "concatenated_string":
        return all(is_literal(child) for child in node.named_children)
    if node.type in LITERAL_TYPES:
        return True
    if node.type in {"list", "tuple", "set"}:
        return all(is_literal(child) for child in node.named_children)
    if node.type == "parenthesized_expression":
        return all(is_literal(child) for child in node.named_children)
    return False
