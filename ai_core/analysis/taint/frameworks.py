"""Web, GraphQL and CLI frameworks: which functions are request handlers and which parameters are client data.

- Flask/Quart: `@app.route("/u/<name>")`, `@bp.get(...)` (also nested in `def init(app)` / `create_app()`):
  `<name>` variables (not `<int:...>`) are sources and a returned string is an HTML response. Bottle alike.
- FastAPI: `@app.get("/items/{id}")`, `@router.post(...)`: every parameter is client data unless it is a
  dependency (`Depends`), a framework object (Request, Response, Session...) or a validated scalar
  (int, float, bool, UUID, date); `response_class=HTMLResponse` makes the return value HTML.
- aiohttp `@routes.get(...)`: the first parameter is the request, whatever its name. Pyramid `@view_config`.
- Django: URL captures reach views as parameters, usually through converters (`<int:pk>`, `<slug:slug>`)
  that rule out injection, so captures are sources only where a urls.py routes `str`/`path` converters or a
  broad regex group to the view (registrations.py); `self.kwargs` and the request object's data are sources.
- Handler classes (Flask MethodView, Django/DRF views, Tornado, http.server, Falcon, graphene): handler_classes.py.
- Views registered by calls (`add_url_rule`, `router.add_get`, `Route`, urlpatterns, OpenAPI operationIds):
  registrations.py. A WSGI callable `app(environ, start_response)` reads its `environ` from the client.
- GraphQL: strawberry `@strawberry.field` and ariadne `@query.field` resolvers' arguments are client data.
- click / typer commands: every parameter comes from the command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tree_sitter import Node

from ai_core.analysis.symbols import SOURCE_TOKENS, FunctionInfo, ModuleInfo
from ai_core.analysis.taint.handler_classes import handler_method
from ai_core.analysis.taint.registrations import Registration, registrations

ROUTE_METHODS = frozenset({"route", "get", "post", "put", "delete", "patch", "api_route", "websocket", "head",
                           "options"})
FLASK_VARIABLE = re.compile(r"<(?:(?P<conv>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
FASTAPI_SAFE_TYPES = frozenset({
    "int", "float", "bool", "UUID", "uuid.UUID", "datetime", "date", "datetime.datetime", "datetime.date",
    "Request", "Response", "BackgroundTasks", "Session", "AsyncSession", "WebSocket", "HTTPConnection",
    "SecurityScopes", "Optional[int]", "int | None", "Optional[bool]", "bool | None", "float | None",
    "conint", "PositiveInt", "NonNegativeInt",
})
REQUEST_TYPES = frozenset({"Request", "HttpRequest", "WSGIRequest", "ASGIRequest", "starlette.requests.Request",
                           "fastapi.Request", "django.http.HttpRequest", "HTTPConnection", "WebSocket",
                           "rest_framework.request.Request"})
REQUEST_NAMES = frozenset({"request", "req"})
FLASK_SAFE_CONVERTERS = frozenset({"int", "float", "uuid"})
DJANGO_SAFE_CONVERTERS = frozenset({"int", "slug", "uuid"})
BOTTLE_VARIABLE = re.compile(r"<(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)(?::(?P<filter>[a-z]+)(?::[^>]*)?)?>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>(?P<pattern>[^()]*)\)")
NARROW_GROUP = re.compile(r"(?:\\d|\\w|\[[\w\\-]*\]|[+*?{},0-9])+")
"""A regex group that matches only digits, word characters or a small character class (no `.`, no `[^/]`)."""


@dataclass
class Route:
    """What a function's decorators, class or registration say about it."""

    framework: str = ""
    """'flask', 'fastapi', 'django', 'aiohttp', 'tornado', 'graphql', 'cli'... or '' (not a handler)."""
    source_params: dict[str, str] = field(default_factory=dict)
    """Parameter name -> label of the source ('route variable <name>')."""
    html_return: bool = False
    """The return value is sent as HTML (Flask views; FastAPI with response_class=HTMLResponse)."""
    request_params: frozenset[str] = frozenset()
    """Parameters holding the request object whatever their name (aiohttp `async def h(r)`, Falcon `req`)."""
    self_sources: frozenset[str] = frozenset()
    """Attributes of `self` that are client data (Tornado `get_argument`, http.server `path`)."""
    self_type: str = ""
    """The library class a handler class derives from, for calls on `self` it does not define (`self.write`)."""
    registrar: str = ""
    """Key of another module whose registration made this a handler (urls.py), a dependency of the result."""


