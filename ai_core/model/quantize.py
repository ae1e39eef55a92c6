"""Weights variants of the classifier: fp32, bf16, 8-bit and 4-bit NF4 (bitsandbytes), measured and chosen.

The adapter is merged into the base first (`merge_and_unload`), so every variant is a plain BERT
classifier; 8-bit and NF4 load that merged model through bitsandbytes with the head left in full
precision (`llm_int8_skip_modules`). `auto` picks the fastest variant whose validation macro F1 is within
one point of fp32, measured once per machine and recorded in a small JSON cache. Accuracy is a property of the
weights: measured when the adapter is built and shipped in its manifest (`variant_f1`), so a new machine only
times the admissible variants on a few probe inputs (seconds, not the minutes of a full measurement).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ai_core.model.adapters import Adapter
from ai_core.model.classifier import ADAPTER_FILE, load_lora_model, logits
from ai_core.model.data.generator import Example
from ai_core.model.metrics import macro_f1
from ai_core.model.minilm import LABELS, offline
from ai_core.model.student import STUDENT, STUDENT_RETENTION, load_student, student_folder

log = logging.getLogger(__name__)

WEIGHT_VARIANTS = ("fp32", "bf16", "int8", "nf4")
"""The teacher's own weights in four precisions."""
VARIANTS = (*WEIGHT_VARIANTS, STUDENT)
"""What a scan may run: a weights variant, or the distilled student shipped with the adapter (ai_core.model.student)."""
F1_TOLERANCE = 0.01
"""`auto` accepts a variant whose macro F1 is at most this much below fp32's (one point)."""
SKIP_MODULES = ["classifier"]
TIMING_PROBES = 24
"""With F1 from the manifest, `auto` times each admissible variant on this many probe inputs (one batch)."""


def cache_dir() -> Path:
    """Where measurements, merged weights and scores are cached (CODEREV_CACHE_DIR, else the user cache dir:
    $XDG_CACHE_HOME/coderev or ~/.cache/coderev)."""
    if os.environ.get("CODEREV_CACHE_DIR"):
        return Path(os.environ["CODEREV_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coderev"


def adapter_digest(adapter: Adapter) -> str:
    """sha256 of the adapter's tensors file (first 16 hex digits)."""
    return hashlib.sha256((adapter.path / ADAPTER_FILE).read_bytes()).hexdigest()[:16]


def merged_model(adapter: Adapter) -> Any:
    """fp32 BertForSequenceClassification with the adapter merged into the base weights."""
    return load_lora_model(adapter.path, adapter.lora, adapter.labels).merge_and_unload().eval()


def _merged_dir(adapter: Adapter) -> Path:
    folder = cache_dir() / "merged" / f"{adapter.version}-{adapter_digest(adapter)}"
    if not (folder / "model.safetensors").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent))
        merged_model(adapter).save_pretrained(str(tmp), safe_serialization=True)
        with contextlib.suppress(OSError):  # another process may have won the race
            tmp.rename(folder)
    return folder


def load_variant(adapter: Adapter, variant: str) -> Any:
    """The classifier in one weights variant (fp32, bf16, int8, nf4), in eval mode on CPU."""
    import torch

    offline()
    if variant not in VARIANTS:
        raise ValueError(f"unknown model variant {variant!r} (one of {', '.join(VARIANTS)})")
    if variant == STUDENT:  # plain torch; in bf16 where the CPU (or a GPU) does bf16 natively
        student = load_student(adapter)
        return student.to(torch.bfloat16) if not not_worth_timing("bf16") else student
    from transformers import AutoModelForSequenceClassification

    if variant in ("fp32", "bf16"):
        # From the merged checkpoint (built once per adapter): no peft or bitsandbytes in the process, which
        # keeps the server ~190 MB smaller than loading base + adapter through peft.
        model = AutoModelForSequenceClassification.from_pretrained(str(_merged_dir(adapter)), dtype=torch.float32)
        return (model.to(torch.bfloat16) if variant == "bf16" else model).eval()
    from transformers import BitsAndBytesConfig

    if variant == "int8":
        config = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=SKIP_MODULES)
    else:
        config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                    bnb_4bit_compute_dtype=torch.bfloat16, llm_int8_skip_modules=SKIP_MODULES)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(_merged_dir(adapter)), quantization_config=config, device_map="cpu")
    return model.eval()


