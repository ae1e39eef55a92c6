"""Flows through what real code does (closures, lambdas, encodings, attributes, helpers, decorators).

A line marked `# VULN` must be reported with the class under test as a proven flow (a taint path from a source);
the safe twin beside it must have no proven flow of that class.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_taint_frameworks import found, found_in_project, marked

FLASK = """
import base64, os, sqlite3, urllib.parse
from flask import Flask, request
app = Flask(__name__)
db = sqlite3.connect("x.db")
"""


def route(body: str) -> str:
    """A Flask view whose body is `body` (4-space indented lines)."""
    return FLASK + "\n@app.route('/r')\ndef r():\n" + body + "\n    return 'ok'\n"


def test_closure_reads_a_tainted_variable_of_its_enclosing_view():
    code = route("""
    q = request.args["q"]
    fixed = "name"

    def run():
        db.execute("SELECT * FROM t WHERE a = '" + q + "'")  # VULN
        db.execute("SELECT * FROM t WHERE a = '" + fixed + "'")

    run()""")
    assert found(code, "sql-injection") == marked(code)


def test_nested_helper_called_with_request_data_is_reported_at_the_call():
    code = route("""
    def lookup(term):
        return db.execute("SELECT * FROM t WHERE a = '" + term + "'")

    lookup(request.args["q"])  # VULN
    lookup("fixed")""")
    assert found(code, "sql-injection") == marked(code)


def test_lambda_body_reading_request_data_reaches_its_sink():
    code = route("""
    q = request.args["q"]
    run = lambda: db.execute("SELECT * FROM t WHERE a = '" + q + "'")  # VULN
    run_safe = lambda: db.execute("SELECT * FROM t WHERE a = ?", (q,))
    run()
    run_safe()""")
    assert found(code, "sql-injection") == marked(code)


def test_value_returned_by_a_lambda_carries_its_taint():
    code = route("""
    get = lambda: request.args["q"]
    const = lambda: "name"
    db.execute("SELECT * FROM t WHERE a = '" + get() + "'")  # VULN
    db.execute("SELECT * FROM t WHERE a = '" + const() + "'")""")
    assert found(code, "sql-injection") == marked(code)


@pytest.mark.parametrize("expr", [
    "{k: v for k, v in request.args.items()}['q']",
    "{v for v in request.args.getlist('q')}.pop()",
    "', '.join(v for v in request.args.getlist('q'))",
    "[v.strip() for v in request.args.getlist('q')][0]",
])
def test_comprehensions_carry_request_data(expr: str):
    code = route(f"""
    value = {expr}
    db.execute("SELECT * FROM t WHERE a IN (" + value + ")")  # VULN
    db.execute("SELECT * FROM t WHERE a IN (" + ", ".join(str(int(v)) for v in [1, 2]) + ")")""")
    assert found(code, "sql-injection") == marked(code)


def test_kwargs_unpacked_into_a_helper_reach_its_parameters():
    code = route("""
    def lookup(name, order="id"):
        return db.execute("SELECT * FROM t WHERE a = '" + name + "'")

    lookup(**request.args)  # VULN
    lookup(**{"name": "fixed"})""")
    assert found(code, "sql-injection") == marked(code)


def test_kwargs_collected_by_a_helper_carry_request_data():
    code = route("""
    def lookup(**filters):
        return db.execute("SELECT * FROM t WHERE a = '" + filters["name"] + "'")

    lookup(name=request.args["q"])  # VULN
    lookup(name="fixed")""")
    assert found(code, "sql-injection") == marked(code)


@pytest.mark.parametrize("build", [
    "'SELECT * FROM t WHERE a = \\'{}\\''.format(q)",
    "'SELECT * FROM t WHERE a = \\'{name}\\''.format(name=q)",
    "'SELECT * FROM t WHERE a = \\'%(name)s\\'' % {'name': q}",
    "'SELECT * FROM t WHERE a = \\'%s\\' AND b = %d' % (q, 1)",
    "' '.join(['SELECT * FROM t WHERE a =', q])",
    "f'SELECT * FROM t WHERE a = {q!r}'",
    "'SELECT * FROM t WHERE a = ' + str(q)",
])
def test_string_building_carries_request_data(build: str):
    code = route(f"""
    q = request.args["q"]
    db.execute({build})  # VULN
    db.execute("SELECT * FROM t WHERE a = ?", (q,))""")
    assert found(code, "sql-injection") == marked(code)


@pytest.mark.parametrize("decode", [
    "base64.b64decode(request.args['q']).decode()",
    "base64.urlsafe_b64decode(request.args['q'].encode()).decode('utf-8')",
    "urllib.parse.unquote(request.args['q'])",
    "urllib.parse.unquote_plus(request.args['q'])",
    "urllib.parse.quote(request.args['q'])",
    "request.args['q'].encode('utf-8').decode('latin-1')",
    "bytes.fromhex(request.args['q']).decode()",
])
def test_encoding_round_trips_keep_request_data_tainted(decode: str):
    code = route(f"""
    q = {decode}
    db.execute("SELECT * FROM t WHERE a = '" + q + "'")  # VULN
    db.execute("SELECT * FROM t WHERE a = '" + base64.b64encode(b"fixed").decode() + "'")""")
    assert found(code, "sql-injection") == marked(code)


def test_a_branch_that_taints_taints_after_the_if():
    code = route("""
    if request.args.get("raw"):
        q = request.args["raw"]
    else:
        q = "name"
    db.execute("SELECT * FROM t WHERE a = '" + q + "'")  # VULN""")
    assert found(code, "sql-injection") == marked(code)


