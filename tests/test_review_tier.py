"""The review tier: a dangerous sink fed by data not proven safe (no untrusted source proven) is a review finding;
literals, constants, parameters bound separately and proven flows are not."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import Finding, Severity
from ai_core.report.json_report import to_json
from ai_core.report.sarif import sarif_log
from ai_core.scan import scan_path

ANALYZER = Analyzer(Settings(model_enabled=False))

HELPER = """
import sqlite3

TABLE = "users"


def find_user(name):
    cursor = sqlite3.connect("app.db").cursor()
    cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)
    cursor.execute("SELECT 1")
    cursor.execute("SELECT * FROM users WHERE name = ?", (name,))
    cursor.execute("SELECT * FROM %s" % TABLE)
    return cursor.fetchall()
"""


def findings(code: str, path: str = "helpers.py", settings: Settings | None = None) -> list[Finding]:
    analyzer = Analyzer(settings) if settings else ANALYZER
    return analyzer.analyze_text(textwrap.dedent(code).lstrip("\n"), path)


def test_sql_formatted_from_a_helper_parameter_is_a_review_finding():
    found = [(f.span.start_line + 1, f.vuln_class.value, f.tier, f.rule) for f in findings(HELPER)]
    assert found == [(8, "sql-injection", "review", "sql.dbapi-execute.review")]


def test_a_literal_a_bound_parameter_and_a_module_constant_are_not_reviewed():
    lines = {f.span.start_line + 1 for f in findings(HELPER)}
    assert not lines & {9, 10, 11}


def test_a_review_finding_is_one_severity_step_lower_at_most_medium_and_less_confident():
    finding = findings(HELPER)[0]
    assert finding.severity == Severity.MEDIUM
    assert finding.confidence < 0.5


def test_a_proven_flow_keeps_the_top_tier_and_is_not_reported_again_as_review():
    code = """
    import sqlite3
    from flask import Flask, request

    app = Flask(__name__)


    def find_user(name):
        cursor = sqlite3.connect("app.db").cursor()
        cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)
        return cursor.fetchall()


    @app.route("/user")
    def user():
        return str(find_user(request.args["name"]))
    """
    found = [(f.span.start_line + 1, f.tier) for f in findings(code, "app.py")]
    assert found == [(15, "flow")]


def test_a_command_built_from_a_parameter_is_reviewed_and_a_fixed_one_is_not():
    code = """
    import subprocess


    def archive(name):
        subprocess.run(["tar", "czf", "out.tgz", name])
        subprocess.check_output("tar czf out.tgz " + name, shell=False)
    """
    found = [(f.span.start_line + 1, f.tier) for f in findings(code)]
    assert (5, "review") not in found
    assert (6, "review") in found


def test_ssrf_review_skips_urls_with_a_fixed_scheme_and_host():
    code = """
    import requests


    def fetch(host, item):
        requests.get("http://" + host + "/status", timeout=5)
        requests.get("https://api.example.com/items/" + item, timeout=5)
    """
    found = [(f.span.start_line + 1, f.vuln_class.value, f.tier) for f in findings(code)]
    assert found == [(5, "ssrf", "review")]


def test_operator_input_in_a_script_is_review_tier_and_in_a_server_a_flow():
    script = """
    import sys
    import sqlite3

    cursor = sqlite3.connect("app.db").cursor()
    cursor.execute("DELETE FROM jobs WHERE name = '%s'" % sys.argv[1])
    """
    assert [(f.span.start_line + 1, f.tier) for f in findings(script, "tool.py")] == [(5, "review")]
    server = "import flask\n" + textwrap.dedent(script).lstrip("\n")
    assert [(f.span.start_line + 1, f.tier) for f in findings(server, "serve.py")] == [(6, "flow")]


def test_the_tiers_setting_hides_review_findings():
    assert findings(HELPER, settings=Settings(model_enabled=False, tiers=("flow",))) == []


def test_the_tiers_setting_rejects_unknown_tiers():
    settings, warnings = Settings.from_mapping({"tiers": ["flow", "maybe"]})
    assert settings.tiers == ("flow", "review")
    assert warnings


def test_json_and_sarif_carry_the_tier(tmp_path: Path):
    (tmp_path / "helpers.py").write_text(textwrap.dedent(HELPER).lstrip("\n"))
    result = scan_path(tmp_path, Settings(model_enabled=False), workers=1)
    assert [item["tier"] for item in json.loads(to_json(result))] == ["review"]
    sarif = sarif_log(result)
    assert [r["properties"]["tier"] for r in sarif["runs"][0]["results"]] == ["review"]


def test_a_helper_analysed_after_its_caller_shows_no_review_for_the_sink_the_callers_flow_reaches(tmp_path: Path):
    from ai_core.analysis.project import project_for_scan

    (tmp_path / "db.py").write_text(textwrap.dedent('''
        import sqlite3


        def find(name):
            return sqlite3.connect("a.db").execute("SELECT * FROM t WHERE n = '%s'" % name).fetchall()
        ''').lstrip("\\n"))
    (tmp_path / "views.py").write_text(textwrap.dedent('''
        from flask import Flask, request

        from db import find

        app = Flask(__name__)


        @app.route("/q")
        def q():
            return str(find(request.args["n"]))
        ''').lstrip("\\n"))
    alone = Analyzer(Settings(model_enabled=False), project=project_for_scan(tmp_path))
    assert [f.tier for f in alone.analyze_text((tmp_path / "db.py").read_text(), "db.py")] == ["review"]
    shared = Analyzer(Settings(model_enabled=False), project=project_for_scan(tmp_path))
    assert [f.tier for f in shared.analyze_text((tmp_path / "views.py").read_text(), "views.py")] == ["flow"]
    assert shared.analyze_text((tmp_path / "db.py").read_text(), "db.py") == []


def test_sql_built_for_a_project_helper_that_runs_it_is_reviewed_at_the_call():
    code = """
    import sqlite3

    conn = sqlite3.connect("a.db")


    def query(sql, args=()):
        return conn.execute(sql, args).fetchall()


    def by_name(name):
        return query("SELECT * FROM users WHERE name = '%s'" % name)


    def by_id(uid):
        return query("SELECT * FROM users WHERE id = ?", (uid,))
    """
    assert [(f.span.start_line + 1, f.rule, f.tier) for f in findings(code)] == [
        (11, "sql.dbapi-execute.review", "review")]


MARKED_SAFE = """
from django.utils.html import escape
from django.utils.safestring import mark_safe
from markdown import markdown
from markupsafe import Markup


