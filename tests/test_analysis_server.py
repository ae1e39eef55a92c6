"""The taint engine through the real server: cross-file paths as relatedInformation, and an edit in a helper
module re-publishing the diagnostics of the open file that calls it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp_support import open_document, replace_all, start_session, wait_for_diagnostics

DB = textwrap.dedent("""
    import sqlite3


    def find(term):
        conn = sqlite3.connect("shop.db")
        return conn.execute("SELECT * FROM items WHERE name = '" + term + "'").fetchall()
    """).lstrip()
DB_FIXED = DB.replace("""execute("SELECT * FROM items WHERE name = '" + term + "'")""",
                      """execute("SELECT * FROM items WHERE name = ?", (term,))""")
VIEWS = textwrap.dedent("""
    from flask import Flask, request

    from shop import db

    app = Flask(__name__)


    @app.route("/search")
    def search():
        term = request.args.get("q", "")
        return {"rows": db.find(term)}
    """).lstrip()


def make_workspace(root: Path) -> None:
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "db.py").write_text(DB)
    (root / "shop" / "views.py").write_text(VIEWS)


async def test_cross_file_flow_is_sent_with_its_taint_path_as_related_information(lsp: LanguageClient,
                                                                                  tmp_path: Path):
    make_workspace(tmp_path)
    await start_session(lsp, tmp_path, lsp.client_name)
    uri = open_document(lsp, tmp_path / "shop" / "views.py", VIEWS)
    params = await wait_for_diagnostics(lsp, uri, version=1)
    [diagnostic] = params.diagnostics
    assert diagnostic.code == "sql-injection"
    assert diagnostic.range.start.line == 10
    assert diagnostic.data["rule"] == "sql.dbapi-execute"
    related = diagnostic.related_information
    assert related is not None and len(related) >= 4
    assert related[0].location.uri == uri
    assert related[0].location.range.start.line == 9
    assert related[0].message == "source: request.args"
    sink = related[-1]
    assert sink.location.uri == (tmp_path / "shop" / "db.py").as_uri()
    assert sink.location.range.start == types.Position(5, 11)
    assert sink.message.startswith("sink: conn.execute")


async def test_fixing_the_helper_clears_the_finding_in_the_open_caller(lsp: LanguageClient, tmp_path: Path):
    make_workspace(tmp_path)
    await start_session(lsp, tmp_path, lsp.client_name)
    views = open_document(lsp, tmp_path / "shop" / "views.py", VIEWS)
    assert (await wait_for_diagnostics(lsp, views, version=1)).diagnostics
    helper = open_document(lsp, tmp_path / "shop" / "db.py", DB)
    assert list((await wait_for_diagnostics(lsp, helper, version=1)).diagnostics) == []
    replace_all(lsp, helper, DB_FIXED, version=2)
    republished = await wait_for_diagnostics(lsp, views)
    assert list(republished.diagnostics) == []
    replace_all(lsp, helper, DB, version=3)
    again = await wait_for_diagnostics(lsp, views)
    assert [d.code for d in again.diagnostics] == ["sql-injection"]
