"""Scans on Ray: the same findings as a local scan, over several repositories, on a local Ray the test starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_core.config import Settings
from ai_core.distributed import RayRunner, scan_paths
from ai_core.scan import ScanResult
from tests.test_notebooks import VULNERABLE as NOTEBOOK_HANDLER
from tests.test_notebooks import write_notebook

pytestmark = pytest.mark.slow  # a local Ray takes ~10 s to start

SETTINGS = Settings(model_enabled=False)
DB = """
    import sqlite3

    def find(term):
        return sqlite3.connect("app.db").execute("SELECT * FROM t WHERE name = '" + term + "'").fetchall()
    """
VIEWS = """
    from flask import Flask, request
    from shop.db import find
    app = Flask(__name__)

    @app.route("/find")
    def view():
        return {"rows": find(request.args["q"])}
    """


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def repositories(tmp_path: Path) -> list[Path]:
    shop = write(tmp_path / "shop-repo", {"shop/__init__.py": "", "shop/db.py": DB, "shop/views.py": VIEWS,
                                          **{f"shop/util{n}.py": f"def f{n}(x):\n    return x + {n}\n"
                                             for n in range(12)}})
    tools = write(tmp_path / "tools-repo", {
        "load.py": "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n",
        "safe.py": "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"})
    write_notebook(tools / "notebook.ipynb", NOTEBOOK_HANDLER)
    (tools / "latin1.py").write_bytes("x = 'café'\n".encode("latin-1"))
    return [shop, tools]


def outcome(result: ScanResult) -> tuple[object, ...]:
    """Everything a report shows: files with their findings (taint paths included), lines, skips."""
    return (result.root, [(s.path, s.findings, s.lines, s.notebook) for s in result.files], result.skipped)


@pytest.mark.parametrize("ship_sources", [False, True], ids=["shared-files", "sources-shipped"])
def test_ray_scan_finds_exactly_what_a_local_scan_finds(ray_cluster: None, repositories: list[Path],
                                                        ship_sources: bool):
    local = scan_paths(repositories, SETTINGS, workers=1)
    runner = RayRunner("auto", workers=2, batch_files=3, ship_sources=ship_sources)
    try:
        distributed = scan_paths(repositories, SETTINGS, runner=runner)
    finally:
        runner.close()
    assert outcome(distributed) == outcome(local)
    assert {(f.path, f.vuln_class.value) for f in distributed.findings} == {
        ("shop-repo/shop/views.py", "sql-injection"),  # the flow into shop/db.py: the symbol table was there
        ("tools-repo/load.py", "insecure-deserialization"),
        ("tools-repo/notebook.ipynb", "command-injection"),
    }


def test_cli_scan_on_a_local_ray_reports_like_a_local_scan(repositories: list[Path]):
    def scan(*extra: str) -> list[dict[str, object]]:
        result = subprocess.run([sys.executable, "-m", "server.cli", "scan", *map(str, repositories), "--no-model",
                                 "--format", "json", *extra], capture_output=True, text=True, timeout=300,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert result.returncode == 1, result.stderr
        return json.loads(result.stdout)

    assert scan("--ray", "local", "-j", "2") == scan("-j", "1")


def test_a_single_file_scanned_on_ray_with_shipped_sources_matches_a_local_scan(ray_cluster: None,
                                                                                 repositories: list[Path]):
    target = [repositories[1] / "load.py"]
    runner = RayRunner("auto", workers=1, ship_sources=True)
    try:
        assert outcome(scan_paths(target, SETTINGS, runner=runner)) == outcome(scan_paths(target, SETTINGS))
    finally:
        runner.close()
