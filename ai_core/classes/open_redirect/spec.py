"""Open redirect (CWE-601): the client chooses where the server sends the browser.

`redirect(request.args["next"])` sends a victim who clicked a link on the real site on to
`https://evil.example/login`, a phishing copy that now looks trusted (and leaks tokens in URLs).
A redirect to a fixed path (`redirect("/login")`, `url_for(...)`, `reverse(...)`) or to a URL whose host was
checked is fine.

Fix: check the target before redirecting: Django `url_has_allowed_host_and_scheme(url,
allowed_hosts={request.get_host()})`, elsewhere `urlparse(url).netloc` must be empty (a local path) or an
allowed host; fall back to a fixed page.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Sanitizer, Sink
from ai_core.findings import Severity, VulnClass

REDIRECT = VulnClass.OPEN_REDIRECT

LOCAL_PATH = r"^([fFrRuU]*['\"]/[^/\\'\"{]|(flask\.)?url_for\(|(django\.urls\.)?reverse(_lazy)?\()"
"""Source text of a redirect target that starts on this site: a literal '/' plus a path character (not
'//host', and not a bare '/' that the untrusted part could continue into '//host'), or a URL built by
url_for/reverse with something appended (`url_for("login") + "?next=" + path`)."""

SPEC = ClassSpec(
    vuln_class=REDIRECT,
    sinks=(
        Sink(
            id="redirect.response",
            vuln_class=REDIRECT,
            patterns=("flask.redirect", "flask.helpers.redirect", "werkzeug.utils.redirect", "quart.redirect",
                      "django.shortcuts.redirect", "django.http.HttpResponseRedirect",
                      "django.http.HttpResponsePermanentRedirect", "django.http.response.HttpResponseRedirect",
                      "starlette.responses.RedirectResponse", "fastapi.responses.RedirectResponse",
                      "aiohttp.web.HTTPFound", "aiohttp.web.HTTPSeeOther", "aiohttp.web.HTTPMovedPermanently",
                      "aiohttp.web.HTTPTemporaryRedirect", "aiohttp.web.HTTPPermanentRedirect",
                      "aiohttp.web_exceptions.HTTPFound", "bottle.redirect", "pyramid.httpexceptions.HTTPFound"),
            args=(0, "location", "url", "to", "redirect_to"),
            unless=(ArgTest("location", position=0, matches=LOCAL_PATH),),
            severity=Severity.MEDIUM,
            confidence=0.8,
            reason="A redirect to a client-chosen URL sends users to any site under this site's name (phishing, "
                   "token leaks).",
            example='return redirect(request.args.get("next"))',
            title="redirect to a URL chosen by untrusted data",
        ),
        Sink(
            id="redirect.location-header",
            vuln_class=REDIRECT,
            patterns=("<header-assign>:location",),
            args=("value",),
            severity=Severity.MEDIUM,
            confidence=0.75,
            reason="A Location header set from client data redirects to any site.",
            example='resp.headers["Location"] = request.args["next"]',
            title="Location header from untrusted data",
        ),
    ),
    sanitizers=(
        Sanitizer(
            id="redirect.sanitize.allowed-host",
            patterns=("django.utils.http.url_has_allowed_host_and_scheme", "django.utils.http.is_safe_url",
                      "*.url_has_allowed_host_and_scheme", "*.is_safe_url", "*.is_safe_redirect_url",
                      "*.is_local_url"),
            kind="guard",
            classes=frozenset({REDIRECT}),
            reason="An `if` on url_has_allowed_host_and_scheme / is_safe_url proves the target stays on allowed "
                   "hosts in its true branch.",
            example="if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):\n"
                    "    nxt = '/'",
        ),
        Sanitizer(
            id="redirect.sanitize.netloc-check",
            patterns=("<host-check>",),
            kind="builtin",
            classes=frozenset({REDIRECT}),
            reason="Checking urlparse(url).netloc (empty, or equal to / in a constant set of hosts) before the "
                   "redirect; a fixed 'https://host/' prefix works the same way.",
            example="if urlparse(nxt).netloc:\n    abort(400)",
        ),
        Sanitizer(
            id="redirect.sanitize.urlencode",
            patterns=("urllib.parse.urlencode", "django.utils.http.urlencode", "*.urlencode"),
            classes=frozenset({REDIRECT}),
            reason="An urlencoded query string quotes '/' and ':', so it cannot name another host, alone or "
                   "appended after '?'.",
            example='return redirect(url_for("search") + "?" + urlencode({"q": q}))',
        ),
        Sanitizer(
            id="redirect.sanitize.url-builders",
            patterns=("flask.url_for", "django.urls.reverse", "django.shortcuts.resolve_url",
                      "starlette.requests.Request.url_for"),
            classes=frozenset({REDIRECT}),
            reason="url_for/reverse build a URL of this application from a route name.",
            example='return redirect(url_for("profile", user=name))',
        ),
    ),
    tables={
        "redirect_calls": ("flask.redirect", "werkzeug.utils.redirect", "quart.redirect", "django.shortcuts.redirect",
                           "django.http.HttpResponseRedirect", "django.http.HttpResponsePermanentRedirect",
                           "starlette.responses.RedirectResponse", "fastapi.responses.RedirectResponse",
                           "aiohttp.web.HTTPFound", "aiohttp.web.HTTPSeeOther", "bottle.redirect"),
    },
)
