"""The per-file memory bound: a source whose syntax tree would be huge is skipped with the reason, not parsed;
a big source of ordinary shape (its strings and comments set aside) is parsed and analysed as before."""

from __future__ import annotations

from pathlib import Path

from ai_core.config import Settings
from ai_core.parsing import ContentChange, ParsedDocument, PositionEncoding
from ai_core.parsing.budget import BUDGET_FROM_BYTES, MAX_NESTING, MAX_TOKENS, over_budget
from ai_core.retrieval.indexer import CodeIndex
from ai_core.scan import scan_path

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
HUGE_SUM = "x = " + "1+" * (MAX_TOKENS // 2 + 1) + "1\n"
DEEP = "x = " + "(" * (BUDGET_FROM_BYTES // 2) + "1" + ")" * (BUDGET_FROM_BYTES // 2) + "\n"


def _scan(tmp_path: Path, name: str, text: str):
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    return scan_path(tmp_path, Settings(model_enabled=False), workers=1)


def test_a_huge_expression_is_skipped_with_the_reason_and_the_other_files_are_scanned(tmp_path: Path):
    result = _scan(tmp_path, "sum.py", HUGE_SUM)
    [(path, reason)] = result.skipped
    assert path == "sum.py" and reason.startswith("expression too large for analysis")
    assert [(f.path, f.span.start_line) for f in result.findings] == [("app.py", 4)]


def test_brackets_nested_deeper_than_python_allows_are_skipped_in_a_big_file(tmp_path: Path):
    result = _scan(tmp_path, "deep.py", DEEP)
    [(path, reason)] = result.skipped
    assert path == "deep.py" and reason.startswith("expression too deeply nested for analysis")
    assert [f.path for f in result.findings] == ["app.py"]


def test_a_big_file_whose_bulk_is_strings_and_comments_is_analysed(tmp_path: Path):
    blob = "(" * (MAX_NESTING + 1) + " word 1+1" * (MAX_TOKENS // 3)
    text = f'DATA = """{blob}"""\n# {blob}\nTEXT = "{"[" * (MAX_NESTING + 1)}"\n' + VULNERABLE
    assert len(text) > BUDGET_FROM_BYTES
    result = _scan(tmp_path, "data.py", text)
    assert result.skipped == []
    assert sorted((f.path, f.span.start_line) for f in result.findings) == [("app.py", 4), ("data.py", 7)]


def test_a_big_file_of_ordinary_code_is_under_the_budget():
    text = "".join(f"def f{i}(a, b):\n    return [a + b * {i}, (a, b)]\n\n\n" for i in range(20_000))
    assert len(text) > BUDGET_FROM_BYTES
    assert over_budget(text.encode()) == ""
    assert not ParsedDocument(text).unparsed


def test_an_unparsed_document_is_empty_reports_a_syntax_problem_and_parses_once_edited_small():
    doc = ParsedDocument(HUGE_SUM, path="sum.py")
    assert doc.unparsed and doc.tree.root_node.child_count == 0 and doc.has_syntax_errors
    end = doc.positions.position_at(len(doc.data), PositionEncoding.UTF16)
    doc.apply_changes([ContentChange("x = 1\n", (0, 0), end)], PositionEncoding.UTF16, version=2)
    assert not doc.unparsed and doc.tree.root_node.child_count == 1 and not doc.has_syntax_errors


def test_an_edit_that_makes_a_document_huge_drops_its_tree():
    doc = ParsedDocument("x = 1\n")
    doc.apply_changes([ContentChange(HUGE_SUM[4:-1], (0, 4), (0, 5))], PositionEncoding.UTF16, version=2)
    assert doc.unparsed.startswith("expression too large") and doc.tree.root_node.child_count == 0
    assert doc.snapshot().unparsed == doc.unparsed


def test_the_index_skips_a_huge_expression_with_the_reason(tmp_path: Path):
    (tmp_path / "sum.py").write_text(HUGE_SUM, encoding="utf-8")
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    stats = CodeIndex(tmp_path, Settings()).sync()
    assert [path for path, _ in stats.skipped_reasons] == ["sum.py"]
    assert dict(stats.skipped_reasons)["sum.py"].startswith("expression too large for analysis")
    assert stats.changed == 1


def test_stray_closing_brackets_before_deep_nesting_do_not_hide_it():
    text = "x = " + ")" * 1000 + DEEP[4:]
    assert over_budget(text.encode()).startswith("expression too deeply nested for analysis")
