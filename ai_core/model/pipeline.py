"""One-call workflows behind the CLI: train a new adapter version, fold feedback into one, export a probe set."""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ai_core.model.adapters import Adapter, AdapterRegistry, make_manifest, read_adapter, write_adapter, write_file
from ai_core.model.data.dataset import DataConfig, Dataset, build, hash_examples
from ai_core.model.data.generator import Example
from ai_core.model.feedback import load_feedback
from ai_core.model.minilm import LABELS
from ai_core.model.training import TrainConfig, TrainResult, evaluate, train

log = logging.getLogger(__name__)

PROBE_PER_LABEL = 10
FEEDBACK_REPEAT = 4
"""Each feedback example is repeated this often in the training set (it is rare and precious)."""


@dataclass
class TrainOutcome:
    """A trained adapter version and whether it became active (with the reason when not)."""

    adapter: Adapter
    result: TrainResult
    activated: bool
    reason: str
    baseline_f1: float | None = None


def probe_set(examples: Sequence[Example], seed: int = 0, per_label: int = PROBE_PER_LABEL) -> list[Example]:
    """A small stratified sample of validation examples (shipped with an adapter for variant measurements)."""
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_label[example.label].append(example)
    rng = random.Random(seed)
    out: list[Example] = []
    for label in LABELS:
        pool = by_label.get(label, [])
        out += rng.sample(pool, min(per_label * (3 if label == "safe" else 1), len(pool)))
    return out


def write_probe(adapter: Adapter, examples: Sequence[Example]) -> None:
    """Write probe.jsonl into an adapter's folder (through safe_write)."""
    lines = (json.dumps({"text": e.text, "label": e.label, "family": e.family, "view": e.view}) + "\n"
             for e in examples)
    write_file(adapter.path, "probe.jsonl", "".join(lines).encode("utf-8"), adapter.within)


def _save(result: TrainResult, dataset: Dataset, config: TrainConfig, version: str, folder: Path | None,
          registry: AdapterRegistry, extra: dict[str, Any]) -> Adapter:
    manifest = make_manifest(version, config.lora, data_hash=dataset.data_hash, metrics=result.metrics,
                             max_length=config.max_length,
                             extra={"history": result.history, "train_seconds": result.seconds,
                                    "steps": result.steps, "train_examples": len(dataset.train),
                                    "val_examples": len(dataset.val),
                                    "train_config": config.to_dict(),
                                    **extra})
    if folder is not None:
        write_adapter(folder, result.state, manifest)
        adapter = read_adapter(folder)
    else:
        adapter = registry.add(result.state, manifest)
    write_probe(adapter, probe_set(dataset.val))
    return adapter


def train_new_adapter(registry: AdapterRegistry, data: DataConfig | None = None, config: TrainConfig | None = None,
                      version: str = "", output: Path | None = None, activate: bool = True,
                      progress: bool = True) -> TrainOutcome:
    """Train from scratch on the generated dataset; store it (registry or `output`) and activate it."""
    config = config or TrainConfig()
    dataset = build(data)
    log.info("dataset: %d train, %d validation examples (hash %s)", len(dataset.train), len(dataset.val),
             dataset.data_hash[:12])
    result = train(dataset.train, dataset.val, config, progress)
    data = data or DataConfig()
    adapter = _save(result, dataset, config, version or registry.next_version(), output, registry,
                    {"data_config": asdict(data), "parent": None,
                     "data_sources": dataset.manifest.get("sources", {}),
                     **({"input": "evidence"} if data.evidence else {})})
    activated = False
    if activate and output is None:
        registry.activate(adapter.version)
        activated = True
    return TrainOutcome(adapter, result, activated, "trained from scratch")


def train_with_feedback(registry: AdapterRegistry, workspace: Path, data: DataConfig | None = None,
                        config: TrainConfig | None = None, version: str = "", progress: bool = True) -> TrainOutcome:
    """Fold `.coderev/feedback.jsonl` into a new version trained from the active one; activate it only if it wins."""
    feedback = load_feedback(workspace)
    if not feedback:
        raise ValueError(f"no feedback recorded in {workspace / '.coderev' / 'feedback.jsonl'}")
    current = registry.resolve()
    config = replace(config or TrainConfig(epochs=1, lr=5e-4), init_from=current.path, lora=current.lora,
                     max_length=current.max_length)
    dataset = build(data)
    extra = [Example(item.text, item.label, "feedback", "slice") for item in feedback]
    train_set = list(dataset.train) + extra * FEEDBACK_REPEAT
    dataset = Dataset(train_set, dataset.val, {**dataset.manifest,
                                               "data_hash": hash_examples([(e, "train") for e in train_set]
                                                                          + [(e, "val") for e in dataset.val])})
    from ai_core.model.classifier import load_lora_model

    baseline = evaluate(load_lora_model(current.path, current.lora, current.labels), dataset.val, current.max_length,
                        current.labels)
    result = train(dataset.train, dataset.val, config, progress)
    new_f1, old_f1 = result.metrics.get("macro_f1", 0.0), baseline["macro_f1"]
    wins = new_f1 > old_f1
    reason = (f"validation macro F1 {new_f1:.4f} > {old_f1:.4f} of {current.version}" if wins else
              f"kept inactive: validation macro F1 {new_f1:.4f} does not beat {old_f1:.4f} of {current.version}")
    adapter = _save(result, dataset, config, version or registry.next_version(), None, registry,
                    {"data_config": asdict(data or DataConfig()), "parent": current.version,
                     "feedback_examples": len(feedback),
                     "status": "active" if wins else "inactive", "reason": reason})
    if wins:
        registry.activate(adapter.version)
    log.info("%s", reason)
    return TrainOutcome(adapter, result, wins, reason, old_f1)
