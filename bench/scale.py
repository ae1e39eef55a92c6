"""Scan throughput on the Django 5.1 tree: a local process pool with -j 1 and -j 2, and Ray with 2 local
workers (reading the tree in place, and with the sources shipped through the object store as for a
remote cluster), side by side (rules only; the model step runs in the driver the same way in every mode).

Each mode runs in a fresh process: "start s" is what it took before the first file (imports; for Ray,
starting the local cluster and its workers), "scan s" the scan itself. The findings of every mode are
compared with those of -j 1. The tree comes from bench/speed.py (`pip download django==5.1` into
bench/.cache). Run it on a quiet machine: `.venv/bin/python bench/scale.py [--tree DIR] [--ray-workers N]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speed import count, ensure_django, measure  # the shared bench helpers (bench/ is no package)


def child(tree: str, mode: str, workers: int) -> None:
    """Child mode: time one scan and print JSON."""
    started = time.perf_counter()
    from ai_core.config import Settings
    from ai_core.distributed import RayRunner
    from ai_core.scan import scan_path

    runner = None
    if mode.startswith("ray"):
        runner = RayRunner("local", workers=workers, ship_sources=mode == "ray-shipped")
        runner.actors()  # start the cluster and its workers before the clock of the scan starts
    ready = time.perf_counter()
    result = scan_path(Path(tree), Settings(model_enabled=False), workers=workers, runner=runner)
    done = time.perf_counter()
    if runner is not None:
        runner.close()
    digest = hashlib.sha256(json.dumps(sorted((f.path, f.span.start_byte, f.rule, f.fingerprint)
                                              for f in result.findings)).encode()).hexdigest()[:16]
    sys.stdout.write(json.dumps({"start": ready - started, "scan": done - ready, "files": len(result.files),
                                 "lines": result.lines, "findings": len(result.findings), "digest": digest}))


def main() -> int:
    """Run the three modes once and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="source tree to scan (default: Django 5.1)")
    parser.add_argument("--ray-workers", type=int, default=2)
    parser.add_argument("--child", nargs=3, metavar=("TREE", "MODE", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    tree = (args.tree or ensure_django()).resolve()
    files, lines = count(tree)
    out = sys.stdout.write
    out(f"tree: {tree} — {files} Python files, {lines:,} lines; {os.cpu_count()} cores; "
        f"load {os.getloadavg()[0]:.2f}\n\n")
    modes = [("-j 1 (in process)", "local", 1), ("-j 2 (process pool)", "local", 2),
             (f"Ray, {args.ray_workers} local workers", "ray", args.ray_workers),
             (f"Ray, {args.ray_workers} workers, shipped", "ray-shipped", args.ray_workers)]
    out(f"{'mode':28} {'wall s':>7} {'start s':>8} {'scan s':>7} {'files/s':>8} {'lines/s':>9} "
        f"{'peak RSS MiB':>13} {'findings':>9}  same as -j 1\n")
    reference = ""
    for name, mode, workers in modes:
        wall, rss, report = measure([sys.executable, __file__, "--child", str(tree), mode, str(workers)])
        data = json.loads(report)
        reference = reference or data["digest"]
        out(f"{name:28} {wall:7.1f} {data['start']:8.1f} {data['scan']:7.1f} {data['files'] / data['scan']:8.1f} "
            f"{data['lines'] / data['scan']:9,.0f} {rss:13.0f} {data['findings']:9d}  "
            f"{'yes' if data['digest'] == reference else 'NO'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