def test_literals_assigned_in_both_branches_clear_the_taint():
    code = route("""
    q = request.args["q"]
    if q == "a":
        q = "alpha"
    else:
        q = "beta"
    db.execute("SELECT * FROM t WHERE a = '" + q + "'")""")
    assert found(code, "sql-injection") == set()


def test_self_attribute_set_from_the_request_in_one_method_reaches_a_sink_in_another():
    code = """
    import os
    from flask import request
    from flask.views import MethodView

    class Job(MethodView):
        def prepare(self):
            self.name = request.args["name"]
            self.tool = "ls"

        def run(self):
            os.system("run-job " + self.name)  # VULN
            os.system("run " + self.tool)

        def get(self):
            self.prepare()
            self.run()
            return "ok"
    """
    assert found(code, "command-injection") == marked(code)


def test_self_attribute_set_in_init_from_a_request_parameter_reaches_another_method():
    code = """
    import sqlite3
    from django.views import View

    db = sqlite3.connect("x.db")

    class Search(View):
        def setup(self, request, *args, **kwargs):
            super().setup(request, *args, **kwargs)
            self.term = request.GET.get("q", "")
            self.order = "name"

        def get(self, request):
            db.execute("SELECT * FROM t WHERE a = '%s'" % self.term)  # VULN
            db.execute("SELECT * FROM t ORDER BY %s" % self.order)
    """
    assert found(code, "sql-injection", "views.py") == marked(code)


def test_self_attribute_set_by_a_base_handler_class_reaches_a_subclass_method():
    code = """
    import os
    import tornado.web

    class BaseHandler(tornado.web.RequestHandler):
        def prepare(self):
            self.job = self.get_argument("job")
            self.queue = "default"

    class Run(BaseHandler):
        def get(self):
            os.system("run-job " + self.job)  # VULN
            os.system("run-queue " + self.queue)
    """
    assert found(code, "command-injection", "handlers.py") == marked(code)


def test_class_attribute_assigned_from_a_handler_reaches_another_method():
    code = """
    import sqlite3
    from flask import request

    db = sqlite3.connect("x.db")

    class Report:
        title = "report"

        def load(self):
            self.where = request.args["where"]

        def render(self):
            db.execute("SELECT * FROM t WHERE " + self.where)  # VULN
            db.execute("SELECT * FROM t WHERE name = '" + self.title + "'")
    """
    assert found(code, "sql-injection", "reports.py") == marked(code)