def _decorator_call(module: ModuleInfo, dec: Node) -> tuple[str, Node | None]:
    """(dotted callee text, call node or None) of a decorator."""
    inner = next((c for c in dec.named_children if c.type != "comment"), None)
    if inner is None:
        return "", None
    if inner.type == "call":
        fn = inner.child_by_field_name("function")
        return (module.text(fn) if fn is not None else ""), inner
    return module.text(inner), None


def _first_string(module: ModuleInfo, call: Node | None) -> str | None:
    if call is None:
        return None
    args = call.child_by_field_name("arguments")
    if args is None:
        return None
    for child in args.named_children:
        if child.type == "string":
            return module.text(child)[1:-1]
        if child.type == "keyword_argument":
            key = child.child_by_field_name("name")
            value = child.child_by_field_name("value")
            if key is not None and module.text(key) == "path" and value is not None and value.type == "string":
                return module.text(value)[1:-1]
    return None


def _keyword_text(module: ModuleInfo, call: Node | None, name: str) -> str:
    if call is None:
        return ""
    args = call.child_by_field_name("arguments")
    if args is None:
        return ""
    for child in args.named_children:
        if child.type == "keyword_argument":
            key = child.child_by_field_name("name")
            value = child.child_by_field_name("value")
            if key is not None and value is not None and module.text(key) == name:
                return module.text(value)
    return ""


def _decorator_framework(module: ModuleInfo, callee: str, kind_of: Mapping[str, str | None],
                         path: str | None) -> str:
    """The framework a decorator `callee(...)` registers a handler with ('' when none)."""
    imports = module.imports
    head, _, method = callee.rpartition(".")
    qualified = imports.get(callee.split(".")[0], "") + callee[len(callee.split(".")[0]):]
    if qualified in {"pyramid.view.view_config", "pyramid.view_config"}:
        return "pyramid"
    if qualified.startswith(("strawberry.field", "strawberry.mutation", "strawberry.subscription")):
        return "strawberry"
    if not head:
        if qualified.startswith("bottle.") and method in ROUTE_METHODS:
            return "bottle"
        return ""
    kind = kind_of.get(head) or declared_kinds(module).get(head) or ""
    qualified_head = imports.get(head.split(".")[0], head)
    if method == "field" and (kind.startswith("ariadne.") or qualified_head.startswith("ariadne")):
        return "ariadne"
    if method not in ROUTE_METHODS:
        return ""
    if kind in {"flask.Flask", "flask.Blueprint", "quart.Quart", "quart.Blueprint"} or \
            qualified_head.startswith(("flask", "quart")):
        return "flask"
    if kind in {"fastapi.FastAPI", "fastapi.APIRouter"} or qualified_head.startswith("fastapi"):
        return "fastapi"
    if kind.startswith("aiohttp.") or qualified_head.startswith("aiohttp"):
        return "aiohttp"
    if kind.startswith("bottle.") or qualified_head.startswith("bottle"):
        return "bottle"
    if method == "route" or (path is not None and "<" in path):
        return "flask"
    if (path is not None and "{" in path) or any(v.startswith("fastapi") for v in imports.values()):
        return "fastapi"
    if any(v.startswith(("flask", "quart")) for v in imports.values()):
        return "flask"
    return ""


