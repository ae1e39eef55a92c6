"""Positions are exact with non-ASCII text before a finding, in UTF-8 and UTF-16."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp_support import edit, open_document, start_session, wait_for_diagnostics

# On line 4, before the call: an emoji (4 UTF-8 bytes, 2 UTF-16 units) and CJK (3 bytes, 1 unit each).
TEXT = 'import pickle\n\n\ndef load(blob):  # 😀 数据\n    x = "😀数据"; return pickle.loads(blob)\n'
PREFIX = '    x = "😀数据"; return '
CALL = "pickle.loads(blob)"


def expected_character(prefix: str, encoding: str) -> int:
    return len(prefix.encode("utf-16-le")) // 2 if encoding == "utf-16" else len(prefix.encode("utf-8"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_range_is_exact_after_emoji_and_cjk(lsp: LanguageClient, tmp_path: Path, encoding: str):
    result = await start_session(lsp, tmp_path, lsp.client_name, encodings=[encoding])
    assert result.capabilities.position_encoding == encoding
    uri = open_document(lsp, tmp_path / "app.py", TEXT)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    start = expected_character(PREFIX, encoding)
    assert diagnostic.range == types.Range(
        start=types.Position(4, start), end=types.Position(4, start + len(CALL)))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_incremental_edit_after_emoji_lands_where_the_client_meant(
    lsp: LanguageClient, tmp_path: Path, encoding: str
):
    await start_session(lsp, tmp_path, lsp.client_name, encodings=[encoding])
    uri = open_document(lsp, tmp_path / "app.py", TEXT.replace("pickle.loads", "pickle.dumps"))
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []
    start = expected_character(PREFIX, encoding) + len("pickle.")
    edit(lsp, uri, 2, (4, start), (4, start + len("dumps")), "loads")
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=2)).diagnostics[0]
    assert diagnostic.range.start == types.Position(4, start - len("pickle."))


async def test_utf8_is_preferred_when_the_client_offers_it(lsp: LanguageClient, tmp_path: Path):
    result = await start_session(lsp, tmp_path, lsp.client_name, encodings=["utf-16", "utf-8"])
    assert result.capabilities.position_encoding == "utf-8"


async def test_utf16_when_the_client_offers_no_encodings(lsp: LanguageClient, tmp_path: Path):
    result = await start_session(lsp, tmp_path, lsp.client_name, encodings=[])
    assert result.capabilities.position_encoding in (None, "utf-16")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_a_document_with_lone_cr_line_ends_is_analysed_and_positioned_as_the_editor_counts_lines(
    lsp: LanguageClient, tmp_path: Path, encoding: str
):
    await start_session(lsp, tmp_path, lsp.client_name, encodings=[encoding])
    uri = open_document(lsp, tmp_path / "app.py", TEXT.replace("\n", "\r"))
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    start = expected_character(PREFIX, encoding)
    assert diagnostic.range == types.Range(
        start=types.Position(4, start), end=types.Position(4, start + len(CALL)))
