"""`coderev scan PATH...`: analyze folders or files and report findings (exit 1 when there are any)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_core.config import Settings, load_pyproject
from ai_core.files import folder_of
from ai_core.findings import Severity
from ai_core.report import FORMATS, Report, build_report
from ai_core.scan import FileRunner, ScanResult

FIXED_FORMATS = frozenset({"sarif", "html"})
"""Formats that carry verified fixes and suppressed findings (computed unless --no-fixes)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `scan`."""
    parser = sub.add_parser("scan", help="scan a folder or file for vulnerabilities")
    parser.add_argument("path", type=Path, nargs="+", help="folders (repositories) or files to scan")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    add_scan_arguments(parser)
    add_report_arguments(parser)
    parser.set_defaults(func=run)


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    """What to scan with: workers, model, configuration, progress, Ray, metrics (shared by `scan` and `baseline`)."""
    parser.add_argument("-j", "--jobs", "--workers", dest="workers", type=int, default=0, metavar="N",
                        help="processes (default: all cores)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar (never shown off a terminal)")
    parser.add_argument("--ray", metavar="ADDRESS", help="run the per-file work on a Ray cluster "
                        "('auto', 'ray://HOST:10001', or 'local' to start one here)")
    parser.add_argument("--ray-shared-fs", action="store_true",
                        help="the Ray nodes see the scanned paths: do not ship the sources to them")
    parser.add_argument("--metrics", type=Path, metavar="FILE",
                        help="write Prometheus metrics of the scan (text format) to FILE")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="stderr log lines as text (default) or one JSON object per line")
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
    parser.add_argument("--allow-skipped", action="store_true",
                        help="do not fail (exit 2) when every file found was skipped (unreadable, too large, ...)")
    parser.add_argument("--no-fixes", action="store_true",
                        help="sarif/html: do not compute verified fixes or list suppressed findings (faster)")


def scan_settings(args: argparse.Namespace) -> Settings:
    """The settings of a scan: the configuration file, then the command line's overrides."""
    from server.cli import UsageError

    roots = scan_roots(args)
    root = roots[0]
    for missing in (r for r in roots if not r.exists()):
        raise UsageError(f"no such file or folder: {missing}")
    if args.workers < 0:
        raise UsageError("-j/--workers must be positive")
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        raise UsageError("--min-confidence must be between 0 and 1")
    config_root = args.config.parent if args.config else folder_of(root)
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


def scan_roots(args: argparse.Namespace) -> list[Path]:
    """The folders or files to scan (`scan` takes several, `baseline` one)."""
    return list(args.path) if isinstance(args.path, list) else [args.path]


def scan_target(args: argparse.Namespace) -> tuple[ScanResult, Settings]:
    """Run the scan the arguments describe: a progress bar on a terminal, locally or on Ray, metrics if asked."""
    from ai_core.distributed import DistributedError, RayRunner, scan_paths
    from server.cli import UsageError
    from server.log_format import use_format

    settings = scan_settings(args)
    use_format(args.log_format)
    runner: FileRunner | None = None
    if args.ray:
        runner = RayRunner(args.ray, workers=args.workers or None, ship_sources=False if args.ray_shared_fs else None)
    progress = RichProgress() if sys.stderr.isatty() and not args.quiet else None
    try:
        if progress is not None:
            with progress.bar:
                result = scan_paths(scan_roots(args), settings, args.workers or None, progress, runner=runner)
        else:
            result = scan_paths(scan_roots(args), settings, args.workers or None, runner=runner)
    except DistributedError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        if isinstance(runner, RayRunner):
            runner.close()
    if args.metrics:
        from server.metrics import write_scan_metrics

        write_scan_metrics(result, args.metrics)
    return result, settings


class RichProgress:
    """A rich progress bar on stderr (files done of the total, rate, time left)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            TextColumn("{task.fields[path]}"), console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("scan", total=None, path="")

    def start(self, total: int) -> None:
        """A new folder of `total` files (several folders add up)."""
        known = self.bar.tasks[0].total or 0
        self.bar.update(self.task, total=known + total)

    def advance(self, path: str) -> None:
        """One file done."""
        self.bar.update(self.task, advance=1, path=path)


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
            only_changed(report, changes_since(folder_of(root), args.diff))
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
    """Scan, write the report, return 0 (clean, or --exit-zero), 1 (findings) or 2 (every file skipped)."""
    result, settings = scan_target(args)
    report = make_report(args, result, settings)
    write_output(FORMATS[args.format](report), args.output)
    if args.format != "text":
        for path, reason in result.skipped:
            print(f"coderev: skipped {path}: {reason}", file=sys.stderr)
    if result.nothing_analysed and not args.allow_skipped:
        print(f"coderev: error: nothing was analysed: all {len(result.skipped)} file(s) or folder(s) found were "
              "skipped (see above; --allow-skipped to exit 0 all the same)", file=sys.stderr)
        return 2
    return 1 if report.active and not args.exit_zero else 0
