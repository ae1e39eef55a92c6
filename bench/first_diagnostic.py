"""A cold server with the model on: time to `initialize`, to the first (rules) diagnostic after `didOpen`, to the
model's refinement, and to exit after `shutdown`; the real server over stdio, `--runs` fresh processes.

Run: `.venv/bin/python bench/first_diagnostic.py [--runs 3]` (examples/vulnerable_app/notes/store.py is opened).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.lsp_support import SERVER_ENV, open_document, start_session, wait_for_diagnostics  # noqa: E402

MODEL = True
EXAMPLE = ROOT / "examples" / "vulnerable_app" / "notes" / "store.py"


async def one_run() -> dict[str, float]:
    """Seconds from process start to each event of one cold session."""
    client: LanguageClient = make_test_lsp_client()
    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "server.cli", "serve", env=SERVER_ENV)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        await start_session(client, root, "neovim", settings={"modelEnabled": MODEL})
        out["initialize"] = time.perf_counter() - started
        opened = time.perf_counter()
        uri = open_document(client, root / "views.py", EXAMPLE.read_text(encoding="utf-8"))
        first = await wait_for_diagnostics(client, uri, version=1, timeout=300)
        out["first_diagnostic_after_open"] = time.perf_counter() - opened
        try:
            await wait_for_diagnostics(client, uri, version=1, timeout=60)  # the model's refinement
            out["model_refinement_after_open"] = time.perf_counter() - opened
        except TimeoutError:
            out["model_refinement_after_open"] = float("nan")  # nothing changed: no second publish
        out["diagnostics"] = len(first.diagnostics)
        stopping = time.perf_counter()
        await client.shutdown_session()
    await client.stop()
    out["exit_after_shutdown"] = time.perf_counter() - stopping
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [asyncio.run(one_run()) for _ in range(args.runs)]
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:30s} median {statistics.median(values):7.3f}   runs " + " ".join(f"{v:.3f}" for v in values))


if __name__ == "__main__":
    main()
