"""Hardcoded secrets (CWE-798, 259, 321): passwords, keys and tokens written as literals in the code.

Reported when a literal is bound to a secret-looking name (assignment, keyword argument, dict key,
default parameter, comparison) and looks like a real value (not a placeholder, long and random
enough for keys and tokens), when a string matches a known token format (AWS, GitHub, Slack,
Stripe, Google, private keys, credentials in connection URLs), or when a literal is the key of
jwt.encode/hmac.new/Fernet. Values from the environment (`os.environ.get("API_KEY")`) are fine.

Fix: read the secret from the environment or a secret store; rotate the leaked one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache

from tree_sitter import Node, Query, QueryCursor

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.docindex import DocIndex
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.analysis.wordlist import contains_any
from ai_core.classes._shared.config_reader import in_dev_settings
from ai_core.classes.hardcoded_secret.by_use import (
    KEY_BY_USE,
    SEED_PASSWORD,
    WEAK_KEY,
    detect_secrets_patterns,
    fixture_credentials,
    key_by_use,
    mask,
    seeded_credentials,
    weak_key,
    weak_key_finding,
)
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.document import python_language
from ai_core.parsing.tree import string_value

SECRET = VulnClass.HARDCODED_SECRET
TABLE = table(SECRET)

PASSWORD = Rule("secret.hardcoded-password", SECRET, Severity.HIGH, 0.75, "hardcoded password", cwe=259)
CREDENTIAL = Rule("secret.hardcoded-credential", SECRET, Severity.HIGH, 0.7, "hardcoded key or token", cwe=798)
TOKEN = Rule("secret.known-token-format", SECRET, Severity.HIGH, 0.9, "string in a known secret format", cwe=798)
KEY_ARG = Rule("secret.hardcoded-crypto-key", SECRET, Severity.HIGH, 0.8, "literal cryptographic key", cwe=321)

_SECRET_NAME = re.compile(TABLE["secret_names"])
_PASSWORD_NAME = re.compile(TABLE["password_names"])
_NOT_SECRET = re.compile(TABLE["not_secret_names"])
_PLACEHOLDER = re.compile(TABLE["placeholders"])
_ANCHORS = {"aws-access-key-id": b"A", "github-token": b"_", "github-fine-grained": b"github_pat_",
            "slack-token": b"xox", "stripe-secret": b"_live_", "google-api-key": b"AIza", "openai-key": b"sk-",
            "private-key": b"PRIVATE KEY", "sendgrid-key": b"SG.", "twilio-key": b"SK", "url-credentials": b"@",
            "dsn-password": b"password="}
"""A literal each token format contains: formats whose literal is absent are not searched at all."""
_TOKENS = [(token_id, re.compile(detect_secrets_patterns().get(token_id, pattern).encode()), what)
           for token_id, pattern, what, _ in TABLE["token_formats"]]
"""Known token formats; detect-secrets' plugin patterns replace ours where it has one (AWS, GitHub, Slack, ...)."""
_TOKEN_HINT = re.compile(rb"AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|_live_|AIza|sk-|PRIVATE KEY|SG\.|SK[0-9a-f]|://|"
                         rb"password=")
_WORDS = re.compile(r"^_*[a-z]+(?:[_.\-][a-z]+)*_*$|^_*[A-Z]+(?:_[A-Z]+)*_*$|^[A-Z][a-z]+(?:[_.\-][A-Z][a-z]+)*$")
_URL_PLACEHOLDER = re.compile(r"(?i)^(pass(word|wd)?|pwd|secret|bar|baz|foo|x+|\*+|test|changeme|example)$")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _name_of(index: DocIndex, node: Node) -> str:
    """The name a value is bound to: x, obj.x, d['x'] -> 'x'."""
    kind = node.type
    if kind == "identifier":
        return index.text(node)
    if kind == "attribute":
        attr = node.child_by_field_name("attribute")
        return index.text(attr) if attr is not None else ""
    if kind == "subscript":
        key = node.child_by_field_name("subscript")
        return string_value(key) or ""
    if kind == "string":
        return string_value(node) or ""
    return ""


def classify(name: str, value: str) -> Rule | None:
    """The rule a (name, literal value) pair breaks, if any."""
    if not name or not _SECRET_NAME.search(name) or _NOT_SECRET.search(name):
        return None
    stripped = value.strip()
    if _PLACEHOLDER.match(stripped) or stripped.count(" ") >= 2 or "\n" in stripped:
        return None
    lowered = stripped.lower()
    if lowered.replace("-", "_") == name.lower() or lowered in {"password", "secret", "token", "key", "bearer"}:
        return None
    if stripped.startswith(("http://", "https://", "/", "./", "../")) and "@" not in stripped:
        return None
    if "(?" in stripped or "\\b" in stripped or (stripped.startswith("^") and stripped.endswith("$")):
        return None  # a regular expression
    if re.sub(r"[^a-z]", "", lowered) in {"password", "passwd", "pwd", "pass", "passphrase", "secret", "token"}:
        return None  # 'password=', 'Password:' are labels, not values
    if _PASSWORD_NAME.search(name) and not re.search(r"(?i)hash|salt|algorithm|validator", name):
        return PASSWORD if len(stripped) >= TABLE["min_password_length"] else None
    if len(stripped) < TABLE["min_length"]:
        return None
    if _WORDS.match(stripped):
        return None  # '_password_reset_token', 'NOT_PROVIDED', 'auth.backend' are names, not secrets
    if entropy(stripped) < TABLE["min_entropy"]:
        return None
    return CREDENTIAL


