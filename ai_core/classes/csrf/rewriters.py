"""CSRF: drop the exemption, switch the setting back on, put CsrfViewMiddleware into MIDDLEWARE, routes that change
data restricted to POST."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import assignments_near, target_name
from ai_core.classes.csrf.checks import METHOD_CHECKS
from ai_core.classes.security_misconfiguration.rewriters import secure_flags
from ai_core.findings import TextEdit
from ai_core.fixes.calls import append_argument, keyword, removal_range
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.layout import indent_of, insert_before, line_end, line_start, newline_of
from ai_core.fixes.strings import literal_value
from ai_core.parsing.tree import enclosing, enclosing_function

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


_ROUTE_CALL = re.compile(r"^@\s*[\w.]+\.(?:route|get)\(")
POST_ONLY_NOTE = ("{name}() no longer answers GET: links and redirects to it must become forms that POST (with the "
                  "CSRF token where the app checks one); scripts that call it must send POST")


def _flask_post_only(ctx: FixContext, decorator: Node) -> list[TextEdit] | None:
    """`@app.route(..., methods=["DELETE", "GET"])` -> `methods=["DELETE", "POST"]`; no methods -> `["POST"]`;
    `@app.get(...)` -> `@app.post(...)`."""
    call = decorator.named_children[0] if decorator.named_children else None
    fn = call.child_by_field_name("function") if call is not None and call.type == "call" else None
    if call is None or fn is None or fn.type != "attribute":
        return None
    attr = fn.child_by_field_name("attribute")
    if attr is not None and ctx.text(attr) == "get":
        return [ctx.replace(attr, "post")]
    methods = keyword(call, "methods")
    if methods is None:
        edit = append_argument(ctx.doc, call, 'methods=["POST"]')
        return [edit] if edit is not None else None
    value = methods.child_by_field_name("value")
    if value is None or value.type not in {"list", "tuple"}:
        return None
    items = value.named_children
    if any(item.type != "string" or literal_value(ctx.doc, item) is None for item in items):
        return None
    names = [str(literal_value(ctx.doc, item)).upper() for item in items]
    gets = [item for item, name in zip(items, names, strict=True) if name in {"GET", "HEAD"}]
    if not gets:
        return None
    if "POST" in names:
        edits = []
        for item in gets:
            start, end = removal_range(ctx.doc, item)
            edits.append(TextEdit(start, end, ""))
        return edits if len(gets) < len(items) else None
    quote = ctx.text(gets[0])[-1]
    edits = [ctx.replace(gets[0], f"{quote}POST{quote}")]
    for item in gets[1:]:
        start, end = removal_range(ctx.doc, item)
        edits.append(TextEdit(start, end, ""))
    return edits


@source_independent
def post_only(ctx: FixContext) -> Draft | None:
    """A route that changes data and answers GET -> POST only (Flask `methods`, Django `@require_POST`). Right
    whatever the data's source: a cross-site link or image can no longer trigger it; the note says what to change."""
    function = ctx.node if ctx.node.type == "function_definition" else enclosing_function(ctx.node)
    if function is None:
        return None
    name_node = function.child_by_field_name("name")
    name = ctx.text(name_node) if name_node is not None else "the view"
    holder = function.parent if function.parent is not None and function.parent.type == "decorated_definition" \
        else None
    decorators = [c for c in holder.named_children if c.type == "decorator"] if holder is not None else []
    routes = [d for d in decorators if _ROUTE_CALL.search(ctx.text(d))]
    body = function.child_by_field_name("body")
    if METHOD_CHECKS.search("".join(ctx.text(d) for d in decorators) + (ctx.text(body) if body else "")):
        return None  # the view already decides on the method
    note = POST_ONLY_NOTE.format(name=name)
    if routes:
        edits = _flask_post_only(ctx, routes[0]) if len(routes) == 1 else None
        if not edits:
            return None
        return Draft(f"Accept only POST in {name}(): the route no longer answers GET (links must become forms "
                     "that POST)", edits, note=note)
    params = function.child_by_field_name("parameters")
    first = params.named_children[0] if params is not None and params.named_child_count else None
    if first is None or ctx.text(first) != "request" or \
            not any(t.startswith("django") for t in ctx.imports.names.values()):
        return None
    require_post = ctx.ref("django.views.decorators.http", "require_POST")
    return Draft(f"Accept only POST in {name}() (@require_POST): the view no longer answers GET (links must "
                 "become forms that POST)", [insert_before(ctx.doc, function, [f"@{require_post}"])], note=note)


REWRITERS: tuple[Rewriter, ...] = (remove_exemption, secure_flags, add_middleware, post_only)
"""Tried in order for a CSRF finding."""
