"""didChange -> publishDiagnostics latency through the real server on a 2,000-line file.

Prints p50/p95 over 100 edits, with the default 150 ms debounce and with debounce off (pure
analysis + protocol time). Run: `.venv/bin/python bench/latency.py [--edits N] [--model]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.lsp_support import SERVER_ENV, edit, open_document, wait_for_diagnostics

FUNCTION = '''
def handler_{n}(request, db):
    user_id = request.args.get("id")
    rows = db.execute("SELECT * FROM t WHERE id = ?", (user_id,))
    data = [row for row in rows if row]
    return {{"count": len(data), "n": {n}}}

'''


def make_file(lines: int) -> str:
    """A realistic module of about `lines` lines with one vulnerable call at the end."""
    header = "import pickle\nimport sqlite3\n\n"
    body = []
    n = 0
    while (header + "".join(body)).count("\n") < lines - 4:
        body.append(FUNCTION.format(n=n))
        n += 1
    return header + "".join(body) + "\ndef load(blob):\n    return pickle.loads(blob)\n"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def measure(debounce_ms: int, edits: int, model: bool) -> list[float]:
    """Start a server, open the file, time `edits` incremental edits."""
    client: LanguageClient = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "server.cli", "serve", env=SERVER_ENV)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("neovim"), root_uri=root.as_uri(),
            initialization_options={"coderev": {"debounceMs": debounce_ms, "modelEnabled": model,
                                                "indexEnabled": False}}))
        text = make_file(2000)
        uri = open_document(client, root / "big.py", text)
        await wait_for_diagnostics(client, uri, version=1, timeout=300)
        line = text.count("\n") - 1  # the `return pickle.loads(blob)` line
        timings = []
        for i in range(edits):
            version = i + 2
            name = "blob" if i % 2 else "data"
            started = time.perf_counter()
            edit(client, uri, version, (line, 24), (line, 28), name)
            edit(client, uri, version, (line - 1, 9), (line - 1, 13), name)  # keep the parameter in step
            params = await wait_for_diagnostics(client, uri, version=version, timeout=120)
            timings.append((time.perf_counter() - started) * 1000)
            assert params.diagnostics, "the finding must survive every edit"
        await client.shutdown_session()
    await client.stop()
    return timings


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--model", action="store_true", help="score with the model too")
    args = parser.parse_args()
    lines = make_file(2000).count("\n")
    print(f"file: {lines} lines; edits: {args.edits}; model: {'on' if args.model else 'off'}")
    for debounce in (150, 0):
        timings = asyncio.run(measure(debounce, args.edits, args.model))
        print(f"debounce {debounce:>3} ms: p50 {statistics.median(timings):7.1f} ms   "
              f"p95 {percentile(timings, 95):7.1f} ms   max {max(timings):7.1f} ms")


if __name__ == "__main__":
    main()
