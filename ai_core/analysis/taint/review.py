"""The review tier: a dangerous sink fed by data that is not proven safe, though no untrusted source is proven.

A sink of an injection class whose argument is built (string formatting, concatenation, an f-string with a
placeholder, `.format`/`.join`) from something that is not a constant, a program to run read from the app's
settings, or operator input (argv, `input()`) in a script that is not a server, is reported as a *review*
finding: rule id `<sink id>.review`, one severity step lower (at most medium) and a lower prior confidence.
Proven flows keep the top tier.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.analysis.specs.spec_types import REVIEW_CLASSES, Sink
from ai_core.analysis.tiers import REVIEW_CONFIDENCE_FACTOR, review_severity
from ai_core.findings import REVIEW_SUFFIX

__all__ = [
    "CONFIDENCE_FACTOR",
    "REVIEW_CLASSES",
    "built_string",
    "identifiers",
    "is_server_module",
    "review_rule",
    "review_severity",
    "setting_read",
]
ANY_VALUE_SINKS = frozenset({"eval", "exec", "builtins.eval", "builtins.exec", "compile"})
"""Sinks where any non-constant value deserves review, whatever its shape."""
CONFIDENCE_FACTOR = REVIEW_CONFIDENCE_FACTOR
SERVER_LIBRARIES = frozenset({"flask", "django", "fastapi", "starlette", "aiohttp", "tornado", "bottle", "falcon",
                              "pyramid", "quart", "sanic", "http.server", "socketserver", "wsgiref", "werkzeug",
                              "connexion", "graphene", "strawberry", "ariadne", "litestar"})
"""Imports that make a module part of a server (its argv/input are then not the operator's own)."""
_BUILDERS = frozenset({"format", "join", "format_map"})
SQL_BUILDING = re.compile(
    rb"(?i)[\"'](?:(?<=\bf[\"'])(?:select|insert|update|delete|replace|with)\s[^\"'\n]*\{"
    rb"|(?:select|insert|update|delete|replace|create|drop|alter|with)\s[^\"'\n]*[\"']\s*(?:%|\+|\.format))")
"""SQL text built with %, + or .format, or an f-string with a placeholder: a function doing it may pass the
string to a project helper that runs it (analysed as a root so its review finding is seen). A match starts at the
quote, so the regex engine only tries positions holding one (a prefilter: which function it is in is what counts)."""


def review_rule(sink: Sink) -> str:
    """The rule id of a sink's review findings."""
    return sink.id + REVIEW_SUFFIX


def is_server_module(imports: dict[str, str]) -> bool:
    """True when a module imports a web framework or server library."""
    for target in imports.values():
        parts = target.lstrip(".").split(".")
        if parts[0] in SERVER_LIBRARIES or ".".join(parts[:2]) in SERVER_LIBRARIES:
            return True
    return False


def built_string(node: Node, defs: dict[str, Node], data: bytes, depth: int = 0) -> bool:
    """True when an expression builds a string from parts (%, +, an f-string placeholder, .format/.join);
    a local name counts when the expression last assigned to it does."""
    kind = node.type
    if kind == "parenthesized_expression" and node.named_child_count:
        return built_string(node.named_children[0], defs, data, depth)
    if kind == "binary_operator":
        operator = node.child_by_field_name("operator")
        return operator is not None and operator.type in {"%", "+"}
    if kind == "string":
        return any(child.type == "interpolation" for child in node.named_children)
    if kind == "concatenated_string":
        return any(built_string(child, defs, data, depth) for child in node.named_children)
    if kind == "call":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "attribute":
            attr = fn.child_by_field_name("attribute")
            obj = fn.child_by_field_name("object")
            if obj is not None and data[obj.start_byte:obj.end_byte].endswith(b"path"):
                return False  # os.path.join: a path, not a string built from text
            return attr is not None and data[attr.start_byte:attr.end_byte].decode() in _BUILDERS
        return False
    if kind == "identifier" and depth < 3:
        assigned = defs.get(data[node.start_byte:node.end_byte].decode("utf-8", errors="replace"))
        return assigned is not None and built_string(assigned, defs, data, depth + 1)
    return False


SETTING_READ = re.compile(rb"^[\w.]*\b(?:conf|config|settings|preferences|options)\b(?:\.get(?:_\w+)?\s*\(|\s*\[)"
                          rb"|^[\w.]*\bget_(?:config|setting|option|preference)(?:_value)?\s*\(")
"""A value read from the application's settings (`self.pyload.config.get("reconnect", "script")`, `conf["x"]`):
settings an app stores are often changed through the app itself, by users who should not pick programs."""


def setting_read(node: Node, defs: dict[str, Node], data: bytes, depth: int = 0) -> bool:
    """True when an expression (or the expression last assigned to a local name) reads an application setting;
    environment variables are the operator's and do not count."""
    if node.type == "identifier" and depth < 3:
        assigned = defs.get(data[node.start_byte:node.end_byte].decode("utf-8", errors="replace"))
        return assigned is not None and setting_read(assigned, defs, data, depth + 1)
    if node.type in {"list", "tuple"} and node.named_child_count:
        return setting_read(node.named_children[0], defs, data, depth)  # the program of an argument list
    return node.type in {"call", "subscript"} and bool(SETTING_READ.match(data[node.start_byte:node.end_byte]))


def identifiers(node: Node, data: bytes) -> set[str]:
    """The plain names an expression mentions (not attribute names: `a.b` mentions `a`)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            parent = current.parent
            if parent is None or parent.type != "attribute" or parent.child_by_field_name("object") == current:
                found.add(data[current.start_byte:current.end_byte].decode("utf-8", errors="replace"))
            continue
        stack.extend(current.named_children)
    return found


def literal_prefix(node: Node, data: bytes) -> str:
    """The literal text a built string starts with ('https://api.example.com/' + x -> 'https://api.example.com/')."""
    kind = node.type
    if kind == "parenthesized_expression" and node.named_child_count:
        return literal_prefix(node.named_children[0], data)
    if kind == "binary_operator":
        left = node.child_by_field_name("left")
        return literal_prefix(left, data) if left is not None else ""
    if kind == "call":
        fn = node.child_by_field_name("function")
        obj = fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
        return literal_prefix(obj, data) if obj is not None and obj.type == "string" else ""
    if kind == "string":
        text = ""
        for child in node.named_children:
            if child.type == "interpolation":
                break
            if child.type == "string_content":
                text += data[child.start_byte:child.end_byte].decode("utf-8", errors="replace")
        return text
    return ""
