"""Broken authentication (CWE-916, 347, 208, 256, 521): weak password storage, unverified tokens,
timing-unsafe secret comparisons and password policies that accept trivial passwords.

- passwords hashed with a fast hash (md5/sha1/sha256...), weak passlib schemes, werkzeug
  `method="md5"`, too few PBKDF2 iterations, or weak Django PASSWORD_HASHERS, CWE-916;
- `jwt.decode` with signature verification switched off (`options={"verify_signature": False}`,
  `verify=False`, algorithm "none") or unverified claims used, CWE-347;
- secrets, tokens or signatures compared with `==`, CWE-208 (use `hmac.compare_digest`);
- a stored password compared in plain text (`user.password == password`), CWE-256;
- password policies: `AUTH_PASSWORD_VALIDATORS = []` or `len(password) < 6`, CWE-521;
- a localhost/IP allowlist check on a header the client sets (Host, X-Forwarded-For, X-Real-IP), CWE-290.

Fix: `bcrypt`/`argon2`/Django hashers/`generate_password_hash()`, `jwt.decode(token, key,
algorithms=["HS256"])`, `hmac.compare_digest(a, b)`, at least 8 characters and Django's validators.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.docindex import DocIndex, literal_int
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.analysis.wordlist import contains_any
from ai_core.classes._shared import headers
from ai_core.classes._shared.config_reader import is_dev_path, settings
from ai_core.classes.broken_auth import missing_controls
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing_function, string_value

AUTH = VulnClass.BROKEN_AUTH
TABLE = table(AUTH)

WEAK_HASH = Rule("auth.weak-password-hash", AUTH, Severity.HIGH, 0.8, "password hashed with a fast hash", cwe=916)
JWT = Rule("auth.jwt-unverified", AUTH, Severity.HIGH, 0.85, "JWT accepted without verifying its signature", cwe=347)
TIMING = Rule("auth.timing-unsafe-compare", AUTH, Severity.MEDIUM, 0.7, "secret compared with ==", cwe=208)
PLAINTEXT = Rule("auth.plaintext-password", AUTH, Severity.HIGH, 0.75, "password stored and compared in plain text",
                 cwe=256)
POLICY = Rule("auth.weak-password-policy", AUTH, Severity.MEDIUM, 0.7, "trivial passwords accepted", cwe=521)
SPOOFED_ADDRESS = Rule("auth.spoofable-address-check", AUTH, Severity.HIGH, 0.75,
                       "local-only check trusts a header the client sets", cwe=290)
_ADDRESS_LITERAL = re.compile(r"""['"](?:localhost|::1|::ffff:127\.0\.0\.1|\d{1,3}(?:\.\d{1,3}){3})"""
                              r"""(?::\d+)?['"]|['"]\[::1\](?::\d+)?['"]""")
"""A literal host or IP address (with an optional port): what a local-only or allowlist check compares with."""

_PASSWORD = re.compile(TABLE["password_names"])
_SECRET = re.compile(TABLE["secret_names"])
_NOT_SECRET_PART = re.compile(r"(?i)(_?(type|name|id|url|len|length|count|expires?|exp|valid|ok|header|prefix|"
                              r"field|param|key_name|format|version|status|kind|mode))$|^(is|has|num|n)_")


def _names_in(index: DocIndex, node: Node) -> list[str]:
    """Identifiers, attribute names and string subscript keys inside an expression."""
    names: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        kind = current.type
        if kind == "identifier":
            names.append(index.text(current))
        elif kind == "subscript":
            key = string_value(current.child_by_field_name("subscript"))
            if key:
                names.append(key)
            value = current.child_by_field_name("value")
            if value is not None:
                stack.append(value)
        elif kind == "call":
            args = current.child_by_field_name("arguments")
            fn = current.child_by_field_name("function")
            if fn is not None and fn.type == "attribute":
                obj = fn.child_by_field_name("object")
                if obj is not None:
                    stack.append(obj)
                method = index.text(fn).rsplit(".", 1)[-1]
                if method == "get" and args is not None:
                    first = next((c for c in args.named_children if c.type == "string"), None)
                    key = string_value(first)
                    if key:
                        names.append(key)
                    continue
            if args is not None:
                stack.extend(args.named_children)
        elif kind == "string":
            continue
        else:
            stack.extend(current.named_children)
    return names


