"""Client-controlled headers that code trusts: values a function reads from Host, X-Forwarded-*, X-Real-IP.

Any client sets these (a proxy only appends to them), so a security decision taken on one (a localhost-only
check, the Secure flag of the session cookie) is the client's decision. REMOTE_ADDR is the socket's peer and
is not one of them.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.wordlist import contains_any

SPOOFABLE = re.compile(r"(?i)^(?:HTTP_)?(?:HOST|X[-_]FORWARDED[-_](?:FOR|PROTO|HOST|SSL|SCHEME|SERVER)|X[-_]REAL[-_]IP|"
                       r"X[-_]CLIENT[-_]IP|X[-_]ORIGINAL[-_]HOST|FORWARDED|CLIENT[-_]IP|TRUE[-_]CLIENT[-_]IP)$")
"""Header names (as sent, or as WSGI/Django environ keys) whose value the client chooses."""
HEADER_READ = re.compile(r"\b(?:headers|environ|META)\s*(?:\.get\(\s*|\[\s*)[rbu]?['\"]([A-Za-z0-9_-]+)['\"]")
"""`request.headers.get("Host")`, `request.environ["HTTP_HOST"]`, `request.META.get("HTTP_X_FORWARDED_FOR")`."""
HINT = (b"host", b"forwarded", b"real-ip", b"real_ip", b"client-ip", b"client_ip")
"""Bytes a module's lower-cased text must contain for the header checks to look further."""
_ROUNDS = 3


def may_read_headers(ctx: AnalysisContext) -> bool:
    """Whether the module's text mentions a spoofable header at all (a plain `in` test per word)."""
    return contains_any(ctx.lowered, HINT)


def read_header(text: str) -> str:
    """The spoofable header a piece of source text reads, or ''."""
    for match in HEADER_READ.finditer(text):
        if SPOOFABLE.match(match.group(1)):
            return match.group(1)
    return ""


def header_names(ctx: AnalysisContext, function: Node) -> dict[str, str]:
    """Local names of a function holding a spoofable header's value (or a value computed from it) -> the header."""
    cache: dict[int, dict[str, str]] = ctx.__dict__.setdefault("_header_names", {})
    found = cache.get(function.start_byte)
    if found is not None:
        return found
    found = {}
    pairs = [(left, right) for assign in ctx.index.assignments
             if function.start_byte <= assign.start_byte < function.end_byte
             and (left := assign.child_by_field_name("left")) is not None
             and (right := assign.child_by_field_name("right")) is not None and left.type == "identifier"]
    for _ in range(_ROUNDS):
        before = len(found)
        for left, right in pairs:
            header = spoofed(ctx, right, found)
            if header:
                found.setdefault(ctx.index.text(left), header)
        if len(found) == before:
            break
    cache[function.start_byte] = found
    return found


def spoofed(ctx: AnalysisContext, node: Node, names: dict[str, str]) -> str:
    """The spoofable header an expression reads directly or through one of `names`, or ''."""
    header = read_header(ctx.index.text(node))
    if header:
        return header
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            name = ctx.index.text(current)
            if name in names:
                return names[name]
        stack.extend(current.named_children)
    return ""
