"""The chunker: definitions become chunks with their names, lines, imports and calls; big ones are split."""

from __future__ import annotations

import itertools

from ai_core.retrieval.chunker import MAX_CHUNK_LINES, chunk_source, module_name

SOURCE = '''"""Accounts."""
import subprocess
from flask import request as rq

LIMIT = 10


@app.route("/run")
def run_job():
    """Run a job."""
    name = rq.args.get("name")
    return subprocess.run(["job", name])


class Repo(Base):
    """A repository."""
    table = "users"

    def find(self, uid):
        return self.db.execute("SELECT 1", (uid,))

    async def close(self):
        await self.db.close()


if __name__ == "__main__":
    run_job()
'''


def by_name(chunks, name, kind=None):
    """The chunks called `name` (of one kind)."""
    return [c for c in chunks if c.name == name and (kind is None or c.kind == kind)]


def test_functions_methods_classes_and_module_code_become_separate_chunks():
    chunks = chunk_source("app/jobs.py", SOURCE)
    summary = [(c.kind, c.name, c.start_line, c.end_line) for c in chunks]
    assert summary == [
        ("module", "app.jobs", 1, 5),
        ("function", "run_job", 8, 12),
        ("class", "Repo", 15, 17),
        ("method", "Repo.find", 19, 20),
        ("method", "Repo.close", 22, 23),
        ("module", "app.jobs", 26, 27),
    ]


def test_chunk_text_is_the_exact_source_lines_decorators_included():
    chunks = chunk_source("app/jobs.py", SOURCE)
    lines = SOURCE.split("\n")
    for chunk in chunks:
        assert chunk.text == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
    assert by_name(chunks, "run_job")[0].text.startswith('@app.route("/run")\ndef run_job():')


def test_chunks_record_symbols_resolved_imports_and_calls():
    chunks = chunk_source("app/jobs.py", SOURCE)
    function = by_name(chunks, "run_job")[0]
    assert function.symbols == ("run_job",)
    assert function.imports == ("flask.request", "subprocess")
    assert function.calls == ("app.route", "rq.args.get", "subprocess.run")
    header = by_name(chunks, "app.jobs")[0]
    assert header.symbols == ("LIMIT",)
    assert header.imports == ("subprocess", "flask.request")
    cls = by_name(chunks, "Repo", "class")[0]
    assert cls.symbols == ("Repo", "table", "find", "close")
    assert (cls.scope_start, cls.scope_end) == (15, 23)
    assert by_name(chunks, "Repo.find")[0].calls == ("self.db.execute",)


def test_a_long_function_is_split_into_contiguous_parts_along_statements():
    body = "".join(f"    value_{i} = compute({i})\n" for i in range(150))
    source = f"def long_one(x):\n    '''Long.'''\n{body}    return value_1\n"
    parts = chunk_source("long.py", source)
    assert len(parts) > 1
    assert all(p.name == "long_one" and p.kind == "function" for p in parts)
    assert [p.part for p in parts] == list(range(1, len(parts) + 1))
    assert parts[0].start_line == 1 and parts[-1].end_line == 153
    for before, after in itertools.pairwise(parts):
        assert after.start_line == before.end_line + 1
    assert all(p.end_line - p.start_line + 1 <= MAX_CHUNK_LINES for p in parts)
    assert all((p.scope_start, p.scope_end) == (1, 153) for p in parts)
    assert "\n".join(p.text for p in parts) == source.rstrip("\n")
    assert "part 2" in parts[1].embedding_text and "function long_one" in parts[1].embedding_text


def test_a_short_function_stays_whole():
    source = "def short(a):\n" + "".join(f"    a += {i}\n" for i in range(MAX_CHUNK_LINES - 3)) + "    return a\n"
    chunks = chunk_source("short.py", source)
    assert [(c.kind, c.part) for c in chunks] == [("function", 0)]


def test_a_file_with_syntax_errors_falls_back_to_line_windows():
    source = "def broken(:\n    pass\n" + "x = 1\n" * 100
    chunks = chunk_source("broken.py", source)
    assert chunks and all(c.kind == "window" for c in chunks)
    assert chunks[0].start_line == 1
    assert sum(c.end_line - c.start_line + 1 for c in chunks) == 102


def test_identical_code_shares_a_content_hash_but_not_an_id():
    one = chunk_source("a.py", "def f():\n    return 1\n")[0]
    moved = chunk_source("b.py", "\n\ndef f():\n    return 1\n")[0]
    changed = chunk_source("a.py", "def f():\n    return 2\n")[0]
    assert one.content_hash == moved.content_hash
    assert one.id != moved.id
    assert one.content_hash != changed.content_hash


def test_empty_files_have_no_chunks_and_module_names_follow_packages():
    assert chunk_source("empty.py", "") == []
    assert module_name("pkg/sub/mod.py") == "pkg.sub.mod"
    assert module_name("pkg/__init__.py") == "pkg"
