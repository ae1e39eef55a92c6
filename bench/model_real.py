"""The model on real code: build the generated + mutated + real dataset, train and calibrate an adapter,
and compare adapters per source (generated, mutated, real) on the test split and on bench/realworld.

  build    dataset (split by template family and by package) -> bench/.cache/model_real/dataset.json
  train    a new adapter on it (nice it: `nice -n 10`), written to --out, calibrated on validation
  measure  per adapter and source: test binary F1, ROC AUC of model vs rule confidence, ECE
  realworld  F1 of rules alone vs rules + model and AUC from bench/realworld's kept reports

Run: `.venv/bin/python bench/model_real.py build|train|measure|realworld [...]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ai_core.findings import SAFE_LABEL  # noqa: E402
from ai_core.model.adapters import Adapter, make_manifest, read_adapter, write_adapter  # noqa: E402
from ai_core.model.calibration import fit_best, record, vulnerable_probability  # noqa: E402
from ai_core.model.data.dataset import DataConfig, Dataset, build, source_of  # noqa: E402
from ai_core.model.data.generator import Example  # noqa: E402
from ai_core.model.metrics import expected_calibration_error  # noqa: E402
from ai_core.model.pipeline import probe_set, write_probe  # noqa: E402
from ai_core.model.training import TrainConfig, train  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "model_real"
DATASET = CACHE / "dataset.json"
RULE_VIEWS = frozenset({"slice", "loop", "mutated", "mutated-engine", "real-engine"})
"""Inputs rendered like rule candidates (function-level inputs are off by default)."""
CONFIG = DataConfig(per_family=8, loop_per_family=6, negatives=500, test_share=0.15, mutated=True, evidence=True)
EVIDENCE = "# evidence:"


def roc_auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Probability that a random positive scores above a random negative (ties count half); nan without both."""
    pos = [s for s, y in zip(scores, outcomes, strict=True) if y]
    neg = [s for s, y in zip(scores, outcomes, strict=True) if not y]
    if not pos or not neg:
        return float("nan")
    ranked = sorted((s, y) for s, y in zip(scores, outcomes, strict=True))
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # average 1-based rank of the tie block
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def binary_f1(predicted: Sequence[bool], outcomes: Sequence[bool]) -> float:
    """F1 of the vulnerable side."""
    tp = sum(p and y for p, y in zip(predicted, outcomes, strict=True))
    fp = sum(p and not y for p, y in zip(predicted, outcomes, strict=True))
    fn = sum(y and not p for p, y in zip(predicted, outcomes, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def load_dataset() -> Dataset:
    """The cached dataset (`build` writes it)."""
    data = json.loads(DATASET.read_text(encoding="utf-8"))
    parts = {name: [Example(**row) for row in data[name]] for name in ("train", "val", "test")}
    return Dataset(parts["train"], parts["val"], data["manifest"], parts["test"])


def for_adapter(adapter: Adapter, text: str) -> str:
    """The input as `adapter` was trained to read it (no evidence line for adapters without it)."""
    if not adapter.evidence and text.startswith(EVIDENCE):
        return text.split("\n", 1)[1]
    return text


def p_vulnerable(adapter: Adapter, model: Any, examples: Sequence[Example]) -> list[float]:
    """Raw P(vulnerable) of each example under `adapter`."""
    from ai_core.model.classifier import logits

    raw = logits(model, [for_adapter(adapter, e.text) for e in examples], adapter.max_length, 32)
    return vulnerable_probability(raw, adapter.labels)


def cmd_build(_: argparse.Namespace) -> None:
    started = time.perf_counter()
    dataset = build(CONFIG)
    CACHE.mkdir(parents=True, exist_ok=True)
    DATASET.write_text(json.dumps({"train": [asdict(e) for e in dataset.train],
                                   "val": [asdict(e) for e in dataset.val],
                                   "test": [asdict(e) for e in dataset.test],
                                   "manifest": dataset.manifest}), encoding="utf-8")
    manifest = {**dataset.manifest, "build_seconds": round(time.perf_counter() - started)}
    (CACHE / "dataset_manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"train {len(dataset.train)}  val {len(dataset.val)}  test {len(dataset.test)}  "
          f"({manifest['build_seconds']} s)")
    print(json.dumps(manifest["sources"], indent=1))


def cmd_train(args: argparse.Namespace) -> None:
    from ai_core.model.classifier import load_lora_model

    dataset = load_dataset()
    config = TrainConfig(epochs=args.epochs, max_length=args.max_length, max_steps=args.max_steps)
    result = train(dataset.train, dataset.val, config, progress=False)
    manifest = make_manifest(args.version, config.lora, data_hash=dataset.data_hash, metrics=result.metrics,
                             max_length=config.max_length,
                             extra={"history": result.history, "train_seconds": result.seconds,
                                    "steps": result.steps, "train_examples": len(dataset.train),
                                    "val_examples": len(dataset.val), "test_examples": len(dataset.test),
                                    "train_config": config.to_dict(), "data_config": asdict(CONFIG),
                                    "data_sources": dataset.manifest.get("sources", {}),
                                    "data_mutated": dataset.manifest.get("mutated", {}),
                                    "input": "evidence", "parent": None})
    write_adapter(args.out, result.state, manifest)
    adapter = read_adapter(args.out)
    write_probe(adapter, probe_set(dataset.val))
    print(f"trained {args.version} in {result.seconds:.0f} s, {result.steps} steps; val {result.metrics}")
    model = load_lora_model(adapter.path, adapter.lora, adapter.labels)
    calibrate_on(adapter, model, dataset)


def calibrate_on(adapter: Adapter, model: Any, dataset: Dataset) -> None:
    """Fit on the validation rule candidates, ECE on the test ones; record the better of Platt and isotonic."""
    val = [e for e in dataset.val if e.view in RULE_VIEWS]
    test = [e for e in dataset.test if e.view in RULE_VIEWS]
    fitted = fit_best(p_vulnerable(adapter, model, val), [e.label != SAFE_LABEL for e in val],
                      p_vulnerable(adapter, model, test), [e.label != SAFE_LABEL for e in test],
                      "validation rule candidates (templates by family, installed code by package); "
                      "ECE on the test split's rule candidates")
    record(adapter, fitted)
    print(f"calibration: {fitted.method}; ECE on test {fitted.ece_before:.3f} -> {fitted.ece_after:.3f} "
          f"(fit {fitted.fit_examples}, test {fitted.test_examples})")


def cmd_calibrate(args: argparse.Namespace) -> None:
    from ai_core.model.classifier import load_lora_model

    adapter = read_adapter(args.adapter)
    calibrate_on(adapter, load_lora_model(adapter.path, adapter.lora, adapter.labels), load_dataset())


def cmd_measure(args: argparse.Namespace) -> None:
    from ai_core.model.calibration import of_manifest
    from ai_core.model.classifier import load_lora_model

    dataset = load_dataset()
    test = [e for e in dataset.test if e.view in RULE_VIEWS]
    val = [e for e in dataset.val if e.view in RULE_VIEWS]
    out: dict[str, Any] = {}
    for folder in args.adapters:
        adapter = read_adapter(folder)
        model = load_lora_model(adapter.path, adapter.lora, adapter.labels)
        calibration = of_manifest(adapter.manifest)
        rows: dict[str, Any] = {}
        for split, examples in (("val", val), ("test", test)):
            raw = p_vulnerable(adapter, model, examples)
            for source in ("generated", "mutated", "real", "all"):
                idx = [i for i, e in enumerate(examples) if source == "all" or source_of(examples[i]) == source]
                if not idx:
                    continue
                truth = [examples[i].label != SAFE_LABEL for i in idx]
                probs = [calibration.vulnerable(raw[i]) for i in idx]
                ruled = [i for i in idx if examples[i].rule_confidence >= 0]
                rule_truth = [examples[i].label != SAFE_LABEL for i in ruled]
                rows[f"{split}/{source}"] = {
                    "n": len(idx), "vulnerable": sum(truth),
                    "f1": round(binary_f1([raw[i] >= 0.5 for i in idx], truth), 3),
                    "accuracy": round(sum((raw[i] >= 0.5) == t for i, t in zip(idx, truth, strict=True))
                                      / len(idx), 3),
                    "auc_model": round(roc_auc([raw[i] for i in idx], truth), 3),
                    "engine_n": len(ruled),
                    "auc_model_engine": round(roc_auc([raw[i] for i in ruled], rule_truth), 3),
                    "auc_rules_engine": round(roc_auc([examples[i].rule_confidence for i in ruled], rule_truth), 3),
                    "ece": expected_calibration_error(probs, truth, 10),
                }
        out[adapter.version] = rows
        print(f"== adapter {adapter.version} ({len(adapter.labels)} labels)")
        for key, row in rows.items():
            print(f"  {key:16s} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    (CACHE / "measure.json").write_text(json.dumps(out, indent=1) + "\n")


def cmd_realworld(args: argparse.Namespace) -> None:
    """F1 and AUC from kept bench/realworld reports: rules alone (coderev-no-model) vs rules + model."""
    for tool in args.tools:
        for floor in args.drop_below:
            tp, fp, fn, scores, truth = _realworld_tally(tool, floor)
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            print(f"{tool:24s} {'' if not floor else f'drop < {floor:.2f}':12s} TP {tp} FP {fp} FN {fn}  F1 {f1:.3f}  "
                  f"AUC(confidence, {len(truth)} labelled findings) {roc_auc(scores, truth):.3f}")


def _realworld_tally(tool: str, floor: float) -> tuple[int, int, int, list[float], list[bool]]:
    """TP/FP/FN of one kept tool run with findings below confidence `floor` dropped; matched confidences."""
    from bench.realworld.fetch import CACHE as RW_CACHE
    from bench.realworld.fetch import load_projects
    from bench.realworld.peers import parse_coderev
    from bench.realworld.scoring import load_labels, match

    scores: list[float] = []
    truth: list[bool] = []
    tp = fp = fn = 0
    for project in load_projects():
        kept = RW_CACHE / "reports" / tool / f"{project.name}.json"
        if not kept.is_file():
            continue
        rows = [row for row in json.loads(kept.read_text()) if float(row.get("confidence", 0)) >= floor]
        findings = parse_coderev(rows, project.folder).findings
        labels = load_labels(project.name)
        for row, finding in zip(rows, findings, strict=True):
            hits = [label for label in labels if match(finding, label)]
            if hits:
                scores.append(float(row.get("confidence", 0.0)))
                truth.append(any(h.vulnerable for h in hits))
        found = {(label.path, label.line, label.vuln_class) for label in labels
                 for finding in findings if match(finding, label)}
        for label in labels:
            key = (label.path, label.line, label.vuln_class)
            if label.vulnerable:
                tp, fn = (tp + 1, fn) if key in found else (tp, fn + 1)
            elif key in found:
                fp += 1
    return tp, fp, fn, scores, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build")
    trainer = sub.add_parser("train")
    trainer.add_argument("--version", default="1.2.0")
    trainer.add_argument("--out", type=Path, default=CACHE / "adapters" / "1.2.0")
    trainer.add_argument("--epochs", type=int, default=3)
    trainer.add_argument("--max-length", type=int, default=256)
    trainer.add_argument("--max-steps", type=int, default=0)
    calib = sub.add_parser("calibrate")
    calib.add_argument("adapter", type=Path)
    measure = sub.add_parser("measure")
    measure.add_argument("adapters", type=Path, nargs="+")
    real = sub.add_parser("realworld")
    real.add_argument("--tools", nargs="+", default=["coderev-no-model", "coderev"])
    real.add_argument("--drop-below", type=float, nargs="+", default=[0.0],
                      help="also score with findings below these confidences dropped (0: none dropped)")
    args = parser.parse_args()
    {"build": cmd_build, "train": cmd_train, "calibrate": cmd_calibrate, "measure": cmd_measure,
     "realworld": cmd_realworld}[args.command](args)


if __name__ == "__main__":
    main()
