"""Cross-site scripting: escape interpolated values, render templates with variables, turn autoescape on."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.classes.xss.template_rewriters import TEMPLATE_REWRITERS
from ai_core.fixes.calls import keyword, positional, set_keyword
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.layout import insert_before
from ai_core.fixes.names import single_assignment
from ai_core.fixes.strings import Built, Expr, built_string
from ai_core.parsing.tree import enclosing, enclosing_function, walk

RESPONSE_CALLS = frozenset({
    "flask.make_response", "flask.Response", "werkzeug.wrappers.Response", "werkzeug.Response",
    "django.http.HttpResponse", "django.http.response.HttpResponse", "starlette.responses.HTMLResponse",
    "fastapi.responses.HTMLResponse", "starlette.responses.Response", "fastapi.Response",
    "django.utils.safestring.mark_safe", "django.utils.safestring.SafeString", "markupsafe.Markup",
    "flask.Markup", "jinja2.Markup", "django.utils.html.format_html",
})
TEMPLATE_STRING_CALLS = frozenset({"flask.render_template_string"})
JINJA_CONSTRUCTORS = frozenset({"jinja2.Environment", "jinja2.Template"})
ESCAPES = ("escape(", "html.escape(", "markupsafe.escape(", "conditional_escape(", "quote(", "urlencode(",
           "render_template(", "url_for(", "json.dumps(", "tojson(", "len(", "int(", "float(")
_STR_SOURCES = re.compile(r"(?:request\.(?:args|form|values|GET|POST|headers|cookies|query_params)|input\()")


def _escape_ref(ctx: FixContext) -> tuple[str, bool]:
    """The escape function to call here (the file's framework first), and whether it needs a str argument."""
    for local, target in ctx.imports.names.items():
        if target in {"markupsafe.escape", "django.utils.html.escape", "flask.escape", "jinja2.escape"}:
            return local, False
    modules = {target.split(".")[0] for target in ctx.imports.names.values()}
    if "django" in modules:
        return ctx.ref("django.utils.html", "escape"), False
    if modules & {"flask", "markupsafe", "jinja2", "quart"}:
        return ctx.ref("markupsafe", "escape"), False
    if ctx.project.uses("django") and not modules & {"fastapi", "starlette"}:
        return ctx.ref("django.utils.html", "escape"), False
    return ctx.ref("html", "escape"), True


def _is_str(ctx: FixContext, expr: Expr) -> bool:
    node = expr.node
    if node.type == "string" or _STR_SOURCES.search(expr.source):
        return True
    if node.type == "identifier":
        value = single_assignment(ctx.doc, node)
        return value is not None and (value.type == "string" or bool(_STR_SOURCES.search(ctx.text(value))))
    return False


def _wrap(ctx: FixContext, built: Built, plus_context: bool) -> list[tuple[Node, str]]:
    """(node, replacement) for each interpolated value that carries untrusted data and is not escaped yet."""
    escape, needs_str = _escape_ref(ctx)
    out = []
    for expr in built.exprs:
        if expr.source.startswith(ESCAPES) or expr.node.type in {"string", "integer", "float"} or \
                (expr.node.type == "identifier" and expr.source.isupper()):
            continue
        inner = expr.source if not needs_str or _is_str(ctx, expr) else f"str({expr.source})"
        wrapped = f"{escape}({inner})"
        if plus_context and not needs_str:
            wrapped = f"str({wrapped})"  # Markup + str would escape the literal HTML around it
        out.append((expr.node, wrapped))
    return out


def _payloads(ctx: FixContext) -> list[tuple[Node, Node | None]]:
    """(payload expression, the call it is passed to) pairs near the finding: return values and response bodies."""
    found: list[tuple[Node, Node | None]] = []
    start = ctx.sink_node
    ret = enclosing(start, "return_statement") or enclosing(ctx.node, "return_statement")
    for call in [enclosing(start, "call"), *[n for n in walk(ctx.node) if n.type == "call"]]:
        if call is None:
            continue
        fn = call.child_by_field_name("function")
        name = ctx.qualified(ctx.text(fn)) if fn is not None else ""
        if name in RESPONSE_CALLS or name in TEMPLATE_STRING_CALLS:
            args = positional(call)
            kw = keyword(call, "content") or keyword(call, "response") or keyword(call, "body")
            payload = args[0] if args else kw.child_by_field_name("value") if kw is not None else None
            if payload is not None:
                found.append((payload, call))
    if ret is not None and ret.named_child_count:
        value = ret.named_children[0]
        if value.type in {"tuple", "expression_list"} and value.named_child_count:
            value = value.named_children[0]
        found.append((value, None))
    if ctx.node.type in {"string", "binary_operator", "concatenated_string", "identifier"}:
        found.append((ctx.node, None))
    return found


def escape_values(ctx: FixContext) -> Draft | None:
    """Escape each untrusted value interpolated into HTML (`f"<p>{name}</p>"` -> `f"<p>{escape(name)}</p>"`)."""
    for payload, call in _payloads(ctx):
        if call is not None:
            fn = call.child_by_field_name("function")
            if fn is not None and ctx.qualified(ctx.text(fn)) in TEMPLATE_STRING_CALLS:
                continue
        target = payload
        built = built_string(ctx.doc, payload)
        if built is None and payload.type == "identifier":
            value = single_assignment(ctx.doc, payload)
            if value is not None:
                built = built_string(ctx.doc, value)
                target = value
        if built is not None:
            plus = target.type == "binary_operator" and ctx.text(target).find("+") >= 0 and \
                target.child_by_field_name("operator") is not None and \
                target.child_by_field_name("operator").type == "+"  # type: ignore[union-attr]
            wraps = _wrap(ctx, built, plus)
            if wraps:
                return Draft("Escape untrusted values in the HTML", [ctx.replace(n, t) for n, t in wraps])
            continue
        callee = payload.child_by_field_name("function") if payload.type == "call" else None
        if callee is not None and not _STR_SOURCES.search(ctx.text(callee)):
            wrapped = _escape_call_arguments(ctx, payload)
            if wrapped is not None:
                return wrapped
            continue
        if payload.type not in {"identifier", "subscript", "attribute", "call"}:
            continue
        if ctx.is_tainted(payload) is False or ctx.text(payload).startswith(ESCAPES):
            continue
        escape, needs_str = _escape_ref(ctx)
        expr = Expr(ctx.text(payload), payload)
        inner = expr.source if not needs_str or _is_str(ctx, expr) else f"str({expr.source})"
        return Draft("Escape the untrusted value before returning it as HTML",
                     [ctx.replace(payload, f"{escape}({inner})")])
    return None


def _escape_call_arguments(ctx: FixContext, call: Node) -> Draft | None:
    """`return render.greeting(name)` (a helper that builds HTML) -> `render.greeting(escape(name))`."""
    fn = call.child_by_field_name("function")
    if fn is None or ctx.qualified(ctx.text(fn)) in RESPONSE_CALLS | TEMPLATE_STRING_CALLS:
        return None
    escape, needs_str = _escape_ref(ctx)
    edits = []
    for arg in positional(call):
        if arg.type in {"string", "integer", "float", "true", "false", "none"} or ctx.text(arg).startswith(ESCAPES):
            continue
        if ctx.is_tainted(arg) is False:
            continue
        expr = Expr(ctx.text(arg), arg)
        inner = expr.source if not needs_str or _is_str(ctx, expr) else f"str({expr.source})"
        # a plain str: the helper may concatenate it, and str + Markup would escape the helper's own HTML
        edits.append(ctx.replace(arg, f"{escape}({inner})" if needs_str else f"str({escape}({inner}))"))
    if not edits:
        return None
    return Draft("Escape the untrusted values passed to the HTML helper", edits)


MARKUP_CALLS = frozenset({"django.utils.safestring.mark_safe", "django.utils.safestring.SafeString",
                          "markupsafe.Markup", "flask.Markup", "jinja2.Markup"})


def escape_before_markup(ctx: FixContext) -> Draft | None:
    """`mark_safe(text.replace("\\n", "<br>"))` -> `mark_safe(escape(text).replace("\\n", "<br>"))`: the
    untrusted text is escaped first, the markup the code adds still renders."""
    for call in [enclosing(ctx.sink_node, "call"), *[n for n in walk(ctx.node) if n.type == "call"]]:
        fn = call.child_by_field_name("function") if call is not None else None
        if call is None or fn is None or ctx.qualified(ctx.text(fn)) not in MARKUP_CALLS:
            continue
        args = positional(call)
        inner = args[0] if len(args) == 1 else None
        receiver = None
        while inner is not None and inner.type == "call":
            method = inner.child_by_field_name("function")
            if method is None or method.type != "attribute" or ctx.text(method).rsplit(".", 1)[-1] != "replace":
                break
            receiver = inner = method.child_by_field_name("object")
        if receiver is None or receiver.type in {"string", "concatenated_string"} or \
                ctx.text(receiver).startswith(ESCAPES) or ctx.is_tainted(receiver) is False:
            continue
        escape, needs_str = _escape_ref(ctx)
        escaped = f"{escape}({ctx.text(receiver)})"
        if not needs_str:
            escaped = f"str({escaped})"  # a Markup's replace() would escape the markup added after it
        return Draft("Escape the untrusted text before adding markup to it", [ctx.replace(receiver, escaped)])
    return None


def autoescape_on(ctx: FixContext) -> Draft | None:
    """`Environment(autoescape=False)` / `Template(src)` -> `autoescape=True`."""
    for node in [enclosing(ctx.sink_node, "call"), *[n for n in walk(ctx.node) if n.type == "call"],
                 enclosing(ctx.node, "call")]:
        if node is None:
            continue
        fn = node.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.text(fn)) not in JINJA_CONSTRUCTORS:
            continue
        edit = set_keyword(ctx.doc, node, "autoescape", "True")
        if edit is not None:
            return Draft("Turn on Jinja2 autoescaping", [edit])
    return None


