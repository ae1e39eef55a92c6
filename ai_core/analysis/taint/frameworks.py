"""Web and CLI frameworks: which functions are request handlers and which of their parameters are client data.

- Flask: `@app.route("/u/<name>")`, `@bp.get(...)`: `<name>` variables (not `<int:...>`) are sources and a
  returned string is an HTML response.
- FastAPI: `@app.get("/items/{id}")`, `@router.post(...)`: every parameter is client data unless it is a
  dependency (`Depends`), a framework object (Request, Response, Session...) or a validated scalar
  (int, float, bool, UUID, date); `response_class=HTMLResponse` makes the return value HTML.
- Django: URL captures reach views as parameters, but usually through converters (`<int:pk>`,
  `<slug:slug>`) that rule out injection, and a views module also holds helpers taking `request`;
  so only `self.kwargs` of class-based views and the request object's data are sources.
- click / typer commands: every parameter comes from the command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from ai_core.analysis.symbols import SOURCE_TOKENS, FunctionInfo, ModuleInfo

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


@dataclass
class Route:
    """What a function's decorators say about it."""

    framework: str = ""
    """'flask', 'fastapi', 'django', 'cli' or '' (not a handler)."""
    source_params: dict[str, str] = field(default_factory=dict)
    """Parameter name -> label of the source ('route variable <name>')."""
    html_return: bool = False
    """The return value is sent as HTML (Flask views; FastAPI with response_class=HTMLResponse)."""


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


def route_of(module: ModuleInfo, info: FunctionInfo, kind_of: dict[str, str | None]) -> Route:
    """The framework role of a function, from its decorators and module (kind_of: global name -> type)."""
    imports = module.imports
    route = Route()
    cli_params = False
    for dec in info.decorators:
        callee, call = _decorator_call(module, dec)
        if not callee:
            continue
        head, _, method = callee.rpartition(".")
        qualified_head = imports.get(head.split(".")[0], head) if head else ""
        if callee in {"click.command", "click.group", "click.option", "click.argument"} or \
                imports.get(callee.split(".")[0], "").startswith("click") or \
                (method == "command" and kind_of.get(head) == "typer.Typer"):
            cli_params = True
            continue
        if method not in ROUTE_METHODS or not head:
            continue
        path = _first_string(module, call)
        kind = kind_of.get(head) or ""
        framework = ""
        if kind in {"flask.Flask", "flask.Blueprint"} or qualified_head.startswith("flask"):
            framework = "flask"
        elif kind in {"fastapi.FastAPI", "fastapi.APIRouter"} or qualified_head.startswith("fastapi"):
            framework = "fastapi"
        elif method == "route" or (path is not None and "<" in path):
            framework = "flask"
        elif (path is not None and "{" in path) or any(v.startswith("fastapi") for v in imports.values()):
            framework = "fastapi"
        elif any(v.startswith("flask") for v in imports.values()):
            framework = "flask"
        if not framework:
            continue
        route.framework = framework
        if framework == "flask":
            route.html_return = True
            for match in FLASK_VARIABLE.finditer(path or ""):
                if (match.group("conv") or "") not in FLASK_SAFE_CONVERTERS:
                    route.source_params[match.group("name")] = f"route variable <{match.group('name')}>"
        else:
            if "HTMLResponse" in _keyword_text(module, call, "response_class"):
                route.html_return = True
            for param in info.params:
                if _fastapi_source(module, param.name, param.annotation, param.default):
                    route.source_params[param.name] = f"request parameter {param.name}"
        return route
    if cli_params:
        route.framework = "cli"
        for param in info.params:
            if param.name not in {"ctx", "self"}:
                route.source_params[param.name] = f"command-line option {param.name}"
        return route
    if _is_django_view(module, info):
        route.framework = "django"
    return route


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
    kinds: dict[str, str | None] = {}
    for name, value in module.globals.items():
        callee = value.child_by_field_name("function") if value.type == "call" else None
        if callee is None:
            continue
        dotted = module.text(callee)
        head, sep, rest = dotted.partition(".")
        target = module.imports.get(head)
        kinds[name] = (target + sep + rest) if target else dotted
    return kinds


def reads_untrusted_input(module: ModuleInfo, info: FunctionInfo, kind_of: dict[str, str | None]) -> bool:
    """Whether a function reads untrusted input itself: a request or CLI handler, a view, a request parameter,
    or a built-in source's word in its text (`urllib.request` and `conn.request(...)` name no request)."""
    if route_of(module, info, kind_of).framework:
        return True
    if any(is_request_param(param.name, param.annotation) for param in info.params):
        return True
    data = module.data[info.node.start_byte:info.node.end_byte]
    for match in SOURCE_TOKENS.finditer(data):
        at = match.start()
        if match.group() != b"request" or data[at - 1: at] != b".":
            return True
        if data[:at - 1].endswith(b"self") and not _identifier_char(data[max(0, at - 6): max(0, at - 5)]):
            return True  # self.request: a class-based view's request
    return False


def _identifier_char(char: bytes) -> bool:
    return bool(char) and (char.isalnum() or char == b"_")
