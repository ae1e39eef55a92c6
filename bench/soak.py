"""Load and soak figures of the real server: many open documents, thousands of edits, memory over time.

Opens `--docs` documents (first-diagnostics time), then edits them round-robin (`--edits` incremental
didChanges, each waiting for its publishDiagnostics) and keeps editing until `--duration` seconds passed,
sampling the server's RSS. Prints p50/p95/max didChange -> diagnostics latency and RSS start/end/max.
Run: `.venv/bin/python bench/soak.py [--quick] [--docs 200] [--edits 5000] [--duration 600] [--model]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.raw_server import RawServer

MODULE = '''import os
import subprocess

from flask import Flask, request

app = Flask(__name__)
counter = 0


@app.route("/run{n}")
def run{n}():
    command = request.args.get("cmd", "")
    return subprocess.check_output(command, shell=True)


def helper{n}(values):
    total = 0
    for value in values:
        total += value * {n}
    return total
'''
EDITED_LINE = 7
"""The `counter = 0` line, whose value each edit changes (so every edit is a real, analysed change)."""


def rss_kb(pid: int) -> int:
    """Resident memory of a process in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def published(raw: RawServer, uri: str, version: int, timeout: float = 120.0) -> list[str]:
    """Wait for the diagnostics of `uri` at `version`; their codes."""
    params = raw.notification("textDocument/publishDiagnostics",
                     lambda p: p["uri"] == uri and p.get("version") == version, timeout)
    return [d["code"] for d in params["diagnostics"]]


def run(docs: int, edits: int, duration: float, model: bool, debounce_ms: int) -> None:
    """Open, edit, sample; print the figures."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        raw = RawServer()
        started = time.monotonic()
        raw.initialize(root, {"modelEnabled": model, "indexEnabled": False, "diagnosticMode": "push",
                              "debounceMs": debounce_ms, "modelVariant": "fp32" if model else "auto"})
        if model:
            raw.notification("coderev/modelStatus", lambda p: p["state"] != "loading", 600)
        print(f"server ready in {time.monotonic() - started:.1f} s, RSS {rss_kb(raw.proc.pid) / 1024:.0f} MiB")

        opened = time.monotonic()
        uris = [raw.open(root / f"module_{n}.py", MODULE.format(n=n)) for n in range(docs)]
        flagged = sum(bool(published(raw, uri, 1)) for uri in uris)
        load_s = time.monotonic() - opened
        print(f"load: {docs} documents opened, all first diagnostics in {load_s:.1f} s "
              f"({1000 * load_s / docs:.1f} ms per document, {flagged} with findings), "
              f"RSS {rss_kb(raw.proc.pid) / 1024:.0f} MiB")

        versions = dict.fromkeys(uris, 1)
        latencies: list[float] = []
        samples: list[tuple[float, int]] = [(0.0, rss_kb(raw.proc.pid))]
        soak_start = last_sample = time.monotonic()
        done = 0
        while done < edits or time.monotonic() - soak_start < duration:
            uri = uris[done % len(uris)]
            versions[uri] += 1
            version = versions[uri]
            sent = time.monotonic()
            raw.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": {"line": EDITED_LINE, "character": 10},
                                              "end": {"line": EDITED_LINE, "character": 10 + len(str(version - 1))}},
                                    "text": str(version)}]})
            published(raw, uri, version)
            latencies.append(time.monotonic() - sent)
            raw.seen.clear()  # older publications (the model's refinements) are not waited for
            done += 1
            if time.monotonic() - last_sample >= 5.0:
                last_sample = time.monotonic()
                samples.append((last_sample - soak_start, rss_kb(raw.proc.pid)))
        samples.append((time.monotonic() - soak_start, rss_kb(raw.proc.pid)))
        raw.close()

    ms = [1000 * value for value in latencies]
    print(f"soak: {done} edits over {samples[-1][0]:.0f} s with {docs} documents open "
          f"(debounce {debounce_ms} ms, model {'on' if model else 'off'})")
    print(f"  didChange -> diagnostics: p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
          f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms")
    first, last, peak = samples[0][1], samples[-1][1], max(kb for _, kb in samples)
    print(f"  RSS: start {first / 1024:.0f} MiB, end {last / 1024:.0f} MiB ({100 * (last - first) / first:+.1f}%), "
          f"max {peak / 1024:.0f} MiB, {len(samples)} samples")
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in range(5)]
    print("  RSS over time: " + ", ".join(f"{t:.0f} s {kb / 1024:.0f} MiB" for t, kb in quarters))


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--edits", type=int, default=5000)
    parser.add_argument("--duration", type=float, default=600.0, help="keep editing at least this many seconds")
    parser.add_argument("--debounce", type=int, default=0, help="debounceMs (0: pure analysis + protocol time)")
    parser.add_argument("--model", action="store_true", help="load the model (default: rules only)")
    parser.add_argument("--quick", action="store_true", help="a short run: 40 documents, 500 edits, 20 s")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.edits, args.duration = min(args.docs, 40), min(args.edits, 500), min(args.duration, 20.0)
    run(args.docs, args.edits, args.duration, args.model, args.debounce)


if __name__ == "__main__":
    main()
