"""Fewer false alarms where real code differs: test code, cookie deletion, loopback URLs, operator CLIs."""

from __future__ import annotations

import textwrap

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings

ANALYZER = Analyzer(Settings(model_enabled=False))


def found(code: str, path: str = "app.py") -> list[tuple[int, str, str]]:
    findings = ANALYZER.analyze_text(textwrap.dedent(code).lstrip("\n"), path)
    return [(f.span.start_line + 1, f.vuln_class.value, f.tier) for f in findings]


@pytest.mark.parametrize("deletion", ['resp.set_cookie("session", "", max_age=0)',
                                      'resp.set_cookie("session", "", expires=0)',
                                      'resp.delete_cookie("session")'])
def test_deleting_a_session_cookie_is_not_a_cookie_flag_finding(deletion: str):
    assert found(f"def logout(resp):\n    {deletion}\n    return resp\n") == []


def test_setting_a_session_cookie_without_flags_is_still_reported():
    code = 'def login(resp, sid):\n    resp.set_cookie("session", sid)\n    return resp\n'
    assert (2, "security-misconfiguration", "flow") in found(code)


@pytest.mark.parametrize("url", ["http://localhost:8080/login", "http://127.0.0.1/login", "http://[::1]:9000/login",
                                 "http://api.localhost/login"])
def test_credentials_over_http_to_loopback_are_not_cleartext_findings(url: str):
    code = f'import requests\nrequests.post("{url}", data={{"password": pw}}, timeout=5)\n'
    assert found(code) == []


def test_credentials_over_http_to_another_host_are_reported():
    code = 'import requests\nrequests.post("http://auth.example.com/login", data={"password": pw}, timeout=5)\n'
    assert found(code) == [(2, "sensitive-data-exposure", "flow")]


def test_tls_verification_off_for_loopback_is_not_reported_and_for_a_host_is():
    code = """
    import requests
    requests.get("https://localhost:8443/health", verify=False, timeout=5)
    requests.get("https://api.example.com/health", verify=False, timeout=5)
    """
    assert found(code) == [(3, "sensitive-data-exposure", "flow")]


def test_argv_into_a_shell_in_an_operator_script_is_review_tier_at_most():
    code = """
    import sqlite3
    import sys

    db = sqlite3.connect("jobs.db")
    db.execute("DELETE FROM jobs WHERE name = '" + sys.argv[1] + "'")
    name = input("job: ")
    db.execute("DELETE FROM jobs WHERE name = '%s'" % name)
    """
    assert found(code, "tools/purge.py") == [(5, "sql-injection", "review"), (7, "sql-injection", "review")]


def test_the_same_input_in_a_server_module_is_a_proven_flow():
    code = """
    import sqlite3
    import sys
    from flask import Flask

    app = Flask(__name__)
    db = sqlite3.connect("jobs.db")
    db.execute("DELETE FROM jobs WHERE name = '" + sys.argv[1] + "'")
    """
    assert found(code, "server.py") == [(7, "sql-injection", "flow")]


@pytest.mark.parametrize("path", ["tests/test_views.py", "tests/helpers.py", "conftest.py", "pkg/views_test.py"])
def test_findings_in_test_code_are_review_tier(path: str):
    code = """
    import sqlite3
    from flask import Flask, request

    app = Flask(__name__)
    db = sqlite3.connect("x.db")


    @app.route("/q")
    def q():
        db.execute("SELECT * FROM t WHERE a = '" + request.args["a"] + "'")
        return "ok"
    """
    assert found(code, path) == [(10, "sql-injection", "review")]
    assert found(code, "app/views.py") == [(10, "sql-injection", "flow")]


FIXTURE_LOGIN = """
def test_staff_sees_the_queue(client, django_user_model):
    django_user_model.objects.create_user(username="staff", password="hunter22")
    client.login(username="staff", password="hunter22")
    aws = "AKIAIOSFODNN7EXAMPL3"
"""


def test_a_fixture_password_in_test_code_is_not_a_finding_and_a_real_key_format_stays_review():
    assert found(FIXTURE_LOGIN, "tests/test_queue.py") == [(4, "hardcoded-secret", "review")]
    assert (3, "hardcoded-secret", "flow") in found(FIXTURE_LOGIN, "queue/setup.py")


MIGRATION = """
import pickle

from django.db import migrations


def unpickle(settings_pickled):
    return pickle.loads(settings_pickled)


def depickle(apps, schema_editor):
    for row in apps.get_model("desk", "UserSettings").objects.all():
        row.settings = unpickle(row.settings_pickled)
        row.save()


class Migration(migrations.Migration):
    operations = [migrations.RunPython(depickle)]
"""


def test_a_migration_unpickling_its_own_rows_is_not_reported_and_the_same_code_in_the_app_is():
    assert found(MIGRATION, "desk/migrations/0020_depickle.py") == []
    assert found(MIGRATION, "desk/settings_convert.py") == [(7, "insecure-deserialization", "flow")]
