"""Where an edit goes in the text: line bounds, line breaks, indentation, and inserting lines around a statement."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.findings import TextEdit
from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import STATEMENT_PARENTS


def line_start(doc: ParsedDocument, offset: int) -> int:
    """Byte offset of the start of the line holding `offset`."""
    return doc.data.rfind(b"\n", 0, offset) + 1


def line_end(doc: ParsedDocument, offset: int) -> int:
    """Byte offset of the end of the line holding `offset` (before its line break)."""
    end = doc.data.find(b"\n", offset)
    end = len(doc.data) if end == -1 else end
    return end - 1 if end > 0 and doc.data[end - 1:end] == b"\r" else end


def newline_of(doc: ParsedDocument) -> str:
    """The document's line break ("\\r\\n" when its first line ends so, else "\\n")."""
    first = doc.data.find(b"\n")
    return "\r\n" if first > 0 and doc.data[first - 1:first] == b"\r" else "\n"


def indent_of(doc: ParsedDocument, node: Node) -> str:
    """The leading whitespace of the line where `node` starts."""
    start = line_start(doc, node.start_byte)
    line = doc.data[start:node.start_byte].decode("utf-8", errors="replace")
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_unit(doc: ParsedDocument) -> str:
    """The file's indentation step (four spaces unless the file shows otherwise)."""
    for match in re.finditer(rb"^([ \t]+)\S", doc.data, re.MULTILINE):
        return "\t" if match.group(1).startswith(b"\t") else " " * min(len(match.group(1)), 8)
    return "    "


_DEFERRED = frozenset({"lambda", "list_comprehension", "set_comprehension", "dictionary_comprehension",
                       "generator_expression"})


def guard_statement(doc: ParsedDocument, node: Node) -> Node | None:
    """The statement before which a check on `node`'s inputs can be inserted, or None when that is unsafe.

    Unsafe: inside a lambda or comprehension (evaluated later or per item), in a `while` condition (evaluated
    repeatedly), in an `elif` condition, or a statement that shares its line with others.
    """
    current = node
    while current.parent is not None and current.parent.type not in STATEMENT_PARENTS:
        if current.type in _DEFERRED:
            return None
        parent = current.parent
        if parent.type in {"while_statement", "elif_clause"} and parent.child_by_field_name("condition") == current:
            return None
        current = parent
    if current.type in _DEFERRED:
        return None
    start = line_start(doc, current.start_byte)
    if doc.data[start:current.start_byte].strip():
        return None
    return current


def insert_before(doc: ParsedDocument, statement: Node, lines: list[str]) -> TextEdit:
    """Insert `lines` (indented like `statement`, relative indentation kept) on the lines above it."""
    indent = indent_of(doc, statement)
    nl = newline_of(doc)
    point = line_start(doc, statement.start_byte)
    return TextEdit(point, point, "".join(f"{indent}{line}{nl}" if line else nl for line in lines))


def insert_after(doc: ParsedDocument, statement: Node, lines: list[str]) -> TextEdit:
    """Insert `lines` (indented like `statement`) after the line where it ends (after any trailing comment)."""
    indent = indent_of(doc, statement)
    nl = newline_of(doc)
    point = line_end(doc, statement.end_byte)
    return TextEdit(point, point, "".join(f"{nl}{indent}{line}" if line else nl for line in lines))
