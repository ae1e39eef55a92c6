"""Where untrusted data enters a Python program: web requests, the command line, sockets, archives.

Framework parameters that are sources by declaration (Flask `<name>` route variables, every
non-dependency FastAPI route parameter, Django URL keyword arguments of views, click/typer command
options) are recognised from decorators by `ai_core.analysis.taint.frameworks`; they are listed in
FRAMEWORK_PARAMETERS below for documentation.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import INJECTION_CLASSES, Source
from ai_core.findings import VulnClass

LOCAL_USER_CLASSES = frozenset({VulnClass.COMMAND_INJECTION, VulnClass.SQL_INJECTION, VulnClass.CODE_INJECTION})
"""What command-line and interactive input can exploit: the person running a CLI may open any file or URL
they like (so paths and URLs from argv are intended), but values passed on by scripts and CI (branch names,
file names, titles) must not become shell commands, SQL or code to evaluate."""

REQUEST_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("args", "flask: query string"),
    ("form", "flask: form body"),
    ("values", "flask: query string and form"),
    ("json", "flask: parsed JSON body"),
    ("data", "flask: raw body; DRF: parsed body"),
    ("files", "flask: uploaded files (names and contents)"),
    ("cookies", "flask/starlette: cookies"),
    ("headers", "every framework: request headers (Origin, Referer, custom headers)"),
    ("get_json", "flask: parsed JSON body"),
    ("get_data", "flask: raw body"),
    ("stream", "flask: raw body stream"),
    ("view_args", "flask: URL variables"),
    ("query_string", "flask: raw query string"),
    ("GET", "django: query string"),
    ("POST", "django: form body"),
    ("COOKIES", "django: cookies"),
    ("META", "django: headers and CGI variables"),
    ("FILES", "django: uploaded files"),
    ("body", "django: raw body; starlette: await request.body()"),
    ("query_params", "starlette/fastapi/DRF: query string"),
    ("path_params", "starlette/fastapi: URL variables"),
    ("form", "starlette: await request.form()"),
    ("query", "aiohttp: query string"),
    ("match_info", "aiohttp: URL variables"),
    ("post", "aiohttp: await request.post()"),
    ("text", "aiohttp: await request.text()"),
    ("read", "aiohttp: await request.read()"),
    ("content", "aiohttp: request.content stream"),
    ("rel_url", "aiohttp: the relative URL with its query (request.rel_url.query)"),
    ("params", "falcon/pyramid/bottle: query and form parameters"),
    ("get_param", "falcon: one parameter"),
    ("get_param_as_list", "falcon: a list parameter"),
    ("media", "falcon: parsed body"),
    ("get_media", "falcon: parsed body"),
    ("bounded_stream", "falcon: raw body"),
    ("get_header", "falcon: one header"),
    ("matchdict", "pyramid: URL variables"),
    ("json_body", "pyramid: parsed JSON body"),
    ("forms", "bottle: form body"),
    ("arguments", "tornado: query and body arguments"),
    ("query_arguments", "tornado: query arguments"),
    ("body_arguments", "tornado: body arguments"),
)
"""Attributes of a request object that carry client data (request.user, request.method do not)."""

REQUEST_GLOBALS = ("flask.request", "quart.request", "bottle.request")
"""Module-level request proxies: `from flask import request` (also Quart's, awaited, and Bottle's)."""

HANDLER_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("get_argument", "tornado: a query or body argument"),
    ("get_arguments", "tornado: query or body arguments"),
    ("get_query_argument", "tornado: a query argument"),
    ("get_query_arguments", "tornado: query arguments"),
    ("get_body_argument", "tornado: a body argument"),
    ("get_body_arguments", "tornado: body arguments"),
    ("get_cookie", "tornado: a cookie"),
    ("path_args", "tornado: URL captures"),
    ("path_kwargs", "tornado: URL captures"),
    ("path", "http.server: the request path and query string"),
    ("headers", "http.server: request headers"),
    ("rfile", "http.server/socketserver: the request body stream"),
    ("requestline", "http.server: the request line"),
    ("raw_requestline", "http.server: the raw request line"),
)
"""Attributes of `self` in request handler classes (Tornado RequestHandler, http.server's
BaseHTTPRequestHandler) that carry client data; `<self-request>` in patterns."""

FORM_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("data", "WTForms/Flask-WTF: a field's submitted value (form.name.data) or all of them (form.data)"),
    ("raw_data", "WTForms: a field's raw submitted values"),
    ("cleaned_data", "Django forms: the submitted values after field conversion (strings stay strings)"),
)
"""Attributes of form objects (instances of project classes deriving from a form base) that carry client data."""

_WEB_REQUEST = tuple(
    Source(
        id=f"source.request.{name}",
        patterns=(*(f"{proxy}.{name}" for proxy in REQUEST_GLOBALS), f"<request>.{name}"),
        reason=f"HTTP request data controlled by the client ({where}).",
        example=f"value = request.{name}",
        label=f"request.{name}",
    )
    for name, where in dict(REQUEST_ATTRIBUTES).items()
)

_HANDLER_SELF = tuple(
    Source(
        id=f"source.handler.{name}",
        patterns=(f"<self-request>.{name}",),
        reason=f"HTTP request data controlled by the client ({where}).",
        example=f"value = self.{name}",
        label=f"self.{name}",
    )
    for name, where in HANDLER_ATTRIBUTES
)

_FORM_FIELDS = tuple(
    Source(
        id=f"source.form.{name}",
        patterns=(f"<form>.{name}",),
        reason=f"Form data submitted by the client ({where}).",
        example=f"value = form.title.{name}" if name != "cleaned_data" else "value = form.cleaned_data['title']",
        label=f"form field .{name}",
        kind="attribute",
    )
    for name, where in FORM_ATTRIBUTES
)

SOURCES: tuple[Source, ...] = (
    *_WEB_REQUEST,
    *_HANDLER_SELF,
    *_FORM_FIELDS,
    Source(
        id="source.django-url-kwargs",
        patterns=("self.kwargs",),
        reason="Django class-based views receive URL captures in self.kwargs.",
        example='slug = self.kwargs["slug"]',
        kind="attribute",
    ),
    Source(
        id="source.argv",
        patterns=("sys.argv",),
        reason="Command-line arguments are chosen by whoever runs the program (or a caller passing them on).",
        example="target = sys.argv[1]",
        kind="attribute",
        classes=LOCAL_USER_CLASSES,
    ),
    Source(
        id="source.stdin",
        patterns=("sys.stdin",),
        reason="Standard input is data from outside the program.",
        example="line = sys.stdin.readline()",
        kind="any",
        classes=LOCAL_USER_CLASSES,
    ),
    Source(
        id="source.input",
        patterns=("input", "raw_input", "fileinput.input"),
        reason="Interactive input is typed by the user.",
        example='name = input("name: ")',
        kind="call",
        classes=LOCAL_USER_CLASSES,
    ),
    Source(
        id="source.argparse",
        patterns=("*.parse_args", "*.parse_known_args"),
        reason="argparse results carry command-line values.",
        example="args = parser.parse_args(); os.system('du -sh ' + args.path)",
        kind="call",
        classes=LOCAL_USER_CLASSES,
    ),
    Source(
        id="source.socket",
        patterns=("*.recv", "*.recvfrom", "*.recv_into", "self.rfile"),
        reason="Bytes read from a network socket come from the peer.",
        example="data = conn.recv(4096)",
        kind="any",
    ),
    Source(
        id="source.environ",
        patterns=("os.environ", "os.environb", "os.getenv"),
        reason="Environment variables can be set by whoever starts the process (CGI, cron, CI); they are "
               "dangerous when spliced into shell commands.",
        example='os.system("backup " + os.environ["TARGET"])',
        kind="any",
        classes=frozenset({VulnClass.COMMAND_INJECTION, VulnClass.CODE_INJECTION}),
    ),
    Source(
        id="source.archive-member-names",
        patterns=("zipfile.ZipFile.namelist", "zipfile.ZipFile.infolist", "tarfile.TarFile.getnames",
                  "tarfile.TarFile.getmembers"),
        reason="Member names inside an archive are chosen by whoever built it (zip slip: '../../etc/cron.d/x').",
        example="for name in zf.namelist(): open(os.path.join(dest, name), 'wb')",
        kind="call",
        classes=frozenset({VulnClass.PATH_TRAVERSAL}),
    ),
)

FRAMEWORK_PARAMETERS: dict[str, str] = {
    "flask-route-variable": "@app.route('/users/<name>') makes `name` a source (`<int:id>` is converted, not).",
    "fastapi-parameter": "Every parameter of @app.get/@router.post handlers is client data unless it is "
                         "Depends(...), a Request/Response/session object, or typed int/float/bool/UUID.",
    "django-url-kwarg": "Functions in views.py taking `request` first receive URL captures as the other "
                        "parameters.",
    "click-option": "@click.command / @click.option / typer commands receive command-line values.",
    "registered-view": "Views registered by calls (`add_url_rule(view_func=f)`, aiohttp `router.add_get(path, f)`, "
                       "Starlette `Route(path, f)`, Django `path()`/`re_path()` in a urls.py beside the views) get "
                       "their URL variables as parameters, as decorated ones do.",
    "handler-class": "Methods of Flask MethodView/View, Django and DRF views, Tornado RequestHandler (path "
                     "arguments, self.get_argument...), http.server's BaseHTTPRequestHandler (self.path, "
                     "self.headers, self.rfile) and Falcon responders (on_get(self, req, resp, **fields)).",
    "wsgi-environ": "The `environ` of a WSGI application callable `app(environ, start_response)`.",
    "graphql-argument": "Arguments of GraphQL resolvers: graphene resolve_x(root, info, **args), strawberry "
                        "@strawberry.field methods, ariadne @query.field resolvers.",
    "openapi-operation": "Parameters of functions named as an operationId in an OpenAPI spec of the project "
                         "(Connexion passes path, query and body parameters to them).",
    "request-object": "A parameter named request/req or annotated Request/HttpRequest is a request object; "
                      "its client-data attributes are sources.",
}

DEFAULT_CLASSES = INJECTION_CLASSES
