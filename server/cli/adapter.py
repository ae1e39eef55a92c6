"""`coderev adapter list|create|activate|merge|rollback`: the adapter registry from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `adapter`."""
    parser = sub.add_parser("adapter", help="list, create, activate, merge or roll back adapter versions")
    parser.add_argument("--workspace", type=Path, default=Path.cwd(), help="workspace folder (default: .)")
    parser.add_argument("--registry", help="adapter registry folder (default: [tool.coderev] adapter_registry)")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every version with its validation metrics; the active one is marked")
    create = actions.add_parser("create", help="a new version copied from a folder or from the active adapter")
    create.add_argument("--from", dest="source", type=Path, help="adapter folder (default: the active adapter)")
    create.add_argument("--version", default="")
    create.add_argument("--activate", action="store_true")
    create.add_argument("--note", default="")
    activate = actions.add_parser("activate", help="make a version active")
    activate.add_argument("version")
    merge = actions.add_parser("merge", help="weighted merge of versions, or merge one into the base model")
    merge.add_argument("versions", nargs="+")
    merge.add_argument("--weights", help="comma-separated weights, one per version (default: equal)")
    merge.add_argument("--version", default="", help="version of the merged adapter")
    merge.add_argument("--activate", action="store_true")
    merge.add_argument("--into-base", type=Path, metavar="DIR",
                       help="merge_and_unload the (single) version into the base and save a full model in DIR")
    actions.add_parser("rollback", help="return to the previously active version")
    parser.set_defaults(func=run)


def _f1(metrics: dict[str, Any]) -> str:
    value = metrics.get("macro_f1")
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def run(args: argparse.Namespace) -> int:
    """Carry out the action; registry errors are usage errors (exit 2)."""
    from ai_core.config import load_pyproject
    from ai_core.model.adapters import AdapterError, AdapterRegistry
    from server.cli import UsageError

    settings, _ = load_pyproject(args.workspace)
    registry = AdapterRegistry.for_workspace(args.workspace, args.registry or settings.adapter_registry)
    try:
        if args.action == "list":
            active = registry.active()
            for adapter in registry.versions():
                metrics = adapter.metrics
                mark = "active" if active is not None and adapter.version == active.version else ""
                origin = "builtin" if adapter.builtin else "user"
                status = adapter.manifest.get("status", "")
                reason = adapter.manifest.get("reason", "") if status == "inactive" else ""
                sys.stdout.write(f"{adapter.version:<10} {mark:<6} {origin:<7} macro_f1={_f1(metrics)} "
                                 f"accuracy={metrics.get('accuracy', '-')} binary_f1={metrics.get('binary_f1', '-')} "
                                 f"data={str(adapter.manifest.get('data_hash', ''))[:12]} {reason}".rstrip() + "\n")
            if not registry.versions():
                sys.stdout.write("no adapters (train one with `coderev train`)\n")
        elif args.action == "create":
            adapter = registry.create(args.source, args.version, args.activate, args.note)
            sys.stdout.write(f"created {adapter.version} at {adapter.path}\n")
        elif args.action == "activate":
            adapter = registry.activate(args.version)
            sys.stdout.write(f"active: {adapter.version}\n")
        elif args.action == "rollback":
            adapter = registry.rollback()
            sys.stdout.write(f"rolled back to {adapter.version}\n")
        elif args.into_base is not None:
            from ai_core.model.quantize import merged_model

            if len(args.versions) != 1:
                raise UsageError("--into-base merges exactly one version")
            model = merged_model(registry.get(args.versions[0]))
            model.save_pretrained(str(args.into_base), safe_serialization=True)
            sys.stdout.write(f"merged {args.versions[0]} into the base model: {args.into_base}\n")
        else:
            weights = [float(w) for w in args.weights.split(",")] if args.weights else None
            adapter = registry.merge(args.versions, weights, args.version, args.activate)
            sys.stdout.write(f"merged {', '.join(args.versions)} into {adapter.version} at {adapter.path}\n")
    except (AdapterError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    return 0
