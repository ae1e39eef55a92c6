"""The real classifier: MiniLM from site-packages + the shipped LoRA adapter (no mocks, nothing downloaded)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import SAFE_LABEL
from ai_core.model.adapters import AdapterRegistry, merge_states, write_adapter
from ai_core.model.candidates import candidate_for, function_candidates
from ai_core.model.classifier import adapter_state, load_adapter_weights, load_lora_model, logits
from ai_core.model.minilm import LABELS, LEGACY_LABELS
from ai_core.parsing import ParsedDocument

os.environ.setdefault("HF_HUB_OFFLINE", "1")

VULNERABLE = '''# taint: source: request.args (line 7) -> assigned to query (line 8) -> sink: cursor.execute (line 10)
@app.route("/orders")
def orders():
    """List a customer's orders."""
    customer = request.args.get("customer", "")
    query = f"SELECT id, total FROM orders WHERE customer = '{customer}'"
    cursor = db.cursor()
    cursor.execute(query)
    return jsonify(cursor.fetchall())'''

SAFE_TWIN = '''# taint: source: request.args (line 7) -> sink: cursor.execute (line 10)
@app.route("/orders")
def orders():
    """List a customer's orders."""
    customer = request.args.get("customer", "")
    query = "SELECT id, total FROM orders WHERE customer = ?"
    cursor = db.cursor()
    cursor.execute(query, (customer,))
    return jsonify(cursor.fetchall())'''

DESER = '''def restore(request):
    blob = request.body
    state = pickle.loads(base64.b64decode(blob))
    return JsonResponse({"items": state})'''

DESER_SAFE = '''def restore(request):
    blob = request.body
    state = json.loads(base64.b64decode(blob))
    return JsonResponse({"items": state})'''

SLICES = [VULNERABLE, SAFE_TWIN, DESER, DESER_SAFE]

SQL_APP = '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/users")
def users():
    name = request.args.get("name", "")
    cur = sqlite3.connect("app.db").cursor()
    cur.execute(f"SELECT * FROM users WHERE name = '{name}'")
    return {"rows": cur.fetchall()}
'''
SQL_APP_SAFE = SQL_APP.replace("cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")",
                               "cur.execute(\"SELECT * FROM users WHERE name = ?\", (name,))")


def loop_inputs(text: str, evidence: bool = False) -> list[str]:
    """What the analyzer sends the model for `text`: its rule findings, else its functions (function-level)."""
    doc = ParsedDocument(text, path="app.py")
    findings = Analyzer(Settings(model_enabled=False)).analyze(doc, "app.py")
    return [c.render(evidence) for c in [candidate_for(doc, f) for f in findings] or function_candidates(doc, findings)]


@pytest.fixture(scope="module")
def shipped():
    adapter = AdapterRegistry(None).default()
    assert adapter is not None, "the package ships a default adapter"
    return adapter


@pytest.fixture(scope="module")
def lora_model(shipped):
    return load_lora_model(shipped.path, shipped.lora, shipped.labels)


def _label(model, text: str) -> str:
    return model.config.id2label[int(logits(model, [text])[0].argmax())]


def test_the_shipped_adapter_has_a_complete_manifest(shipped):
    manifest = shipped.manifest
    assert shipped.builtin and shipped.version.count(".") == 2
    assert manifest["labels"] in (list(LABELS), list(LEGACY_LABELS))
    assert len(manifest["base_model_hash"]) == 64 and len(manifest["data_hash"]) == 64
    assert 0.0 < manifest["metrics"]["macro_f1"] <= 1.0
    assert (shipped.path / "adapter_model.safetensors").stat().st_size < 5_000_000


def test_a_vulnerable_query_is_classified_sql_injection_and_its_parameterized_twin_is_not_flagged(lora_model,
                                                                                                  shipped):
    [vulnerable] = loop_inputs(SQL_APP, shipped.evidence)  # the rule finding, with its taint path
    assert "# taint:" in vulnerable and _label(lora_model, vulnerable) == "sql-injection"
    [twin] = loop_inputs(SQL_APP_SAFE)  # no rule fires: the function goes to function-level mode
    probabilities = logits(lora_model, [twin]).softmax(-1)[0]
    labels = shipped.labels
    flagged = [labels[i] for i, p in enumerate(probabilities.tolist())
               if labels[i] != SAFE_LABEL and p >= Settings().model_function_threshold]
    assert flagged == []


def test_pickle_of_request_data_is_insecure_deserialization_and_json_is_not_flagged(lora_model):
    assert _label(lora_model, DESER) == "insecure-deserialization"
    assert _label(lora_model, DESER_SAFE) == SAFE_LABEL


def test_save_then_load_gives_identical_logits(lora_model, shipped, tmp_path: Path):
    write_adapter(tmp_path, adapter_state(lora_model), shipped.manifest)
    reloaded = load_lora_model(tmp_path, shipped.lora, shipped.labels)
    assert (logits(lora_model, SLICES) - logits(reloaded, SLICES)).abs().max().item() == 0.0


def test_merge_and_unload_into_the_base_gives_the_same_predictions(lora_model, shipped):
    merged = load_lora_model(shipped.path, shipped.lora, shipped.labels).merge_and_unload()
    assert type(merged).__name__ == "BertForSequenceClassification"
    before, after = logits(lora_model, SLICES), logits(merged, SLICES)
    assert (before - after).abs().max().item() < 1e-4
    assert before.argmax(-1).tolist() == after.argmax(-1).tolist()


def test_a_weighted_merge_of_an_adapter_with_itself_predicts_like_the_adapter(lora_model, shipped, tmp_path: Path):
    state = load_adapter_weights(shipped.path)
    merged_state, lora = merge_states([(state, shipped.lora, 0.3), (state, shipped.lora, 0.7)])
    assert lora.r == 2 * shipped.lora.r
    write_adapter(tmp_path, merged_state, {**shipped.manifest, "lora": lora.to_dict()})
    merged = load_lora_model(tmp_path, lora, shipped.labels)
    assert (logits(lora_model, SLICES) - logits(merged, SLICES)).abs().max().item() < 1e-4
