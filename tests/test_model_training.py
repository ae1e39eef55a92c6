"""Training, learning from feedback and distillation, exercised with tiny data and a few steps."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ai_core.findings import Finding, Severity, Span, VulnClass
from ai_core.model.adapters import AdapterRegistry
from ai_core.model.data.dataset import DataConfig, build
from ai_core.model.distill import distill, truncate
from ai_core.model.feedback import load_feedback, record_feedback
from ai_core.model.minilm import LABELS
from ai_core.model.quantize import merged_model
from ai_core.model.training import TrainConfig, train

TINY = ["--per-family", "1", "--negatives", "8", "--max-steps", "3", "--max-length", "64", "--epochs", "1"]


def coderev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.fixture(scope="module")
def tiny():
    data = build(DataConfig(per_family=1, negatives=8))
    rng = random.Random(0)
    return rng.sample(data.train, 48), rng.sample(data.val, 24)


def test_training_is_seeded_and_keeps_the_best_validation_state(tiny):
    train_set, val_set = tiny
    config = TrainConfig(max_steps=2, max_length=64, batch_size=8, eval_every=1, epochs=1)
    first = train(train_set, val_set, config, progress=False)
    again = train(train_set, val_set, config, progress=False)
    assert first.steps == 2 and len(first.history) == 2
    assert first.metrics["macro_f1"] == max(h["macro_f1"] for h in first.history)
    assert first.metrics == again.metrics
    assert any(".lora_A." in key for key in first.state) and any("classifier" in key for key in first.state)


def test_coderev_train_writes_a_safetensors_adapter_with_a_manifest(tmp_path: Path):
    out = tmp_path / "adapter"
    result = coderev("train", "--output", str(out), "--version", "3.2.1", *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["version"] == "3.2.1" and summary["steps"] == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == "3.2.1"
    assert len(manifest["base_model_hash"]) == 64 and len(manifest["data_hash"]) == 64
    assert manifest["labels"][-1] == "safe" and len(manifest["labels"]) == len(LABELS) == 18
    assert {"macro_f1", "accuracy", "per_class"} <= set(manifest["metrics"])
    assert (out / "adapter_model.safetensors").is_file() and (out / "probe.jsonl").is_file()


def _finding(path: str, line: int) -> Finding:
    return Finding(VulnClass.INSECURE_DESERIALIZATION, "deserialization.pickle-loads", "pickle.loads of input",
                   path, Span(0, 10, line, 4, line, 30), Severity.HIGH, 0.7)


def test_feedback_is_recorded_with_the_model_input_and_folded_into_a_new_version(tmp_path: Path):
    (tmp_path / "app.py").write_text("import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n")
    record_feedback(tmp_path, "dismissed", _finding("app.py", 4), "trusted blob from our own cache")
    record_feedback(tmp_path, "accepted", _finding("app.py", 4))
    lines = (tmp_path / ".coderev" / "feedback.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["dismissed", "accepted"]
    assert "return pickle.loads(blob)" in json.loads(lines[0])["input"]
    [item] = load_feedback(tmp_path)  # the same finding: the last decision wins
    assert item.label == "insecure-deserialization"
    with pytest.raises(ValueError, match="feedback kind"):
        record_feedback(tmp_path, "liked", _finding("app.py", 4))

    result = coderev("train", "--feedback", *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    registry = AdapterRegistry.for_workspace(tmp_path)
    new = registry.get(summary["version"])
    assert new.manifest["feedback_examples"] == 1 and new.manifest["parent"] == registry.default().version
    assert new.manifest["status"] in {"active", "inactive"} and new.manifest["reason"]
    assert (registry.active().version == new.version) == summary["active"]
    if not summary["active"]:
        assert "does not beat" in summary["reason"]


def test_train_feedback_without_feedback_is_a_usage_error(tmp_path: Path):
    result = coderev("train", "--feedback", *TINY, cwd=tmp_path)
    assert result.returncode == 2 and "no feedback recorded" in result.stderr


def test_distillation_trains_a_shallower_student_and_measures_it(tiny):
    train_set, val_set = tiny
    adapter = AdapterRegistry(None).default()
    student, metrics = distill(adapter, train_set[:16], val_set[:16], layers=2, temperatures=(1.0, 4.0),
                               max_steps=2, batch_size=8)
    assert len(student.bert.encoder.layer) == 2 and metrics.student_layers == 2
    assert set(metrics.temperatures) == {"1.0", "4.0"} and metrics.temperature in (1.0, 4.0)
    assert metrics.compression_ratio > 1.1 and metrics.student_size_bytes < metrics.teacher_size_bytes
    assert metrics.speedup > 0 and metrics.accuracy_retention >= 0


def test_truncation_keeps_the_first_and_last_layers():
    teacher = merged_model(AdapterRegistry(None).default())
    student = truncate(teacher, 3)
    assert len(student.bert.encoder.layer) == 3
    last = student.bert.encoder.layer[-1].output.dense.weight
    teacher_last = teacher.bert.encoder.layer[5].output.dense.weight
    assert last.data_ptr() != teacher_last.data_ptr() and (last == teacher_last).all()
    with pytest.raises(ValueError):
        truncate(teacher, 6)


def test_cli_distill_prints_metrics_and_saves_the_student(tmp_path: Path):
    out = tmp_path / "student"
    result = coderev("model", "distill", "--layers", "2", "--temperatures", "1,2", "--train-examples", "16",
                     "--val-examples", "8", "--max-steps", "1", "--output", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads(result.stdout)
    assert metrics["student_layers"] == 2 and set(metrics["temperatures"]) == {"1.0", "2.0"}
    assert (out / "model.safetensors").is_file() and (out / "distillation.json").is_file()
