"""`coderev model quantize|distill`: measure weights variants, or distil a smaller student."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `model`."""
    parser = sub.add_parser("model", help="quantize or distil the classifier")
    parser.add_argument("--workspace", type=Path, default=Path.cwd(), help="workspace folder (default: .)")
    parser.add_argument("--registry", help="adapter registry folder (default: [tool.coderev] adapter_registry)")
    parser.add_argument("--adapter", default="", help="adapter version (default: the active one)")
    actions = parser.add_subparsers(dest="action", required=True)
    quantize = actions.add_parser("quantize", help="fp32 vs bf16, 8-bit and NF4: size, validation F1, latency")
    quantize.add_argument("--variants", default="fp32,bf16,int8,nf4")
    quantize.add_argument("--examples", type=int, default=0,
                          help="validation examples to measure on (default: the adapter's probe set)")
    quantize.add_argument("--record", action="store_true",
                          help="record the fastest variant within 1 F1 point for `modelVariant: auto`")
    distill = actions.add_parser("distill", help="train a 2-3 layer student from the full LoRA model")
    distill.add_argument("--layers", type=int, default=3)
    distill.add_argument("--temperatures", default="1,2,4")
    distill.add_argument("--alpha", type=float, default=0.7, help="weight of the KL term")
    distill.add_argument("--epochs", type=int, default=1)
    distill.add_argument("--train-examples", type=int, default=1200)
    distill.add_argument("--val-examples", type=int, default=400)
    distill.add_argument("--max-steps", type=int, default=0)
    distill.add_argument("--output", type=Path, help="save the student here (safetensors)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the measurements as JSON."""
    import random

    from ai_core.config import load_pyproject
    from ai_core.model.adapters import AdapterError, AdapterRegistry
    from ai_core.model.data.dataset import build
    from server.cli import UsageError

    settings, _ = load_pyproject(args.workspace)
    registry = AdapterRegistry.for_workspace(args.workspace, args.registry or settings.adapter_registry)
    try:
        adapter = registry.resolve(args.adapter or settings.adapter)
    except AdapterError as exc:
        raise UsageError(str(exc)) from exc
    if args.action == "quantize":
        from ai_core.model.quantize import VARIANTS, pick, probe_examples, quantize, record_choice

        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise UsageError(f"unknown variants {unknown} (choose from {', '.join(VARIANTS)})")
        if args.examples:
            val = build().val
            examples = random.Random(0).sample(val, min(args.examples, len(val)))
        else:
            examples = probe_examples(adapter) or build().val[:200]
        stats = quantize(adapter, examples, variants)
        chosen = record_choice(adapter, stats) if args.record else pick(stats)
        sys.stdout.write(json.dumps({"adapter": adapter.version, "examples": len(examples), "auto": chosen,
                                     "variants": [s.to_dict() for s in stats]}, indent=1) + "\n")
        return 0
    from ai_core.model.distill import distill, save_student

    temperatures = [float(t) for t in args.temperatures.split(",") if t.strip()]
    dataset = build()
    rng = random.Random(0)
    train = rng.sample(dataset.train, min(args.train_examples, len(dataset.train)))
    val = rng.sample(dataset.val, min(args.val_examples, len(dataset.val)))
    try:
        student, metrics = distill(adapter, train, val, layers=args.layers, temperatures=temperatures,
                                   alpha=args.alpha, epochs=args.epochs, max_steps=args.max_steps)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.output:
        save_student(student, metrics, args.output)
    sys.stdout.write(json.dumps(metrics.to_dict(), indent=1) + "\n")
    return 0
