"""Sanitizers and guards: each one next to the same code without it."""

from __future__ import annotations

import textwrap

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings

ANALYZER = Analyzer(Settings(model_enabled=False))

HEADER = """\
import hmac, os, pickle, re, shlex, sqlite3, subprocess
from urllib.parse import urlparse
import requests
from flask import Flask, request, send_file
from markupsafe import Markup, escape
from werkzeug.utils import secure_filename
app = Flask(__name__)
db = sqlite3.connect("app.db")
BASE = "/srv/files"
ALLOWED_HOSTS = {"api.example.com"}
KEY = os.environ["KEY"].encode()
"""


def classes_at_marker(body: str) -> set[str]:
    """Classes reported on the line marked `# <-` of a view whose body is `body`."""
    code = HEADER + "\n@app.route('/v')\ndef view():\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    line = next(i for i, text in enumerate(code.splitlines(), 1) if text.rstrip().endswith("# <-"))
    return {f.vuln_class.value for f in ANALYZER.analyze_text(code, "app.py") if f.span.start_line + 1 == line}


CASES = [
    ("sql-injection", "parameterized query",
     """q = request.args["q"]\ndb.execute("SELECT * FROM t WHERE a = '" + q + "'")  # <-""",
     """q = request.args["q"]\ndb.execute("SELECT * FROM t WHERE a = ?", (q,))  # <-"""),
    ("sql-injection", "int()",
     """n = request.args["n"]\ndb.execute(f"SELECT * FROM t LIMIT {n}")  # <-""",
     """n = int(request.args["n"])\ndb.execute(f"SELECT * FROM t LIMIT {n}")  # <-"""),
    ("command-injection", "shlex.quote",
     """d = request.args["d"]\nsubprocess.run(f"ls {d}", shell=True)  # <-""",
     """d = request.args["d"]\nsubprocess.run(f"ls {shlex.quote(d)}", shell=True)  # <-"""),
    ("command-injection", "argument list without a shell",
     """h = request.args["h"]\nsubprocess.run("ping -c 1 " + h, shell=True)  # <-""",
     """h = request.args["h"]\nsubprocess.run(["ping", "-c", "1", h])  # <-"""),
    ("path-traversal", "os.path.basename",
     """n = request.args["n"]\nreturn open(os.path.join(BASE, n)).read()  # <-""",
     """n = os.path.basename(request.args["n"])\nreturn open(os.path.join(BASE, n)).read()  # <-"""),
    ("path-traversal", "secure_filename",
     """n = request.args["n"]\nreturn send_file(os.path.join(BASE, n))  # <-""",
     """n = secure_filename(request.args["n"])\nreturn send_file(os.path.join(BASE, n))  # <-"""),
    ("path-traversal", "realpath + prefix check",
     """p = os.path.join(BASE, request.args["n"])\nif not p.startswith(BASE):\n    return "no"\n"""
     """return open(p).read()  # <-""",
     """p = os.path.realpath(os.path.join(BASE, request.args["n"]))\nif not p.startswith(BASE + os.sep):\n"""
     """    return "no"\nreturn open(p).read()  # <-"""),
    ("xss", "escape",
     """n = request.args["n"]\nreturn "<b>" + n + "</b>"  # <-""",
     """n = request.args["n"]\nreturn "<b>" + escape(n) + "</b>"  # <-"""),
    ("xss", "Markup escapes what is formatted into it",
     """n = request.args["n"]\nreturn Markup("<b>" + n + "</b>")  # <-""",
     """n = request.args["n"]\nreturn Markup("<b>%s</b>") % n  # <-"""),
    ("ssrf", "host allowlist through urlparse",
     """u = request.args["u"]\nreturn requests.get(u).text  # <-""",
     """u = request.args["u"]\nif urlparse(u).hostname not in ALLOWED_HOSTS:\n    return "no"\n"""
     """return requests.get(u).text  # <-"""),
    ("ssrf", "fixed scheme and host",
     """u = request.args["u"]\nreturn requests.get("https://" + u).text  # <-""",
     """u = request.args["u"]\nreturn requests.get("https://api.example.com/users/" + u).text  # <-"""),
    ("insecure-deserialization", "HMAC verified before unpickling",
     """blob = request.get_data()\nreturn str(pickle.loads(blob))  # <-""",
     """blob = request.get_data()\nsig = request.headers["X-Sig"]\n"""
     """expected = hmac.new(KEY, blob, "sha256").hexdigest()\n"""
     """if not hmac.compare_digest(sig, expected):\n    return "no"\nreturn str(pickle.loads(blob))  # <-"""),
    ("command-injection", "allowlist of literals",
     """job = request.args["job"]\nsubprocess.run("run-job " + job, shell=True)  # <-""",
     """job = request.args["job"]\nif job not in ("daily", "weekly"):\n    return "no"\n"""
     """subprocess.run("run-job " + job, shell=True)  # <-"""),
    ("command-injection", "regex fullmatch",
     """tag = request.args["tag"]\nsubprocess.run("git checkout " + tag, shell=True)  # <-""",
     """tag = request.args["tag"]\nif not re.fullmatch(r"v[0-9.]+", tag):\n    return "no"\n"""
     """subprocess.run("git checkout " + tag, shell=True)  # <-"""),
]


