"""Taint flows inside one function: each vulnerable snippet next to its safe twin."""

from __future__ import annotations

import textwrap

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings

ANALYZER = Analyzer(Settings(model_enabled=False))


def flagged(code: str, path: str = "app.py") -> set[tuple[int, str]]:
    """(1-based line, class) of every finding in `code`."""
    return {(f.span.start_line + 1, f.vuln_class.value)
            for f in ANALYZER.analyze_text(textwrap.dedent(code).lstrip("\n"), path)}


FLASK = ("from flask import Flask, request\nimport sqlite3, subprocess, os\napp = Flask(__name__)\n"
         "db = sqlite3.connect('x')\n")


@pytest.mark.parametrize(("name", "body"), [
    ("assignment", "q = request.args['q']\n    db.execute('SELECT ' + q)"),
    ("augmented assignment", "sql = 'SELECT * FROM t WHERE a = '\n    sql += request.args['q']\n    db.execute(sql)"),
    ("f-string", "q = request.args['q']\n    db.execute(f\"SELECT * FROM t WHERE a = '{q}'\")"),
    ("percent format", "q = request.form.get('q')\n    db.execute(\"SELECT '%s'\" % q)"),
    (".format", "q = request.values['q']\n    db.execute('SELECT {}'.format(q))"),
    ("join", "parts = ['SELECT', request.args['col']]\n    db.execute(' '.join(parts))"),
    ("container then subscript", "d = {'col': request.args['c']}\n    db.execute('SELECT ' + d['col'])"),
    ("attribute of tainted object", "data = request.get_json()\n    db.execute('SELECT ' + data.get('col'))"),
    ("list append", "cols = []\n    cols.append(request.args['c'])\n    db.execute('SELECT ' + ','.join(cols))"),
    ("comprehension", "cols = [c.strip() for c in request.args.getlist('c')]\n    db.execute('SELECT ' + cols[0])"),
    ("walrus", "if (q := request.args.get('q')):\n        db.execute('SELECT ' + q)"),
    ("tuple unpacking", "a, b = request.args['a'], 'x'\n    db.execute('SELECT ' + a)"),
    ("loop-carried",
     "sql = 'SELECT 1'\n    for c in request.args.getlist('c'):\n        sql = sql + c\n    db.execute(sql)"),
    ("with-as", "with open('/tmp/q') as f:\n        q = request.args['q']\n    db.execute('SELECT ' + q)"),
    ("branch",
     "q = 'x'\n    if request.args.get('raw'):\n        q = request.args['raw']\n    db.execute('SELECT ' + q)"),
])
def test_request_data_reaching_execute_is_sql_injection(name: str, body: str):
    code = FLASK + f"@app.route('/r')\ndef r():\n    {body}\n    return 'ok'\n"
    sink_line = next(i for i, line in enumerate(code.splitlines(), 1) if "db.execute" in line)
    assert (sink_line, "sql-injection") in flagged(code), name


@pytest.mark.parametrize(("name", "body"), [
    ("parameterized query", "q = request.args['q']\n    db.execute('SELECT * FROM t WHERE a = ?', (q,))"),
    ("int()", "q = int(request.args['q'])\n    db.execute(f'SELECT * FROM t LIMIT {q}')"),
    ("allowlist with abort", "q = request.args['q']\n    if q not in {'a', 'b'}:\n        return 'no'\n"
                             "    db.execute('SELECT ' + q)"),
    ("allowlist positive branch", "q = request.args['q']\n    if q in ('a', 'b'):\n        db.execute('SELECT ' + q)"),
    ("overwritten by constant", "q = request.args['q']\n    q = 'name'\n    db.execute('SELECT ' + q)"),
    ("isdigit guard", "q = request.args['q']\n    if not q.isdigit():\n        return 'no'\n"
                      "    db.execute('SELECT ' + q)"),
    ("regex fullmatch guard", "import re\n    q = request.args['q']\n    if not re.fullmatch(r'[a-z]+', q):\n"
                              "        return 'no'\n    db.execute('SELECT ' + q)"),
    ("len() is a number", "q = request.args['q']\n    db.execute('SELECT %d' % len(q))"),
    ("ORM lookup result", "u = User.objects.get(name=request.args['n'])\n    db.execute('SELECT ' + u.role)"),
])
def test_safe_twins_of_sql_injection_stay_silent(name: str, body: str):
    code = FLASK + f"@app.route('/r')\ndef r():\n    {body}\n    return 'ok'\n"
    assert not {c for _, c in flagged(code)} & {"sql-injection"}, name


def test_flask_route_variable_is_a_source_but_int_converter_is_not():
    code = FLASK + """
@app.route('/a/<name>')
def a(name):
    db.execute('SELECT * FROM t WHERE n = ' + name)
    return 'ok'

@app.route('/b/<int:number>')
def b(number):
    db.execute('SELECT * FROM t WHERE n = %s' % number)
    return 'ok'
"""
    found = flagged(code)
    assert (8, "sql-injection") in found
    assert (13, "sql-injection") not in found


