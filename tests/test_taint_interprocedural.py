"""Flows across functions and files: summaries, imports in every form, methods, instances."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.analysis.project import Project, project_for_scan
from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.scan import scan_path

SETTINGS = Settings(model_enabled=False)


def write(root: Path, files: dict[str, str]) -> None:
    """Create a small project on disk."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def analyze(root: Path, rel: str, project: Project | None = None) -> list[Finding]:
    """Findings of one file of the project on disk."""
    project = project or project_for_scan(root)
    return Analyzer(SETTINGS, project=project).analyze_text((root / rel).read_text(), rel)


DB = """
import sqlite3

def connect():
    return sqlite3.connect("app.db")

def find(term):
    return connect().execute("SELECT * FROM items WHERE name = '" + term + "'").fetchall()

def find_safe(term):
    return connect().execute("SELECT * FROM items WHERE name = ?", (term,)).fetchall()
"""


def test_call_into_another_module_is_reported_at_the_call_with_the_path_into_the_callee(tmp_path: Path):
    write(tmp_path, {"shop/db.py": DB, "shop/__init__.py": "", "shop/views.py": """
        from flask import Flask, request
        from shop import db
        app = Flask(__name__)

        @app.route("/find")
        def find():
            return {"rows": db.find(request.args["q"])}

        @app.route("/find-safe")
        def find_safe():
            return {"rows": db.find_safe(request.args["q"])}
        """})
    findings = analyze(tmp_path, "shop/views.py")
    assert [(f.span.start_line + 1, f.vuln_class.value) for f in findings] == [(7, "sql-injection")]
    steps = findings[0].taint_path.steps  # type: ignore[union-attr]
    assert steps[0].path == "shop/views.py" and steps[0].label == "source: request.args"
    assert steps[-1].path == "shop/db.py" and steps[-1].span.start_line + 1 == 7
    assert "find()" in findings[0].message


def test_every_import_form_resolves(tmp_path: Path):
    write(tmp_path, {"pkg/__init__.py": "from pkg.db import find as lookup\n", "pkg/db.py": DB, "app.py": """
        import sys
        import pkg.db
        import pkg.db as database
        from pkg import db
        from pkg.db import find
        from pkg.db import find as search
        from pkg import lookup

        term = sys.argv[1]
        pkg.db.find(term)
        database.find(term)
        db.find(term)
        find(term)
        search(term)
        lookup(term)
        """})
    lines = {f.span.start_line + 1 for f in analyze(tmp_path, "app.py") if f.vuln_class.value == "sql-injection"}
    assert lines == {10, 11, 12, 13, 14, 15}


