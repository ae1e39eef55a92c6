"""Scan speed on the Django 5.1 source tree: coderev (engine alone and the CLI, 1 and N workers) side by
side with `bandit -r`, in one run: files, lines, wall seconds, lines/s, peak RSS of the process tree.

The tree is fetched once with `pip download --no-binary :all: --no-deps django==5.1` into bench/.cache
(gitignored). "Engine alone" times `scan_path()` in a fresh process after imports (rules only, model
off); "CLI" is `coderev scan --no-model` end to end. Run it on a quiet machine:
`.venv/bin/python bench/speed.py [--tree DIR] [--workers N ...] [--skip-bandit]`.

`--against CHECKOUT` instead compares this tree's cold `coderev scan --no-model --workers 1` with another
checkout's (e.g. `git worktree add /tmp/base <commit>`), run in turn (A B A B ...) `--runs` times, each in a fresh
process with an empty cache folder (XDG_CACHE_HOME, CODEREV_CACHE_DIR); it prints each side's median user CPU
and wall seconds and the ratio pair by pair (medians of A/B), so a drift in machine speed affects both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
DJANGO = CACHE / "Django-5.1"


def ensure_django() -> Path:
    """The unpacked Django 5.1 source tree (downloaded with pip the first time)."""
    if DJANGO.is_dir():
        return DJANGO
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "django==5.1",
                    "-d", str(CACHE)], check=True)
    archive = next(CACHE.glob("[Dd]jango-5.1.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return DJANGO


def count(tree: Path) -> tuple[int, int]:
    """Python files and lines under the tree (what both tools read)."""
    files = lines = 0
    for path in tree.rglob("*.py"):
        files += 1
        with open(path, "rb") as handle:
            lines += handle.read().count(b"\n")
    return files, lines


def measure(command: list[str]) -> tuple[float, float, str]:
    """Run a command; (wall seconds, peak RSS of it and its children in MiB, stdout)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"})
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            parent = psutil.Process(process.pid)
            while not done.is_set():
                try:
                    rss = parent.memory_info().rss + sum(c.memory_info().rss for c in parent.children(recursive=True))
                    peak = max(peak, rss)
                except psutil.Error:
                    pass
                done.wait(0.02)
        except psutil.Error:
            return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, peak / 2**20, out.decode(errors="replace")


def cold_scan(checkout: Path, tree: Path) -> tuple[float, float]:
    """(user CPU s, wall s) of one cold `coderev scan --no-model --workers 1` of `tree` with `checkout`'s code."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": cache,
               "CODEREV_CACHE_DIR": cache}
        command = [sys.executable, "-m", "server.cli", "scan", str(tree), "--no-model", "--workers", "1",
                   "--format", "json", "--output", os.devnull]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)
        return usage.ru_utime, time.perf_counter() - started


def against(other: Path, tree: Path, runs: int) -> None:
    """This checkout (A) against `other` (B), in turn, with the ratio A/B pair by pair."""
    pairs = []
    cold_scan(ROOT, tree)  # warm the OS file cache and the bytecode of both sides
    cold_scan(other, tree)
    for _ in range(runs):
        pairs.append((cold_scan(ROOT, tree), cold_scan(other, tree)))
    out = sys.stdout.write
    out(f"tree: {tree}; A = {ROOT}, B = {other}; {runs} runs each, in turn; load {os.getloadavg()[0]:.2f}\n")
    for index, name in enumerate(("user CPU s", "wall s")):
        a = statistics.median(p[0][index] for p in pairs)
        b = statistics.median(p[1][index] for p in pairs)
        ratio = statistics.median(p[0][index] / p[1][index] for p in pairs)
        out(f"{name:11} A {a:7.2f}  B {b:7.2f}  A/B {ratio:.2f} (pairs: "
            f"{', '.join(f'{p[0][index] / p[1][index]:.2f}' for p in pairs)})\n")


def engine_only(tree: str, workers: int) -> None:
    """Child mode: time scan_path() alone and print JSON."""
    sys.path.insert(0, str(ROOT))
    from ai_core.config import Settings
    from ai_core.scan import scan_path

    settings = Settings(model_enabled=False)
    started = time.perf_counter()
    result = scan_path(Path(tree), settings, workers=workers)
    seconds = time.perf_counter() - started
    sys.stdout.write(json.dumps({"seconds": seconds, "files": len(result.files), "lines": result.lines,
                                 "findings": len(result.findings), "skipped": len(result.skipped)}))


def main() -> int:
    """Run everything once and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="source tree to scan (default: Django 5.1)")
    parser.add_argument("--workers", type=int, nargs="*", default=None, help="worker counts (default: 1 and all)")
    parser.add_argument("--skip-bandit", action="store_true")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT", help="compare with another checkout instead")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side with --against (default 5)")
    parser.add_argument("--engine-worker", nargs=2, metavar=("TREE", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_worker:
        engine_only(args.engine_worker[0], int(args.engine_worker[1]))
        return 0
    tree = (args.tree or ensure_django()).resolve()
    if args.against:
        against(args.against.resolve(), tree, args.runs)
        return 0
    cores = os.cpu_count() or 1
    workers = args.workers or sorted({1, cores})
    files, lines = count(tree)
    out = sys.stdout.write
    out(f"tree: {tree} — {files} Python files, {lines:,} lines; {cores} cores; load {os.getloadavg()[0]:.2f}\n\n")
    rows: list[tuple[str, float, float, str]] = []
    bandit_seconds = None
    if not args.skip_bandit:
        seconds, rss, report = measure([sys.executable, "-m", "bandit", "-r", str(tree), "-f", "json", "-q"])
        issues = len(json.loads(report).get("results", [])) if report.strip().startswith("{") else -1
        rows.append(("bandit -r (1 process)", seconds, rss, f"{issues} issues"))
        bandit_seconds = seconds
    engine: dict[int, float] = {}
    for count_workers in workers:
        seconds, rss, report = measure([sys.executable, __file__, "--engine-worker", str(tree), str(count_workers)])
        data = json.loads(report)
        engine[count_workers] = data["seconds"]
        rows.append((f"coderev engine, {count_workers} worker{'s' * (count_workers > 1)}", data["seconds"], rss,
                     f"{data['findings']} findings"))
    for count_workers in workers:
        seconds, rss, _ = measure([sys.executable, "-m", "server.cli", "scan", str(tree), "--no-model", "--format",
                                   "json", "--output", os.devnull, "--workers", str(count_workers)])
        rows.append((f"coderev scan CLI, {count_workers} worker{'s' * (count_workers > 1)}", seconds, rss, ""))
    out(f"{'run':34} {'wall s':>8} {'lines/s':>10} {'peak RSS MiB':>13}  notes\n")
    for name, seconds, rss, note in rows:
        out(f"{name:34} {seconds:8.2f} {lines / seconds:10,.0f} {rss:13.0f}  {note}\n")
    if bandit_seconds is not None:
        out("\n")
        for count_workers, seconds in engine.items():
            out(f"engine with {count_workers} worker(s) is {bandit_seconds / seconds:.1f}x faster than bandit\n")
    if 1 in engine and len(engine) > 1:
        most = max(engine)
        out(f"scaling 1 -> {most} workers: {engine[1] / engine[most]:.2f}x\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