_BINDINGS = """
(assignment left: (_) @name right: [(string) (concatenated_string) (parenthesized_expression)] @value)
(keyword_argument name: (identifier) @name value: [(string) (concatenated_string)] @value)
(default_parameter name: (identifier) @name value: [(string) (concatenated_string)] @value)
(typed_default_parameter name: (identifier) @name value: [(string) (concatenated_string)] @value)
(pair key: (string) @name value: [(string) (concatenated_string)] @value)
(comparison_operator (_) @name [(string) (concatenated_string)] @value)
(comparison_operator [(string) (concatenated_string)] @value (_) @name)
"""


@cache
def _binding_query() -> Query:
    return Query(python_language(), _BINDINGS)


_KEY_HINT = (b"jwt", b"hmac", b"Fernet", b"AES", b"itsdangerous")
_NAME_HINT = re.compile(rb"(?:pass|pwd|secret|token|key|credential|bearer)\w*['\"]?\]?\s*(?:[:=]|[!=]=)\s*"
                        rb"\(?\s*[rbuf]{0,2}['\"]")
"""A secret-like name bound to (or compared with) a string literal somewhere in the (lower-cased) file."""


def _bindings(ctx: AnalysisContext) -> Iterator[tuple[str, Node]]:
    """(name, literal value node) for assignments, keyword arguments, defaults, dict pairs and comparisons."""
    index = ctx.index
    for _, match in QueryCursor(_binding_query()).matches(ctx.doc.tree.root_node):
        names = match.get("name")
        values = match.get("value")
        if names and values:
            yield _name_of(index, names[0]), values[0]


_FIXTURE_HINT = re.compile(rb"(?:users|accounts|credentials|logins|admins|members)\s*=\s*[\[(]")
"""Searched in the lower-cased text (a case-insensitive regex over a whole file is several times slower)."""


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Flag secret-named literals, known token formats and literal crypto keys."""
    index = ctx.index
    reported: set[int] = set()
    spans: list[tuple[int, int]] = []
    bindings = list(_bindings(ctx)) if _NAME_HINT.search(ctx.lowered) or contains_any(ctx.doc.data, _KEY_HINT) else []
    literals: dict[str, Node] = {}
    for name, value_node in bindings:
        value = string_value(value_node)
        if not name or value is None:
            continue
        literals.setdefault(name, value_node)
        if not _SECRET_NAME.search(name) or value_node.start_byte in reported:
            continue
        rule = classify(name, value)
        if rule is None and weak_key(name, value):
            if in_dev_settings(ctx, value_node):
                continue  # SECRET_KEY = "dev" in DevelopmentConfig: a placeholder meant for development only
            reported.add(value_node.start_byte)
            spans.append((value_node.start_byte, value_node.end_byte))
            yield weak_key_finding(ctx, name, value_node, value)
        elif rule is not None:
            reported.add(value_node.start_byte)
            spans.append((value_node.start_byte, value_node.end_byte))
            yield rule.finding(ctx, value_node, f"{rule.title} in '{name}' ({mask(value)}): read it from the "
                                                "environment or a secret store instead")
    for site in index.calls_to(*TABLE["key_arguments"]) if contains_any(ctx.doc.data, _KEY_HINT) else ():
        spec = TABLE["key_arguments"].get(site.qualified)
        if spec is None:
            continue
        key = site.arg(*spec)
        value = string_value(key)
        if key is not None and value and not _PLACEHOLDER.match(value) and key.start_byte not in reported:
            reported.add(key.start_byte)
            yield KEY_ARG.finding(ctx, key, f"{site.name}() uses a key written in the code ({mask(value)}); anyone "
                                            "with the code can forge or decrypt")
        elif key is not None and value is None:
            found = key_by_use(ctx, key, site.name, site.node.start_point[0] + 1, literals)
            if found is not None and found.span.start_byte not in reported:
                reported.add(found.span.start_byte)
                yield found
    yield from seeded_credentials(ctx, reported)
    if _FIXTURE_HINT.search(ctx.lowered):
        yield from fixture_credentials(ctx, reported)
    data = ctx.doc.data
    if not _TOKEN_HINT.search(data):
        return
    for token_id, pattern, what in _TOKENS:
        if _ANCHORS.get(token_id, b"") not in data:
            continue
        for match in pattern.finditer(data):
            node = ctx.doc.tree.root_node.descendant_for_byte_range(match.start(), match.end())
            while node is not None and node.type not in {"string", "comment", "module"}:
                node = node.parent
            if node is None or node.type != "string" or node.start_byte in reported or any(
                    start <= node.start_byte and node.end_byte <= end for start, end in spans):
                continue
            if token_id == "url-credentials":
                userinfo = match.group(0).split(b"://", 1)[-1].split(b"@", 1)[0].decode(errors="replace")
                user_part, _, pw_part = userinfo.partition(":")
                if _PLACEHOLDER.match(pw_part) or _URL_PLACEHOLDER.match(pw_part) or pw_part == user_part:
                    continue
            reported.add(node.start_byte)
            anchor = node
            while anchor.parent is not None and anchor.parent.type in {"parenthesized_expression",
                                                                       "concatenated_string"}:
                anchor = anchor.parent
            if anchor.parent is not None and anchor.parent.type in {"assignment", "keyword_argument", "pair"}:
                anchor = anchor.parent
            yield TOKEN.finding(ctx, anchor, f"this string looks like a {what}; move it out of the code and "
                                             "rotate it")


CHECK = Check("secrets", (PASSWORD, CREDENTIAL, TOKEN, KEY_ARG, WEAK_KEY, KEY_BY_USE, SEED_PASSWORD), run)
