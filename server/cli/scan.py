"""`coderev scan PATH`: analyse a folder or file and report findings (exit 1 when there are any)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_core.config import Settings, load_pyproject
from ai_core.findings import Severity
from ai_core.report import FORMATS, Report, build_report
from ai_core.scan import ScanResult, scan_path

FIXED_FORMATS = frozenset({"sarif", "html"})
"""Formats that carry verified fixes and suppressed findings (computed unless --no-fixes)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `scan`."""
    parser = sub.add_parser("scan", help="scan a folder or file for vulnerabilities")
    parser.add_argument("path", type=Path, help="folder or Python file to scan")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    add_scan_arguments(parser)
    add_report_arguments(parser)
    parser.set_defaults(func=run)


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    """What to scan with: workers, model, configuration (shared by `scan` and `baseline`)."""
    parser.add_argument("--workers", type=int, default=0, help="processes (default: all cores)")
    parser.add_argument("--no-model", action="store_true", help="rules only: do not run the model")
    parser.add_argument("--config", type=Path, help="pyproject.toml with [tool.coderev] "
                        "(default: the scanned folder's)")
    parser.add_argument("--min-severity", choices=[s.name.lower() for s in Severity], default=None,
                        help="report only findings at least this severe (overrides the configuration)")
    parser.add_argument("--min-confidence", type=float, default=None, metavar="0..1",
                        help="report only findings at least this confident (overrides the configuration)")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """What to report: baseline, diff-only, exit code, fixes."""
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="hide the findings recorded in FILE (made by `coderev baseline`)")
    parser.add_argument("--diff", metavar="REV",
                        help="report only findings on lines changed since the git revision REV (and in new files)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--no-fixes", action="store_true",
                        help="sarif/html: do not compute verified fixes or list suppressed findings (faster)")


def scan_settings(args: argparse.Namespace) -> Settings:
    """The settings of a scan: the configuration file, then the command line's overrides."""
    from server.cli import UsageError

    root: Path = args.path
    if not root.exists():
        raise UsageError(f"no such file or folder: {root}")
    if args.workers < 0:
        raise UsageError("--workers must be positive")
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        raise UsageError("--min-confidence must be between 0 and 1")
    config_root = args.config.parent if args.config else (root if root.is_dir() else root.parent)
    settings, warnings = load_pyproject(config_root)
    for warning in warnings:
        print(f"coderev: warning: {warning}", file=sys.stderr)
    overrides: dict[str, object] = {}
    if args.no_model:
        overrides["model_enabled"] = False
    if args.min_severity is not None:
        overrides["min_severity"] = args.min_severity
    if args.min_confidence is not None:
        overrides["min_confidence"] = args.min_confidence
    return settings.with_overrides(overrides)[0] if overrides else settings


def scan_target(args: argparse.Namespace) -> tuple[ScanResult, Settings]:
    """Run the scan the arguments describe."""
    settings = scan_settings(args)
    return scan_path(args.path, settings, workers=args.workers or None), settings


def make_report(args: argparse.Namespace, result: ScanResult, settings: Settings) -> Report:
    """The report: suppressed findings listed, baseline and diff applied, verified fixes attached."""
    from server.cli import UsageError

    report = build_report(result)
    rich = args.format in FIXED_FORMATS and not args.no_fixes
    if rich:
        from ai_core.report.suppressions import suppressed_items

        report.add(suppressed_items(result, settings))
    if args.baseline is not None:
        from ai_core.report.baseline import BaselineError, hide_baseline, load_baseline

        try:
            hide_baseline(report, load_baseline(args.baseline))
        except BaselineError as exc:
            raise UsageError(str(exc)) from exc
    if args.diff is not None:
        from ai_core.report.gitdiff import GitDiffError, changes_since, only_changed

        root = Path(result.root)
        try:
            only_changed(report, changes_since(root if root.is_dir() else root.parent, args.diff))
        except GitDiffError as exc:
            raise UsageError(f"--diff {args.diff}: {exc}") from exc
    if rich:
        from ai_core.report.fixes import attach_fixes

        attach_fixes(report, settings)
    return report


def write_output(text: str, output: Path | None) -> None:
    """Write a report to a file, or to stdout."""
    from server.cli import UsageError

    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:
    """Scan, write the report, return 0 (clean, or --exit-zero) or 1 (findings)."""
    result, settings = scan_target(args)
    report = make_report(args, result, settings)
    write_output(FORMATS[args.format](report), args.output)
    if args.format != "text":
        for path, reason in result.skipped:
            print(f"coderev: skipped {path}: {reason}", file=sys.stderr)
    return 1 if report.active and not args.exit_zero else 0
