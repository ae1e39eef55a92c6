"""CORS misconfiguration (CWE-942): any origin may make credentialed requests and read the responses.

Reported for a wildcard (or match-everything regex) origin combined with credentials in flask-cors
(`CORS(app, supports_credentials=True)` allows every origin by default), Starlette/FastAPI
`CORSMiddleware(allow_origins=["*"], allow_credentials=True)`, django-cors-headers
(`CORS_ALLOW_ALL_ORIGINS = True` with `CORS_ALLOW_CREDENTIALS = True`) and hand-written
`Access-Control-Allow-Origin: *` + `Access-Control-Allow-Credentials: true` headers. Reflecting the
request's Origin header unchecked is found by the taint engine (rule cors.reflected-origin).

Fix: list the trusted origins; a public API that allows any origin must not allow credentials.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.docindex import CallSite
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.classes._shared.config_reader import contains_wildcard, is_dev_path, is_settings_module
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing_function, string_value

CORS = VulnClass.CORS_MISCONFIGURATION
TABLE = table(CORS)

WILDCARD = Rule("cors.wildcard-with-credentials", CORS, Severity.HIGH, 0.85,
                "any origin allowed together with credentials", cwe=942)

_WILD_REGEXES = tuple(TABLE["wildcard_regexes"])
_TRUE = {"True", "true", '"true"', "'true'", "1"}


def _truthy(ctx: AnalysisContext, node: Node | None) -> bool:
    return node is not None and ctx.index.text(node) in _TRUE


def _flask_cors(ctx: AnalysisContext, site: CallSite) -> bool:
    """flask-cors: credentials on, and origins missing (default '*') or a wildcard, at any level."""
    credentials = _truthy(ctx, site.keyword("supports_credentials"))
    origins = site.keyword("origins")
    wildcard = origins is None or contains_wildcard(ctx, origins, _WILD_REGEXES)
    resources = site.keyword("resources")
    if resources is not None and resources.type == "dictionary":
        for pair in resources.named_children:
            options = pair.child_by_field_name("value") if pair.type == "pair" else None
            if options is None or options.type != "dictionary":
                continue
            nested: dict[str, Node] = {}
            for option in options.named_children:
                key = string_value(option.child_by_field_name("key")) if option.type == "pair" else None
                value = option.child_by_field_name("value") if option.type == "pair" else None
                if key and value is not None:
                    nested[key] = value
            nested_credentials = credentials or _truthy(ctx, nested.get("supports_credentials"))
            nested_wild = ("origins" not in nested and origins is None) or \
                contains_wildcard(ctx, nested.get("origins"), _WILD_REGEXES)
            if nested_credentials and nested_wild:
                return True
        return False
    return credentials and wildcard


def _middleware(ctx: AnalysisContext, site: CallSite) -> bool:
    """Starlette/FastAPI CORSMiddleware with wildcard origins (or regex) and credentials."""
    if not _truthy(ctx, site.keyword("allow_credentials")):
        return False
    regex = string_value(site.keyword("allow_origin_regex"))
    return contains_wildcard(ctx, site.keyword("allow_origins"), _WILD_REGEXES) or regex in _WILD_REGEXES


def _is_middleware(ctx: AnalysisContext, site: CallSite) -> bool:
    names = set(TABLE["starlette_middleware"])
    if site.qualified in names:
        return True
    positional = site.positional()
    return bool(positional) and ctx.index.qualify(ctx.index.text(positional[0])) in names


def _django(ctx: AnalysisContext) -> Iterator[Finding]:
    if not is_settings_module(ctx) or is_dev_path(ctx.path):
        return
    index = ctx.index
    values: dict[str, tuple[Node, Node]] = {}
    for assign in index.assignments:
        left = assign.child_by_field_name("left")
        right = assign.child_by_field_name("right")
        if left is not None and right is not None and left.type == "identifier" and index.module_level(assign):
            values[index.text(left)] = (assign, right)
    if not any(name in values and index.text(values[name][1]) == "True" for name in TABLE["django_credentials"]):
        return
    for name in TABLE["django_allow_all"]:
        if name in values and index.text(values[name][1]) == "True":
            yield WILDCARD.finding(ctx, values[name][0], f"{name} = True with CORS_ALLOW_CREDENTIALS = True lets "
                                                          "every site read authenticated responses")
    for name in TABLE["django_regexes"]:
        if name in values and contains_wildcard(ctx, values[name][1], _WILD_REGEXES):
            yield WILDCARD.finding(ctx, values[name][0], f"{name} matches every origin while credentials are "
                                                          "allowed")


def _header_pairs(ctx: AnalysisContext) -> Iterator[tuple[Node, str, str, Node]]:
    """(site, header lower-cased, literal value, scope) for header writes with literal values."""
    index = ctx.index
    for assign in index.assignments:
        left = assign.child_by_field_name("left")
        right = assign.child_by_field_name("right")
        if left is None or right is None or left.type != "subscript":
            continue
        header = string_value(left.child_by_field_name("subscript"))
        value = string_value(right)
        if header and value is not None and header.lower().startswith("access-control-allow-"):
            scope = enclosing_function(assign) or ctx.doc.tree.root_node
            yield assign, header.lower(), value, scope
    for site in index.calls:
        if site.method in {"set", "add", "add_header", "set_header", "setdefault"}:
            positional = site.positional()
            if len(positional) >= 2:
                header = string_value(positional[0])
                value = string_value(positional[1])
                if header and value is not None and header.lower().startswith("access-control-allow-"):
                    scope = enclosing_function(site.node) or ctx.doc.tree.root_node
                    yield site.node, header.lower(), value, scope


def _manual_headers(ctx: AnalysisContext) -> Iterator[Finding]:
    if b"ccess-" not in ctx.doc.data:
        return
    writes = list(_header_pairs(ctx))
    credential_scopes = {scope.start_byte for _, header, value, scope in writes
                         if header == "access-control-allow-credentials" and value.lower() == "true"}
    for site, header, value, scope in writes:
        if header == "access-control-allow-origin" and value == "*" and scope.start_byte in credential_scopes:
            yield WILDCARD.finding(ctx, site, "Access-Control-Allow-Origin: * together with "
                                              "Access-Control-Allow-Credentials: true")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """flask-cors, CORSMiddleware, django-cors-headers settings and hand-written headers."""
    data = ctx.doc.data
    if b"CORS" not in data and b"cors" not in data and b"ccess-" not in data:
        return
    index = ctx.index
    flask_cors = set(TABLE["flask_cors"])
    for site in index.calls:
        if site.qualified in flask_cors and _flask_cors(ctx, site):
            yield WILDCARD.finding(ctx, site.node, f"{site.name}() allows every origin (the default) with "
                                                   "supports_credentials=True")
        elif (site.qualified.endswith("add_middleware") or site.qualified.endswith("Middleware")
              or site.qualified in TABLE["starlette_middleware"]) and _is_middleware(ctx, site) \
                and _middleware(ctx, site):
            yield WILDCARD.finding(ctx, site.node, "CORSMiddleware allows every origin with allow_credentials=True")
    yield from _django(ctx)
    yield from _manual_headers(ctx)


CHECK = Check("cors", (WILDCARD,), run)
