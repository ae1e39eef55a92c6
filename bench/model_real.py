"""The model on real code: build the generated + mutated + real dataset, train and calibrate an adapter,
and compare adapters per source (generated, mutated, real) on the test split and on bench/realworld.

  build    dataset (split by template family and by package) -> bench/.cache/model_real/dataset.json
  reviewed the engine's candidates on the reviewed real apps (ai_core/model/data/reviewed), labelled, split by
           project -> bench/.cache/model_real/reviewed.json (joined to the dataset's splits when present)
  finetune a new adapter from a parent on the reviewed train projects plus a replay of the dataset's train split
  train    a new adapter on it (nice it: `nice -n 10`), written to --out, calibrated on validation
  measure  per adapter and source: test binary F1, ROC AUC of model vs rule confidence, ECE
  realworld  F1 of rules alone vs rules + each adapter, AUC and ECE of confidence, on bench/realworld
  student  distil an adapter into a 3-layer student (or take --from a saved one), ship it in the adapter's
           student/ folder with its own calibration, record its probe F1 beside the weights variants', and
           print its test F1 / AUC next to the teacher's

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
from ai_core.model.metrics import expected_calibration_error, roc_auc  # noqa: E402
from ai_core.model.pipeline import probe_set, write_probe  # noqa: E402
from ai_core.model.training import TrainConfig, train  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "model_real"
DATASET = CACHE / "dataset.json"
REVIEWED = CACHE / "reviewed.json"
RULE_VIEWS = frozenset({"slice", "loop", "mutated", "mutated-engine", "real-engine", "reviewed"})
"""Inputs rendered like rule candidates (function-level inputs are off by default)."""
CONFIG = DataConfig(per_family=8, loop_per_family=6, negatives=500, test_share=0.15, mutated=True, evidence=True)
EVIDENCE = "# evidence:"


def binary_f1(predicted: Sequence[bool], outcomes: Sequence[bool]) -> float:
    """F1 of the vulnerable side."""
    tp = sum(p and y for p, y in zip(predicted, outcomes, strict=True))
    fp = sum(p and not y for p, y in zip(predicted, outcomes, strict=True))
    fn = sum(y and not p for p, y in zip(predicted, outcomes, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def load_dataset() -> Dataset:
    """The cached dataset (`build` writes it), with the reviewed candidates (`reviewed` writes them) in their splits."""
    data = json.loads(DATASET.read_text(encoding="utf-8"))
    parts = {name: [Example(**row) for row in data[name]] for name in ("train", "val", "test")}
    if REVIEWED.is_file():
        for name, rows in json.loads(REVIEWED.read_text(encoding="utf-8"))["splits"].items():
            parts[name] += [Example(**row) for row in rows]
    return Dataset(parts["train"], parts["val"], data["manifest"], parts["test"])


def cmd_reviewed(_: argparse.Namespace) -> None:
    """Export each reviewed project's pinned commit, run the rules, keep the candidates we labelled."""
    import dataclasses

    from ai_core.config import Settings
    from ai_core.model.data import reviewed
    from ai_core.scan import _model_job, scan_path
    from bench.realworld.fetch import extract, git_archive, mirror_of

    settings = dataclasses.replace(Settings(), model_enabled=False)
    splits: dict[str, list[dict[str, Any]]] = {"train": [], "val": [], "test": []}
    counts: dict[str, Any] = {}
    for project in reviewed.load_projects():
        folder = ROOT / "bench" / ".cache" / "reviewed" / project.name
        stamp = folder / ".pinned"
        if not stamp.is_file() or stamp.read_text().strip() != project.commit:
            tar_bytes = git_archive(mirror_of(project.repo), project.commit, project.subdirs)
            if tar_bytes is None:
                print(f"{project.name}: mirror of {project.repo} not available (fetch it), skipped")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            extract(tar_bytes, folder)
            stamp.write_text(project.commit + "\n")
        result = scan_path(folder, settings, workers=1)
        candidates = []
        for scanned in result.files:
            if scanned.findings and scanned.path.endswith(".py"):
                prepared = _model_job(scanned, folder, settings)
                if prepared is not None:
                    candidates += prepared[0].rules
        examples = reviewed.examples_of(project, candidates)
        splits[project.split] += [asdict(e) for e in examples]
        vulnerable = sum(e.label != SAFE_LABEL for e in examples)
        counts[project.name] = {"split": project.split, "labels": len(project.labels), "examples": len(examples),
                                "vulnerable": vulnerable}
        print(f"{project.name:18s} {project.split:5s} labels {len(project.labels):3d}  matched candidates "
              f"{len(examples):3d} ({vulnerable} vulnerable)")
    CACHE.mkdir(parents=True, exist_ok=True)
    REVIEWED.write_text(json.dumps({"splits": splits, "projects": counts}), encoding="utf-8")


