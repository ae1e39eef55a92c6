"""Distillation: a shallower student (2–3 of MiniLM's 6 layers) learns the full LoRA model's judgements.

Loss = alpha * T² * KL(student/T || teacher/T) + (1 - alpha) * cross-entropy on the labels; the
temperature is searched (each candidate trains a fresh student briefly, the best validation accuracy
wins). Returns DistillationMetrics with sizes, accuracy retention and the speedup measured here.
"""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ai_core.model.adapters import Adapter
from ai_core.model.classifier import logits
from ai_core.model.data.generator import Example
from ai_core.model.metrics import accuracy, macro_f1
from ai_core.model.minilm import load_tokenizer, offline, set_threads
from ai_core.model.quantize import merged_model, size_bytes

log = logging.getLogger(__name__)


@dataclass
class DistillationMetrics:
    """What the student keeps and what it saves, measured on validation and on this CPU."""

    student_layers: int
    temperature: float
    teacher_params: int
    student_params: int
    compression_ratio: float
    """Teacher parameters / student parameters."""
    teacher_size_bytes: int
    student_size_bytes: int
    teacher_accuracy: float
    student_accuracy: float
    accuracy_retention: float
    """Student accuracy / teacher accuracy on validation."""
    teacher_f1: float
    student_f1: float
    teacher_ms: float
    student_ms: float
    """Milliseconds per candidate at batch 32."""
    speedup: float
    temperatures: dict[str, float] = field(default_factory=dict)
    """Validation accuracy reached at each temperature tried."""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def truncate(teacher: Any, layers: int) -> Any:
    """A copy of `teacher` keeping `layers` encoder layers spread evenly (first and last included)."""
    import torch

    total = len(teacher.bert.encoder.layer)
    if not 1 <= layers < total:
        raise ValueError(f"student layers must be between 1 and {total - 1}, got {layers}")
    keep = sorted({round(i * (total - 1) / max(1, layers - 1)) for i in range(layers)}) if layers > 1 else [0]
    student = copy.deepcopy(teacher)
    student.bert.encoder.layer = torch.nn.ModuleList([student.bert.encoder.layer[i] for i in keep])
    student.config.num_hidden_layers = len(keep)
    return student


def _params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _timed(model: Any, texts: Sequence[str], max_length: int, labels: tuple[str, ...]) -> tuple[list[str], float]:
    started = time.perf_counter()
    predicted = [labels[i] for i in logits(model, texts, max_length, 32).argmax(-1).tolist()]
    return predicted, (time.perf_counter() - started) * 1000 / max(1, len(texts))


def _train_student(teacher_logits: Any, student: Any, examples: Sequence[Example], temperature: float, alpha: float,
                   epochs: int, batch_size: int, lr: float, max_length: int, max_steps: int, seed: int,
                   label_ids: dict[str, int]) -> Any:
    import torch
    import torch.nn.functional as F

    tokenizer = load_tokenizer()
    encoded = tokenizer([e.text for e in examples], truncation=True, max_length=max_length)
    labels = torch.tensor([label_ids[e.label] for e in examples])
    for p in student.bert.embeddings.parameters():
        p.requires_grad_(False)
    params = [p for p in student.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr)
    rng = random.Random(seed)
    student.train()
    step = 0
    for _ in range(epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            batch = order[start: start + batch_size]
            features = tokenizer.pad({"input_ids": [encoded["input_ids"][i] for i in batch],
                                      "attention_mask": [encoded["attention_mask"][i] for i in batch]},
                                     pad_to_multiple_of=32, return_tensors="pt")
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = student(**features).logits.float()
            soft = F.kl_div(F.log_softmax(out / temperature, -1), F.softmax(teacher_logits[batch] / temperature, -1),
                            reduction="batchmean") * temperature ** 2
            loss = alpha * soft + (1 - alpha) * F.cross_entropy(out, labels[batch])
            loss.backward()
            optimiser.step()
            optimiser.zero_grad()
            step += 1
            if max_steps and step >= max_steps:
                student.eval()
                return student
    student.eval()
    return student


def distill(adapter: Adapter, train_set: Sequence[Example], val_set: Sequence[Example], layers: int = 3,
            temperatures: Sequence[float] = (1.0, 2.0, 4.0), alpha: float = 0.7, epochs: int = 1,
            batch_size: int = 16, lr: float = 3e-4, max_steps: int = 0,
            seed: int = 13) -> tuple[Any, DistillationMetrics]:
    """Distil the adapter's merged model into a `layers`-layer student; returns (student, metrics)."""
    import torch

    offline()
    set_threads()
    started = time.perf_counter()
    torch.manual_seed(seed)
    teacher = merged_model(adapter)
    max_length = adapter.max_length
    # a teacher with fewer labels (adapters up to 1.1.0) can only teach the examples its head has a label for
    labels = adapter.labels
    label_ids = {label: i for i, label in enumerate(labels)}
    train_set = [e for e in train_set if e.label in label_ids]
    val_set = [e for e in val_set if e.label in label_ids]
    teacher_logits = logits(teacher, [e.text for e in train_set], max_length, 32)
    gold = [e.label for e in val_set]
    val_texts = [e.text for e in val_set]
    teacher_pred, teacher_ms = _timed(teacher, val_texts, max_length, labels)
    tried: dict[str, float] = {}
    best: tuple[float, float, Any] | None = None
    for temperature in temperatures:
        torch.manual_seed(seed)
        student = _train_student(teacher_logits, truncate(teacher, layers), train_set, temperature, alpha, epochs,
                                 batch_size, lr, max_length, max_steps, seed, label_ids)
        predicted, _ = _timed(student, val_texts, max_length, labels)
        acc = accuracy(gold, predicted)
        tried[str(temperature)] = acc
        log.info("distillation T=%.1f: validation accuracy %.4f", temperature, acc)
        if best is None or acc > best[0]:
            best = (acc, temperature, student)
    assert best is not None
    _, temperature, student = best
    student_pred, student_ms = _timed(student, val_texts, max_length, labels)
    teacher_acc, student_acc = accuracy(gold, teacher_pred), accuracy(gold, student_pred)
    metrics = DistillationMetrics(
        student_layers=len(student.bert.encoder.layer), temperature=temperature,
        teacher_params=_params(teacher), student_params=_params(student),
        compression_ratio=round(_params(teacher) / _params(student), 3),
        teacher_size_bytes=size_bytes(teacher), student_size_bytes=size_bytes(student),
        teacher_accuracy=teacher_acc, student_accuracy=student_acc,
        accuracy_retention=round(student_acc / teacher_acc, 4) if teacher_acc else 0.0,
        teacher_f1=macro_f1(gold, teacher_pred, labels), student_f1=macro_f1(gold, student_pred, labels),
        teacher_ms=round(teacher_ms, 2), student_ms=round(student_ms, 2),
        speedup=round(teacher_ms / student_ms, 2) if student_ms else 0.0, temperatures=tried,
        seconds=round(time.perf_counter() - started, 1))
    return student, metrics


def save_student(student: Any, metrics: DistillationMetrics, folder: Path) -> Path:
    """Write the student (safetensors + config) and its metrics into `folder`."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    student.save_pretrained(str(folder), safe_serialization=True)
    (folder / "distillation.json").write_text(json.dumps(metrics.to_dict(), indent=1) + "\n", encoding="utf-8")
    return folder
