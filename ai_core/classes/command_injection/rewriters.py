"""Command injection: an argument list without a shell; `shlex.quote` where a shell is really needed; a command
made elsewhere split with `shlex.split`."""

from __future__ import annotations

import re
import shlex

from tree_sitter import Node

from ai_core.findings import TextEdit
from ai_core.fixes.calls import keyword, positional, removal_range
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.names import is_expression_statement, single_assignment, uses_of
from ai_core.fixes.strings import Built, Expr, Piece, built_string, render_fstring, render_str
from ai_core.parsing.tree import enclosing, scope_of, walk

SUBPROCESS = frozenset({"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
                        "subprocess.Popen"})
SHELL_ONLY = frozenset({"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"})
_METACHARS = re.compile(r"[|&;<>()$`*?\[\]{}~!#\n\\]")
_SENTINEL = re.compile(r"\x00(\d+)\x00")


def shell_words(built: Built) -> list[list[Piece]] | None:
    """Split a built shell command into words (each a list of pieces); None if it needs a real shell."""
    template = ""
    exprs: list[Expr] = []
    for piece in built.pieces:
        if isinstance(piece, Expr):
            template += f"\x00{len(exprs)}\x00"
            exprs.append(piece)
        else:
            if _METACHARS.search(piece):
                return None
            template += piece
    try:
        words = shlex.split(template)
    except ValueError:
        return None
    result: list[list[Piece]] = []
    for word in words:
        pieces: list[Piece] = []
        cursor = 0
        for match in _SENTINEL.finditer(word):
            if match.start() > cursor:
                pieces.append(word[cursor:match.start()])
            pieces.append(exprs[int(match.group(1))])
            cursor = match.end()
        if cursor < len(word):
            pieces.append(word[cursor:])
        result.append(pieces)
    return result


def render_word(pieces: list[Piece], quote: str) -> str:
    """One argument: a literal, the bare expression, or an f-string joining them."""
    if len(pieces) == 1 and isinstance(pieces[0], Expr):
        return pieces[0].source
    return render_fstring(pieces, quote[0]) if any(isinstance(p, Expr) for p in pieces) else \
        render_str("".join(p for p in pieces if isinstance(p, str)), quote[0])


def _command_source(ctx: FixContext, command: Node) -> tuple[Node, Built] | None:
    """The node that builds the command (the argument itself or its single assignment) and its pieces."""
    built = built_string(ctx.doc, command)
    if built is not None:
        return command, built
    if command.type == "identifier":
        value = single_assignment(ctx.doc, command)
        if value is None or len(uses_of(ctx.doc, scope_of(command), ctx.text(command))) != 1:
            return None
        built = built_string(ctx.doc, value)
        if built is not None:
            return value, built
    return None


def _target_calls(ctx: FixContext) -> list[tuple[Node, str]]:
    calls = []
    seen: set[int] = set()
    candidates = [enclosing(ctx.sink_node, "call")] + [n for n in walk(ctx.node) if n.type == "call"]
    for call in candidates:
        if call is None or call.start_byte in seen:
            continue
        seen.add(call.start_byte)
        fn = call.child_by_field_name("function")
        if fn is not None:
            calls.append((call, ctx.qualified(ctx.text(fn))))
    return calls


def _command_arg(call: Node) -> Node | None:
    args = positional(call)
    if args:
        return args[0]
    kw = keyword(call, "args") or keyword(call, "command") or keyword(call, "cmd")
    return kw.child_by_field_name("value") if kw is not None else None


