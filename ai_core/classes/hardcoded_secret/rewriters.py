"""Hardcoded secret rewriters: the value read from `os.environ`, named after the variable."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import environ_item, quote_like, target_name
from ai_core.fixes.calls import positional
from ai_core.fixes.context import Draft, FixContext, Rewriter
from ai_core.fixes.names import env_name
from ai_core.fixes.strings import is_str_literal, literal_value
from ai_core.parsing.tree import ancestors, enclosing, walk

_TOKEN_PREFIX = re.compile(r"^(Bearer|Token|Basic|token|bearer)\s+")
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
            quote = quote_like(literal)
            return Draft(f"Read {positional_name} from the environment",
                         [ctx.replace(literal, environ_item(ctx, positional_name, quote))],
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
                                     [ctx.replace(parent_call, environ_item(ctx, key, quote_like(args[0])))],
                                     env_vars=[key])
            continue
        name = env_name(target_name(ctx, holder))
        if holder.type == "pair" and name in _GENERIC_NAMES:
            outer = enclosing(holder, "assignment")
            outer_name = env_name(target_name(ctx, outer)) if outer is not None else ""
            if outer_name and outer_name != "SECRET":
                name = f"{outer_name}_{name}"
        if not name or (name == "SECRET" and not target_name(ctx, holder)):
            continue
        value = literal_value(ctx.doc, literal) or ""
        quote = quote_like(literal)
        replacement = environ_item(ctx, name, quote)
        prefix = _TOKEN_PREFIX.match(value)
        if prefix:
            replacement = f"{quote}{prefix.group(0)}{quote} + {replacement}"
        return Draft(f"Read {name} from the environment", [ctx.replace(literal, replacement)], env_vars=[name],
                     note=f"Set {name} in the environment (and rotate the old value: it is in the history).")
    return None


REWRITERS: tuple[Rewriter, ...] = (secret_from_environment,)
"""Tried in order for a hardcoded secret finding."""
