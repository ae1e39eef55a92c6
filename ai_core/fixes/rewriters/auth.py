"""Authentication and sessions: password hashing, JWT verification, constant-time comparison, session rotation,
redaction of secrets in logs, no tracebacks to clients."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.findings import TextEdit
from ai_core.fixes.calls import append_argument, keyword, positional, removal_range, set_keyword
from ai_core.fixes.context import Draft, FixContext
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import guard_statement, insert_before
from ai_core.fixes.names import single_assignment, unparenthesized
from ai_core.fixes.strings import Expr, built_string, string_prefix
from ai_core.parsing.tree import ancestors, enclosing, enclosing_function, walk

WEAK_HASHES = frozenset({"hashlib.md5", "hashlib.sha1", "hashlib.sha224", "hashlib.sha256", "hashlib.sha384",
                         "hashlib.sha512", "hashlib.new", "hashlib.blake2b", "hashlib.blake2s", "hashlib.sha3_256",
                         "hashlib.sha3_512", "md5.new", "sha.new"})
SENSITIVE = re.compile(r"passw|pwd|secret|token|api_?key|apikey|credential|private_?key|ssn|card|cvv|otp|"
                       r"session_?id|auth", re.IGNORECASE)
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"})
REDACTED = "[REDACTED]"


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


def rotate_session(ctx: FixContext) -> Draft | None:
    """Start a fresh session at login: `session.clear()` (Flask) or `request.session.cycle_key()` (Django)."""
    function = enclosing_function(ctx.node)
    if function is None:
        return None
    body = function.child_by_field_name("body")
    if body is None:
        return None
    for node in walk(body):
        text = ctx.text(node)
        if node.type == "call" and re.match(r"(?:\w+\.)?(?:login_user|login)\(", text):
            statement = guard_statement(ctx.doc, node)
            if statement is None:
                continue
            if "request" in text and ctx.uses_module("django"):
                continue  # django.contrib.auth.login already rotates the session key
            session = ctx.ref("flask", "session")
            return Draft("Start a new session at login", [insert_before(ctx.doc, statement, [f"{session}.clear()"])])
        if node.type == "assignment":
            left = node.child_by_field_name("left")
            if left is None or left.type != "subscript":
                continue
            target = ctx.text(left.child_by_field_name("value") or left)
            statement = guard_statement(ctx.doc, node)
            if statement is None:
                continue
            if target.endswith("request.session"):
                return Draft("Rotate the session key at login",
                             [insert_before(ctx.doc, statement, [f"{target}.cycle_key()"])])
            if target == "session" or ctx.qualified(target) == "flask.session":
                return Draft("Start a new session at login",
                             [insert_before(ctx.doc, statement, [f"{target}.clear()"])])
    return None


def session_id_from_server(ctx: FixContext) -> Draft | None:
    """A session cookie set from request data -> a fresh random id from `secrets`."""
    for call in [n for n in walk(ctx.node) if n.type == "call"] + [c for c in ancestors(ctx.node) if c.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or not ctx.text(fn).endswith("set_cookie"):
            continue
        args = positional(call)
        value = args[1] if len(args) > 1 else None
        kw = keyword(call, "value")
        if value is None and kw is not None:
            value = kw.child_by_field_name("value")
        if value is None:
            continue
        token = ctx.ref("secrets", "token_urlsafe")
        return Draft("Issue a new random session id", [ctx.replace(value, f"{token}(32)")])
    return None


def token_expiry(ctx: FixContext) -> Draft | None:
    """`jwt.encode({"sub": uid}, key)` -> the payload gets an `exp` claim 30 minutes ahead."""
    for call in [n for n in walk(ctx.node) if n.type == "call"] + [c for c in ancestors(ctx.node) if c.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or not ctx.qualified(ctx.text(fn)).endswith("jwt.encode"):
            continue
        args = positional(call)
        payload = args[0] if args else None
        if payload is not None and payload.type == "identifier":
            payload = single_assignment(ctx.doc, payload)
        if payload is None or payload.type != "dictionary" or re.search(r"""["']exp["']""", ctx.text(payload)):
            continue
        datetime = ctx.ref("datetime", "datetime")
        timedelta = ctx.ref("datetime", "timedelta")
        utc = ctx.ref("datetime", "UTC")
        expiry = f'"exp": {datetime}.now({utc}) + {timedelta}(minutes=30)'
        pairs = [c for c in payload.named_children if c.type != "comment"]
        close = payload.end_byte - 1
        if pairs:
            between = ctx.doc.data[pairs[-1].end_byte:close]
            if between.strip().startswith(b","):
                point = pairs[-1].end_byte + between.index(b",") + 1
                return Draft("Give the token an expiry (exp claim)", [TextEdit(point, point, f" {expiry},")])
            return Draft("Give the token an expiry (exp claim)",
                         [TextEdit(pairs[-1].end_byte, pairs[-1].end_byte, f", {expiry}")])
        return Draft("Give the token an expiry (exp claim)", [TextEdit(close, close, expiry)])
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


def session_lifetime(ctx: FixContext) -> Draft | None:
    """Sessions that never expire -> a 30-minute lifetime."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type != "assignment":
            continue
        left, value = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or value is None:
            continue
        name = ctx.text(left)
        if re.search(r"LIFETIME|COOKIE_AGE|MAX_AGE|EXPIRE|TTL", name, re.IGNORECASE):
            text = ctx.text(value)
            if "timedelta" in text or text in {"False", "None"}:
                return Draft("Expire sessions and tokens after 30 minutes",
                             [ctx.replace(value, f"{ctx.ref('datetime', 'timedelta')}(minutes=30)")])
            unit = name.upper()
            amount = "30" if "MINUTE" in unit else "1" if "HOUR" in unit or "DAY" in unit else "30 * 60"
            return Draft("Expire sessions and tokens after 30 minutes" if amount != "1" else
                         "Expire sessions and tokens sooner", [ctx.replace(value, amount)])
        if name.endswith("permanent") and ctx.text(value) == "True":
            return Draft("Do not make the session permanent", [ctx.replace(value, "False")])
    for call in [n for n in walk(ctx.node) if n.type == "call"]:
        if keyword(call, "max_age") is not None or keyword(call, "expires") is not None:
            edit = set_keyword(ctx.doc, call, "max_age", "30 * 60")
            if edit is not None:
                return Draft("Expire the cookie after 30 minutes", [edit])
    return None


def redact_logged_secrets(ctx: FixContext) -> Draft | None:
    """Secrets in log calls replaced by "[REDACTED]" (f-string parts, %-arguments, concatenations)."""
    for call in [c for c in ancestors(ctx.node) if c.type == "call"] + [n for n in walk(ctx.node) if n.type == "call"]:
        fn = call.child_by_field_name("function")
        if fn is None or ctx.text(fn).rsplit(".", 1)[-1] not in LOG_METHODS:
            continue
        args = positional(call)
        if not args:
            continue
        edits: list[TextEdit] = []
        message = args[0]
        built = built_string(ctx.doc, message)
        if built is not None and built.exprs:
            secret_exprs = [e for e in built.exprs if _is_secret(ctx, e)]
            if secret_exprs and message.type == "string" and "f" in string_prefix(message):
                for expr in secret_exprs:
                    interpolation = expr.node.parent
                    if interpolation is not None and interpolation.type == "interpolation":
                        edits.append(ctx.replace(interpolation, REDACTED))
                if len(secret_exprs) == len(built.exprs):  # nothing left to interpolate: drop the f prefix
                    start = message.child(0)
                    if start is not None:
                        prefix = ctx.text(start)
                        edits.append(ctx.replace(start, prefix.replace("f", "", 1).replace("F", "", 1)))
            else:
                edits.extend(ctx.replace(e.node, f'"{REDACTED}"') for e in secret_exprs)
        for arg in args[1:]:
            expr = Expr(ctx.text(arg), arg)
            if _is_secret(ctx, expr):
                edits.append(ctx.replace(arg, f'"{REDACTED}"'))
        if edits:
            return Draft("Redact secrets from the log message", edits)
    return None


def _is_secret(ctx: FixContext, expr: Expr) -> bool:
    if SENSITIVE.search(expr.source):
        return True
    tainted = ctx.is_tainted(expr.node)
    return bool(tainted) and ctx.finding.taint_path is not None and \
        any(SENSITIVE.search(step.label) for step in ctx.finding.taint_path.steps)


def generic_error(ctx: FixContext) -> Draft | None:
    """A traceback or exception text returned to the client -> a generic message; the details go to the log."""
    for node in [*walk(ctx.node), *ancestors(ctx.node)]:
        if node.type != "call":
            continue
        fn = node.child_by_field_name("function")
        if fn is None:
            continue
        name = ctx.qualified(ctx.text(fn))
        is_trace = name.startswith("traceback.format")
        is_str_exc = name in {"str", "repr"} and len(positional(node)) == 1 and \
            _is_exception_name(ctx, positional(node)[0])
        if not (is_trace or is_str_exc):
            continue
        statement = guard_statement(ctx.doc, node)
        if statement is None:
            continue
        logger = ctx.ref("logging", "getLogger")
        edits = [ctx.replace(node, '"Internal server error"'),
                 insert_before(ctx.doc, statement, [f'{logger}(__name__).exception("request failed")'])]
        drops = [ctx.text(fn).split(".")[0]] if is_trace else []
        if is_str_exc:
            exc_name = ctx.text(positional(node)[0])
            handler = enclosing(node, "except_clause")
            if handler is not None and _only_use(ctx, handler, exc_name, node):
                alias = next((c for c in walk(handler) if c.type == "as_pattern"), None)
                if alias is not None:
                    target = alias.child_by_field_name("alias")
                    value = alias.named_children[0] if alias.named_children else None
                    if target is not None and value is not None:
                        edits.append(TextEdit(value.end_byte, alias.end_byte, ""))
        return Draft("Return a generic error; log the details", edits, drop_imports=drops)
    return None


def _is_exception_name(ctx: FixContext, node: Node) -> bool:
    if node.type != "identifier":
        return False
    handler = enclosing(node, "except_clause")
    return handler is not None and f"as {ctx.text(node)}" in ctx.text(handler).split(":", 1)[0]


def _only_use(ctx: FixContext, handler: Node, name: str, replaced: Node) -> bool:
    uses = [n for n in walk(handler) if n.type == "identifier" and ctx.text(n) == name and
            not (replaced.start_byte <= n.start_byte < replaced.end_byte)]
    return len(uses) == 1  # the `as name` binding itself
