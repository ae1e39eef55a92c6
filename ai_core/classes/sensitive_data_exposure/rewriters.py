"""Sensitive data exposure rewriters: TLS and host keys checked, secrets redacted in logs, no tracebacks to clients,
encrypted transports."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.classes._shared.cookies import cookie_flags
from ai_core.classes._shared.edit_helpers import calls_in_finding
from ai_core.classes._shared.tls import tls_verify
from ai_core.findings import TextEdit
from ai_core.fixes.calls import positional, removal_range
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.layout import guard_statement, insert_after, insert_before
from ai_core.fixes.names import single_assignment
from ai_core.fixes.strings import Expr, built_string, is_str_literal, string_prefix
from ai_core.parsing.tree import ancestors, enclosing, walk

SENSITIVE = re.compile(r"passw|pwd|secret|token|api_?key|apikey|credential|private_?key|ssn|card|cvv|otp|"
                       r"session_?id|auth", re.IGNORECASE)
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"})
REDACTED = "[REDACTED]"


@source_independent
def host_key_check(ctx: FixContext) -> Draft | None:
    """`set_missing_host_key_policy(AutoAddPolicy())` -> `RejectPolicy()` with the system's known hosts loaded."""
    for call in calls_in_finding(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or not ctx.text(fn).endswith("set_missing_host_key_policy"):
            continue
        args = positional(call)
        if not args or not re.search(r"AutoAddPolicy|WarningPolicy", ctx.text(args[0])):
            continue
        policy = re.sub(r"(AutoAddPolicy|WarningPolicy)", "RejectPolicy", ctx.text(args[0]))
        edits = [ctx.replace(args[0], policy)]
        receiver = fn.child_by_field_name("object")
        statement = guard_statement(ctx.doc, call)
        function = enclosing(call, "function_definition")
        scope_text = ctx.text(function) if function is not None else ctx.doc.text
        if receiver is not None and statement is not None and "load_system_host_keys" not in scope_text:
            edits.append(insert_before(ctx.doc, statement, [f"{ctx.text(receiver)}.load_system_host_keys()"]))
        return Draft("Reject unknown SSH host keys", edits)
    return None


def secure_transport(ctx: FixContext) -> Draft | None:
    """Credentials over FTP/SMTP in clear: FTP_TLS instead of FTP, STARTTLS before an SMTP login."""
    for call in calls_in_finding(ctx):
        fn = call.child_by_field_name("function")
        receiver = fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
        if fn is None or receiver is None or ctx.text(fn).rsplit(".", 1)[-1] != "login" or \
                receiver.type != "identifier":
            continue
        constructor = None
        value = single_assignment(ctx.doc, receiver)
        if value is not None and value.type == "call":
            constructor = value.child_by_field_name("function")
        kind = ctx.qualified(ctx.text(constructor)) if constructor is not None else ""
        statement = guard_statement(ctx.doc, call)
        if statement is None:
            continue
        name = ctx.text(receiver)
        if kind == "ftplib.FTP" and constructor is not None:
            text = ctx.text(constructor)
            return Draft("Use FTP over TLS (FTP_TLS) and encrypt the data channel",
                         [ctx.replace(constructor, text[:-len("FTP")] + "FTP_TLS"),
                          insert_after(ctx.doc, statement, [f"{name}.prot_p()"])])
        function = enclosing(call, "function_definition")
        scope_text = ctx.text(function) if function is not None else ctx.doc.text
        if kind == "smtplib.SMTP" and "starttls" not in scope_text:
            return Draft("Switch the SMTP connection to TLS before logging in",
                         [insert_before(ctx.doc, statement, [f"{name}.starttls()"])])
    return None


def https_url(ctx: FixContext) -> Draft | None:
    """A credential sent to an `http://` URL -> `https://`."""
    for node in walk(ctx.node) if ctx.node.type != "module" else []:
        if node.type == "string_content" or (node.type == "string" and is_str_literal(node)):
            text = ctx.text(node)
            index = text.find("http://")
            if index >= 0 and "http://localhost" not in text and "http://127.0.0.1" not in text:
                start = node.start_byte + len(text[:index].encode())
                return Draft("Use https://", [TextEdit(start, start + len("http://"), "https://")])
    return None


@source_independent
def redact_logged_secrets(ctx: FixContext) -> Draft | None:
    """Secrets in log calls replaced by "[REDACTED]" (f-string parts, %-arguments, concatenations); secret
    entries of a logged dict dropped."""
    for call in [c for c in ancestors(ctx.node) if c.type == "call"] + [n for n in walk(ctx.node) if n.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or ctx.text(fn).rsplit(".", 1)[-1] not in LOG_METHODS:
            continue
        args = positional(call)
        if not args:
            continue
        edits: list[TextEdit] = []
        message = args[0]
        built = built_string(ctx.doc, message)
        if built is not None and built.exprs:
            secret_exprs = [e for e in built.exprs if _is_secret(ctx, e)]
            if secret_exprs and message.type == "string" and "f" in string_prefix(message):
                for expr in secret_exprs:
                    interpolation = expr.node.parent
                    if interpolation is not None and interpolation.type == "interpolation":
                        edits.append(ctx.replace(interpolation, REDACTED))
                if len(secret_exprs) == len(built.exprs):  # nothing left to interpolate: drop the f prefix
                    start = message.child(0)
                    if start is not None:
                        prefix = ctx.text(start)
                        edits.append(ctx.replace(start, prefix.replace("f", "", 1).replace("F", "", 1)))
            else:
                edits.extend(ctx.replace(e.node, f'"{REDACTED}"') for e in secret_exprs)
        for arg in args[1:]:
            expr = Expr(ctx.text(arg), arg)
            if arg.type == "dictionary":
                edits.extend(_redacted_entries(ctx, arg))
            elif _is_secret(ctx, expr):
                edits.append(ctx.replace(arg, f'"{REDACTED}"'))
        if edits:
            return Draft("Redact secrets from the log message", edits)
    return None


def _redacted_entries(ctx: FixContext, mapping: Node) -> list[TextEdit]:
    """`{"user": user, "password": pw}` logged: the secret entries are dropped, the others still logged."""
    ranges: list[tuple[int, int]] = []
    for pair in mapping.named_children:
        key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        if pair.type != "pair" or key is None or value is None:
            continue
        if SENSITIVE.search(ctx.text(key)) or _is_secret(ctx, Expr(ctx.text(value), value)):
            ranges.append(removal_range(ctx.doc, pair))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [TextEdit(start, end, "") for start, end in merged]


def _is_secret(ctx: FixContext, expr: Expr) -> bool:
    if SENSITIVE.search(expr.source):
        return True
    tainted = ctx.is_tainted(expr.node)
    return bool(tainted) and ctx.finding.taint_path is not None and \
        any(SENSITIVE.search(step.label) for step in ctx.finding.taint_path.steps)


def generic_error(ctx: FixContext) -> Draft | None:
    """A traceback or exception text returned to the client -> a generic message; the details go to the log."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type != "call":
            continue
        fn = node.child_by_field_name("function")
        if fn is None:
            continue
        name = ctx.qualified(ctx.text(fn))
        is_trace = name.startswith("traceback.format")
        is_str_exc = name in {"str", "repr"} and len(positional(node)) == 1 and \
            _is_exception_name(ctx, positional(node)[0])
        if not (is_trace or is_str_exc):
            continue
        statement = guard_statement(ctx.doc, node)
        if statement is None:
            continue
        logger = ctx.ref("logging", "getLogger")
        edits = [ctx.replace(node, '"Internal server error"'),
                 insert_before(ctx.doc, statement, [f'{logger}(__name__).exception("request failed")'])]
        drops = [ctx.text(fn).split(".")[0]] if is_trace else []
        if is_str_exc:
            exc_name = ctx.text(positional(node)[0])
            handler = enclosing(node, "except_clause")
            if handler is not None and _only_use(ctx, handler, exc_name, node):
                alias = next((c for c in walk(handler) if c.type == "as_pattern"), None)
                if alias is not None:
                    target = alias.child_by_field_name("alias")
                    value = alias.named_children[0] if alias.named_children else None
                    if target is not None and value is not None:
                        edits.append(TextEdit(value.end_byte, alias.end_byte, ""))
        return Draft("Return a generic error; log the details", edits, drop_imports=drops)
    return None


def _is_exception_name(ctx: FixContext, node: Node) -> bool:
    if node.type != "identifier":
        return False
    handler = enclosing(node, "except_clause")
    return handler is not None and f"as {ctx.text(node)}" in ctx.text(handler).split(":", 1)[0]


def _only_use(ctx: FixContext, handler: Node, name: str, replaced: Node) -> bool:
    uses = [n for n in walk(handler) if n.type == "identifier" and ctx.text(n) == name and
            not (replaced.start_byte <= n.start_byte < replaced.end_byte)]
    return len(uses) == 1  # the `as name` binding itself


_MODERN_TLS = {"PROTOCOL_TLSv1": "PROTOCOL_TLS_CLIENT", "PROTOCOL_TLSv1_1": "PROTOCOL_TLS_CLIENT",
               "PROTOCOL_SSLv2": "PROTOCOL_TLS_CLIENT", "PROTOCOL_SSLv3": "PROTOCOL_TLS_CLIENT",
               "SSLv3": "TLSv1_2", "TLSv1": "TLSv1_2", "TLSv1_1": "TLSv1_2"}


def modern_tls(ctx: FixContext) -> Draft | None:
    """`ssl.PROTOCOL_TLSv1` -> `ssl.PROTOCOL_TLS_CLIENT`; `TLSVersion.TLSv1_1` -> `TLSVersion.TLSv1_2`."""
    for node in [ctx.node, *walk(ctx.node)]:
        if node.type != "attribute":
            continue
        attr = node.child_by_field_name("attribute")
        obj = node.child_by_field_name("object")
        name = ctx.text(attr) if attr is not None else ""
        holder = ctx.text(obj) if obj is not None else ""
        if attr is None or name not in _MODERN_TLS or (name.startswith("PROTOCOL_") == holder.endswith("TLSVersion")):
            continue
        return Draft(f"Use {_MODERN_TLS[name]} (TLS 1.2 or later)", [ctx.replace(attr, _MODERN_TLS[name])])
    return None


REWRITERS: tuple[Rewriter, ...] = (tls_verify, host_key_check, redact_logged_secrets, generic_error, secure_transport,
                                   https_url, cookie_flags, modern_tls)
"""Tried in order for a data exposure finding."""
