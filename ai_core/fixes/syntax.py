"""tree-sitter helpers the rewriters share: find nodes at a span, statements, indentation, string pieces."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from ai_core.findings import Span, TextEdit
from ai_core.parsing import ParsedDocument

STATEMENT_PARENTS = frozenset({"block", "module"})


def text_of(doc: ParsedDocument, node: Node) -> str:
    """The source text of a node."""
    return doc.node_text(node)


def node_at(doc: ParsedDocument, span: Span) -> Node:
    """The smallest named node covering the span's bytes."""
    root = doc.tree.root_node
    node = root.named_descendant_for_byte_range(span.start_byte, max(span.start_byte, span.end_byte))
    return node if node is not None else root


def ancestors(node: Node) -> Iterator[Node]:
    """The node itself, then each parent up to the module."""
    current: Node | None = node
    while current is not None:
        yield current
        current = current.parent


def enclosing(node: Node, *types: str) -> Node | None:
    """The nearest ancestor-or-self of one of `types`."""
    return next((n for n in ancestors(node) if n.type in types), None)


def walk(node: Node) -> Iterator[Node]:
    """Every node under `node` (pre-order), itself first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def statement_of(node: Node) -> Node:
    """The statement (a direct child of a block or the module) that contains `node`."""
    for current in ancestors(node):
        if current.parent is not None and current.parent.type in STATEMENT_PARENTS:
            return current
    return node


def function_of(node: Node) -> Node | None:
    """The function definition that contains `node`, if any."""
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            return parent
        parent = parent.parent
    return None


def scope_of(node: Node) -> Node:
    """The function body or module that `node` belongs to."""
    function = function_of(node)
    if function is not None:
        body = function.child_by_field_name("body")
        if body is not None:
            return body
    current = node
    while current.parent is not None:
        current = current.parent
    return current


def line_start(doc: ParsedDocument, offset: int) -> int:
    """Byte offset of the start of the line holding `offset`."""
    return doc.data.rfind(b"\n", 0, offset) + 1


def line_end(doc: ParsedDocument, offset: int) -> int:
    """Byte offset of the end of the line holding `offset` (before its line break)."""
    end = doc.data.find(b"\n", offset)
    end = len(doc.data) if end == -1 else end
    return end - 1 if end > 0 and doc.data[end - 1:end] == b"\r" else end


def newline_of(doc: ParsedDocument) -> str:
    """The document's line break ("\\r\\n" when its first line ends so, else "\\n")."""
    first = doc.data.find(b"\n")
    return "\r\n" if first > 0 and doc.data[first - 1:first] == b"\r" else "\n"


def indent_of(doc: ParsedDocument, node: Node) -> str:
    """The leading whitespace of the line where `node` starts."""
    start = line_start(doc, node.start_byte)
    line = doc.data[start:node.start_byte].decode("utf-8", errors="replace")
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_unit(doc: ParsedDocument) -> str:
    """The file's indentation step (four spaces unless the file shows otherwise)."""
    for match in re.finditer(rb"^([ \t]+)\S", doc.data, re.MULTILINE):
        return "\t" if match.group(1).startswith(b"\t") else " " * min(len(match.group(1)), 8)
    return "    "


def call_name(doc: ParsedDocument, call: Node) -> str:
    """The callee of a call as written (`cursor.execute`), or ''."""
    fn = call.child_by_field_name("function")
    return text_of(doc, fn) if fn is not None else ""


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


def identifiers(node: Node) -> Iterator[Node]:
    """Every identifier node under `node`."""
    return (n for n in walk(node) if n.type == "identifier")


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
        value = ast.literal_eval(text_of(doc, node))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


# --- string building: f-strings, %, .format and + decomposed into literal and expression pieces ---


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
            pieces.append(Expr(text_of(doc, expression), expression))
        else:
            raw += text_of(doc, child)
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
        pieces.append(Expr(text_of(doc, value), value))
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
            kwargs[text_of(doc, name)] = value
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
        pieces.append(Expr(text_of(doc, value), value))
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
                    flat.append(Expr(text_of(doc, operand), operand))
            return Built(tuple(flat), quote, node) if has_literal else None
        return None
    if node.type == "call":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "attribute":
            obj, attr = fn.child_by_field_name("object"), fn.child_by_field_name("attribute")
            if obj is not None and attr is not None and text_of(doc, attr) == "format":
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


