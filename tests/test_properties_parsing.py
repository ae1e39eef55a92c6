"""Properties of the parser adapter and the position map, over arbitrary text (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai_core.parsing import ContentChange, ParsedDocument, PositionEncoding, PositionMap

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENCODINGS = st.sampled_from(list(PositionEncoding))
LINE_BREAKS = st.sampled_from(["\n", "\r\n", "\r"])
CHARS = st.characters() | st.sampled_from(["\ud800", "\udfff", "\r", "\n", "é", "😀", "("])
"""Every code point, lone surrogates (which editors may send) and CRs included, and those drawn often."""
TEXT = (st.text(CHARS, max_size=200) | st.lists(st.text(CHARS, max_size=30), max_size=8).map("\n".join)
        | st.lists(st.text(CHARS, max_size=30), max_size=8).map("\r\n".join)
        | st.lists(st.text(CHARS, max_size=30), max_size=8).map("\r".join))
"""Arbitrary text, often with several lines (LF, CRLF or lone-CR line ends)."""


def utf8(text: str) -> bytes:
    """`text` as the document stores it: UTF-8, lone surrogates kept."""
    return text.encode("utf-8", "surrogatepass")


def boundaries(text: str) -> list[int]:
    """The byte offset of every character boundary of `text` in UTF-8 (not the one inside a CRLF)."""
    offsets, total = [0], 0
    for index, char in enumerate(text):
        total += len(utf8(char))
        if not (char == "\r" and text[index + 1:index + 2] == "\n"):
            offsets.append(total)
    return offsets


@PROPERTY
@given(text=TEXT, encoding=ENCODINGS)
def test_every_character_boundary_round_trips_through_a_position_exactly(text: str, encoding: PositionEncoding):
    positions = PositionMap(utf8(text))
    for offset in boundaries(text):
        line, character = positions.position_at(offset, encoding)
        assert positions.offset_at(line, character, encoding) == offset


@PROPERTY
@given(text=TEXT)
def test_utf16_characters_count_the_code_units_an_editor_counts(text: str):
    data = utf8(text)
    positions = PositionMap(data)
    for offset in boundaries(text):
        line, character = positions.position_at(offset, PositionEncoding.UTF16)
        line_start = positions.line_starts[line]
        prefix = data[line_start:offset].decode("utf-8", "surrogatepass")
        assert character == len(prefix.encode("utf-16-le", "surrogatepass")) // 2


@PROPERTY
@given(text=TEXT, encoding=ENCODINGS, line=st.integers(-3, 40), character=st.integers(-3, 400))
def test_any_position_maps_to_an_offset_inside_the_text(text: str, encoding: PositionEncoding, line: int,
                                                        character: int):
    data = utf8(text)
    assert 0 <= PositionMap(data).offset_at(line, character, encoding) <= len(data)


@PROPERTY
@given(text=TEXT)
def test_any_text_parses_into_a_tree_covering_it(text: str):
    doc = ParsedDocument(text, path="any.py")
    assert doc.tree.root_node.end_byte <= len(doc.data)
    assert doc.data == utf8(text) and doc.text == utf8(text).decode("utf-8", "replace")


def test_a_lone_cr_starts_a_new_line_as_in_lsp_clients():
    assert PositionMap(b"a = 1\rb = 2").position_at(6, PositionEncoding.UTF16) == (1, 0)


def test_a_lone_cr_ends_a_line_for_the_parser_as_for_python():
    doc = ParsedDocument("import os\rdef run(cmd):\r    os.system(cmd)\r")
    call = doc.tree.root_node.children[1].child_by_field_name("body").children[0]
    assert not doc.has_syntax_errors and call.start_point == (2, 4)
    assert doc.positions.position_at(call.start_byte, PositionEncoding.UTF16) == (2, 4)


def test_a_lone_surrogate_counts_as_one_utf16_unit():
    positions = PositionMap("a\ud800b = 1".encode("utf-8", "surrogatepass"))
    assert positions.position_at(4, PositionEncoding.UTF16) == (0, 2)
    assert positions.offset_at(0, 2, PositionEncoding.UTF16) == 4


@PROPERTY
@given(lines=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=20), min_size=1,
                      max_size=6), breaks=LINE_BREAKS)
def test_lines_split_by_any_line_break_are_recovered_without_it(lines: list[str], breaks: str):
    positions = PositionMap(breaks.join(lines).encode("utf-8"))
    assert [positions.line_bytes(i).decode("utf-8") for i in range(positions.line_count)] == lines


def outside_crlf(text: str, index: int) -> int:
    """`index`, moved before a CRLF it would split (an editor's range never ends inside a line break)."""
    return index - 1 if text[index - 1:index + 1] == "\r\n" else index


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    """A text and edits given as character offsets (start, end, new text) into the text current at each edit."""
    text = draw(TEXT)
    steps, current = [], text
    for _ in range(draw(st.integers(1, 5))):
        start = outside_crlf(current, draw(st.integers(0, len(current))))
        end = max(start, outside_crlf(current, draw(st.integers(start, len(current)))))
        new = draw(TEXT)
        steps.append((start, end, new))
        current = current[:start] + new + current[end:]
    return text, steps


@PROPERTY
@given(case=edits(), encoding=ENCODINGS)
def test_incremental_edits_give_the_same_text_and_tree_as_parsing_the_result(
        case: tuple[str, list[tuple[int, int, str]]], encoding: PositionEncoding):
    text, steps = case
    doc = ParsedDocument(text, path="edited.py")
    expected = text
    for start, end, new in steps:
        positions = doc.positions
        start_byte = len(utf8(expected[:start]))
        end_byte = len(utf8(expected[:end]))
        doc.apply_changes([ContentChange(new, positions.position_at(start_byte, encoding),
                                         positions.position_at(end_byte, encoding))], encoding)
        expected = expected[:start] + new + expected[end:]
    assert doc.data == utf8(expected)
    assert str(doc.tree.root_node) == str(ParsedDocument(expected).tree.root_node)
