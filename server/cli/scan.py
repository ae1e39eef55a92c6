"""`coderev scan PATH`: analyse a folder or file and report findings (exit 1 when there are any)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_core.config import load_pyproject
from ai_core.report import FORMATS
from ai_core.scan import scan_path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `scan`."""
    parser = sub.add_parser("scan", help="scan a folder or file for vulnerabilities")
    parser.add_argument("path", type=Path, help="folder or Python file to scan")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--workers", type=int, default=0, help="processes (default: all cores)")
    parser.add_argument("--no-model", action="store_true", help="rules only: do not run the model")
    parser.add_argument("--config", type=Path, help="pyproject.toml with [tool.coderev] "
                        "(default: the scanned folder's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan, write the report, return 0 (clean) or 1 (findings)."""
    from server.cli import UsageError

    root: Path = args.path
    if not root.exists():
        raise UsageError(f"no such file or folder: {root}")
    if args.workers < 0:
        raise UsageError("--workers must be positive")
    config_root = args.config.parent if args.config else (root if root.is_dir() else root.parent)
    settings, warnings = load_pyproject(config_root)
    for warning in warnings:
        print(f"coderev: warning: {warning}", file=sys.stderr)
    if args.no_model:
        settings = settings.with_overrides({"model_enabled": False})[0]
    result = scan_path(root, settings, workers=args.workers or None)
    report = FORMATS[args.format](result)
    if args.output:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(report)
    if args.format != "text":
        for path, reason in result.skipped:
            print(f"coderev: skipped {path}: {reason}", file=sys.stderr)
    return 1 if result.findings else 0
