"""Checks inserted before a sink: a host allowlist for SSRF, a realpath prefix check for path traversal."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.fixes.calls import keyword, positional, set_keyword
from ai_core.fixes.context import Draft, FixContext
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import guard_statement, insert_before
from ai_core.fixes.names import all_identifiers, single_assignment, unparenthesized
from ai_core.fixes.strings import Expr, built_string, render_str
from ai_core.parsing.tree import enclosing, walk

HTTP_PREFIXES = ("requests.", "httpx.", "urllib.request.", "urllib3.", "aiohttp.", "http.client.", "socket.")
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "urlopen",
                          "Request", "urlretrieve", "stream", "fetch", "open"})
FILE_CALLS = frozenset({"open", "builtins.open", "io.open", "codecs.open", "os.open", "aiofiles.open",
                        "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.mkdir", "os.makedirs",
                        "os.rename", "os.replace", "os.listdir", "os.scandir", "os.stat", "os.chmod",
                        "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move", "shutil.rmtree",
                        "flask.send_file", "flask.helpers.send_file", "starlette.responses.FileResponse",
                        "fastapi.responses.FileResponse", "django.http.FileResponse", "pathlib.Path"})
PATH_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink", "rmdir",
                          "mkdir", "touch", "iterdir", "rename", "replace"})
ALLOWED_HOSTS_NAME = "ALLOWED_URL_HOSTS"
RAW_CONNECTIONS = frozenset({"http.client.HTTPConnection", "http.client.HTTPSConnection", "socket.create_connection",
                             "telnetlib.Telnet", "ftplib.FTP", "smtplib.SMTP", "asyncio.open_connection"})


def _calls_near(ctx: FixContext) -> list[Node]:
    calls: list[Node] = []
    for node in [enclosing(ctx.sink_node, "call"), *[n for n in walk(ctx.node) if n.type == "call"],
                 enclosing(ctx.node, "call")]:
        if node is not None and all(node.start_byte != c.start_byte or node.end_byte != c.end_byte for c in calls):
            calls.append(node)
    return calls


def _free_name(ctx: FixContext, preferred: str, *others: str) -> str:
    taken = all_identifiers(ctx.doc)
    for name in (preferred, *others):
        if name not in taken:
            return name
    index = 2
    while f"{preferred}_{index}" in taken:
        index += 1
    return f"{preferred}_{index}"


def _value_of(call: Node, position: int, *names: str) -> Node | None:
    args = positional(call)
    if len(args) > position:
        return args[position]
    for name in names:
        kw = keyword(call, name)
        if kw is not None:
            return kw.child_by_field_name("value")
    return None


def _bind(ctx: FixContext, arg: Node, preferred: str) -> tuple[str, list[str], list] | None:  # type: ignore[type-arg]
    """A name for the argument's value: the identifier itself, or a new variable assigned before the check."""
    if arg.type == "identifier":
        return ctx.text(arg), [], []
    text = ctx.text(arg)
    if "\n" in text:
        return None
    name = _free_name(ctx, preferred, f"target_{preferred}")
    return name, [f"{name} = {text}"], [ctx.replace(arg, name)]


def host_allowlist(ctx: FixContext) -> Draft | None:
    """Check the URL's host against an allowlist (`ALLOWED_URL_HOSTS`, from the environment) before the request."""
    for call in _calls_near(ctx):
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
        url = _value_of(call, position, "url", "fullurl")
        if url is None or (url.type == "string" and not any(c.type == "interpolation" for c in url.children)):
            continue
        statement = guard_statement(ctx.doc, call)
        if statement is None:
            continue
        bound = _bind(ctx, url, "url")
        if bound is None:
            continue
        name, pre, replacements = bound
        urlparse = ctx.ref("urllib.parse", "urlparse")
        helper = _allowed_hosts_helper(ctx)
        lines = [*pre,
                 f"if {urlparse}({name}).hostname not in {ALLOWED_HOSTS_NAME}:",
                 f'    raise ValueError("refusing a request to a host not in {ALLOWED_HOSTS_NAME}")']
        return Draft("Check the URL's host against an allowlist", [insert_before(ctx.doc, statement, lines),
                                                                    *replacements],
                     helpers=[helper], env_vars=[ALLOWED_HOSTS_NAME],
                     note=f"Set {ALLOWED_HOSTS_NAME} to the comma-separated hosts this code may call.")
    return None


def _allowed_hosts_helper(ctx: FixContext) -> Helper:
    environ = ctx.ref("os", "environ")
    return Helper(ALLOWED_HOSTS_NAME,
                  f'{ALLOWED_HOSTS_NAME} = frozenset(filter(None, {environ}.get("{ALLOWED_HOSTS_NAME}", "")'
                  '.split(",")))\n'
                  f'"""Hosts this module may send requests to (comma-separated, from the environment)."""')


