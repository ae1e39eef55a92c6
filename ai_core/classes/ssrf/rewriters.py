"""SSRF rewriters: a host allowlist checked before the request or connection."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import bind, calls_near, value_of
from ai_core.fixes.context import Draft, FixContext, Rewriter
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import guard_statement, insert_before

HTTP_PREFIXES = ("requests.", "httpx.", "urllib.request.", "urllib3.", "aiohttp.", "http.client.", "socket.")
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "urlopen",
                          "Request", "urlretrieve", "stream", "fetch", "open"})
ALLOWED_HOSTS_NAME = "ALLOWED_URL_HOSTS"
RAW_CONNECTIONS = frozenset({"http.client.HTTPConnection", "http.client.HTTPSConnection", "socket.create_connection",
                             "telnetlib.Telnet", "ftplib.FTP", "smtplib.SMTP", "asyncio.open_connection"})


def host_allowlist(ctx: FixContext) -> Draft | None:
    """Check the URL's host against an allowlist before the request: `ALLOWED_URL_HOSTS`, a constant of the hosts
    in `allowed_hosts` of `[tool.coderev]` when the workspace lists them, else read from the environment."""
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None:
            continue
        callee = ctx.text(fn)
        qualified = ctx.qualified(callee)
        method = callee.rsplit(".", 1)[-1]
        if qualified not in RAW_CONNECTIONS and (
                method not in HTTP_METHODS or not (qualified.startswith(HTTP_PREFIXES) or "." in callee)):
            continue
        if qualified in RAW_CONNECTIONS:
            drafted = _host_guard(ctx, call)
            if drafted is not None:
                return drafted
            continue
        position = 1 if method == "request" else 0
        url = value_of(call, position, "url", "fullurl")
        if url is None or (url.type == "string" and not any(c.type == "interpolation" for c in url.children)):
            continue
        statement = guard_statement(ctx.doc, call)
        if statement is None:
            continue
        bound = bind(ctx, url, "url")
        if bound is None:
            continue
        name, pre, replacements = bound
        urlparse = ctx.ref("urllib.parse", "urlparse")
        helper = _allowed_hosts_helper(ctx)
        lines = [*pre,
                 f"if {urlparse}({name}).hostname not in {ALLOWED_HOSTS_NAME}:",
                 f'    raise ValueError("refusing a request to a host not in {ALLOWED_HOSTS_NAME}")']
        return Draft(f"Check the URL's host against an allowlist{_supply(ctx)}",
                     [insert_before(ctx.doc, statement, lines), *replacements], helpers=[helper],
                     env_vars=_env_vars(ctx), note=_note(ctx, "call"))
    return None


def _supply(ctx: FixContext) -> str:
    """What the title says the user must supply."""
    if ctx.project.allowed_hosts:
        return " (allowed_hosts of [tool.coderev])"
    return f" (set {ALLOWED_HOSTS_NAME})"


def _env_vars(ctx: FixContext) -> list[str]:
    return [] if ctx.project.allowed_hosts else [ALLOWED_HOSTS_NAME]


def _note(ctx: FixContext, verb: str) -> str:
    if ctx.project.allowed_hosts:
        return (f"Requests to hosts other than {', '.join(ctx.project.allowed_hosts)} (allowed_hosts in "
                "[tool.coderev]) now raise ValueError.")
    return (f"Set {ALLOWED_HOSTS_NAME} to the comma-separated hosts this code may {verb}; until then every "
            "request raises ValueError (or list them as allowed_hosts in [tool.coderev] before fixing).")


def _allowed_hosts_helper(ctx: FixContext) -> Helper:
    if ctx.project.allowed_hosts:
        listed = ", ".join(f'"{host}"' for host in ctx.project.allowed_hosts)
        return Helper(ALLOWED_HOSTS_NAME, f"{ALLOWED_HOSTS_NAME} = frozenset({{{listed}}})\n"
                      '"""Hosts this module may send requests to (allowed_hosts of [tool.coderev])."""')
    environ = ctx.ref("os", "environ")
    return Helper(ALLOWED_HOSTS_NAME,
                  f'{ALLOWED_HOSTS_NAME} = frozenset(filter(None, {environ}.get("{ALLOWED_HOSTS_NAME}", "")'
                  '.split(",")))\n'
                  f'"""Hosts this module may send requests to (comma-separated, from the environment)."""')


def _host_guard(ctx: FixContext, call: Node) -> Draft | None:
    """`HTTPConnection(host)` / `create_connection((host, port))`: the host must be in the allowlist."""
    target = value_of(call, 0, "host", "address")
    if target is None:
        return None
    if target.type == "tuple" and target.named_children:
        target = target.named_children[0]
    if target.type == "string" and not any(c.type == "interpolation" for c in target.children):
        return None
    statement = guard_statement(ctx.doc, call)
    if statement is None:
        return None
    bound = bind(ctx, target, "host")
    if bound is None:
        return None
    name, pre, replacements = bound
    lines = [*pre, f"if {name} not in {ALLOWED_HOSTS_NAME}:",
             f'    raise ValueError("refusing a connection to a host not in {ALLOWED_HOSTS_NAME}")']
    return Draft(f"Check the host against an allowlist{_supply(ctx)}",
                 [insert_before(ctx.doc, statement, lines), *replacements], helpers=[_allowed_hosts_helper(ctx)],
                 env_vars=_env_vars(ctx), note=_note(ctx, "connect to"))


REWRITERS: tuple[Rewriter, ...] = (host_allowlist,)
"""Tried in order for an SSRF finding."""
