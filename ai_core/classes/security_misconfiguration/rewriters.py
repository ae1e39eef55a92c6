"""Security misconfiguration rewriters: DEBUG and hosts from the environment, secure flags on, private file modes,
settings configured once instead of per request from a client header."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.classes._shared import headers
from ai_core.classes._shared.cookies import cookie_flags
from ai_core.classes._shared.edit_helpers import (
    assignments_near,
    calls_in_finding,
    calls_near,
    dead_assignments,
    environ_get,
    quote_like,
    target_name,
)
from ai_core.classes._shared.tls import tls_verify
from ai_core.classes.security_misconfiguration.checks import CONFIG_TARGET
from ai_core.classes.xss.rewriters import autoescape_on
from ai_core.findings import TextEdit
from ai_core.fixes.calls import keyword, positional
from ai_core.fixes.context import Draft, FixContext, Rewriter
from ai_core.fixes.layout import indent_of, line_start
from ai_core.fixes.strings import literal_value
from ai_core.parsing.tree import enclosing_function, walk

_DEBUG_NAMES = frozenset({"DEBUG", "debug", "TEMPLATE_DEBUG", "FLASK_DEBUG", "DEBUG_PROPAGATE_EXCEPTIONS",
                          "use_debugger", "use_reloader"})
_TRUE_FLAGS = {
    "SESSION_COOKIE_SECURE": "True", "SESSION_COOKIE_HTTPONLY": "True", "CSRF_COOKIE_SECURE": "True",
    "CSRF_COOKIE_HTTPONLY": "True", "REMEMBER_COOKIE_SECURE": "True", "REMEMBER_COOKIE_HTTPONLY": "True",
    "SECURE_SSL_REDIRECT": "True", "SESSION_EXPIRE_AT_BROWSER_CLOSE": "True", "WTF_CSRF_ENABLED": "True",
    "CSRF_ENABLED": "True", "WTF_CSRF_CHECK_DEFAULT": "True", "SECURE_CONTENT_TYPE_NOSNIFF": "True",
    "SECURE_BROWSER_XSS_FILTER": "True",
    "SESSION_COOKIE_SAMESITE": '"Lax"', "CSRF_COOKIE_SAMESITE": '"Lax"', "check_hostname": "True",
}
_ALLOWED_HOSTS_ENV = "ALLOWED_HOSTS"


def debug_from_environment(ctx: FixContext) -> Draft | None:
    """`DEBUG = True` / `app.run(debug=True)` -> read from the environment (off unless DEBUG=1)."""
    for node in assignments_near(ctx):
        name = target_name(ctx, node)
        value = node.child_by_field_name("right")
        if name in _DEBUG_NAMES and value is not None and ctx.text(value) in {"True", "1"}:
            env = "DEBUG" if name.isupper() else "FLASK_DEBUG"
            return Draft(f"Read {name} from the environment (off by default)",
                         [ctx.replace(value, f'{environ_get(ctx, env)} == "1"')], env_vars=[env])
    for call in calls_in_finding(ctx):
        for flag in ("debug", "use_debugger"):
            kw = keyword(call, flag)
            value = kw.child_by_field_name("value") if kw is not None else None
            if value is not None and ctx.text(value) in {"True", "1"}:
                return Draft("Read debug mode from the environment (off by default)",
                             [ctx.replace(value, f'{environ_get(ctx, "FLASK_DEBUG")} == "1"')],
                             env_vars=["FLASK_DEBUG"])
    return None


def bind_localhost(ctx: FixContext) -> Draft | None:
    """`app.run(host="0.0.0.0")` -> host from the environment, 127.0.0.1 by default."""
    for call in calls_in_finding(ctx):
        kw = keyword(call, "host")
        value = kw.child_by_field_name("value") if kw is not None else None
        if value is not None and literal_value(ctx.doc, value) in {"0.0.0.0", "::"}:
            return Draft("Listen on localhost unless HOST is set",
                         [ctx.replace(value, environ_get(ctx, "HOST", "127.0.0.1", quote_like(value)))],
                         env_vars=["HOST"])
    return None


def allowed_hosts(ctx: FixContext) -> Draft | None:
    """`ALLOWED_HOSTS = ["*"]` -> the hosts from the environment (localhost by default)."""
    for node in assignments_near(ctx):
        value = node.child_by_field_name("right")
        if target_name(ctx, node) == "ALLOWED_HOSTS" and value is not None and '"*"' in ctx.text(value).replace(
                "'", '"'):
            return Draft("Read ALLOWED_HOSTS from the environment",
                         [ctx.replace(value, f'{environ_get(ctx, _ALLOWED_HOSTS_ENV, "localhost")}.split(",")')],
                         env_vars=[_ALLOWED_HOSTS_ENV])
    return None


def secure_flags(ctx: FixContext) -> Draft | None:
    """Cookie and CSRF settings turned on (`SESSION_COOKIE_SECURE = True`, `httponly=True`...)."""
    for node in assignments_near(ctx):
        name = target_name(ctx, node)
        value = node.child_by_field_name("right")
        if name in _TRUE_FLAGS and value is not None and ctx.text(value) != _TRUE_FLAGS[name]:
            return Draft(f"Set {name} to {_TRUE_FLAGS[name]}", [ctx.replace(value, _TRUE_FLAGS[name])])
    for call in calls_in_finding(ctx):
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


def private_file_mode(ctx: FixContext) -> Draft | None:
    """`os.chmod(p, 0o777)` -> group/world write removed (`0o755`)."""
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.text(fn)).rsplit(".", 1)[-1] not in {"chmod", "fchmod", "lchmod", "mkdir",
                                                                                 "makedirs", "open", "umask"}:
            continue
        for arg in [*positional(call)[1:], *(kw.child_by_field_name("value") for kw in
                                              [keyword(call, "mode")] if kw is not None)]:
            if arg is None or arg.type != "integer":
                continue
            try:
                mode = int(ctx.text(arg), 0)
            except ValueError:
                continue
            if mode & 0o022:
                return Draft(f"Drop group/world write permission ({oct(mode & ~0o022)})",
                             [ctx.replace(arg, oct(mode & ~0o022))])
    return None


_HOOK = re.compile(r"^@\s*([A-Za-z_]\w*)\.before_request\s*$")


def _configured(ctx: FixContext, name: str) -> tuple[str, str]:
    """(the configured value of setting `name`, what the user must set): a flag from the environment, on unless
    NAME=0; any other setting from the environment."""
    if _TRUE_FLAGS.get(name) == "True":
        return (f'{environ_get(ctx, name, "1")} == "1"',
                f"{name} is read once from the environment, on unless {name}=0: set {name}=0 where the app is "
                "served over plain HTTP")
    return environ_get(ctx, name), f"set {name} in the environment; it is the same for every request"


def _removable_hook(ctx: FixContext, function: Node, assign: Node) -> tuple[Node, str] | None:
    """(the decorated definition, the app's name) of `@app.before_request def hook(): ...` whose body does nothing
    but compute the setting from the header."""
    holder = function.parent
    body = function.child_by_field_name("body")
    if holder is None or holder.type != "decorated_definition" or body is None:
        return None
    decorators = [c for c in holder.named_children if c.type == "decorator"]
    match = _HOOK.match(ctx.text(decorators[0])) if len(decorators) == 1 else None
    if match is None or f"{match.group(1)}.config" not in ctx.doc.data.decode("utf-8", errors="replace"):
        return None
    statement = assign.parent
    if statement is None:
        return None
    dropped = dead_assignments(ctx, body, [(statement.start_byte, statement.end_byte)])
    kept = [c for c in body.named_children if c.type != "comment" and c.start_byte != statement.start_byte and
            not any(e.start_byte <= c.start_byte < e.end_byte for e in dropped)]
    if kept:
        return None
    return holder, match.group(1)


def setting_from_configuration(ctx: FixContext) -> Draft | None:
    """`current_app.config["SESSION_COOKIE_SECURE"] = <from X-Forwarded-Proto>` in a before_request hook -> the hook
    removed and the setting configured once from the environment (secure by default)."""
    for assign in assignments_near(ctx):
        left, value = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        function = enclosing_function(assign)
        name = target_name(ctx, assign)
        if left is None or value is None or function is None or not name or \
                not CONFIG_TARGET.search(ctx.text(left)) or not headers.read_header(ctx.text(function)):
            continue
        configured, note = _configured(ctx, name)
        hook = _removable_hook(ctx, function, assign)
        if hook is not None:
            holder, app = hook
            start = line_start(ctx.doc, holder.start_byte)
            while start > 0 and ctx.doc.data[line_start(ctx.doc, start - 1):start].strip().startswith(b"#"):
                start = line_start(ctx.doc, start - 1)  # the comment describing the hook goes with it
            indent = indent_of(ctx.doc, holder)
            key = ctx.text(left.child_by_field_name("subscript") or left) if left.type == "subscript" else f'"{name}"'
            edit = TextEdit(start, holder.end_byte, f"{indent}{app}.config[{key}] = {configured}")
            return Draft(f"Configure {name} once instead of per request from a client header", [edit], note=note,
                         env_vars=[name])
        edits = [ctx.replace(value, configured)]
        body = function.child_by_field_name("body") or function
        edits += dead_assignments(ctx, body, [(value.start_byte, value.end_byte)])
        return Draft(f"Take {name} from the configuration, not from a client header",
                     sorted(edits, key=lambda e: e.start_byte), note=note, env_vars=[name])
    return None


REWRITERS: tuple[Rewriter, ...] = (debug_from_environment, bind_localhost, allowed_hosts, setting_from_configuration,
                                   secure_flags, cookie_flags, tls_verify, autoescape_on, private_file_mode)
"""Tried in order for a misconfiguration finding."""