def _host_guard(ctx: FixContext, call: Node) -> Draft | None:
    """`HTTPConnection(host)` / `create_connection((host, port))`: the host must be in the allowlist."""
    target = _value_of(call, 0, "host", "address")
    if target is None:
        return None
    if target.type == "tuple" and target.named_children:
        target = target.named_children[0]
    if target.type == "string" and not any(c.type == "interpolation" for c in target.children):
        return None
    statement = guard_statement(ctx.doc, call)
    if statement is None:
        return None
    bound = _bind(ctx, target, "host")
    if bound is None:
        return None
    name, pre, replacements = bound
    lines = [*pre, f"if {name} not in {ALLOWED_HOSTS_NAME}:",
             f'    raise ValueError("refusing a connection to a host not in {ALLOWED_HOSTS_NAME}")']
    return Draft("Check the host against an allowlist", [insert_before(ctx.doc, statement, lines), *replacements],
                 helpers=[_allowed_hosts_helper(ctx)], env_vars=[ALLOWED_HOSTS_NAME],
                 note=f"Set {ALLOWED_HOSTS_NAME} to the comma-separated hosts this code may connect to.")


def _base_of(ctx: FixContext, path_expr: Node) -> str | None:
    """The trusted folder a path is built under: the first argument of os.path.join, or the left of `/`."""
    node = path_expr
    if node.type == "identifier":
        value = single_assignment(ctx.doc, node)
        if value is not None:
            node = value
    if node.type == "call":
        fn = node.child_by_field_name("function")
        if fn is not None and ctx.qualified(ctx.text(fn)) in {"os.path.join", "posixpath.join"}:
            args = positional(node)
            if len(args) >= 2:
                return ctx.text(args[0])
    if node.type == "string":  # f"{BASE}/{name}" or f"/srv/files/{name}"
        built = built_string(ctx.doc, node)
        if built is not None and built.pieces:
            first = built.pieces[0]
            if isinstance(first, Expr) and len(built.pieces) > 1 and str(built.pieces[1]).startswith("/"):
                return first.source
            if isinstance(first, str) and "/" in first:
                return render_str(first.rsplit("/", 1)[0] or "/", built.quote)
    if node.type == "binary_operator":
        op = node.child_by_field_name("operator")
        left = node.child_by_field_name("left")
        if op is not None and op.type == "/" and left is not None:
            deeper = left.child_by_field_name("left") if left.type == "binary_operator" else None
            while deeper is not None:
                left = deeper
                deeper = left.child_by_field_name("left") if left.type == "binary_operator" else None
            return ctx.text(left)
    return None


def realpath_prefix(ctx: FixContext) -> Draft | None:
    """Resolve the path and refuse it unless it stays under its base folder (realpath prefix check)."""
    for call in _calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None:
            continue
        callee = ctx.text(fn)
        qualified = ctx.qualified(callee)
        receiver: Node | None = None
        if qualified in FILE_CALLS:
            arg = _value_of(call, 0, "file", "path", "path_or_file", "filename", "src")
        elif fn.type == "attribute" and callee.rsplit(".", 1)[-1] in PATH_METHODS:
            receiver = fn.child_by_field_name("object")
            arg = receiver
        else:
            continue
        if arg is None or (arg.type == "string" and not any(c.type == "interpolation" for c in arg.children)):
            continue
        statement = guard_statement(ctx.doc, call)
        if statement is None:
            continue
        base = _base_of(ctx, arg)
        realpath = ctx.ref("os.path", "realpath")
        sep = ctx.ref("os", "sep")
        root = f"{realpath}({base})" if base else f"{ctx.ref('os', 'getcwd')}()"
        inner = ctx.text(unparenthesized(arg))
        if "\n" in inner:
            continue
        name = inner if arg.type == "identifier" else _free_name(ctx, "path", "safe_path", "resolved_path")
        lines = [f"{name} = {realpath}({inner})",
                 f"if not {name}.startswith({root} + {sep}):",
                 '    raise ValueError("refusing a path outside the allowed folder")']
        replacement = name
        if receiver is not None:
            replacement = f"{ctx.ref('pathlib', 'Path')}({name})"
        edits = [insert_before(ctx.doc, statement, lines)]
        if arg.type != "identifier" or receiver is not None:
            edits.append(ctx.replace(arg, replacement))
        return Draft("Resolve the path and refuse it outside its base folder", edits)
    return None


def private_file_mode(ctx: FixContext) -> Draft | None:
    """`os.chmod(p, 0o777)` -> group/world write removed (`0o755`)."""
    for call in _calls_near(ctx):
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


def tar_filter(ctx: FixContext) -> Draft | None:
    """`tar.extractall(dest)` -> `tar.extractall(dest, filter="data")` (refuses '..' and absolute members)."""
    for call in _calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.text(fn).rsplit(".", 1)[-1] not in {"extractall", "extract"}:
            continue
        edit = set_keyword(ctx.doc, call, "filter", '"data"')
        if edit is not None:
            return Draft('Extract with filter="data"', [edit])
    return None