def _mentions_password(index: DocIndex, node: Node) -> bool:
    return any(_PASSWORD.search(name) and not re.search(r"(?i)hash|reset|url|field|len", name)
               for name in _names_in(index, node))


def _hashing(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    fast = set(TABLE["fast_hashes"])
    for site in index.calls:
        qualified = site.qualified
        if qualified in fast:
            data_args = site.positional()[1:] if qualified == "hashlib.new" else site.positional()
            if any(_mentions_password(index, arg) for arg in data_args):
                yield WEAK_HASH.finding(ctx, site.node, f"{site.name}() is fast: a leaked password hash is cracked "
                                                        "in seconds; use bcrypt, argon2 or PBKDF2")
        elif qualified in TABLE["pbkdf2"]:
            iterations = literal_int(index, site.arg("iterations", 3))
            if iterations is not None and iterations < TABLE["min_pbkdf2_iterations"]:
                yield WEAK_HASH.finding(ctx, site.node, f"PBKDF2 with {iterations} iterations is too fast; use at "
                                                        f"least {TABLE['min_pbkdf2_iterations']:,}")
        elif qualified in TABLE["werkzeug_hash"]:
            method = string_value(site.arg("method", 1))
            if method is not None and method.split(":")[0] in TABLE["weak_werkzeug_methods"]:
                yield WEAK_HASH.finding(ctx, site.node, f"generate_password_hash(method={method!r}) stores a fast "
                                                        "hash; keep the default (scrypt/pbkdf2)")
        elif qualified.startswith(TABLE["passlib_hash_module"]):
            scheme = qualified[len(TABLE["passlib_hash_module"]):].split(".")[0]
            if scheme in TABLE["weak_passlib_schemes"] and site.method in {"hash", "encrypt", "using"}:
                yield WEAK_HASH.finding(ctx, site.node, f"passlib {scheme} is a weak password scheme")
        elif qualified in TABLE["passlib_contexts"]:
            schemes = site.keyword("schemes")
            listed = [c for c in schemes.named_children if c.type != "comment"] if schemes is not None else []
            first = listed[0] if listed else None
            if string_value(first) in TABLE["weak_passlib_schemes"]:
                yield WEAK_HASH.finding(ctx, site.node, f"CryptContext hashes new passwords with "
                                                        f"{string_value(first)}")
    for setting in settings(ctx):
        entries = [c for c in setting.value.named_children if c.type != "comment"]
        if setting.name == "PASSWORD_HASHERS" and setting.value.type in {"list", "tuple"} and entries:
            hasher = (string_value(entries[0]) or "").rsplit(".", 1)[-1]
            if hasher in TABLE["weak_django_hashers"]:
                yield WEAK_HASH.finding(ctx, setting.site, f"PASSWORD_HASHERS starts with {hasher}")
        elif setting.name == "AUTH_PASSWORD_VALIDATORS" and setting.value.type in {"list", "tuple"} and \
                not entries and not is_dev_path(ctx.path):
            yield POLICY.finding(ctx, setting.site, "AUTH_PASSWORD_VALIDATORS is empty: any password is accepted")


def _jwt(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    for site in index.calls:
        if site.qualified in TABLE["jwt_decode"]:
            options = site.keyword("options")
            text = index.text(options) if options is not None else ""
            verify = site.keyword("verify")
            algorithms = site.keyword("algorithms")
            if re.search(r"[\"']verify_signature[\"']\s*:\s*False", text) or \
                    (verify is not None and index.text(verify) == "False") or \
                    (algorithms is not None and re.search(r"(?i)[\"']none[\"']", index.text(algorithms))):
                yield JWT.finding(ctx, site.node, "jwt.decode() without signature verification accepts forged "
                                                  "tokens")
        elif site.qualified in TABLE["jwt_unverified"]:
            yield JWT.finding(ctx, site.node, f"{site.name}() returns claims nobody verified")
        elif site.qualified in {"jwt.encode", "jose.jwt.encode"}:
            algorithm = string_value(site.keyword("algorithm"))
            if algorithm is not None and algorithm.lower() == "none":
                yield JWT.finding(ctx, site.node, "tokens signed with algorithm 'none' can be forged")


def _side_name(index: DocIndex, node: Node) -> str:
    kind = node.type
    if kind == "identifier":
        return index.text(node)
    if kind == "attribute":
        attr = node.child_by_field_name("attribute")
        return index.text(attr) if attr is not None else ""
    if kind == "subscript":
        return string_value(node.child_by_field_name("subscript")) or ""
    if kind == "call":
        fn = node.child_by_field_name("function")
        if fn is not None and index.text(fn).rsplit(".", 1)[-1] == "get":
            args = node.child_by_field_name("arguments")
            first = next((c for c in args.named_children if c.type == "string"), None) if args else None
            return string_value(first) or ""
    return ""


def _is_literalish(node: Node) -> bool:
    return node.type in {"string", "integer", "none", "true", "false", "float", "concatenated_string"}


def _comparisons(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    for comparison in index.comparisons:
        operators = [op.type for op in comparison.children_by_field_name("operators")]
        operands = comparison.named_children
        if operators not in (["=="], ["!="]) or len(operands) != 2:
            continue
        left, right = operands
        if _is_literalish(left) or _is_literalish(right):
            continue
        names = (_side_name(index, left), _side_name(index, right))
        kinds = (left.type, right.type)
        if any(kind in {"attribute", "subscript"} and name.lower() == "password" for name, kind in
               zip(names, kinds, strict=True)):
            yield PLAINTEXT.finding(ctx, comparison, "the password is stored and compared in plain text; store "
                                                     "a salted hash and use check_password_hash()")
            continue
        normalised = [name.replace("-", "_") for name in names]
        if any(name and _SECRET.search(name) and not _NOT_SECRET_PART.search(name) for name in normalised) and \
                "len(" not in index.text(comparison):
            yield TIMING.finding(ctx, comparison, "== on a secret stops at the first differing byte; compare "
                                                  "with hmac.compare_digest()")


def _length_policy(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    minimum = TABLE["min_password_length"]
    for comparison in index.comparisons:
        operators = [op.type for op in comparison.children_by_field_name("operators")]
        operands = comparison.named_children
        if len(operators) != 1 or len(operands) != 2:
            continue
        left, right = operands
        op = operators[0]
        if left.type == "call" and index.text(left).startswith("len(") and op in {"<", "<="}:
            limit = literal_int(index, right)
            if limit is not None and _mentions_password(index, left):
                effective = limit if op == "<" else limit + 1
                if effective < minimum:
                    yield POLICY.finding(ctx, comparison, f"passwords of {effective} characters are accepted; "
                                                          f"require at least {minimum}")


_HASH_HINT = (b"hashlib", b"passlib", b"password_hash", b"pbkdf2", b"PASSWORD_HASHERS", b"AUTH_PASSWORD_VALIDATORS",
              b"crypt", b"Crypto")
_SECRET_HINT = (b"secret", b"token", b"sig", b"digest", b"mac", b"key", b"password", b"otp", b"nonce", b"passcode",
                b"reset_code")


def _spoofed_address_checks(ctx: AnalysisContext) -> Iterator[Finding]:
    """`if http_host in ("127.0.0.1:9666", ...)`: an address allowlist decided on a header the client writes."""
    for comparison in ctx.index.comparisons:
        function = enclosing_function(comparison)
        if function is None or not _ADDRESS_LITERAL.search(ctx.index.text(comparison)):
            continue
        names = headers.header_names(ctx, function)
        for side in comparison.named_children:
            header = headers.spoofed(ctx, side, names)
            if header and not _ADDRESS_LITERAL.search(ctx.index.text(side)):
                yield SPOOFED_ADDRESS.finding(
                    ctx, comparison, f"the {header} header is compared with a local address, but any client sends "
                                     "any value in it; decide on the connection's address (REMOTE_ADDR) instead")
                break


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Password hashing, JWT verification, secret comparisons, password policies, spoofable address checks."""
    data = ctx.doc.data
    if contains_any(data, _HASH_HINT):
        yield from _hashing(ctx)
    if b"jwt" in data:
        yield from _jwt(ctx)
    if (b"==" in data or b"!=" in data) and contains_any(ctx.lowered, _SECRET_HINT):
        yield from _comparisons(ctx)
    if b"len(" in data and (b"pass" in ctx.lowered or b"pwd" in ctx.lowered or b"pin" in ctx.lowered):
        yield from _length_policy(ctx)
    if headers.may_read_headers(ctx):
        yield from _spoofed_address_checks(ctx)
    yield from missing_controls.run(ctx)


CHECK = Check("auth", (WEAK_HASH, JWT, TIMING, PLAINTEXT, POLICY, SPOOFED_ADDRESS, *missing_controls.RULES), run)
