"""Non-flow checks of configuration and auth code: misconfiguration, CORS, sessions, broken auth,
sensitive data exposure and template autoescaping, each with a safe twin."""

from __future__ import annotations

import textwrap

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import VulnClass

ANALYZER = Analyzer(Settings(model_enabled=False))


def found(code: str, path: str = "app.py") -> set[tuple[str, str]]:
    """(class, rule) of the findings of a snippet."""
    return {(f.vuln_class.value, f.rule) for f in ANALYZER.analyze_text(textwrap.dedent(code).lstrip(), path)}


CASES = [
    # (path, vulnerable code, safe twin, expected rule)
    ("settings.py", "DEBUG = True\nINSTALLED_APPS = []",
     "DEBUG = os.environ.get('DEBUG') == '1'\nINSTALLED_APPS = []", "misconfig.debug-enabled"),
    ("settings.py", "ALLOWED_HOSTS = ['*']", "ALLOWED_HOSTS = ['blog.example.com']",
     "misconfig.allowed-hosts-wildcard"),
    ("settings.py", "SESSION_COOKIE_SECURE = False", "SESSION_COOKIE_SECURE = True", "misconfig.cookie-not-secure"),
    ("settings.py", "SESSION_COOKIE_HTTPONLY = False", "SESSION_COOKIE_HTTPONLY = True",
     "misconfig.cookie-not-httponly"),
    ("app.py", "app.config['WTF_CSRF_ENABLED'] = False", "app.config['WTF_CSRF_ENABLED'] = True",
     "csrf.disabled"),
    ("app.py", "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)",
     "from flask import Flask\napp = Flask(__name__)\napp.run(debug=False)", "misconfig.debug-server"),
    ("app.py", "from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')",
     "from flask import Flask\napp = Flask(__name__)\napp.run(host='127.0.0.1')", "misconfig.bind-all-interfaces"),
    ("app.py", "resp.set_cookie('session_token', token)",
     "resp.set_cookie('session_token', token, secure=True, httponly=True)", "misconfig.cookie-not-secure"),
    ("app.py", "os.chmod(path, 0o777)", "os.chmod(path, 0o640)", "misconfig.world-writable"),
    ("app.py", "resp.set_cookie('session', sid)", "resp.set_cookie('session', '', expires=0)",
     "misconfig.cookie-not-secure"),
    ("app.py", "resp.set_cookie('remember_token', tok, httponly=False, secure=True)",
     "resp.set_cookie('remember_token', '', max_age=0)", "misconfig.cookie-not-httponly"),
    ("app.py", "app.config.update(SESSION_COOKIE_SECURE=False)", "app.config.update(SESSION_COOKIE_SECURE=True)",
     "misconfig.cookie-not-secure"),
    ("app.py", "import ssl\nctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1)",
     "import ssl\nctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)", "exposure.weak-tls-protocol"),
    ("app.py", "import ssl\nctx = ssl.create_default_context()\nctx.minimum_version = ssl.TLSVersion.TLSv1_1",
     "import ssl\nctx = ssl.create_default_context()\nctx.minimum_version = ssl.TLSVersion.TLSv1_2",
     "exposure.weak-tls-protocol"),
    ("app.py", "import ssl\nw = ssl.wrap_socket(sock, ssl_version=ssl.PROTOCOL_SSLv3)",
     "import ssl\nw = ssl.create_default_context().wrap_socket(sock)", "exposure.weak-tls-protocol"),
    ("app.py", "import aiohttp_jinja2\naiohttp_jinja2.setup(app, loader=loader, autoescape=False)",
     "import aiohttp_jinja2\naiohttp_jinja2.setup(app, loader=loader)", "xss.jinja2-autoescape-off"),
    ("app.py", "from flask_cors import CORS\nCORS(app, supports_credentials=True)",
     "from flask_cors import CORS\nCORS(app, origins=['https://app.example.com'], supports_credentials=True)",
     "cors.wildcard-with-credentials"),
    ("main.py", "from fastapi.middleware.cors import CORSMiddleware\n"
                "app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=True)",
     "from fastapi.middleware.cors import CORSMiddleware\n"
     "app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=False)",
     "cors.wildcard-with-credentials"),
    ("settings.py", "CORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = True",
     "CORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = False", "cors.wildcard-with-credentials"),
    ("app.py", "def h(resp):\n    resp.headers['Access-Control-Allow-Origin'] = '*'\n"
               "    resp.headers['Access-Control-Allow-Credentials'] = 'true'",
     "def h(resp):\n    resp.headers['Access-Control-Allow-Origin'] = '*'", "cors.wildcard-with-credentials"),
    ("auth.py", "from flask import session\ndef login(user):\n    session['user_id'] = user.id",
     "from flask import session\ndef login(user):\n    session.clear()\n    session['user_id'] = user.id",
     "session.login-without-rotation"),
    ("views.py", "def login(request, user):\n    request.session['user_id'] = user.pk",
     "def login(request, user):\n    request.session.cycle_key()\n    request.session['user_id'] = user.pk",
     "session.login-without-rotation"),
    ("config.py", "from datetime import timedelta\nPERMANENT_SESSION_LIFETIME = timedelta(days=400)",
     "from datetime import timedelta\nPERMANENT_SESSION_LIFETIME = timedelta(hours=12)", "session.no-expiry"),
    ("tokens.py", "import jwt\ndef issue(uid):\n    return jwt.encode({'sub': uid}, KEY, algorithm='HS256')",
     "import jwt\ndef issue(uid):\n    return jwt.encode({'sub': uid, 'exp': soon()}, KEY, algorithm='HS256')",
     "session.no-expiry"),
    ("auth.py", "import hashlib\ndef store(password):\n    return hashlib.sha1(password.encode()).hexdigest()",
     "import hashlib\ndef digest(data):\n    return hashlib.sha1(data).hexdigest()", "auth.weak-password-hash"),
    ("auth.py", "import hashlib\nh = hashlib.pbkdf2_hmac('sha256', pw, salt, 1000)",
     "import hashlib\nh = hashlib.pbkdf2_hmac('sha256', pw, salt, 600000)", "auth.weak-password-hash"),
    ("auth.py", "import jwt\nclaims = jwt.decode(token, options={'verify_signature': False})",
     "import jwt\nclaims = jwt.decode(token, KEY, algorithms=['HS256'])", "auth.jwt-unverified"),
    ("auth.py", "import jwt\nclaims = jwt.decode(token, KEY, algorithms=['none'])",
     "import jwt\nclaims = jwt.decode(token, KEY, algorithms=['RS256'])", "auth.jwt-unverified"),
    ("pay.py", "import ssl\nctx = ssl._create_unverified_context()", "import ssl\nctx = ssl.create_default_context()",
     "exposure.tls-verification-disabled"),
    ("auth.py", "def check(token):\n    return token == EXPECTED_TOKEN",
     "import hmac\ndef check(token):\n    return hmac.compare_digest(token, EXPECTED_TOKEN)",
     "auth.timing-unsafe-compare"),
    ("auth.py", "def check(user, password):\n    return user.password == password",
     "def check(user, password):\n    return check_password_hash(user.password_hash, password)",
     "auth.plaintext-password"),
    ("auth.py", "def ok(password):\n    if len(password) < 4:\n        raise ValueError",
     "def ok(password):\n    if len(password) < 10:\n        raise ValueError", "auth.weak-password-policy"),
    ("pay.py", "import logging\nlog = logging.getLogger(__name__)\nlog.info('card %s', card_number)",
     "import logging\nlog = logging.getLogger(__name__)\nlog.info('card ending %s', card_number[-4:])",
     "exposure.secret-in-log"),
    ("pay.py", "import requests\nrequests.post('http://pay.example.com/charge', auth=(user, key))",
     "import requests\nrequests.post('https://pay.example.com/charge', auth=(user, key))",
     "exposure.cleartext-credentials"),
    ("pay.py", "import requests\nrequests.get(url, verify=False)",
     "import requests\nrequests.get(url, verify=CA_BUNDLE)", "exposure.tls-verification-disabled"),
    ("pay.py", "import ssl\nctx = ssl.create_default_context()\nctx.check_hostname = False",
     "import ssl\nctx = ssl.create_default_context()\nctx.check_hostname = True", "exposure.tls-verification-disabled"),
    ("render.py", "from jinja2 import Environment\nenv = Environment(loader=loader)",
     "from jinja2 import Environment, select_autoescape\n"
     "env = Environment(loader=loader, autoescape=select_autoescape())",
     "xss.jinja2-autoescape-off"),
]


