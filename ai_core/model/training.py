"""Training the LoRA classifier: fixed seed, progress bar, early stopping on validation macro F1."""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ai_core.model.classifier import (
    DEFAULT_MAX_LENGTH,
    LoraSettings,
    adapter_state,
    build_lora_model,
    load_adapter_weights,
    logits,
)
from ai_core.model.data.generator import Example
from ai_core.model.metrics import report
from ai_core.model.minilm import LABEL2ID, LABELS, load_tokenizer, offline, set_threads

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (defaults: the shipped adapter's)."""

    epochs: int = 4
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    max_length: int = DEFAULT_MAX_LENGTH
    patience: int = 2
    """Stop after this many epochs without a better validation macro F1."""
    seed: int = 13
    bf16: bool = True
    """bf16 autocast for the forward pass (faster on CPUs with AVX512-BF16/AMX)."""
    threads: int = 0
    """torch threads (0: CODEREV_THREADS or up to 4 cores)."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    class_weighting: bool = True
    """Weight the loss by inverse square-root label frequency."""
    max_steps: int = 0
    """Stop after this many optimiser steps in total (0: no limit; tests use a few)."""
    eval_every: int = 0
    """Also evaluate every N steps (0: once per epoch)."""
    init_from: Path | None = None
    """Start from an existing adapter folder instead of a fresh adapter (used by `train --feedback`)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests: every field, LoRA settings under `lora`, the init folder as a string."""
        data = asdict(self)
        data["lora"] = self.lora.to_dict()
        data["init_from"] = str(self.init_from) if self.init_from is not None else None
        return data


@dataclass
class TrainResult:
    """The best adapter state found and how it was reached."""

    state: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    seconds: float
    steps: int


def _batches(lengths: Sequence[int], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar length (less padding), in random order; lengths are jittered so batches vary."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i] + rng.uniform(0, 24))
    batches = [order[i: i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def evaluate(model: Any, examples: Sequence[Example], max_length: int,
             labels: tuple[str, ...] = LABELS) -> dict[str, Any]:
    """Validation report (macro F1, accuracy, binary F1, per class) of `model` (a head for `labels`) on `examples`."""
    if not examples:
        return {"macro_f1": 0.0, "accuracy": 0.0, "binary_f1": 0.0, "per_class": {}, "examples": 0}
    was_training = model.training
    model.eval()
    predicted = [labels[i] for i in logits(model, [e.text for e in examples], max_length, 64).argmax(-1).tolist()]
    if was_training:
        model.train()
    return report([e.label for e in examples], predicted, LABELS)


def _fitting_weights(model: Any, state: dict[str, Any]) -> dict[str, Any]:
    """`state` with the tensors that do not fit `model` taken fresh (a parent with fewer labels keeps its LoRA only)."""
    from peft import get_peft_model_state_dict

    fresh = get_peft_model_state_dict(model)
    refit = sorted(key for key, value in state.items() if key in fresh and fresh[key].shape != value.shape)
    if refit:
        log.info("parent adapter: %d tensor(s) of another label set start fresh (%s)", len(refit), ", ".join(refit))
    return {**state, **{key: fresh[key] for key in refit}}


def train(train_set: Sequence[Example], val_set: Sequence[Example], config: TrainConfig | None = None,
          progress: bool = True) -> TrainResult:
    """Train an adapter on `train_set`, keep the state with the best validation macro F1."""
    import torch
    from peft import set_peft_model_state_dict
    from tqdm import tqdm

    config = config or TrainConfig()
    offline()
    set_threads(config.threads or None)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    started = time.perf_counter()
    model = build_lora_model(config.lora)
    if config.init_from is not None:
        set_peft_model_state_dict(model, _fitting_weights(model, load_adapter_weights(config.init_from)))
    tokenizer = load_tokenizer()
    encoded = tokenizer([e.text for e in train_set], truncation=True, max_length=config.max_length)
    labels = torch.tensor([LABEL2ID[e.label] for e in train_set])
    lengths = [len(ids) for ids in encoded["input_ids"]]
    weight = None
    if config.class_weighting:
        counts = Counter(e.label for e in train_set)
        weight = torch.tensor([1.0 / math.sqrt(counts.get(label, 1)) for label in LABELS])
        weight = weight / weight.mean()
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total = steps_per_epoch * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    warmup = max(1, int(total * config.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup)))
    best: dict[str, Any] = {"macro_f1": -1.0}
    best_state = adapter_state(model)
    history: list[dict[str, Any]] = []
    stale = 0
    step = 0
    bar = tqdm(total=total, desc="training", unit="step", disable=not progress, leave=False)

    def checkpoint(epoch: float) -> bool:
        nonlocal best, best_state, stale
        metrics = evaluate(model, val_set, config.max_length)
        history.append({"epoch": round(epoch, 2), "step": step, "macro_f1": metrics["macro_f1"],
                        "accuracy": metrics["accuracy"], "binary_f1": metrics["binary_f1"]})
        log.info("epoch %.2f step %d: val macro F1 %.4f, accuracy %.4f", epoch, step, metrics["macro_f1"],
                 metrics["accuracy"])
        bar.set_postfix(val_f1=metrics["macro_f1"])
        if metrics["macro_f1"] > best["macro_f1"]:
            best, best_state, stale = metrics, adapter_state(model), 0
            return True
        stale += 1
        return False

    model.train()
    done = False
    for epoch in range(config.epochs):
        for batch in _batches(lengths, config.batch_size, rng):
            features = tokenizer.pad({"input_ids": [encoded["input_ids"][i] for i in batch],
                                      "attention_mask": [encoded["attention_mask"][i] for i in batch]},
                                     pad_to_multiple_of=32, return_tensors="pt")
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                out = model(**features)
            loss = loss_fn(out.logits.float(), labels[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad()
            step += 1
            bar.update(1)
            bar.set_description(f"training (loss {loss.item():.3f})")
            if config.eval_every and step % config.eval_every == 0 and val_set:
                checkpoint(epoch + (step % steps_per_epoch) / steps_per_epoch)
            if step >= total:
                done = True
                break
        if val_set and not (config.eval_every and step % config.eval_every == 0):
            checkpoint(epoch + 1)
        if done or stale >= config.patience:
            break
    bar.close()
    if not val_set:
        best_state = adapter_state(model)
    return TrainResult(best_state, best, history, round(time.perf_counter() - started, 1), step)
