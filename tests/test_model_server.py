"""The model in the real server over stdio: loaded off the loop, scoring diagnostics, switched live, fed back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.model.adapters import AdapterRegistry
from ai_core.model.candidates import candidate_for
from ai_core.model.predictor import load_scorer
from ai_core.model.scoring import apply_scores
from ai_core.parsing import ParsedDocument
from tests.lsp_support import open_document, server_config, start_session, wait_for_diagnostics

VULNERABLE = '''import pickle

from flask import Flask, request

app = Flask(__name__)


@app.route("/restore", methods=["POST"])
def restore():
    state = pickle.loads(request.get_data())
    return {"items": len(state)}
'''
MODEL = {"modelEnabled": True, "modelVariant": "fp32", "modelFunctionLevel": False}


@pytest_lsp.fixture(config=server_config())
async def client(lsp_client: LanguageClient):
    """One editor's capabilities are enough for the command tests (the main test runs under both)."""
    lsp_client.client_name = "neovim"  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def wait_for_log(client: LanguageClient, text: str, timeout: float = 120.0) -> str:
    """The first window/logMessage containing `text` (already received or the next ones)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = 0
    while True:
        for message in client.log_messages[seen:]:
            if text in message.message:
                return message.message
        seen = len(client.log_messages)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"no log message containing {text!r}")
        await asyncio.wait_for(client.wait_for_notification(types.WINDOW_LOG_MESSAGE), remaining)


def expected_confidence(root: Path, text: str) -> dict[int, float]:
    """Per line, the calibrated P(vulnerable) (scoring.apply_scores) from the same adapter in this process."""
    doc = ParsedDocument(text, path=str(root / "app.py"))
    findings = Analyzer(Settings(model_enabled=False)).analyze(doc, str(root / "app.py"))
    scorer = load_scorer(Settings(model_variant="fp32"), workspace=root)
    scores = scorer.score([candidate_for(doc, f) for f in findings])
    scored = apply_scores(findings, scores, Settings(), calibration=scorer.calibration)
    return {f.span.start_line: f.confidence for f in scored}


async def test_with_the_model_on_each_diagnostic_carries_the_models_confidence(lsp: LanguageClient, tmp_path: Path):
    await start_session(lsp, tmp_path, lsp.client_name, settings=MODEL)
    assert "adapter" in await wait_for_log(lsp, "model loaded")
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    await wait_for_diagnostics(lsp, uri, version=1)  # the rules' diagnostics come first
    diagnostics = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics  # then the model's refinement
    expected = expected_confidence(tmp_path, VULNERABLE)
    assert [d.code for d in diagnostics if d.range.start.line == 9] == ["insecure-deserialization"]
    for diagnostic in diagnostics:
        assert diagnostic.data["confidence"] == expected[diagnostic.range.start.line]


async def test_activate_adapter_switches_the_model_without_restart(client: LanguageClient, tmp_path: Path):
    new = AdapterRegistry.for_workspace(tmp_path).create(version="1.7.0")
    await start_session(client, tmp_path, "neovim", settings=MODEL)
    await wait_for_log(client, "model loaded")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="coderev.activateAdapter", arguments=[new.version]))
    assert result["adapter"] == "1.7.0" and result["loaded"] is True
    assert json.loads((tmp_path / ".coderev/adapters/registry.json").read_text())["active"] == "1.7.0"
    assert "adapter 1.7.0" in await wait_for_log(client, "model loaded: adapter 1.7.0")


async def test_dismissing_a_diagnostic_records_feedback(client: LanguageClient, tmp_path: Path):
    await start_session(client, tmp_path, "neovim")  # the model is off: dismissals are recorded all the same
    uri = open_document(client, tmp_path / "app.py", VULNERABLE)
    [diagnostic] = [d for d in (await wait_for_diagnostics(client, uri, version=1)).diagnostics
                    if d.code == "insecure-deserialization"]
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="coderev.dismiss", arguments=[{"uri": uri, "fingerprint": diagnostic.data["fingerprint"],
                                               "detail": "blob is signed upstream"}]))
    assert result == {"recorded": True, "fingerprint": diagnostic.data["fingerprint"]}
    [record] = [json.loads(line) for line in (tmp_path / ".coderev/feedback.jsonl").read_text().splitlines()]
    assert record["kind"] == "dismissed" and record["class"] == "insecure-deserialization"
    assert record["detail"] == "blob is signed upstream" and "pickle.loads" in record["input"]


async def test_a_missing_adapter_is_logged_and_rules_keep_working(client: LanguageClient, tmp_path: Path):
    await start_session(client, tmp_path, "neovim", settings={**MODEL, "adapter": "9.9.9"})
    assert "9.9.9" in await wait_for_log(client, "model unavailable")
    uri = open_document(client, tmp_path / "app.py", VULNERABLE)
    diagnostics = (await wait_for_diagnostics(client, uri, version=1)).diagnostics
    assert "insecure-deserialization" in [d.code for d in diagnostics]