@pytest.mark.parametrize(("path", "vulnerable", "safe", "rule"), CASES, ids=[c[3] + ":" + c[0] for c in CASES])
def test_vulnerable_configuration_is_reported_and_its_safe_twin_is_not(path: str, vulnerable: str, safe: str,
                                                                     rule: str):
    assert rule in {r for _, r in found("import os\n" + vulnerable, path)}
    assert rule not in {r for _, r in found("import os\n" + safe, path)}


def test_development_settings_are_not_reported():
    code = "DEBUG = True\nALLOWED_HOSTS = ['*']\nSESSION_COOKIE_SECURE = False\nINSTALLED_APPS = []\n"
    assert found(code, "blog/settings/dev.py") == set()
    assert found(code, "blog/local_settings.py") == set()
    assert {c for c, _ in found(code, "blog/settings/production.py")} == {VulnClass.SECURITY_MISCONFIGURATION.value}


def test_flask_config_classes_named_for_development_are_skipped():
    code = """
    class Config:
        DEBUG = False

    class DevelopmentConfig(Config):
        DEBUG = True

    class ProductionConfig(Config):
        DEBUG = True
    """
    findings = ANALYZER.analyze_text(textwrap.dedent(code).lstrip(), "config.py")
    assert [(f.span.start_line + 1, f.rule) for f in findings] == [(8, "misconfig.debug-enabled")]


