"""Path traversal rewriters: tar extraction filters, a realpath prefix check before file access, containment by
path components (commonpath)."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import calls_near, free_name, value_of
from ai_core.classes.path_traversal.checks import ONE_PASS_PATTERN, outermost_function
from ai_core.fixes.calls import positional, set_keyword
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import guard_statement, insert_before
from ai_core.fixes.names import single_assignment, unparenthesized
from ai_core.fixes.strings import Expr, built_string, render_str
from ai_core.parsing.tree import enclosing_function, nodes_of_type

FILE_CALLS = frozenset({"open", "builtins.open", "io.open", "codecs.open", "os.open", "aiofiles.open",
                        "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.mkdir", "os.makedirs",
                        "os.rename", "os.replace", "os.listdir", "os.scandir", "os.stat", "os.chmod",
                        "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move", "shutil.rmtree",
                        "flask.send_file", "flask.helpers.send_file", "starlette.responses.FileResponse",
                        "fastapi.responses.FileResponse", "django.http.FileResponse", "pathlib.Path"})
PATH_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink", "rmdir",
                          "mkdir", "touch", "iterdir", "rename", "replace"})


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
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None:
            continue
        callee = ctx.text(fn)
        qualified = ctx.qualified(callee)
        receiver: Node | None = None
        if qualified in FILE_CALLS:
            arg = value_of(call, 0, "file", "path", "path_or_file", "filename", "src")
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
        name = inner if arg.type == "identifier" else free_name(ctx, "path", "safe_path", "resolved_path")
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


TAR_FILTER_PYTHON = (3, 12)
"""From this Python on `extractall(filter="data")` is everywhere (3.8.17+, 3.9.17+, 3.10.12+, 3.11.4+ have it
too, so an unstated requires-python still gets it); a project that states an older minimum gets a member check."""
MEMBERS_HELPER = "checked_members"


@source_independent
def tar_filter(ctx: FixContext) -> Draft | None:
    """`tar.extractall(dest)` -> `tar.extractall(dest, filter="data")` (refuses '..' and absolute members), or
    `members=checked_members(tar, dest)` when the project's requires-python starts below 3.12."""
    minimum = ctx.project.min_python()
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.text(fn).rsplit(".", 1)[-1] not in {"extractall", "extract"}:
            continue
        if minimum is not None and minimum < TAR_FILTER_PYTHON:
            drafted = _member_check(ctx, call, fn)
            if drafted is not None:
                return drafted
            continue
        edit = set_keyword(ctx.doc, call, "filter", '"data"')
        if edit is not None:
            return Draft('Extract with filter="data"', [edit])
    return None


def _member_check(ctx: FixContext, call: Node, fn: Node) -> Draft | None:
    """`tar.extractall(dest)` -> `tar.extractall(dest, members=checked_members(tar, dest))`."""
    if ctx.text(fn).rsplit(".", 1)[-1] != "extractall" or fn.type != "attribute":
        return None
    owner = fn.child_by_field_name("object")
    dest = value_of(call, 0, "path")
    if owner is None or owner.type != "identifier" or (dest is not None and "\n" in ctx.text(dest)):
        return None
    target = ctx.text(dest) if dest is not None else '"."'
    edit = set_keyword(ctx.doc, call, "members", f"{MEMBERS_HELPER}({ctx.text(owner)}, {target})")
    if edit is None:
        return None
    os_ = ctx.ref("os")
    helper = Helper(MEMBERS_HELPER, f"""def {MEMBERS_HELPER}(tar, dest):
    \"\"\"The archive's members, refusing any that would be written, or link, outside `dest`.\"\"\"
    base = {os_}.path.realpath(dest)
    for member in tar.getmembers():
        target = {os_}.path.realpath({os_}.path.join(base, member.name))
        paths = [target]
        if member.issym() or member.islnk():
            start = {os_}.path.dirname(target) if member.issym() else base
            paths.append({os_}.path.realpath({os_}.path.join(start, member.linkname)))
        if any(p != base and not p.startswith(base + {os_}.sep) for p in paths):
            raise ValueError(f"refusing to extract {{member.name!r}}: it leads outside {{dest}}")
        yield member
""")
    return Draft("Extract only members that stay inside the target folder", [edit], helpers=[helper],
                 note="requires-python allows Pythons without tarfile's filter='data'; members are checked instead.")


