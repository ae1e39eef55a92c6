"""The server survives hostile input and keeps serving other files afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp_support import open_document, replace_all, start_session, wait_for_diagnostics

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
SAFE = "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"


async def still_serves(lsp: LanguageClient, root: Path) -> None:
    uri = open_document(lsp, root / "healthy.py", VULNERABLE)
    diagnostics = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    assert [d.code for d in diagnostics] == ["insecure-deserialization"]


HOSTILE = {
    "syntax_error": "def broken(:\n    pickle.loads(\n" * 3,
    "invalid_utf8_surrogates": "x = '\udcff\udcfe'\nimport pickle\npickle.loads(x)\n",
    "binary": "\x00\x01\x02\x7fELF\x00" * 2000,
    "five_megabytes": ("value_%d = 'padding padding padding padding padding'\n" * 100_000) % tuple(range(100_000)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_server_survives_hostile_file(lsp: LanguageClient, tmp_path: Path, name: str):
    await start_session(lsp, tmp_path, lsp.client_name)
    text = HOSTILE[name]
    if name == "five_megabytes":
        text = text * (5_000_000 // len(text) + 1)
        assert len(text.encode()) >= 5_000_000
    uri = open_document(lsp, tmp_path / f"{name}.py", text)
    params = await wait_for_diagnostics(lsp, uri, version=1, timeout=120)
    assert params.version == 1
    await still_serves(lsp, tmp_path)


async def test_syntax_error_still_reports_the_valid_part(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE + "\ndef broken(:\n")
    diagnostics = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    assert [d.code for d in diagnostics] == ["insecure-deserialization"]


async def test_burst_of_200_changes_only_publishes_the_last_version(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", SAFE)
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []
    for version in range(2, 202):
        replace_all(lsp, uri, VULNERABLE if version % 2 else SAFE, version)
    params = await wait_for_diagnostics(lsp, uri)
    assert params.version == 201
    assert [d.code for d in params.diagnostics] == ["insecure-deserialization"]
    report = await lsp.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert report.result_id.startswith("201-")


async def test_change_for_an_unopened_document_is_ignored(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    replace_all(lsp, (tmp_path / "ghost.py").as_uri(), VULNERABLE, 5)
    await still_serves(lsp, tmp_path)
