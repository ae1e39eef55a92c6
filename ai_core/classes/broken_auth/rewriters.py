"""Broken authentication rewriters: password hashing, strong hashers and policies, JWT verification, constant-time
comparison, local-only checks on the connection's address."""

from __future__ import annotations

import re
from collections import Counter

from tree_sitter import Node

from ai_core.classes._shared import headers
from ai_core.classes._shared.edit_helpers import dead_assignments
from ai_core.classes.broken_auth.missing_controls import AUTH_CHECK, ROUTE
from ai_core.findings import TextEdit
from ai_core.fixes.calls import append_argument, keyword, positional, removal_range
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import insert_before
from ai_core.fixes.names import single_assignment, unparenthesized
from ai_core.parsing.tree import ancestors, enclosing_function, identifiers, nodes_of_type, walk

WEAK_HASHES = frozenset({"hashlib.md5", "hashlib.sha1", "hashlib.sha224", "hashlib.sha256", "hashlib.sha384",
                         "hashlib.sha512", "hashlib.new", "hashlib.blake2b", "hashlib.blake2s", "hashlib.sha3_256",
                         "hashlib.sha3_512", "md5.new", "sha.new"})


def _password_arg(ctx: FixContext, call: Node) -> str | None:
    args = positional(call)
    if ctx.qualified(ctx.text(call.child_by_field_name("function") or call)) == "hashlib.new":
        args = args[1:]
    if not args:
        return None
    arg = args[0]
    if arg.type == "call":  # password.encode() / password.encode("utf-8") -> password
        fn = arg.child_by_field_name("function")
        if fn is not None and fn.type == "attribute" and ctx.text(fn).endswith(".encode"):
            obj = fn.child_by_field_name("object")
            if obj is not None:
                return ctx.text(unparenthesized(obj))
    return ctx.text(arg)


def _hash_helpers(ctx: FixContext) -> tuple[str, list[Helper]]:
    """The hashing backend the project already uses (bcrypt, argon2), else hashlib.scrypt."""
    to_bytes = "data = password.encode() if isinstance(password, str) else password"
    if ctx.uses_module("bcrypt"):
        bcrypt = ctx.ref("bcrypt")
        return "bcrypt", [
            Helper("_hash_password",
                   "def _hash_password(password: str | bytes) -> str:\n"
                   '    """A salted bcrypt hash of a password."""\n'
                   f"    {to_bytes}\n"
                   f"    return {bcrypt}.hashpw(data, {bcrypt}.gensalt()).decode()"),
            Helper("_verify_password",
                   "def _verify_password(password: str | bytes, stored: str) -> bool:\n"
                   '    """True when `password` matches a value made by _hash_password."""\n'
                   f"    {to_bytes}\n"
                   f"    return {bcrypt}.checkpw(data, stored.encode())"),
        ]
    if ctx.uses_module("argon2"):
        hasher = ctx.ref("argon2", "PasswordHasher")
        return "argon2", [
            Helper("_hash_password",
                   "def _hash_password(password: str | bytes) -> str:\n"
                   '    """An Argon2id hash of a password."""\n'
                   f"    return {hasher}().hash(password)"),
            Helper("_verify_password",
                   "def _verify_password(password: str | bytes, stored: str) -> bool:\n"
                   '    """True when `password` matches a value made by _hash_password."""\n'
                   "    try:\n"
                   f"        return {hasher}().verify(stored, password)\n"
                   "    except Exception:\n"
                   "        return False"),
        ]
    scrypt = ctx.ref("hashlib", "scrypt")
    urandom = ctx.ref("os", "urandom")
    compare = ctx.ref("hmac", "compare_digest")
    return "scrypt", [
        Helper("_hash_password",
               "def _hash_password(password: str | bytes) -> str:\n"
               '    """A salted scrypt hash of a password: "scrypt$<salt hex>$<hash hex>"."""\n'
               f"    {to_bytes}\n"
               f"    salt = {urandom}(16)\n"
               f"    digest = {scrypt}(data, salt=salt, n=2**14, r=8, p=1)\n"
               '    return f"scrypt${salt.hex()}${digest.hex()}"'),
        Helper("_verify_password",
               "def _verify_password(password: str | bytes, stored: str) -> bool:\n"
               '    """True when `password` matches a value made by _hash_password (constant time)."""\n'
               f"    {to_bytes}\n"
               "    scheme, _, rest = stored.partition(\"$\")\n"
               "    salt_hex, _, digest_hex = rest.partition(\"$\")\n"
               "    if scheme != \"scrypt\" or not digest_hex:\n"
               "        return False\n"
               f"    digest = {scrypt}(data, salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)\n"
               f"    return {compare}(digest.hex(), digest_hex)"),
    ]


