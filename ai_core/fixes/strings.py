"""String literals and built strings: literal values, f-string / % / .format / + decomposed into pieces, rendering."""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass

from tree_sitter import Node

from ai_core.fixes.calls import arguments, positional
from ai_core.parsing import ParsedDocument


def is_str_literal(node: Node) -> bool:
    """A plain (non f-, non bytes) string literal."""
    if node.type != "string":
        return False
    prefix = string_prefix(node)
    return "f" not in prefix and "b" not in prefix


def string_prefix(node: Node) -> str:
    """The lower-cased prefix letters of a string node (`f`, `rb`, ...)."""
    start = node.child(0)
    if start is None or start.text is None:
        return ""
    raw = start.text.decode("utf-8", errors="replace")
    return raw.rstrip("'\"").lower()


def string_quote(node: Node) -> str:
    """The quote delimiter of a string node: ', ", ''' or \"\"\"."""
    start = node.child(0)
    raw = start.text.decode("utf-8", errors="replace") if start is not None and start.text else '"'
    return raw.lstrip("rRbBuUfF") or '"'


def literal_value(doc: ParsedDocument, node: Node) -> str | None:
    """The value of a plain string literal (or implicit concatenation of them), else None."""
    if node.type == "concatenated_string":
        parts = [literal_value(doc, child) for child in node.named_children]
        return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
    if not is_str_literal(node):
        return None
    try:
        value = ast.literal_eval(doc.node_text(node))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Expr:
    """An expression interpolated into a built string."""

    source: str
    node: Node


Piece = str | Expr


@dataclass(frozen=True, slots=True)
class Built:
    """A string built at run time: its pieces, and the quote style of its main literal."""

    pieces: tuple[Piece, ...]
    quote: str = '"'
    node: Node | None = None

    @property
    def exprs(self) -> list[Expr]:
        """The interpolated expressions."""
        return [p for p in self.pieces if isinstance(p, Expr)]


def _fragment_value(prefix: str, quote: str, raw: str, is_f: bool) -> str:
    if is_f:
        raw = raw.replace("{{", "\0LB\0").replace("}}", "\0RB\0")
    value = ast.literal_eval(prefix + quote + raw + quote)
    if not isinstance(value, str):
        raise ValueError("not a str literal")
    return value.replace("\0LB\0", "{").replace("\0RB\0", "}") if is_f else value


def fstring_pieces(doc: ParsedDocument, node: Node) -> list[Piece] | None:
    """Pieces of a string literal (f-string or plain); None for bytes or format specs we cannot keep."""
    prefix = string_prefix(node)
    if "b" in prefix:
        return None
    is_f = "f" in prefix
    eval_prefix = prefix.replace("f", "")
    quote = string_quote(node)
    pieces: list[Piece] = []
    raw = ""
    for child in node.children:
        if child.type in {"string_start", "string_end"}:
            continue
        if child.type == "interpolation":
            if child.child_by_field_name("format_specifier") is not None or any(
                c.type in {"type_conversion", "format_specifier"} for c in child.children
            ):
                return None
            expression = child.child_by_field_name("expression")
            if expression is None:
                return None
            if raw:
                pieces.append(_fragment_value(eval_prefix, quote, raw, is_f))
                raw = ""
            pieces.append(Expr(doc.node_text(expression), expression))
        else:
            raw += doc.node_text(child)
    if raw:
        try:
            pieces.append(_fragment_value(eval_prefix, quote, raw, is_f))
        except (ValueError, SyntaxError):
            return None
    return pieces


_PERCENT = re.compile(r"%(?:\((?P<key>\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?(?P<conv>[sdifrauxXeEgGc%])")


def _percent_pieces(doc: ParsedDocument, template: str, right: Node) -> list[Piece] | None:
    values: list[Node]
    named: dict[str, Node] = {}
    if right.type == "tuple" or (right.type == "parenthesized_expression" and right.named_child_count > 1):
        values = [c for c in right.named_children if c.type != "comment"]
    elif right.type == "dictionary":
        values = []
        for pair in right.named_children:
            key_node, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            key_text = literal_value(doc, key_node) if key_node is not None else None
            if pair.type != "pair" or key_text is None or value is None:
                return None
            named[key_text] = value
    else:
        values = [right]
    pieces: list[Piece] = []
    cursor = 0
    index = 0
    for match in _PERCENT.finditer(template):
        pieces.append(template[cursor:match.start()])
        cursor = match.end()
        if match.group("conv") == "%":
            pieces.append("%")
            continue
        key = match.group("key")
        if key is not None:
            if key not in named:
                return None
            value = named[key]
        else:
            if index >= len(values):
                return None
            value = values[index]
            index += 1
        pieces.append(Expr(doc.node_text(value), value))
    if index != len(values) and not named:
        return None
    pieces.append(template[cursor:])
    return pieces


