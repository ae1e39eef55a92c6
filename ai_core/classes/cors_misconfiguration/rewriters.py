"""CORS rewriters: explicit allowed origins instead of a wildcard or a reflected Origin."""

from __future__ import annotations

import re

from ai_core.classes._shared.edit_helpers import assignments_near, calls_in_finding, environ_get, target_name
from ai_core.findings import TextEdit
from ai_core.fixes.calls import append_argument, keyword
from ai_core.fixes.context import Draft, FixContext, Rewriter
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import guard_statement, indent_of, newline_of
from ai_core.fixes.strings import literal_value
from ai_core.parsing.tree import walk

_CORS_ENV = "CORS_ALLOWED_ORIGINS"


def _origins_expr(ctx: FixContext) -> str:
    return f'{environ_get(ctx, _CORS_ENV, "")}.split(",")'


def cors_origins(ctx: FixContext) -> Draft | None:
    """Wildcard CORS origins -> an explicit list read from CORS_ALLOWED_ORIGINS."""
    for call in calls_in_finding(ctx):
        for name in ("origins", "allow_origins", "origin"):
            kw = keyword(call, name)
            value = kw.child_by_field_name("value") if kw is not None else None
            if value is not None and "*" in ctx.text(value):
                return Draft("List the allowed origins explicitly", [ctx.replace(value, _origins_expr(ctx))],
                             env_vars=[_CORS_ENV],
                             note=f"Set {_CORS_ENV} to the comma-separated origins (https://app.example.com).")
        regex = keyword(call, "allow_origin_regex")
        if regex is not None and keyword(call, "allow_origins") is None:
            return Draft("List the allowed origins explicitly",
                         [ctx.replace(regex, f"allow_origins={_origins_expr(ctx)}")], env_vars=[_CORS_ENV])
        for pair in walk(call):
            if pair.type == "pair":
                key = pair.child_by_field_name("key")
                value = pair.child_by_field_name("value")
                if key is not None and value is not None and literal_value(ctx.doc, key) == "origins" and \
                        "*" in ctx.text(value):
                    return Draft("List the allowed origins explicitly", [ctx.replace(value, _origins_expr(ctx))],
                                 env_vars=[_CORS_ENV])
        fn = call.child_by_field_name("function")
        if fn is not None and ctx.qualified(ctx.text(fn)) in {"flask_cors.CORS", "flask_cors.cross_origin"} and \
                keyword(call, "origins") is None and keyword(call, "resources") is None:
            extra = append_argument(ctx.doc, call, f"origins={_origins_expr(ctx)}")
            if extra is not None:
                return Draft("List the allowed origins explicitly", [extra], env_vars=[_CORS_ENV])
    for node in assignments_near(ctx):
        name = target_name(ctx, node)
        value = node.child_by_field_name("right")
        if name in {"CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST"} and value is not None and \
                re.search(r"\.\*|\.\+|\*", ctx.text(value)):
            return Draft("Drop the wildcard origin pattern", [ctx.replace(value, "[]")])
        if name in {"CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"} and value is not None and \
                ctx.text(value) == "True":
            edits = [ctx.replace(value, "False")]
            if "CORS_ALLOWED_ORIGINS" not in ctx.doc.text:
                statement = node.parent if node.parent is not None else node
                nl, indent = newline_of(ctx.doc), indent_of(ctx.doc, statement)
                edits = [TextEdit(value.start_byte, statement.end_byte,
                                  f"False{nl}{indent}CORS_ALLOWED_ORIGINS = {_origins_expr(ctx)}")]
            return Draft("Allow only the origins listed in CORS_ALLOWED_ORIGINS", edits, env_vars=[_CORS_ENV])
    return None


def reflected_origin(ctx: FixContext) -> Draft | None:
    """`resp.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]` -> only for allowed origins."""
    for node in assignments_near(ctx):
        left = node.child_by_field_name("left")
        value = node.child_by_field_name("right")
        if left is None or value is None or "access-control-allow-origin" not in ctx.text(left).lower():
            continue
        statement = guard_statement(ctx.doc, node)
        if statement is None or "\n" in ctx.text(statement):
            continue
        environ = ctx.ref("os", "environ")
        helper = Helper("ALLOWED_ORIGINS",
                        f'ALLOWED_ORIGINS = frozenset(filter(None, {environ}.get("{_CORS_ENV}", "").split(",")))\n'
                        '"""Origins allowed to read responses with credentials (comma-separated, from the '
                        'environment)."""')
        indent = indent_of(ctx.doc, statement)
        nl = newline_of(ctx.doc)
        unit = "    " if not indent.startswith("\t") else "\t"
        if value.type == "identifier":
            origin = ctx.text(value)
            text = f"if {origin} in ALLOWED_ORIGINS:{nl}{indent}{unit}{ctx.text(statement)}"
        else:
            origin = "origin"
            text = (f"origin = {ctx.text(value)}{nl}{indent}if origin in ALLOWED_ORIGINS:{nl}{indent}{unit}"
                    f"{ctx.text(left)} = origin")
        return Draft("Send Access-Control-Allow-Origin only for allowed origins", [ctx.replace(statement, text)],
                     helpers=[helper], env_vars=[_CORS_ENV])
    return None


REWRITERS: tuple[Rewriter, ...] = (cors_origins, reflected_origin)
"""Tried in order for a CORS finding."""
