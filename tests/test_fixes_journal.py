"""The fix journal: one fsynced JSON line per fix, torn lines skipped, concurrent writers, undo by hash."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from ai_core.findings import Fix, TextEdit, VulnClass
from ai_core.fixes.journal import Journal, OutsideWorkspace, UndoRefused, write_atomic
from ai_core.fixes.text import apply_edits, sha256_text

BEFORE = "import pickle\r\n\r\n# données ☕\r\ndef load(b):\r\n    return pickle.loads(b)\r\n"


def _fix(path: Path, text: str) -> Fix:
    start = text.encode().index(b"pickle.loads")
    return Fix("Load JSON", (TextEdit(start, start + len("pickle.loads"), "json.loads"),
                             TextEdit(7, 13, "json")), str(path), VulnClass.INSECURE_DESERIALIZATION,
               "deserialization.pickle-loads", verified=True)


def test_a_fix_is_journaled_with_hashes_version_and_edits(tmp_path: Path):
    journal = Journal(tmp_path)
    path = tmp_path / "app.py"
    entry = journal.record_fix(_fix(path, BEFORE), {str(path): BEFORE}, {str(path): 7}, source="lsp")
    [line] = (tmp_path / ".coderev" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    after = apply_edits(BEFORE, _fix(path, BEFORE).edits)
    assert record["id"] == entry.id and record["kind"] == "fix" and record["file"] == "app.py"
    assert record["class"] == "insecure-deserialization" and record["rule"] == "deserialization.pickle-loads"
    assert record["version"] == 7 and record["before"] == sha256_text(BEFORE) and record["after"] == sha256_text(after)
    assert [e["old"] for e in record["edits"]] == ["pickle", "pickle.loads"]
    assert record["time"].endswith("+00:00")


def test_undo_restores_the_exact_bytes_including_crlf_and_non_ascii(tmp_path: Path):
    journal = Journal(tmp_path)
    path = tmp_path / "app.py"
    fix = _fix(path, BEFORE)
    entry = journal.record_fix(fix, {str(path): BEFORE})
    after = apply_edits(BEFORE, fix.edits)
    plan = journal.plan_undo(entry, {"app.py": after})
    assert apply_edits(after, plan["app.py"]).encode() == BEFORE.encode()
    journal.record_undo(entry)
    assert journal.last_undoable() is None
    with pytest.raises(UndoRefused, match="already undone"):
        journal.plan_undo(entry, {"app.py": after})


def test_undo_is_refused_when_the_file_changed_since_the_fix(tmp_path: Path):
    journal = Journal(tmp_path)
    path = tmp_path / "app.py"
    fix = _fix(path, BEFORE)
    entry = journal.record_fix(fix, {str(path): BEFORE})
    edited = apply_edits(BEFORE, fix.edits) + "# more\r\n"
    with pytest.raises(UndoRefused, match=r"app\.py changed since fix"):
        journal.plan_undo(entry, {"app.py": edited})


def test_a_torn_last_line_is_skipped_and_the_next_append_starts_a_new_line(tmp_path: Path):
    journal = Journal(tmp_path)
    path = tmp_path / "app.py"
    first = journal.record_fix(_fix(path, BEFORE), {str(path): BEFORE})
    with open(journal.path, "ab") as handle:  # a crash in the middle of a write
        handle.write(b'{"id": "torn", "kind": "fix", "ti')
    assert [e.id for e in journal.entries()] == [first.id]
    second = journal.record_fix(_fix(path, BEFORE), {str(path): BEFORE})
    assert [e.id for e in journal.entries()] == [first.id, second.id]
    assert journal.path.read_bytes().count(b"\n") == 3


def _append_many(root: str, count: int) -> None:
    journal = Journal(Path(root))
    path = Path(root) / "app.py"
    for _ in range(count):
        journal.record_fix(_fix(path, BEFORE), {str(path): BEFORE}, source=f"pid {os.getpid()}")


def test_concurrent_writers_never_interleave_lines(tmp_path: Path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(tmp_path), 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = Journal(tmp_path).path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 75
    assert len({json.loads(line)["id"] for line in lines}) == 75


def test_paths_outside_the_workspace_are_refused(tmp_path: Path):
    journal = Journal(tmp_path / "ws")
    outside = tmp_path / "elsewhere.py"
    with pytest.raises(OutsideWorkspace):
        journal.record_fix(_fix(outside, BEFORE), {str(outside): BEFORE})
    with pytest.raises(OutsideWorkspace):
        journal.relative(tmp_path / "ws" / ".." / "elsewhere.py")
    assert not journal.path.exists()


def test_find_accepts_a_unique_id_prefix(tmp_path: Path):
    journal = Journal(tmp_path)
    path = tmp_path / "app.py"
    entry = journal.record_fix(_fix(path, BEFORE), {str(path): BEFORE})
    assert journal.find(entry.id[:12]) == entry
    assert journal.find("no-such-id") is None


def test_atomic_write_replaces_content_and_keeps_the_mode(tmp_path: Path):
    path = tmp_path / "tool.py"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o750)
    write_atomic(path, "new ☕\n")
    assert path.read_text(encoding="utf-8") == "new ☕\n"
    assert path.stat().st_mode & 0o777 == 0o750
    assert [p.name for p in tmp_path.iterdir()] == ["tool.py"]
