"""Code injection: `ast.literal_eval` for eval of data; template text kept fixed, client values passed as variables."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import calls_near
from ai_core.classes.sql_injection.rewriters import _param_name
from ai_core.fixes.calls import append_argument, keyword, positional
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.names import single_assignment
from ai_core.fixes.strings import Expr, built_string, render_str

TEMPLATE_STRING_CALLS = frozenset({"flask.render_template_string", "flask.templating.render_template_string",
                                   "quart.render_template_string"})
_LITERALS = frozenset({"string", "concatenated_string", "integer", "float", "true", "false", "none"})


@source_independent
def literal_eval(ctx: FixContext) -> Draft | None:
    """`eval(x)` of data -> `ast.literal_eval(x)` (Python literals only)."""
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.text(fn)) not in {"eval", "builtins.eval"}:
            continue
        if len(positional(call)) != 1 or keyword(call, "globals") is not None:
            continue
        return Draft("Parse literals with ast.literal_eval instead of eval",
                     [ctx.replace(fn, ctx.ref("ast", "literal_eval"))])
    return None


def _taken(ctx: FixContext, call: Node) -> set[str]:
    args = call.child_by_field_name("arguments")
    names = set()
    for arg in args.named_children if args is not None else ():
        name = arg.child_by_field_name("name") if arg.type == "keyword_argument" else None
        if name is not None:
            names.add(ctx.text(name))
    return names


def template_variables(ctx: FixContext) -> Draft | None:
    """`render_template_string(f"<p>{name}</p>")` -> `render_template_string("<p>{{ name }}</p>", name=name)`;
    a template that is client text altogether is rendered as one escaped variable."""
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.text(fn)) not in TEMPLATE_STRING_CALLS:
            continue
        args = positional(call)
        if not args:
            continue
        source = args[0]
        built = built_string(ctx.doc, source)
        if built is None and source.type == "identifier":
            value = single_assignment(ctx.doc, source)
            if value is not None and built_string(ctx.doc, value) is not None:
                built, source = built_string(ctx.doc, value), value
        taken = _taken(ctx, call)
        bindings: list[str] = []
        if built is not None and built.exprs:
            template = ""
            for piece in built.pieces:
                if isinstance(piece, Expr):
                    name = _param_name(piece, len(bindings) + 1, taken)
                    template += "{{ " + name + " }}"
                    bindings.append(f"{name}={piece.source}")
                else:
                    template += piece
            quote = built.quote
        elif built is None and source.type not in _LITERALS and source is args[0]:
            name = _param_name(Expr(ctx.text(source), source), 1, taken | {"content"}) \
                if source.type == "identifier" else "content"
            template, quote = "{{ " + name + " }}", '"'
            bindings.append(f"{name}={ctx.text(source)}")
        else:
            continue
        edits = [ctx.replace(source, render_str(template, quote))]
        appended = [append_argument(ctx.doc, call, binding) for binding in bindings]
        if any(edit is None for edit in appended):
            continue
        first = appended[0]
        assert first is not None
        edits.append(type(first)(first.start_byte, first.end_byte, "".join(e.new_text for e in appended if e)))
        return Draft("Keep the template fixed and pass the values as variables (autoescaped)", edits)
    return None


REWRITERS: tuple[Rewriter, ...] = (template_variables, literal_eval)
"""Tried in order for a code injection finding."""