def cmd_finetune(args: argparse.Namespace) -> None:
    """A child of --parent trained on the reviewed train projects and a replay sample of the dataset's train split
    (so the parent's knowledge stays), best epoch by validation; then calibrated like `train`."""
    import random

    from ai_core.model.classifier import load_lora_model

    dataset = load_dataset()
    parent = read_adapter(args.parent)
    reviewed = [e for e in dataset.train if source_of(e) == "reviewed"]
    others = [e for e in dataset.train if source_of(e) != "reviewed"]
    replay = random.Random(13).sample(others, min(len(others), args.replay))
    train_set = [*reviewed * args.repeat, *replay]
    config = TrainConfig(epochs=args.epochs, max_length=parent.max_length, lr=args.lr, bf16=False,
                         init_from=parent.path)
    val = [e for e in dataset.val if e.view in RULE_VIEWS]
    result = train(train_set, val, config, progress=False)
    manifest = make_manifest(args.version, parent.lora, data_hash=dataset.data_hash, metrics=result.metrics,
                             max_length=parent.max_length,
                             extra={"history": result.history, "train_seconds": result.seconds, "steps": result.steps,
                                    "train_examples": len(train_set), "reviewed_train": len(reviewed),
                                    "replay": len(replay), "repeat": args.repeat, "val_examples": len(val),
                                    "train_config": config.to_dict(), "input": "evidence",
                                    "parent": parent.version})
    write_adapter(args.out, result.state, manifest)
    adapter = read_adapter(args.out)
    write_probe(adapter, probe_set(dataset.val))
    print(f"fine-tuned {args.version} from {parent.version} in {result.seconds:.0f} s, {result.steps} steps; "
          f"val {result.metrics}")
    calibrate_on(adapter, load_lora_model(adapter.path, adapter.lora, adapter.labels), dataset)


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
            for source in ("generated", "mutated", "real", "reviewed", "all"):
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
    """Rules alone vs each adapter on bench/realworld, in-process (bench/realworld/model.py): F1, AUC, ECE."""
    from ai_core.config import Settings
    from ai_core.model.predictor import ModelScorer
    from ai_core.model.quantize import load_for_scoring
    from bench.realworld import model as rw

    started = time.perf_counter()
    projects = rw.collect(args.projects)
    print(f"rule findings of {len(projects)} projects in {time.perf_counter() - started:.0f} s")
    out: dict[str, Any] = {}
    rules = rw.Tally()
    for project in projects:
        rules.add(project.labels, rw.rules_only(project))
    out["rules"] = rules.row()
    for folder in args.adapters:
        adapter = read_adapter(folder)
        scorer = ModelScorer(load_for_scoring(adapter, args.variant), adapter, args.variant)
        for threshold in args.thresholds:
            settings = Settings(model_threshold=threshold)
            tally, per_project = rw.Tally(), {}
            for project in projects:
                found = rw.with_model(project, scorer, settings)
                tally.add(project.labels, found)
                one = rw.Tally()
                one.add(project.labels, found)
                per_project[project.name] = one.row()
            out[f"{adapter.version}@{threshold:g}"] = {**tally.row(), "projects": per_project}
    for key, row in out.items():
        print(f"{key:16s} " + "  ".join(f"{k} {v}" for k, v in row.items() if k != "projects"))
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "realworld.json").write_text(json.dumps(out, indent=1) + "\n")


