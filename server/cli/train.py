"""`coderev train [--feedback]`: train a new adapter version (from scratch, or folding in recorded feedback)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ai_core.model.data.dataset import DataConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `train`."""
    parser = sub.add_parser("train", help="train a new adapter version of the classifier")
    parser.add_argument("--feedback", action="store_true",
                        help="fold .coderev/feedback.jsonl into a new version, activated only if it beats the current")
    parser.add_argument("--workspace", type=Path, default=Path.cwd(), help="workspace folder (default: .)")
    parser.add_argument("--registry", help="adapter registry folder (default: [tool.coderev] adapter_registry)")
    parser.add_argument("--output", type=Path, help="write the adapter folder here instead of the registry")
    parser.add_argument("--version", default="", help="semantic version (default: next minor)")
    parser.add_argument("--no-activate", action="store_true", help="register the new version without activating it")
    parser.add_argument("--epochs", type=int, help="maximum epochs (early stopping on validation F1)")
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, help="learning rate (default: 1e-3 from scratch, 5e-4 with --feedback)")
    parser.add_argument("--max-length", type=int, default=256, help="tokens per example")
    parser.add_argument("--rank", type=int, default=8, help="LoRA rank")
    parser.add_argument("--alpha", type=int, default=16, help="LoRA alpha")
    parser.add_argument("--targets", default="query,key,value,dense", help="LoRA target modules (comma separated)")
    parser.add_argument("--per-family", type=int, default=DataConfig.per_family,
                        help="vulnerable and safe samples per template family")
    parser.add_argument("--loop-per-family", type=int, default=DataConfig.loop_per_family,
                        help="generated files per family and variant run through the rules (loop-faithful inputs)")
    parser.add_argument("--negatives", type=int, default=600, help="examples from installed code")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--all-families", action="store_true",
                        help="train on every template family (validation: a random 10%% of samples)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: cores, at most 4)")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (quick runs)")
    parser.add_argument("--no-bf16", action="store_true", help="train in fp32 (slower)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, print the new version's metrics as JSON; exit 0."""
    from ai_core.config import load_pyproject
    from ai_core.model.adapters import AdapterError, AdapterRegistry
    from ai_core.model.classifier import LoraSettings
    from ai_core.model.data.dataset import DataConfig
    from ai_core.model.pipeline import train_new_adapter, train_with_feedback
    from ai_core.model.training import TrainConfig
    from server.cli import UsageError

    if args.output is not None and args.feedback:
        raise UsageError("--output cannot be combined with --feedback (feedback versions go to the registry)")
    settings, _ = load_pyproject(args.workspace)
    registry = AdapterRegistry.for_workspace(args.workspace, args.registry or settings.adapter_registry)
    lora = LoraSettings(r=args.rank, alpha=args.alpha,
                        target_modules=tuple(t.strip() for t in args.targets.split(",") if t.strip()))
    lr = args.lr or (5e-4 if args.feedback else 1e-3)
    config = TrainConfig(epochs=args.epochs or (1 if args.feedback else 4), batch_size=args.batch_size, lr=lr,
                         max_length=args.max_length, patience=args.patience, seed=args.seed, threads=args.threads,
                         lora=lora, max_steps=args.max_steps, bf16=not args.no_bf16)
    data = DataConfig(seed=args.seed, per_family=args.per_family, negatives=args.negatives,
                      loop_per_family=args.loop_per_family,
                      val_share=0.0 if args.all_families else DataConfig.val_share)
    try:
        if args.feedback:
            outcome = train_with_feedback(registry, args.workspace, data, config, args.version)
        else:
            outcome = train_new_adapter(registry, data, config, args.version, args.output,
                                        activate=not args.no_activate)
    except (AdapterError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    metrics = outcome.result.metrics
    summary = {"version": outcome.adapter.version, "path": str(outcome.adapter.path), "active": outcome.activated,
               "reason": outcome.reason, "macro_f1": metrics.get("macro_f1"), "accuracy": metrics.get("accuracy"),
               "binary_f1": metrics.get("binary_f1"), "seconds": outcome.result.seconds,
               "steps": outcome.result.steps}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0