@source_independent
def argument_list(ctx: FixContext) -> Draft | None:
    """`subprocess.run(f"ping {host}", shell=True)` -> `subprocess.run(["ping", host])`; os.system alike."""
    for call, name in _target_calls(ctx):
        if name not in SUBPROCESS and name not in SHELL_ONLY:
            continue
        command = _command_arg(call)
        if command is None:
            continue
        found = _command_source(ctx, command)
        if found is None:
            continue
        source, built = found
        words = shell_words(built)
        if not words:
            continue
        listed = "[" + ", ".join(render_word(w, built.quote) for w in words) + "]"
        edits = [ctx.replace(source, listed)]
        if name in SUBPROCESS:
            shell = keyword(call, "shell")
            if shell is None:
                continue
            start, end = removal_range(ctx.doc, shell)
            edits.append(TextEdit(start, end, ""))
            executable = keyword(call, "executable")
            if executable is not None:
                start, end = removal_range(ctx.doc, executable)
                edits.append(TextEdit(start, end, ""))
            return Draft("Run an argument list without a shell", edits,
                         note="Each interpolated value is now exactly one argument.")
        drafted = _replace_shell_call(ctx, call, name, source, listed)
        if drafted is not None:
            return drafted
    return None


def _replace_shell_call(ctx: FixContext, call: Node, name: str, source: Node, listed: str) -> Draft | None:
    """os.system / os.popen(...).read() / getoutput rewritten to subprocess.run on an argument list."""
    command = _command_arg(call)
    if command is None:
        return None
    run = ctx.ref("subprocess", "run")
    fn = call.child_by_field_name("function")
    local_module = ctx.text(fn).split(".")[0] if fn is not None else ""
    inline = source.start_byte == command.start_byte
    args_text = listed if inline else ctx.text(command)
    extra = [] if inline else [ctx.replace(source, listed)]
    if name == "os.system":
        tail = "" if is_expression_statement(call) else ".returncode"
        return Draft("Run an argument list with subprocess.run instead of os.system",
                     [ctx.replace(call, f"{run}({args_text}, check=False){tail}"), *extra],
                     drop_imports=[local_module])
    if name == "os.popen":
        parent = call.parent
        outer = parent.parent if parent is not None else None
        if parent is None or parent.type != "attribute" or outer is None or outer.type != "call" or \
                ctx.text(parent).rsplit(".", 1)[-1] != "read":
            return None
        replacement = f"{run}({args_text}, capture_output=True, check=False)" if is_expression_statement(outer) \
            else f"{run}({args_text}, capture_output=True, text=True, check=False).stdout"
        return Draft("Run an argument list with subprocess.run instead of os.popen",
                     [ctx.replace(outer, replacement), *extra], drop_imports=[local_module])
    if name == "subprocess.getoutput":
        return Draft("Run an argument list with subprocess.run instead of getoutput",
                     [ctx.replace(call, f"{run}({args_text}, capture_output=True, text=True, check=False)"
                                        ".stdout.rstrip(\"\\n\")"), *extra])
    return None


@source_independent
def shlex_quote(ctx: FixContext) -> Draft | None:
    """Keep the shell but quote every interpolated value with `shlex.quote`."""
    for call, name in _target_calls(ctx):
        remote = name.rsplit(".", 1)[-1] in {"exec_command", "sudo"}
        if name not in SUBPROCESS and name not in SHELL_ONLY and name != "asyncio.create_subprocess_shell" and \
                not remote:
            continue
        command = _command_arg(call)
        if command is None:
            continue
        found = _command_source(ctx, command)
        if found is None:
            continue
        _, built = found
        if not built.exprs or _inside_shell_quotes(built):
            continue
        quote = ctx.ref("shlex", "quote")
        edits = [ctx.replace(expr.node, f"{quote}({expr.source})") for expr in built.exprs
                 if not expr.source.startswith(quote + "(")]
        if not edits:
            continue
        return Draft("Quote interpolated values with shlex.quote", edits)
    return None