def test_a_value_returned_by_a_helper_in_a_sibling_module_is_tainted(tmp_path: Path):
    files = {
        "helpers.py": """
            from flask import request

            def search_term():
                return request.args.get("q", "")

            def default_term():
                return "name"
        """,
        "app.py": """
            import sqlite3
            from flask import Flask
            from helpers import default_term, search_term

            app = Flask(__name__)
            db = sqlite3.connect("x.db")

            @app.route("/s")
            def s():
                db.execute("SELECT * FROM t WHERE a = '" + search_term() + "'")  # VULN
                db.execute("SELECT * FROM t WHERE a = '" + default_term() + "'")
                return "ok"
        """,
    }
    assert found_in_project(tmp_path, files, "app.py", "sql-injection") == marked(files["app.py"])


def test_a_value_returned_by_a_helper_of_a_package_module_is_tainted(tmp_path: Path):
    files = {
        "web/__init__.py": "",
        "web/params.py": """
            def arg(request, name):
                return request.GET.get(name, "")
        """,
        "web/views.py": """
            import os
            from .params import arg

            def run(request):
                os.system("run " + arg(request, "cmd"))  # VULN
        """,
    }
    assert found_in_project(tmp_path, files, "web/views.py", "command-injection") == marked(files["web/views.py"])


def test_a_helper_given_the_request_object_under_another_name_returns_its_data():
    code = route("""
    db.execute("SELECT * FROM t WHERE a = '" + arg(request, "q") + "'")  # VULN
    db.execute("SELECT * FROM t WHERE a = ?", (arg(request, "q"),))""") + """

def arg(r, name):
    return r.args.get(name, "")
"""
    assert found(code, "sql-injection") == marked(code)


def test_a_helper_given_a_django_request_reaches_its_own_sink():
    code = """
    from django.db import connection

    def run_search(r):
        connection.cursor().execute("SELECT * FROM t WHERE a = '%s'" % r.GET["q"])  # VULN

    def run_count(r):
        connection.cursor().execute("SELECT count(*) FROM t WHERE a = %s", [r.GET["q"]])

    def search(request):
        run_search(request)
        run_count(request)
    """
    assert found(code, "sql-injection", "views.py") == marked(code)


def test_a_functools_wraps_decorator_does_not_hide_the_route():
    code = """
    import functools
    from flask import Flask, request
    from markupsafe import escape

    app = Flask(__name__)

    def login_required(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)
        return wrapper

    @app.route("/hello/<name>")
    @login_required
    def hello(name):
        return "<p>" + name + "</p>"  # VULN

    @login_required
    @app.route("/hi/<name>")
    def hi(name):
        return "<p>" + escape(name) + "</p>"

    @login_required
    @app.route("/hey")
    def hey():
        return "<p>" + request.args["name"] + "</p>"  # VULN
    """
    assert found(code, "xss") == marked(code)


def test_a_function_level_import_of_a_project_helper_carries_the_flow_into_it(tmp_path: Path):
    files = {
        "shop/db.py": """
        import sqlite3


        def run(sql):
            return sqlite3.connect("shop.db").execute(sql)


        def run_bound(sql, value):
            return sqlite3.connect("shop.db").execute(sql, (value,))
        """,
        "shop/views.py": """
        from flask import Flask, request

        app = Flask(__name__)


        @app.route("/items")
        def items():
            from shop.db import run, run_bound
            run_bound("SELECT * FROM items WHERE name = ?", request.args["name"])
            return str(run("SELECT * FROM items WHERE name = '" + request.args["name"] + "'").fetchall())
        """}
    assert found_in_project(tmp_path, files, "shop/views.py", "sql-injection") == {10}
