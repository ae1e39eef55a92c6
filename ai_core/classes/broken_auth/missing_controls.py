"""Missing controls, not only bad calls: passwords stored without hashing, reset tokens anyone can predict.

- plaintext storage (CWE-256): an INSERT into a user table whose password value is not a hash call
  (`VALUES (?, ?)` bound to `(name, password)`), a model field assigned straight from the request
  (`user.password = request.form["password"]`) or a constructor given one (`User(password=request.form[...])`);
- predictable tokens (CWE-330/640): a reset/verification token, OTP or nonce made from `random`, `time.time()`,
  `uuid1()` or an MD5/SHA1 of them.

Fix: `generate_password_hash()` / Django's `make_password()` / bcrypt before storing; `secrets.token_urlsafe()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Rule
from ai_core.classes._shared.sql_insert import password_insert
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import string_value

AUTH = VulnClass.BROKEN_AUTH
STORED_PLAIN = Rule("auth.plaintext-password-storage", AUTH, Severity.HIGH, 0.7, "password stored without hashing",
                    cwe=256)
PREDICTABLE = Rule("auth.predictable-token", AUTH, Severity.HIGH, 0.7, "security token anyone can predict", cwe=330)

HASHING = re.compile(r"(?i)hash|crypt|make_password|set_password|pbkdf2|argon|scrypt|digest")
REQUEST_READ = re.compile(r"\b(?:request|req)\.(?:form|json|get_json|POST|args|values|data|GET)\b")
TOKEN_NAMES = re.compile(r"(?i)(?:reset|verif|confirm|activation|invite|magic|otp|one_time|nonce|csrf|api|auth|"
                         r"session|access|refresh)\w*(?:token|code|key|pin|nonce)|^(?:token|otp|nonce|pin)$")
PREDICTABLE_VALUE = re.compile(r"\brandom\.(?:random|randint|randrange|choice|choices|getrandbits|sample)\b|"
                               r"\btime\.time\(|\bdatetime\.(?:datetime\.)?now\(|\buuid\.uuid1\(|\buuid1\(")
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


def predictable_tokens(ctx: AnalysisContext) -> Iterator[Finding]:
    """Tokens and codes that guard an account, made from random/time/uuid1."""
    index = ctx.index
    for assign in index.assignments:
        left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        if left is None or right is None:
            continue
        name = index.text(left).rsplit(".", 1)[-1].strip("[]'\"")
        if TOKEN_NAMES.search(name) and PREDICTABLE_VALUE.search(index.text(right)) and \
                "SystemRandom" not in index.text(right) and "secrets." not in index.text(right):
            yield PREDICTABLE.finding(ctx, assign, f"{name} comes from random/time/uuid1, which an attacker can "
                                                   "predict; use secrets.token_urlsafe()")


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


HINT = re.compile(rb"(?i)password|passwd|pwd")
TOKEN_HINT = re.compile(rb"random|time\.time|uuid1|datetime")
RULES = (STORED_PLAIN, PREDICTABLE)


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Plaintext password storage and predictable tokens."""
    if HINT.search(ctx.doc.data):
        yield from plaintext_storage(ctx)
    if TOKEN_HINT.search(ctx.doc.data) and re.search(rb"(?i)token|otp|nonce|code|pin", ctx.doc.data):
        yield from predictable_tokens(ctx)
