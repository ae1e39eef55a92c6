"""Request handlers defined as classes: which methods handle requests and what of `self` is client data.

- Flask `MethodView`/`View` (and Quart's): get/post/... and `dispatch_request`; their parameters are URL
  variables and a returned string is HTML.
- Django `View`, generic views, DRF `APIView`/viewsets: handler methods read `request`/`self.request`.
- Tornado `RequestHandler`: HTTP methods get the URL captures as parameters; `self.get_argument(...)` and
  friends are client data in every method of the class.
- `http.server.BaseHTTPRequestHandler`: do_GET/do_POST read `self.path`, `self.headers`, `self.rfile`.
- Falcon responders `on_get(self, req, resp, **fields)` (no base class): URI template fields are sources.
- graphene `ObjectType`/`Mutation`: `resolve_x(root, info, **args)` and `mutate` receive client arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ai_core.analysis.symbols import FunctionInfo

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
DJANGO_METHODS = HTTP_METHODS | {"dispatch", "setup", "list", "create", "retrieve", "update", "partial_update",
                                 "destroy", "get_queryset", "get_object", "get_context_data", "form_valid",
                                 "perform_create", "perform_update", "post_form"}
TORNADO_METHODS = HTTP_METHODS | {"prepare", "open", "on_message"}
TORNADO_SELF = frozenset({"get_argument", "get_arguments", "get_query_argument", "get_query_arguments",
                          "get_body_argument", "get_body_arguments", "get_cookie", "path_args", "path_kwargs"})
HTTP_SERVER_SELF = frozenset({"path", "headers", "rfile", "requestline", "raw_requestline"})
FALCON_RESPONDER = re.compile(r"on_(?:get|post|put|patch|delete|head|options)(?:_[a-z0-9_]+)?\Z")
SAFE_ANNOTATIONS = frozenset({"int", "float", "bool", "uuid.UUID", "UUID"})


class HandlerClass:
    """What a handler class's base says about one of its methods."""

    __slots__ = ("framework", "html_return", "request_params", "self_sources", "self_type", "source_params")

    def __init__(self) -> None:
        self.framework = ""
        self.source_params: dict[str, str] = {}
        self.html_return = False
        self.self_sources: frozenset[str] = frozenset()
        self.self_type = ""
        self.request_params: frozenset[str] = frozenset()


def _framework_of(bases: Iterable[str]) -> tuple[str, str]:
    """(framework, the base that decided it) for qualified base class names."""
    for base in bases:
        if base.startswith(("flask.views.", "quart.views.")):
            return "flask", base
        if base.startswith(("django.views", "rest_framework.")):
            return "django", base
        if base.startswith(("tornado.web.", "tornado.websocket.")):
            return "tornado", "tornado.web.RequestHandler"
        if base.startswith("http.server.") or base in {"socketserver.StreamRequestHandler"}:
            return "http.server", base
        if base.startswith("graphene."):
            return "graphene", base
    return "", ""


def _plain_params(info: FunctionInfo, skip: int) -> list[tuple[str, str]]:
    """(name, annotation) of the parameters after the first `skip`, without safe scalar annotations."""
    return [(p.name, p.annotation) for p in info.params[skip:]
            if p.annotation.replace(" ", "") not in SAFE_ANNOTATIONS]


def handler_method(info: FunctionInfo, bases: Iterable[str]) -> HandlerClass:
    """The role of a method from its class's qualified bases (empty framework: not a handler)."""
    role = HandlerClass()
    framework, base = _framework_of(bases)
    name = info.name
    if framework == "tornado":
        role.self_sources = TORNADO_SELF
        role.self_type = base
        if name in TORNADO_METHODS:
            role.framework = "tornado"
            role.source_params = {p: f"URL capture {p}" for p, _ in _plain_params(info, 1)}
    elif framework == "http.server":
        role.self_sources = HTTP_SERVER_SELF
        if name.startswith("do_") or name == "handle":
            role.framework = "http.server"
    elif framework == "flask" and (name in HTTP_METHODS or name == "dispatch_request"):
        role.framework = "flask"
        role.html_return = True
        role.source_params = {p: f"route variable <{p}>" for p, _ in _plain_params(info, 1)}
    elif framework == "django" and name in DJANGO_METHODS:
        role.framework = "django"
    elif framework == "graphene" and (name.startswith("resolve_") or name == "mutate"):
        role.framework = "graphql"
        role.source_params = {p: f"GraphQL argument {p}" for p, _ in _plain_params(info, 2)}
    elif not framework and FALCON_RESPONDER.match(name) and len(info.params) >= 3:
        role.framework = "falcon"
        role.request_params = frozenset({info.params[1].name})
        role.source_params = {p: f"URI field {p}" for p, _ in _plain_params(info, 3)}
    return role
