"""Where Python code renders a template by name, and which variables it fills with request data.

Recognised: Flask `render_template("t.html", var=...)`, Django `render(request, "t.html", {"var": ...})`,
`render_to_string`/`render_to_response`/`TemplateResponse`, Starlette/FastAPI `templates.TemplateResponse("t.html",
{"var": ...})`, aiohttp_jinja2 `render_template("t.html", request, {"var": ...})`. Whether a value is request data
is decided within the view, syntactically: it reads a request attribute (args, form, GET, POST, json, cookies,
headers, match_info, ...), is a name assigned from such a value, or is a route variable (`<name>` in the route).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import string_value

RENDER_FUNCTIONS = frozenset({"render_template", "render", "render_to_string", "render_to_response",
                              "TemplateResponse", "render_async"})
TRANSLATE_FUNCTIONS = frozenset({"_", "gettext", "gettext_lazy", "ugettext", "ugettext_lazy", "pgettext",
                                 "pgettext_lazy", "lazy_gettext", "_l"})
"""Translation calls: their result is the literal they are given, in the visitor's language."""
TEMPLATE_NAME = re.compile(r"\.(?:html?|jinja2?|j2|txt|xml)$")
REQUEST_READ = re.compile(
    r"\b(?:request|req|self\.request)\.(?:args|form|values|GET|POST|json|get_json|cookies|COOKIES|headers|"
    r"META|data|get_data|query_params|path_params|match_info|files|FILES|query|rel_url|post|body)\b|"
    r"\bself\.get_argument\(|\bself\.get_query_argument\(|\bself\.get_body_argument\(")
_ASSIGN_MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class RenderedVariable:
    """One variable a render call fills: the template it names, the variable, and whether it is request data."""

    template: str
    variable: str
    call: Node
    value: Node
    from_request: bool
    source: Node | None = None
    """Where the request data was read (the assignment in the view), when it was not read in the call itself."""
    constant: bool = False
    """The value is text the code itself wrote: a literal, a translated literal, or a name only ever assigned
    those in the view."""


def render_calls(doc: ParsedDocument, names: set[str]) -> Iterator[RenderedVariable]:
    """The variables passed by every call in `doc` that renders one of the template `names` (by literal name)."""
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type != "call":
            continue
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if fn is None or args is None:
            continue
        callee = doc.data[fn.start_byte:fn.end_byte].decode("utf-8", errors="replace").rsplit(".", 1)[-1]
        if callee not in RENDER_FUNCTIONS:
            continue
        template = ""
        context: list[tuple[str, Node]] = []
        for arg in args.named_children:
            if arg.type == "keyword_argument":
                key = arg.child_by_field_name("name")
                value = arg.child_by_field_name("value")
                if key is None or value is None:
                    continue
                key_text = doc.data[key.start_byte:key.end_byte].decode()
                if key_text in {"context", "context_instance"} and value.type == "dictionary":
                    context.extend(_pairs(value))
                elif key_text in {"template_name", "name"} and not template:
                    template = string_value(value) or ""
                else:
                    context.append((key_text, value))
            elif not template and arg.type == "string":
                literal = string_value(arg) or ""
                if TEMPLATE_NAME.search(literal):
                    template = literal
            elif template and arg.type == "dictionary":
                context.extend(_pairs(arg))
            elif template and arg.type == "call" and _callee(doc, arg) == "dict":
                context.extend(_keywords(doc, arg))
        if not template or not any(name == template or name.endswith("/" + template) or
                                   template.endswith("/" + name) for name in names):
            continue
        function = _enclosing_function(node)
        tainted = _request_names(doc, function) if function is not None else {}
        assigned = _assignments(function) if function is not None else {}
        for variable, value in context:
            source = next((tainted[name] for name in _identifiers(value) if tainted.get(name) is not None), None)
            yield RenderedVariable(template, variable, node, value, _from_request(doc, value, tainted), source,
                                   _constant(doc, value, assigned))


def _callee(doc: ParsedDocument, call: Node) -> str:
    fn = call.child_by_field_name("function")
    return doc.data[fn.start_byte:fn.end_byte].decode("utf-8", errors="replace") if fn is not None else ""


