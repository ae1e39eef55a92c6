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
from ai_core.analysis.docindex import DocIndex, string_value
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.document import python_language

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
_TOKENS = [(token_id, re.compile(pattern.encode()), what) for token_id, pattern, what, _ in TABLE["token_formats"]]
_TOKEN_HINT = re.compile(rb"AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|_live_|AIza|sk-|PRIVATE KEY|SG\.|SK[0-9a-f]|://")
_WORDS = re.compile(r"^_*[a-z]+(?:[_.\-][a-z]+)*_*$|^_*[A-Z]+(?:_[A-Z]+)*_*$")


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
        return string_value(index, key) or ""
    if kind == "string":
        return string_value(index, node) or ""
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
    if _PASSWORD_NAME.search(name) and not re.search(r"(?i)hash|salt|algorithm|validator", name):
        return PASSWORD if len(stripped) >= TABLE["min_password_length"] else None
    if len(stripped) < TABLE["min_length"]:
        return None
    if _WORDS.match(stripped):
        return None  # '_password_reset_token', 'NOT_PROVIDED', 'auth.backend' are names, not secrets
    if entropy(stripped) < TABLE["min_entropy"]:
        return None
    return CREDENTIAL


def _bindings(index: DocIndex) -> Iterator[tuple[str, Node]]:
    """(name, value node) for assignments, keyword arguments, dict pairs, defaults and comparisons."""
    for assign in index.assignments:
        left = assign.child_by_field_name("left")
        right = assign.child_by_field_name("right")
        if left is not None and right is not None:
            yield _name_of(index, left), right
    for site in index.calls:
        for arg in site.arguments():
            if arg.type == "keyword_argument":
                key = arg.child_by_field_name("name")
                value = arg.child_by_field_name("value")
                if key is not None and value is not None:
                    yield index.text(key), value
    for function in index.functions:
        params = function.child_by_field_name("parameters")
        for param in params.named_children if params is not None else []:
            if param.type in {"default_parameter", "typed_default_parameter"}:
                name = param.child_by_field_name("name")
                value = param.child_by_field_name("value")
                if name is not None and value is not None:
                    yield index.text(name), value
    for comparison in index.comparisons:
        operators = [op.type for op in comparison.children_by_field_name("operators")]
        operands = comparison.named_children
        if operators in (["=="], ["!="]) and len(operands) == 2:
            left, right = operands
            yield _name_of(index, left), right
            yield _name_of(index, right), left


@cache
def _pair_query() -> Query:
    return Query(python_language(), "(pair key: (string) value: (string)) @pair")


def _pairs(ctx: AnalysisContext) -> Iterator[tuple[str, Node]]:
    """(key, value) of dict literals with string keys and values."""
    if b"{" not in ctx.doc.data:
        return
    for node in QueryCursor(_pair_query()).captures(ctx.doc.tree.root_node).get("pair", []):
        key = node.child_by_field_name("key")
        value = node.child_by_field_name("value")
        if key is not None and value is not None:
            yield string_value(ctx.index, key) or "", value


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Flag secret-named literals, known token formats and literal crypto keys."""
    index = ctx.index
    reported: set[int] = set()
    spans: list[tuple[int, int]] = []
    for name, value_node in [*_bindings(index), *_pairs(ctx)]:
        value = string_value(index, value_node)
        if value is None or value_node.start_byte in reported:
            continue
        rule = classify(name, value)
        if rule is not None:
            reported.add(value_node.start_byte)
            spans.append((value_node.start_byte, value_node.end_byte))
            yield rule.finding(ctx, value_node, f"{rule.title} in '{name}': read it from the environment or a "
                                                "secret store instead")
    for site in index.calls:
        spec = TABLE["key_arguments"].get(site.qualified)
        if spec is None:
            continue
        key = site.arg(*spec)
        value = string_value(index, key)
        if key is not None and value and not _PLACEHOLDER.match(value) and key.start_byte not in reported:
            reported.add(key.start_byte)
            yield KEY_ARG.finding(ctx, key, f"{site.name}() uses a key written in the code; anyone with the code "
                                            "can forge or decrypt")
    data = ctx.doc.data
    if not _TOKEN_HINT.search(data):
        return
    for token_id, pattern, what in _TOKENS:
        for match in pattern.finditer(data):
            node = ctx.doc.tree.root_node.descendant_for_byte_range(match.start(), match.end())
            while node is not None and node.type not in {"string", "comment", "module"}:
                node = node.parent
            if node is None or node.type != "string" or node.start_byte in reported or any(
                    start <= node.start_byte and node.end_byte <= end for start, end in spans):
                continue
            if token_id == "url-credentials" and _PLACEHOLDER.match(match.group(0).split(b":")[-1].split(b"@")[0]
                                                                    .decode(errors="replace")):
                continue
            reported.add(node.start_byte)
            site = node
            while site.parent is not None and site.parent.type in {"parenthesized_expression", "concatenated_string"}:
                site = site.parent
            if site.parent is not None and site.parent.type in {"assignment", "keyword_argument", "pair"}:
                site = site.parent
            yield TOKEN.finding(ctx, site, f"this string looks like a {what}; move it out of the code and rotate it")


CHECK = Check("secrets", (PASSWORD, CREDENTIAL, TOKEN, KEY_ARG), run)