@source_independent
def quote_at_call_site(ctx: FixContext) -> Draft | None:
    """`run(f"ping {host}")` where `run(cmd)` passes its parameter to a shell elsewhere (another function or file):
    quote the values where the command is built, `run(f"ping {shlex.quote(host)}")`; the helper keeps its shell."""
    path = ctx.finding.taint_path
    if path is None:
        return None
    sink = path.sink
    for call, name in _target_calls(ctx):
        if name in SUBPROCESS or name in SHELL_ONLY or (
                sink.path in {"", ctx.finding.path} and call.start_byte <= sink.span.start_byte < call.end_byte):
            continue
        for arg in positional(call):
            found = _command_source(ctx, arg)
            if found is None:
                continue
            _, built = found
            tainted = [e for e in built.exprs if ctx.is_tainted(e.node) is not False]
            if not tainted or _inside_shell_quotes(built):
                continue
            quote = ctx.ref("shlex", "quote")
            edits = [ctx.replace(e.node, f"{quote}({e.source})") for e in tainted
                     if not e.source.startswith(quote + "(")]
            if edits:
                fn = call.child_by_field_name("function")
                callee = ctx.text(fn) if fn is not None else "the helper"
                return Draft(f"Quote the values with shlex.quote where the command for {callee}() is built", edits)
    return None


def _inside_shell_quotes(built: Built) -> bool:
    state = ""
    for piece in built.pieces:
        if isinstance(piece, Expr):
            if state:
                return True
            continue
        for ch in piece:
            if state and ch == state:
                state = ""
            elif not state and ch in "'\"":
                state = ch
    return False


def split_command(ctx: FixContext) -> Draft | None:
    """`Popen(command, shell=True)` where the command is a template made elsewhere with values filled in
    (`HOOK.replace("%u", user)`) -> `Popen(shlex.split(command))`: the words a shell would see, no shell."""
    for call, name in _target_calls(ctx):
        if name not in SUBPROCESS and name != "os.system":
            continue
        command = _command_arg(call)
        if command is None or command.type in {"string", "concatenated_string", "list", "tuple"}:
            continue
        if _command_source(ctx, command) is not None or not _filled_template(ctx, command):
            continue  # built here from parts (argument_list's shape), or a whole script: no fix keeps its meaning
        split = f"{ctx.ref('shlex', 'split')}({ctx.text(command)})"
        note = ("Shell syntax in the command (pipes, redirects, globs, $VARIABLES) no longer works: its words "
                "run as one program with its arguments.")
        if name == "os.system":
            drafted = _replace_shell_call(ctx, call, name, command, split)
            return Draft("Split the command with shlex.split and run it without a shell", drafted.edits,
                         drop_imports=drafted.drop_imports, note=note) if drafted is not None else None
        shell = keyword(call, "shell")
        value = shell.child_by_field_name("value") if shell is not None else None
        if shell is None or value is None or ctx.text(value) != "True":
            continue
        start, end = removal_range(ctx.doc, shell)
        return Draft("Split the command with shlex.split and run it without a shell",
                     [ctx.replace(command, split), TextEdit(start, end, "")], note=note)
    return None


def _filled_template(ctx: FixContext, node: Node, depth: int = 0) -> bool:
    """True when the command is a template made elsewhere with values filled in (`HOOK.replace("%u", user)`,
    `cmd % args`, `.format(...)`), directly or through one assignment; not a whole script passed through."""
    if depth > 3:
        return False
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        return _filled_template(ctx, node.named_children[0], depth + 1)
    if node.type == "call":
        fn = node.child_by_field_name("function")
        return fn is not None and fn.type == "attribute" and \
            ctx.text(fn).rsplit(".", 1)[-1] in {"replace", "format", "format_map", "substitute"}
    if node.type == "binary_operator":
        op = node.child_by_field_name("operator")
        return op is not None and ctx.text(op) == "%"
    if node.type == "conditional_expression":
        return any(_filled_template(ctx, child, depth + 1) for child in node.named_children)
    if node.type == "identifier":
        value = single_assignment(ctx.doc, node)
        return value is not None and _filled_template(ctx, value, depth + 1)
    return False


REWRITERS: tuple[Rewriter, ...] = (argument_list, shlex_quote, split_command, quote_at_call_site)
"""Tried in order for a command injection finding."""
