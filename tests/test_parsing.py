"""Parsing: incremental re-parse follows LSP edits, positions map exactly in every encoding, tree navigation."""

from __future__ import annotations

import pytest
from tree_sitter import Node

from ai_core.findings import Span
from ai_core.parsing import ContentChange, ParsedDocument, PositionEncoding, PositionMap, parse_python
from ai_core.parsing.tree import enclosing, enclosing_function, node_at, scope_of, statement_of, string_value, walk

TEXT = "a = '😀数'\nb = 2\n"


@pytest.mark.parametrize(
    ("encoding", "character"),
    [(PositionEncoding.UTF8, 12), (PositionEncoding.UTF16, 8), (PositionEncoding.UTF32, 7)],
)
def test_offset_of_closing_quote_in_each_encoding(encoding: PositionEncoding, character: int):
    positions = PositionMap(TEXT.encode())
    offset = TEXT.encode().index(b"'", 5)
    assert positions.position_at(offset, encoding) == (0, character)
    assert positions.offset_at(0, character, encoding) == offset


def test_position_past_end_of_line_clamps_to_line_end():
    positions = PositionMap(TEXT.encode())
    assert positions.offset_at(1, 99, PositionEncoding.UTF16) == len(TEXT.encode()) - 1
    assert positions.offset_at(7, 0, PositionEncoding.UTF16) == len(TEXT.encode())


def test_crlf_line_endings_are_not_part_of_the_line():
    positions = PositionMap(b"x = 1\r\ny = 2\r\n")
    assert positions.line_bytes(0) == b"x = 1"
    assert positions.offset_at(1, 0, PositionEncoding.UTF16) == 7


def test_incremental_edit_matches_a_fresh_parse():
    doc = ParsedDocument(TEXT)
    doc.apply_changes([ContentChange("import os\n", (1, 0), (1, 0))], PositionEncoding.UTF16, version=2)
    doc.apply_changes([ContentChange("'ok'", (0, 4), (0, 9))], PositionEncoding.UTF16, version=3)
    assert doc.text == "a = 'ok'\nimport os\nb = 2\n"
    assert doc.version == 3
    assert str(doc.tree.root_node) == str(parse_python(doc.data).root_node)


def test_whole_document_change_replaces_the_text():
    doc = ParsedDocument(TEXT)
    doc.apply_changes([ContentChange("x = 1\n")], PositionEncoding.UTF8)
    assert doc.text == "x = 1\n"
    assert not doc.has_syntax_errors


def test_snapshot_is_unaffected_by_later_edits():
    doc = ParsedDocument(TEXT)
    snap = doc.snapshot()
    doc.apply_changes([ContentChange("zzz", (0, 0), (0, 1))], PositionEncoding.UTF8)
    assert snap.text == TEXT
    assert snap.tree.root_node.end_byte == len(TEXT.encode())
    assert doc.text.startswith("zzz")


def test_syntax_errors_are_recovered_not_raised():
    doc = ParsedDocument("def broken(:\n    pass\n")
    assert doc.has_syntax_errors


DECORATED = """@app.route("/run")
def run(cmd):
    def inner():
        return os.system(cmd)
    return inner


class Config:
    DEBUG = True

    def method(self):
        local = 1
"""


def _node(doc: ParsedDocument, snippet: str) -> Node:
    start = doc.data.index(snippet.encode())
    return node_at(doc, Span(start, start + len(snippet), 0, 0, 0, 0))


def test_node_at_is_the_smallest_named_node_covering_the_span():
    doc = ParsedDocument(DECORATED)
    node = _node(doc, "os.system(cmd)")
    assert node.type == "call"
    assert doc.node_text(node) == "os.system(cmd)"


def test_enclosing_function_is_the_innermost_def_and_includes_decorators_only_when_asked():
    doc = ParsedDocument(DECORATED)
    call = _node(doc, "os.system(cmd)")
    assert doc.node_text(enclosing_function(call).child_by_field_name("name")) == "inner"
    outer = enclosing_function(_node(doc, "return inner"))
    assert outer.start_point[0] == 1  # the def line
    decorated = enclosing_function(_node(doc, "return inner"), include_decorators=True)
    assert decorated.type == "decorated_definition" and decorated.start_point[0] == 0
    assert enclosing_function(call, include_decorators=True).type == "function_definition"  # inner is bare


def test_enclosing_function_of_module_level_code_is_none():
    doc = ParsedDocument(DECORATED)
    assert enclosing_function(_node(doc, "DEBUG = True")) is None


def test_enclosing_stops_at_a_stop_type():
    doc = ParsedDocument(DECORATED)
    class_level = _node(doc, "DEBUG = True")
    in_method = _node(doc, "local = 1")
    assert enclosing(class_level, "class_definition", stop=("function_definition",)).type == "class_definition"
    assert enclosing(in_method, "class_definition", stop=("function_definition",)) is None
    assert enclosing(in_method, "class_definition").type == "class_definition"


def test_statement_and_scope_of_a_name():
    doc = ParsedDocument(DECORATED)
    name = _node(doc, "local")
    assert doc.node_text(statement_of(name)) == "local = 1"
    assert scope_of(name).type == "block"
    assert scope_of(_node(doc, "DEBUG")).type == "module"


def test_walk_is_preorder_from_the_node_itself():
    doc = ParsedDocument("f(a, b)\n")
    call = _node(doc, "f(a, b)")
    named = [doc.node_text(n) for n in walk(call) if n.is_named]
    assert named == ["f(a, b)", "f", "(a, b)", "a", "b"]


def test_string_value_is_the_literal_text_and_none_for_interpolation():
    doc = ParsedDocument('a = "ab" "cd"\nb = f"x{y}"\nc = ("k")\n')
    values = [string_value(node.child_by_field_name("right"))
              for node in walk(doc.tree.root_node) if node.type == "assignment"]
    assert values == ["abcd", None, "k"]
