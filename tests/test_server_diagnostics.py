"""The LSP spine end to end: open, edit, close, pull, over stdio with the real server."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp_support import edit, open_document, replace_all, start_session, wait_for_diagnostics

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
SAFE = "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"


async def test_vulnerable_file_gets_a_diagnostic_with_class_range_and_code(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    params = await wait_for_diagnostics(lsp, uri, version=1)
    assert len(params.diagnostics) == 1
    diagnostic = params.diagnostics[0]
    assert diagnostic.code == "insecure-deserialization"
    assert diagnostic.source == "coderev"
    assert diagnostic.range == types.Range(start=types.Position(4, 11), end=types.Position(4, 29))
    assert diagnostic.data["rule"] == "deserialization.pickle-loads"


async def test_editing_the_file_safe_clears_the_diagnostic(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    assert (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    replace_all(lsp, uri, SAFE, version=2)
    assert list((await wait_for_diagnostics(lsp, uri, version=2)).diagnostics) == []


async def test_incremental_edit_reintroduces_the_finding(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", SAFE)
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []
    edit(lsp, uri, 2, (0, 7), (0, 11), "pickle")
    edit(lsp, uri, 3, (4, 11), (4, 15), "pickle")
    diagnostics = (await wait_for_diagnostics(lsp, uri, version=3)).diagnostics
    assert [d.code for d in diagnostics] == ["insecure-deserialization"]
    assert diagnostics[0].range.start == types.Position(4, 11)


async def test_closing_the_file_clears_its_diagnostics(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    assert (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    lsp.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert list((await wait_for_diagnostics(lsp, uri)).diagnostics) == []


async def test_pull_diagnostics_agree_with_push(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name, settings={"diagnosticMode": "both"})
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    pushed = await wait_for_diagnostics(lsp, uri, version=1)
    report = await lsp.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert report.items == pushed.diagnostics
    again = await lsp.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)


async def test_auto_mode_pulls_for_pulling_clients_and_pushes_for_the_others(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name, settings={"diagnosticMode": "auto"})
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    pulls = lsp.capabilities.text_document.diagnostic is not None
    if not pulls:
        pushed = await wait_for_diagnostics(lsp, uri, version=1)
        assert [d.code for d in pushed.diagnostics] == ["insecure-deserialization"]
    report = await lsp.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [d.code for d in report.items] == ["insecure-deserialization"]
    if pulls:  # a client that pulls must not also get pushes (it would show every finding twice)
        assert uri not in lsp.diagnostics
