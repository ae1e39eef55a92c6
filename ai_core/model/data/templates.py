"""Template families for the 12 classes: each a vulnerable body and its safe look-alike (written for coderev).

Conventions (see generator.py): `$var` holds untrusted input in flow families, `#!sink` marks the line a
rule would flag, `@return EXPR` returns a value the way the frame does. These snippets are deliberately
vulnerable training data; they are never executed.
"""

from __future__ import annotations

from ai_core.findings import VulnClass as V
from ai_core.model.data.generator import Family

SQL_IMPORTS = ("import sqlite3",)
WEB = ("flask", "django", "fastapi")
WEB_FN = ("flask", "django", "fastapi", "function", "method")

FAMILIES: list[Family] = [
    # ---------------------------------------------------------------- sql-injection
    Family("sql-fstring", V.SQL_INJECTION, imports=SQL_IMPORTS, vuln=[
        "$cur = $conn.cursor()",
        "$cur.execute(f\"SELECT * FROM $table WHERE $col = '{$var}'\")  #!sink",
        "$res = $cur.fetchall()",
        "@return $res",
    ], safe=[
        "$cur = $conn.cursor()",
        "$cur.execute(\"SELECT * FROM $table WHERE $col = ?\", ($var,))  #!sink",
        "$res = $cur.fetchall()",
        "@return $res",
    ]),
    Family("sql-percent-var", V.SQL_INJECTION, imports=("import psycopg2",), vuln=[
        "sql = \"SELECT id, $col FROM $table WHERE $col = '%s'\" % $var",
        "with $conn.cursor() as $cur:",
        "    $cur.execute(sql)  #!sink",
        "    $res = $cur.fetchone()",
        "@return $res",
    ], safe=[
        "sql = \"SELECT id, $col FROM $table WHERE $col = %s\"",
        "with $conn.cursor() as $cur:",
        "    $cur.execute(sql, ($var,))  #!sink",
        "    $res = $cur.fetchone()",
        "@return $res",
    ]),
    Family("sql-concat", V.SQL_INJECTION, imports=SQL_IMPORTS, vuln=[
        "query = \"DELETE FROM $table WHERE $col = '\" + $var + \"'\"",
        "$conn.execute(query)  #!sink",
        "$conn.commit()",
        "@return \"ok\"",
    ], safe=[
        "query = \"DELETE FROM $table WHERE $col = ?\"",
        "$conn.execute(query, [$var])  #!sink",
        "$conn.commit()",
        "@return \"ok\"",
    ]),
    Family("sql-format", V.SQL_INJECTION, imports=("import pymysql",), vuln=[
        "stmt = \"UPDATE $table SET status = 'archived' WHERE $col = {}\".format($var)",
        "$cur = $conn.cursor()",
        "$cur.execute(stmt)  #!sink",
        "@return $cur.rowcount",
    ], safe=[
        "stmt = \"UPDATE $table SET status = 'archived' WHERE $col = %s\"",
        "$cur = $conn.cursor()",
        "$cur.execute(stmt, ($var,))  #!sink",
        "@return $cur.rowcount",
    ]),
    Family("sql-sqlalchemy-text", V.SQL_INJECTION, imports=("from sqlalchemy import text",), vuln=[
        "with engine.connect() as session:",
        "    $res = session.execute(text(f\"SELECT * FROM $table WHERE $col LIKE '%{$var}%'\"))  #!sink",
        "    rows = [dict(r._mapping) for r in $res]",
        "@return rows",
    ], safe=[
        "with engine.connect() as session:",
        "    $res = session.execute(text(\"SELECT * FROM $table WHERE $col LIKE :pattern\"), "
        "{\"pattern\": f\"%{$var}%\"})  #!sink",
        "    rows = [dict(r._mapping) for r in $res]",
        "@return rows",
    ]),
    Family("sql-django-raw", V.SQL_INJECTION, frames=("django", "function"), imports=("from .models import $model",),
           vuln=[
               "qs = $model.objects.raw(\"SELECT * FROM app_$table WHERE $col = '%s'\" % $var)  #!sink",
               "names = [obj.$col for obj in qs]",
               "@return names",
           ], safe=[
               "qs = $model.objects.raw(\"SELECT * FROM app_$table WHERE $col = %s\", [$var])  #!sink",
               "names = [obj.$col for obj in qs]",
               "@return names",
           ]),
    Family("sql-django-extra", V.SQL_INJECTION, frames=("django",), imports=("from .models import $model",), vuln=[
        "qs = $model.objects.extra(where=[f\"$col = '{$var}'\"])  #!sink",
        "@return list(qs.values(\"id\", \"$col\"))",
    ], safe=[
        "qs = $model.objects.filter($col=$var)  #!sink",
        "@return list(qs.values(\"id\", \"$col\"))",
    ]),
    Family("sql-order-by", V.SQL_INJECTION, imports=SQL_IMPORTS,
           pools={"var": ("sort", "order_by", "sort_key", "column")},
           vuln=[
               "$cur = $conn.cursor()",
               "$cur.execute(f\"SELECT id, $col FROM $table ORDER BY {$var}\")  #!sink",
               "@return $cur.fetchall()",
           ], safe=[
               "column = $var if $var in {\"id\", \"$col\", \"created\"} else \"id\"",
               "$cur = $conn.cursor()",
               "$cur.execute(f\"SELECT id, $col FROM $table ORDER BY {column}\")  #!sink",
               "@return $cur.fetchall()",
           ]),
    Family("sql-int-cast", V.SQL_INJECTION, imports=SQL_IMPORTS, pools={"var": ("limit", "page", "offset", "count")},
           vuln=[
               "$cur = $conn.cursor()",
               "$cur.execute(\"SELECT * FROM $table LIMIT \" + $var)  #!sink",
               "@return $cur.fetchall()",
           ], safe=[
               "$cur = $conn.cursor()",
               "$cur.execute(\"SELECT * FROM $table LIMIT \" + str(int($var)))  #!sink",
               "@return $cur.fetchall()",
           ]),
    Family("sql-executescript", V.SQL_INJECTION, imports=SQL_IMPORTS, vuln=[
        "script = f\"INSERT INTO $table ($col) VALUES ('{$var}');\"",
        "$conn.executescript(script)  #!sink",
        "@return \"created\"",
    ], safe=[
        "script = \"INSERT INTO $table ($col) VALUES (?)\"",
        "$conn.execute(script, ($var,))  #!sink",
        "@return \"created\"",
    ]),
    Family("sql-helper-query", V.SQL_INJECTION, frames=("function", "method"), imports=SQL_IMPORTS, vuln=[
        "where = \"$col = '%s'\" % $var",
        "$res = self_db.query(\"SELECT * FROM $table WHERE \" + where)  #!sink",
        "@return $res",
    ], safe=[
        "where = \"$col = :value\"",
        "$res = self_db.query(\"SELECT * FROM $table WHERE \" + where, value=$var)  #!sink",
        "@return $res",
    ]),
    # ---------------------------------------------------------------- command-injection
    Family("cmd-os-system", V.COMMAND_INJECTION, imports=("import os", "import subprocess"),
           pools={"var": ("host", "target", "address", "hostname", "ip")}, vuln=[
               "status = os.system(f\"ping -c 1 {$var}\")  #!sink",
               "@return {\"reachable\": status == 0}",
           ], safe=[
               "status = subprocess.run([\"ping\", \"-c\", \"1\", $var], check=False).returncode  #!sink",
               "@return {\"reachable\": status == 0}",
           ]),
    Family("cmd-shell-true-concat", V.COMMAND_INJECTION, imports=("import subprocess", "import shlex"),
           pools={"var": ("branch", "ref", "tag", "revision", "name")}, vuln=[
               "cmd = \"git log --oneline \" + $var",
               "out = subprocess.check_output(cmd, shell=True, text=True)  #!sink",
               "@return out.splitlines()",
           ], safe=[
               "cmd = \"git log --oneline \" + shlex.quote($var)",
               "out = subprocess.check_output(cmd, shell=True, text=True)  #!sink",
               "@return out.splitlines()",
           ]),
    Family("cmd-popen-list", V.COMMAND_INJECTION, imports=("import subprocess",),
           pools={"var": ("filename", "archive", "src", "path", "name")}, vuln=[
               "proc = subprocess.Popen(f\"tar -tzf {$var}\", shell=True, stdout=subprocess.PIPE)  #!sink",
               "listing, _ = proc.communicate()",
               "@return listing.decode()",
           ], safe=[
               "proc = subprocess.Popen([\"tar\", \"-tzf\", $var], stdout=subprocess.PIPE)  #!sink",
               "listing, _ = proc.communicate()",
               "@return listing.decode()",
           ]),
    Family("cmd-os-popen", V.COMMAND_INJECTION, imports=("import os",),
           pools={"var": ("directory", "folder", "path", "dirname")}, vuln=[
               "entries = os.popen(\"ls -la \" + $var).read()  #!sink",
               "@return entries",
           ], safe=[
               "entries = \"\\n\".join(sorted(os.listdir($var)))  #!sink",
               "@return entries",
           ]),
    Family("cmd-run-format", V.COMMAND_INJECTION, imports=("import subprocess",),
           pools={"var": ("image", "video", "upload", "source_file")}, vuln=[
               "command = \"convert {} -resize 200x200 /tmp/thumb.png\".format($var)",
               "subprocess.run(command, shell=True, check=True)  #!sink",
               "@return \"/tmp/thumb.png\"",
           ], safe=[
               "command = [\"convert\", $var, \"-resize\", \"200x200\", \"/tmp/thumb.png\"]",
               "subprocess.run(command, check=True)  #!sink",
               "@return \"/tmp/thumb.png\"",
           ]),
    Family("cmd-eval", V.COMMAND_INJECTION, imports=("import ast",),
           pools={"var": ("expr", "formula", "literal", "spec")},
           vuln=[
               "value = eval($var)  #!sink",
               "@return {\"value\": value}",
           ], safe=[
               "value = ast.literal_eval($var)  #!sink",
               "@return {\"value\": value}",
           ]),
    Family("cmd-asyncio-shell", V.COMMAND_INJECTION, frames=("fastapi", "function"), imports=("import asyncio",),
           pools={"var": ("domain", "host", "target")}, vuln=[
               "proc = await asyncio.create_subprocess_shell(f\"nslookup {$var}\", "
               "stdout=asyncio.subprocess.PIPE)  #!sink",
               "out, _ = await proc.communicate()",
               "@return out.decode()",
           ], safe=[
               "proc = await asyncio.create_subprocess_exec(\"nslookup\", $var, "
               "stdout=asyncio.subprocess.PIPE)  #!sink",
               "out, _ = await proc.communicate()",
               "@return out.decode()",
           ]),
    Family("cmd-getoutput", V.COMMAND_INJECTION, imports=("import subprocess", "import re"),
           pools={"var": ("pkg", "package", "module", "service")}, vuln=[
               "info = subprocess.getoutput(\"pip show \" + $var)  #!sink",
               "@return info",
           ], safe=[
               "if not re.fullmatch(r\"[A-Za-z0-9_.-]+\", $var):",
               "    raise ValueError(\"bad name\")",
               "info = subprocess.run([\"pip\", \"show\", $var], capture_output=True, text=True).stdout  #!sink",
               "@return info",
           ]),
    # ---------------------------------------------------------------- xss
    Family("xss-flask-fstring", V.XSS, frames=("flask",), imports=("from markupsafe import escape",),
           pools={"var": ("name", "username", "title", "comment", "message", "q")}, vuln=[
               "html = f\"<h1>Hello {$var}</h1><p>Welcome back.</p>\"",
               "return html  #!sink",
           ], safe=[
               "html = f\"<h1>Hello {escape($var)}</h1><p>Welcome back.</p>\"",
               "return html  #!sink",
           ]),
    Family("xss-render-template-string", V.XSS, frames=("flask",),
           imports=("from flask import render_template_string",),
           pools={"var": ("name", "title", "comment", "search", "q")}, vuln=[
               "page = \"<div class='result'>Results for \" + $var + \"</div>\"",
               "return render_template_string(page)  #!sink",
           ], safe=[
               "page = \"<div class='result'>Results for {{ term }}</div>\"",
               "return render_template_string(page, term=$var)  #!sink",
           ]),
    Family("xss-markup", V.XSS, frames=("flask", "function"), imports=("from markupsafe import Markup, escape",),
           pools={"var": ("bio", "comment", "note", "caption", "signature")}, vuln=[
               "fragment = Markup(\"<span class='note'>%s</span>\" % $var)  #!sink",
               "@return fragment",
           ], safe=[
               "fragment = Markup(\"<span class='note'>%s</span>\") % $var  #!sink",
               "@return fragment",
           ]),
    Family("xss-django-httpresponse", V.XSS, frames=("django",), imports=("from django.utils.html import escape",),
           pools={"var": ("name", "query", "q", "title", "message")}, vuln=[
               "body = \"<p>No results for \" + $var + \"</p>\"",
               "return HttpResponse(body)  #!sink",
           ], safe=[
               "body = \"<p>No results for \" + escape($var) + \"</p>\"",
               "return HttpResponse(body)  #!sink",
           ]),
    Family("xss-mark-safe", V.XSS, frames=("django", "function"),
           imports=("from django.utils.safestring import mark_safe", "from django.utils.html import format_html"),
           pools={"var": ("label", "title", "comment", "display_name")}, vuln=[
               "badge = mark_safe(f\"<b class='badge'>{$var}</b>\")  #!sink",
               "@return badge",
           ], safe=[
               "badge = format_html(\"<b class='badge'>{}</b>\", $var)  #!sink",
               "@return badge",
           ]),
    Family("xss-fastapi-html", V.XSS, frames=("fastapi",), imports=("from fastapi.responses import HTMLResponse",
                                                                  "import html"),
           pools={"var": ("name", "title", "q", "message")}, vuln=[
               "content = f\"<html><body><h2>{$var}</h2></body></html>\"",
               "return HTMLResponse(content)  #!sink",
           ], safe=[
               "content = f\"<html><body><h2>{html.escape($var)}</h2></body></html>\"",
               "return HTMLResponse(content)  #!sink",
           ]),
    Family("xss-jinja-autoescape", V.XSS, flow=False, frames=("module", "function"),
           imports=("from jinja2 import Environment, FileSystemLoader, select_autoescape",), vuln=[
               "env = Environment(loader=FileSystemLoader(\"templates\"), autoescape=False)  #!sink",
               "template = env.get_template(\"$noun.html\")",
           ], safe=[
               "env = Environment(loader=FileSystemLoader(\"templates\"), autoescape=select_autoescape())  #!sink",
               "template = env.get_template(\"$noun.html\")",
           ]),
    Family("xss-make-response", V.XSS, frames=("flask",), imports=("from flask import make_response",
                                                                  "from markupsafe import escape"),
           pools={"var": ("callback", "name", "msg", "next_page")}, vuln=[
               "resp = make_response(\"<script>var v = '%s';</script>\" % $var)  #!sink",
               "resp.headers[\"Content-Type\"] = \"text/html\"",
               "return resp",
           ], safe=[
               "resp = make_response(json.dumps({\"v\": $var}))  #!sink",
               "resp.headers[\"Content-Type\"] = \"application/json\"",
               "return resp",
           ]),
    # ---------------------------------------------------------------- ssrf
    Family("ssrf-requests-url", V.SSRF, imports=("import requests", "from urllib.parse import urlparse"),
           pools={"var": ("url", "target", "endpoint", "link", "callback_url", "webhook")}, vuln=[
               "resp = requests.get($var, timeout=5)  #!sink",
               "@return resp.text",
           ], safe=[
               "if urlparse($var).hostname not in ALLOWED_HOSTS:",
               "    raise ValueError(\"host not allowed\")",
               "resp = requests.get($var, timeout=5)  #!sink",
               "@return resp.text",
           ]),
    Family("ssrf-host-fstring", V.SSRF, imports=("import requests",),
           pools={"var": ("host", "server", "node", "region", "service")}, vuln=[
               "resp = requests.get(f\"http://{$var}/internal/status\", timeout=3)  #!sink",
               "@return resp.json()",
           ], safe=[
               "resp = requests.get(\"https://$host/internal/status\", params={\"node\": $var}, timeout=3)  #!sink",
               "@return resp.json()",
           ]),
    Family("ssrf-urlopen", V.SSRF, imports=("import urllib.request", "from urllib.parse import quote"),
           pools={"var": ("url", "feed", "source", "image_url")}, vuln=[
               "with urllib.request.urlopen($var) as fh:  #!sink",
               "    body = fh.read()",
               "@return body",
           ], safe=[
               "with urllib.request.urlopen(\"https://$host/feeds/\" + quote($var, safe=\"\")) as fh:  #!sink",
               "    body = fh.read()",
               "@return body",
           ]),
    Family("ssrf-httpx", V.SSRF, imports=("import httpx",), pools={"var": ("url", "target", "avatar_url", "link")},
           vuln=[
               "async with httpx.AsyncClient() as client:",
               "    r = await client.get($var)  #!sink",
               "@return r.content",
           ], safe=[
               "async with httpx.AsyncClient(base_url=\"https://$host\") as client:",
               "    r = await client.get(\"/avatars\", params={\"id\": $var})  #!sink",
               "@return r.content",
           ], frames=("fastapi", "function")),
    Family("ssrf-post-webhook", V.SSRF, imports=("import requests",),
           pools={"var": ("hook", "webhook_url", "notify_url", "callback")}, vuln=[
               "payload = {\"event\": \"$noun.updated\"}",
               "requests.post($var, json=payload, timeout=10)  #!sink",
               "@return \"sent\"",
           ], safe=[
               "payload = {\"event\": \"$noun.updated\", \"target\": $var}",
               "requests.post(WEBHOOK_RELAY, json=payload, timeout=10)  #!sink",
               "@return \"sent\"",
           ]),
    Family("ssrf-session-get-allowlist", V.SSRF, imports=("import requests", "from urllib.parse import urlsplit"),
           pools={"var": ("url", "resource", "document_url")}, vuln=[
               "session = requests.Session()",
               "data = session.get($var, allow_redirects=True).content  #!sink",
               "@return data",
           ], safe=[
               "parts = urlsplit($var)",
               "if parts.scheme != \"https\" or parts.hostname not in TRUSTED:",
               "    return None",
               "session = requests.Session()",
               "data = session.get($var, allow_redirects=False).content  #!sink",
               "@return data",
           ]),
    # ---------------------------------------------------------------- broken-auth
    Family("auth-md5-password", V.BROKEN_AUTH, imports=("import hashlib", "import os"),
           pools={"var": ("password", "pw", "passwd", "new_password", "secret")}, vuln=[
               "digest = hashlib.md5($var.encode()).hexdigest()  #!sink",
               "save_user(username, digest)",
               "@return \"registered\"",
           ], safe=[
               "salt = os.urandom(16)",
               "digest = hashlib.pbkdf2_hmac(\"sha256\", $var.encode(), salt, 600_000)  #!sink",
               "save_user(username, salt + digest)",
               "@return \"registered\"",
           ]),
    Family("auth-sha-password", V.BROKEN_AUTH, imports=("import hashlib", "import bcrypt"),
           pools={"var": ("password", "pwd", "plain", "candidate")}, vuln=[
               "hashed = hashlib.sha256($var.encode(\"utf-8\")).hexdigest()  #!sink",
               "user.password_hash = hashed",
               "@return user",
           ], safe=[
               "hashed = bcrypt.hashpw($var.encode(\"utf-8\"), bcrypt.gensalt())  #!sink",
               "user.password_hash = hashed",
               "@return user",
           ]),
    Family("auth-md5-cache-key", V.BROKEN_AUTH, imports=("import hashlib",),
           pools={"var": ("url", "path", "content", "body", "key")}, vuln=[
               "token_hash = hashlib.md5($var.encode()).hexdigest()  #!sink",
               "if token_hash == stored_token_hash:",
               "    @return True",
               "@return False",
           ], safe=[
               "etag = hashlib.md5($var.encode(), usedforsecurity=False).hexdigest()  #!sink",
               "cache[etag] = $var",
               "@return etag",
           ]),
    Family("auth-jwt-no-verify", V.BROKEN_AUTH, imports=("import jwt",),
           pools={"var": ("token", "jwt_token", "bearer")},
           vuln=[
               "claims = jwt.decode($var, options={\"verify_signature\": False})  #!sink",
               "user_id = claims[\"sub\"]",
               "@return user_id",
           ], safe=[
               "claims = jwt.decode($var, SECRET_KEY, algorithms=[\"HS256\"])  #!sink",
               "user_id = claims[\"sub\"]",
               "@return user_id",
           ]),
    Family("auth-jwt-none-alg", V.BROKEN_AUTH, imports=("import jwt",), pools={"var": ("token", "auth_token")}, vuln=[
        "payload = jwt.decode($var, key, algorithms=[\"HS256\", \"none\"])  #!sink",
        "@return payload",
    ], safe=[
        "payload = jwt.decode($var, key, algorithms=[\"RS256\"], audience=\"$noun-api\")  #!sink",
        "@return payload",
    ]),
    Family("auth-timing-compare", V.BROKEN_AUTH, imports=("import hmac",),
           pools={"var": ("api_key", "token", "signature", "provided")}, vuln=[
               "expected = settings_api_key()",
               "if $var == expected:  #!sink",
               "    @return True",
               "@return False",
           ], safe=[
               "expected = settings_api_key()",
               "if hmac.compare_digest($var, expected):  #!sink",
               "    @return True",
               "@return False",
           ]),
    Family("auth-plaintext-compare", V.BROKEN_AUTH, imports=("from werkzeug.security import check_password_hash",),
           pools={"var": ("password", "pw", "given")}, vuln=[
               "user = find_user(username)",
               "if user is None or user.password != $var:  #!sink",
               "    @return False",
               "@return True",
           ], safe=[
               "user = find_user(username)",
               "if user is None or not check_password_hash(user.password_hash, $var):  #!sink",
               "    @return False",
               "@return True",
           ]),
    Family("auth-weak-password-policy", V.BROKEN_AUTH, flow=False, frames=("django_settings",), vuln=[
        "AUTH_PASSWORD_VALIDATORS = []  #!sink",
        "PASSWORD_HASHERS = [\"django.contrib.auth.hashers.MD5PasswordHasher\"]",
    ], safe=[
        "AUTH_PASSWORD_VALIDATORS = [{\"NAME\": \"django.contrib.auth.password_validation.MinimumLengthValidator\"}]"
        "  #!sink",
        "PASSWORD_HASHERS = [\"django.contrib.auth.hashers.Argon2PasswordHasher\"]",
    ]),
    # ---------------------------------------------------------------- session-fixation
    Family("session-flask-login-no-clear", V.SESSION_FIXATION, frames=("flask",), flow=False,
           imports=("from flask import session",), vuln=[
               "user = authenticate(request.form[\"username\"], request.form[\"password\"])",
               "if user is None:",
               "    return \"invalid\", 401",
               "session[\"user_id\"] = user.id  #!sink",
               "return redirect(\"/\")",
           ], safe=[
               "user = authenticate(request.form[\"username\"], request.form[\"password\"])",
               "if user is None:",
               "    return \"invalid\", 401",
               "session.clear()",
               "session[\"user_id\"] = user.id  #!sink",
               "return redirect(\"/\")",
           ]),
    Family("session-django-manual", V.SESSION_FIXATION, frames=("django",), flow=False,
           imports=("from django.contrib.auth import authenticate, login",), vuln=[
               "user = authenticate(request, username=request.POST[\"username\"], password=request.POST[\"password\"])",
               "if user is not None:",
               "    request.session[\"uid\"] = user.pk  #!sink",
               "    return HttpResponse(\"welcome\")",
               "return HttpResponse(\"denied\", status=401)",
           ], safe=[
               "user = authenticate(request, username=request.POST[\"username\"], password=request.POST[\"password\"])",
               "if user is not None:",
               "    login(request, user)  #!sink",
               "    return HttpResponse(\"welcome\")",
               "return HttpResponse(\"denied\", status=401)",
           ]),
    Family("session-id-from-request", V.SESSION_FIXATION, imports=("import secrets",),
           pools={"var": ("sid", "session_id", "sess", "token")}, vuln=[
               "SESSIONS[$var] = {\"user\": current_user()}  #!sink",
               "@return $var",
           ], safe=[
               "new_sid = secrets.token_urlsafe(32)",
               "SESSIONS[new_sid] = {\"user\": current_user()}  #!sink",
               "@return new_sid",
           ]),
    Family("session-no-expiry", V.SESSION_FIXATION, flow=False, frames=("django_settings",), vuln=[
        "SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 10  #!sink",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE = False",
    ], safe=[
        "SESSION_COOKIE_AGE = 60 * 60 * 8  #!sink",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE = True",
    ]),
    Family("session-flask-permanent", V.SESSION_FIXATION, flow=False, frames=("flask_config",),
           imports=("from datetime import timedelta",), vuln=[
               "app.config[\"PERMANENT_SESSION_LIFETIME\"] = timedelta(days=3650)  #!sink",
               "app.config[\"SESSION_REFRESH_EACH_REQUEST\"] = False",
           ], safe=[
               "app.config[\"PERMANENT_SESSION_LIFETIME\"] = timedelta(hours=2)  #!sink",
               "app.config[\"SESSION_REFRESH_EACH_REQUEST\"] = True",
           ]),
    Family("session-cookie-from-param", V.SESSION_FIXATION, frames=("flask", "django"), imports=("import secrets",),
           pools={"var": ("sid", "session_token", "sessionid")}, vuln=[
               "response = redirect(\"/home\")",
               "response.set_cookie(\"sessionid\", $var, httponly=True, secure=True)  #!sink",
               "return response",
           ], safe=[
               "response = redirect(\"/home\")",
               "response.set_cookie(\"sessionid\", secrets.token_urlsafe(32), httponly=True, secure=True)  #!sink",
               "return response",
           ]),
    # ---------------------------------------------------------------- sensitive-data-exposure
    Family("sde-log-password", V.SENSITIVE_DATA_EXPOSURE, flow=False, frames=WEB_FN, vuln=[
        "password = credentials.get(\"password\")",
        "$logger.info(\"login attempt user=%s password=%s\", username, password)  #!sink",
        "@return check(username, password)",
    ], safe=[
        "password = credentials.get(\"password\")",
        "$logger.info(\"login attempt user=%s\", username)  #!sink",
        "@return check(username, password)",
    ]),
    Family("sde-traceback-to-client", V.SENSITIVE_DATA_EXPOSURE, flow=False, frames=WEB,
           imports=("import traceback",), vuln=[
               "try:",
               "    $res = do_work()",
               "except Exception:",
               "    @return {\"error\": traceback.format_exc()}  #!sink",
               "@return $res",
           ], safe=[
               "try:",
               "    $res = do_work()",
               "except Exception:",
               "    $logger.exception(\"do_work failed\")",
               "    @return {\"error\": \"internal error\"}  #!sink",
               "@return $res",
           ]),
    Family("sde-verify-false", V.SENSITIVE_DATA_EXPOSURE, flow=False, imports=("import requests",), vuln=[
        "resp = requests.get(\"https://$host/v1/$noun\", verify=False, timeout=10)  #!sink",
        "@return resp.json()",
    ], safe=[
        "resp = requests.get(\"https://$host/v1/$noun\", verify=CA_BUNDLE, timeout=10)  #!sink",
        "@return resp.json()",
    ]),
    Family("sde-http-credentials", V.SENSITIVE_DATA_EXPOSURE, flow=False, imports=("import requests",), vuln=[
        "auth = {\"username\": user, \"password\": password}",
        "r = requests.post(\"http://$host/login\", data=auth)  #!sink",
        "@return r.status_code",
    ], safe=[
        "auth = {\"username\": user, \"password\": password}",
        "r = requests.post(\"https://$host/login\", data=auth)  #!sink",
        "@return r.status_code",
    ]),
    Family("sde-ssl-unverified", V.SENSITIVE_DATA_EXPOSURE, flow=False, imports=("import ssl", "import urllib.request"),
           vuln=[
               "ctx = ssl._create_unverified_context()  #!sink",
               "with urllib.request.urlopen(\"https://$host/data\", context=ctx) as fh:",
               "    @return fh.read()",
           ], safe=[
               "ctx = ssl.create_default_context()  #!sink",
               "with urllib.request.urlopen(\"https://$host/data\", context=ctx) as fh:",
               "    @return fh.read()",
           ]),
    Family("sde-cert-none", V.SENSITIVE_DATA_EXPOSURE, flow=False, frames=("function", "method", "script"),
           imports=("import ssl",), vuln=[
               "context = ssl.create_default_context()",
               "context.check_hostname = False",
               "context.verify_mode = ssl.CERT_NONE  #!sink",
               "@return context",
           ], safe=[
               "context = ssl.create_default_context()",
               "context.check_hostname = True",
               "context.verify_mode = ssl.CERT_REQUIRED  #!sink",
               "@return context",
           ]),
    Family("sde-print-token", V.SENSITIVE_DATA_EXPOSURE, flow=False, frames=("script", "function"), vuln=[
        "api_token = os.environ[\"API_TOKEN\"]",
        "print(f\"using token {api_token}\")  #!sink",
        "@return api_token",
    ], safe=[
        "api_token = os.environ[\"API_TOKEN\"]",
        "print(\"token loaded for\", os.environ.get(\"API_USER\", \"default\"))  #!sink",
        "@return api_token",
    ], imports=("import os",)),
    Family("sde-user-dump", V.SENSITIVE_DATA_EXPOSURE, flow=False, frames=WEB, vuln=[
        "user = current_user()",
        "@return user.__dict__  #!sink",
    ], safe=[
        "user = current_user()",
        "@return {\"id\": user.id, \"name\": user.display_name}  #!sink",
    ]),
    # ---------------------------------------------------------------- hardcoded-secret
    Family("secret-api-key", V.HARDCODED_SECRET, flow=False, frames=("module", "flask_config", "django_settings"),
           pools={"key": ("sk_live_9aF3kQ2LmX8pR4tV7yB1nC6d", "AIzaSyD8v3Rk2LqPZ0xW5mN7tYc9Hb4",
                          "ghp_5KdP9sX2vL8qR3mT7wY1zB4nF6hJ0aC",
                          "xoxb-2847561930-8472615039-Qk3LmP9sX2vR8tY4", "5f4dcc3b5aa765d61d8327deb882cf99e3b0c442")},
           vuln=[
               "API_KEY = \"$key\"  #!sink",
           ], safe=[
               "API_KEY = os.environ[\"API_KEY\"]  #!sink",
           ]),
    Family("secret-db-password", V.HARDCODED_SECRET, flow=False, frames=("function", "script", "method"),
           imports=("import os", "import psycopg2"),
           pools={"key": ("Sup3rS3cret!", "hunter2hunter2", "P@ssw0rd2024", "db_admin_77x", "changeme123!")}, vuln=[
               "$conn = psycopg2.connect(host=\"db\", user=\"app\", password=\"$key\")  #!sink",
               "@return $conn",
           ], safe=[
               "$conn = psycopg2.connect(host=\"db\", user=\"app\", password=os.environ[\"DB_PASSWORD\"])  #!sink",
               "@return $conn",
           ]),
    Family("secret-django-key", V.HARDCODED_SECRET, flow=False, frames=("django_settings",),
           pools={"key": ("django-insecure-7x!k2@m9#qv$$l0p3z8w^r4t6y1u5b", "x8#2Lq!9vR0mZ3k7Tp5wY1cB6nH4dJ",
                          "f3b2c1d0e9a8b7c6d5e4f3a2b1c0d9e8")}, vuln=[
               "SECRET_KEY = \"$key\"  #!sink",
           ], safe=[
               "SECRET_KEY = os.environ.get(\"DJANGO_SECRET_KEY\")  #!sink",
           ]),
    Family("secret-aws", V.HARDCODED_SECRET, flow=False, frames=("function", "script", "module"),
           imports=("import boto3",), vuln=[
               "s3 = boto3.client(\"s3\", aws_access_key_id=\"AKIAIOSFODNN7QX2ZK4L\", "
               "aws_secret_access_key=\"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\")  #!sink",
           ], safe=[
               "s3 = boto3.client(\"s3\", region_name=os.environ.get(\"AWS_REGION\", \"eu-west-1\"))  #!sink",
           ]),
    Family("secret-jwt-signing", V.HARDCODED_SECRET, flow=False, frames=WEB_FN, imports=("import jwt",), vuln=[
        "token = jwt.encode({\"sub\": user_id}, \"my-jwt-signing-secret-2024\", algorithm=\"HS256\")  #!sink",
        "@return token",
    ], safe=[
        "token = jwt.encode({\"sub\": user_id}, settings.JWT_SECRET, algorithm=\"HS256\")  #!sink",
        "@return token",
    ]),
    Family("secret-lookalike-names", V.HARDCODED_SECRET, flow=False, frames=("module", "function"), vuln=[
        "STRIPE_SECRET = \"rk_live_51Hx9Qm2eZvKYlo2C8a7Rb3N\"  #!sink",
        "PASSWORD_FIELD = \"password\"",
    ], safe=[
        "STRIPE_SECRET_ENV = \"STRIPE_SECRET\"  #!sink",
        "PASSWORD_FIELD = \"password\"",
    ]),
    Family("secret-headers", V.HARDCODED_SECRET, flow=False, imports=("import requests",), vuln=[
        "headers = {\"Authorization\": \"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl\"}  #!sink",
        "@return requests.get(\"https://$host/v2/$noun\", headers=headers).json()",
    ], safe=[
        "headers = {\"Authorization\": f\"Bearer {get_token()}\"}  #!sink",
        "@return requests.get(\"https://$host/v2/$noun\", headers=headers).json()",
    ]),
    # ---------------------------------------------------------------- security-misconfiguration
    Family("misconf-django-debug", V.SECURITY_MISCONFIGURATION, flow=False, frames=("django_settings",), vuln=[
        "DEBUG = True  #!sink",
    ], safe=[
        "DEBUG = os.environ.get(\"DJANGO_DEBUG\", \"0\") == \"1\"  #!sink",
    ]),
    Family("misconf-flask-run-debug", V.SECURITY_MISCONFIGURATION, flow=False, frames=("module",),
           imports=("from flask import Flask",), vuln=[
               "app = Flask(__name__)",
               "",
               "if __name__ == \"__main__\":",
               "    app.run(host=\"0.0.0.0\", port=8000, debug=True)  #!sink",
           ], safe=[
               "app = Flask(__name__)",
               "",
               "if __name__ == \"__main__\":",
               "    app.run(host=\"127.0.0.1\", port=8000, debug=False)  #!sink",
           ]),
    Family("misconf-allowed-hosts", V.SECURITY_MISCONFIGURATION, flow=False, frames=("django_settings",), vuln=[
        "ALLOWED_HOSTS = [\"*\"]  #!sink",
    ], safe=[
        "ALLOWED_HOSTS = [\"$host\", \"www.$host\"]  #!sink",
    ]),
    Family("misconf-cookie-flags", V.SECURITY_MISCONFIGURATION, flow=False, frames=("django_settings",), vuln=[
        "SESSION_COOKIE_SECURE = False  #!sink",
        "CSRF_COOKIE_SECURE = False",
    ], safe=[
        "SESSION_COOKIE_SECURE = True  #!sink",
        "CSRF_COOKIE_SECURE = True",
    ]),
    Family("misconf-set-cookie", V.SECURITY_MISCONFIGURATION, flow=False, frames=("flask", "django"), vuln=[
        "response = make_response(redirect(\"/\"))",
        "response.set_cookie(\"remember_token\", token, httponly=False, secure=False)  #!sink",
        "return response",
    ], safe=[
        "response = make_response(redirect(\"/\"))",
        "response.set_cookie(\"remember_token\", token, httponly=True, secure=True, samesite=\"Lax\")  #!sink",
        "return response",
    ]),
    Family("misconf-flask-config-httponly", V.SECURITY_MISCONFIGURATION, flow=False, frames=("flask_config",), vuln=[
        "app.config[\"SESSION_COOKIE_HTTPONLY\"] = False  #!sink",
    ], safe=[
        "app.config[\"SESSION_COOKIE_HTTPONLY\"] = True  #!sink",
    ]),
    Family("misconf-chmod", V.SECURITY_MISCONFIGURATION, flow=False, frames=("function", "script", "method"),
           imports=("import os",), vuln=[
               "os.makedirs(cache_dir, exist_ok=True)",
               "os.chmod(cache_dir, 0o777)  #!sink",
           ], safe=[
               "os.makedirs(cache_dir, exist_ok=True)",
               "os.chmod(cache_dir, 0o700)  #!sink",
           ]),
    Family("misconf-csrf-exempt", V.SECURITY_MISCONFIGURATION, flow=False, frames=("module",),
           imports=("from django.views.decorators.csrf import csrf_exempt, csrf_protect",
                    "from django.http import JsonResponse"), vuln=[
               "@csrf_exempt  #!sink",
               "def transfer(request):",
               "    amount = request.POST[\"amount\"]",
               "    return JsonResponse({\"ok\": move_money(request.user, amount)})",
           ], safe=[
               "@csrf_protect  #!sink",
               "def transfer(request):",
               "    amount = request.POST[\"amount\"]",
               "    return JsonResponse({\"ok\": move_money(request.user, amount)})",
           ]),
    Family("misconf-fastapi-debug", V.SECURITY_MISCONFIGURATION, flow=False, frames=("module",),
           imports=("from fastapi import FastAPI", "import uvicorn"), vuln=[
               "app = FastAPI(debug=True)  #!sink",
               "",
               "if __name__ == \"__main__\":",
               "    uvicorn.run(app, host=\"0.0.0.0\", reload=True)",
           ], safe=[
               "app = FastAPI(debug=False)  #!sink",
               "",
               "if __name__ == \"__main__\":",
               "    uvicorn.run(app, host=\"127.0.0.1\")",
           ]),
    # ---------------------------------------------------------------- cors-misconfiguration
    Family("cors-flask-wildcard-credentials", V.CORS_MISCONFIGURATION, flow=False, frames=("module", "flask_config"),
           imports=("from flask_cors import CORS",), vuln=[
               "CORS(app, origins=\"*\", supports_credentials=True)  #!sink",
           ], safe=[
               "CORS(app, origins=[\"https://app.$host\"], supports_credentials=True)  #!sink",
           ]),
    Family("cors-django-allow-all", V.CORS_MISCONFIGURATION, flow=False, frames=("django_settings",), vuln=[
        "CORS_ALLOW_ALL_ORIGINS = True  #!sink",
        "CORS_ALLOW_CREDENTIALS = True",
    ], safe=[
        "CORS_ALLOWED_ORIGINS = [\"https://app.$host\"]  #!sink",
        "CORS_ALLOW_CREDENTIALS = True",
    ]),
    Family("cors-fastapi-middleware", V.CORS_MISCONFIGURATION, flow=False, frames=("module",),
           imports=("from fastapi import FastAPI", "from fastapi.middleware.cors import CORSMiddleware"), vuln=[
               "app = FastAPI()",
               "app.add_middleware(",
               "    CORSMiddleware,",
               "    allow_origins=[\"*\"], allow_credentials=True,  #!sink",
               "    allow_methods=[\"*\"], allow_headers=[\"*\"],",
               ")",
           ], safe=[
               "app = FastAPI()",
               "app.add_middleware(",
               "    CORSMiddleware,",
               "    allow_origins=[\"https://app.$host\"], allow_credentials=True,  #!sink",
               "    allow_methods=[\"GET\", \"POST\"], allow_headers=[\"Authorization\"],",
               ")",
           ]),
    Family("cors-reflect-origin", V.CORS_MISCONFIGURATION, flow=False, frames=("flask", "django", "function"), vuln=[
        "origin = request.headers.get(\"Origin\", \"\")",
        "response.headers[\"Access-Control-Allow-Origin\"] = origin  #!sink",
        "response.headers[\"Access-Control-Allow-Credentials\"] = \"true\"",
        "@return response",
    ], safe=[
        "origin = request.headers.get(\"Origin\", \"\")",
        "if origin in ALLOWED_ORIGINS:",
        "    response.headers[\"Access-Control-Allow-Origin\"] = origin  #!sink",
        "    response.headers[\"Access-Control-Allow-Credentials\"] = \"true\"",
        "@return response",
    ]),
    Family("cors-regex-any", V.CORS_MISCONFIGURATION, flow=False, frames=("django_settings",), vuln=[
        "CORS_ALLOWED_ORIGIN_REGEXES = [r\".*\"]  #!sink",
        "CORS_ALLOW_CREDENTIALS = True",
    ], safe=[
        "CORS_ALLOWED_ORIGIN_REGEXES = [r\"^https://\\w+\\.$host$$\"]  #!sink",
        "CORS_ALLOW_CREDENTIALS = True",
    ]),
    # ---------------------------------------------------------------- path-traversal
    Family("path-join-open", V.PATH_TRAVERSAL, imports=("import os",),
           pools={"var": ("filename", "fname", "name", "doc", "report_name", "file_path")}, vuln=[
               "full = os.path.join($base, $var)",
               "with open(full, \"rb\") as fh:  #!sink",
               "    @return fh.read()",
           ], safe=[
               "full = os.path.realpath(os.path.join($base, os.path.basename($var)))",
               "if not full.startswith(os.path.realpath($base) + os.sep):",
               "    raise PermissionError($var)",
               "with open(full, \"rb\") as fh:  #!sink",
               "    @return fh.read()",
           ]),
    Family("path-send-file", V.PATH_TRAVERSAL, frames=("flask",),
           imports=("from flask import send_file, send_from_directory",),
           pools={"var": ("filename", "name", "attachment", "asset")}, vuln=[
               "return send_file(f\"uploads/{$var}\")  #!sink",
           ], safe=[
               "return send_from_directory(\"uploads\", $var)  #!sink",
           ]),
    Family("path-pathlib", V.PATH_TRAVERSAL, imports=("from pathlib import Path",),
           pools={"var": ("rel", "relative", "subpath", "name", "path")}, vuln=[
               "target = Path($base) / $var",
               "text = target.read_text()  #!sink",
               "@return text",
           ], safe=[
               "root = Path($base).resolve()",
               "target = (root / $var).resolve()",
               "if not target.is_relative_to(root):",
               "    raise ValueError(\"outside root\")",
               "text = target.read_text()  #!sink",
               "@return text",
           ]),
    Family("path-tar-extract", V.PATH_TRAVERSAL, imports=("import tarfile",),
           pools={"var": ("archive", "upload", "bundle", "tar_path")}, vuln=[
               "with tarfile.open($var) as tar:",
               "    tar.extractall(\"/srv/unpacked\")  #!sink",
               "@return \"done\"",
           ], safe=[
               "with tarfile.open($var) as tar:",
               "    tar.extractall(\"/srv/unpacked\", filter=\"data\")  #!sink",
               "@return \"done\"",
           ]),
    Family("path-remove", V.PATH_TRAVERSAL, imports=("import os", "from werkzeug.utils import secure_filename"),
           pools={"var": ("filename", "name", "upload_name")}, vuln=[
               "os.remove(os.path.join($base, $var))  #!sink",
               "@return \"deleted\"",
           ], safe=[
               "os.remove(os.path.join($base, secure_filename($var)))  #!sink",
               "@return \"deleted\"",
           ]),
    Family("path-fastapi-fileresponse", V.PATH_TRAVERSAL, frames=("fastapi",),
           imports=("from fastapi.responses import FileResponse", "import os"),
           pools={"var": ("filename", "name", "path")}, vuln=[
               "return FileResponse(os.path.join(\"static\", $var))  #!sink",
           ], safe=[
               "if $var not in os.listdir(\"static\"):",
               "    raise HTTPException(status_code=404)",
               "return FileResponse(os.path.join(\"static\", $var))  #!sink",
           ]),
    Family("path-zip-member", V.PATH_TRAVERSAL, frames=("function", "script", "method"),
           imports=("import zipfile", "import os"),
           flow=False, vuln=[
               "with zipfile.ZipFile(archive) as zf:",
               "    for member in zf.namelist():",
               "        dest = os.path.join(out_dir, member)",
               "        with open(dest, \"wb\") as fh:  #!sink",
               "            fh.write(zf.read(member))",
           ], safe=[
               "with zipfile.ZipFile(archive) as zf:",
               "    for member in zf.namelist():",
               "        dest = os.path.realpath(os.path.join(out_dir, member))",
               "        if not dest.startswith(os.path.realpath(out_dir) + os.sep):",
               "            continue",
               "        with open(dest, \"wb\") as fh:  #!sink",
               "            fh.write(zf.read(member))",
           ]),
    # ---------------------------------------------------------------- insecure-deserialization
    Family("deser-pickle-loads", V.INSECURE_DESERIALIZATION, imports=("import pickle", "import json", "import base64"),
           pools={"var": ("blob", "payload", "data", "state", "raw", "cookie")}, vuln=[
               "obj = pickle.loads(base64.b64decode($var))  #!sink",
               "@return obj",
           ], safe=[
               "obj = json.loads(base64.b64decode($var))  #!sink",
               "@return obj",
           ]),
    Family("deser-yaml-load", V.INSECURE_DESERIALIZATION, imports=("import yaml",),
           pools={"var": ("doc", "config_text", "manifest", "body", "spec")}, vuln=[
               "config = yaml.load($var, Loader=yaml.Loader)  #!sink",
               "@return config",
           ], safe=[
               "config = yaml.safe_load($var)  #!sink",
               "@return config",
           ]),
    Family("deser-yaml-unsafe", V.INSECURE_DESERIALIZATION, imports=("import yaml",),
           pools={"var": ("document", "text", "yaml_body")}, vuln=[
               "items = yaml.unsafe_load($var)  #!sink",
               "@return len(items)",
           ], safe=[
               "items = yaml.load($var, Loader=yaml.SafeLoader)  #!sink",
               "@return len(items)",
           ]),
    Family("deser-marshal", V.INSECURE_DESERIALIZATION, imports=("import marshal", "import json"),
           pools={"var": ("blob", "code_blob", "packed")}, vuln=[
               "value = marshal.loads($var)  #!sink",
               "@return value",
           ], safe=[
               "value = json.loads($var)  #!sink",
               "@return value",
           ]),
    Family("deser-jsonpickle", V.INSECURE_DESERIALIZATION, imports=("import jsonpickle", "import json"),
           pools={"var": ("state", "snapshot", "obj_json")}, vuln=[
               "restored = jsonpickle.decode($var)  #!sink",
               "@return restored",
           ], safe=[
               "restored = json.loads($var)  #!sink",
               "@return restored",
           ]),
    Family("deser-pickle-file", V.INSECURE_DESERIALIZATION, imports=("import pickle", "import json"),
           pools={"var": ("upload_path", "model_file", "path", "filename")}, vuln=[
               "with open($var, \"rb\") as fh:",
               "    model = pickle.load(fh)  #!sink",
               "@return model",
           ], safe=[
               "with open($var, \"r\", encoding=\"utf-8\") as fh:",
               "    model = json.load(fh)  #!sink",
               "@return model",
           ]),
    Family("deser-torch-load", V.INSECURE_DESERIALIZATION, imports=("import torch",),
           pools={"var": ("checkpoint", "weights", "ckpt_path")}, vuln=[
               "state = torch.load($var)  #!sink",
               "@return state",
           ], safe=[
               "state = torch.load($var, weights_only=True)  #!sink",
               "@return state",
           ]),
    Family("deser-shelve-dill", V.INSECURE_DESERIALIZATION, imports=("import dill", "import json"),
           pools={"var": ("blob", "message", "job")}, vuln=[
               "task = dill.loads($var)  #!sink",
               "@return task()",
           ], safe=[
               "task = TASKS[json.loads($var)[\"name\"]]  #!sink",
               "@return task()",
           ]),
]