def route_of(module: ModuleInfo, info: FunctionInfo, kind_of: Mapping[str, str | None], bases: Sequence[str] = (),
             registration: Registration | None = None) -> Route:
    """The framework role of a function, from its decorators, its class's qualified `bases`, or a
    `registration` by call (kind_of: global name -> type)."""
    imports = module.imports
    route = Route()
    cli_params = False
    for dec in info.decorators:
        callee, call = _decorator_call(module, dec)
        if not callee:
            continue
        head, _, method = callee.rpartition(".")
        if callee in {"click.command", "click.group", "click.option", "click.argument"} or \
                imports.get(callee.split(".")[0], "").startswith("click") or \
                (method == "command" and kind_of.get(head) == "typer.Typer"):
            cli_params = True
            continue
        path = _first_string(module, call)
        framework = _decorator_framework(module, callee, kind_of, path)
        if not framework:
            continue
        route.framework = framework
        if framework in {"flask", "bottle"}:
            route.html_return = True
            route.source_params = path_variables(path, framework)
        elif framework == "fastapi":
            if "HTMLResponse" in _keyword_text(module, call, "response_class"):
                route.html_return = True
            for param in info.params:
                if _fastapi_source(module, param.name, param.annotation, param.default):
                    route.source_params[param.name] = f"request parameter {param.name}"
        elif framework == "aiohttp" and info.params:
            route.request_params = frozenset({info.params[0].name})
        elif framework in {"strawberry", "ariadne"}:
            route.framework = "graphql"
            skip = 1 if framework == "strawberry" else 2
            for param in info.params[skip:]:
                if param.name != "info" and _fastapi_source(module, param.name, param.annotation, param.default):
                    route.source_params[param.name] = f"GraphQL argument {param.name}"
        return route
    if cli_params:
        route.framework = "cli"
        for param in info.params:
            if param.name not in {"ctx", "self"}:
                route.source_params[param.name] = f"command-line option {param.name}"
        return route
    if info.class_name is not None:
        role = handler_method(info, bases)
        route.framework, route.source_params, route.html_return = role.framework, role.source_params, \
            role.html_return
        route.self_sources, route.self_type, route.request_params = role.self_sources, role.self_type, \
            role.request_params
    if registration is not None and (not route.framework or route.framework == registration.framework):
        _apply_registration(route, info, registration)
    elif not route.framework and _is_wsgi_app(info):
        route.framework = "wsgi"
        environ = info.params[-2].name
        route.source_params[environ] = "WSGI environ"
    elif not route.framework and _is_django_view(module, info):
        route.framework = "django"
    return route


def _apply_registration(route: Route, info: FunctionInfo, registration: Registration) -> None:
    """A view registered by a call: its URL variables (or, for OpenAPI operations, every parameter)."""
    framework = registration.framework
    route.framework = framework
    route.registrar = registration.registrar
    first = 1 if info.class_name is not None else 0
    if framework == "flask":
        route.html_return = True
        variables = path_variables(registration.path, "flask")
        route.source_params = variables if info.class_name is None else \
            {name: label for name, label in route.source_params.items() if name in variables}
    elif framework == "fastapi":
        route.source_params = {p.name: f"request parameter {p.name}" for p in info.params
                               if _fastapi_source(info.module, p.name, p.annotation, p.default)}
    elif framework in {"aiohttp", "starlette"} and len(info.params) > first:
        route.request_params = frozenset({info.params[first].name})
    elif framework == "django":
        variables = path_variables(registration.path, "django")
        route.source_params = {name: label for name, label in variables.items() if info.param(name) is not None}
    elif framework == "openapi":
        route.source_params = {p.name: f"request parameter {p.name}" for p in info.params
                               if p.name not in {"self", "user", "token_info"}
                               and p.annotation.replace(" ", "") not in FASTAPI_SAFE_TYPES}


def path_variables(path: str | None, framework: str) -> dict[str, str]:
    """URL variables of a route pattern that can carry any text (not `<int:x>`, `(?P<x>\\d+)`, `<x:int>`)."""
    found: dict[str, str] = {}
    if not path:
        return found
    if framework == "bottle":
        for match in BOTTLE_VARIABLE.finditer(path):
            if (match.group("filter") or "") not in FLASK_SAFE_CONVERTERS:
                found[match.group("name")] = f"route variable <{match.group('name')}>"
        return found
    safe = DJANGO_SAFE_CONVERTERS if framework == "django" else FLASK_SAFE_CONVERTERS
    for match in FLASK_VARIABLE.finditer(path):
        if path[max(0, match.start() - 2):match.start()] == "?P":
            continue  # a regex group, below
        if (match.group("conv") or "") not in safe:
            found[match.group("name")] = f"route variable <{match.group('name')}>"
    if framework == "django":
        for match in REGEX_GROUP.finditer(path):
            if not NARROW_GROUP.fullmatch(match.group("pattern")):
                found[match.group("name")] = f"URL capture {match.group('name')}"
    return found


