"""The server session: one document store found by uri or by any spelling of its path, edits applied in order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from ai_core.parsing import ContentChange
from server.app import create_server
from server.session import CoderevServer


async def test_an_open_document_is_found_by_any_spelling_of_its_path(tmp_path: Path):
    server = CoderevServer()
    uri = (tmp_path / "pkg" / "app.py").as_uri()
    await server.open_document(uri, "x = 1\n", 1)
    assert server.documents.find(str(tmp_path / "pkg" / ".." / "pkg" / "app.py")) is server.documents.get(uri)
    assert server.text_of(str(tmp_path / "pkg" / "app.py")) == "x = 1\n"


async def test_a_closed_document_is_no_longer_found_by_its_path(tmp_path: Path):
    server = CoderevServer()
    uri = (tmp_path / "app.py").as_uri()
    await server.open_document(uri, "x = 1\n", 1)
    server.close_document(uri)
    assert server.documents.find(str(tmp_path / "app.py")) is None and uri not in server.documents


async def test_edits_sent_together_apply_in_the_order_they_came(tmp_path: Path):
    server = CoderevServer()
    uri = (tmp_path / "app.py").as_uri()
    await server.open_document(uri, "x = 1\n", 1)
    replaced = [("1", "22"), ("22", "333"), ("333", "4444")]  # each edit is only right after the one before
    edits = [server.change_document(uri, [ContentChange(new, (0, 4), (0, 4 + len(old)))], n + 2)
             for n, (old, new) in enumerate(replaced)]
    await asyncio.gather(*edits)
    doc = await server.documents.current(uri)
    assert doc is not None and doc.version == 4 and doc.data == b"x = 4444\n"


async def test_a_change_to_a_document_that_is_not_open_is_ignored(tmp_path: Path):
    server = CoderevServer()
    assert await server.change_document((tmp_path / "ghost.py").as_uri(), [ContentChange("y = 2\n")], 2) is None


def test_every_feature_registers_its_handlers_and_commands():
    features = create_server().protocol.fm
    for method in (types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DIAGNOSTIC,
                   types.TEXT_DOCUMENT_CODE_ACTION, types.CODE_ACTION_RESOLVE, types.INITIALIZED,
                   types.WORKSPACE_DID_CHANGE_CONFIGURATION, types.WORKSPACE_DID_CHANGE_WATCHED_FILES):
        assert method in features.features, method
    commands = {"coderev.applyFix", "coderev.fixAll", "coderev.recordFix", "coderev.undoFix", "coderev.showHistory",
                "coderev.explain", "coderev.reindex", "coderev.activateAdapter", "coderev.dismiss"}
    assert commands <= set(features.commands)