def _format_pieces(doc: ParsedDocument, template: str, call: Node) -> list[Piece] | None:
    args = positional(call)
    kwargs = {}
    for child in arguments(call):
        if child.type == "keyword_argument":
            name, value = child.child_by_field_name("name"), child.child_by_field_name("value")
            if name is None or value is None:
                return None
            kwargs[doc.node_text(name)] = value
        elif child.type in {"list_splat", "dictionary_splat"}:
            return None
    pieces: list[Piece] = []
    auto = 0
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for literal, field, spec, conversion in parsed:
        if literal:
            pieces.append(literal)
        if field is None:
            continue
        if spec or conversion:
            return None
        if field == "":
            if auto >= len(args):
                return None
            value = args[auto]
            auto += 1
        elif field.isdigit():
            if int(field) >= len(args):
                return None
            value = args[int(field)]
        elif field in kwargs:
            value = kwargs[field]
        else:
            return None
        pieces.append(Expr(doc.node_text(value), value))
    return pieces


def _flatten_plus(node: Node) -> list[Node]:
    if node.type == "binary_operator":
        op = node.child_by_field_name("operator")
        if op is not None and op.type == "+":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None:
                return _flatten_plus(left) + _flatten_plus(right)
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        inner = node.named_children[0]
        if inner.type == "binary_operator":
            return _flatten_plus(inner)
    return [node]


def built_string(doc: ParsedDocument, node: Node) -> Built | None:
    """Decompose an f-string, `"..." % x`, `"...".format(x)` or `"a" + x` into pieces; None otherwise."""
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        return built_string(doc, node.named_children[0])
    if node.type == "string":
        string_pieces = fstring_pieces(doc, node)
        if string_pieces is None:
            return None
        return Built(tuple(string_pieces), string_quote(node), node)
    if node.type == "concatenated_string":
        joined: list[Piece] = []
        for child in node.named_children:
            part = fstring_pieces(doc, child) if child.type == "string" else None
            if part is None:
                return None
            joined.extend(part)
        first = node.named_children[0]
        return Built(tuple(joined), string_quote(first), node)
    if node.type == "binary_operator":
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or left is None or right is None:
            return None
        if op.type == "%":
            template = literal_value(doc, left)
            if template is None:
                return None
            pieces = _percent_pieces(doc, template, right)
            quote = string_quote(left) if left.type == "string" else '"'
            return Built(tuple(pieces), quote, node) if pieces is not None else None
        if op.type == "+":
            operands = _flatten_plus(node)
            flat: list[Piece] = []
            has_literal = False
            quote = '"'
            for operand in operands:
                if operand.type in {"string", "concatenated_string"}:
                    inner = built_string(doc, operand)
                    if inner is None:
                        return None
                    if not has_literal:
                        quote = inner.quote
                    has_literal = True
                    flat.extend(inner.pieces)
                else:
                    flat.append(Expr(doc.node_text(operand), operand))
            return Built(tuple(flat), quote, node) if has_literal else None
        return None
    if node.type == "call":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "attribute":
            obj, attr = fn.child_by_field_name("object"), fn.child_by_field_name("attribute")
            if obj is not None and attr is not None and doc.node_text(attr) == "format":
                template = literal_value(doc, obj)
                if template is None:
                    return None
                pieces = _format_pieces(doc, template, node)
                quote = string_quote(obj) if obj.type == "string" else '"'
                return Built(tuple(pieces), quote, node) if pieces is not None else None
    return None


def merge_literals(pieces: list[Piece] | tuple[Piece, ...]) -> list[Piece]:
    """Adjacent literal pieces joined; empty literals dropped."""
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str):
            if not piece:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + piece
                continue
        merged.append(piece)
    return merged


def render_str(value: str, quote: str = '"') -> str:
    """A Python literal for `value`, in `quote` style when possible (triple quotes keep newlines)."""
    plain = all(ch.isprintable() or ch in "\n\t" for ch in value)
    if len(quote) == 3 and plain and quote not in value and not value.endswith(quote[0]):
        return quote + value.replace("\\", "\\\\") + quote
    q = quote[0]
    other = "'" if q == '"' else '"'
    if q in value and other not in value:
        q = other
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == q:
            out.append("\\" + q)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return q + "".join(out) + q


def render_fstring(pieces: list[Piece], quote: str = '"') -> str:
    """An f-string (or plain string, when there is nothing to interpolate) for `pieces`."""
    pieces = merge_literals(pieces)
    if not any(isinstance(p, Expr) for p in pieces):
        return render_str("".join(p for p in pieces if isinstance(p, str)), quote)
    q = quote[0]
    sources = [p.source for p in pieces if isinstance(p, Expr)]
    if any(q in s for s in sources):
        q = '"' if q == "'" else "'"
    if any(q in s or "\\" in s or "\n" in s for s in sources):
        return " + ".join(render_str(p, quote) if isinstance(p, str) else f"str({p.source})" for p in pieces)
    out = []
    for p in pieces:
        if isinstance(p, Expr):
            out.append("{" + p.source + "}")
        else:
            lit = render_str(p, q)[1:-1]
            out.append(lit.replace("{", "{{").replace("}", "}}"))
    return "f" + q + "".join(out) + q