def _is_wsgi_app(info: FunctionInfo) -> bool:
    names = [p.name for p in info.params]
    return len(names) >= 2 and names[-1] == "start_response" and names[-2] in {"environ", "env"}


def _fastapi_source(module: ModuleInfo, name: str, annotation: str, default: Node | None) -> bool:
    if name in {"self", "cls"}:
        return False
    bare = annotation.replace(" ", "")
    if annotation in FASTAPI_SAFE_TYPES or bare in FASTAPI_SAFE_TYPES or annotation in REQUEST_TYPES:
        return False
    if "Depends(" in annotation or "Security(" in annotation:
        return False
    if default is not None:
        text = module.text(default)
        if text.startswith(("Depends(", "Security(", "fastapi.Depends(")):
            return False
    return not (annotation.startswith("Annotated[") and any(t in annotation for t in ("Depends(", "Security(")))


def _is_django_view(module: ModuleInfo, info: FunctionInfo) -> bool:
    if info.class_name is not None or not info.params or info.params[0].name != "request":
        return False
    path = module.path.replace("\\", "/")
    return path.endswith(("views.py", "/views/__init__.py")) or "/views/" in path or path.endswith("api.py")


def is_request_param(name: str, annotation: str) -> bool:
    """True for a parameter holding a request object (by name or annotation)."""
    if annotation:
        return annotation in REQUEST_TYPES or annotation.rsplit(".", 1)[-1] in {"Request", "HttpRequest"}
    return name in REQUEST_NAMES


def declared_kinds(module: ModuleInfo) -> dict[str, str | None]:
    """Global name -> the class it is built from, by the module's own assignments (`app = Flask(__name__)`).

    A cheap stand-in for the engine's global kinds where no taint analysis runs (the model's input gate).
    """
    cached: dict[str, str | None] | None = module.__dict__.get("_declared_kinds")
    if cached is not None:
        return cached
    kinds: dict[str, str | None] = {}
    module.__dict__["_declared_kinds"] = kinds
    for name, value in module.globals.items():
        callee = value.child_by_field_name("function") if value.type == "call" else None
        if callee is None:
            continue
        dotted = module.text(callee)
        head, sep, rest = dotted.partition(".")
        target = module.imports.get(head)
        kinds[name] = (target + sep + rest) if target else dotted
    return kinds


def reads_untrusted_input(module: ModuleInfo, info: FunctionInfo, kind_of: Mapping[str, str | None]) -> bool:
    """Whether a function reads untrusted input itself: a request or CLI handler, a view, a request parameter,
    or a built-in source's word in its text (`urllib.request` and `conn.request(...)` name no request)."""
    cls = module.classes.get(info.class_name) if info.class_name else None
    route = route_of(module, info, kind_of, local_bases(module, cls.bases) if cls is not None else (),
                     registrations(module).get(info.class_name or info.name))
    if route.framework or route.source_params or route.request_params:
        return True
    if any(is_request_param(param.name, param.annotation) for param in info.params):
        return True
    data = module.data[info.node.start_byte:info.node.end_byte]
    if route.self_sources and any(f"self.{name}".encode() in data for name in route.self_sources):
        return True
    for match in SOURCE_TOKENS.finditer(data):
        at = match.start()
        if match.group() != b"request" or data[at - 1: at] != b".":
            return True
        if data[:at - 1].endswith(b"self") and not _identifier_char(data[max(0, at - 6): max(0, at - 5)]):
            return True  # self.request: a class-based view's request
    return False


def local_bases(module: ModuleInfo, bases: Sequence[str]) -> tuple[str, ...]:
    """Base class names qualified through the module's own imports (`MethodView` -> 'flask.views.MethodView')."""
    qualified = []
    for base in bases:
        head, sep, rest = base.partition(".")
        target = module.imports.get(head)
        qualified.append(target + sep + rest if target else base)
    return tuple(qualified)


def _identifier_char(char: bytes) -> bool:
    return bool(char) and (char.isalnum() or char == b"_")
