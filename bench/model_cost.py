"""What the model costs a scan: `coderev scan` with and without `--no-model`, side by side, in one run.

Each figure is a fresh `coderev scan` process (imports, rules on a process pool, model load, scoring), timed
wall-clock, alternating the kinds of run so that a drift of the (shared) machine hits them alike; medians are
printed. "cold" starts from an empty score cache, "warm" re-scans with the cache the cold run left
(nothing changed: no candidate is scored again, the model is not even loaded).
Run: `.venv/bin/python bench/model_cost.py [TREE ...] [--runs 3]` (default: examples/vulnerable_app and the
installed flask + werkzeug + jinja2, copied to a temporary folder; pass site-packages/django for Django).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("no-model", "cold", "warm")


def default_trees(scratch: Path) -> list[Path]:
    """The bundled example and a copy of the installed flask, werkzeug and jinja2 (a tree of ~45k lines)."""
    import flask

    site = Path(flask.__file__).resolve().parent.parent
    big = scratch / "flask-werkzeug-jinja2"
    for name in ("flask", "werkzeug", "jinja2"):
        if (site / name).is_dir() and not (big / name).exists():
            shutil.copytree(site / name, big / name, ignore=shutil.ignore_patterns("__pycache__"))
    return [ROOT / "examples" / "vulnerable_app", big]


def scan(tree: Path, kind: str, cache: Path) -> tuple[float, int]:
    """Seconds of one `coderev scan` of `tree` and its number of findings."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "CODEREV_SCORE_CACHE": str(cache),
           "PYTHONPATH": str(ROOT)}
    if kind == "cold":
        cache.unlink(missing_ok=True)
    args = [sys.executable, "-m", "server.cli", "scan", str(tree), "--format", "json", "--exit-zero"]
    started = time.perf_counter()
    done = subprocess.run([*args, *(["--no-model"] if kind == "no-model" else [])], capture_output=True, text=True,
                          env=env, timeout=3600, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"coderev scan {tree} ({kind}) failed: {done.stderr[-1500:]}")
    return seconds, len(json.loads(done.stdout))


def main() -> None:
    """Print the with/without-model scan times of each tree, side by side."""
    parser = argparse.ArgumentParser()
    parser.add_argument("trees", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind per tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        trees = args.trees or default_trees(scratch)
        print(f"{'tree':<40}{'files':>7} | " + " | ".join(f"{k:>9}" for k in KINDS) + " | cold/no-model  warm/no-model")
        for tree in trees:
            cache = scratch / f"scores-{tree.name}.sqlite"
            times: dict[str, list[float]] = {k: [] for k in KINDS}
            found: dict[str, int] = {}
            for _ in range(args.runs):
                for kind in KINDS:  # warm follows cold: it reads the cache the cold run wrote
                    seconds, found[kind] = scan(tree, kind, cache)
                    times[kind].append(seconds)
            med = {k: statistics.median(v) for k, v in times.items()}
            files = sum(1 for _ in tree.rglob("*.py"))
            print(f"{str(tree)[-40:]:<40}{files:>7} | " + " | ".join(f"{med[k]:8.2f}s" for k in KINDS)
                  + f" | {med['cold'] / med['no-model']:13.2f}x {med['warm'] / med['no-model']:13.2f}x"
                  + f"   findings {found}")


if __name__ == "__main__":
    main()
