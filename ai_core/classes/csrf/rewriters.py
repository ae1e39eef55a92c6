"""CSRF: drop the exemption, switch the setting back on, put CsrfViewMiddleware into MIDDLEWARE."""

from __future__ import annotations

import re

from ai_core.classes._shared.edit_helpers import assignments_near, target_name
from ai_core.classes.security_misconfiguration.rewriters import secure_flags
from ai_core.findings import TextEdit
from ai_core.fixes.context import Draft, FixContext, Rewriter
from ai_core.fixes.layout import indent_of, line_end, line_start, newline_of
from ai_core.fixes.strings import literal_value
from ai_core.parsing.tree import enclosing

CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
_AFTER = ("django.contrib.sessions.middleware.SessionMiddleware", "django.middleware.common.CommonMiddleware")


def remove_exemption(ctx: FixContext) -> Draft | None:
    """`@csrf_exempt` above a state-changing view -> removed (the view checks the CSRF token again)."""
    decorator = ctx.node if ctx.node.type == "decorator" else enclosing(ctx.node, "decorator")
    if decorator is None or "exempt" not in ctx.text(decorator):
        return None
    start = line_start(ctx.doc, decorator.start_byte)
    end = line_end(ctx.doc, decorator.end_byte)
    if ctx.doc.data[start:decorator.start_byte].strip() or ctx.doc.data[decorator.end_byte:end].strip():
        return None
    newline = len(newline_of(ctx.doc).encode())
    names = sorted(set(re.findall(r"[A-Za-z_]\w*", ctx.text(decorator))))
    return Draft("Remove the CSRF exemption", [TextEdit(start, end + newline, "")], drop_imports=names,
                 note="Clients must now send the CSRF token ({% csrf_token %} in forms, X-CSRFToken in scripts).")


def add_middleware(ctx: FixContext) -> Draft | None:
    """`MIDDLEWARE = [...]` without the CSRF middleware -> the middleware added after the session middleware."""
    for node in assignments_near(ctx):
        value = node.child_by_field_name("right")
        if target_name(ctx, node) not in {"MIDDLEWARE", "MIDDLEWARE_CLASSES"} or value is None or \
                value.type not in {"list", "tuple"} or not value.named_child_count:
            continue
        items = [item for item in value.named_children if item.type == "string"]
        if not items:
            continue
        anchor = next((item for name in _AFTER for item in items if literal_value(ctx.doc, item) == name),
                      items[-1])
        quote = ctx.text(anchor)[-1]
        entry = f"{quote}{CSRF_MIDDLEWARE}{quote}"
        multiline = any(item.start_point[0] != value.start_point[0] for item in items)
        tail = ctx.doc.data[anchor.end_byte:value.end_byte]
        has_comma = tail.lstrip().startswith(b",")
        point = anchor.end_byte + (tail.index(b",") + 1 if has_comma else 0)
        if multiline:
            text = f"{'' if has_comma else ','}{newline_of(ctx.doc)}{indent_of(ctx.doc, anchor)}{entry}" + \
                ("," if has_comma else "")
        else:
            text = f"{'' if has_comma else ','} {entry}" + ("," if has_comma else "")
        return Draft("Add CsrfViewMiddleware to MIDDLEWARE", [TextEdit(point, point, text)])
    return None


REWRITERS: tuple[Rewriter, ...] = (remove_exemption, secure_flags, add_middleware)
"""Tried in order for a CSRF finding."""
