"""Views registered by calls rather than decorators, and the URL pattern each is registered with.

- Flask `app.add_url_rule("/p/<name>", view_func=f)` (also `Cls.as_view("n")`, positional `(rule, endpoint, f)`).
- aiohttp `app.router.add_get("/p/{name}", handler)` (add_post/put/patch/delete/route/view) and
  `app.add_routes([web.get("/p", handler)])`; FastAPI `app.add_api_route("/p", endpoint)`.
- Starlette `Route("/p/{name}", endpoint)`.
- Django `path("p/<str:name>/", views.f)` and `re_path(r"^p/(?P<name>[^/]+)$", ...)` in the urls.py beside the
  views module (or its package's): URL captures through `str`/`path` converters or broad groups are sources.
- OpenAPI/Connexion: functions named as an `operationId` in a spec file of the project.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from tree_sitter import Node

from ai_core.analysis.project import Project
from ai_core.analysis.symbols import FunctionInfo, ModuleInfo
from ai_core.parsing.tree import string_value

_REGISTER = re.compile(rb"\b(add_url_rule|add_route|add_get|add_post|add_put|add_patch|add_delete|add_view|"
                       rb"add_api_route|Route|WebSocketRoute|path|re_path|url|"
                       rb"web\.(?:get|post|put|patch|delete|head|view|route))\s*\(")
AIOHTTP_CALLS = frozenset({"add_get", "add_post", "add_put", "add_patch", "add_delete", "add_view"})
DJANGO_CALLS = frozenset({"path", "re_path", "url"})


@dataclass(frozen=True, slots=True)
class Registration:
    """A view registered by a call: its framework, the URL pattern, and the module that registers it."""

    framework: str
    """'flask', 'aiohttp', 'starlette', 'django' or 'openapi'."""
    path: str | None = None
    registrar: str = ""
    """Key of the module holding the registration when it is another module (a dependency of the view)."""


def _arguments(call: Node) -> tuple[list[Node], dict[str, Node]]:
    args = call.child_by_field_name("arguments")
    positional: list[Node] = []
    keywords: dict[str, Node] = {}
    for child in args.named_children if args is not None else []:
        if child.type == "keyword_argument":
            key = child.child_by_field_name("name")
            value = child.child_by_field_name("value")
            if key is not None and value is not None and key.text is not None:
                keywords[key.text.decode("utf-8", "replace")] = value
        elif child.type != "comment":
            positional.append(child)
    return positional, keywords


def _view_name(node: Node | None) -> str:
    """The dotted name a view argument refers to: `f`, `views.f`, the class of `Cls.as_view(...)`, or the
    factory of `make_view(...)` (whose nested functions are then the views)."""
    if node is None:
        return ""
    if node.type == "call":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "attribute" and (fn.text or b"").endswith(b".as_view"):
            return _view_name(fn.child_by_field_name("object"))
        return _view_name(fn) if fn is not None and fn.type == "identifier" else ""
    if node.type in {"identifier", "attribute"} and node.text is not None:
        return node.text.decode("utf-8", "replace")
    return ""


def _registration(name: str, call: Node) -> tuple[str, Registration] | None:
    positional, keywords = _arguments(call)
    path = string_value(positional[0]) if positional else string_value(keywords.get("rule") or keywords.get("path"))
    view: Node | None
    if name == "add_url_rule":
        view = keywords.get("view_func") or (positional[2] if len(positional) > 2 else None)
        framework = "flask"
    elif name == "add_api_route":
        view = keywords.get("endpoint") or (positional[1] if len(positional) > 1 else None)
        framework = "fastapi"
    elif name == "web.route":  # aiohttp web.route(method, path, handler)
        view = keywords.get("handler") or (positional[2] if len(positional) > 2 else None)
        path = string_value(positional[1]) if len(positional) > 1 else None
        framework = "aiohttp"
    elif name in AIOHTTP_CALLS or name.startswith("web."):
        view = keywords.get("handler") or (positional[1] if len(positional) > 1 else None)
        framework = "aiohttp"
    elif name == "add_route":  # aiohttp (method, path, handler) or Starlette (path, endpoint)
        if len(positional) > 2:
            path, view, framework = string_value(positional[1]), positional[2], "aiohttp"
        else:
            view = keywords.get("endpoint") or (positional[1] if len(positional) > 1 else None)
            framework = "starlette"
    elif name in {"Route", "WebSocketRoute"}:
        view = keywords.get("endpoint") or (positional[1] if len(positional) > 1 else None)
        framework = "starlette"
    else:
        view = keywords.get("view") or (positional[1] if len(positional) > 1 else None)
        framework = "django"
    target = _view_name(view)
    return (target, Registration(framework, path)) if target else None


def registrations(module: ModuleInfo) -> dict[str, Registration]:
    """Dotted view name (as written) -> its registration, for every registering call in the module."""
    cached: dict[str, Registration] | None = module.__dict__.get("_registrations")
    if cached is not None:
        return cached
    found: dict[str, Registration] = {}
    data = module.data
    root = module.doc.tree.root_node
    for match in _REGISTER.finditer(data):
        node = root.descendant_for_byte_range(match.start(1), match.end(1))
        while node is not None and node.type != "call":
            if node.type in {"module", "block", "expression_statement"}:
                node = None
                break
            node = node.parent
        if node is None:
            continue
        fn = node.child_by_field_name("function")
        if fn is None or fn.end_byte != match.end(1):
            continue
        entry = _registration(match.group(1).decode("ascii"), node)
        if entry is not None:
            found.setdefault(*entry)
    module.__dict__["_registrations"] = found
    return found


def url_conf_folders(module: ModuleInfo) -> list[str]:
    """The urls.py files that may route to a views module: beside it and in its package's folder."""
    folder = module.folder
    return [os.path.join(folder, "urls.py"), os.path.join(os.path.dirname(folder), "urls.py")]


