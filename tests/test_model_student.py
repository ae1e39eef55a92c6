"""The distilled student: what ships of it, loading it back, its own calibration, and when `auto` may take it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ai_core.model.adapters import AdapterRegistry, read_adapter
from ai_core.model.classifier import logits
from ai_core.model.distill import truncate
from ai_core.model.predictor import calibration_for
from ai_core.model.quantize import (
    QuantizationStats,
    merged_model,
    pick,
    record_choice,
    recorded_choice,
    timed_variants,
)
from ai_core.model.student import STUDENT, load_student, student_folder, write_student
from tests.test_model_classifier import SLICES


@pytest.fixture(scope="module")
def teacher_copy(tmp_path_factory: pytest.TempPathFactory, model_cache):
    """The shipped adapter copied without its student, and an untrained 3-layer student of it written in."""
    shipped = AdapterRegistry(None).default()
    assert shipped is not None
    folder = tmp_path_factory.mktemp("adapter") / shipped.version
    shutil.copytree(shipped.path, folder, ignore=shutil.ignore_patterns("student"))
    adapter = read_adapter(folder)
    student = truncate(merged_model(adapter), 3).eval()
    calibration = {"method": "platt", "scale": 0.5, "bias": -1.0}
    write_student(folder / "student", student.state_dict(), student.config.to_dict(),
                  {"teacher": adapter.version, "calibration": calibration})
    return adapter, student


def stat(variant: str, f1: float, ms: float) -> QuantizationStats:
    return QuantizationStats(variant, 100, 50, 2.0, 0, 0.80, f1, ms, ms, 0.1)


def test_what_ships_of_a_student_is_its_layers_not_the_base_embeddings(teacher_copy):
    adapter, _ = teacher_copy
    from safetensors.torch import load_file

    shipped = load_file(str(student_folder(adapter) / "student.safetensors"))
    assert shipped and not any(k.startswith("bert.embeddings.") for k in shipped)
    assert sum(k.startswith("bert.encoder.layer.") for k in shipped) == 3 * 16  # three layers' tensors


def test_a_loaded_student_gives_the_logits_of_the_model_it_was_written_from(teacher_copy):
    import copy

    import torch

    adapter, student = teacher_copy
    rounded = copy.deepcopy(student)  # the same student, weights rounded as they ship (bf16)
    with torch.no_grad():
        for name, tensor in rounded.state_dict().items():
            if not name.startswith("bert.embeddings.") and tensor.is_floating_point():
                tensor.copy_(tensor.to(torch.bfloat16).to(torch.float32))
    expected = logits(rounded, SLICES, 128, 8)
    got = logits(load_student(adapter), SLICES, 128, 8)
    assert torch.allclose(got, expected, atol=1e-3)


def test_the_student_is_calibrated_with_its_own_map_and_the_teacher_with_its(teacher_copy):
    adapter, _ = teacher_copy
    assert calibration_for(adapter, STUDENT).scale == 0.5
    assert calibration_for(adapter, "fp32") == calibration_for(adapter, "bf16") != calibration_for(adapter, STUDENT)


def test_auto_takes_the_student_when_it_keeps_95_percent_of_the_f1_and_is_faster():
    kept = [stat("fp32", 0.80, 10.0), stat("bf16", 0.80, 5.0), stat(STUDENT, 0.77, 2.5)]  # 96%
    lost = [stat("fp32", 0.80, 10.0), stat("bf16", 0.80, 5.0), stat(STUDENT, 0.74, 2.5)]  # 92.5%
    assert pick(kept) == STUDENT
    assert pick(lost) == "bf16"


def test_no_student_is_timed_where_none_ships(model_cache):
    adapter = AdapterRegistry(None).resolve("1.1.0")
    stats = timed_variants(adapter, SLICES[:2], {"fp32": 0.8, STUDENT: 0.79})
    [student] = [s for s in stats if s.variant == STUDENT]
    assert student.errors == ["not timed: no student ships with this adapter"]


def test_a_choice_recorded_before_a_student_shipped_is_made_again(teacher_copy, model_cache: Path):
    adapter, _ = teacher_copy
    without = read_adapter(adapter.path)
    manifest = {**without.manifest, "variant_f1": {"fp32": 0.8}}
    (adapter.path / "manifest.json").write_text(json.dumps(manifest))
    old = read_adapter(adapter.path)
    record_choice(old, [stat("fp32", 0.80, 10.0)])
    assert recorded_choice(old) is not None
    (adapter.path / "manifest.json").write_text(json.dumps({**manifest, "variant_f1": {"fp32": 0.8, STUDENT: 0.79}}))
    assert recorded_choice(read_adapter(adapter.path)) is None
