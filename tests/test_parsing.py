"""Parsing: incremental re-parse follows LSP edits, and positions map exactly in every encoding."""

from __future__ import annotations

import pytest

from ai_core.parsing import ContentChange, ParsedDocument, PositionEncoding, PositionMap, parse_python

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