def _conditional_escape(ctx: FixContext, markup_call: str, in_string: bool) -> tuple[str, str]:
    """The escape that leaves values already marked safe alone, spelled for the marking call's library, and how
    it is called (inside built strings and on entry, markupsafe's Markup result is made a str again: str + Markup
    would escape the markup the code adds)."""
    if markup_call.startswith("django."):
        return ctx.ref("django.utils.html", "conditional_escape"), "{}({})"
    return ctx.ref("markupsafe", "escape"), "str({}({}))" if in_string else "{}({})"


@source_independent
def escape_marked_input(ctx: FixContext) -> Draft | None:
    """`mark_safe(x)` / `Markup(x)` of a non-literal, escaping what goes in and keeping the markup the code adds:
    a parameter the function builds the HTML from is escaped on entry (`text = conditional_escape(text)`); the
    values interpolated into a built HTML string are escaped in place; any other value is escaped instead of
    marked safe. Values already marked safe pass unchanged (conditional_escape / markupsafe.escape)."""
    for call in [enclosing(ctx.sink_node, "call"), *[n for n in walk(ctx.node) if n.type == "call"]]:
        fn = call.child_by_field_name("function") if call is not None else None
        name = ctx.qualified(ctx.text(fn)) if fn is not None else ""
        if call is None or name not in MARKUP_CALLS:
            continue
        args = positional(call)
        if len(args) != 1 or ctx.text(args[0]).startswith(ESCAPES):
            continue
        literal = built_string(ctx.doc, args[0]) if args[0].type in {"string", "concatenated_string"} else None
        if args[0].type in {"integer", "float"} or (args[0].type in {"string", "concatenated_string"} and
                                                     (literal is None or not literal.exprs)):
            continue  # markup the code wrote itself
        draft = _escape_entry(ctx, call, args[0], name) or _escape_built(ctx, args[0], name)
        if draft is not None:
            return draft
        if built_string(ctx.doc, args[0]) is not None or (args[0].type == "identifier" and
                                                          _assigned_html(ctx, args[0])):
            continue  # HTML the code builds: escaping it whole would show the markup
        escape, form = _conditional_escape(ctx, name, in_string=False)
        return Draft(f"Escape {ctx.text(args[0])} instead of marking it safe (markup it holds now shows as text; "
                     "values marked safe are unchanged)", [ctx.replace(call, form.format(escape, ctx.text(args[0])))])
    return None


