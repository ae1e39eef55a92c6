"""Applying fixes for both front ends (`ai_core.fixes.apply`): merged appends, one Fix per fix-all, undo plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_core.config import Settings
from ai_core.findings import Fix, TextEdit, VulnClass
from ai_core.fixes import make_fixer
from ai_core.fixes.apply import find_fix, fix_all_fix, merge_appends, plan_undo, record_applied, stale_files
from ai_core.fixes.journal import Journal, NothingToUndo, UndoRefused
from ai_core.fixes.text import apply_edits
from ai_core.parsing import ParsedDocument

SSRF_TWICE = '''import requests
from flask import Flask, request

app = Flask(__name__)


@app.route("/fetch")
def fetch():
    url = request.args["url"]
    return requests.get(url, timeout=5).text


@app.route("/proxy")
def proxy():
    target = request.args["target"]
    return requests.get(target, timeout=5).text
'''


def test_appends_by_several_fixes_are_merged_with_each_line_once():
    end = len(b"DATABASE_URL=\n")
    edits = [TextEdit(end, end, "ALLOWED_URL_HOSTS=\n"), TextEdit(end, end, "ALLOWED_URL_HOSTS=\nAPI_KEY=\n")]
    assert merge_appends(edits) == (TextEdit(end, end, "ALLOWED_URL_HOSTS=\nAPI_KEY=\n"),)


def test_edits_that_are_not_appends_at_one_point_are_not_merged():
    edits = [TextEdit(0, 3, "a"), TextEdit(5, 5, "b")]
    assert merge_appends(edits) == (TextEdit(0, 3, "a"),)


def test_a_fix_all_becomes_one_fix_with_the_merged_env_example_append(tmp_path: Path):
    (tmp_path / ".env.example").write_text("DATABASE_URL=\n", encoding="utf-8")
    path = tmp_path / "fetch.py"
    path.write_text(SSRF_TWICE, encoding="utf-8")
    fixer = make_fixer(tmp_path, Settings())
    outcome = fixer.fix_all(ParsedDocument(SSRF_TWICE, path=str(path)))
    fix = fix_all_fix(outcome, str(path))
    assert len(outcome.fixed) == 2 and fix.title == "Fix 2 finding(s): ssrf"
    [(env_path, env_edits)] = fix.extra_files
    assert Path(env_path).name == ".env.example"
    assert apply_edits("DATABASE_URL=\n", env_edits) == "DATABASE_URL=\nALLOWED_URL_HOSTS=\n"


def test_a_file_that_changed_since_the_fix_was_computed_is_stale(tmp_path: Path):
    texts = {"a.py": "x = 1\n", "b.py": "y = 2\n"}
    current = {"a.py": "x = 1\n", "b.py": "y = 3\n"}
    assert stale_files(texts, current.get) == ["b.py"]


def _journaled(tmp_path: Path) -> Journal:
    path = tmp_path / "app.py"
    before = "import pickle\n"
    fix = Fix("Load JSON", (TextEdit(7, 13, "json"),), str(path), VulnClass.INSECURE_DESERIALIZATION,
              "deserialization.pickle-loads", verified=True)
    journal = Journal(tmp_path)
    record_applied(journal, fix, {str(path): before}, source="test")
    return journal


def test_undo_plan_restores_the_text_before_the_fix(tmp_path: Path):
    journal = _journaled(tmp_path)
    plan = plan_undo(journal, find_fix(journal), {"app.py": "import json\n"}.get)
    assert plan.restored() == {"app.py": "import pickle\n"}


def test_undo_is_refused_when_the_file_changed_since_the_fix(tmp_path: Path):
    journal = _journaled(tmp_path)
    with pytest.raises(UndoRefused, match="changed since fix"):
        plan_undo(journal, find_fix(journal), {"app.py": "import json  # edited\n"}.get)


def test_an_empty_journal_has_nothing_to_undo(tmp_path: Path):
    with pytest.raises(NothingToUndo, match="no fix to undo"):
        find_fix(Journal(tmp_path))
