"""Session fixation and sessions without expiry (CWE-384, CWE-613).

- a login that stores the user's identity in the session (`session["user_id"] = user.id`,
  `request.session["user_id"] = ...`) without first rotating it (`session.clear()`,
  `request.session.cycle_key()`, `flush()`, or `django.contrib.auth.login`), CWE-384;
- session lifetimes far beyond a month (PERMANENT_SESSION_LIFETIME, SESSION_COOKIE_AGE,
  `set_cookie(..., max_age=...)` for a session cookie) or switched off (JWT_ACCESS_TOKEN_EXPIRES = False),
  and JWTs issued without an `exp` claim, CWE-613.
A session id taken from the request is found by the taint engine (rule session.id-from-request).

Fix: clear/cycle the session at login; keep lifetimes short; always put `exp` in tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.docindex import DocIndex, timedelta_seconds
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.analysis.wordlist import contains_any
from ai_core.classes._shared.config_reader import is_dev_path, settings
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing_function, string_value

SESSION = VulnClass.SESSION_FIXATION
TABLE = table(SESSION)

NO_ROTATION = Rule("session.login-without-rotation", SESSION, Severity.MEDIUM, 0.7,
                   "session not rotated at login", cwe=384)
NO_EXPIRY = Rule("session.no-expiry", SESSION, Severity.MEDIUM, 0.75, "session or token without a bounded lifetime",
                 cwe=613)

_SESSION_COOKIE = re.compile(r"(?i)(session|sess|sid|remember|auth|token|jwt)")


def _is_session(index: DocIndex, node: Node) -> bool:
    """flask's `session` or a `.session` attribute (Django's request.session)."""
    text = index.text(node)
    if text == "session":
        return index.imports.names.get("session", "").startswith(("flask", "quart"))
    return text.endswith(".session")


def _rotation_calls(index: DocIndex, function: Node) -> list[int]:
    """Byte offsets of calls in `function` that start a fresh session."""
    offsets = []
    rotating = set(TABLE["rotating_logins"])
    for site in index.calls:
        if not (function.start_byte <= site.node.start_byte < function.end_byte):
            continue
        if site.qualified in rotating or (site.method in TABLE["rotation_calls"] and "session" in site.receiver):
            offsets.append(site.node.start_byte)
    return offsets


def _fixation(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    if b"session" not in ctx.doc.data:
        return
    identity = set(TABLE["identity_keys"])
    reported: set[int] = set()
    for assign in index.assignments:
        left = assign.child_by_field_name("left")
        if left is None or left.type != "subscript":
            continue
        container = left.child_by_field_name("value")
        key = string_value(left.child_by_field_name("subscript"))
        if container is None or key not in identity or not _is_session(index, container):
            continue
        function = enclosing_function(assign)
        if function is None or function.start_byte in reported:
            continue
        if any(offset < assign.start_byte for offset in _rotation_calls(index, function)):
            continue
        reported.add(function.start_byte)
        yield NO_ROTATION.finding(ctx, assign, f"the user's identity goes into the session it arrived with "
                                               f"(session[{key!r}]); clear or cycle the session first")


def _lifetimes(ctx: AnalysisContext) -> Iterator[Finding]:
    if is_dev_path(ctx.path):
        return
    limit = TABLE["max_lifetime_s"]
    index = ctx.index
    for setting in settings(ctx):
        if setting.name in TABLE["no_expiry_settings"] and index.text(setting.value) == "False":
            yield NO_EXPIRY.finding(ctx, setting.site, f"{setting.name} = False: tokens never expire")
            continue
        if setting.name not in TABLE["lifetime_settings"]:
            continue
        seconds = timedelta_seconds(index, setting.value)
        if setting.name.endswith("_MINUTES") and seconds is not None and setting.value.type != "call":
            seconds *= 60
        if setting.value.type == "none" or (seconds is not None and seconds > limit):
            days = f"{seconds // 86400} days" if seconds is not None else "no limit"
            yield NO_EXPIRY.finding(ctx, setting.site, f"{setting.name} allows sessions of {days}; keep it to "
                                                       "days or hours")
    for site in index.calls:
        if site.method == "set_cookie":
            name = string_value(site.arg("key", 0)) or ""
            max_age = timedelta_seconds(index, site.keyword("max_age"))
            if _SESSION_COOKIE.search(name) and max_age is not None and max_age > limit:
                yield NO_EXPIRY.finding(ctx, site.node, f"cookie {name!r} lives {max_age // 86400} days")


def _jwt_expiry(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    claims = set(TABLE["expiry_claims"])
    for site in index.calls_to(*TABLE["jwt_encode"]):
        payload = site.arg("payload", 0)
        if payload is None:
            continue
        keys = _payload_keys(index, payload, site.node)
        if keys is not None and not keys & claims:
            yield NO_EXPIRY.finding(ctx, site.node, "this token has no 'exp' claim: it stays valid forever")


def _payload_keys(index: DocIndex, payload: Node, call: Node) -> set[str] | None:
    """Literal keys of a payload dict (followed through one local variable), or None if unknown."""
    if payload.type == "dictionary":
        keys = set()
        for pair in payload.named_children:
            if pair.type == "dictionary_splat":
                return None
            if pair.type == "pair":
                key = string_value(pair.child_by_field_name("key"))
                if key is None:
                    return None
                keys.add(key)
        return keys
    if payload.type != "identifier":
        return None
    name = index.text(payload)
    function = enclosing_function(call)
    if function is None:
        return None
    keys_found: set[str] | None = None
    for assign in index.assignments:
        if not (function.start_byte <= assign.start_byte < call.start_byte):
            continue
        left = assign.child_by_field_name("left")
        right = assign.child_by_field_name("right")
        if left is None or right is None:
            continue
        if left.type == "identifier" and index.text(left) == name:
            keys_found = _payload_keys(index, right, call) if right.type == "dictionary" else None
        elif left.type == "subscript" and keys_found is not None:
            container = left.child_by_field_name("value")
            key = string_value(left.child_by_field_name("subscript"))
            if container is not None and index.text(container) == name and key:
                keys_found.add(key)
    for site in index.calls:
        if function.start_byte <= site.node.start_byte < call.start_byte and site.receiver == name and \
                site.method in {"update", "setdefault"}:
            return None
    return keys_found


_LIFETIME_HINT = (b"LIFETIME", b"COOKIE_AGE", b"EXPIRE", b"set_cookie", b"permanent_session_lifetime")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Logins that keep the session, and sessions/tokens that never expire."""
    data = ctx.doc.data
    yield from _fixation(ctx)
    if contains_any(data, _LIFETIME_HINT):
        yield from _lifetimes(ctx)
    if b"jwt" in data:
        yield from _jwt_expiry(ctx)


CHECK = Check("session", (NO_ROTATION, NO_EXPIRY), run)
