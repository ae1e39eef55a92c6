"""Secrets found by how they are used, not only by how they look (CWE-798, 1391, 259, 321).

- A weak or placeholder value in a signing key or token setting (`SECRET_KEY = "changeme"`, `JWT_SECRET = "dev"`):
  anyone can guess it and forge sessions or tokens.
- A literal that reaches the key of jwt.encode/hmac.new/Fernet through a name (`KEY = "k3y"; jwt.encode(p, KEY)`).
- Credentials in seed data: an `INSERT INTO users (name, password) VALUES ('admin', 'admin123')` or the rows passed
  for its placeholders.
- Known token formats (AWS, GitHub, Slack, Stripe, private keys) use detect-secrets' own patterns.

Values are masked in every message. Fix: read the value from the environment or a secret store; rotate it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Rule
from ai_core.classes._shared.sql_insert import password_insert
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import string_value

SECRET = VulnClass.HARDCODED_SECRET
WEAK_KEY = Rule("secret.weak-signing-key", SECRET, Severity.HIGH, 0.8, "weak or placeholder secret key", cwe=1391)
KEY_BY_USE = Rule("secret.literal-used-as-key", SECRET, Severity.HIGH, 0.8, "literal used as a cryptographic key",
                  cwe=321)
SEED_PASSWORD = Rule("secret.seeded-credentials", SECRET, Severity.MEDIUM, 0.6, "credentials in seed data", cwe=798)

KEY_NAMES = re.compile(r"(?i)(?:^|_)(?:secret(?:_?key)?|signing_?key|jwt_?(?:key|secret)|api_?key|encryption_?key|"
                       r"private_?key|access_?key|auth_?key|master_?key|hmac_?key|fernet_?key|"
                       r"(?:api|auth|access|bot|bearer|admin|jwt)_?token)$")
"""Names of settings whose value signs or authenticates: a guessable value there is a vulnerability."""
WEAK_WORDS = re.compile(r"(?i)^(?:[a-z]+[-_ ]?)?(?:secret|dev|development|changeme|change[-_ ]?me|change[-_ ]?this|"
                        r"test|testing|default|insecure|password|example|dummy|placeholder|key|token|local|"
                        r"debug|demo|sample|not[-_ ]?secret|super[-_ ]?secret|s3cr3t|qwerty|letmein|admin)"
                        r"(?:[-_ ]?(?:key|secret|token|here|value|please|[0-9]*))*$")
INTERPOLATION = re.compile(r"^(?:\$\{.*\}|\{\{.*\}\}|%\(.*\)s|\$[A-Z_]+|<.*>)$")
MIN_KEY_LENGTH = 16
_DETECT_SECRETS_FORMATS = {
    "aws-access-key-id": "aws.AWSKeyDetector", "github-token": "github_token.GitHubTokenDetector",
    "slack-token": "slack.SlackDetector", "stripe-secret": "stripe.StripeDetector",
    "private-key": "private_key.PrivateKeyDetector",
}


def mask(value: str) -> str:
    """A secret shown without its value: its length, and its first two characters when it is long."""
    return f"{value[:2]}…({len(value)} chars)" if len(value) > 12 else f"…({len(value)} chars)"


@cache
def detect_secrets_patterns() -> dict[str, str]:
    """Token format id -> regex from detect-secrets' plugins (its first denylist pattern); empty if unavailable."""
    import importlib

    patterns: dict[str, str] = {}
    for token_id, dotted in _DETECT_SECRETS_FORMATS.items():
        module_name, _, cls_name = dotted.rpartition(".")
        try:
            plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module_name}"), cls_name)
        except (ImportError, AttributeError):
            continue
        denylist = [p.pattern for p in plugin.denylist]
        if denylist:
            patterns[token_id] = "|".join(f"(?:{p})" for p in denylist)
    return patterns


def weak_key(name: str, value: str) -> bool:
    """True when a signing-key or token setting holds a guessable value."""
    stripped = value.strip()
    if not stripped or not KEY_NAMES.search(name) or INTERPOLATION.match(stripped):
        return False
    if stripped.lower().replace("-", "_") == name.lower() or stripped.startswith(("http://", "https://", "/")):
        return False
    return len(stripped) < MIN_KEY_LENGTH or bool(WEAK_WORDS.match(stripped))