HEADER_TRUST = """
from functools import wraps

import flask


def local_only(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        peer = flask.request.environ.get("REMOTE_ADDR", "0")
        host = flask.request.environ.get("HTTP_HOST", "0")
        if peer in ("127.0.0.1", "::1") or host in ("127.0.0.1:9666", "[::1]:9666"):
            return func(*args, **kwargs)
        return "Forbidden", 403
    return wrapper


def peer_only(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        if flask.request.environ.get("REMOTE_ADDR") in ("127.0.0.1", "::1"):
            return func(*args, **kwargs)
        return "Forbidden", 403
    return wrapper


def setup(app):
    @app.before_request
    def secure_cookie_from_header():
        proto = flask.request.headers.get("X-Forwarded-Proto", "")
        is_secure = proto.split(",")[0].strip() == "https"
        flask.current_app.config["SESSION_COOKIE_SECURE"] = is_secure

    @app.before_request
    def secure_cookie_from_the_connection():
        flask.current_app.config["SESSION_COOKIE_SECURE"] = flask.request.is_secure
"""


def test_a_local_only_check_on_the_host_header_is_broken_auth_and_one_on_the_peer_address_is_not():
    found_at = {(f.span.start_line + 1, f.rule) for f in ANALYZER.analyze_text(HEADER_TRUST, "web/app.py")}
    assert {line for line, rule in found_at if rule == "auth.spoofable-address-check"} == {12}


def test_an_app_setting_decided_by_x_forwarded_proto_is_reported_and_one_from_the_connection_is_not():
    found_at = [(f.span.start_line + 1, f.rule, f.cwe) for f in ANALYZER.analyze_text(HEADER_TRUST, "web/app.py")
                if f.rule == "misconfig.setting-from-client-header"]
    assert found_at == [(32, "misconfig.setting-from-client-header", 614)]
