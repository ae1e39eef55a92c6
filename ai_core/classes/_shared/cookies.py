"""Cookie flags set on `set_cookie` calls (misconfiguration, data exposure and sessions report them)."""

from __future__ import annotations

from ai_core.classes._shared.edit_helpers import calls_in_finding
from ai_core.fixes.calls import append_argument, keyword
from ai_core.fixes.context import Draft, FixContext

_COOKIE_FLAGS = (("secure", "True"), ("httponly", "True"), ("samesite", '"Lax"'))


def cookie_flags(ctx: FixContext) -> Draft | None:
    """`resp.set_cookie(k, v)` -> `resp.set_cookie(k, v, secure=True, httponly=True, samesite="Lax")`."""
    for call in calls_in_finding(ctx):
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
