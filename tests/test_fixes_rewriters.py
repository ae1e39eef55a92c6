"""Each rewriter on a real finding of the Analyzer: vulnerable input -> exact fixed output, verified.

The expected texts spell out the whole file so that import placement, blank lines and formatting are part of
the specification. Each fixed text is also re-analysed (the safe twin must stay silent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.fixes import Fixer
from ai_core.parsing import ParsedDocument


@dataclass(frozen=True)
class Case:
    """One vulnerable file, the class of the finding to fix, the rewriter expected to fix it, the result."""

    name: str
    vuln_class: str
    rewriter: str
    rule: str
    filename: str
    source: str
    fixed: str


CASES = [
    Case('sql_sqlite_fstring', 'sql-injection', 'bound_parameters',
         'sql.dbapi-execute', 'app.py',
         '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/user")
def user():
    name = request.args["name"]
    db = sqlite3.connect("app.db")
    return {"rows": db.execute(f"SELECT id FROM users WHERE name = '{name}'").fetchall()}
''',
         '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/user")
def user():
    name = request.args["name"]
    db = sqlite3.connect("app.db")
    return {"rows": db.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchall()}
'''),
    Case('sql_psycopg_concat_like', 'sql-injection', 'bound_parameters',
         'sql.dbapi-execute', 'app.py',
         '''import psycopg2
from flask import Flask, request

app = Flask(__name__)


@app.route("/search")
def search():
    term = request.args["q"]
    conn = psycopg2.connect("dbname=shop")
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM items WHERE title LIKE '%" + term + "%' AND stock > 0")
        return {"ids": cur.fetchall()}
''',
         '''import psycopg2
from flask import Flask, request

app = Flask(__name__)


@app.route("/search")
def search():
    term = request.args["q"]
    conn = psycopg2.connect("dbname=shop")
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM items WHERE title LIKE %s AND stock > 0", (f"%{term}%",))
        return {"ids": cur.fetchall()}
'''),
    Case('sql_sqlalchemy_text', 'sql-injection', 'bound_parameters',
         'sql.sqlalchemy-text', 'app.py',
         '''from fastapi import FastAPI
from sqlalchemy import create_engine, text

app = FastAPI()
engine = create_engine("sqlite://")


@app.get("/orders/{owner}")
def orders(owner: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM orders WHERE owner = '%s'" % owner)).all()
''',
         '''from fastapi import FastAPI
from sqlalchemy import create_engine, text

app = FastAPI()
engine = create_engine("sqlite://")


@app.get("/orders/{owner}")
def orders(owner: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM orders WHERE owner = :owner").bindparams(owner=owner)).all()
'''),
    Case('sql_django_raw', 'sql-injection', 'bound_parameters',
         'sql.django-raw', 'app.py',
         '''from django.http import JsonResponse

from shop.models import Product


def products(request):
    brand = request.GET["brand"]
    rows = Product.objects.raw("SELECT * FROM shop_product WHERE brand = '{}'".format(brand))
    return JsonResponse({"ids": [p.id for p in rows]})
''',
         '''from django.http import JsonResponse

from shop.models import Product


def products(request):
    brand = request.GET["brand"]
    rows = Product.objects.raw("SELECT * FROM shop_product WHERE brand = %s", [brand])
    return JsonResponse({"ids": [p.id for p in rows]})
'''),
    Case('cmd_subprocess_fstring', 'command-injection', 'argument_list',
         'command.subprocess-shell', 'app.py',
         '''import subprocess
import sys


def archive(folder):
    subprocess.run(f"tar czf /tmp/out.tgz {folder}", shell=True, check=True)


if __name__ == "__main__":
    archive(sys.argv[1])
''',
         '''import subprocess
import sys


def archive(folder):
    subprocess.run(["tar", "czf", "/tmp/out.tgz", folder], check=True)


if __name__ == "__main__":
    archive(sys.argv[1])
'''),
    Case('cmd_os_system', 'command-injection', 'argument_list',
         'command.os-system', 'app.py',
         '''import os
import sys


def convert(name):
    status = os.system("convert " + name + " out.png")
    return status == 0


if __name__ == "__main__":
    convert(sys.argv[1])
''',
         '''import subprocess
import sys


def convert(name):
    status = subprocess.run(["convert", name, "out.png"], check=False).returncode
    return status == 0


if __name__ == "__main__":
    convert(sys.argv[1])
'''),
    Case('cmd_shell_pipe_quoted', 'command-injection', 'shlex_quote',
         'command.subprocess-shell', 'app.py',
         '''import subprocess
import sys


def count_errors(log_file):
    return subprocess.check_output(f"grep -c ERROR {log_file} | head -1", shell=True)


if __name__ == "__main__":
    print(count_errors(sys.argv[1]))
''',
         '''import shlex
import subprocess
import sys


def count_errors(log_file):
    return subprocess.check_output(f"grep -c ERROR {shlex.quote(log_file)} | head -1", shell=True)


if __name__ == "__main__":
    print(count_errors(sys.argv[1]))
'''),
    Case('code_eval', 'code-injection', 'literal_eval',
         'code.eval', 'app.py',
         '''import sys


def calc(expression):
    return eval(expression)


if __name__ == "__main__":
    print(calc(sys.argv[1]))
''',
         '''import ast
import sys


def calc(expression):
    return ast.literal_eval(expression)


if __name__ == "__main__":
    print(calc(sys.argv[1]))
'''),
    Case('xss_flask_fstring', 'xss', 'escape_values',
         'xss.route-return', 'app.py',
         '''from flask import Flask, request

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return f"<h1>Hello {name}</h1>"
''',
         '''from flask import Flask, request
from markupsafe import escape

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return f"<h1>Hello {escape(name)}</h1>"
'''),
    Case('code_render_template_string', 'code-injection', 'template_variables',
         'code.template-injection', 'app.py',
         '''from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/banner")
def banner():
    title = request.args["title"]
    return render_template_string("<div>" + title + "</div>")
''',
         '''from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/banner")
def banner():
    title = request.args["title"]
    return render_template_string("<div>{{ title }}</div>", title=title)
'''),
    Case('xss_jinja_autoescape', 'xss', 'autoescape_on',
         'xss.jinja2-autoescape-off', 'app.py',
         '''from jinja2 import Environment, FileSystemLoader

env = Environment(loader=FileSystemLoader("templates"))
''',
         '''from jinja2 import Environment, FileSystemLoader

env = Environment(loader=FileSystemLoader("templates"), autoescape=True)
'''),
    Case('ssrf_requests', 'ssrf', 'host_allowlist',
         'ssrf.http-client', 'app.py',
         '''import requests
from flask import Flask, request

app = Flask(__name__)


@app.route("/proxy")
def proxy():
    return requests.get(request.args["url"], timeout=5).text
''',
         '''import os
from urllib.parse import urlparse

import requests
from flask import Flask, request

ALLOWED_URL_HOSTS = frozenset(
    filter(None, os.environ.get("ALLOWED_URL_HOSTS", "").split(","))
)
"""Hosts this module may send requests to (comma-separated, from the environment)."""

app = Flask(__name__)


@app.route("/proxy")
def proxy():
    url = request.args["url"]
    if urlparse(url).hostname not in ALLOWED_URL_HOSTS:
        raise ValueError("refusing a request to a host not in ALLOWED_URL_HOSTS")
    return requests.get(url, timeout=5).text
'''),
    Case('path_send_file', 'path-traversal', 'realpath_prefix',
         'path.send-file', 'app.py',
         '''import os

from flask import Flask, request, send_file

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.route("/file")
def download():
    return send_file(os.path.join(UPLOADS, request.args["name"]))
''',
         '''import os

from flask import Flask, request, send_file

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.route("/file")
def download():
    safe_path = os.path.realpath(os.path.join(UPLOADS, request.args["name"]))
    if not safe_path.startswith(os.path.realpath(UPLOADS) + os.sep):
        raise ValueError("refusing a path outside the allowed folder")
    return send_file(safe_path)
'''),
    Case('path_tar', 'path-traversal', 'tar_filter',
         'path.archive-extract', 'app.py',
         '''import sys
import tarfile


def restore(archive, target):
    with tarfile.open(archive) as tar:
        tar.extractall(target)


if __name__ == "__main__":
    restore(sys.argv[1], sys.argv[2])
''',
         '''import sys
import tarfile


def restore(archive, target):
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")


if __name__ == "__main__":
    restore(sys.argv[1], sys.argv[2])
'''),
    Case('deser_pickle', 'insecure-deserialization', 'json_instead_of_pickle',
         'deserialization.pickle-loads', 'app.py',
         '''import pickle

from flask import Flask, request

app = Flask(__name__)


@app.route("/state", methods=["POST"])
def state():
    return {"state": pickle.loads(request.data)}
''',
         '''import json

from flask import Flask, request

app = Flask(__name__)


@app.route("/state", methods=["POST"])
def state():
    return {"state": json.loads(request.data)}
'''),
    Case('deser_yaml', 'insecure-deserialization', 'yaml_safe_load',
         'deserialization.yaml-load', 'app.py',
         '''import sys

import yaml


def load(text):
    return yaml.load(text, Loader=yaml.FullLoader)


if __name__ == "__main__":
    print(load(sys.stdin.read()))
''',
         '''import sys

import yaml


def load(text):
    return yaml.safe_load(text)


if __name__ == "__main__":
    print(load(sys.stdin.read()))
'''),
    Case('secret_assignment', 'hardcoded-secret', 'secret_from_environment',
         'secret.hardcoded-credential', 'app.py',
         '''"""Payment settings."""

STRIPE_API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
TIMEOUT = 10
''',
         '''"""Payment settings."""

import os

STRIPE_API_KEY = os.environ["STRIPE_API_KEY"]
TIMEOUT = 10
'''),
    Case('secret_dict_password', 'hardcoded-secret', 'secret_from_environment',
         'secret.hardcoded-password', 'app.py',
         '''DATABASES = {
    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop", "PASSWORD": "Pr0d-db-Passw0rd!"},
}
''',
         '''import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "PASSWORD": os.environ["DATABASES_PASSWORD"],
    },
}
'''),
    Case('misconfig_debug', 'security-misconfiguration', 'debug_from_environment',
         'misconfig.debug-enabled', 'settings.py',
         '''"""Django settings."""

import os

DEBUG = True
ROOT = os.path.dirname(__file__)
''',
         '''"""Django settings."""

import os

DEBUG = os.environ.get("DEBUG") == "1"
ROOT = os.path.dirname(__file__)
'''),
    Case('misconfig_flask_run', 'security-misconfiguration', 'debug_from_environment',
         'misconfig.debug-server', 'app.py',
         '''from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=True)
''',
         '''import os

from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")
'''),
    Case('misconfig_chmod', 'security-misconfiguration', 'private_file_mode',
         'misconfig.world-writable', 'app.py',
         '''import os


def publish(path):
    os.chmod(path, 0o666)
''',
         '''import os


def publish(path):
    os.chmod(path, 0o644)
'''),
    Case('cors_flask_cors', 'cors-misconfiguration', 'cors_origins',
         'cors.wildcard-with-credentials', 'app.py',
         '''from flask import Flask
from flask_cors import CORS

app = Flask(__name__)
CORS(app, origins="*", supports_credentials=True)
''',
         '''import os

from flask import Flask
from flask_cors import CORS

app = Flask(__name__)
CORS(
    app,
    origins=os.environ.get("CORS_ALLOWED_ORIGINS", "").split(","),
    supports_credentials=True,
)
'''),
    Case('cors_reflected', 'cors-misconfiguration', 'reflected_origin',
         'cors.reflected-origin', 'app.py',
         '''from flask import Flask, make_response, request

app = Flask(__name__)


@app.route("/api")
def api():
    response = make_response({"ok": True})
    response.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response
''',
         '''import os

from flask import Flask, make_response, request

ALLOWED_ORIGINS = frozenset(
    filter(None, os.environ.get("CORS_ALLOWED_ORIGINS", "").split(","))
)
"""Origins allowed to read responses with credentials (comma-separated, from the environment)."""

app = Flask(__name__)


@app.route("/api")
def api():
    response = make_response({"ok": True})
    origin = request.headers["Origin"]
    if origin in ALLOWED_ORIGINS:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response
'''),
    Case('exposure_verify', 'sensitive-data-exposure', 'tls_verify',
         'exposure.tls-verification-disabled', 'app.py',
         '''import requests


def rates():
    return requests.get("https://rates.example.com", timeout=5, verify=False).json()
''',
         '''import requests


def rates():
    return requests.get("https://rates.example.com", timeout=5, verify=True).json()
'''),
    Case('exposure_log', 'sensitive-data-exposure', 'redact_logged_secrets',
         'exposure.secret-in-log', 'app.py',
         '''import logging

log = logging.getLogger(__name__)


def login(user, password):
    log.info("login attempt for %s with %s", user, password)
''',
         '''import logging

log = logging.getLogger(__name__)


def login(user, password):
    log.info("login attempt for %s with %s", user, "[REDACTED]")
'''),
    Case('exposure_traceback', 'sensitive-data-exposure', 'generic_error',
         'exposure.traceback-response', 'app.py',
         '''import traceback

from flask import Flask

app = Flask(__name__)


@app.route("/report")
def report():
    try:
        return build()
    except Exception:
        return traceback.format_exc(), 500


def build():
    return "ok"
''',
         '''import logging

from flask import Flask

app = Flask(__name__)


@app.route("/report")
def report():
    try:
        return build()
    except Exception:
        logging.getLogger(__name__).exception("request failed")
        return "Internal server error", 500


def build():
    return "ok"
'''),
    Case('auth_md5', 'broken-auth', 'password_hashing',
         'auth.weak-password-hash', 'app.py',
         '''import hashlib


def store(db, user, password):
    db[user] = hashlib.md5(password.encode()).hexdigest()


def check(db, user, password):
    return db[user] == hashlib.md5(password.encode()).hexdigest()
''',
         '''import hashlib
import hmac
import os


def _hash_password(password: str | bytes) -> str:
    """A salted scrypt hash of a password: "scrypt$<salt hex>$<hash hex>"."""
    data = password.encode() if isinstance(password, str) else password
    salt = os.urandom(16)
    digest = hashlib.scrypt(data, salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _verify_password(password: str | bytes, stored: str) -> bool:
    """True when `password` matches a value made by _hash_password (constant time)."""
    data = password.encode() if isinstance(password, str) else password
    scheme, _, rest = stored.partition("$")
    salt_hex, _, digest_hex = rest.partition("$")
    if scheme != "scrypt" or not digest_hex:
        return False
    digest = hashlib.scrypt(data, salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex)


def store(db, user, password):
    db[user] = _hash_password(password)


def check(db, user, password):
    return db[user] == hashlib.md5(password.encode()).hexdigest()
'''),
    Case('auth_jwt', 'broken-auth', 'jwt_verification',
         'auth.jwt-unverified', 'app.py',
         '''import jwt


def subject(token):
    return jwt.decode(token, options={"verify_signature": False})["sub"]
''',
         '''import os

import jwt


def subject(token):
    return jwt.decode(token, os.environ["JWT_SECRET_KEY"], algorithms=["HS256"])["sub"]
'''),
    Case('auth_compare', 'broken-auth', 'constant_time_compare',
         'auth.timing-unsafe-compare', 'app.py',
         '''def valid(signature, expected_signature):
    return signature == expected_signature
''',
         '''import hmac


def valid(signature, expected_signature):
    return hmac.compare_digest(signature, expected_signature)
'''),
    Case('session_rotation', 'session-fixation', 'rotate_session',
         'session.login-without-rotation', 'app.py',
         '''from flask import Flask, request, session

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    if request.form["password"] == lookup(request.form["user"]):
        session["user"] = request.form["user"]
        return "ok"
    return "no", 401


def lookup(user):
    return ""
''',
         '''from flask import Flask, request, session

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    if request.form["password"] == lookup(request.form["user"]):
        session.clear()
        session["user"] = request.form["user"]
        return "ok"
    return "no", 401


def lookup(user):
    return ""
'''),
    Case('session_jwt_exp', 'session-fixation', 'token_expiry',
         'session.no-expiry', 'app.py',
         '''import jwt


def issue(user_id, key):
    return jwt.encode({"sub": user_id}, key, algorithm="HS256")
''',
         '''import datetime

import jwt


def issue(user_id, key):
    return jwt.encode(
        {
            "sub": user_id,
            "exp": datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=30),
        },
        key,
        algorithm="HS256",
    )
'''),
    Case('sql_partly_parameterized', 'sql-injection', 'bound_parameters',
         'sql.dbapi-execute', 'app.py',
         '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/event", methods=["POST"])
def event():
    conn = sqlite3.connect("events.db")
    conn.execute("INSERT INTO events (kind, body) VALUES ('" + request.form["kind"] + "', ?)", (request.data,))
    return "ok"
''',
         '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/event", methods=["POST"])
def event():
    conn = sqlite3.connect("events.db")
    conn.execute("INSERT INTO events (kind, body) VALUES (?, ?)", (request.form["kind"], request.data))
    return "ok"
'''),
    Case('ssrf_raw_connection', 'ssrf', 'host_allowlist',
         'ssrf.raw-connection', 'app.py',
         '''import http.client

from fastapi import FastAPI

app = FastAPI()


@app.get("/probe")
def probe(host: str):
    conn = http.client.HTTPConnection(host, timeout=3)
    conn.request("HEAD", "/")
    return {"status": conn.getresponse().status}
''',
         '''import http.client
import os

from fastapi import FastAPI

ALLOWED_URL_HOSTS = frozenset(
    filter(None, os.environ.get("ALLOWED_URL_HOSTS", "").split(","))
)
"""Hosts this module may send requests to (comma-separated, from the environment)."""

app = FastAPI()


@app.get("/probe")
def probe(host: str):
    if host not in ALLOWED_URL_HOSTS:
        raise ValueError("refusing a connection to a host not in ALLOWED_URL_HOSTS")
    conn = http.client.HTTPConnection(host, timeout=3)
    conn.request("HEAD", "/")
    return {"status": conn.getresponse().status}
'''),
    Case('xss_html_helper', 'xss', 'escape_values',
         'xss.route-return', 'app.py',
         '''from flask import Flask, request

app = Flask(__name__)


def greeting(name):
    return "<h1>Hi " + name + "</h1>"


@app.route("/hi")
def hi():
    return greeting(request.args["name"])
''',
         '''from flask import Flask, request
from markupsafe import escape

app = Flask(__name__)


def greeting(name):
    return "<h1>Hi " + name + "</h1>"


@app.route("/hi")
def hi():
    return greeting(str(escape(request.args["name"])))
'''),
    Case('exposure_ftp', 'sensitive-data-exposure', 'secure_transport',
         'exposure.cleartext-credentials', 'app.py',
         '''import ftplib


def upload(host, user, password, path):
    ftp = ftplib.FTP(host)
    ftp.login(user, password)
    with open(path, "rb") as handle:
        ftp.storbinary("STOR backup.tgz", handle)
''',
         '''import ftplib


def upload(host, user, password, path):
    ftp = ftplib.FTP_TLS(host)
    ftp.login(user, password)
    ftp.prot_p()
    with open(path, "rb") as handle:
        ftp.storbinary("STOR backup.tgz", handle)
'''),
    Case('exposure_smtp', 'sensitive-data-exposure', 'secure_transport',
         'exposure.cleartext-credentials', 'app.py',
         '''import smtplib


def send(password, message):
    server = smtplib.SMTP("smtp.example.com", 587)
    server.login("reports@example.com", password)
    server.sendmail("reports@example.com", ["ops@example.com"], message)
''',
         '''import smtplib


def send(password, message):
    server = smtplib.SMTP("smtp.example.com", 587)
    server.starttls()
    server.login("reports@example.com", password)
    server.sendmail("reports@example.com", ["ops@example.com"], message)
'''),
    Case('exposure_ssh_host_key', 'sensitive-data-exposure', 'host_key_check',
         'exposure.tls-verification-disabled', 'app.py',
         '''import paramiko


def connect(host):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(host)
    return client
''',
         '''import paramiko


def connect(host):
    client = paramiko.SSHClient()
    client.load_system_host_keys()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(host)
    return client
'''),
    Case('auth_django_hashers', 'broken-auth', 'strong_hashers',
         'auth.weak-password-hash', 'settings.py',
         '''"""Django settings."""

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.SHA1PasswordHasher",
]
''',
         '''"""Django settings."""

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
'''),
    Case('auth_validators', 'broken-auth', 'password_policy',
         'auth.weak-password-policy', 'settings.py',
         '''"""Django settings."""

AUTH_PASSWORD_VALIDATORS = []
''',
         '''"""Django settings."""

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
'''),
    Case('auth_password_length', 'broken-auth', 'password_policy',
         'auth.weak-password-policy', 'app.py',
         '''from flask import Flask, request

app = Flask(__name__)


@app.route("/password", methods=["POST"])
def change_password():
    new_password = request.form["new_password"]
    if len(new_password) < 6:
        return "too short", 400
    return "ok"
''',
         '''from flask import Flask, request

app = Flask(__name__)


@app.route("/password", methods=["POST"])
def change_password():
    new_password = request.form["new_password"]
    if len(new_password) < 12:
        return "too short", 400
    return "ok"
'''),
    Case('deser_numpy', 'insecure-deserialization', 'numpy_no_pickle',
         'deserialization.numpy-allow-pickle', 'app.py',
         '''import sys

import numpy as np


def load(path):
    return np.load(path, allow_pickle=True)


if __name__ == "__main__":
    print(load(sys.argv[1]))
''',
         '''import sys

import numpy as np


def load(path):
    return np.load(path, allow_pickle=False)


if __name__ == "__main__":
    print(load(sys.argv[1]))
'''),
    Case('session_token_lifetime', 'session-fixation', 'session_lifetime',
         'session.no-expiry', 'settings.py',
         '''"""API settings."""

ACCESS_TOKEN_EXPIRE_MINUTES = 60 * 24 * 365
''',
         '''"""API settings."""

ACCESS_TOKEN_EXPIRE_MINUTES = 30
'''),
    Case('secret_jwt_positional', 'hardcoded-secret', 'secret_from_environment',
         'secret.hardcoded-crypto-key', 'app.py',
         '''import jwt


def sign(claims):
    return jwt.encode(claims, "debug-signing-key-2024", algorithm="HS256")
''',
         '''import os

import jwt


def sign(claims):
    return jwt.encode(claims, os.environ["JWT_SECRET_KEY"], algorithm="HS256")
'''),
    Case('deser_torch', 'insecure-deserialization', 'torch_weights_only',
         'deserialization.torch-load', 'app.py',
         '''import torch
from flask import Flask, request

app = Flask(__name__)


@app.route("/model", methods=["POST"])
def model():
    path = "/srv/models/" + request.args["name"]
    return {"keys": list(torch.load(path))}
''',
         '''import torch
from flask import Flask, request

app = Flask(__name__)


@app.route("/model", methods=["POST"])
def model():
    path = "/srv/models/" + request.args["name"]
    return {"keys": list(torch.load(path, weights_only=True))}
'''),
    Case('exposure_http_credentials', 'sensitive-data-exposure', 'https_url',
         'exposure.cleartext-credentials', 'app.py',
         '''import requests


def push(token):
    return requests.post("http://partner.example.com/api", headers={"Authorization": token}, timeout=5)
''',
         '''import requests


def push(token):
    return requests.post("https://partner.example.com/api", headers={"Authorization": token}, timeout=5)
'''),
    Case('session_id_from_request', 'session-fixation', 'session_id_from_server',
         'session.id-from-request', 'app.py',
         '''from flask import Flask, make_response, request

app = Flask(__name__)


@app.route("/resume")
def resume():
    response = make_response("ok")
    response.set_cookie("session", request.args["sid"], secure=True, httponly=True, samesite="Lax")
    return response
''',
         '''import secrets

from flask import Flask, make_response

app = Flask(__name__)


@app.route("/resume")
def resume():
    response = make_response("ok")
    response.set_cookie("session", secrets.token_urlsafe(32), secure=True, httponly=True, samesite="Lax")
    return response
'''),
    Case('cmd_getoutput', 'command-injection', 'argument_list',
         'command.subprocess-getoutput', 'app.py',
         '''import subprocess
import sys


def usage(folder):
    return subprocess.getoutput("du -sh " + folder)


if __name__ == "__main__":
    print(usage(sys.argv[1]))
''',
         r'''import subprocess
import sys


def usage(folder):
    return subprocess.run(
        ["du", "-sh", folder], capture_output=True, text=True, check=False
    ).stdout.rstrip("\n")


if __name__ == "__main__":
    print(usage(sys.argv[1]))
'''),
    Case('code_render_template_string_whole', 'code-injection', 'template_variables',
         'code.template-injection', 'app.py',
         '''from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/preview", methods=["POST"])
def preview():
    return render_template_string(request.form["body"])
''',
         '''from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/preview", methods=["POST"])
def preview():
    return render_template_string("{{ content }}", content=request.form["body"])
'''),
    Case('xxe_lxml_resolving_parser', 'xxe', 'lxml_parser_flags',
         'xxe.lxml-parser-entities', 'app.py',
         '''from lxml import etree

PARSER = etree.XMLParser(resolve_entities=True)
''',
         '''from lxml import etree

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
'''),
    Case('xxe_lxml_fromstring', 'xxe', 'lxml_safe_parser',
         'xxe.lxml-parse', 'app.py',
         '''from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.route("/import", methods=["POST"])
def import_xml():
    root = etree.fromstring(request.data)
    return {"items": len(root)}
''',
         '''from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.route("/import", methods=["POST"])
def import_xml():
    root = etree.fromstring(
        request.data, parser=etree.XMLParser(resolve_entities=False, no_network=True)
    )
    return {"items": len(root)}
'''),
    Case('xxe_minidom_defusedxml', 'xxe', 'defusedxml_parser',
         'xxe.stdlib-parse', 'app.py',
         '''import logging
from xml.dom import minidom

from flask import Flask, request

app = Flask(__name__)
log = logging.getLogger(__name__)


@app.route("/import", methods=["POST"])
def import_xml():
    doc = minidom.parseString(request.data)
    return {"items": len(doc.childNodes)}
''',
         '''import logging

import defusedxml.minidom
from flask import Flask, request

app = Flask(__name__)
log = logging.getLogger(__name__)


@app.route("/import", methods=["POST"])
def import_xml():
    doc = defusedxml.minidom.parseString(request.data)
    return {"items": len(doc.childNodes)}
'''),
    Case('redirect_flask_netloc', 'open-redirect', 'same_host_redirect',
         'redirect.response', 'app.py',
         '''from flask import Flask, redirect, request

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    return redirect(request.args.get("next"))
''',
         '''from urllib.parse import urlparse

from flask import Flask, redirect, request

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    target = request.args.get("next")
    if (
        not target
        or urlparse(target).netloc
        or urlparse(target).scheme
        or target.startswith(("//", "/\\\\"))
    ):
        target = "/"
    return redirect(target)
'''),
    Case('redirect_django_allowed_host', 'open-redirect', 'same_host_redirect',
         'redirect.response', 'views.py',
         '''from django.http import HttpResponseRedirect


def after_login(request):
    nxt = request.GET.get("next", "/")
    return HttpResponseRedirect(nxt)
''',
         '''from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def after_login(request):
    nxt = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        nxt = "/"
    return HttpResponseRedirect(nxt)
'''),
    Case('csrf_exempt_removed', 'csrf', 'remove_exemption',
         'csrf.exempt-view', 'views.py',
         '''from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def transfer(request):
    amount = request.POST["amount"]
    return JsonResponse({"amount": amount})
''',
         '''from django.http import JsonResponse


def transfer(request):
    amount = request.POST["amount"]
    return JsonResponse({"amount": amount})
'''),
    Case('csrf_method_decorator_removed', 'csrf', 'remove_exemption',
         'csrf.exempt-view', 'views.py',
         '''from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt


@method_decorator(csrf_exempt, name="dispatch")
class OrderView(View):
    def post(self, request):
        Order.objects.create(sku=request.POST["sku"])
        return JsonResponse({})
''',
         '''from django.http import JsonResponse
from django.views import View


class OrderView(View):
    def post(self, request):
        Order.objects.create(sku=request.POST["sku"])
        return JsonResponse({})
'''),
    Case('csrf_setting_on', 'csrf', 'secure_flags',
         'csrf.disabled', 'app.py',
         '''from flask import Flask

app = Flask(__name__)
app.config["WTF_CSRF_ENABLED"] = False
''',
         '''from flask import Flask

app = Flask(__name__)
app.config["WTF_CSRF_ENABLED"] = True
'''),
    Case('csrf_middleware_added', 'csrf', 'add_middleware',
         'csrf.middleware-missing', 'settings.py',
         '''import os

SECRET_KEY = os.environ["SECRET_KEY"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
''',
         '''import os

SECRET_KEY = os.environ["SECRET_KEY"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
'''),
    Case('tls_protocol_client', 'sensitive-data-exposure', 'modern_tls',
         'exposure.weak-tls-protocol', 'app.py',
         '''import ssl

ctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
''',
         '''import ssl

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
'''),
    Case('tls_minimum_version', 'sensitive-data-exposure', 'modern_tls',
         'exposure.weak-tls-protocol', 'app.py',
         '''import ssl

ctx = ssl.create_default_context()
ctx.minimum_version = ssl.TLSVersion.TLSv1_1
''',
         '''import ssl

ctx = ssl.create_default_context()
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
'''),
    Case('random_token_secrets_choice', 'insecure-randomness', 'secrets_equivalent',
         'randomness.predictable-secret', 'app.py',
         '''import random
import string


def new_reset_token():
    reset_token = "".join(random.choice(string.ascii_letters) for _ in range(32))
    return reset_token
''',
         '''import secrets
import string


def new_reset_token():
    reset_token = "".join(secrets.choice(string.ascii_letters) for _ in range(32))
    return reset_token
'''),
    Case('random_otp_randbelow', 'insecure-randomness', 'secrets_equivalent',
         'randomness.predictable-secret', 'app.py',
         '''import random


def new_otp():
    otp = random.randint(100000, 999999)
    return otp
''',
         '''import secrets


def new_otp():
    otp = secrets.randbelow(900000) + 100000
    return otp
'''),
    Case('random_uuid1_uuid4', 'insecure-randomness', 'secrets_equivalent',
         'randomness.predictable-secret', 'app.py',
         '''import uuid


def issue(user):
    user.api_key = uuid.uuid1().hex
''',
         '''import uuid


def issue(user):
    user.api_key = uuid.uuid4().hex
'''),
]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """Rules only: the model is not part of these specifications."""
    return Analyzer(Settings(model_enabled=False))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rewriter_turns_the_vulnerable_file_into_the_exact_fixed_file(case: Case, analyzer: Analyzer,
                                                                       tmp_path: Path):
    path = str(tmp_path / case.filename)
    doc = ParsedDocument(case.source, path=path)
    finding = next(f for f in analyzer.analyze(doc, path) if f.vuln_class.value == case.vuln_class)
    assert finding.rule == case.rule
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == f"rewriter:{case.rewriter}", proposal.rejected
    assert proposal.fix is not None and proposal.fix.verified
    assert proposal.after == case.fixed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_fixed_file_has_no_finding_of_that_class_at_that_place(case: Case, analyzer: Analyzer, tmp_path: Path):
    path = str(tmp_path / case.filename)
    before = [f for f in analyzer.analyze_text(case.source, path) if f.vuln_class.value == case.vuln_class]
    after = [f for f in analyzer.analyze_text(case.fixed, path) if f.vuln_class.value == case.vuln_class]
    assert len(after) < len(before)