def weak_key_finding(ctx: AnalysisContext, name: str, node: Node, value: str) -> Finding:
    """A weak-key finding at a literal bound to `name`."""
    return WEAK_KEY.finding(ctx, node, f"{name} holds a guessable value ({mask(value)}); anyone can sign sessions "
                                       "or tokens with it: generate a long random key and read it from the "
                                       "environment")


def key_by_use(ctx: AnalysisContext, key_node: Node, call_name: str, call_line: int,
               literals: dict[str, Node]) -> Finding | None:
    """A finding at the literal a key argument names (`jwt.encode(p, KEY)` with `KEY = "..."`)."""
    name = ""
    if key_node.type == "identifier":
        name = ctx.doc.node_text(key_node)
    elif key_node.type == "attribute":
        attr = key_node.child_by_field_name("attribute")
        name = ctx.doc.node_text(attr) if attr is not None else ""
    elif key_node.type == "subscript":
        name = string_value(key_node.child_by_field_name("subscript")) or ""
    literal = literals.get(name)
    if literal is None:
        return None
    value = string_value(literal) or ""
    if not value.strip() or INTERPOLATION.match(value.strip()):
        return None
    return KEY_BY_USE.finding(ctx, literal, f"{name} ({mask(value)}) is written in the code and used as the key of "
                                            f"{call_name}() on line {call_line}; anyone with the code can forge or "
                                            "decrypt: read it from the environment")


def seeded_credentials(ctx: AnalysisContext, reported: set[int]) -> Iterator[Finding]:
    """Passwords written into INSERTs of user tables, inline or as the rows bound to the placeholders."""
    if b"nsert" not in ctx.doc.data and b"NSERT" not in ctx.doc.data:
        return
    for site in ctx.index.calls_to("*.execute", "*.executemany", "*.executescript"):
        args = site.positional()
        if not args:
            continue
        insert = password_insert(string_value(args[0]) or "")
        if insert is None:
            continue
        index = insert.index
        inline = insert.inline_literal
        if inline is not None and len(inline) >= 4:
            if args[0].start_byte not in reported:
                reported.add(args[0].start_byte)
                yield SEED_PASSWORD.finding(ctx, args[0], f"a plaintext password ({mask(inline)}) is seeded into "
                                                          f"{insert.table}; seed from the environment and store "
                                                          "only hashes")
            continue
        if len(args) > 1:
            for row in _rows(args[1]):
                cells = [c for c in row.named_children if c.type != "comment"]
                if index < len(cells) and cells[index].type == "string" and cells[index].start_byte not in reported:
                    value = string_value(cells[index]) or ""
                    if len(value) >= 4:
                        reported.add(cells[index].start_byte)
                        yield SEED_PASSWORD.finding(ctx, cells[index], f"a plaintext password ({mask(value)}) is "
                                                                       f"seeded into {insert.table}; seed from the "
                                                                       "environment and store only hashes")


FIXTURE_NAMES = re.compile(r"(?i)(?:^|_)(?:users|accounts|credentials|logins|seed_users|test_users|default_users|"
                           r"admins|members)$")
_LOOKS_LIKE_PASSWORD = re.compile(r"^[^\s@]{4,64}$")


def fixture_credentials(ctx: AnalysisContext, reported: set[int]) -> Iterator[Finding]:
    """`USERS = [("admin", "admin123"), ...]`: (name, password) rows written in the code."""
    index = ctx.index
    for assign in index.assignments:
        left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        if left is None or right is None or right.type not in {"list", "tuple"} or \
                not FIXTURE_NAMES.search(index.text(left).rsplit(".", 1)[-1]):
            continue
        for row in _rows(right):
            cells = [c for c in row.named_children if c.type != "comment"]
            if len(cells) < 2 or not all(c.type == "string" for c in cells[:2]):
                continue
            user, secret = string_value(cells[0]) or "", string_value(cells[1]) or ""
            if user and secret != user and _LOOKS_LIKE_PASSWORD.match(secret) and cells[1].start_byte not in reported:
                reported.add(cells[1].start_byte)
                yield SEED_PASSWORD.finding(ctx, cells[1], f"a password ({mask(secret)}) for '{user}' is written in "
                                                           f"{index.text(left)}; read seed credentials from the "
                                                           "environment")


def _rows(node: Node) -> list[Node]:
    """The tuples of a literal row or list of rows."""
    if node.type == "tuple":
        inner = [c for c in node.named_children if c.type in {"tuple", "list"}]
        return inner or [node]
    if node.type == "list":
        return [c for c in node.named_children if c.type in {"tuple", "list"}]
    return []