def load_for_scoring(adapter: Adapter, variant: str) -> Any:
    """The classifier to score with: fp32/bf16 as a plain-torch forward pass over the merged checkpoint (no
    transformers import, ~7 s less to load here; the same logits), the quantized variants through load_variant."""
    if variant not in ("fp32", "bf16"):
        return load_variant(adapter, variant)  # the student and the quantized variants
    import torch

    from ai_core.model.encoder import load_merged

    model = load_merged(_merged_dir(adapter))
    return model.to(torch.bfloat16) if variant == "bf16" else model


def size_bytes(model: Any) -> int:
    """Bytes held by parameters and buffers (quantized tensors count at their stored size)."""
    total = 0
    for tensor in [*model.parameters(), *model.buffers()]:
        total += tensor.numel() * tensor.element_size()
        state = getattr(tensor, "quant_state", None)
        absmax = getattr(state, "absmax", None)
        if absmax is not None:
            total += absmax.numel() * absmax.element_size()
    for module in model.modules():  # 8-bit row scales live on the module
        scb = getattr(getattr(module, "weight", None), "SCB", None)
        if scb is not None:
            total += scb.numel() * scb.element_size()
    return total


def quantized_layers(model: Any) -> int:
    """How many Linear layers run quantized (or in bf16)."""
    import torch

    count = 0
    for module in model.modules():
        name = type(module).__name__
        bf16 = isinstance(module, torch.nn.Linear) and module.weight.dtype == torch.bfloat16
        if name in {"Linear8bitLt", "Linear4bit"} or bf16:
            count += 1
    return count


@dataclass
class QuantizationStats:
    """What one variant costs and keeps, measured on this machine."""

    variant: str
    size_before: int
    size_after: int
    compression_ratio: float
    layers_quantized: int
    f1_before: float
    f1_after: float
    latency_ms_batch32: float
    """Milliseconds per candidate at batch 32."""
    latency_ms_batch1: float
    """Milliseconds per candidate at batch 1 (median)."""
    load_seconds: float
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _measure(model: Any, texts: Sequence[str], gold: Sequence[str], max_length: int,
             labels: tuple[str, ...] = LABELS) -> tuple[float, float, float]:
    started = time.perf_counter()
    predicted = [labels[i] for i in logits(model, texts, max_length, 32).argmax(-1).tolist()]
    per_candidate = (time.perf_counter() - started) * 1000 / max(1, len(texts))
    singles = []
    for text in texts[:12]:
        t0 = time.perf_counter()
        logits(model, [text], max_length, 1)
        singles.append((time.perf_counter() - t0) * 1000)
    return macro_f1(gold, predicted, labels), per_candidate, statistics.median(singles) if singles else 0.0


def quantize(adapter: Adapter, examples: Sequence[Example], variants: Sequence[str] = WEIGHT_VARIANTS) \
        -> list[QuantizationStats]:
    """Load each variant, measure size, validation F1 and latency against fp32; errors are recorded, not raised."""
    texts = [e.text for e in examples]
    gold = [e.label for e in examples]
    t0 = time.perf_counter()
    reference = load_variant(adapter, "fp32")
    fp32_load = time.perf_counter() - t0
    size_fp32 = size_bytes(reference)
    f1_fp32, lat32, lat1 = _measure(reference, texts, gold, adapter.max_length, adapter.labels)
    del reference
    stats: list[QuantizationStats] = []
    for variant in variants:
        if variant == "fp32":
            stats.append(QuantizationStats("fp32", size_fp32, size_fp32, 1.0, 0, f1_fp32, f1_fp32,
                                           round(lat32, 2), round(lat1, 2), round(fp32_load, 2)))
            continue
        try:
            t0 = time.perf_counter()
            model = load_variant(adapter, variant)
            load_s = time.perf_counter() - t0
            size = size_bytes(model)
            f1, per32, per1 = _measure(model, texts, gold, adapter.max_length, adapter.labels)
            stats.append(QuantizationStats(variant, size_fp32, size, round(size_fp32 / max(1, size), 2),
                                           quantized_layers(model), f1_fp32, f1, round(per32, 2), round(per1, 2),
                                           round(load_s, 2)))
            del model
        except Exception as exc:  # a variant that cannot run here is reported, the others still measured
            log.warning("variant %s failed: %s", variant, exc)
            stats.append(QuantizationStats(variant, size_fp32, 0, 0.0, 0, f1_fp32, 0.0, 0.0, 0.0, 0.0,
                                           [f"{type(exc).__name__}: {exc}"]))
    return stats


