"""Frames a template body is placed in (web routes, scripts, functions, methods, settings modules) and the
filler lines, helper functions and settings lines that vary the generated files around it."""

from __future__ import annotations

import random
from dataclasses import dataclass

FILLERS = (
    "# TODO: add caching",
    "started = time.monotonic()",
    "$logger.debug(\"handling request\")",
    "limit = 50",
    "count = 0",
    "# keep this in sync with the API docs",
    "retries = 3",
    "$logger.info(\"start %s\", \"${verb}_${noun}\")",
    "timeout = 10",
    "page_size = 25",
)
HELPERS = (
    ["def _paginate(items, page, size=20):", "    start = (page - 1) * size", "    return items[start:start + size]"],
    ["def _now():", "    return datetime.datetime.utcnow().isoformat()"],
    ["def _chunks(seq, n):", "    for i in range(0, len(seq), n):", "        yield seq[i:i + n]"],
    ["def _normalise(text):", "    return \" \".join(text.split()).lower()"],
    ["class Config:", "    retries = 3", "    timeout = 5.0"],
    ["def _as_bool(value):", "    return str(value).lower() in {\"1\", \"true\", \"yes\"}"],
    ["def health():", "    return {\"status\": \"ok\"}"],
    ["def _total(rows):", "    return sum(row.get(\"amount\", 0) for row in rows)"],
)
DJANGO_SETTINGS = (
    "TIME_ZONE = \"UTC\"", "USE_TZ = True", "LANGUAGE_CODE = \"en-us\"", "ROOT_URLCONF = \"$noun.urls\"",
    "STATIC_URL = \"/static/\"", "DEFAULT_AUTO_FIELD = \"django.db.models.BigAutoField\"",
    "WSGI_APPLICATION = \"$noun.wsgi.application\"", "USE_I18N = True",
    "INSTALLED_APPS = [\"django.contrib.auth\", \"django.contrib.contenttypes\", \"$noun\"]",
    "MIDDLEWARE = [\"django.middleware.security.SecurityMiddleware\"]",
    "DATABASES = {\"default\": {\"ENGINE\": \"django.db.backends.sqlite3\", \"NAME\": BASE_DIR / \"db.sqlite3\"}}",
    "TEMPLATES = [{\"BACKEND\": \"django.template.backends.django.DjangoTemplates\", \"DIRS\": []}]",
)
FLASK_CONFIG = (
    "app.config[\"JSON_SORT_KEYS\"] = False", "app.config[\"MAX_CONTENT_LENGTH\"] = 16 * 1024 * 1024",
    "app.config[\"TEMPLATES_AUTO_RELOAD\"] = False", "app.config[\"PREFERRED_URL_SCHEME\"] = \"https\"",
    "app.url_map.strict_slashes = False", "app.config[\"UPLOAD_FOLDER\"] = \"/srv/uploads\"",
)
MODULE_FILLER = (
    "DEFAULT_TIMEOUT = 30", "VERSION = \"1.4.2\"", "RETRY_LIMIT = 5", "PAGE_SIZE = 50",
    "SUPPORTED_FORMATS = (\"json\", \"csv\")", "CACHE_TTL = 300", "REGION = \"eu-west-1\"",
)


@dataclass
class Frame:
    """Code around a body: its imports, module prelude, def header, source lines, indent and return style."""

    imports: list[str]
    prelude: list[str]
    header: list[str]
    source: list[str]
    source_label: str
    indent: str
    returns: str


