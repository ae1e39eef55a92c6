"""Helpers the rewriters of several classes share: calls and assignments at a finding, free names, environment reads."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.findings import TextEdit
from ai_core.fixes.calls import keyword, positional
from ai_core.fixes.context import FixContext
from ai_core.fixes.layout import line_end, line_start, newline_of
from ai_core.fixes.names import all_identifiers, uses_of
from ai_core.fixes.strings import literal_value, string_quote
from ai_core.parsing.tree import enclosing, walk


def calls_near(ctx: FixContext) -> list[Node]:
    """The calls around the sink and inside the finding, outermost sink call first, each once."""
    calls: list[Node] = []
    for node in [enclosing(ctx.sink_node, "call"), *[n for n in walk(ctx.node) if n.type == "call"],
                 enclosing(ctx.node, "call")]:
        if node is not None and all(node.start_byte != c.start_byte or node.end_byte != c.end_byte for c in calls):
            calls.append(node)
    return calls


def free_name(ctx: FixContext, preferred: str, *others: str) -> str:
    """The first of the names not used in the document, else `preferred_2`, `preferred_3`..."""
    taken = all_identifiers(ctx.doc)
    for name in (preferred, *others):
        if name not in taken:
            return name
    index = 2
    while f"{preferred}_{index}" in taken:
        index += 1
    return f"{preferred}_{index}"


def value_of(call: Node, position: int, *names: str) -> Node | None:
    """A call's argument at `position`, else the value of the first of the keywords `names`."""
    args = positional(call)
    if len(args) > position:
        return args[position]
    for name in names:
        kw = keyword(call, name)
        if kw is not None:
            return kw.child_by_field_name("value")
    return None


def bind(ctx: FixContext, arg: Node, preferred: str) -> tuple[str, list[str], list] | None:  # type: ignore[type-arg]
    """A name for the argument's value: the identifier itself, or a new variable assigned before the check."""
    if arg.type == "identifier":
        return ctx.text(arg), [], []
    text = ctx.text(arg)
    if "\n" in text:
        return None
    name = free_name(ctx, preferred, f"target_{preferred}")
    return name, [f"{name} = {text}"], [ctx.replace(arg, name)]


def quote_like(node: Node | None) -> str:
    """The quote character of a string node (double quotes for anything else)."""
    return string_quote(node)[0] if node is not None and node.type == "string" else '"'


def environ_item(ctx: FixContext, name: str, quote: str = '"') -> str:
    """`os.environ["NAME"]`, spelled with the document's import of os."""
    return f"{ctx.ref('os', 'environ')}[{quote}{name}{quote}]"


def environ_get(ctx: FixContext, name: str, default: str | None = None, quote: str = '"') -> str:
    """`os.environ.get("NAME", default)`, spelled with the document's import of os."""
    tail = f", {quote}{default}{quote}" if default is not None else ""
    return f"{ctx.ref('os', 'environ')}.get({quote}{name}{quote}{tail})"


def target_name(ctx: FixContext, holder: Node) -> str:
    """The name a value is bound to: assignment target, keyword, dict key, parameter, compared name."""
    if holder.type == "assignment":
        left = holder.child_by_field_name("left")
        if left is None:
            return ""
        if left.type == "identifier":
            return ctx.text(left)
        if left.type == "attribute":
            attr = left.child_by_field_name("attribute")
            return ctx.text(attr) if attr is not None else ""
        if left.type == "subscript":
            key = left.child_by_field_name("subscript")
            return (literal_value(ctx.doc, key) or "") if key is not None else ""
    if holder.type == "keyword_argument":
        name = holder.child_by_field_name("name")
        return ctx.text(name) if name is not None else ""
    if holder.type == "pair":
        key = holder.child_by_field_name("key")
        return (literal_value(ctx.doc, key) or "") if key is not None else ""
    if holder.type == "default_parameter":
        name = holder.child_by_field_name("name")
        return ctx.text(name) if name is not None else ""
    if holder.type == "comparison_operator":
        for operand in holder.named_children:
            if operand.type in {"identifier", "attribute"}:
                return ctx.text(operand).rsplit(".", 1)[-1]
    return ""


def assignments_near(ctx: FixContext) -> list[Node]:
    """The assignments inside the finding plus the one enclosing it."""
    nodes = [n for n in walk(ctx.node) if n.type == "assignment"]
    holder = enclosing(ctx.node, "assignment")
    if holder is not None:
        nodes.append(holder)
    return nodes


def calls_in_finding(ctx: FixContext) -> list[Node]:
    """The calls inside the finding plus the one enclosing it."""
    calls = [n for n in walk(ctx.node) if n.type == "call"]
    outer = enclosing(ctx.node, "call")
    if outer is not None:
        calls.append(outer)
    return calls


_PURE_METHODS = frozenset({"get", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper", "casefold",
                           "partition", "rpartition", "startswith", "endswith", "getlist"})
"""Methods a value is read with, without side effects: an assignment made only of these may be dropped."""


def _pure(ctx: FixContext, value: Node) -> bool:
    for node in walk(value):
        if node.type in {"call", "await", "yield", "named_expression", "lambda"}:
            fn = node.child_by_field_name("function") if node.type == "call" else None
            attr = fn.child_by_field_name("attribute") if fn is not None and fn.type == "attribute" else None
            if attr is None or ctx.text(attr) not in _PURE_METHODS:
                return False
    return True


def dead_assignments(ctx: FixContext, scope: Node, removed: list[tuple[int, int]]) -> list[TextEdit]:
    """Edits deleting the lines of `name = <read>` statements in `scope` whose every use lies in `removed` (byte
    ranges an edit drops), repeated along the chain of names they read; only side-effect-free reads are dropped."""
    gone = list(removed)
    edits: list[TextEdit] = []
    newline = len(newline_of(ctx.doc).encode())
    changed = True
    while changed:
        changed = False
        for statement in walk(scope):
            assign = statement.named_children[0] if statement.type == "expression_statement" and \
                statement.named_child_count == 1 else None
            left = assign.child_by_field_name("left") if assign is not None and assign.type == "assignment" else None
            value = assign.child_by_field_name("right") if assign is not None else None
            if left is None or value is None or left.type != "identifier" or not _pure(ctx, value) or \
                    any(start <= statement.start_byte < end for start, end in gone):
                continue
            uses = uses_of(ctx.doc, scope, ctx.text(left))
            if not uses or any(not any(start <= u.start_byte < end for start, end in gone) for u in uses):
                continue
            start, end = line_start(ctx.doc, statement.start_byte), line_end(ctx.doc, statement.end_byte)
            if ctx.doc.data[start:statement.start_byte].strip() or ctx.doc.data[statement.end_byte:end].strip():
                continue
            gone.append((start, end + newline))
            edits.append(TextEdit(start, end + newline, ""))
            changed = True
    return edits
