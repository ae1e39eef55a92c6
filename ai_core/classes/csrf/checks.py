"""Cross-site request forgery (CWE-352): CSRF protection switched off (see spec.py for what and why).

- `@csrf_exempt` / `@csrf.exempt` / `@method_decorator(csrf_exempt, ...)` on a view (function or class) that
  changes state, unless it verifies a webhook signature;
- `WTF_CSRF_ENABLED = False`, `WTF_CSRF_CHECK_DEFAULT = False` in production settings or `app.config`;
- a Django settings `MIDDLEWARE` list with sessions but without `CsrfViewMiddleware`;
- review tier: a Flask route that allows GET, or a Django function view driven by `request.GET`, that saves or
  deletes without restricting the method (`request.method`, `require_POST`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.classes._shared.config_reader import is_dev_path, is_settings_module, settings
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing, string_value

CSRF_TABLE = table(VulnClass.CSRF)

EXEMPT = Rule("csrf.exempt-view", VulnClass.CSRF, Severity.MEDIUM, 0.75, "state-changing view exempt from CSRF checks",
              cwe=352)
DISABLED = Rule("csrf.disabled", VulnClass.CSRF, Severity.MEDIUM, 0.8, "CSRF protection disabled", cwe=352)
STATE_ON_GET = Rule("csrf.state-change-on-get.review", VulnClass.CSRF, Severity.LOW, 0.4,
                    "view changes data on GET", cwe=352)
NO_MIDDLEWARE = Rule("csrf.middleware-missing", VulnClass.CSRF, Severity.MEDIUM, 0.7,
                     "Django MIDDLEWARE without CsrfViewMiddleware", cwe=352)

_STATE_CHANGING = re.compile(CSRF_TABLE["state_changing"])
_SIGNATURE = re.compile(CSRF_TABLE["signature_checks"])
_DISABLED = dict(CSRF_TABLE["disabled_settings"])


def _exempt_decorator(ctx: AnalysisContext, decorator: Node) -> bool:
    expr = decorator.named_children[0] if decorator.named_child_count else None
    if expr is not None and expr.type == "call":
        fn = expr.child_by_field_name("function")
        args = expr.child_by_field_name("arguments")
        if fn is not None and ctx.index.text(fn).endswith("method_decorator") and args is not None:
            return any(ctx.index.text(arg).endswith("csrf_exempt") for arg in args.named_children)  # Django CBVs
        expr = fn
    if expr is None or expr.type not in {"identifier", "attribute"}:
        return False
    text = ctx.index.text(expr)
    qualified = ctx.index.qualify(text)
    if qualified == "django.views.decorators.csrf.csrf_exempt" or text.endswith("csrf_exempt"):
        return True
    receiver, _, method = text.rpartition(".")
    return method == "exempt" and ("csrf" in receiver.lower() or
                                   ctx.index.kinds.get(receiver, "") in CSRF_TABLE["flask_csrf_objects"])


def _views(ctx: AnalysisContext) -> Iterator[Node]:
    """Function definitions, then decorated class definitions (class-based views)."""
    yield from ctx.index.functions
    for node in ctx.doc.tree.root_node.named_children:
        if node.type == "decorated_definition":
            definition = node.child_by_field_name("definition")
            if definition is not None and definition.type == "class_definition":
                yield definition


def _exempt_views(ctx: AnalysisContext) -> Iterator[Finding]:
    for function in _views(ctx):
        holder = function.parent
        if holder is None or holder.type != "decorated_definition":
            continue
        decorators = [d for d in holder.named_children if d.type == "decorator"]
        exempt = next((d for d in decorators if _exempt_decorator(ctx, d)), None)
        if exempt is None:
            continue
        text = ctx.index.text(holder)
        if not _STATE_CHANGING.search(text) or _SIGNATURE.search(text):
            continue
        name = function.child_by_field_name("name")
        view = ctx.index.text(name) if name is not None else "this view"
        yield EXEMPT.finding(ctx, exempt, f"{view}() changes state but is exempt from CSRF checks: another site "
                                          "can submit it with the visitor's cookies")


def _disabled_settings(ctx: AnalysisContext) -> Iterator[Finding]:
    for setting in settings(ctx):
        bad = _DISABLED.get(setting.name)
        if bad is not None and ctx.index.text(setting.value) == bad:
            yield DISABLED.finding(ctx, setting.site, f"{setting.name} = {bad}: forms are accepted without a CSRF "
                                                      "token")


def _middleware(ctx: AnalysisContext) -> Iterator[Finding]:
    if not is_settings_module(ctx) or is_dev_path(ctx.path):
        return
    index = ctx.index
    for assign in index.assignments:
        left = assign.child_by_field_name("left")
        right = assign.child_by_field_name("right")
        if left is None or right is None or index.text(left) not in {"MIDDLEWARE", "MIDDLEWARE_CLASSES"} or \
                right.type not in {"list", "tuple"} or not index.module_level(assign):
            continue
        entries = {string_value(item) for item in right.named_children}
        if CSRF_TABLE["csrf_middleware"] in entries or not entries & set(CSRF_TABLE["session_middleware"]):
            continue
        yield NO_MIDDLEWARE.finding(ctx, assign, f"{index.text(left)} has sessions but no CsrfViewMiddleware: "
                                                 "no request is checked for a CSRF token")


_GET_WRITES = re.compile(CSRF_TABLE["get_writes"])
_GET_WRITES_BYTES = re.compile(CSRF_TABLE["get_writes"].encode())
METHOD_CHECKS = re.compile(CSRF_TABLE["method_checks"])
_ROUTE = re.compile(r"@\s*[\w.]+\.(?:route|get)\(")
_METHODS = re.compile(r"methods\s*=\s*[\[(]([^\])]*)[\])]")


def _answers_get(ctx: AnalysisContext, function: Node, decorators: str, body: str) -> bool:
    """A Flask route that allows GET (the default), or a Django function view (first parameter `request`) that
    takes its action from the query string (`request.GET`): a link is how it is meant to be used."""
    if _ROUTE.search(decorators):
        methods = _METHODS.search(decorators)
        return methods is None or "GET" in methods.group(1).upper()
    params = function.child_by_field_name("parameters")
    first = params.named_children[0] if params is not None and params.named_child_count else None
    return first is not None and ctx.index.text(first) == "request" and "request.GET" in body and \
        any(target.startswith("django") for target in ctx.index.imports.names.values())


def _state_change_on_get(ctx: AnalysisContext) -> Iterator[Finding]:
    for function in ctx.index.functions:
        holder = function.parent if function.parent is not None and \
            function.parent.type == "decorated_definition" else function
        decorators = ctx.index.text(holder)[:function.start_byte - holder.start_byte]
        body = function.child_by_field_name("body")
        if body is None or enclosing(function, "class_definition", stop=("function_definition",)) is not None:
            continue
        text = ctx.index.text(body)
        if not _GET_WRITES.search(text) or METHOD_CHECKS.search(decorators + text) or _SIGNATURE.search(text) \
                or "exempt" in decorators or not _answers_get(ctx, function, decorators, text):
            continue  # exempt views are judged above; a signed webhook does not rely on cookies
        name = function.child_by_field_name("name")
        yield STATE_ON_GET.finding(ctx, name or function,
                                   f"{ctx.index.text(name) if name is not None else 'this view'}() changes data on a "
                                   "GET request, which CSRF checks do not cover: a link or an image on another site "
                                   "triggers it; accept POST only (and send the CSRF token)", tier="review")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Exempt state-changing views, disabled CSRF settings, MIDDLEWARE without the CSRF middleware."""
    data = ctx.doc.data
    if b"exempt" in data:
        yield from _exempt_views(ctx)
    if b"CSRF_" in data:
        yield from _disabled_settings(ctx)
    if b"MIDDLEWARE" in data:
        yield from _middleware(ctx)
    if (b"route" in data or b"request" in data) and _GET_WRITES_BYTES.search(data):
        yield from _state_change_on_get(ctx)


CHECK = Check("csrf", (EXEMPT, DISABLED, NO_MIDDLEWARE, STATE_ON_GET), run)