def flow_frame(kind: str, rng: random.Random, names: dict[str, str], flow: bool) -> Frame:
    """A random frame of `kind` (flask, django, fastapi, script, function, method); with `flow`, it reads `$var`
    from a source of that kind."""
    var, param = names["var"], names["param"]
    hint = rng.random() < 0.4
    if kind == "flask":
        path_param = flow and rng.random() < 0.25
        choices = [
            (f"request.args.get(\"{param}\")", "request.args"),
            (f"request.args.get(\"{param}\", \"\")", "request.args"),
            (f"request.args[\"{param}\"]", "request.args"),
            (f"request.form[\"{param}\"]", "request.form"),
            (f"request.form.get(\"{param}\", \"\")", "request.form"),
            (f"request.values.get(\"{param}\")", "request.values"),
            (f"(request.get_json() or {{}}).get(\"{param}\")", "request.get_json"),
            (f"request.json[\"{param}\"]", "request.json"),
            (f"request.headers.get(\"X-{names['Param']}\")", "request.headers"),
            (f"request.cookies.get(\"{param}\")", "request.cookies"),
        ]
        expr, label = rng.choice(choices)
        method = rng.choice(["", "", ", methods=[\"POST\"]", ", methods=[\"GET\", \"POST\"]"])
        route = f"/{names['route']}/<{var}>" if path_param else f"/{names['route']}"
        deco = rng.choice(["@app.route", "@app.route", "@bp.route"])
        head = [f"{deco}(\"{route}\"{method})", f"def {names['fn']}({var if path_param else ''}):"]
        prelude = ["app = Flask(__name__)"] if deco == "@app.route" else ["bp = Blueprint(\"$noun\", __name__)"]
        src = [] if path_param or not flow else [f"{var} = {expr}"]
        return Frame(["from flask import Blueprint, Flask, jsonify, request"], prelude, head, src,
                      f"source: route variable <{var}>" if path_param else f"source: {label}", "    ",
                      rng.choice(["return jsonify({x})", "return jsonify(result={x})", "return {{\"result\": {x}}}"]))
    if kind == "django":
        path_param = flow and rng.random() < 0.25
        choices = [
            (f"request.GET.get(\"{param}\")", "request.GET"),
            (f"request.GET.get(\"{param}\", \"\")", "request.GET"),
            (f"request.GET[\"{param}\"]", "request.GET"),
            (f"request.POST.get(\"{param}\")", "request.POST"),
            (f"request.POST[\"{param}\"]", "request.POST"),
            (f"json.loads(request.body)[\"{param}\"]", "request.body"),
            (f"request.META.get(\"HTTP_X_{names['PARAM']}\")", "request.META"),
            (f"request.COOKIES.get(\"{param}\")", "request.COOKIES"),
        ]
        expr, label = rng.choice(choices)
        decos = rng.choice([[], ["@login_required"], ["@require_GET"], ["@require_http_methods([\"GET\", \"POST\"])"]])
        sig = f"def {names['fn']}(request{', ' + var if path_param else ''}):"
        if hint:
            extra = f", {var}: str" if path_param else ""
            sig = f"def {names['fn']}(request: HttpRequest{extra}) -> HttpResponse:"
        src = [] if path_param or not flow else [f"{var} = {expr}"]
        return Frame(["import json", "from django.http import HttpRequest, HttpResponse, JsonResponse",
                       "from django.contrib.auth.decorators import login_required",
                       "from django.views.decorators.http import require_GET, require_http_methods"],
                      [], [*decos, sig], src,
                      f"source: route variable <{var}>" if path_param else f"source: {label}", "    ",
                      rng.choice(["return JsonResponse({{\"result\": {x}}})", "return HttpResponse({x})"]))
    if kind == "fastapi":
        style = rng.choice(["param", "query", "body", "request"]) if flow else "param"
        imports = ["from fastapi import APIRouter, FastAPI, Query, Request", "from pydantic import BaseModel"]
        verb = rng.choice(["get", "get", "post"])
        owner = rng.choice(["app", "router"])
        prelude = ["app = FastAPI()"] if owner == "app" else ["router = APIRouter()"]
        is_async = rng.random() < 0.6
        deff = "async def" if is_async else "def"
        deco = f"@{owner}.{verb}(\"/{names['route']}\")"
        if style == "param":
            sig = f"{deff} {names['fn']}({var}: str):" if flow else f"{deff} {names['fn']}():"
            src, label = [], f"source: request parameter {var}"
        elif style == "query":
            sig = f"{deff} {names['fn']}({var}: str = Query(..., max_length=200)):"
            src, label = [], f"source: request parameter {var}"
        elif style == "body":
            prelude += ["", f"class {names['noun'].title()}In(BaseModel):", f"    {param}: str"]
            sig = f"{deff} {names['fn']}(body: {names['noun'].title()}In):"
            src, label = [f"{var} = body.{param}"], "source: request parameter body"
        else:
            sig = f"{deff} {names['fn']}(request: Request):"
            src, label = [f"{var} = request.query_params.get(\"{param}\")"], "source: request.query_params"
        return Frame(imports, prelude, [deco, sig], src, label, "    ",
                      rng.choice(["return {{\"result\": {x}}}", "return {x}"]))
    if kind == "script":
        style = rng.choice(["argv", "input", "argparse", "stdin"])
        imports = ["import sys"]
        head = [f"def {rng.choice(['main', 'cli', 'run', names['fn']])}():"]
        if style == "argv":
            src, label = [f"{var} = sys.argv[1]"], "source: sys.argv"
        elif style == "input":
            src, label = [f"{var} = input(\"{param}: \")"], "source: input()"
        elif style == "stdin":
            src, label = [f"{var} = sys.stdin.readline().strip()"], "source: sys.stdin"
        else:
            imports.append("import argparse")
            src = ["parser = argparse.ArgumentParser()", f"parser.add_argument(\"{param}\")",
                   "args = parser.parse_args()", f"{var} = args.{param}"]
            label = "source: argparse"
        return Frame(imports, [], head, src if flow else [], label, "    ", "print({x})")
    if kind == "function":
        sig = f"def {names['fn']}({var}: str) -> object:" if hint else f"def {names['fn']}({var}):"
        if not flow:
            sig = f"def {names['fn']}():"
        return Frame([], [], [sig], [], f"parameter {var} of {names['fn']}()", "    ", "return {x}")
    sig = f"    def {names['fn']}(self, {var}: str):" if hint else f"    def {names['fn']}(self, {var}):"
    if not flow:
        sig = f"    def {names['fn']}(self):"
    return Frame([], [], [f"class {names['cls']}:", "", *([f"    \"\"\"{names['noun'].title()} access.\"\"\""]
                                                            if rng.random() < 0.4 else []),
                           "    def __init__(self, conn):", "        self.conn = conn", "", sig],
                  [], f"parameter {var} of {names['fn']}()", "        ", "return {x}")
