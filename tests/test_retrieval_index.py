"""The workspace index on a real LanceDB in a temporary folder, with the real MiniLM embeddings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ai_core.analysis.project import Project
from ai_core.config import Settings
from ai_core.parsing import ParsedDocument
from ai_core.retrieval import CodeIndex, Embedder, default_embedder
from ai_core.retrieval.provider import IndexDefinitionProvider
from ai_core.retrieval.store import IndexStore

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILES = {
    "shop/db.py": '''
import sqlite3


def get_connection(path="shop.db"):
    """Open the shop database."""
    return sqlite3.connect(path)


def load_customer(conn, customer_id):
    """Fetch one customer row by its id."""
    cur = conn.cursor()
    cur.execute("SELECT * FROM customers WHERE id = ?", (customer_id,))
    return cur.fetchone()
''',
    "shop/mail.py": '''
import smtplib


class Mailer:
    """Outgoing e-mail."""

    def send_welcome_email(self, address):
        smtp = smtplib.SMTP("localhost")
        smtp.sendmail("noreply@example.com", address, "Welcome to the shop!")
''',
    "shop/text.py": '''
import html


def sanitize_markup(value):
    """Escape HTML special characters."""
    return html.escape(value)
''',
    "shop/views.py": '''
from flask import Flask, request

from shop.db import get_connection, load_customer
from shop.text import sanitize_markup

app = Flask(__name__)


@app.route("/customer")
def show_customer():
    conn = get_connection()
    return sanitize_markup(str(load_customer(conn, request.args["id"])))
''',
}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The real MiniLM, loaded once for the module."""
    model = default_embedder()
    model.load()
    return model


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small multi-file project."""
    for rel, text in FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    return tmp_path


@pytest.fixture
def index(project: Path, embedder: Embedder) -> CodeIndex:
    """The project indexed into `.coderev/index`."""
    idx = CodeIndex(project, embedder=embedder)
    idx.sync()
    return idx


def names(results) -> list[str]:
    """The chunk names of search results, best first."""
    return [r.name for r in results]


def test_indexing_a_project_stores_its_chunks_under_coderev_index(project: Path, embedder: Embedder):
    before = embedder.computed
    idx = CodeIndex(project, embedder=embedder)
    stats = idx.sync()
    assert (project / ".coderev" / "index" / "chunks.lance").is_dir()
    assert stats.files == 4 and stats.changed == 4 and stats.removed == 0
    counts = idx.stats()
    assert counts["files"] == 4
    assert counts["chunks"] == stats.chunks_added == embedder.computed - before
    assert counts["bytes"] > 0


def test_hybrid_search_finds_a_function_by_its_name(index: CodeIndex):
    results = index.search("load_customer", limit=3)
    assert results[0].name == "load_customer"
    assert (results[0].path, results[0].start_line, results[0].end_line) == ("shop/db.py", 9, 13)
    assert results[0].kind == "function"


def test_hybrid_search_finds_a_function_by_its_meaning(index: CodeIndex):
    results = index.search("send an e-mail to a newly registered user", limit=3)
    assert results[0].name == "Mailer.send_welcome_email"
    results = index.search("escape html to prevent script injection", limit=3)
    assert results[0].name == "sanitize_markup"


def test_search_can_be_limited_to_a_folder_or_file_and_a_kind(index: CodeIndex):
    assert {r.path for r in index.search("customer", limit=10, path="shop/db.py")} == {"shop/db.py"}
    assert all(r.kind == "method" for r in index.search("email", limit=10, kind="method"))
    assert index.search("customer", limit=10, path="elsewhere") == []
    with pytest.raises(ValueError, match="unknown kind"):
        index.search("x", kind="lambda")


def test_vector_and_text_modes_each_work_alone(index: CodeIndex):
    assert index.search("load_customer", mode="text", limit=1)[0].name == "load_customer"
    assert index.search("open a connection to the database", mode="vector", limit=1)[0].name == "get_connection"


def test_editing_a_file_re_embeds_only_its_changed_chunks(index: CodeIndex, project: Path, embedder: Embedder):
    db = project / "shop" / "db.py"
    db.write_text(db.read_text().replace("SELECT * FROM customers", "SELECT id, name FROM customers"))
    before = embedder.computed
    stats = index.sync()
    assert embedder.computed - before == 1  # load_customer only
    assert (stats.changed, stats.chunks_added, stats.chunks_removed) == (1, 1, 1)
    assert "SELECT id, name" in index.search("load_customer", limit=1)[0].text


def test_code_moved_down_keeps_its_embedding(index: CodeIndex, project: Path, embedder: Embedder):
    text = project / "shop" / "text.py"
    text.write_text("# a comment line\n\n" + text.read_text())
    before = embedder.computed
    stats = index.sync()
    assert embedder.computed - before == 1  # the new module chunk with the comment; sanitize_markup only moved
    assert stats.reused >= 1
    assert index.search("sanitize_markup", limit=1)[0].start_line == 6


def test_an_untouched_project_is_not_read_again(index: CodeIndex, embedder: Embedder):
    before = embedder.computed
    stats = index.sync()
    assert (stats.changed, stats.chunks_added, stats.chunks_removed) == (0, 0, 0)
    assert embedder.computed == before


def test_touching_a_file_without_changing_it_embeds_nothing(index: CodeIndex, project: Path, embedder: Embedder):
    path = project / "shop" / "mail.py"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    before = embedder.computed
    stats = index.sync()
    assert stats.changed == 0 and embedder.computed == before


def test_deleting_a_file_removes_its_rows(index: CodeIndex, project: Path):
    (project / "shop" / "mail.py").unlink()
    stats = index.sync()
    assert stats.removed == 1 and stats.chunks_removed == 3
    assert index.store.count("chunks", "path = 'shop/mail.py'") == 0
    assert index.store.count("files", "path = 'shop/mail.py'") == 0
    assert "Mailer.send_welcome_email" not in names(index.search("welcome email", limit=10))


def test_update_handles_saved_and_deleted_files_by_name(index: CodeIndex, project: Path, embedder: Embedder):
    views = project / "shop" / "views.py"
    views.write_text(views.read_text() + "\n\ndef health():\n    return 'ok'\n")
    (project / "shop" / "text.py").unlink()
    before = embedder.computed
    stats = index.update(changed=[views], deleted=[project / "shop" / "text.py"])
    assert embedder.computed - before == 1
    assert stats.removed == 1
    assert index.find_definitions("health")[0].text == "def health():\n    return 'ok'"
    assert index.find_definitions("sanitize_markup") == []


def test_content_seen_before_is_never_embedded_twice(index: CodeIndex, project: Path, embedder: Embedder):
    mail = project / "shop" / "mail.py"
    saved = mail.read_text()
    mail.unlink()
    index.sync()
    mail.write_text(saved)  # restored, e.g. by switching git branches
    before = embedder.computed
    stats = index.sync()
    assert embedder.computed == before
    assert stats.chunks_added == 3 and stats.reused == 3


def test_a_corrupt_table_is_rebuilt_instead_of_crashing(index: CodeIndex, project: Path, embedder: Embedder):
    folder = project / ".coderev" / "index" / "chunks.lance" / "data"
    for data_file in folder.iterdir():
        data_file.write_bytes(b"not a lance file")
    fresh = CodeIndex(project, embedder=embedder)
    stats = fresh.sync()
    assert fresh.store.rebuilt
    assert stats.changed == 4
    assert fresh.search("load_customer", limit=1)[0].name == "load_customer"


def test_a_missing_manifest_is_rebuilt_too(index: CodeIndex, project: Path, embedder: Embedder):
    shutil.rmtree(project / ".coderev" / "index" / "files.lance" / "_versions")
    fresh = CodeIndex(project, embedder=embedder)
    fresh.sync()
    assert fresh.store.rebuilt and fresh.stats()["files"] == 4


def test_an_index_of_another_schema_version_is_rebuilt(index: CodeIndex, project: Path, monkeypatch):
    import ai_core.retrieval.store as store_module

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", "999")
    store = IndexStore(index.uri).open()
    assert store.rebuilt and store.count("chunks") == 0


def test_find_definitions_returns_whole_definitions_with_absolute_paths(index: CodeIndex, project: Path):
    [found] = index.find_definitions("load_customer")
    assert found.path == str(project / "shop" / "db.py")
    assert (found.start_line, found.end_line) == (9, 13)
    assert found.text.startswith("def load_customer(conn, customer_id):")
    [method] = index.find_definitions("Mailer.send_welcome_email")
    assert method.text.startswith("def send_welcome_email(self, address):")  # dedented
    [app] = index.find_definitions("app")  # a module-level binding: its statements
    assert app.path == str(project / "shop" / "views.py") and app.text.endswith("\napp = Flask(__name__)")
    assert index.find_definitions("Flask") == []  # imported, not defined here
    assert [d.start_line for d in index.find_definitions("load_customer", module="shop.db")] == [9]
    assert index.find_definitions("load_customer", module="shop.views") == []


def test_find_callers_lists_the_chunks_that_call_a_function(index: CodeIndex):
    callers = index.find_callers("load_customer")
    assert [(c.path, c.name) for c in callers] == [("shop/views.py", "show_customer")]
    assert [c.name for c in index.find_callers("sendmail")] == ["Mailer.send_welcome_email"]


def test_binary_and_oversized_files_are_skipped_with_a_reason(project: Path, embedder: Embedder):
    (project / "blob.py").write_bytes(b"\x00\x01binary")
    (project / "huge.py").write_text("x = 1\n" * 2000)
    idx = CodeIndex(project, Settings(max_file_bytes=5000), embedder=embedder)
    stats = idx.sync()
    reasons = dict(stats.skipped_reasons)
    assert reasons["blob.py"] == "binary file"
    assert reasons["huge.py"].startswith("larger than 5000 bytes")
    assert idx.store.count("chunks", "path IN ('blob.py', 'huge.py')") == 0
    assert idx.sync().skipped == 0  # remembered: not read again while unchanged


def test_index_uri_setting_places_the_index_and_excludes_apply(project: Path, embedder: Embedder, tmp_path: Path):
    settings = Settings(index_uri="build/idx", exclude=("shop/mail.py",))
    idx = CodeIndex(project, settings, embedder=embedder)
    idx.sync()
    assert (project / "build" / "idx" / "chunks.lance").is_dir()
    assert idx.store.count("chunks", "path = 'shop/mail.py'") == 0


def test_the_index_answers_the_project_symbol_table_for_unresolved_definitions(index: CodeIndex, tmp_path: Path):
    provider = IndexDefinitionProvider(lambda: [index])
    external = provider("shop.text.sanitize_markup")
    assert external is not None and "html.escape(value)" in external.source
    assert provider("other.module.sanitize_markup") is None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project = Project([elsewhere], provider=provider)
    doc = ParsedDocument("from shop.text import sanitize_markup\n", path=str(elsewhere / "main.py"))
    module = project.module_for(doc, str(elsewhere / "main.py"))
    resolved = project.resolve(module, "shop.text.sanitize_markup")
    assert resolved is not None and getattr(resolved, "name", None) == "sanitize_markup"
    assert project.stats.provider_calls == 1


def test_an_index_uri_with_a_scheme_is_used_as_is(project: Path, embedder: Embedder):
    idx = CodeIndex(project, Settings(index_uri="memory://coderev-test-index"), embedder=embedder)
    idx.sync()
    assert idx.uri == "memory://coderev-test-index"
    assert not (project / ".coderev").exists()
    assert idx.search("load_customer", limit=1)[0].name == "load_customer"


def test_a_table_corrupted_while_open_is_rebuilt_by_the_next_sync(index: CodeIndex, project: Path):
    for data_file in (project / ".coderev" / "index" / "chunks.lance" / "data").iterdir():
        data_file.write_bytes(b"garbage")
    db = project / "shop" / "db.py"
    db.write_text(db.read_text() + "\n\ndef count_customers(conn):\n    return 0\n")
    stats = index.sync()
    assert stats.changed == 4  # everything again, into fresh tables
    assert index.find_definitions("count_customers")[0].start_line == 16
