"""Security misconfiguration (CWE-16, 489, 605, 614, 1004, 732): protections switched off in settings.

- DEBUG = True in production settings (Django settings, Flask config classes, app.config), CWE-489;
- ALLOWED_HOSTS containing "*", CWE-16;
- session/CSRF/remember cookies without Secure (CWE-614) or HttpOnly (CWE-1004), in settings or in
  `set_cookie("session...", ...)` calls without `secure=True, httponly=True` (not when the call deletes the
  cookie: `expires=0`, `max_age=0`);
- the Flask/Werkzeug development server run with the debugger or on 0.0.0.0 (CWE-489, CWE-605);
- world-writable file modes (`os.chmod(path, 0o777)`), CWE-732;
- an app setting (`app.config["SESSION_COOKIE_SECURE"] = ...`) decided per request by a header the client sets
  (X-Forwarded-Proto, Host), CWE-16/614.

Development and test settings are not reported. Fix: read DEBUG from the environment (off by
default), list real host names, set the cookie flags, serve through gunicorn/uvicorn.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.docindex import CallSite, DocIndex, literal_int
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.wordlist import contains_any
from ai_core.classes._shared import headers
from ai_core.classes._shared.config_reader import MISCONF, contains_wildcard, is_dev_path, settings
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing_function, string_value

MISC = VulnClass.SECURITY_MISCONFIGURATION

DEBUG = Rule("misconfig.debug-enabled", MISC, Severity.MEDIUM, 0.8, "debug mode enabled", cwe=489)
HOSTS = Rule("misconfig.allowed-hosts-wildcard", MISC, Severity.MEDIUM, 0.8, "any Host header accepted", cwe=16)
NOT_SECURE = Rule("misconfig.cookie-not-secure", MISC, Severity.MEDIUM, 0.75, "cookie sent over plain HTTP", cwe=614)
NOT_HTTPONLY = Rule("misconfig.cookie-not-httponly", MISC, Severity.MEDIUM, 0.75, "cookie readable by scripts",
                    cwe=1004)
DEV_SERVER = Rule("misconfig.debug-server", MISC, Severity.HIGH, 0.85, "development server with the debugger",
                  cwe=489)
BIND_ALL = Rule("misconfig.bind-all-interfaces", MISC, Severity.MEDIUM, 0.6, "development server on all interfaces",
                cwe=605)
HEADER_SETTING = Rule("misconfig.setting-from-client-header", MISC, Severity.MEDIUM, 0.7,
                      "app setting decided by a header the client sets", cwe=16)
WORLD_WRITABLE = Rule("misconfig.world-writable", MISC, Severity.MEDIUM, 0.8, "world-writable file mode", cwe=732)

_RULE_BY_CWE = {489: DEBUG, 16: HOSTS, 614: NOT_SECURE, 1004: NOT_HTTPONLY}
_BAD = {name: (bad, cwe, why) for name, bad, cwe, why in MISCONF["bad_settings"] if cwe in _RULE_BY_CWE}
_SENSITIVE_COOKIE = re.compile(MISCONF["sensitive_cookie"])


def _settings_findings(ctx: AnalysisContext) -> Iterator[Finding]:
    for setting in settings(ctx):
        entry = _BAD.get(setting.name)
        if entry is None:
            continue
        bad, cwe, why = entry
        text = ctx.index.text(setting.value)
        hit = contains_wildcard(ctx, setting.value) if bad == "*" else text == bad
        if hit:
            rule = _RULE_BY_CWE[cwe]
            yield rule.finding(ctx, setting.site, f"{setting.name} = {text[:40]}: {why}")


def _dev_server(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    flask_module = any(v.startswith("flask") for v in index.imports.names.values())
    for site in index.calls:
        qualified = site.qualified
        is_flask_run = qualified == "flask.Flask.run" or (
            site.method == "run" and site.receiver in {"app", "application"} and (
                flask_module or site.receiver in index.imports.names))
        is_run_simple = qualified in {"werkzeug.serving.run_simple", "werkzeug.run_simple"}
        if not (is_flask_run or is_run_simple):
            continue
        debug = site.keyword("debug") if is_flask_run else site.keyword("use_debugger")
        if debug is not None and index.text(debug) == "True":
            yield DEV_SERVER.finding(ctx, site.node, f"{site.name}(debug=True) exposes the interactive debugger "
                                                     "(remote code execution) and tracebacks")
        host = site.arg("host" if is_flask_run else "hostname", 0)
        if string_value(host) in {"0.0.0.0", "::"}:
            yield BIND_ALL.finding(ctx, site.node, f"{site.name}() binds the development server to every network "
                                                   "interface; use a production server")


def _deletes(index: DocIndex, site: CallSite) -> bool:
    """set_cookie(..., expires=0) / max_age=0 (or an expiry in 1970): the browser drops the cookie."""
    for name, position in (("max_age", 2), ("expires", 3)):
        value = site.arg(name, position)
        if value is None:
            continue
        if literal_int(index, value) == 0 or "1970" in index.text(value) or index.text(value) in {"0.0", "'0'", '"0"'}:
            return True
    return False


def _cookies(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    for site in index.calls:
        if site.method != "set_cookie":
            continue
        name = string_value(site.arg("key", 0))
        if not name or not _SENSITIVE_COOKIE.search(name) or _deletes(index, site):
            continue
        for flag, rule in (("secure", NOT_SECURE), ("httponly", NOT_HTTPONLY)):
            value = site.keyword(flag)
            if value is None or index.text(value) in {"False", "None", "0"}:
                yield rule.finding(ctx, site.node, f"cookie {name!r} is set without {flag}=True")
                break




def _chmod(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    for site in index.calls_to(*MISCONF["chmod_calls"], "*.chmod"):
        mode_node = site.arg("mode", 1 if site.qualified in {"os.chmod", "os.fchmod"} else 0)
        if mode_node is None:
            continue
        mode = literal_int(index, mode_node)
        if (mode is not None and mode & MISCONF["world_writable_mask"]) or "S_IWOTH" in index.text(mode_node):
            yield WORLD_WRITABLE.finding(ctx, site.node, f"mode {index.text(mode_node)} lets every local user "
                                                         "modify the file")


_SETTING_HINT = tuple(name.encode() for name in _BAD)


CONFIG_TARGET = re.compile(r"(?:^|\.)config(?:\[|\.)")


def _header_settings(ctx: AnalysisContext) -> Iterator[Finding]:
    """`current_app.config["SESSION_COOKIE_SECURE"] = <from X-Forwarded-Proto>`: the client picks the setting."""
    for assign in ctx.index.assignments:
        left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        function = enclosing_function(assign)
        if left is None or right is None or function is None or not CONFIG_TARGET.search(ctx.index.text(left)):
            continue
        header = headers.spoofed(ctx, right, headers.header_names(ctx, function))
        if header:
            rule = dataclasses.replace(HEADER_SETTING, cwe=614) if "COOKIE" in ctx.index.text(left).upper() \
                else HEADER_SETTING
            yield rule.finding(ctx, assign, f"{ctx.index.text(left)} is set from the {header} header, which any "
                                            "client sends with any value; configure it once (or trust the header "
                                            "only behind a proxy that sets it, with ProxyFix)")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Settings, development servers, cookie flags, file modes and settings decided by client headers."""
    data = ctx.doc.data
    if contains_any(data, _SETTING_HINT):
        yield from _settings_findings(ctx)
    if not is_dev_path(ctx.path) and (b".run(" in data or b"run_simple" in data):
        yield from _dev_server(ctx)
    if b"set_cookie" in data:
        yield from _cookies(ctx)
    if b"chmod" in data:
        yield from _chmod(ctx)
    if b"config" in data and headers.may_read_headers(ctx):
        yield from _header_settings(ctx)


CHECK = Check("misconfig", (DEBUG, HOSTS, NOT_SECURE, NOT_HTTPONLY, DEV_SERVER, BIND_ALL, HEADER_SETTING,
                            WORLD_WRITABLE), run)
