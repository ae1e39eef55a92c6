"""Open redirect: a same-host check before the redirect (Django's url_has_allowed_host_and_scheme, else urlparse)."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import bind, calls_near, value_of
from ai_core.fixes.context import Draft, FixContext, Rewriter
from ai_core.fixes.layout import guard_statement, insert_before
from ai_core.parsing.tree import enclosing_function

REDIRECTS = frozenset({
    "flask.redirect", "flask.helpers.redirect", "werkzeug.utils.redirect", "quart.redirect",
    "django.shortcuts.redirect", "django.http.HttpResponseRedirect", "django.http.HttpResponsePermanentRedirect",
    "django.http.response.HttpResponseRedirect", "starlette.responses.RedirectResponse",
    "fastapi.responses.RedirectResponse", "aiohttp.web.HTTPFound", "aiohttp.web.HTTPSeeOther",
    "aiohttp.web.HTTPMovedPermanently", "aiohttp.web.HTTPTemporaryRedirect", "aiohttp.web.HTTPPermanentRedirect",
    "bottle.redirect",
})
FALLBACK = '"/"'


def _request_name(ctx: FixContext, call: Node) -> str:
    """The Django request parameter of the enclosing view ('' when there is none)."""
    function = enclosing_function(call)
    params = function.child_by_field_name("parameters") if function is not None else None
    for param in params.named_children if params is not None else ():
        name = ctx.text(param).split(":")[0].split("=")[0].strip()
        if name in {"request", "req"}:
            return name
    return ""


def same_host_redirect(ctx: FixContext) -> Draft | None:
    """`redirect(nxt)` -> fall back to "/" unless `nxt` stays on this site, checked before the redirect."""
    for call in calls_near(ctx):
        fn = call.child_by_field_name("function")
        name = ctx.qualified(ctx.text(fn)) if fn is not None else ""
        if name not in REDIRECTS:
            continue
        target = value_of(call, 0, "location", "url", "to", "redirect_to")
        statement = guard_statement(ctx.doc, call) if target is not None else None
        bound = bind(ctx, target, "target") if target is not None and statement is not None else None
        if statement is None or bound is None:
            continue
        var, pre, replacements = bound
        if name.startswith("django."):
            check = ctx.ref("django.utils.http", "url_has_allowed_host_and_scheme")
            request = _request_name(ctx, call)
            hosts = f"{{{request}.get_host()}}" if request else "None"
            secure = f", require_https={request}.is_secure()" if request else ""
            condition = f"not {check}({var}, allowed_hosts={hosts}{secure})"
            title = "Redirect only to this site (url_has_allowed_host_and_scheme)"
        else:
            urlparse = ctx.ref("urllib.parse", "urlparse")
            condition = (f'not {var} or {urlparse}({var}).netloc or {urlparse}({var}).scheme or '
                         f'{var}.startswith(("//", "/\\\\"))')
            title = "Redirect only to a path on this site (no host in the URL)"
        lines = [*pre, f"if {condition}:", f"    {var} = {FALLBACK}"]
        return Draft(title, [insert_before(ctx.doc, statement, lines), *replacements],
                     note="Targets on other hosts now go to the home page; list trusted hosts if you need them.")
    return None


REWRITERS: tuple[Rewriter, ...] = (same_host_redirect,)
"""Tried in order for an open redirect finding."""