def _escape_entry(ctx: FixContext, call: Node, arg: Node, markup_call: str) -> Draft | None:
    """The marked value is a parameter of the function (perhaps rebuilt with markup): escape it on entry."""
    function = enclosing_function(call)
    if arg.type != "identifier" or function is None or _parameter(ctx, function, ctx.text(arg)) is None or \
            _NUMERIC_CONVERSION.search(ctx.text(function)):
        return None  # (a `%d` in the function may format the parameter: an escaped str would not do)
    body = function.child_by_field_name("body")
    first = _first_statement(body) if body is not None else None
    if first is None:
        return None
    value = ctx.text(arg)
    escape, form = _conditional_escape(ctx, markup_call, in_string=True)
    return Draft(f"Escape the {value} parameter on entry with {escape.rsplit('.', 1)[-1]}() (markup passed in as "
                 "a plain str now shows as text; values marked safe are unchanged)",
                 [insert_before(ctx.doc, first, [f"{value} = {form.format(escape, value)}"])])


def _escape_built(ctx: FixContext, arg: Node, markup_call: str) -> Draft | None:
    """The marked value is an HTML string built from values (here or in its one assignment): escape each value."""
    source: Node | None = arg
    built = built_string(ctx.doc, arg)
    if built is None and arg.type == "identifier":
        source = single_assignment(ctx.doc, arg)
        built = built_string(ctx.doc, source) if source is not None else None
    if built is None or source is None or _NUMERIC_CONVERSION.search(ctx.text(source)):
        return None  # `"%d" % n`: an escaped str would not format as a number
    escape, form = _conditional_escape(ctx, markup_call, in_string=True)
    edits = [ctx.replace(expr.node, form.format(escape, expr.source)) for expr in built.exprs
             if not (expr.source.startswith(ESCAPES) or expr.node.type in {"string", "integer", "float"} or
                     (expr.node.type == "identifier" and expr.source.isupper()))]
    if not edits:
        return None
    return Draft("Escape the values put into the HTML before marking it safe (the markup around them still "
                 "renders)", edits)