def test_fastapi_parameters_are_sources_except_dependencies_and_typed_scalars():
    code = """
    from fastapi import FastAPI, Depends
    import sqlite3
    app = FastAPI()
    conn = sqlite3.connect("notes.db")

    def get_user():
        return "admin"

    @app.get('/run')
    def run(term: str, count: int, user=Depends(get_user)):
        conn.execute(f"SELECT * FROM notes WHERE body LIKE '%{term}%'")
        conn.execute(f"SELECT * FROM notes LIMIT {count}")
        conn.execute(f"SELECT * FROM notes WHERE owner = '{user}'")
    """
    found = flagged(code)
    assert (11, "sql-injection") in found
    assert (12, "sql-injection") not in found
    assert (13, "sql-injection") not in found


def test_django_request_get_and_class_based_view_kwargs_are_sources():
    code = """
    from django.db import connection
    from django.views import View

    def search(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM t WHERE a = '%s'" % request.GET['q'])

    class Detail(View):
        def get(self, request, *args, **kwargs):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM t WHERE slug = '{self.kwargs['slug']}'")
                cursor.execute("SELECT * FROM t WHERE slug = %s", [self.kwargs['slug']])
    """
    found = flagged(code, "views.py")
    assert {(6, "sql-injection"), (11, "sql-injection")} <= found
    assert (12, "sql-injection") not in found


def test_flask_view_returning_request_text_is_xss_but_json_and_templates_are_not():
    code = """
    from flask import Flask, request, jsonify, render_template
    from markupsafe import escape
    app = Flask(__name__)

    @app.route('/a')
    def a():
        return '<p>' + request.args['n'] + '</p>'

    @app.route('/b')
    def b():
        return jsonify(name=request.args['n'])

    @app.route('/c')
    def c():
        return {'name': request.args['n']}

    @app.route('/d')
    def d():
        return render_template('d.html', name=request.args['n'])

    @app.route('/e')
    def e():
        return '<p>' + escape(request.args['n']) + '</p>'
    """
    assert {line for line, c in flagged(code) if c == "xss"} == {7}


def test_argv_feeds_command_injection_but_not_path_traversal():
    code = """
    import os, sys
    target = sys.argv[1]
    os.system('tar czf backup.tgz ' + target)
    print(open(target).read())
    """
    found = flagged(code, "cli.py")
    assert (3, "command-injection") in found
    assert (4, "path-traversal") not in found


def test_socket_data_is_a_source_for_every_injection_class():
    code = """
    import socket, urllib.request
    def serve(conn):
        url = conn.recv(100).decode()
        return urllib.request.urlopen(url).read()
    """
    assert (4, "ssrf") in flagged(code, "agent.py")


def test_header_reflection_of_origin_is_cors_misconfiguration_unless_checked():
    code = """
    from flask import Flask, request
    app = Flask(__name__)
    ALLOWED = {'https://a.example.com'}

    @app.after_request
    def cors(resp):
        resp.headers['Access-Control-Allow-Origin'] = request.headers.get('Origin')
        return resp

    @app.after_request
    def cors_checked(resp):
        origin = request.headers.get('Origin')
        if origin in ALLOWED:
            resp.headers['Access-Control-Allow-Origin'] = origin
        return resp
    """
    assert {line for line, c in flagged(code) if c == "cors-misconfiguration"} == {7}


def test_structural_sinks_report_data_of_unknown_origin_but_not_constants():
    code = """
    import pickle, subprocess, yaml

    def load(blob):
        return pickle.loads(blob)

    def load_default():
        return pickle.loads(b"\\x80\\x04K\\x01.")

    def run(cmd):
        subprocess.run(cmd, shell=True)

    def run_fixed():
        subprocess.run("ls -l", shell=True)

    def config(stream):
        return yaml.load(stream, Loader=yaml.SafeLoader)
    """
    found = flagged(code, "lib.py")
    assert (4, "insecure-deserialization") in found
    assert (10, "command-injection") in found
    assert {line for line, _ in found} == {4, 10}


def test_finding_carries_class_cwe_severity_confidence_and_a_taint_path():
    code = FLASK + "@app.route('/r')\ndef r():\n    q = request.args['q']\n    db.execute('SELECT ' + q)\n"
    [finding] = ANALYZER.analyze_text(code, "app.py")
    assert finding.rule == "sql.dbapi-execute"
    assert finding.cwe == 89
    assert finding.severity.name == "HIGH"
    assert 0.5 < finding.confidence <= 1
    assert finding.taint_path is not None
    labels = [step.label for step in finding.taint_path.steps]
    assert labels[0] == "source: request.args"
    assert labels[-1].startswith("sink: db.execute")
    assert [s.span.start_line + 1 for s in finding.taint_path.steps] == [7, 7, 8]
    assert "request.args" in finding.message


