"""Request handlers wherever and however frameworks define them: each vulnerable handler beside its safe twin.

A line marked `# VULN` must be reported with the class under test as a proven flow (a finding with a taint path
from a source); every other line must have no proven flow of that class (structural findings are another matter).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.analysis.project import project_for_scan
from ai_core.analysis.symbols import build_module
from ai_core.analysis.taint.frameworks import declared_kinds, reads_untrusted_input
from ai_core.config import Settings
from ai_core.parsing import ParsedDocument

SETTINGS = Settings(model_enabled=False)
ANALYZER = Analyzer(SETTINGS)


def source(code: str) -> str:
    """The snippet as a file's text (dedented, first line is line 1)."""
    return textwrap.dedent(code).lstrip("\n")


def marked(code: str) -> set[int]:
    """Lines carrying a `# VULN` marker."""
    return {n for n, line in enumerate(source(code).splitlines(), 1) if "# VULN" in line}


def found(code: str, vuln_class: str, path: str = "app.py") -> set[int]:
    """Lines where a proven flow of `vuln_class` is reported in `code`."""
    return {f.span.start_line + 1 for f in ANALYZER.analyze_text(source(code), path)
            if f.vuln_class.value == vuln_class and f.taint_path is not None}


def found_in_project(root: Path, files: dict[str, str], rel: str, vuln_class: str) -> set[int]:
    """Lines of `rel` where a proven flow of `vuln_class` is reported, inside a small project on disk."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source(text), encoding="utf-8")
    analyzer = Analyzer(SETTINGS, project=project_for_scan(root))
    return {f.span.start_line + 1 for f in analyzer.analyze_text((root / rel).read_text(), rel)
            if f.vuln_class.value == vuln_class and f.taint_path is not None}


# ---------------------------------------------------------------------------------------------- Flask


def test_flask_routes_defined_inside_an_init_function_are_handlers():
    code = """
    import sqlite3
    from flask import request

    def init(app):
        db = sqlite3.connect("x.db")

        @app.route("/find")
        def find():
            db.execute("SELECT * FROM t WHERE a = '%s'" % request.args["q"])  # VULN
            db.execute("SELECT * FROM t WHERE a = ?", (request.args["q"],))
            return "ok"
    """
    assert found(code, "sql-injection") == marked(code)


def test_flask_route_variables_of_a_route_nested_in_init_are_sources():
    code = """
    import os

    def init(app):
        @app.route("/ping/<host>")
        def ping(host):
            os.system("ping -c1 " + host)  # VULN
            return "ok"

        @app.route("/wait/<int:seconds>")
        def wait(seconds):
            os.system("sleep %d" % seconds)
            return "ok"
    """
    assert found(code, "command-injection") == marked(code)


def test_flask_views_of_a_create_app_factory_return_html():
    code = """
    from flask import Flask, request
    from markupsafe import escape

    def create_app():
        app = Flask(__name__)

        @app.route("/hello")
        def hello():
            return "<p>Hello " + request.args.get("name", "") + "</p>"  # VULN

        @app.route("/hello-safe")
        def hello_safe():
            return "<p>Hello " + escape(request.args.get("name", "")) + "</p>"

        return app
    """
    assert found(code, "xss") == marked(code)


def test_blueprint_route_variables_are_sources():
    code = """
    import subprocess
    from flask import Blueprint

    bp = Blueprint("tools", __name__)

    @bp.route("/lookup/<name>")
    def lookup(name):
        return subprocess.check_output("host " + name, shell=True)  # VULN

    @bp.route("/lookup-safe/<name>")
    def lookup_safe(name):
        return subprocess.check_output(["host", name])
    """
    assert found(code, "command-injection") == marked(code)


def test_add_url_rule_view_func_returns_html():
    code = """
    from flask import Flask, request
    from markupsafe import escape

    app = Flask(__name__)

    def greet():
        return "<h1>" + request.args["name"] + "</h1>"  # VULN

    def greet_safe():
        return "<h1>" + escape(request.args["name"]) + "</h1>"

    app.add_url_rule("/greet", view_func=greet)
    app.add_url_rule("/greet-safe", "greet_safe", greet_safe)
    """
    assert found(code, "xss") == marked(code)


def test_views_made_by_a_registered_factory_return_html():
    code = """
    from flask import Flask, request
    from markupsafe import escape

    app = Flask(__name__)

    def make_view(template):
        def view():
            return template % request.args["name"]  # VULN
        return view

    def make_safe_view(template):
        def view():
            return template % escape(request.args["name"])
        return view

    app.add_url_rule("/hello", view_func=make_view("<p>%s</p>"))
    app.add_url_rule("/hello-safe", view_func=make_safe_view("<p>%s</p>"))
    """
    assert found(code, "xss") == marked(code)


def test_add_url_rule_route_variables_are_sources_of_the_view():
    code = """
    import os
    from flask import Flask

    app = Flask(__name__)

    def show(path):
        return open(os.path.join("/srv/files", path)).read()  # VULN

    def show_id(number):
        return open(os.path.join("/srv/files", str(number))).read()

    app.add_url_rule("/show/<path>", view_func=show)
    app.add_url_rule("/show-id/<int:number>", view_func=show_id)
    """
    assert found(code, "path-traversal") == marked(code)


def test_method_view_get_returns_html_and_reads_the_request():
    code = """
    from flask import request
    from flask.views import MethodView
    from markupsafe import escape

    class Greeting(MethodView):
        def get(self):
            return "<p>" + request.args["who"] + "</p>"  # VULN

    class SafeGreeting(MethodView):
        def get(self):
            return "<p>" + escape(request.args["who"]) + "</p>"
    """
    assert found(code, "xss") == marked(code)


def test_flask_view_dispatch_request_and_method_view_route_variables():
    code = """
    import os
    from flask.views import MethodView, View

    class Archive(View):
        def dispatch_request(self, name):
            os.system("tar czf /tmp/a.tgz " + name)  # VULN
            return "ok"

    class Item(MethodView):
        def delete(self, item_id):
            os.system("rm -rf /srv/items/" + item_id)  # VULN
            return "ok"

    class Counter(MethodView):
        def get(self):
            os.system("uptime")
            return "ok"
    """
    assert found(code, "command-injection") == marked(code)


def test_method_view_registered_with_converters_gets_only_its_text_variables():
    code = """
    import os
    from flask import Flask
    from flask.views import MethodView

    app = Flask(__name__)

    class Item(MethodView):
        def get(self, item_id, name):
            os.system("show-item %s " % item_id)
            os.system("show-item " + name)  # VULN
            return "ok"

    app.add_url_rule("/items/<int:item_id>/<name>", view_func=Item.as_view("item"))
    """
    assert found(code, "command-injection") == marked(code)


def test_django_form_cleaned_data_is_a_source():
    code = """
    from django import forms
    from django.db import connection

    class SearchForm(forms.Form):
        term = forms.CharField()

    def search(request):
        form = SearchForm(request.POST)
        if form.is_valid():
            term = form.cleaned_data["term"]
            connection.cursor().execute("SELECT * FROM t WHERE a = '%s'" % term)  # VULN
            connection.cursor().execute("SELECT * FROM t WHERE a = %s", [term])
    """
    assert found(code, "sql-injection", "views.py") == marked(code)


def test_flask_wtf_field_data_is_a_source():
    code = """
    import sqlite3
    from flask import Flask
    from flask_wtf import FlaskForm
    from wtforms import StringField

    app = Flask(__name__)
    db = sqlite3.connect("x.db")

    class SearchForm(FlaskForm):
        term = StringField("term")

    @app.route("/search", methods=["POST"])
    def search():
        form = SearchForm()
        if form.validate_on_submit():
            db.execute("SELECT * FROM t WHERE a = '" + form.term.data + "'")  # VULN
            db.execute("SELECT * FROM t WHERE a = ?", (form.term.data,))
        return "ok"
    """
    assert found(code, "sql-injection") == marked(code)


def test_a_helper_taking_a_request_id_is_not_a_view():
    code = """
    import os

    def cleanup(request_id):
        os.system("rm -rf /tmp/jobs/" + request_id)

    def archive(req_name):
        os.system("tar czf /tmp/a.tgz " + req_name)
    """
    assert found(code, "command-injection", "views.py") == set()


@pytest.mark.parametrize("expr", [
    "request.args.getlist('q')[0]",
    "request.args.get('q', 'default')",
    "request.form['q']",
    "request.values.get('q')",
    "request.get_json()['q']",
    "request.json.get('q')",
    "request.cookies.get('q')",
    "request.headers['X-Q']",
    "request.files['f'].filename",
    "request.view_args['q']",
    "dict(request.args)['q']",
    "request.get_data(as_text=True)",
])
def test_flask_request_data_in_every_shape_is_a_source(expr: str):
    code = f"""
    import sqlite3
    from flask import Flask, request

    app = Flask(__name__)
    db = sqlite3.connect("x.db")

    @app.route("/r")
    def r():
        value = {expr}
        db.execute("SELECT * FROM t WHERE a = '%s'" % value)  # VULN
        db.execute("SELECT * FROM t WHERE a = ?", (value,))
        return "ok"
    """
    assert found(code, "sql-injection") == marked(code)


def test_unpacked_request_values_are_each_sources():
    code = """
    import sqlite3
    from flask import Flask, request

    app = Flask(__name__)
    db = sqlite3.connect("x.db")

    @app.route("/r")
    def r():
        first, second = request.args["a"], request.args["b"]
        head, *rest = request.args.getlist("c")
        db.execute("SELECT * FROM t WHERE b = '%s'" % second)  # VULN
        db.execute("SELECT * FROM t WHERE c = '%s'" % rest[0])  # VULN
        db.execute("SELECT * FROM t WHERE a = ? AND b = ?", (first, head))
        return "ok"
    """
    assert found(code, "sql-injection") == marked(code)


def test_a_method_named_get_of_a_plain_class_is_not_a_handler():
    code = """
    import sqlite3

    db = sqlite3.connect("x.db")

    class Cache:
        def get(self, key):
            return db.execute("SELECT v FROM cache WHERE k = '%s'" % key).fetchone()

        def on_get(self, key):
            return db.execute("SELECT v FROM cache WHERE k = '%s'" % key).fetchone()
    """
    assert found(code, "sql-injection", "cache.py") == set()


def test_a_class_named_like_a_handler_without_a_framework_base_gains_no_sources():
    code = """
    import sqlite3

    db = sqlite3.connect("x.db")

    class EventHandler:
        def get(self, name):
            return db.execute("SELECT * FROM events WHERE name = '%s'" % name).fetchall()

        def do_GET(self):
            return db.execute("SELECT * FROM events WHERE name = '%s'" % self.path).fetchall()

    class ReportView:
        def post(self, title):
            db.execute("INSERT INTO reports VALUES ('%s')" % title)
    """
    assert found(code, "sql-injection", "events.py") == set()


# ---------------------------------------------------------------------------------------------- Django


def test_django_function_view_referenced_from_urlpatterns_is_a_handler(tmp_path: Path):
    files = {
        "shop/urls.py": """
            from django.urls import path, re_path
            from shop import handlers

            urlpatterns = [
                path("items/<str:name>/", handlers.item),
                re_path(r"^tag/(?P<tag>[^/]+)/$", handlers.tag),
            ]
        """,
        "shop/handlers.py": """
            from django.db import connection
            from django.http import HttpResponse

            def item(request, name):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT * FROM items WHERE name = '%s'" % name)  # VULN
                return HttpResponse("ok")

            def tag(request, tag):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT * FROM items WHERE tag = %s", [tag])
                return HttpResponse("ok")
        """,
        "shop/__init__.py": "",
    }
    assert found_in_project(tmp_path, files, "shop/handlers.py", "sql-injection") == \
        marked(files["shop/handlers.py"])


def test_django_url_captures_through_int_and_narrow_regex_converters_are_not_sources(tmp_path: Path):
    files = {
        "blog/urls.py": """
            from django.urls import path, re_path
            from . import views

            urlpatterns = [
                path("posts/<int:pk>/", views.post),
                re_path(r"^archive/(?P<year>[0-9]{4})/$", views.archive),
                path("search/<path:term>/", views.search),
            ]
        """,
        "blog/views.py": """
            from django.db import connection
            from django.http import HttpResponse

            def post(request, pk):
                connection.cursor().execute("SELECT * FROM posts WHERE id = %s" % pk)
                return HttpResponse("ok")

            def archive(request, year):
                connection.cursor().execute("SELECT * FROM posts WHERE year = %s" % year)
                return HttpResponse("ok")

            def search(request, term):
                connection.cursor().execute("SELECT * FROM posts WHERE body LIKE '%%%s%%'" % term)  # VULN
                return HttpResponse("ok")
        """,
        "blog/__init__.py": "",
    }
    assert found_in_project(tmp_path, files, "blog/views.py", "sql-injection") == marked(files["blog/views.py"])


@pytest.mark.parametrize("expr", [
    "request.GET.getlist('q')[0]",
    "request.POST.get('q', '')",
    "request.body.decode()",
    "request.META['HTTP_X_Q']",
    "request.COOKIES.get('q')",
    "request.FILES['f'].name",
    "request.headers.get('X-Q')",
])
def test_django_request_data_in_every_shape_is_a_source(expr: str):
    code = f"""
    from django.db import connection

    def view(request):
        value = {expr}
        connection.cursor().execute("SELECT * FROM t WHERE a = '%s'" % value)  # VULN
        connection.cursor().execute("SELECT * FROM t WHERE a = %s", [value])
    """
    assert found(code, "sql-injection", "views.py") == marked(code)


def test_django_template_view_reads_self_request():
    code = """
    from django.http import HttpResponse
    from django.utils.html import escape
    from django.views.generic import TemplateView

    class Search(TemplateView):
        def get(self, request, *args, **kwargs):
            return HttpResponse("<h1>" + self.request.GET.get("q", "") + "</h1>")  # VULN

    class SafeSearch(TemplateView):
        def get(self, request, *args, **kwargs):
            return HttpResponse("<h1>" + escape(self.request.GET.get("q", "")) + "</h1>")
    """
    assert found(code, "xss", "views.py") == marked(code)


def test_drf_viewset_request_data_and_query_params_are_sources():
    code = """
    import subprocess
    from rest_framework import viewsets
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Jobs(viewsets.ViewSet):
        def create(self, request):
            subprocess.run("run-job " + request.data["name"], shell=True)  # VULN
            subprocess.run(["run-job", request.data["name"]])
            return Response({})

    class Ping(APIView):
        def get(self, request):
            subprocess.call("ping " + request.query_params["host"], shell=True)  # VULN
            return Response({})
    """
    assert found(code, "command-injection", "api.py") == marked(code)


# ---------------------------------------------------------------------------------------------- FastAPI


def test_fastapi_api_router_query_body_form_header_cookie_params_are_sources():
    code = """
    import sqlite3
    from fastapi import APIRouter, Body, Cookie, Depends, Form, Header, Query

    router = APIRouter()
    db = sqlite3.connect("x.db")

    def current_user():
        return "me"

    @router.get("/items")
    def items(q: str = Query(...), sort: str = Header("name"), user: str = Depends(current_user)):
        db.execute(f"SELECT * FROM items WHERE name = '{q}'")  # VULN
        db.execute(f"SELECT * FROM items ORDER BY {sort}")  # VULN
        db.execute(f"SELECT * FROM items WHERE owner = '{user}'")
        return {}

    @router.post("/notes")
    def notes(title: str = Form(...), body: str = Body(...), token: str = Cookie(None), limit: int = 10):
        db.execute("INSERT INTO notes VALUES ('%s', '%s')" % (title, body))  # VULN
        db.execute("SELECT * FROM sessions WHERE token = '" + token + "'")  # VULN
        db.execute(f"SELECT * FROM notes LIMIT {limit}")
        return {}
    """
    assert found(code, "sql-injection") == marked(code)


def test_fastapi_path_parameter_of_a_router_is_a_source_with_annotated_query():
    code = """
    import os
    from typing import Annotated
    from fastapi import APIRouter, Path, Query

    router = APIRouter(prefix="/files")

    @router.get("/{name}")
    async def read(name: str = Path(...), mode: Annotated[str, Query()] = "r"):
        with open(os.path.join("/srv", name), mode) as f:  # VULN
            return f.read()

    @router.get("/by-id/{number}")
    async def read_id(number: int):
        with open(os.path.join("/srv", str(number))) as f:
            return f.read()
    """
    assert found(code, "path-traversal") == marked(code)


def test_fastapi_add_api_route_endpoint_parameters_are_sources():
    code = """
    import os
    from fastapi import FastAPI

    app = FastAPI()

    def show(name: str, count: int):
        os.system("show " + name)  # VULN
        os.system("show %d" % count)

    app.add_api_route("/show", show)
    """
    assert found(code, "command-injection") == marked(code)


# ---------------------------------------------------------------------------------------------- aiohttp


def test_aiohttp_route_table_handlers_read_match_info_query_and_post():
    code = """
    import asyncio
    from aiohttp import web

    routes = web.RouteTableDef()

    @routes.get("/ping/{host}")
    async def ping(request: web.Request):
        host = request.match_info["host"]
        await asyncio.create_subprocess_shell("ping -c1 " + host)  # VULN
        return web.Response(text="ok")

    @routes.post("/run")
    async def run(request):
        form = await request.post()
        await asyncio.create_subprocess_shell("run " + form["cmd"])  # VULN
        await asyncio.create_subprocess_exec("run", form["cmd"])
        return web.Response(text="ok")
    """
    assert found(code, "command-injection") == marked(code)


def test_aiohttp_handler_added_with_router_add_get_reads_json():
    code = """
    import sqlite3
    from aiohttp import web

    db = sqlite3.connect("x.db")

    async def search(r):
        data = await r.json()
        db.execute("SELECT * FROM t WHERE a = '%s'" % data["q"])  # VULN
        db.execute("SELECT * FROM t WHERE a = ?", (r.query.get("q"),))
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/search", search)
    """
    assert found(code, "sql-injection") == marked(code)


@pytest.mark.parametrize("expr", [
    "request.match_info.get('q')",
    "(await request.post()).get('q')",
    "(await request.json())['q']",
    "request.query.getone('q')",
    "request.rel_url.query['q']",
    "await request.text()",
    "request.cookies['q']",
    "request.headers['X-Q']",
])
def test_aiohttp_request_data_in_every_shape_is_a_source(expr: str):
    code = f"""
    import sqlite3
    from aiohttp import web

    db = sqlite3.connect("x.db")

    async def handler(request: web.Request):
        value = {expr}
        db.execute("SELECT * FROM t WHERE a = '%s'" % value)  # VULN
        db.execute("SELECT * FROM t WHERE a = ?", (value,))
        return web.json_response({{}})
    """
    assert found(code, "sql-injection", "handlers.py") == marked(code)


def test_aiohttp_class_based_view_response_of_self_request_data_is_xss():
    code = """
    from aiohttp import web
    from markupsafe import escape

    class Search(web.View):
        async def get(self):
            q = self.request.rel_url.query["q"]
            return web.Response(text="<p>" + q + "</p>", content_type="text/html")  # VULN

    class SafeSearch(web.View):
        async def get(self):
            q = self.request.rel_url.query["q"]
            return web.Response(text="<p>" + escape(q) + "</p>", content_type="text/html")
    """
    assert found(code, "xss", "handlers.py") == marked(code)


def test_aiohttp_handlers_listed_in_add_routes_get_the_request_whatever_its_name():
    code = """
    import sqlite3
    from aiohttp import web

    db = sqlite3.connect("x.db")

    async def search(r):
        db.execute("SELECT * FROM t WHERE a = '%s'" % r.query["q"])  # VULN
        return web.json_response({})

    async def count(r):
        db.execute("SELECT count(*) FROM t WHERE a = ?", (r.query["q"],))
        return web.json_response({})

    app = web.Application()
    app.add_routes([web.get("/search", search), web.route("GET", "/count", count)])
    """
    assert found(code, "sql-injection") == marked(code)


# ---------------------------------------------------------------------------------------------- Tornado


def test_tornado_request_handler_arguments_body_and_path_args_are_sources():
    code = """
    import os
    import tornado.web

    class Run(tornado.web.RequestHandler):
        def get(self, job):
            os.system("run-job " + job)  # VULN
            os.system("run " + self.get_argument("cmd"))  # VULN
            os.system("run " + self.get_query_argument("q"))  # VULN

        def post(self):
            os.system("run " + self.get_body_argument("cmd"))  # VULN
            os.system("run " + self.request.body.decode())  # VULN
            os.system("run " + self.request.arguments["x"][0].decode())  # VULN
            os.system("uptime")
    """
    assert found(code, "command-injection") == marked(code)


def test_tornado_write_of_an_argument_is_xss_unless_escaped():
    code = """
    import tornado.escape
    from tornado.web import RequestHandler

    class Hello(RequestHandler):
        def get(self):
            self.write("<p>" + self.get_argument("name") + "</p>")  # VULN
            self.write("<p>" + tornado.escape.xhtml_escape(self.get_argument("name")) + "</p>")
    """
    assert found(code, "xss") == marked(code)


def test_a_get_argument_method_outside_tornado_is_not_a_source():
    code = """
    import os

    class Settings:
        def get_argument(self, name):
            return {"tool": "ls"}[name]

        def run(self):
            os.system("run " + self.get_argument("tool"))
    """
    assert found(code, "command-injection", "settings_tool.py") == set()


# ---------------------------------------------------------------------------------------------- stdlib


def test_base_http_request_handler_path_headers_and_body_are_sources():
    code = """
    import os
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import parse_qs, urlparse

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = parse_qs(urlparse(self.path).query)
            os.system("ping " + query["host"][0])  # VULN
            os.system("echo " + self.headers["X-Name"])  # VULN
            os.system("uptime")

        def do_POST(self):
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length).decode()
            os.system("run " + body)  # VULN
            os.system("echo %d" % length)
    """
    assert found(code, "command-injection") == marked(code)


def test_raw_wsgi_environ_is_a_source_of_the_application_callable():
    code = """
    import os
    from urllib.parse import parse_qs

    def application(environ, start_response):
        query = parse_qs(environ["QUERY_STRING"])
        path = os.path.join("/srv/files", query["f"][0])
        start_response("200 OK", [("Content-Type", "text/plain")])
        with open(path, "rb") as f:  # VULN
            data = f.read()
        with open(os.path.join("/srv/files", "index.txt"), "rb") as f:
            data += f.read()
        return [data]
    """
    assert found(code, "path-traversal") == marked(code)


def test_environ_of_a_function_that_is_not_a_wsgi_app_is_not_a_request():
    code = """
    import os

    def load(environ):
        with open(os.path.join("/srv", environ["name"])) as f:
            return f.read()
    """
    assert found(code, "path-traversal", "config_loader.py") == set()


# ---------------------------------------------------------------------------------------------- other WSGI/ASGI


def test_falcon_responder_params_get_param_and_media_are_sources():
    code = """
    import sqlite3

    db = sqlite3.connect("x.db")

    class Items:
        def on_get(self, req, resp):
            db.execute("SELECT * FROM t WHERE a = '%s'" % req.get_param("q"))  # VULN
            db.execute("SELECT * FROM t WHERE a = '%s'" % req.params["q"])  # VULN
            db.execute("SELECT * FROM t WHERE a = ?", (req.get_param("q"),))

        def on_post(self, req, resp):
            db.execute("SELECT * FROM t WHERE a = '%s'" % req.media["q"])  # VULN
    """
    assert found(code, "sql-injection", "resources.py") == marked(code)


def test_pyramid_view_config_params_matchdict_and_json_body_are_sources():
    code = """
    import subprocess
    from pyramid.view import view_config

    @view_config(route_name="job", renderer="json")
    def job(request):
        subprocess.call("run " + request.matchdict["name"], shell=True)  # VULN
        subprocess.call("run " + request.params["flag"], shell=True)  # VULN
        subprocess.call("run " + request.json_body["arg"], shell=True)  # VULN
        subprocess.call(["run", request.params["flag"]])
        return {}
    """
    assert found(code, "command-injection", "jobs.py") == marked(code)


def test_bottle_request_query_forms_and_params_are_sources():
    code = """
    import os
    from bottle import request, route

    @route("/run")
    def run():
        os.system("run " + request.query.cmd)  # VULN
        os.system("run " + request.forms.get("cmd"))  # VULN
        os.system("run " + request.params["cmd"])  # VULN
        os.system("uptime")
        return "ok"
    """
    assert found(code, "command-injection") == marked(code)


def test_quart_awaited_form_and_args_are_sources():
    code = """
    import sqlite3
    from quart import Quart, request

    app = Quart(__name__)
    db = sqlite3.connect("x.db")

    @app.route("/find", methods=["POST"])
    async def find():
        form = await request.form
        db.execute("SELECT * FROM t WHERE a = '%s'" % form["q"])  # VULN
        db.execute("SELECT * FROM t WHERE a = '%s'" % request.args["q"])  # VULN
        db.execute("SELECT * FROM t WHERE a = ?", (form["q"],))
        return "ok"
    """
    assert found(code, "sql-injection") == marked(code)


def test_starlette_query_path_params_and_awaited_json_are_sources():
    code = """
    import subprocess
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def run(request):
        subprocess.run("run " + request.query_params["cmd"], shell=True)  # VULN
        subprocess.run("run " + request.path_params["name"], shell=True)  # VULN
        payload = await request.json()
        subprocess.run("run " + payload["arg"], shell=True)  # VULN
        subprocess.run(["run", payload["arg"]])
        return JSONResponse({})

    app = Starlette(routes=[Route("/run/{name}", run)])
    """
    assert found(code, "command-injection") == marked(code)


# ---------------------------------------------------------------------------------------------- GraphQL


def test_graphene_resolver_arguments_are_sources():
    code = """
    import sqlite3
    import graphene

    db = sqlite3.connect("x.db")

    class Query(graphene.ObjectType):
        user = graphene.String(name=graphene.String())
        count = graphene.Int()

        def resolve_user(self, info, name):
            return db.execute("SELECT * FROM users WHERE name = '%s'" % name).fetchone()  # VULN

        def resolve_count(root, info, **kwargs):
            return db.execute("SELECT count(*) FROM users WHERE a = '" + kwargs["a"] + "'").fetchone()  # VULN

        def helper(self, name):
            return db.execute("SELECT * FROM users WHERE name = '%s'" % name).fetchone()
    """
    assert found(code, "sql-injection", "schema.py") == marked(code)


def test_strawberry_field_arguments_are_sources():
    code = """
    import os
    import strawberry

    @strawberry.type
    class Query:
        @strawberry.field
        def disk_usage(self, folder: str) -> str:
            return os.popen("du -sh " + folder).read()  # VULN

        @strawberry.field
        def uptime(self, times: int) -> str:
            return os.popen("uptime").read() * times
    """
    assert found(code, "command-injection", "schema.py") == marked(code)


def test_ariadne_field_resolver_arguments_are_sources():
    code = """
    import os
    from ariadne import QueryType

    query = QueryType()

    @query.field("file")
    def resolve_file(obj, info, name):
        with open(os.path.join("/srv", name)) as f:  # VULN
            return f.read()

    def read_named(obj, info, name):
        with open(os.path.join("/srv", name)) as f:
            return f.read()
    """
    assert found(code, "path-traversal", "schema.py") == marked(code)


# ---------------------------------------------------------------------------------------------- OpenAPI


def test_connexion_operation_functions_named_in_the_spec_receive_parameters(tmp_path: Path):
    files = {
        "openapi.yaml": """
            openapi: 3.0.0
            info: {title: files, version: "1"}
            paths:
              /files/{name}:
                get:
                  operationId: api.files.read_file
                  parameters:
                    - {name: name, in: path, required: true, schema: {type: string}}
                  responses: {"200": {description: ok}}
        """,
        "app.py": """
            import connexion

            app = connexion.App(__name__)
            app.add_api("openapi.yaml")
        """,
        "api/__init__.py": "",
        "api/files.py": """
            import os

            def read_file(name):
                with open(os.path.join("/srv/files", name)) as f:  # VULN
                    return f.read()

            def read_other(name):
                with open(os.path.join("/srv/files", name)) as f:
                    return f.read()
        """,
    }
    assert found_in_project(tmp_path, files, "api/files.py", "path-traversal") == marked(files["api/files.py"])


# ---------------------------------------------------------------------------------------------- the model's gate


def test_the_model_input_gate_knows_handler_classes_and_registered_views():
    code = source("""
        import tornado.web
        from flask import Flask

        app = Flask(__name__)

        class Run(tornado.web.RequestHandler):
            def helper(self):
                return self.get_argument("cmd")

        class Store:
            def helper(self):
                return self.get_argument("cmd")

        def show(path):
            return path

        def unrelated(path):
            return path

        app.add_url_rule("/show/<path>", view_func=show)
    """)
    module = build_module(ParsedDocument(code, path="app.py"), "app.py", "app.py", None)
    kinds = declared_kinds(module)
    reads = {name for name, info in module.functions.items() if reads_untrusted_input(module, info, kinds)}
    assert reads == {"Run.helper", "show"}


def test_flask_json_jsonify_and_a_theme_render_are_not_html_and_an_f_string_is():
    code = """
    import flask
    import flask_themes2
    from flask.json import jsonify

    bp = flask.Blueprint("api", __name__)


    @bp.route("/api/<func>")
    def rpc(func):
        return jsonify({"error": f"no such call {func}"}), 405


    @bp.route("/page/<name>")
    def page(name):
        return flask_themes2.render_theme_template("dark", "page.html", name=name)


    @bp.route("/echo/<func>")
    def echo(func):
        return f"no such call {func}", 405  # VULN
    """
    assert found(code, "xss") == marked(code)


def test_a_project_helper_returning_a_theme_render_is_a_safe_return(tmp_path: Path):
    files = {
        "web/helpers.py": """
        import flask_themes2


        def render_template(template, **context):
            return flask_themes2.render_theme_template("default", template, **context)
        """,
        "web/views.py": """
        import flask
        from web.helpers import render_template

        bp = flask.Blueprint("app", __name__)


        @bp.route("/logs")
        def logs():
            return render_template("logs.html", level=flask.request.args.get("level"))


        @bp.route("/raw")
        def raw():
            return "<p>" + flask.request.args.get("level") + "</p>"  # VULN
        """}
    assert found_in_project(tmp_path, files, "web/views.py", "xss") == marked(files["web/views.py"])