def module_dotted(module: ModuleInfo, root: str) -> str:
    """The dotted import name of a module below `root` ('' when it is not below it)."""
    try:
        rel = os.path.relpath(module.key, root)
    except ValueError:
        return ""
    if rel.startswith(".."):
        return ""
    rel = rel[:-3] if rel.endswith(".py") else rel
    parts = [p for p in rel.replace("\\", "/").split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def registration_for(project: Project, info: FunctionInfo) -> Registration | None:
    """How a function (or its class) is registered as a view: in its module, a urls.py, or an OpenAPI spec."""
    module = info.module
    name = info.class_name or info.name
    own = registrations(module).get(name)
    if own is None and ".<locals>." in info.qualname:  # a view made by a registered factory
        own = registrations(module).get(info.qualname.split(".<locals>.")[-2].rsplit(".", 1)[-1])
    if own is not None:
        return own
    if info.class_name is not None or (info.params and info.params[0].name == "request"):
        for urls_key in url_conf_folders(module):
            if urls_key == module.key or not project.has_file(urls_key):
                continue
            urls = project.module_at(urls_key)
            found = _routed_from(project, urls, module, name) if urls is not None else None
            if found is not None:
                return Registration("django", found, urls_key)
    if info.class_name is None and project.openapi_operations():
        for root in project.roots:
            dotted = module_dotted(module, str(root))
            if dotted and f"{dotted}.{name}" in project.openapi_operations():
                return Registration("openapi")
    return None


def _routed_from(project: Project, urls: ModuleInfo, module: ModuleInfo, name: str) -> str | None:
    """The URL pattern under which `urls` routes to `name` of `module`, if it does."""
    for dotted, registration in registrations(urls).items():
        if registration.framework != "django":
            continue
        head, _, tail = dotted.rpartition(".")
        if tail != name:
            continue
        target = urls.imports.get(head.split(".")[0]) if head else urls.imports.get(name)
        if target is None:
            continue
        # `views.item` -> the module `views` names; `item` (imported itself) -> the module it came from
        target = target + head[len(head.split(".")[0]):] if head else target.rpartition(".")[0] or target
        if project.module_path(urls, target) == module.key:
            return registration.path or ""
    return None
