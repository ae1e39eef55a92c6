"""Quantized variants (bf16, bitsandbytes 8-bit and NF4 on CPU) against fp32, and the recorded `auto` choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_core.config import Settings
from ai_core.model.adapters import AdapterRegistry
from ai_core.model.classifier import logits
from ai_core.model.predictor import load_scorer
from ai_core.model.quantize import (
    VARIANTS,
    QuantizationStats,
    choose_variant,
    load_variant,
    not_worth_timing,
    pick,
    probe_examples,
    quantize,
    quantized_layers,
    recorded_choice,
    shipped_accuracy,
    size_bytes,
    timed_variants,
)
from tests.test_model_classifier import SLICES


@pytest.fixture(scope="module")
def shipped(model_cache):
    adapter = AdapterRegistry(None).default()
    assert adapter is not None
    return adapter


@pytest.fixture(scope="module")
def fp32(shipped):
    return load_variant(shipped, "fp32")


@pytest.mark.parametrize("variant", ["bf16", "int8", "nf4"])
def test_quantized_variants_agree_with_full_precision_on_the_test_slices(shipped, fp32, variant):
    model = load_variant(shipped, variant)
    assert quantized_layers(model) >= 36  # 6 layers x (q, k, v, attention out, intermediate, out)
    assert size_bytes(model) < size_bytes(fp32)
    assert logits(model, SLICES).argmax(-1).tolist() == logits(fp32, SLICES).argmax(-1).tolist()


def test_quantize_reports_sizes_f1_and_latency_for_every_variant(shipped):
    stats = quantize(shipped, probe_examples(shipped)[:24])
    by_variant = {s.variant: s for s in stats}
    assert set(by_variant) == {"fp32", "bf16", "int8", "nf4"}
    for s in stats:
        assert not s.errors, s.errors
        assert s.size_before > 0 and s.latency_ms_batch32 > 0 and s.latency_ms_batch1 > 0
    assert by_variant["fp32"].compression_ratio == 1.0
    assert by_variant["int8"].compression_ratio > 1.3 and by_variant["nf4"].compression_ratio > 1.5
    assert by_variant["bf16"].compression_ratio > 1.9
    assert all(abs(s.f1_after - s.f1_before) <= 0.1 for s in stats)


def test_auto_picks_the_fastest_variant_within_one_f1_point():
    def stat(variant: str, f1: float, ms: float) -> QuantizationStats:
        return QuantizationStats(variant, 100, 50, 2.0, 36, 0.90, f1, ms, ms, 0.1)

    stats = [stat("fp32", 0.90, 10.0), stat("bf16", 0.895, 4.0), stat("int8", 0.85, 2.0), stat("nf4", 0.90, 6.0)]
    assert pick(stats) == "bf16"  # int8 is faster but loses 5 points


def test_auto_measures_once_per_machine_and_records_the_choice(shipped, model_cache: Path):
    assert recorded_choice(shipped) is None
    variant = choose_variant(shipped)
    record = json.loads((model_cache / "variants.json").read_text())
    [entry] = record.values()
    assert entry["variant"] == variant and len(entry["stats"]) == len(VARIANTS)
    assert recorded_choice(shipped)["variant"] == variant
    assert choose_variant(shipped) == variant  # second start: read, not measured


@pytest.mark.parametrize("variant", ["int8", "nf4"])
def test_a_quantized_variant_is_selectable_by_setting(variant, model_cache):
    scorer = load_scorer(Settings(model_variant=variant), workspace=model_cache)
    assert scorer.info.variant == variant
    [score] = scorer.score_texts([SLICES[0]])
    assert score.label == "sql-injection"


def test_cli_quantize_prints_stats_and_the_auto_choice(tmp_path: Path, model_cache: Path):
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "server.cli", "model", "quantize", "--variants", "fp32,bf16"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "CODEREV_CACHE_DIR": str(model_cache)})
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert [v["variant"] for v in report["variants"]] == ["fp32", "bf16"]
    assert report["auto"] in {"fp32", "bf16"} and report["examples"] > 50


def test_the_shipped_adapter_carries_each_variants_f1_so_a_new_machine_only_times_them(shipped):
    accuracy = shipped_accuracy(shipped)
    assert {"fp32", "int8"} <= set(accuracy) and all(0.5 < f1 <= 1.0 for f1 in accuracy.values())


def test_auto_with_shipped_f1_times_only_the_variants_within_one_point_of_fp32(shipped):
    texts = [e.text for e in probe_examples(shipped)[:8]]
    stats = timed_variants(shipped, texts, {"fp32": 0.90, "bf16": 0.90, "int8": 0.88, "nf4": 0.90})
    by_variant = {s.variant: s for s in stats}
    assert not by_variant["fp32"].errors and by_variant["fp32"].latency_ms_batch32 > 0
    assert by_variant["int8"].errors[0].startswith("not timed: ")  # too inaccurate, or no GPU to make it fast
    assert pick(stats) != "int8"


@pytest.mark.parametrize("variant", ["nf4", "int8"])
def test_bitsandbytes_variants_are_not_timed_on_a_machine_without_a_gpu(variant):
    import torch

    reason = not_worth_timing(variant)
    assert reason if not torch.cuda.is_available() else reason in ("", "bitsandbytes is not installed")