LIBRARY_APIS = [
    # (name, vulnerable line, safe twin, class); `q` holds request data, `conn`/`cur`/`session` are database handles
    ("sqlalchemy session.execute(str)", "session.execute(f\"SELECT * FROM t WHERE a = '{q}'\")",
     "session.execute(text('SELECT * FROM t WHERE a = :a'), {'a': q})", "sql-injection"),
    ("sqlalchemy text()", "conn.execute(text('SELECT * FROM t WHERE a = ' + q))",
     "conn.execute(text('SELECT * FROM t WHERE a = :a').bindparams(a=q))", "sql-injection"),
    ("pandas read_sql_query", "pd.read_sql_query(\"SELECT * FROM t WHERE a = '%s'\" % q, conn)",
     "pd.read_sql_query('SELECT * FROM t WHERE a = %(a)s', conn, params={'a': q})", "sql-injection"),
    ("psycopg sql.SQL", "cur.execute(sql.SQL('SELECT * FROM ' + q))",
     "cur.execute(sql.SQL('SELECT * FROM {}').format(sql.Identifier(q)))", "sql-injection"),
    ("django RawSQL", "Item.objects.annotate(x=RawSQL('SELECT ' + q, []))",
     "Item.objects.annotate(x=RawSQL('SELECT %s', [q]))", "sql-injection"),
    ("subprocess sh -c list", "subprocess.run(['sh', '-c', 'tar xf ' + q])",
     "subprocess.run(['tar', 'xf', q])", "command-injection"),
    ("subprocess bash -c tuple", "subprocess.check_output(('/bin/bash', '-c', f'grep {q} log'))",
     "subprocess.check_output(('/bin/bash', '-c', 'grep error log'))", "command-injection"),
    ("os.spawnlp program", "os.spawnlp(os.P_WAIT, q, 'tool')", "os.spawnlp(os.P_WAIT, 'convert', 'convert', q)",
     "command-injection"),
    ("asyncio shell", "asyncio.create_subprocess_shell('ls ' + q)",
     "asyncio.create_subprocess_exec('ls', q)", "command-injection"),
    ("paramiko exec_command", "ssh.exec_command('tail ' + q)", "ssh.exec_command('tail ' + shlex.quote(q))",
     "command-injection"),
    ("yaml.full_load", "yaml.full_load(request.data)", "yaml.safe_load(request.data)", "insecure-deserialization"),
    ("torch.load", "torch.load(request.files['m'])", "torch.load(request.files['m'], weights_only=True)",
     "insecure-deserialization"),
    ("numpy allow_pickle", "np.load(request.files['m'], allow_pickle=True)", "np.load(request.files['m'])",
     "insecure-deserialization"),
    ("dill.loads", "dill.loads(request.data)", "json.loads(request.data)", "insecure-deserialization"),
    ("send_from_directory root", "send_from_directory(q, 'report.pdf')", "send_from_directory('/srv/reports', q)",
     "path-traversal"),
    ("httpx.get", "httpx.get(q)", "httpx.get(f'https://api.example.com/items/{q}')", "ssrf"),
]


@pytest.mark.parametrize(("name", "vulnerable", "safe", "vuln_class"), LIBRARY_APIS, ids=[c[0] for c in LIBRARY_APIS])
def test_library_api_fed_request_data_is_flagged_and_its_safe_twin_is_not(name: str, vulnerable: str, safe: str,
                                                                          vuln_class: str):
    head = ("import asyncio, json, os, shlex, subprocess\nimport dill, httpx, numpy as np, pandas as pd, torch, yaml\n"
            "from django.db.models.expressions import RawSQL\nfrom flask import Flask, request, send_from_directory\n"
            "from psycopg2 import sql\nfrom sqlalchemy import text\napp = Flask(__name__)\n\n\n"
            "@app.route('/r', methods=['POST'])\ndef r():\n    q = request.args['q']\n")
    line = head.count("\n") + 1
    assert (line, vuln_class) in flagged(head + f"    {vulnerable}\n    return 'ok'\n"), name
    assert (line, vuln_class) not in flagged(head + f"    {safe}\n    return 'ok'\n"), name


def test_zip_member_names_joined_to_a_folder_are_path_traversal_and_their_basename_is_not():
    code = ("import os, zipfile\n\n\ndef unzip(upload, dest):\n    zf = zipfile.ZipFile(upload)\n"
            "    for name in zf.namelist():\n        open(os.path.join(dest, name), 'wb')\n"
            "        open(os.path.join(dest, os.path.basename(name)), 'wb')\n")
    assert {(line, c) for line, c in flagged(code) if c == "path-traversal"} == {(7, "path-traversal")}