def as_html(text):
    return mark_safe(markdown(text))


def with_breaks(context):
    context["comment"] = mark_safe(context["comment"].replace("\\n", "<br>"))


def escaped_with_breaks(text):
    return mark_safe(escape(text).replace("\\n", "<br>"))


def fixed_markup():
    return mark_safe("<br>")


def plain_text(form):
    return Markup(form["description"]).unescape()
"""


def test_mark_safe_of_a_helpers_parameter_is_reviewed_even_when_not_built_into_a_string():
    found = [(f.span.start_line + 1, f.rule, f.tier) for f in findings(MARKED_SAFE)]
    assert found == [(8, "xss.mark-safe.review", "review"), (12, "xss.mark-safe.review", "review")]


def test_escaped_text_a_literal_and_markup_undone_by_unescape_are_not_marked_safe_findings():
    lines = {f.span.start_line + 1 for f in findings(MARKED_SAFE)}
    assert not lines & {16, 20, 24}


def test_a_function_level_import_of_a_sanitizer_clears_the_value():
    code = """
    from markupsafe import Markup


    def highlighted(content):
        from markupsafe import escape
        return Markup(escape(content).replace("&lt;b&gt;", "<b>"))


    def unescaped(content):
        from html import unescape
        return Markup(unescape(content))
    """
    assert [(f.span.start_line + 1, f.rule) for f in findings(code)] == [(11, "xss.mark-safe.review")]


def test_markup_built_from_a_project_table_looked_up_by_the_argument_is_not_reviewed_and_the_argument_is():
    code = """
    from markupsafe import Markup

    ICONS = {"chrome": {"alt": "Chrome", "file": "chrome.svg"}}


    def lookup(name):
        return ICONS.get(name)


    def icon(name):
        data = lookup(name)
        return Markup(f"<img alt='{data['alt']}' src='{data['file']}'>")


    def bold(text):
        return Markup("<b>%s</b>" % text)
    """
    assert [(f.span.start_line + 1, f.rule) for f in findings(code)] == [(16, "xss.mark-safe.review")]


def test_a_program_read_from_the_apps_settings_is_reviewed_and_a_fixed_program_is_not():
    code = """
    import os
    import subprocess


    class Reconnector:
        def __init__(self, core):
            self.core = core

        def reconnect(self):
            script = self.core.config.get("reconnect", "script")
            if os.path.isfile(script):
                subprocess.run(script)

        def reconnect_now(self):
            subprocess.run([self.core.config.get("reconnect", "script"), "--now"])

        def fixed(self):
            subprocess.run(["/usr/sbin/reconnect", self.core.config.get("reconnect", "iface")])
    """
    assert [(f.span.start_line + 1, f.rule) for f in findings(code, "core/threads.py")] == [
        (12, "command.subprocess-program.review"), (15, "command.subprocess-program.review")]
