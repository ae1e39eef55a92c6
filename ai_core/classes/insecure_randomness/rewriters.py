"""Insecure randomness: the `secrets` equivalent of each `random` call; `uuid4` for `uuid1`."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import calls_near
from ai_core.fixes.calls import arguments, positional
from ai_core.fixes.context import Draft, FixContext, Rewriter

_SAME_NAME = {"choice": "choice", "getrandbits": "randbits", "randbytes": "token_bytes"}
_SYSTEM_RANDOM = frozenset({"random", "choices", "sample", "uniform", "shuffle"})


def _int(ctx: FixContext, node: Node) -> int | None:
    try:
        return int(ctx.text(node), 0) if node.type == "integer" else None
    except ValueError:
        return None


def _below(ctx: FixContext, low: Node | None, high: Node, inclusive: bool) -> str:
    """`secrets.randbelow(...)` (plus the offset) for the range [low, high] (inclusive) or [low, high)."""
    randbelow = ctx.ref("secrets", "randbelow")
    lo = 0 if low is None else _int(ctx, low)
    hi = _int(ctx, high)
    plus = 1 if inclusive else 0
    if lo is not None and hi is not None:
        call = f"{randbelow}({hi - lo + plus})"
        return call if lo == 0 else f"{call} + {lo}"
    if low is None or lo == 0:
        return f"{randbelow}({ctx.text(high)}{' + 1' if inclusive else ''})"
    low_text = ctx.text(low) if low.type in {"identifier", "attribute", "integer"} else f"({ctx.text(low)})"
    return f"{randbelow}({ctx.text(high)} - {low_text}{' + 1' if inclusive else ''}) + {low_text}"


def secrets_equivalent(ctx: FixContext) -> Draft | None:
    """`random.choice(abc)` -> `secrets.choice(abc)`, `randint(a, b)` -> `secrets.randbelow(b - a + 1) + a`,
    `getrandbits(k)` -> `secrets.randbits(k)`, other methods -> `secrets.SystemRandom()`; `uuid1()` -> `uuid4()`."""
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None:
            continue
        local = ctx.text(fn)
        module, _, method = ctx.qualified(local).rpartition(".")
        if module == "uuid" and method == "uuid1":
            return Draft("Use uuid.uuid4() (random) instead of uuid1() (time and MAC address)",
                         [ctx.replace(fn, ctx.ref("uuid", "uuid4"))], drop_imports=[local.split(".")[0]])
        if module != "random":
            continue
        args = positional(call)
        if len(args) != len(arguments(call)):
            continue  # keywords (k=, weights=) only exist on SystemRandom: handled below
        if method in _SAME_NAME:
            replacement = f"{ctx.ref('secrets', _SAME_NAME[method])}({', '.join(ctx.text(a) for a in args)})"
        elif method == "randint" and len(args) == 2:
            replacement = _below(ctx, args[0], args[1], inclusive=True)
        elif method == "randrange" and len(args) in {1, 2}:
            replacement = _below(ctx, args[0] if len(args) == 2 else None, args[-1], inclusive=False)
        elif method in _SYSTEM_RANDOM:
            replacement = f"{ctx.ref('secrets', 'SystemRandom')}().{method}({', '.join(ctx.text(a) for a in args)})"
        else:
            continue
        return Draft(f"Use the secrets module instead of random.{method}()", [ctx.replace(call, replacement)],
                     drop_imports=[local.split(".")[0]])
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.text(fn)).rpartition(".")[0] != "random":
            continue
        method = ctx.qualified(ctx.text(fn)).rpartition(".")[2]
        if method in _SYSTEM_RANDOM:
            return Draft(f"Use secrets.SystemRandom().{method}() (operating system randomness)",
                         [ctx.replace(fn, f"{ctx.ref('secrets', 'SystemRandom')}().{method}")],
                         drop_imports=[ctx.text(fn).split(".")[0]])
    return None


REWRITERS: tuple[Rewriter, ...] = (secrets_equivalent,)
"""Tried in order for an insecure randomness finding."""