def cmd_student(args: argparse.Namespace) -> None:
    """Distil (or load) a student of --adapter, calibrate it on validation, ship it, and compare it with the teacher."""
    from ai_core.model.adapters import write_manifest
    from ai_core.model.metrics import macro_f1
    from ai_core.model.quantize import load_for_scoring, probe_examples, shipped_accuracy
    from ai_core.model.student import STUDENT, write_student

    dataset = load_dataset()
    adapter = read_adapter(args.adapter)
    val = [e for e in dataset.val if e.view in RULE_VIEWS]
    test = [e for e in dataset.test if e.view in RULE_VIEWS]
    if args.source:
        from transformers import AutoModelForSequenceClassification

        student = AutoModelForSequenceClassification.from_pretrained(str(args.source)).eval()
        distilled = json.loads((args.source / "distillation.json").read_text(encoding="utf-8"))
    else:
        from ai_core.model.distill import distill, save_student

        student, metrics = distill(adapter, dataset.train, val, layers=args.layers, temperatures=(args.temperature,),
                                   epochs=args.epochs, lr=args.lr)
        save_student(student, metrics, CACHE / "student")
        distilled = metrics.to_dict()
    folder = adapter.path / "student"
    write_student(folder, student.state_dict(), student.config.to_dict(),
                  {"teacher": adapter.version, "distillation": distilled, "max_length": adapter.max_length})
    shipped = load_for_scoring(adapter, STUDENT)
    teacher = load_for_scoring(adapter, "fp32")
    fitted = fit_best(p_vulnerable(adapter, shipped, val), [e.label != SAFE_LABEL for e in val],
                      p_vulnerable(adapter, shipped, test),
                      [e.label != SAFE_LABEL for e in test],
                      "validation rule candidates; ECE on the test split's rule candidates")
    probe = probe_examples(adapter)
    from ai_core.model.classifier import predict_labels

    gold = [e.label for e in probe]
    probe_f1 = {name: round(macro_f1(gold, predict_labels(model, [e.text for e in probe], adapter.max_length,
                                                         adapter.labels), adapter.labels), 4)
                for name, model in (("fp32", teacher), (STUDENT, shipped))}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.update({"calibration": {**asdict(fitted), "points": [list(p) for p in fitted.points]},
                     "probe_f1": probe_f1})
    rows: dict[str, Any] = {}
    for name, model in (("teacher", teacher), ("student", shipped)):
        probs = p_vulnerable(adapter, model, test)
        for source in ("generated", "mutated", "real", "reviewed", "all"):
            idx = [i for i, e in enumerate(test) if source == "all" or source_of(e) == source]
            if idx:
                truth = [test[i].label != SAFE_LABEL for i in idx]
                f1 = binary_f1([probs[i] >= 0.5 for i in idx], truth)
                rows[f"{name}/{source}"] = {"n": len(idx), "f1": round(f1, 3),
                                            "auc": round(roc_auc([probs[i] for i in idx], truth), 3)}
    manifest["test"] = rows
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    write_manifest(adapter, {**adapter.manifest, "variant_f1": {**shipped_accuracy(adapter),
                                                                 STUDENT: probe_f1[STUDENT]}})
    print(f"student of {adapter.version}: probe macro F1 {probe_f1}; calibration {fitted.method} "
          f"ECE {fitted.ece_before:.3f} -> {fitted.ece_after:.3f}")
    for key, row in rows.items():
        print(f"  {key:18s} " + "  ".join(f"{k} {v}" for k, v in row.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build")
    sub.add_parser("reviewed")
    tune = sub.add_parser("finetune")
    tune.add_argument("--parent", type=Path, default=ROOT / "ai_core" / "model" / "adapters" / "1.2.0")
    tune.add_argument("--version", default="1.3.0")
    tune.add_argument("--out", type=Path, default=CACHE / "adapters" / "1.3.0")
    tune.add_argument("--epochs", type=int, default=3)
    tune.add_argument("--lr", type=float, default=5e-4)
    tune.add_argument("--replay", type=int, default=900, help="examples of the dataset's train split replayed")
    tune.add_argument("--repeat", type=int, default=2, help="times each reviewed train example is seen per epoch")
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
    real.add_argument("adapters", type=Path, nargs="+")
    real.add_argument("--thresholds", type=float, nargs="+", default=[1.0],
                      help="model_threshold values (P(safe) at or above which a finding is dropped; 1: none)")
    real.add_argument("--variant", default="fp32", help="weights variant the adapters run in")
    real.add_argument("--projects", nargs="*", default=[])
    pupil = sub.add_parser("student")
    pupil.add_argument("--adapter", type=Path, default=ROOT / "ai_core" / "model" / "adapters" / "1.2.0")
    pupil.add_argument("--source", type=Path, help="a student saved by `coderev model distill --output` (else distil)")
    pupil.add_argument("--layers", type=int, default=3)
    pupil.add_argument("--temperature", type=float, default=2.0)
    pupil.add_argument("--epochs", type=int, default=6)
    pupil.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    {"build": cmd_build, "student": cmd_student, "reviewed": cmd_reviewed, "finetune": cmd_finetune, "train": cmd_train,
     "calibrate": cmd_calibrate, "measure": cmd_measure,
     "realworld": cmd_realworld}[args.command](args)


if __name__ == "__main__":
    main()
