"""Finding fingerprints that survive edits elsewhere: class, rule, path, scope and the sink statement's tokens.

No line numbers go in, so inserting lines above, renaming an unrelated function or reformatting (whitespace,
quotes, trailing commas, comments) keeps a fingerprint; changing the flagged statement itself makes a new one.
Identical statements in the same scope are told apart by their occurrence index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from tree_sitter import Node

from ai_core.findings import Finding
from ai_core.parsing import ParsedDocument

VERSION = "coderev/v1"
"""The key of the fingerprint in SARIF `partialFingerprints` (bumped when the recipe changes)."""

_CONTAINERS = frozenset({"block", "module"})
_DEFINITIONS = frozenset({"function_definition", "class_definition"})
_CLOSERS = frozenset({")", "]", "}"})
_QUOTES = frozenset({"string_start", "string_end"})


def statement_of(doc: ParsedDocument, start_byte: int, end_byte: int) -> Node:
    """The statement holding a byte range: its compound statement's header when the range lies in that header."""
    node = doc.tree.root_node.descendant_for_byte_range(start_byte, max(start_byte, end_byte - 1))
    if node is None:
        return doc.tree.root_node
    while node.parent is not None and node.parent.type not in _CONTAINERS:
        node = node.parent
    return node


def _header_end(statement: Node, end_byte: int) -> int:
    """Where the statement's text for the fingerprint stops: before its body when the finding is in the header."""
    body = statement.child_by_field_name("body")
    if body is not None and end_byte <= body.start_byte:
        return body.start_byte
    return statement.end_byte


def _tokens(node: Node, stop: int) -> Iterator[str]:
    """The statement's tokens, without comments; string contents kept whole, quotes made uniform."""
    if node.start_byte >= stop or node.type == "comment":
        return
    if node.type == "string_content" or node.child_count == 0:
        text = (node.text or b"").decode("utf-8", errors="replace")
        yield text.replace("'", '"') if node.type in _QUOTES else text
        return
    for child in node.children:
        yield from _tokens(child, stop)


def normalized_text(doc: ParsedDocument, start_byte: int, end_byte: int) -> str:
    """The flagged statement as space-separated tokens, insensitive to layout, comments and trailing commas."""
    statement = statement_of(doc, start_byte, end_byte)
    tokens = list(_tokens(statement, _header_end(statement, end_byte)))
    kept = [t for i, t in enumerate(tokens) if not (t == "," and i + 1 < len(tokens) and tokens[i + 1] in _CLOSERS)]
    return " ".join(kept)


def scope_of(doc: ParsedDocument, start_byte: int) -> str:
    """The dotted names of the classes and functions enclosing a byte offset ('' at module level)."""
    node = doc.tree.root_node.descendant_for_byte_range(start_byte, start_byte)
    names: list[str] = []
    while node is not None:
        if node.type in _DEFINITIONS and node.start_byte < start_byte:
            name = node.child_by_field_name("name")
            if name is not None:
                names.append(doc.node_text(name))
        node = node.parent
    return ".".join(reversed(names))


def fingerprints(findings: Sequence[Finding], text: str, doc: ParsedDocument | None = None) -> list[str]:
    """One fingerprint per finding of one file (same order); `text` is the file's text."""
    doc = doc or ParsedDocument(text)
    seen: dict[str, int] = {}
    keyed: list[tuple[int, str]] = []
    order = sorted(range(len(findings)), key=lambda i: (findings[i].span.start_byte, findings[i].span.end_byte))
    for i in order:
        finding = findings[i]
        start, end = finding.span.start_byte, finding.span.end_byte
        key = "\0".join((VERSION, finding.vuln_class.value, finding.rule, finding.path,
                         scope_of(doc, start), normalized_text(doc, start, end)))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        keyed.append((i, hashlib.sha256(f"{key}\0{occurrence}".encode()).hexdigest()[:32]))
    result = [""] * len(findings)
    for i, digest in keyed:
        result[i] = digest
    return result
