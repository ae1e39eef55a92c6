"""Missing controls, not only bad calls: plaintext passwords, predictable tokens, error details, SQL echo."""

from __future__ import annotations

import textwrap

from ai_core.analysis import Analyzer
from ai_core.config import Settings

ANALYZER = Analyzer(Settings(model_enabled=False))


def found(code: str, path: str = "app.py") -> list[tuple[int, str, str]]:
    findings = ANALYZER.analyze_text(textwrap.dedent(code).lstrip("\n"), path)
    return [(f.span.start_line + 1, f.rule, f.tier) for f in findings]


def test_a_raw_password_inserted_into_users_is_reported_and_a_hashed_one_is_not():
    code = """
    from flask import request
    from werkzeug.security import generate_password_hash


    def register(cursor):
        name, password = request.form["name"], request.form["password"]
        cursor.execute("INSERT INTO users (name, password) VALUES (?, ?)", (name, password))
        cursor.execute("INSERT INTO users (name, password) VALUES (?, ?)", (name, generate_password_hash(password)))
    """
    assert found(code) == [(7, "auth.plaintext-password-storage", "flow")]


def test_a_model_password_assigned_from_the_request_is_reported_and_a_hashed_one_is_not():
    code = """
    from flask import request
    from werkzeug.security import generate_password_hash


    def update(user, User):
        user.password = request.form["password"]
        user.password = generate_password_hash(request.form["password"])
        User(name="a", password=request.form["password"])
        User(name="a", password=generate_password_hash(request.form["password"]))
    """
    assert found(code) == [(6, "auth.plaintext-password-storage", "flow"),
                           (8, "auth.plaintext-password-storage", "flow")]


def test_a_stored_password_compared_with_the_request_is_plaintext():
    code = """
    from flask import request
    from werkzeug.security import check_password_hash


    def login(user):
        if user.password == request.form["password"]:
            return True
        return check_password_hash(user.password_hash, request.form["password"])
    """
    assert found(code) == [(6, "auth.plaintext-password", "flow")]


def test_reset_tokens_from_random_are_insecure_randomness_and_from_secrets_are_not():
    code = """
    import hashlib
    import random
    import secrets
    import time


    def reset(user):
        reset_token = hashlib.md5(str(time.time()).encode()).hexdigest()
        user.otp = str(random.randint(100000, 999999))
        verification_code = secrets.token_urlsafe(16)
        pin = secrets.randbelow(10**6)
        return reset_token, verification_code, pin
    """
    # one room per class: predictable tokens are insecure-randomness (a time-based token is not flagged yet)
    assert found(code) == [(9, "randomness.predictable-secret", "flow")]


def test_exception_text_returned_by_a_handler_is_exposure_and_a_generic_message_is_not():
    code = """
    from flask import Flask, jsonify

    app = Flask(__name__)


    @app.route("/a")
    def a():
        try:
            work()
        except Exception as e:
            return str(e), 500


    @app.route("/b")
    def b():
        try:
            work()
        except Exception as exc:
            app.logger.exception("failed: %s", exc)
            return jsonify(error="internal error"), 500


    def helper():
        try:
            work()
        except Exception as e:
            return str(e)
    """
    assert found(code) == [(11, "exposure.exception-in-response", "flow")]


def test_sql_echo_is_a_review_finding_outside_tests_and_development_settings():
    code = 'from sqlalchemy import create_engine\nengine = create_engine("sqlite:///a.db", echo=True)\n'
    assert found(code, "app/db.py") == [(2, "exposure.sql-echo.review", "review")]
    assert found(code.replace("echo=True", "echo=False"), "app/db.py") == []


ROUTES = """
from flask import Flask, request
from flask_login import login_required
from werkzeug.security import check_password_hash

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    user = find(request.form["username"])
    return check_password_hash(user.pw_hash, request.form["password"])


@app.route("/orders")
@login_required
def orders():
    return "orders"


@app.route("/orders/<int:oid>/delete", methods=["POST"])
@login_required
def delete_order(oid):
    return "deleted"


@app.route("/admin/users")
def admin_users():
    return "users"
"""


def test_a_route_without_the_auth_decorator_its_siblings_use_is_reviewed():
    assert (27, "auth.missing-auth-check.review", "review") in found(ROUTES)
    guarded = ROUTES.replace('@app.route("/admin/users")\n', '@app.route("/admin/users")\n@login_required\n')
    assert not [f for f in found(guarded) if f[1] == "auth.missing-auth-check.review"]


def test_a_login_handler_without_throttling_is_reviewed_and_a_limited_one_is_not():
    assert (9, "auth.login-not-throttled.review", "review") in found(ROUTES)
    limited = ROUTES.replace('@app.route("/login", methods=["POST"])\n',
                             '@app.route("/login", methods=["POST"])\n@limiter.limit("5/minute")\n')
    assert not [f for f in found(limited) if f[1] == "auth.login-not-throttled.review"]
