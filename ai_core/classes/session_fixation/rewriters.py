"""Session rewriters: session ids from the server, rotation at login, bounded token and session lifetimes."""

from __future__ import annotations

import re

from ai_core.classes._shared.cookies import cookie_flags
from ai_core.findings import TextEdit
from ai_core.fixes.calls import keyword, positional, set_keyword
from ai_core.fixes.context import Draft, FixContext, Rewriter
from ai_core.fixes.layout import guard_statement, insert_before
from ai_core.fixes.names import single_assignment
from ai_core.parsing.tree import ancestors, enclosing, enclosing_function, walk


def rotate_session(ctx: FixContext) -> Draft | None:
    """Start a fresh session at login: `session.clear()` (Flask) or `request.session.cycle_key()` (Django)."""
    function = enclosing_function(ctx.node) or (ctx.node if ctx.node.type == "function_definition" else None)
    if function is None:
        function = enclosing(ctx.node, "function_definition")
    if function is None:
        return None
    body = function.child_by_field_name("body")
    if body is None:
        return None
    for node in walk(body):
        text = ctx.text(node)
        if node.type == "call" and re.match(r"(?:\w+\.)?(?:login_user|login)\(", text):
            statement = guard_statement(ctx.doc, node)
            if statement is None:
                continue
            if "request" in text and ctx.uses_module("django"):
                continue  # django.contrib.auth.login already rotates the session key
            session = ctx.ref("flask", "session")
            return Draft("Start a new session at login", [insert_before(ctx.doc, statement, [f"{session}.clear()"])])
        if node.type == "assignment":
            left = node.child_by_field_name("left")
            if left is None or left.type != "subscript":
                continue
            target = ctx.text(left.child_by_field_name("value") or left)
            statement = guard_statement(ctx.doc, node)
            if statement is None:
                continue
            if target.endswith("request.session"):
                return Draft("Rotate the session key at login",
                             [insert_before(ctx.doc, statement, [f"{target}.cycle_key()"])])
            if target == "session" or ctx.qualified(target) == "flask.session":
                return Draft("Start a new session at login",
                             [insert_before(ctx.doc, statement, [f"{target}.clear()"])])
    return None


def session_id_from_server(ctx: FixContext) -> Draft | None:
    """A session cookie set from request data -> a fresh random id from `secrets`."""
    for call in [n for n in walk(ctx.node) if n.type == "call"] + [c for c in ancestors(ctx.node) if c.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or not ctx.text(fn).endswith("set_cookie"):
            continue
        args = positional(call)
        value = args[1] if len(args) > 1 else None
        kw = keyword(call, "value")
        if value is None and kw is not None:
            value = kw.child_by_field_name("value")
        if value is None:
            continue
        token = ctx.ref("secrets", "token_urlsafe")
        return Draft("Issue a new random session id", [ctx.replace(value, f"{token}(32)")])
    return None


def token_expiry(ctx: FixContext) -> Draft | None:
    """`jwt.encode({"sub": uid}, key)` -> the payload gets an `exp` claim 30 minutes ahead."""
    for call in [n for n in walk(ctx.node) if n.type == "call"] + [c for c in ancestors(ctx.node) if c.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or not ctx.qualified(ctx.text(fn)).endswith("jwt.encode"):
            continue
        args = positional(call)
        payload = args[0] if args else None
        if payload is not None and payload.type == "identifier":
            payload = single_assignment(ctx.doc, payload)
        if payload is None or payload.type != "dictionary" or re.search(r"""["']exp["']""", ctx.text(payload)):
            continue
        datetime = ctx.ref("datetime", "datetime")
        timedelta = ctx.ref("datetime", "timedelta")
        utc = ctx.ref("datetime", "UTC")
        expiry = f'"exp": {datetime}.now({utc}) + {timedelta}(minutes=30)'
        pairs = [c for c in payload.named_children if c.type != "comment"]
        close = payload.end_byte - 1
        if pairs:
            between = ctx.doc.data[pairs[-1].end_byte:close]
            if between.strip().startswith(b","):
                point = pairs[-1].end_byte + between.index(b",") + 1
                return Draft("Give the token an expiry (exp claim)", [TextEdit(point, point, f" {expiry},")])
            return Draft("Give the token an expiry (exp claim)",
                         [TextEdit(pairs[-1].end_byte, pairs[-1].end_byte, f", {expiry}")])
        return Draft("Give the token an expiry (exp claim)", [TextEdit(close, close, expiry)])
    return None


def session_lifetime(ctx: FixContext) -> Draft | None:
    """Sessions that never expire -> a 30-minute lifetime."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type != "assignment":
            continue
        left, value = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or value is None:
            continue
        name = ctx.text(left)
        if re.search(r"LIFETIME|COOKIE_AGE|MAX_AGE|EXPIRE|TTL", name, re.IGNORECASE):
            text = ctx.text(value)
            if "timedelta" in text or text in {"False", "None"}:
                return Draft("Expire sessions and tokens after 30 minutes",
                             [ctx.replace(value, f"{ctx.ref('datetime', 'timedelta')}(minutes=30)")])
            unit = name.upper()
            amount = "30" if "MINUTE" in unit else "1" if "HOUR" in unit or "DAY" in unit else "30 * 60"
            return Draft("Expire sessions and tokens after 30 minutes" if amount != "1" else
                         "Expire sessions and tokens sooner", [ctx.replace(value, amount)])
        if name.endswith("permanent") and ctx.text(value) == "True":
            return Draft("Do not make the session permanent", [ctx.replace(value, "False")])
    for call in [n for n in walk(ctx.node) if n.type == "call"]:
        if keyword(call, "max_age") is not None or keyword(call, "expires") is not None:
            edit = set_keyword(ctx.doc, call, "max_age", "30 * 60")
            if edit is not None:
                return Draft("Expire the cookie after 30 minutes", [edit])
    return None


REWRITERS: tuple[Rewriter, ...] = (session_id_from_server, rotate_session, token_expiry, session_lifetime,
                                   cookie_flags)
"""Tried in order for a session finding."""