def admissible(variant: str, f1: float, reference: float, tolerance: float = F1_TOLERANCE) -> bool:
    """Whether a variant keeps enough of fp32's F1: within `tolerance` for a weights variant, at least
    STUDENT_RETENTION of it for the student."""
    return f1 >= reference * STUDENT_RETENTION if variant == STUDENT else f1 >= reference - tolerance


def pick(stats: Sequence[QuantizationStats], tolerance: float = F1_TOLERANCE) -> str:
    """The fastest (batch 32) variant without errors that is admissible (F1 within `tolerance` of fp32; the
    student: STUDENT_RETENTION of it)."""
    fine = [s for s in stats if not s.errors and admissible(s.variant, s.f1_after, s.f1_before, tolerance)
            and s.latency_ms_batch32 > 0]
    if not fine:
        return "fp32"
    return min(fine, key=lambda s: s.latency_ms_batch32).variant


def machine_key() -> str:
    """Identifies the CPU the measurement was taken on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}|{os.cpu_count()}"


def _choices_file() -> Path:
    return cache_dir() / "variants.json"


def recorded_choice(adapter: Adapter) -> dict[str, Any] | None:
    """The recorded `auto` choice for this adapter on this machine, if measured before."""
    try:
        data = json.loads(_choices_file().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    entry = data.get(f"{adapter.version}:{adapter_digest(adapter)}:{machine_key()}")
    if not isinstance(entry, dict) or entry.get("variant") not in VARIANTS:
        return None
    measured = {s.get("variant") for s in entry.get("stats", []) if isinstance(s, dict)}
    if set(shipped_accuracy(adapter)) - measured:  # chosen before a variant shipped (a student): choose again
        return None
    return entry


def record_choice(adapter: Adapter, stats: Sequence[QuantizationStats]) -> str:
    """Pick a variant from `stats` and record it (with the measurements) for this adapter and machine."""
    variant = pick(stats)
    path = _choices_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        data = {}
    data[f"{adapter.version}:{adapter_digest(adapter)}:{machine_key()}"] = {
        "variant": variant, "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "stats": [s.to_dict() for s in stats]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("cannot record the variant choice in %s: %s", path, exc)
    return variant


def probe_examples(adapter: Adapter) -> list[Example]:
    """The small labelled validation sample shipped with an adapter (probe.jsonl), for measurements."""
    path = adapter.path / "probe.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Example(row["text"], row["label"], row.get("family", "probe"), row.get("view", "slice")))
    return out


def shipped_accuracy(adapter: Adapter) -> dict[str, float]:
    """Probe macro F1 of each variant, as recorded in the manifest when the adapter was built ({}: not recorded)."""
    data = adapter.manifest.get("variant_f1")
    if not isinstance(data, dict):
        return {}
    return {v: float(f) for v, f in data.items() if v in VARIANTS and isinstance(f, int | float)}


def record_accuracy(adapter: Adapter, stats: Sequence[QuantizationStats]) -> None:
    """Store each measured variant's probe F1 in the adapter's manifest (read back by shipped_accuracy)."""
    from ai_core.model.adapters import write_manifest

    measured = {s.variant: round(s.f1_after, 4) for s in stats if not s.errors}
    write_manifest(adapter, {**adapter.manifest, "variant_f1": {**shipped_accuracy(adapter), **measured}})


def not_worth_timing(variant: str) -> str:
    """Why `variant` is not even timed on this machine ("" when it is): measured here to be slower without the
    hardware it is made for (on a CPU, bitsandbytes dequantizes every matmul: NF4 2.2x fp32, 8-bit 1.4x fp32 and
    5.7 s to load; bf16 without native bf16: 3x)."""
    import torch

    if variant in ("int8", "nf4"):
        import importlib.util

        if importlib.util.find_spec("bitsandbytes") is None:
            return "bitsandbytes is not installed"
    if torch.cuda.is_available():
        return ""
    if variant == "nf4":
        return "NF4 needs a GPU to be fast"
    if variant == "int8":
        return "8-bit (bitsandbytes) needs a GPU to be fast"
    if variant == "bf16" and not _cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        return "this CPU has no native bf16"
    return ""


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return set(next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), []))
    except OSError:
        return set()


def timed_variants(adapter: Adapter, texts: Sequence[str], accuracy: dict[str, float]) -> list[QuantizationStats]:
    """Latency here of each variant whose shipped F1 is within F1_TOLERANCE of fp32 and that is worth timing;
    the others are listed with the reason (as errors, so `pick` passes them over)."""
    reference = accuracy.get("fp32", 0.0)
    stats: list[QuantizationStats] = []
    for variant in VARIANTS:
        f1 = accuracy.get(variant)
        reason = "" if variant == "fp32" else not_worth_timing(variant)
        if variant == STUDENT and student_folder(adapter) is None:
            reason = reason or "no student ships with this adapter"
        if f1 is None or not admissible(variant, f1, reference):
            reason = reason or ("its shipped F1 keeps less than 95% of fp32's" if variant == STUDENT
                                else "its shipped F1 is not within one point of fp32")
        if reason:
            stats.append(QuantizationStats(variant, 0, 0, 0.0, 0, reference, f1 or 0.0, 0.0, 0.0, 0.0,
                                           [f"not timed: {reason}"]))
            continue
        try:
            started = time.perf_counter()
            model = load_for_scoring(adapter, variant)
            load_s = time.perf_counter() - started
            logits(model, texts[:2], adapter.max_length, 2)  # warm-up: first calls allocate
            started = time.perf_counter()
            logits(model, texts, adapter.max_length, 32)
            per_candidate = (time.perf_counter() - started) * 1000 / max(1, len(texts))
            stats.append(QuantizationStats(variant, 0, 0, 0.0, 0, reference, f1 or 0.0, round(per_candidate, 2), 0.0,
                                           round(load_s, 2)))
            del model
        except Exception as exc:  # a variant that cannot run here is passed over
            log.warning("variant %s failed: %s", variant, exc)
            stats.append(QuantizationStats(variant, 0, 0, 0.0, 0, reference, 0.0, 0.0, 0.0, 0.0,
                                           [f"{type(exc).__name__}: {exc}"]))
    return stats


def choose_variant(adapter: Adapter) -> str:
    """`auto`: the recorded choice for this machine, else time the variants the manifest's F1 admits (measure
    F1 too when the manifest has none) on the probe set, and record."""
    entry = recorded_choice(adapter)
    if entry is not None:
        return str(entry["variant"])
    probe = probe_examples(adapter)
    if not probe:
        log.info("adapter %s has no probe set; using fp32", adapter.version)
        return "fp32"
    accuracy = shipped_accuracy(adapter)
    if accuracy.get("fp32") is not None:
        log.info("timing model variants for adapter %s on this machine (%d probe inputs)", adapter.version,
                 TIMING_PROBES)
        stats = timed_variants(adapter, [e.text for e in probe[:TIMING_PROBES]], accuracy)
    else:
        log.info("measuring model variants for adapter %s on this machine (%d probe examples)", adapter.version,
                 len(probe))
        stats = quantize(adapter, probe)
    variant = record_choice(adapter, stats)
    log.info("model variant chosen: %s (%s)", variant,
             ", ".join(f"{s.variant} F1 {s.f1_after:.3f} "
                       + (s.errors[0] if s.errors else f"{s.latency_ms_batch32:.1f} ms") for s in stats))
    return variant
