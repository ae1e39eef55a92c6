"""`coderev index` and `coderev search` on a small project (in-process, the real model and LanceDB)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ai_core.retrieval import default_embedder
from server.cli import main

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILES = {
    "pkg/store.py": "def load_order(db, order_id):\n    return db.execute('SELECT 1 WHERE id = ?', (order_id,))\n",
    "pkg/notify.py": "class Notifier:\n    def send_sms(self, number, text):\n"
                     "        return self.gateway.post(number, text)\n",
}


@pytest.fixture(scope="module", autouse=True)
def model():
    """Load MiniLM once for the module (the CLI uses the process-wide embedder)."""
    default_embedder().load()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A two-file project."""
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def test_index_builds_the_index_and_reports_what_it_did(project: Path, capsys):
    assert main(["index", str(project)]) == 0
    out = capsys.readouterr()
    assert "2 files (2 changed" in out.out and "3 chunks" in out.out
    assert "indexing" in out.err  # the progress bar
    assert (project / ".coderev" / "index" / "chunks.lance").is_dir()
    assert main(["index", str(project), "--quiet"]) == 0
    assert "(0 changed" in capsys.readouterr().out


def test_search_prints_json_records_for_the_best_matches(project: Path, capsys):
    main(["index", str(project), "--quiet"])
    capsys.readouterr()
    assert main(["search", "send a text message to a phone", "--root", str(project), "--json", "--limit", "2"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2
    assert records[0] == {"path": "pkg/notify.py", "start_line": 2, "end_line": 3, "kind": "method",
                          "name": "Notifier.send_sms", "score": records[0]["score"]}
    assert records[0]["score"] >= records[1]["score"] > 0


def test_search_filters_by_path_and_kind_and_prints_text(project: Path, capsys):
    main(["index", str(project), "--quiet"])
    capsys.readouterr()
    assert main(["search", "load_order", "--root", str(project), "--path", "pkg/store.py", "--kind", "function"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pkg/store.py:1-2  function load_order")
    assert "notify" not in out


def test_search_without_an_index_is_a_usage_error(tmp_path: Path, capsys):
    assert main(["search", "anything", "--root", str(tmp_path)]) == 2
    assert "no index" in capsys.readouterr().err
    assert not (tmp_path / ".coderev").exists()
    assert main(["search", "x", "--root", str(tmp_path), "--limit", "0"]) == 2
    assert main(["index", str(tmp_path / "missing")]) == 2
