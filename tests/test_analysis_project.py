"""The project symbol table: per-function caching and invalidation, overlays, the definition provider."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.analysis.project import ExternalDefinition, Project
from ai_core.config import Settings
from ai_core.parsing import ParsedDocument

SETTINGS = Settings(model_enabled=False)

HELPERS = textwrap.dedent("""
    import sqlite3

    def find(term):
        return sqlite3.connect("a.db").execute("SELECT * FROM t WHERE a = '" + term + "'").fetchall()
    """).lstrip()
HELPERS_FIXED = HELPERS.replace("""execute("SELECT * FROM t WHERE a = '" + term + "'")""",
                                """execute("SELECT * FROM t WHERE a = ?", (term,))""")
VIEWS = textwrap.dedent("""
    from flask import Flask, request
    from helpers import find
    app = Flask(__name__)

    @app.route("/a")
    def a():
        return {"rows": find(request.args["q"])}

    @app.route("/b")
    def b():
        return {"n": len(request.args)}
    """).lstrip()


def make_project(tmp_path: Path) -> Project:
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "views.py").write_text(VIEWS)
    project = Project([tmp_path])
    project.index_files()
    return project


def lines(findings: list) -> list[int]:
    return [f.span.start_line + 1 for f in findings]


def test_an_edit_reanalyses_only_the_function_it_touched(tmp_path: Path):
    project = make_project(tmp_path)
    analyzer = Analyzer(SETTINGS, project=project)
    doc = ParsedDocument(VIEWS, path=str(tmp_path / "views.py"))
    assert lines(analyzer.analyze(doc, str(tmp_path / "views.py"))) == [7]
    computed = project.stats.results_computed
    edited = VIEWS.replace('return {"n": len(request.args)}', 'return {"n": len(request.args) + 1}')
    doc2 = ParsedDocument(edited, path=str(tmp_path / "views.py"), version=2)
    assert lines(analyzer.analyze(doc2, str(tmp_path / "views.py"))) == [7]
    assert project.stats.results_computed - computed == 1  # b() only; a(), the module and find() are reused
    assert project.stats.results_reused > 0


def test_fixing_a_helper_invalidates_its_callers(tmp_path: Path):
    project = make_project(tmp_path)
    analyzer = Analyzer(SETTINGS, project=project)
    views = str(tmp_path / "views.py")
    assert lines(analyzer.analyze(ParsedDocument(VIEWS, path=views), views)) == [7]
    dropped: list[set[str]] = []
    project.listeners.append(dropped.append)
    project.module_for(ParsedDocument(HELPERS_FIXED, path=str(tmp_path / "helpers.py")), str(tmp_path / "helpers.py"))
    assert any(f"{views}::a#" in key for keys in dropped for key in keys)
    assert project.dependent_files(set().union(*dropped)) == {views}
    assert lines(analyzer.analyze(ParsedDocument(VIEWS, path=views), views)) == []


def test_open_documents_take_precedence_over_the_files_on_disk(tmp_path: Path):
    open_docs = {str(tmp_path / "helpers.py"): ParsedDocument(HELPERS_FIXED, path="helpers.py")}
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "views.py").write_text(VIEWS)
    project = Project([tmp_path], overlay=open_docs.get)
    analyzer = Analyzer(SETTINGS, project=project)
    assert lines(analyzer.analyze_text(VIEWS, str(tmp_path / "views.py"))) == []
    del open_docs[str(tmp_path / "helpers.py")]
    assert lines(analyzer.analyze_text(VIEWS + "\n", str(tmp_path / "views.py"))) == [7]


def test_changes_on_disk_are_picked_up_and_deleted_files_forgotten(tmp_path: Path):
    project = make_project(tmp_path)
    analyzer = Analyzer(SETTINGS, project=project)
    views = str(tmp_path / "views.py")
    assert lines(analyzer.analyze_text(VIEWS, views)) == [7]
    (tmp_path / "helpers.py").write_text(HELPERS_FIXED + "\n# edited\n")
    project.refresh(str(tmp_path / "helpers.py"))
    assert lines(analyzer.analyze_text(VIEWS, views)) == []
    (tmp_path / "helpers.py").unlink()
    project.refresh(str(tmp_path / "helpers.py"))
    assert str(tmp_path / "helpers.py") not in {m.key for m in project.modules}
    assert lines(analyzer.analyze_text(VIEWS, views)) == []


def test_definition_provider_supplies_definitions_missing_locally(tmp_path: Path):
    asked: list[str] = []

    def provider(name: str) -> ExternalDefinition | None:
        asked.append(name)
        if name == "billing.gateway.run_job":
            return ExternalDefinition("indexed/billing/gateway.py",
                                      "import os\n\ndef run_job(name):\n    os.system('job ' + name)\n")
        return None

    code = textwrap.dedent("""
        import sys
        from billing.gateway import run_job
        run_job(sys.argv[1])
        run_job(sys.argv[2])
        """).lstrip()
    project = Project([tmp_path], provider=provider)
    findings = Analyzer(SETTINGS, project=project).analyze_text(code, str(tmp_path / "cli.py"))
    assert lines(findings) == [3, 4]
    assert findings[0].taint_path is not None
    assert findings[0].taint_path.sink.path == "indexed/billing/gateway.py"
    assert asked.count("billing.gateway.run_job") == 1
    assert "sys.argv" not in asked and not any(name.startswith("os.") for name in asked)


def test_without_a_project_same_file_calls_still_resolve():
    code = textwrap.dedent("""
        import os, sys

        def run(cmd):
            os.system("nice " + cmd)

        run(sys.argv[1])
        """).lstrip()
    findings = Analyzer(SETTINGS).analyze_text(code, "tool.py")
    assert (6, "command-injection") in {(f.span.start_line + 1, f.vuln_class.value) for f in findings}


def test_analysing_text_other_than_the_open_buffer_leaves_the_project_as_it_was(tmp_path: Path):
    helpers = str(tmp_path / "helpers.py")
    open_docs = {helpers: ParsedDocument(HELPERS, path=helpers)}
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "views.py").write_text(VIEWS)
    project = Project([tmp_path], overlay=open_docs.get)
    analyzer = Analyzer(SETTINGS, project=project)
    views = str(tmp_path / "views.py")
    assert lines(analyzer.analyze_text(VIEWS, views)) == [7]
    dropped: list[set[str]] = []
    project.listeners.append(dropped.append)
    assert lines(analyzer.analyze_text(HELPERS_FIXED, helpers)) == []  # e.g. a fix being verified
    assert dropped == []
    assert project.module_at(helpers).data == HELPERS.encode()  # type: ignore[union-attr]
    assert lines(analyzer.analyze_text(VIEWS, views)) == [7]


def test_a_bounded_project_rereads_evicted_modules_and_still_follows_flows(tmp_path: Path):
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "views.py").write_text(VIEWS)
    project = Project([tmp_path], check_disk=False, max_modules=1)
    project.index_files()
    analyzer = Analyzer(SETTINGS, project=project)
    views = str(tmp_path / "views.py")
    assert lines(analyzer.analyze_text(VIEWS, views)) == [7]
    assert len(project.modules) == 1
    assert lines(analyzer.analyze_text(VIEWS.replace("/b", "/c"), views)) == [7]