def test_relative_imports_resolve(tmp_path: Path):
    write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/api/__init__.py": "", "app/api/routes.py": """
        from flask import Flask, request
        from ..db import find
        from .. import db
        app = Flask(__name__)

        @app.route("/a")
        def a():
            return {"a": find(request.args["q"]), "b": db.find(request.args["q"])}
        """})
    findings = analyze(tmp_path, "app/api/routes.py")
    assert len({(f.span.start_byte, f.vuln_class) for f in findings}) == 2


def test_methods_on_self_and_on_instances_resolve(tmp_path: Path):
    write(tmp_path, {"repo.py": """
        import sqlite3

        class Repo:
            def __init__(self):
                self.conn = sqlite3.connect("app.db")

            def _query(self, sql):
                return self.conn.execute(sql).fetchall()

            def by_name(self, name):
                return self._query("SELECT * FROM users WHERE name = '%s'" % name)

            def by_id(self, user_id):
                return self._query("SELECT * FROM users WHERE id = %d" % int(user_id))

        repo = Repo()
        """, "views.py": """
        from flask import Flask, request
        from repo import Repo, repo
        app = Flask(__name__)

        @app.route("/u")
        def user():
            local = Repo()
            a = local.by_name(request.args["name"])
            b = repo.by_name(request.args["name"])
            c = local.by_id(request.args["id"])
            return {"a": a, "b": b, "c": c}
        """})
    lines = {f.span.start_line + 1 for f in analyze(tmp_path, "views.py")}
    assert lines == {8, 9}


def test_helpers_returning_request_data_make_their_callers_sources(tmp_path: Path):
    write(tmp_path, {"params.py": """
        from flask import request

        def query_param(name):
            return request.args.get(name, "")
        """, "views.py": """
        import subprocess
        from flask import Flask
        from params import query_param
        app = Flask(__name__)

        def run_report():
            host = query_param("host")
            subprocess.run("ping -c 1 " + host, shell=True)
        """})
    findings = analyze(tmp_path, "views.py")
    assert [(f.span.start_line + 1, f.rule) for f in findings] == [(8, "command.subprocess-shell")]
    assert findings[0].taint_path is not None
    assert findings[0].taint_path.source.path == "params.py"


def test_sanitizing_wrapper_functions_are_honoured_through_their_summary(tmp_path: Path):
    write(tmp_path, {"util.py": """
        import os
        import shlex

        def quoted(value):
            return shlex.quote(value)

        def name_only(value):
            return os.path.basename(value)
        """, "app.py": """
        import os
        import subprocess
        from flask import Flask, request
        from util import name_only, quoted
        app = Flask(__name__)

        @app.route("/a")
        def a():
            subprocess.run("ls " + quoted(request.args["d"]), shell=True)
            return open(os.path.join("/srv", name_only(request.args["f"]))).read()

        @app.route("/b")
        def b():
            return open(os.path.join("/srv", quoted(request.args["f"]))).read()
        """})
    found = {(f.span.start_line + 1, f.vuln_class.value) for f in analyze(tmp_path, "app.py")}
    assert found == {(14, "path-traversal")}


def test_scan_reports_cross_file_flows_with_relative_paths(tmp_path: Path):
    write(tmp_path, {"shop/db.py": DB, "shop/__init__.py": "", "shop/views.py": """
        from flask import Flask, request
        from shop.db import find
        app = Flask(__name__)

        @app.route("/find")
        def view():
            return {"rows": find(request.args["q"])}
        """})
    result = scan_path(tmp_path, SETTINGS, workers=1)
    [finding] = [f for f in result.findings if f.vuln_class.value == "sql-injection"]
    assert finding.path == "shop/views.py"
    assert finding.taint_path is not None and finding.taint_path.sink.path == "shop/db.py"


def test_recursion_and_deep_chains_terminate(tmp_path: Path):
    write(tmp_path, {"loop.py": """
        import os, sys

        def ping(x, n):
            return pong(x, n - 1) if n else x

        def pong(x, n):
            return ping(x, n)

        def run():
            os.system("echo " + ping(sys.argv[1], 3))
        """})
    findings = analyze(tmp_path, "loop.py")
    assert [f.span.start_line + 1 for f in findings] == [10]


def test_a_command_line_built_by_a_helper_keeps_its_fixed_program(tmp_path: Path):
    write(tmp_path, {"tool.py": """
        import argparse
        import subprocess
        import sys

        def command(options):
            argv = [sys.executable, "worker.py"]
            if options.verbose:
                argv.append("-v")
            argv.append(options.target)
            return argv

        def main():
            options = argparse.ArgumentParser().parse_args()
            subprocess.run(command(options))
            subprocess.run([options.program, "--version"])
        """})
    findings = analyze(tmp_path, "tool.py")
    # an operator's own argparse options in a script that is no server: review tier, never a proven flow
    assert [(f.span.start_line + 1, f.rule, f.tier) for f in findings] == [
        (15, "command.subprocess-program.review", "review")]


def test_route_decorators_of_an_imported_blueprint_make_route_variables_sources(tmp_path: Path):
    write(tmp_path, {"web/__init__.py": "", "web/blueprints.py": """
        from flask import Blueprint
        files = Blueprint("files", __name__)
        """, "web/views.py": """
        import os
        from web.blueprints import files

        @files.get("/raw/<path:name>")
        def raw(name):
            return open(os.path.join("/srv", name)).read()

        @files.get("/by-id/<int:number>")
        def by_id(number):
            return open(os.path.join("/srv", "%d.txt" % number)).read()
        """})
    findings = analyze(tmp_path, "web/views.py")
    assert [(f.span.start_line + 1, f.vuln_class.value) for f in findings] == [(6, "path-traversal")]