_NORMALISED = frozenset({"os.path.abspath", "os.path.realpath", "os.path.normpath", "posixpath.abspath",
                         "posixpath.realpath", "posixpath.normpath"})


def _normalised(ctx: FixContext, node: Node) -> bool:
    """True when `node` is (or names the one value of) an abspath/realpath/normpath call: no trailing separator."""
    if node.type == "identifier":
        value = single_assignment(ctx.doc, node)
        if value is None:
            return False
        node = value
    fn = node.child_by_field_name("function") if node.type == "call" else None
    return fn is not None and ctx.qualified(ctx.text(fn)) in _NORMALISED


@source_independent
def commonpath_containment(ctx: FixContext) -> Draft | None:
    """`os.path.commonprefix([base, target]) == base` -> `os.path.commonpath(...)`: whole path components are
    compared, so `/data/x-evil` no longer passes for `/data/x` (the paths are normalised, as commonpath needs)."""
    scope = outermost_function(ctx.node) or enclosing_function(ctx.node)
    if scope is None:
        return None
    edits = []
    for call in nodes_of_type(scope, "call"):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.text(fn)) not in {"os.path.commonprefix", "posixpath.commonprefix"}:
            continue
        args = positional(call)
        if len(args) != 1 or args[0].type not in {"list", "tuple"} or args[0].named_child_count != 2 or \
                not all(_normalised(ctx, item) for item in args[0].named_children):
            return None
        if fn.type == "attribute" and (attr := fn.child_by_field_name("attribute")) is not None:
            edits.append(ctx.replace(attr, "commonpath"))
        else:
            edits.append(ctx.replace(fn, ctx.ref("os.path", "commonpath")))
    if not edits:
        return None
    return Draft("Check containment with os.path.commonpath (whole path components, not characters)", edits,
                 note="os.path.commonpath raises ValueError when one path is absolute and the other relative.")


_EMPTY_STRING = re.compile(r"""^[rbuf]*(?:''|"")$""")


def _separator(ctx: FixContext, pattern: str) -> tuple[str, str]:
    """(the path module, the separator expression) matching what a one-pass strip removes: '../' is POSIX,
    '..\\' Windows, `f"..{os.path.sep}"` the platform's."""
    if "sep" in pattern:
        return ctx.ref("os.path", "normpath"), ctx.ref("os.path", "sep")
    if "\\" in pattern:
        return f"{ctx.ref('ntpath')}.normpath", '"\\\\"'
    return f"{ctx.ref('posixpath')}.normpath", '"/"'


@source_independent
def normalised_relative_path(ctx: FixContext) -> Draft | None:
    """`name.replace("../", "")` -> `posixpath.normpath("/" + name).lstrip("/")`: every '..' is resolved against a
    root it cannot climb above, so '....//' no longer becomes '../'; 'a/b' stays 'a/b'."""
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        attr = fn.child_by_field_name("attribute") if fn is not None and fn.type == "attribute" else None
        owner = fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
        args = positional(call)
        if attr is None or owner is None or ctx.text(attr) != "replace" or len(args) != 2 or \
                not ONE_PASS_PATTERN.match(ctx.text(args[0])) or not _EMPTY_STRING.match(ctx.text(args[1])):
            continue
        normpath, sep = _separator(ctx, ctx.text(args[0]))
        value = ctx.text(owner)
        return Draft("Resolve '..' with normpath under a root instead of removing '../' once",
                     [ctx.replace(call, f"{normpath}({sep} + {value}).lstrip({sep})")],
                     note="'a/../b' now means 'b' (as the file system reads it), and a leading '/' is dropped.")
    return None


REWRITERS: tuple[Rewriter, ...] = (normalised_relative_path, commonpath_containment, tar_filter, realpath_prefix)
"""Tried in order for a path traversal finding."""