def password_hashing(ctx: FixContext) -> Draft | None:
    """`hashlib.md5(pw.encode()).hexdigest()` -> `_hash_password(pw)` (scrypt, or bcrypt/argon2 if used)."""
    for call in [n for n in walk(ctx.node) if n.type == "call"] + [c for c in ancestors(ctx.node) if c.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or ctx.qualified(ctx.text(fn)) not in WEAK_HASHES:
            continue
        password = _password_arg(ctx, call)
        if password is None:
            continue
        outer = call
        parent = outer.parent
        while parent is not None and parent.type == "attribute" and parent.parent is not None and \
                parent.parent.type == "call" and ctx.text(parent).rsplit(".", 1)[-1] in {"hexdigest", "digest"}:
            outer = parent.parent
            parent = outer.parent
        backend, helpers = _hash_helpers(ctx)
        comparison = outer.parent
        if comparison is not None and comparison.type == "parenthesized_expression":
            comparison = comparison.parent
        if comparison is not None and comparison.type == "comparison_operator" and \
                len(comparison.named_children) == 2:
            operator = ctx.text(comparison)[
                comparison.named_children[0].end_byte - comparison.start_byte:
                comparison.named_children[1].start_byte - comparison.start_byte].strip()
            other = next(c for c in comparison.named_children if c.start_byte != outer.start_byte and
                         not (c.start_byte <= outer.start_byte and outer.end_byte <= c.end_byte))
            if operator in {"==", "!="}:
                negate = "not " if operator == "!=" else ""
                return Draft(f"Check the password against a salted {backend} hash",
                             [ctx.replace(comparison, f"{negate}_verify_password({password}, {ctx.text(other)})")],
                             helpers=helpers, drop_imports=[ctx.text(fn).split(".")[0]],
                             note="Stored hashes must be re-created with _hash_password.")
        return Draft(f"Hash the password with salted {backend}", [ctx.replace(outer, f"_hash_password({password})")],
                     helpers=helpers, drop_imports=[ctx.text(fn).split(".")[0]],
                     note="Existing stored hashes must be migrated (verify with _verify_password).")
    return None


DJANGO_VALIDATORS = (
    "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    "django.contrib.auth.password_validation.MinimumLengthValidator",
    "django.contrib.auth.password_validation.CommonPasswordValidator",
    "django.contrib.auth.password_validation.NumericPasswordValidator",
)
WEAK_HASHERS = re.compile(r"(?:Unsalted)?(?:MD5|SHA1)PasswordHasher|CryptPasswordHasher|^(?:md5_crypt|des_crypt|"
                          r"bsdi_crypt|hex_md5|hex_sha1|ldap_md5|plaintext|sha1_crypt|mysql323|nthash)$")
MIN_PASSWORD_LENGTH = 12


def password_policy(ctx: FixContext) -> Draft | None:
    """`len(password) < 6` -> 12; `AUTH_PASSWORD_VALIDATORS = []` -> Django's standard validators."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type == "assignment":
            left, value = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and value is not None and ctx.text(left) == "AUTH_PASSWORD_VALIDATORS" and \
                    value.type == "list" and value.named_child_count == 0:
                nl, indent = "\n", "    "
                body = "".join(f'{indent}{{"NAME": "{v}"}},{nl}' for v in DJANGO_VALIDATORS)
                return Draft("Use Django's password validators", [ctx.replace(value, f"[{nl}{body}]")])
        if node.type == "comparison_operator" and len(node.named_children) == 2:
            left, right = node.named_children
            operator = ctx.doc.data[left.end_byte:right.start_byte].decode().strip()
            if left.type == "call" and ctx.text(left).startswith("len(") and operator in {"<", "<="} and \
                    right.type == "integer" and int(ctx.text(right), 0) < MIN_PASSWORD_LENGTH:
                bound = MIN_PASSWORD_LENGTH if operator == "<" else MIN_PASSWORD_LENGTH - 1
                return Draft(f"Require at least {MIN_PASSWORD_LENGTH} characters", [ctx.replace(right, str(bound))])
    return None


def strong_hashers(ctx: FixContext) -> Draft | None:
    """Weak password hashers in PASSWORD_HASHERS / passlib schemes -> PBKDF2 (kept once, first)."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type != "list":
            continue
        items = [c for c in node.named_children if c.type == "string"]
        weak = [c for c in items if WEAK_HASHERS.search(ctx.text(c).strip("\"'"))]
        if not weak:
            continue
        django = any("PasswordHasher" in ctx.text(c) for c in items)
        strong = '"django.contrib.auth.hashers.PBKDF2PasswordHasher"' if django else '"pbkdf2_sha256"'
        present = any(ctx.text(c).strip("\"'") == strong.strip('"') for c in items)
        edits = []
        for index, item in enumerate(weak):
            if index == 0 and not present:
                edits.append(ctx.replace(item, strong))
            else:
                start, end = removal_range(ctx.doc, item)
                edits.append(TextEdit(start, end, ""))
        return Draft("Hash passwords with PBKDF2 instead of a fast hash", edits)
    return None


def constant_time_compare(ctx: FixContext) -> Draft | None:
    """`token == expected` -> `hmac.compare_digest(token, expected)`."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type != "comparison_operator" or len(node.named_children) != 2:
            continue
        left, right = node.named_children
        operator = ctx.doc.data[left.end_byte:right.start_byte].decode().strip()
        if operator not in {"==", "!="}:
            continue
        compare = ctx.ref("hmac", "compare_digest")
        negate = "not " if operator == "!=" else ""
        text = f"{negate}{compare}({ctx.text(left)}, {ctx.text(right)})"
        return Draft("Compare secrets in constant time (hmac.compare_digest)", [ctx.replace(node, text)])
    return None


@source_independent
def jwt_verification(ctx: FixContext) -> Draft | None:
    """`jwt.decode(token, options={"verify_signature": False})` -> signature checked with a key and algorithms."""
    for call in [n for n in walk(ctx.node) if n.type == "call"] + [c for c in ancestors(ctx.node) if c.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or not ctx.qualified(ctx.text(fn)).endswith("jwt.decode"):
            continue
        edits: list[TextEdit] = []
        for name in ("options", "verify"):
            kw = keyword(call, name)
            if kw is not None and ("False" in ctx.text(kw)):
                start, end = removal_range(ctx.doc, kw)
                edits.append(TextEdit(start, end, ""))
        args = positional(call)
        env = []
        if len(args) < 2 and keyword(call, "key") is None:
            key = f'{ctx.ref("os", "environ")}["JWT_SECRET_KEY"]'
            env.append("JWT_SECRET_KEY")
            if not args:
                continue
            edits.append(TextEdit(args[0].end_byte, args[0].end_byte, f", {key}"))
        algorithms = keyword(call, "algorithms")
        if algorithms is None:
            extra = append_argument(ctx.doc, call, 'algorithms=["HS256"]')
            if extra is None:
                continue
            if edits and extra.start_byte < max(e.end_byte for e in edits):
                continue
            edits.append(extra)
        elif "none" in ctx.text(algorithms).lower():
            value = algorithms.child_by_field_name("value")
            if value is not None:
                edits.append(ctx.replace(value, '["HS256"]'))
        if edits:
            return Draft("Verify the token's signature", edits, env_vars=env)
    return None


def hashed_password_check(ctx: FixContext) -> Draft | None:
    """`user.password == password` -> `_verify_password(password, user.password)` against a salted hash."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type != "comparison_operator" or len(node.named_children) != 2:
            continue
        left, right = node.named_children
        operator = ctx.doc.data[left.end_byte:right.start_byte].decode().strip()
        if operator not in {"==", "!="}:
            continue
        if not (re.search(r"passw|pwd", ctx.text(left), re.IGNORECASE) and
                re.search(r"passw|pwd", ctx.text(right), re.IGNORECASE)):
            continue
        supplied, stored = (right, left) if left.type in {"attribute", "subscript"} else (left, right)
        backend, helpers = _hash_helpers(ctx)
        negate = "not " if operator == "!=" else ""
        return Draft(f"Store and check passwords as salted {backend} hashes",
                     [ctx.replace(node, f"{negate}_verify_password({ctx.text(supplied)}, {ctx.text(stored)})")],
                     helpers=helpers, note="Stored passwords must be replaced by _hash_password(...) values.")
    return None


@source_independent
def sibling_auth_decorator(ctx: FixContext) -> Draft | None:
    """A route without the auth decorator most of its sibling routes carry: that decorator is added, spelled and
    placed as they have it (its import is already there). No data source is involved: what changes is that the
    route now refuses the requests the check refuses, and the title says so."""
    function = enclosing_function(ctx.node)
    decorated = function.parent if function is not None else None
    if function is None or decorated is None or decorated.type != "decorated_definition":
        return None
    own = [c for c in decorated.named_children if c.type == "decorator"]
    if not any(ROUTE.search(ctx.text(d)) for d in own) or any(AUTH_CHECK.search(ctx.text(d)) for d in own):
        return None
    counts: Counter[str] = Counter()
    for sibling in nodes_of_type(ctx.doc.tree.root_node, "decorated_definition"):
        decorators = [ctx.text(c) for c in sibling.named_children if c.type == "decorator"]
        if sibling.start_byte != decorated.start_byte and any(ROUTE.search(d) for d in decorators):
            counts.update({d for d in decorators if AUTH_CHECK.search(d) and "\n" not in d})
    if not counts:
        return None
    decorator, uses = counts.most_common(1)[0]
    if uses < 2:
        return None
    last_route = max(i for i, d in enumerate(own) if ROUTE.search(ctx.text(d)))
    anchor = own[last_route + 1] if last_route + 1 < len(own) else function
    name_node = function.child_by_field_name("name")
    name = ctx.text(name_node) if name_node is not None else "this route"
    effect = "the route now requires login" if re.search(r"(?i)login|auth|jwt|token", decorator) else \
        f"the route now refuses requests {decorator} refuses"
    return Draft(f"Add {decorator} to {name}(), as {uses} sibling routes have it ({effect})",
                 [insert_before(ctx.doc, anchor, [decorator])],
                 note=f"{name}() becomes reachable only through {decorator}: if it is meant to be public, "
                      "leave it and suppress the finding instead")


_ADDRESS_PORT = re.compile(r"""^([rbu]?['"])\[?(localhost|::1|[0-9a-fA-F:.]+?)\]?:\d+(['"])$""")
_REMOTE_ADDR = re.compile(r"REMOTE_ADDR|remote_addr|\.client\.host|get_host\(\)")


def _header_of(ctx: FixContext, node: Node) -> tuple[str, Node] | None:
    """(the spoofable header, the expression reading it) for a comparison side: a read or a name bound to one."""
    header = headers.read_header(ctx.text(node))
    if header:
        return header, node
    if node.type == "identifier":
        value = single_assignment(ctx.doc, node)
        if value is not None and (header := headers.read_header(ctx.text(value))):
            return header, value
    return None


def _connection_address(ctx: FixContext, read: Node) -> str | None:
    """The peer address spelled with the request object the header read uses: `request.remote_addr` (Flask,
    Werkzeug), `request.META["REMOTE_ADDR"]` (Django)."""
    match = re.match(r"^\s*([\w.]+?)\.(headers|environ|META)\b", ctx.text(read))
    if match is None:
        return None
    request, where = match.groups()
    return f'{request}.META["REMOTE_ADDR"]' if where == "META" else f"{request}.remote_addr"


def _checks_remote_addr(ctx: FixContext, node: Node) -> bool:
    """True when an expression reads the connection's address, directly or through names bound to it."""
    return bool(_REMOTE_ADDR.search(ctx.text(node))) or any(
        _REMOTE_ADDR.search(ctx.text(value)) for name in identifiers(node)
        if (value := single_assignment(ctx.doc, name)) is not None)


def _or_operands(node: Node) -> tuple[Node, Node] | None:
    """(the comparison, the other operand) when `node` is one side of `a or b`."""
    parent = node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        node, parent = parent, parent.parent
    if parent is None or parent.type != "boolean_operator":
        return None
    operator = parent.child_by_field_name("operator")
    left, right = parent.child_by_field_name("left"), parent.child_by_field_name("right")
    if operator is None or operator.type != "or" or left is None or right is None:
        return None
    return (node, right) if left.start_byte == node.start_byte else (node, left)


def connection_address_check(ctx: FixContext) -> Draft | None:
    """`http_host in ("127.0.0.1:9666", ...)` (a header the client writes) -> the connection's address:
    the header half of `remote_addr in (...) or http_host in (...)` is dropped, else the header is replaced by
    `request.remote_addr` / `request.META["REMOTE_ADDR"]` (ports dropped from the compared literals)."""
    comparison = next((n for n in (ctx.node, *ancestors(ctx.node)) if n.type == "comparison_operator"), None)
    if comparison is None or len(comparison.named_children) != 2:
        return None
    sides = [(side, _header_of(ctx, side)) for side in comparison.named_children]
    spoofed = [(side, found) for side, found in sides if found is not None]
    if len(spoofed) != 1:
        return None
    side, (header, read) = spoofed[0]
    literals = next(other for other, found in sides if found is None)
    scope = enclosing_function(comparison)
    if scope is None:
        return None
    body = scope.child_by_field_name("body") or scope
    pair = _or_operands(comparison)
    if pair is not None and _checks_remote_addr(ctx, pair[1]):
        own, other = pair
        start, end = (other.end_byte, own.end_byte) if other.start_byte < own.start_byte else \
            (own.start_byte, other.start_byte)
        edits = [TextEdit(start, end, "")]
        edits += dead_assignments(ctx, body, [(start, end)])
        return Draft(f"Decide on the connection's address only, not the {header} header",
                     sorted(edits, key=lambda e: e.start_byte),
                     note=f"Requests are no longer let through because of their {header} header; behind a reverse "
                          "proxy on the same host every request comes from a local address.")
    address = _connection_address(ctx, read)
    if address is None:
        return None
    edits = [ctx.replace(side, address)]
    if side.type == "identifier":
        edits += dead_assignments(ctx, body, [(side.start_byte, side.end_byte)])
    strings = [literals] if literals.type == "string" else [n for n in literals.named_children if n.type == "string"]
    for literal in strings:
        match = _ADDRESS_PORT.match(ctx.text(literal))
        if match is not None:
            edits.append(ctx.replace(literal, f"{match.group(1)}{match.group(2)}{match.group(3)}"))
    return Draft(f"Check the connection's address ({address}), not the {header} header",
                 sorted(edits, key=lambda e: e.start_byte),
                 note=f"Requests are no longer let through because of their {header} header; behind a reverse "
                      "proxy on the same host every request comes from a local address.")


REWRITERS: tuple[Rewriter, ...] = (password_hashing, strong_hashers, jwt_verification, hashed_password_check,
                                   constant_time_compare, password_policy, sibling_auth_decorator,
                                   connection_address_check)
"""Tried in order for a broken authentication finding."""