@pytest.mark.parametrize(("vuln_class", "sanitizer", "vulnerable", "safe"), CASES,
                         ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_sanitizer_removes_the_finding_its_absence_keeps(vuln_class: str, sanitizer: str, vulnerable: str,
                                                         safe: str):
    assert vuln_class in classes_at_marker(vulnerable)
    assert vuln_class not in classes_at_marker(safe), sanitizer


def test_a_sanitizer_for_one_class_does_not_clear_another():
    body = """n = shlex.quote(request.args["n"])\nreturn open(os.path.join(BASE, n)).read()  # <-"""
    assert "path-traversal" in classes_at_marker(body)


def test_a_prefix_check_without_normalisation_proves_nothing():
    body = """p = os.path.join(BASE, request.args["n"])\nif p.startswith(BASE):\n    return open(p).read()  # <-"""
    assert "path-traversal" in classes_at_marker(body)


WEAK_PATH_CHECKS = """
import os

import flask


def edit_package():
    folder = flask.request.form["folder"].lstrip(os.path.sep).replace(f"..{os.path.sep}", "")
    stripped = flask.request.form["name"].replace("..", "")
    looped = flask.request.form["other"]
    while "../" in looped:
        looped = looped.replace("../", "")
    return folder, stripped, looped


def prefix_checked_extract(tar, path="."):
    def is_within(directory, target):
        prefix = os.path.commonprefix([os.path.abspath(directory), os.path.abspath(target)])
        return prefix == os.path.abspath(directory)

    for member in tar.getmembers():
        if not is_within(path, os.path.join(path, member.name)):
            raise ValueError("outside the folder")
    tar.extractall(path)


def path_checked_extract(tar, path="."):
    def is_within(directory, target):
        base = os.path.realpath(directory)
        return os.path.commonpath([base, os.path.realpath(target)]) == base

    for member in tar.getmembers():
        if not is_within(path, os.path.join(path, member.name)):
            raise ValueError("outside the folder")
    tar.extractall(path)
"""


def test_one_pass_dotdot_stripping_is_reported_and_removing_dots_or_a_loop_is_not():
    found = {(f.span.start_line + 1, f.rule) for f in ANALYZER.analyze_text(WEAK_PATH_CHECKS, "pkg/web.py")}
    assert {line for line, rule in found if rule == "path.one-pass-dotdot-strip"} == {8}


def test_an_extraction_after_a_commonprefix_check_is_reported_and_after_commonpath_is_not():
    found = {(f.span.start_line + 1, f.rule) for f in ANALYZER.analyze_text(WEAK_PATH_CHECKS, "pkg/web.py")}
    assert {line for line, rule in found if rule == "path.commonprefix-containment"} == {24}
