"""`coderev scan PATH`: analyse a folder or file and report findings (exit 1 when there are any)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_core.config import Settings, load_pyproject
from ai_core.report import FORMATS
from ai_core.scan import FileRunner, ScanResult


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `scan`."""
    parser = sub.add_parser("scan", help="scan a folder or file for vulnerabilities")
    parser.add_argument("path", type=Path, nargs="+", help="folders (repositories) or files to scan")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--no-model", action="store_true", help="rules only: do not run the model")
    parser.add_argument("--config", type=Path, help="pyproject.toml with [tool.coderev] "
                        "(default: the scanned folder's)")
    # --- scale and observability (issue 17): workers, progress, Ray, metrics -----------------------
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
    # --- end scale and observability -----------------------------------------------------------------
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan, write the report, return 0 (clean) or 1 (findings)."""
    from server.cli import UsageError

    roots: list[Path] = args.path
    root = roots[0]
    for missing in (r for r in roots if not r.exists()):
        raise UsageError(f"no such file or folder: {missing}")
    if args.workers < 0:
        raise UsageError("-j/--workers must be positive")
    config_root = args.config.parent if args.config else (root if root.is_dir() else root.parent)
    settings, warnings = load_pyproject(config_root)
    for warning in warnings:
        print(f"coderev: warning: {warning}", file=sys.stderr)
    if args.no_model:
        settings = settings.with_overrides({"model_enabled": False})[0]
    result = _scan(roots, settings, args)
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


# --- scale and observability (issue 17) -------------------------------------------------------------

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


def _scan(roots: list[Path], settings: Settings, args: argparse.Namespace) -> ScanResult:
    """The scan itself: a progress bar on a terminal, locally or on Ray, metrics written if asked."""
    from ai_core.distributed import DistributedError, RayRunner, scan_paths
    from server.cli import UsageError
    from server.logs import use_format

    use_format(args.log_format)
    runner: FileRunner | None = None
    if args.ray:
        runner = RayRunner(args.ray, workers=args.workers or None, ship_sources=False if args.ray_shared_fs else None)
    progress = RichProgress() if sys.stderr.isatty() and not args.quiet else None
    try:
        if progress is not None:
            with progress.bar:
                result = scan_paths(roots, settings, args.workers or None, progress, runner=runner)
        else:
            result = scan_paths(roots, settings, args.workers or None, runner=runner)
    except DistributedError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        if isinstance(runner, RayRunner):
            runner.close()
    if args.metrics:
        from server.metrics import write_scan_metrics

        write_scan_metrics(result, args.metrics)
    return result
# --- end scale and observability --------------------------------------------------------------------
