"""Missing controls, not only bad calls: passwords stored without hashing, routes without the auth check, logins
without throttling (predictable tokens are the insecure-randomness room's).

- plaintext storage (CWE-256): an INSERT into a user table whose password value is not a hash call
  (`VALUES (?, ?)` bound to `(name, password)`), a model field assigned straight from the request
  (`user.password = request.form["password"]`) or a constructor given one (`User(password=request.form[...])`);
- review tier: a route without the auth decorator or check most of its sibling routes use (CWE-862), and a login
  handler with no rate limiter, attempt counter or lockout (CWE-307).

Fix: `generate_password_hash()` / Django's `make_password()` / bcrypt before storing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Rule
from ai_core.classes._shared.sql_insert import password_insert
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import nodes_of_type, string_value

AUTH = VulnClass.BROKEN_AUTH
STORED_PLAIN = Rule("auth.plaintext-password-storage", AUTH, Severity.HIGH, 0.7, "password stored without hashing",
                    cwe=256)
MISSING_AUTH = Rule("auth.missing-auth-check.review", AUTH, Severity.MEDIUM, 0.4,
                    "route without the auth check its siblings use", cwe=862)
NO_THROTTLE = Rule("auth.login-not-throttled.review", AUTH, Severity.LOW, 0.35, "login attempts not limited",
                   cwe=307)
ROUTE = re.compile(r"\.(?:route|get|post|put|patch|delete|api_route)\(|api_view|require_http_methods")
AUTH_CHECK = re.compile(r"login_required|jwt_required|auth_required|requires_auth|token_required|permission_required|"
                        r"admin_required|roles?_required|user_passes_test|staff_member_required|authenticated|"
                        r"verify_jwt|IsAuthenticated|Depends\([^)]*(?:current_user|auth|token)|"
                        r"is_authenticated|session\.get\(\s*['\"]user|abort\(40[13]\)|check_auth")
PUBLIC_ROUTE = re.compile(r"(?i)log_?in|log_?out|sign_?(?:in|up|out)|regist|index|health|status|static|public|"
                          r"forgot|reset|about|home|callback|webhook|ping|favicon|robots|docs|^$|^/$")
LOGIN_ROUTE = re.compile(r"(?i)log_?in|sign_?in|authenticate|^token$|/token")
THROTTLED = re.compile(r"(?i)limit|throttl|attempt|lockout|locked|fail(?:ed|ures?)_?(?:login|count)|brute|captcha|"
                       r"backoff")

HASHING = re.compile(r"(?i)hash|crypt|make_password|set_password|pbkdf2|argon|scrypt|digest")
REQUEST_READ = re.compile(r"\b(?:request|req)\.(?:form|json|get_json|POST|args|values|data|GET)\b")
PASSWORD_FIELD = re.compile(r"(?i)^(?:password|passwd|pwd)$")


def plaintext_storage(ctx: AnalysisContext) -> Iterator[Finding]:
    """Passwords written to storage as they came: INSERT parameters, model fields, constructors."""
    index = ctx.index
    for site in index.calls_to("*.execute", "*.executemany"):
        args = site.positional()
        if len(args) < 2:
            continue
        insert = password_insert(string_value(args[0]) or "")
        if insert is None or insert.inline_literal is not None or args[1].type not in {"tuple", "list"}:
            continue
        cells = [c for c in args[1].named_children if c.type != "comment"]
        if insert.index < len(cells) and _raw(ctx, cells[insert.index]):
            yield STORED_PLAIN.finding(ctx, site.node, f"the password goes into {insert.table} as typed; store "
                                                       "generate_password_hash(password) instead")
    for assign in index.assignments:
        left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        if left is None or right is None or left.type != "attribute":
            continue
        attr = left.child_by_field_name("attribute")
        if attr is not None and PASSWORD_FIELD.match(index.text(attr)) and _from_request(ctx, right):
            yield STORED_PLAIN.finding(ctx, assign, "the password from the request is stored as typed; hash it "
                                                    "with generate_password_hash()/make_password() first")
    for site in index.calls:
        if not site.name or not site.name.rsplit(".", 1)[-1][:1].isupper():
            continue
        value = site.keyword("password")
        if value is not None and _from_request(ctx, value):
            yield STORED_PLAIN.finding(ctx, site.node, f"{site.name}() is given the password from the request as "
                                                       "typed; hash it first")


def _raw(ctx: AnalysisContext, node: Node) -> bool:
    """A value that is not a literal, not the result of hashing, nor a name assigned a hash in this file."""
    if node.type in {"string", "integer", "none"}:
        return False
    index = ctx.index
    text = index.text(node)
    if HASHING.search(text):
        return False
    if node.type == "identifier":
        for assign in index.assignments:
            left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
            if left is not None and right is not None and index.text(left) == text and \
                    HASHING.search(index.text(right)):
                return False
    return True


def _from_request(ctx: AnalysisContext, node: Node) -> bool:
    text = ctx.index.text(node)
    return bool(REQUEST_READ.search(text)) and not HASHING.search(text)


HINT = re.compile(rb"password|passwd|pwd")
"""Searched in the lower-cased text (as a case-insensitive regex over a whole file it is several times slower)."""


def _handlers(ctx: AnalysisContext) -> list[tuple[Node, str, str]]:
    """(function, decorator text, route text) of every route handler in the document."""
    found: list[tuple[Node, str, str]] = []
    for node in nodes_of_type(ctx.doc.tree.root_node, "decorated_definition"):
        function = node.child_by_field_name("definition")
        if function is None or function.type != "function_definition":
            continue
        decorators = ctx.doc.data[node.start_byte:function.start_byte].decode("utf-8", errors="replace")
        if ROUTE.search(decorators):
            route = re.search(r"\(\s*[rbuf]?['\"]([^'\"]*)['\"]", decorators)
            found.append((function, decorators, route.group(1) if route else ""))
    return sorted(found, key=lambda item: item[0].start_byte)


def missing_auth(ctx: AnalysisContext) -> Iterator[Finding]:
    """Routes without the auth decorator/check most of their siblings in the file use, and unthrottled logins."""
    handlers = _handlers(ctx)
    if not handlers:
        return
    index = ctx.index
    guarded = [AUTH_CHECK.search(decorators + index.text(function)) is not None
               for function, decorators, _ in handlers]
    name_of = [index.text(ident) if (ident := function.child_by_field_name("name")) is not None else ""
               for function, _, _ in handlers]
    public = [bool(PUBLIC_ROUTE.search(route.strip("/")) or PUBLIC_ROUTE.search(name))
              for (_, _, route), name in zip(handlers, name_of, strict=True)]
    private = [has_auth for has_auth, is_public in zip(guarded, public, strict=True) if not is_public]
    if sum(private) >= 2 and sum(private) * 2 > len(private):
        for (function, _, _), has_auth, is_public, name in zip(handlers, guarded, public, name_of, strict=True):
            if has_auth or is_public:
                continue
            yield MISSING_AUTH.finding(ctx, function.child_by_field_name("name") or function,
                                       f"{name}() has no auth check, unlike {sum(private)} of the {len(private)} "
                                       "other non-public routes here; add the check they use if it is not public",
                                       tier="review")
    module_throttles = bool(re.search(rb"Limiter\(|RateLimit|ratelimit|throttle_classes", ctx.doc.data))
    for (function, decorators, route), name in zip(handlers, name_of, strict=True):
        body = index.text(function)
        if (LOGIN_ROUTE.search(route) or LOGIN_ROUTE.search(name)) and "password" in body.lower() and \
                not THROTTLED.search(decorators + body) and not module_throttles:
            yield NO_THROTTLE.finding(ctx, function.child_by_field_name("name") or function,
                                      f"{name}() checks passwords with no rate limit, attempt counter or lockout: "
                                      "passwords can be guessed at full speed", tier="review")


RULES = (STORED_PLAIN, MISSING_AUTH, NO_THROTTLE)
ROUTE_HINT = re.compile(rb"@\w[\w.]*\.(?:route|get|post|put|patch|delete|api_route)\(|@api_view")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Plaintext password storage, routes missing their auth check, logins without throttling."""
    if HINT.search(ctx.lowered):
        yield from plaintext_storage(ctx)
    if ROUTE_HINT.search(ctx.doc.data):
        yield from missing_auth(ctx)
