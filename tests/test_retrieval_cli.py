"""`coderev index` and `coderev search` on a small project (in-process, the real model and LanceDB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_core.retrieval import default_embedder
from server.cli import main
from tests.unreadable import locked

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


def test_index_of_only_unreadable_files_fails_with_a_clear_message(tmp_path: Path, capsys):
    (tmp_path / "blob.py").write_bytes(b"\x00\x01binary")
    assert main(["index", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "skipped blob.py: binary file" in err and "nothing was indexed" in err
    assert main(["index", str(tmp_path), "--quiet"]) == 2  # still nothing, though not read again
    assert main(["index", str(tmp_path), "--quiet", "--allow-skipped"]) == 0


def test_index_with_one_readable_file_beside_a_skipped_one_passes(project: Path, capsys):
    (project / "blob.py").write_bytes(b"\x00\x01binary")
    assert main(["index", str(project), "--quiet"]) == 0
    assert "skipped blob.py: binary file" in capsys.readouterr().err


def test_index_reports_an_unreadable_folder_and_keeps_its_indexed_files(project: Path, capsys):
    (project / "other.py").write_text("def ping():\n    return 1\n", encoding="utf-8")
    assert main(["index", str(project), "--quiet"]) == 0
    capsys.readouterr()
    with locked(project / "pkg") as prefix:
        result = subprocess.run([*prefix, sys.executable, "-m", "server.cli", "index", str(project), "--quiet"],
                                capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    assert "coderev: skipped pkg: unreadable folder: Permission denied" in result.stderr
    assert "0 removed" in result.stdout and "3 files, 4 chunks" in result.stdout


def test_index_of_an_unreadable_folder_only_fails(tmp_path: Path):
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("x = 1\n", encoding="utf-8")
    with locked(root / "pkg") as prefix:
        result = subprocess.run([*prefix, sys.executable, "-m", "server.cli", "index", str(root), "--quiet"],
                                capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert result.returncode == 2
    assert "skipped pkg: unreadable folder" in result.stderr and "nothing was indexed" in result.stderr
