"""Configuration values: secrets from `os.environ` (named after the variable), DEBUG from the environment,
secure cookie flags, explicit CORS origins, TLS verification on."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.findings import TextEdit
from ai_core.fixes.calls import append_argument, keyword, positional
from ai_core.fixes.context import Draft, FixContext
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import guard_statement, indent_of, insert_after, insert_before, newline_of
from ai_core.fixes.names import env_name, single_assignment
from ai_core.fixes.strings import is_str_literal, literal_value, string_quote
from ai_core.parsing.tree import ancestors, enclosing, walk

_TOKEN_PREFIX = re.compile(r"^(Bearer|Token|Basic|token|bearer)\s+")
_DEBUG_NAMES = frozenset({"DEBUG", "debug", "TEMPLATE_DEBUG", "FLASK_DEBUG", "DEBUG_PROPAGATE_EXCEPTIONS",
                          "use_debugger", "use_reloader"})
_TRUE_FLAGS = {
    "SESSION_COOKIE_SECURE": "True", "SESSION_COOKIE_HTTPONLY": "True", "CSRF_COOKIE_SECURE": "True",
    "CSRF_COOKIE_HTTPONLY": "True", "REMEMBER_COOKIE_SECURE": "True", "REMEMBER_COOKIE_HTTPONLY": "True",
    "SECURE_SSL_REDIRECT": "True", "SESSION_EXPIRE_AT_BROWSER_CLOSE": "True", "WTF_CSRF_ENABLED": "True",
    "CSRF_ENABLED": "True", "SECURE_CONTENT_TYPE_NOSNIFF": "True", "SECURE_BROWSER_XSS_FILTER": "True",
    "SESSION_COOKIE_SAMESITE": '"Lax"', "CSRF_COOKIE_SAMESITE": '"Lax"', "check_hostname": "True",
}
_COOKIE_FLAGS = (("secure", "True"), ("httponly", "True"), ("samesite", '"Lax"'))
_CORS_ENV = "CORS_ALLOWED_ORIGINS"
_ALLOWED_HOSTS_ENV = "ALLOWED_HOSTS"


def _quote_like(node: Node | None) -> str:
    return string_quote(node)[0] if node is not None and node.type == "string" else '"'


def _environ_item(ctx: FixContext, name: str, quote: str = '"') -> str:
    return f"{ctx.ref('os', 'environ')}[{quote}{name}{quote}]"


def _environ_get(ctx: FixContext, name: str, default: str | None = None, quote: str = '"') -> str:
    tail = f", {quote}{default}{quote}" if default is not None else ""
    return f"{ctx.ref('os', 'environ')}.get({quote}{name}{quote}{tail})"


def _target_name(ctx: FixContext, holder: Node) -> str:
    """The name a value is bound to: assignment target, keyword, dict key, parameter, compared name."""
    if holder.type == "assignment":
        left = holder.child_by_field_name("left")
        if left is None:
            return ""
        if left.type == "identifier":
            return ctx.text(left)
        if left.type == "attribute":
            attr = left.child_by_field_name("attribute")
            return ctx.text(attr) if attr is not None else ""
        if left.type == "subscript":
            key = left.child_by_field_name("subscript")
            return (literal_value(ctx.doc, key) or "") if key is not None else ""
    if holder.type == "keyword_argument":
        name = holder.child_by_field_name("name")
        return ctx.text(name) if name is not None else ""
    if holder.type == "pair":
        key = holder.child_by_field_name("key")
        return (literal_value(ctx.doc, key) or "") if key is not None else ""
    if holder.type == "default_parameter":
        name = holder.child_by_field_name("name")
        return ctx.text(name) if name is not None else ""
    if holder.type == "comparison_operator":
        for operand in holder.named_children:
            if operand.type in {"identifier", "attribute"}:
                return ctx.text(operand).rsplit(".", 1)[-1]
    return ""


_GENERIC_NAMES = frozenset({"PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "KEY", "API_KEY", "USER", "AUTH"})
_HOLDERS = ("assignment", "keyword_argument", "pair", "default_parameter", "comparison_operator")


def _call_secret_name(ctx: FixContext, literal: Node) -> str:
    """An environment name for a secret passed positionally: `jwt.encode(x, "k")` -> JWT_SECRET_KEY."""
    call = enclosing(literal, "call")
    if call is None or literal.parent is None or literal.parent.type != "argument_list":
        return ""
    fn = call.child_by_field_name("function")
    callee = ctx.qualified(ctx.text(fn)) if fn is not None else ""
    if callee.startswith("jwt.") or ".jwt." in callee:
        return "JWT_SECRET_KEY"
    head = callee.split(".")[0] if "." in callee else callee
    return env_name(f"{head}_secret") if head else ""


def _secret_literals(ctx: FixContext) -> list[Node]:
    """Plain string literals at or inside the finding, innermost node first."""
    found = [n for n in walk(ctx.node) if n.type == "string" and is_str_literal(n)]
    if not found:
        for node in ancestors(ctx.node):
            if node.type == "string" and is_str_literal(node):
                found.append(node)
                break
    return found


def secret_from_environment(ctx: FixContext) -> Draft | None:
    """`SECRET_KEY = "…"` -> `SECRET_KEY = os.environ["SECRET_KEY"]` (keyword, dict key, parameter alike)."""
    for literal in _secret_literals(ctx):
        holder = enclosing(literal, *_HOLDERS)
        positional_name = _call_secret_name(ctx, literal)
        if positional_name and (holder is None or holder.start_byte < literal.parent.start_byte):  # type: ignore[union-attr]
            quote = _quote_like(literal)
            return Draft(f"Read {positional_name} from the environment",
                         [ctx.replace(literal, _environ_item(ctx, positional_name, quote))],
                         env_vars=[positional_name],
                         note=f"Set {positional_name} in the environment (and rotate the old value).")
        if holder is None:
            continue
        parent_call = enclosing(literal, "call")
        if parent_call is not None and holder.start_byte < parent_call.start_byte:
            fn = parent_call.child_by_field_name("function")
            if fn is not None and ctx.qualified(ctx.text(fn)) in {"os.environ.get", "os.getenv"}:
                args = positional(parent_call)
                if len(args) == 2 and args[1].start_byte == literal.start_byte:
                    key = literal_value(ctx.doc, args[0])
                    if key:
                        return Draft(f"Require {key} from the environment (no hardcoded default)",
                                     [ctx.replace(parent_call, _environ_item(ctx, key, _quote_like(args[0])))],
                                     env_vars=[key])
            continue
        name = env_name(_target_name(ctx, holder))
        if holder.type == "pair" and name in _GENERIC_NAMES:
            outer = enclosing(holder, "assignment")
            outer_name = env_name(_target_name(ctx, outer)) if outer is not None else ""
            if outer_name and outer_name != "SECRET":
                name = f"{outer_name}_{name}"
        if not name or (name == "SECRET" and not _target_name(ctx, holder)):
            continue
        value = literal_value(ctx.doc, literal) or ""
        quote = _quote_like(literal)
        replacement = _environ_item(ctx, name, quote)
        prefix = _TOKEN_PREFIX.match(value)
        if prefix:
            replacement = f"{quote}{prefix.group(0)}{quote} + {replacement}"
        return Draft(f"Read {name} from the environment", [ctx.replace(literal, replacement)], env_vars=[name],
                     note=f"Set {name} in the environment (and rotate the old value: it is in the history).")
    return None


def _assignments_near(ctx: FixContext) -> list[Node]:
    nodes = [n for n in walk(ctx.node) if n.type == "assignment"]
    holder = enclosing(ctx.node, "assignment")
    if holder is not None:
        nodes.append(holder)
    return nodes


def debug_from_environment(ctx: FixContext) -> Draft | None:
    """`DEBUG = True` / `app.run(debug=True)` -> read from the environment (off unless DEBUG=1)."""
    for node in _assignments_near(ctx):
        name = _target_name(ctx, node)
        value = node.child_by_field_name("right")
        if name in _DEBUG_NAMES and value is not None and ctx.text(value) in {"True", "1"}:
            env = "DEBUG" if name.isupper() else "FLASK_DEBUG"
            return Draft(f"Read {name} from the environment (off by default)",
                         [ctx.replace(value, f'{_environ_get(ctx, env)} == "1"')], env_vars=[env])
    for call in _calls(ctx):
        for flag in ("debug", "use_debugger"):
            kw = keyword(call, flag)
            value = kw.child_by_field_name("value") if kw is not None else None
            if value is not None and ctx.text(value) in {"True", "1"}:
                return Draft("Read debug mode from the environment (off by default)",
                             [ctx.replace(value, f'{_environ_get(ctx, "FLASK_DEBUG")} == "1"')],
                             env_vars=["FLASK_DEBUG"])
    return None


def bind_localhost(ctx: FixContext) -> Draft | None:
    """`app.run(host="0.0.0.0")` -> host from the environment, 127.0.0.1 by default."""
    for call in _calls(ctx):
        kw = keyword(call, "host")
        value = kw.child_by_field_name("value") if kw is not None else None
        if value is not None and literal_value(ctx.doc, value) in {"0.0.0.0", "::"}:
            return Draft("Listen on localhost unless HOST is set",
                         [ctx.replace(value, _environ_get(ctx, "HOST", "127.0.0.1", _quote_like(value)))],
                         env_vars=["HOST"])
    return None


def allowed_hosts(ctx: FixContext) -> Draft | None:
    """`ALLOWED_HOSTS = ["*"]` -> the hosts from the environment (localhost by default)."""
    for node in _assignments_near(ctx):
        value = node.child_by_field_name("right")
        if _target_name(ctx, node) == "ALLOWED_HOSTS" and value is not None and '"*"' in ctx.text(value).replace(
                "'", '"'):
            return Draft("Read ALLOWED_HOSTS from the environment",
                         [ctx.replace(value, f'{_environ_get(ctx, _ALLOWED_HOSTS_ENV, "localhost")}.split(",")')],
                         env_vars=[_ALLOWED_HOSTS_ENV])
    return None


def secure_flags(ctx: FixContext) -> Draft | None:
    """Cookie and CSRF settings turned on (`SESSION_COOKIE_SECURE = True`, `httponly=True`...)."""
    for node in _assignments_near(ctx):
        name = _target_name(ctx, node)
        value = node.child_by_field_name("right")
        if name in _TRUE_FLAGS and value is not None and ctx.text(value) != _TRUE_FLAGS[name]:
            return Draft(f"Set {name} to {_TRUE_FLAGS[name]}", [ctx.replace(value, _TRUE_FLAGS[name])])
    for call in _calls(ctx):
        for child in walk(call):
            if child.type != "keyword_argument":
                continue
            key = child.child_by_field_name("name")
            value = child.child_by_field_name("value")
            if key is None or value is None:
                continue
            name = ctx.text(key)
            if name in _TRUE_FLAGS and ctx.text(value) != _TRUE_FLAGS[name]:
                return Draft(f"Set {name} to {_TRUE_FLAGS[name]}", [ctx.replace(value, _TRUE_FLAGS[name])])
    return None


def cookie_flags(ctx: FixContext) -> Draft | None:
    """`resp.set_cookie(k, v)` -> `resp.set_cookie(k, v, secure=True, httponly=True, samesite="Lax")`."""
    for call in _calls(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.text(fn).rsplit(".", 1)[-1] not in {"set_cookie", "set_signed_cookie"}:
            continue
        edits = []
        missing = []
        for flag, good in _COOKIE_FLAGS:
            kw = keyword(call, flag)
            value = kw.child_by_field_name("value") if kw is not None else None
            if value is None:
                missing.append(f"{flag}={good}")
            elif ctx.text(value) in {"False", "None", "0"}:
                edits.append(ctx.replace(value, good))
        if missing:
            extra = append_argument(ctx.doc, call, ", ".join(missing))
            if extra is None:
                continue
            edits.append(extra)
        if edits:
            return Draft("Set the cookie's Secure, HttpOnly and SameSite flags", edits)
    return None


def _calls(ctx: FixContext) -> list[Node]:
    calls = [n for n in walk(ctx.node) if n.type == "call"]
    outer = enclosing(ctx.node, "call")
    if outer is not None:
        calls.append(outer)
    return calls


def _origins_expr(ctx: FixContext) -> str:
    return f'{_environ_get(ctx, _CORS_ENV, "")}.split(",")'


def cors_origins(ctx: FixContext) -> Draft | None:
    """Wildcard CORS origins -> an explicit list read from CORS_ALLOWED_ORIGINS."""
    for call in _calls(ctx):
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
    for node in _assignments_near(ctx):
        name = _target_name(ctx, node)
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
    for node in _assignments_near(ctx):
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


def tls_verify(ctx: FixContext) -> Draft | None:
    """`verify=False` -> `verify=True`; unverified SSL contexts -> the default context."""
    for call in _calls(ctx):
        kw = keyword(call, "verify")
        value = kw.child_by_field_name("value") if kw is not None else None
        if value is not None and ctx.text(value) in {"False", "0", "None"}:
            return Draft("Verify TLS certificates (verify=True)", [ctx.replace(value, "True")])
        fn = call.child_by_field_name("function")
        if fn is not None and ctx.qualified(ctx.text(fn)) in {"ssl._create_unverified_context",
                                                              "ssl._create_stdlib_context"}:
            return Draft("Use the default (verifying) SSL context",
                         [ctx.replace(call, f"{ctx.ref('ssl', 'create_default_context')}()")])
        for name in ("cert_reqs", "ssl_cert_reqs"):
            kw = keyword(call, name)
            value = kw.child_by_field_name("value") if kw is not None else None
            if value is not None and "CERT_NONE" in ctx.text(value):
                return Draft("Require certificates", [ctx.replace(value, ctx.text(value).replace("CERT_NONE",
                                                                                                  "CERT_REQUIRED"))])
    for node in _assignments_near(ctx):
        name = _target_name(ctx, node)
        value = node.child_by_field_name("right")
        if value is None:
            continue
        if name == "verify" and ctx.text(value) == "False":
            return Draft("Verify TLS certificates", [ctx.replace(value, "True")])
        if name == "verify_mode" and "CERT_NONE" in ctx.text(value):
            return Draft("Require certificates", [ctx.replace(value, ctx.text(value).replace("CERT_NONE",
                                                                                              "CERT_REQUIRED"))])
        if name == "check_hostname" and ctx.text(value) == "False":
            return Draft("Check the certificate's host name", [ctx.replace(value, "True")])
    return None


def host_key_check(ctx: FixContext) -> Draft | None:
    """`set_missing_host_key_policy(AutoAddPolicy())` -> `RejectPolicy()` with the system's known hosts loaded."""
    for call in _calls(ctx):
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
    for call in _calls(ctx):
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