def _keywords(doc: ParsedDocument, call: Node) -> list[tuple[str, Node]]:
    """`dict(base, key=value, ...)`: the keyword pairs."""
    args = call.child_by_field_name("arguments")
    pairs: list[tuple[str, Node]] = []
    for arg in args.named_children if args is not None else ():
        key, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
        if arg.type == "keyword_argument" and key is not None and value is not None:
            pairs.append((doc.data[key.start_byte:key.end_byte].decode(), value))
    return pairs


def _assignments(function: Node) -> dict[str, list[Node | None]]:
    """Name -> the values assigned to it in a function (None for a target that is not a plain name, a loop
    variable or a parameter: not known)."""
    found: dict[str, list[Node | None]] = {}
    params = function.child_by_field_name("parameters")
    for name in _identifiers(params) if params is not None else ():
        found.setdefault(name, []).append(None)
    stack = [function]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type in {"assignment", "augmented_assignment", "for_statement", "named_expression"}:
            left = node.child_by_field_name("left") or node.child_by_field_name("name")
            right = node.child_by_field_name("right") or node.child_by_field_name("value")
            plain = left is not None and left.type == "identifier" and node.type == "assignment"
            for name in _identifiers(left) if left is not None else ():
                found.setdefault(name, []).append(right if plain else None)
    return found


def _constant(doc: ParsedDocument, value: Node, assigned: dict[str, list[Node | None]], depth: int = 0) -> bool:
    """Text the code wrote itself: a literal without placeholders, gettext of literals, or a name assigned only
    such values."""
    if value.type == "string":
        return not any(child.type == "interpolation" for child in value.named_children)
    if value.type == "concatenated_string":
        return all(_constant(doc, child, assigned, depth) for child in value.named_children)
    if value.type == "parenthesized_expression" and value.named_child_count:
        return _constant(doc, value.named_children[0], assigned, depth)
    if value.type == "call" and _callee(doc, value).rsplit(".", 1)[-1] in TRANSLATE_FUNCTIONS:
        args = value.child_by_field_name("arguments")
        return args is not None and args.named_child_count > 0 and all(
            _constant(doc, arg, assigned, depth) for arg in args.named_children)
    if value.type == "identifier" and depth < 2:
        values = assigned.get(doc.data[value.start_byte:value.end_byte].decode("utf-8", errors="replace"), [])
        return bool(values) and all(v is not None and _constant(doc, v, assigned, depth + 1) for v in values)
    return False


def _pairs(dictionary: Node) -> list[tuple[str, Node]]:
    pairs: list[tuple[str, Node]] = []
    for pair in dictionary.named_children:
        if pair.type == "pair":
            key = string_value(pair.child_by_field_name("key"))
            value = pair.child_by_field_name("value")
            if key and value is not None:
                pairs.append((key, value))
    return pairs


def _enclosing_function(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type != "function_definition":
        parent = parent.parent
    return parent


def _identifiers(node: Node) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier" and current.text is not None:
            yield current.text.decode("utf-8", errors="replace")
        stack.extend(current.named_children)


def _from_request(doc: ParsedDocument, value: Node, tainted: dict[str, Node | None]) -> bool:
    text = doc.data[value.start_byte:value.end_byte].decode("utf-8", errors="replace")
    return bool(REQUEST_READ.search(text)) or any(name in tainted for name in _identifiers(value))


def _request_names(doc: ParsedDocument, function: Node) -> dict[str, Node | None]:
    """Names in a view that hold request data (route variables, names assigned from request reads), each with the
    assignment that read it (None for route variables)."""
    tainted: dict[str, Node | None] = {}
    parent = function.parent
    if parent is not None and parent.type == "decorated_definition":
        decorators = doc.data[parent.start_byte:function.start_byte].decode("utf-8", errors="replace")
        tainted.update(dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>", decorators)))
    assignments: list[tuple[Node, Node]] = []
    stack = [function]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type in {"assignment", "augmented_assignment"}:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None:
                assignments.append((left, right))
    for _ in range(_ASSIGN_MAX_ROUNDS):
        before = len(tainted)
        for left, right in assignments:
            if _from_request(doc, right, tainted):
                origin = right if REQUEST_READ.search(doc.data[right.start_byte:right.end_byte].decode(
                    "utf-8", errors="replace")) else next((tainted[n] for n in _identifiers(right) if tainted.get(n)
                                                          is not None), right)
                for name in _identifiers(left):
                    tainted.setdefault(name, origin)
        if len(tainted) == before:
            break
    return tainted
