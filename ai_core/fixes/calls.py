"""Reading and editing a call's arguments: callee name, positional and keyword arguments, adding or dropping one."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.findings import TextEdit
from ai_core.fixes.layout import indent_of, newline_of
from ai_core.parsing import ParsedDocument


def call_name(doc: ParsedDocument, call: Node) -> str:
    """The callee of a call as written (`cursor.execute`), or ''."""
    fn = call.child_by_field_name("function")
    return doc.node_text(fn) if fn is not None else ""


def call_attr(doc: ParsedDocument, call: Node) -> str:
    """The last component of the callee's name (`execute` for `cursor.execute`)."""
    return call_name(doc, call).rsplit(".", 1)[-1]


def arguments(call: Node) -> list[Node]:
    """The argument nodes of a call (positional and keyword, in order)."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [c for c in args.named_children if c.type != "comment"]


def keyword(call: Node, name: str) -> Node | None:
    """The `keyword_argument` node `name=...` of a call."""
    for child in arguments(call):
        if child.type == "keyword_argument":
            key = child.child_by_field_name("name")
            if key is not None and key.text == name.encode():
                return child
    return None


def positional(call: Node) -> list[Node]:
    """The positional argument nodes of a call."""
    return [c for c in arguments(call) if c.type not in {"keyword_argument", "list_splat", "dictionary_splat"}]


def removal_range(doc: ParsedDocument, arg: Node) -> tuple[int, int]:
    """Bytes to delete to drop one argument together with its separating comma."""
    args = arg.parent
    assert args is not None
    siblings = [c for c in args.named_children if c.type != "comment"]
    index = next(i for i, c in enumerate(siblings) if c.start_byte == arg.start_byte)
    if index > 0:
        return siblings[index - 1].end_byte, arg.end_byte
    if len(siblings) > 1:
        return arg.start_byte, siblings[1].start_byte
    return arg.start_byte, arg.end_byte


def append_argument(doc: ParsedDocument, call: Node, text: str) -> TextEdit | None:
    """An edit adding `text` as the last argument of a call, following its layout (one line or one per line)."""
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "argument_list":
        return None
    close = args.end_byte - 1
    inner = [c for c in args.named_children if c.type != "comment"]
    if not inner:
        return TextEdit(close, close, text)
    last = inner[-1]
    between = doc.data[last.end_byte:close]
    trailing_comma = between.lstrip().startswith(b",")
    if b"\n" in between:
        indent = indent_of(doc, last)
        nl = newline_of(doc)
        if trailing_comma:
            comma = last.end_byte + between.index(b",") + 1
            return TextEdit(comma, comma, f"{nl}{indent}{text},")
        return TextEdit(last.end_byte, last.end_byte, f",{nl}{indent}{text}")
    if trailing_comma:
        return TextEdit(close, close, f" {text}")
    return TextEdit(last.end_byte, last.end_byte, f", {text}")


def set_keyword(doc: ParsedDocument, call: Node, name: str, value: str) -> TextEdit | None:
    """Set keyword argument `name=value` on a call: replace its value, or append it."""
    existing = keyword(call, name)
    if existing is not None:
        current = existing.child_by_field_name("value")
        if current is None:
            return None
        return TextEdit(current.start_byte, current.end_byte, value)
    return append_argument(doc, call, f"{name}={value}")
