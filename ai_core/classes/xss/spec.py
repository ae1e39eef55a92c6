"""Cross-site scripting (CWE-79): untrusted text written into HTML without escaping.

`mark_safe`/`Markup` of a caller's text (a helper's parameter, as it is or built into markup) is a review
finding; markup the code builds from its own state, escaped text and `Markup(x).unescape()` are not.

Fix: render templates with autoescaping (`render_template`, Django templates), escape with
`markupsafe.escape`/`html.escape`, never wrap client data in `Markup`/`mark_safe`, return JSON
(`jsonify`, `JsonResponse`) for data.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Sanitizer, Sink
from ai_core.findings import VulnClass

XSS = VulnClass.XSS

_NOT_HTML = (ArgTest("mimetype", contains=("json", "text/plain", "text/csv")),
             ArgTest("content_type", contains=("json", "text/plain", "text/csv")),
             ArgTest("media_type", contains=("json", "text/plain", "text/csv")))

SPEC = ClassSpec(
    vuln_class=XSS,
    sinks=(
        Sink(
            id="xss.route-return",
            vuln_class=XSS,
            patterns=("<route-return>",),
            args=("value",),
            confidence=0.8,
            reason="A string returned from a Flask view (or a FastAPI route with response_class=HTMLResponse) "
                   "is sent as text/html.",
            example='return f"<h1>Hello {request.args[\'name\']}</h1>"',
            title="untrusted data returned as HTML",
        ),
        Sink(
            id="xss.response-body",
            vuln_class=XSS,
            patterns=("flask.make_response", "flask.Response", "werkzeug.wrappers.Response", "werkzeug.Response",
                      "django.http.HttpResponse", "django.http.response.HttpResponse",
                      "django.http.HttpResponseBadRequest", "django.http.HttpResponseNotFound",
                      "django.http.HttpResponseForbidden", "django.http.HttpResponseServerError",
                      "starlette.responses.HTMLResponse", "fastapi.responses.HTMLResponse",
                      "starlette.responses.Response", "fastapi.responses.Response", "aiohttp.web.Response",
                      "tornado.web.RequestHandler.write", "tornado.web.RequestHandler.finish"),
            args=(0, "response", "content", "body", "text", "chunk"),
            unless=_NOT_HTML,
            confidence=0.8,
            reason="A response body is HTML unless a non-HTML content type is set.",
            example='return HttpResponse(f"<p>{comment}</p>")',
            title="untrusted data in an HTML response",
        ),
        Sink(
            id="xss.mark-safe",
            vuln_class=XSS,
            patterns=("django.utils.safestring.mark_safe", "django.utils.safestring.SafeString",
                      "markupsafe.Markup", "flask.Markup", "jinja2.Markup", "django.utils.html.format_html"),
            args=(0, "s", "base", "format_string"),
            review_params=True,
            undone_by=("unescape", "striptags"),
            confidence=0.9,
            reason="mark_safe/Markup switch autoescaping off for their argument; format_html escapes only its "
                   "arguments, not the format string.",
            example='mark_safe(f"<a href=\'{url}\'>{title}</a>")',
            title="untrusted data marked safe",
        ),
    ),
    sanitizers=(
        Sanitizer(
            id="xss.sanitize.escape",
            patterns=("html.escape", "markupsafe.escape", "flask.escape", "jinja2.escape", "cgi.escape",
                      "tornado.escape.xhtml_escape",
                      "django.utils.html.escape", "django.utils.html.conditional_escape", "bleach.clean",
                      "xml.sax.saxutils.escape", "urllib.parse.quote", "urllib.parse.quote_plus",
                      "django.utils.html.urlize", "nh3.clean"),
            classes=frozenset({XSS}),
            reason="HTML escaping turns <, >, & and quotes into entities.",
            example='return f"<h1>Hello {escape(name)}</h1>"',
        ),
        Sanitizer(
            id="xss.sanitize.markup-format",
            patterns=("markupsafe.Markup.format", "flask.Markup.format"),
            classes=frozenset({XSS}),
            reason="Markup('<b>{}</b>').format(x) escapes its arguments.",
            example="Markup('<b>{}</b>').format(name)",
        ),
    ),
    tables={
        "safe_returns": ("flask.jsonify", "flask.render_template", "flask.redirect", "flask.url_for",
                         "flask.send_file", "flask.send_from_directory", "flask.abort",
                         "django.shortcuts.render", "django.http.JsonResponse", "json.dumps"),
        "jinja2_environments": ("jinja2.Environment", "jinja2.Template"),
    },
)