_NUMERIC_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGc]")
"""A %-format conversion that needs a number (or a char), not the str an escape returns."""


def _assigned_html(ctx: FixContext, name: Node) -> bool:
    """True when the name is assigned a string holding markup in the document."""
    value = single_assignment(ctx.doc, name)
    return value is None or "<" in ctx.text(value)


def _parameter(ctx: FixContext, function: Node | None, name: str) -> Node | None:
    """The parameter of `function` called `name` (plain, typed or with a default)."""
    params = function.child_by_field_name("parameters") if function is not None else None
    for param in params.named_children if params is not None else ():
        ident = param if param.type == "identifier" else param.child_by_field_name("name") \
            if param.type in {"default_parameter", "typed_default_parameter"} else \
            next((c for c in param.named_children if c.type == "identifier"), None) \
            if param.type == "typed_parameter" else None
        if ident is not None and ctx.text(ident) == name:
            return param
    return None


def _first_statement(body: Node) -> Node | None:
    """The first statement of a block after its docstring."""
    statements = [c for c in body.named_children if c.type != "comment"]
    if statements and statements[0].type == "expression_statement" and statements[0].named_child_count and \
            statements[0].named_children[0].type == "string":
        statements = statements[1:]
    return statements[0] if statements else None


REWRITERS: tuple[Rewriter, ...] = (*TEMPLATE_REWRITERS, escape_before_markup, escape_values, autoescape_on,
                                   escape_marked_input)
"""Tried in order for an XSS finding."""