FAMILIES += [
    # ---------------------------------------------------------------- look-alikes whose sanitiser rules may not know
    Family("sql-allowlist-table", V.SQL_INJECTION, imports=SQL_IMPORTS, pools={"var": ("kind", "entity", "resource")},
           vuln=[
               "table = $var",
               "$cur = $conn.cursor()",
               "$cur.execute(f\"SELECT COUNT(*) FROM {table}\")  #!sink",
               "@return $cur.fetchone()[0]",
           ], safe=[
               "table = {\"order\": \"orders\", \"user\": \"users\", \"item\": \"items\"}.get($var, \"orders\")",
               "$cur = $conn.cursor()",
               "$cur.execute(f\"SELECT COUNT(*) FROM {table}\")  #!sink",
               "@return $cur.fetchone()[0]",
           ]),
    Family("sql-uuid-cast", V.SQL_INJECTION, imports=(*SQL_IMPORTS, "import uuid"),
           pools={"var": ("token_id", "session_ref", "ident", "uid")}, vuln=[
               "key = str($var)",
               "$res = $conn.execute(\"SELECT * FROM $table WHERE ref = '%s'\" % key).fetchall()  #!sink",
               "@return $res",
           ], safe=[
               "key = str(uuid.UUID($var))",
               "$res = $conn.execute(\"SELECT * FROM $table WHERE ref = '%s'\" % key).fetchall()  #!sink",
               "@return $res",
           ]),
    Family("cmd-shlex-fstring", V.COMMAND_INJECTION, imports=("import subprocess", "import shlex"),
           pools={"var": ("pattern", "needle", "word", "term")}, vuln=[
               "out = subprocess.run(f\"grep -n {$var} /var/log/app.log\", shell=True, capture_output=True)  #!sink",
               "@return out.stdout.decode()",
           ], safe=[
               "out = subprocess.run(f\"grep -n {shlex.quote($var)} /var/log/app.log\", shell=True, "
               "capture_output=True)  #!sink",
               "@return out.stdout.decode()",
           ]),
    Family("cmd-allowlist", V.COMMAND_INJECTION, imports=("import os",), pools={"var": ("service", "unit", "daemon")},
           vuln=[
               "$logger.info(\"restarting %s\", $var)",
               "os.system(\"systemctl restart \" + $var)  #!sink",
               "@return \"restarted\"",
           ], safe=[
               "if $var not in {\"nginx\", \"redis\", \"worker\"}:",
               "    raise ValueError(\"unknown service\")",
               "os.system(\"systemctl restart \" + $var)  #!sink",
               "@return \"restarted\"",
           ]),
    Family("path-basename-only", V.PATH_TRAVERSAL, imports=("import os",), pools={"var": ("name", "report", "doc")},
           vuln=[
               "with open(f\"/srv/reports/{$var}.pdf\", \"rb\") as fh:  #!sink",
               "    @return fh.read()",
           ], safe=[
               "with open(f\"/srv/reports/{os.path.basename($var)}.pdf\", \"rb\") as fh:  #!sink",
               "    @return fh.read()",
           ]),
    Family("path-safe-join", V.PATH_TRAVERSAL, imports=("import os", "from werkzeug.utils import safe_join"),
           pools={"var": ("filename", "asset", "rel_path")}, vuln=[
               "target = os.path.join($base, $var)",
               "with open(target, encoding=\"utf-8\") as fh:  #!sink",
               "    @return fh.read()",
           ], safe=[
               "target = safe_join($base, $var)",
               "if target is None:",
               "    raise FileNotFoundError($var)",
               "with open(target, encoding=\"utf-8\") as fh:  #!sink",
               "    @return fh.read()",
           ]),
    Family("xss-int-cast", V.XSS, frames=("flask", "django"), pools={"var": ("page", "count", "year")}, vuln=[
        "html = \"<p>Showing page %s</p>\" % $var",
        "return HttpResponse(html)  #!sink",
    ], safe=[
        "html = \"<p>Showing page %d</p>\" % int($var)",
        "return HttpResponse(html)  #!sink",
    ]),
    Family("xss-json-instead", V.XSS, frames=("django", "flask"), pools={"var": ("name", "title", "label")}, vuln=[
        "body = f\"<div class='profile'>{$var}</div>\"",
        "return HttpResponse(body, content_type=\"text/html\")  #!sink",
    ], safe=[
        "body = {\"profile\": $var}",
        "return JsonResponse(body)  #!sink",
    ]),
    Family("ssrf-fixed-service", V.SSRF, imports=("import requests", "from urllib.parse import quote"),
           pools={"var": ("base", "service_url", "api_root")}, vuln=[
               "resp = requests.get($var + \"/health\", timeout=2)  #!sink",
               "@return resp.status_code",
           ], safe=[
               "resp = requests.get(f\"{SERVICE_URL}/health/{quote($var, safe='')}\", timeout=2)  #!sink",
               "@return resp.status_code",
           ]),
    Family("ssrf-private-ip-check", V.SSRF, imports=("import ipaddress", "import socket", "import requests",
                                                    "from urllib.parse import urlparse"),
           pools={"var": ("url", "target_url", "image")}, vuln=[
               "host = urlparse($var).hostname",
               "$logger.info(\"fetching from %s\", host)",
               "data = requests.get($var, timeout=5).content  #!sink",
               "@return data",
           ], safe=[
               "host = urlparse($var).hostname",
               "if ipaddress.ip_address(socket.gethostbyname(host)).is_private:",
               "    raise PermissionError(host)",
               "data = requests.get($var, timeout=5, allow_redirects=False).content  #!sink",
               "@return data",
           ]),
    Family("deser-signed-token", V.INSECURE_DESERIALIZATION, imports=("import pickle", "import base64",
                                                                     "from itsdangerous import URLSafeSerializer"),
           pools={"var": ("token", "cookie_value", "state")}, vuln=[
               "prefs = pickle.loads(base64.urlsafe_b64decode($var))  #!sink",
               "@return prefs",
           ], safe=[
               "prefs = URLSafeSerializer(SECRET_KEY).loads($var)  #!sink",
               "@return prefs",
           ]),
    Family("auth-hash-compare", V.BROKEN_AUTH, imports=("import hashlib", "import bcrypt"),
           pools={"var": ("password", "pw", "attempt")}, vuln=[
               "user = lookup(username)",
               "ok = hashlib.sha256($var.encode()).hexdigest() == user.pw_hash  #!sink",
               "@return ok",
           ], safe=[
               "user = lookup(username)",
               "ok = bcrypt.checkpw($var.encode(), user.pw_hash)  #!sink",
               "@return ok",
           ]),
    Family("secret-getenv-fallback", V.HARDCODED_SECRET, flow=False, frames=("module", "function", "django_settings"),
           vuln=[
               "STRIPE_KEY = os.getenv(\"STRIPE_KEY\", \"sk_live_51Jd8RkL2x9QmP4vT7yW3nB6c\")  #!sink",
           ], safe=[
               "STRIPE_KEY = os.getenv(\"STRIPE_KEY\", \"\")  #!sink",
           ]),
    Family("sde-log-token-masked", V.SENSITIVE_DATA_EXPOSURE, flow=False, frames=WEB_FN, vuln=[
        "token = issue_token(user)",
        "$logger.debug(\"issued token %s for %s\", token, user.id)  #!sink",
        "@return token",
    ], safe=[
        "token = issue_token(user)",
        "$logger.debug(\"issued token %s... for %s\", token[:4], user.id)  #!sink",
        "@return token",
    ]),
    Family("misconf-app-debug-attr", V.SECURITY_MISCONFIGURATION, flow=False, frames=("flask_config", "module"), vuln=[
        "app.debug = True  #!sink",
        "app.config[\"PROPAGATE_EXCEPTIONS\"] = True",
    ], safe=[
        "app.debug = os.environ.get(\"FLASK_DEBUG\") == \"1\"  #!sink",
        "app.config[\"PROPAGATE_EXCEPTIONS\"] = False",
    ]),
    Family("cors-star-public", V.CORS_MISCONFIGURATION, flow=False, frames=("flask", "django", "function"), vuln=[
        "response.headers[\"Access-Control-Allow-Origin\"] = \"*\"  #!sink",
        "response.headers[\"Access-Control-Allow-Credentials\"] = \"true\"",
        "@return response",
    ], safe=[
        "response.headers[\"Access-Control-Allow-Origin\"] = \"*\"  #!sink",
        "response.headers[\"Cache-Control\"] = \"public, max-age=300\"",
        "@return response",
    ]),
    Family("session-cycle-key", V.SESSION_FIXATION, flow=False, frames=("django",), vuln=[
        "user = authenticate(request, **credentials(request))",
        "if user is None:",
        "    return HttpResponse(status=401)",
        "request.session[\"user_id\"] = user.pk  #!sink",
        "return HttpResponse(\"ok\")",
    ], safe=[
        "user = authenticate(request, **credentials(request))",
        "if user is None:",
        "    return HttpResponse(status=401)",
        "request.session.cycle_key()",
        "request.session[\"user_id\"] = user.pk  #!sink",
        "return HttpResponse(\"ok\")",
    ]),
]