SCOPE_BOUNDARIES = frozenset({"function_definition", "lambda", "class_definition"})


def walk_scope(scope: Node) -> Iterator[Node]:
    """Nodes of one scope: nested functions, lambdas and classes are not entered."""
    stack = list(reversed(scope.children))
    while stack:
        current = stack.pop()
        yield current
        if current.type not in SCOPE_BOUNDARIES:
            stack.extend(reversed(current.children))


def single_assignment(doc: ParsedDocument, name_node: Node) -> Node | None:
    """The value of the one plain assignment to `name` in its scope, made before this use; else None."""
    name = text_of(doc, name_node)
    found: list[Node] = []
    for node in walk_scope(scope_of(name_node)):
        if node.type in {"assignment", "augmented_assignment"}:
            left = node.child_by_field_name("left")
            if left is not None and any(text_of(doc, i) == name for i in identifiers(left)):
                if node.type == "augmented_assignment" or left.type != "identifier":
                    return None
                found.append(node)
        elif node.type in {"for_statement", "with_item", "as_pattern", "named_expression"}:
            target = (node.child_by_field_name("left") or node.child_by_field_name("alias")
                      or node.child_by_field_name("name"))
            if target is not None and any(text_of(doc, i) == name for i in identifiers(target)):
                return None
    if len(found) != 1 or found[0].end_byte > name_node.start_byte:
        return None
    return found[0].child_by_field_name("right")


def uses_of(doc: ParsedDocument, scope: Node, name: str) -> list[Node]:
    """Identifier nodes reading `name` in `scope` (assignment targets excluded)."""
    uses = []
    for node in identifiers(scope):
        if text_of(doc, node) != name:
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
                names.add(text_of(doc, name))
        elif node.type == "expression_statement" and node.named_children:
            inner_stmt = node.named_children[0]
            if inner_stmt.type == "assignment":
                left = inner_stmt.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    names.add(text_of(doc, left))
    return names


def all_identifiers(doc: ParsedDocument) -> set[str]:
    """Every identifier spelled anywhere in the document."""
    return {text_of(doc, n) for n in identifiers(doc.tree.root_node)}


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


_DEFERRED = frozenset({"lambda", "list_comprehension", "set_comprehension", "dictionary_comprehension",
                       "generator_expression"})


def guard_statement(doc: ParsedDocument, node: Node) -> Node | None:
    """The statement before which a check on `node`'s inputs can be inserted, or None when that is unsafe.

    Unsafe: inside a lambda or comprehension (evaluated later or per item), in a `while` condition (evaluated
    repeatedly), in an `elif` condition, or a statement that shares its line with others.
    """
    current = node
    while current.parent is not None and current.parent.type not in STATEMENT_PARENTS:
        if current.type in _DEFERRED:
            return None
        parent = current.parent
        if parent.type in {"while_statement", "elif_clause"} and parent.child_by_field_name("condition") == current:
            return None
        current = parent
    if current.type in _DEFERRED:
        return None
    start = line_start(doc, current.start_byte)
    if doc.data[start:current.start_byte].strip():
        return None
    return current


def insert_before(doc: ParsedDocument, statement: Node, lines: list[str]) -> TextEdit:
    """Insert `lines` (indented like `statement`, relative indentation kept) on the lines above it."""
    indent = indent_of(doc, statement)
    nl = newline_of(doc)
    point = line_start(doc, statement.start_byte)
    return TextEdit(point, point, "".join(f"{indent}{line}{nl}" if line else nl for line in lines))


def unparenthesized(node: Node) -> Node:
    """The expression inside redundant parentheses (`(a + b)` -> `a + b`)."""
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        inner = node.named_children[0]
        if inner.type in {"yield", "generator_expression"}:
            break
        node = inner
    return node


def insert_after(doc: ParsedDocument, statement: Node, lines: list[str]) -> TextEdit:
    """Insert `lines` (indented like `statement`) after the line where it ends (after any trailing comment)."""
    indent = indent_of(doc, statement)
    nl = newline_of(doc)
    point = line_end(doc, statement.end_byte)
    return TextEdit(point, point, "".join(f"{nl}{indent}{line}" if line else nl for line in lines))
