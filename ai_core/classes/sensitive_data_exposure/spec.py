"""Sensitive data exposure (CWE-200, 209, 532, 319, 295, 327): secrets in logs, tracebacks sent to clients,
credentials over plain HTTP, TLS certificate checks switched off, and obsolete SSL/TLS versions.

Fix: log identifiers, not secrets (or mask them); return a generic error and log the traceback;
use https:// for anything carrying credentials; keep `verify=True` (point it at a CA bundle instead);
build contexts with `ssl.create_default_context()` (TLS 1.2 or later).
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec, Sink, Source
from ai_core.findings import Severity, VulnClass

SDE = VulnClass.SENSITIVE_DATA_EXPOSURE

SPEC = ClassSpec(
    vuln_class=SDE,
    sources=(
        Source(
            id="source.traceback",
            patterns=("traceback.format_exc", "traceback.format_exception", "traceback.format_tb",
                      "traceback.format_stack", "traceback.extract_tb", "traceback.print_exc"),
            kind="call",
            classes=frozenset({SDE}),
            reason="A traceback reveals file paths, library versions, code and sometimes local values.",
            example="detail = traceback.format_exc()",
            label="traceback",
        ),
    ),
    sinks=(
        Sink(
            id="exposure.traceback-response",
            vuln_class=SDE,
            patterns=("<route-return>", "flask.jsonify", "flask.make_response", "flask.Response",
                      "django.http.HttpResponse", "django.http.JsonResponse", "django.http.HttpResponseServerError",
                      "starlette.responses.JSONResponse", "fastapi.responses.JSONResponse",
                      "starlette.responses.PlainTextResponse", "fastapi.responses.PlainTextResponse",
                      "starlette.responses.HTMLResponse", "fastapi.responses.HTMLResponse", "fastapi.HTTPException",
                      "starlette.exceptions.HTTPException", "rest_framework.response.Response"),
            args=("*",),
            cwe=209,
            severity=Severity.MEDIUM,
            confidence=0.85,
            reason="Error details sent to the client help an attacker map the application.",
            example="except Exception:\n    return jsonify(error=traceback.format_exc()), 500",
            title="traceback returned to the client",
        ),
    ),
    tables={
        "sensitive_names": r"(?i)(?<![a-z])(pass(word|wd|phrase)?|pwd|secret|token|api_?key|apikey|private_?key|"
                           r"credit_?card|card_?number|cvv|ssn|authorization|auth_header|session_?id|otp|"
                           r"access_?key|refresh_?token|client_?secret)(?![a-z])",
        "not_sensitive_names": r"(?i)(_?(len|length|count|hash|hashed|digest|id|type|name|field|url|expires?|"
                               r"expiry|ttl|valid|ok|present|set|exists|masked|redacted|prefix|suffix|hint|"
                               r"policy|reset_url|mask)$|^(is|has|num|n)_)",
        "logging_methods": ("debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"),
        "logger_names": ("log", "logger", "_log", "_logger", "LOG", "LOGGER", "logging", "audit", "audit_log"),
        "masking_calls": r"(?i)(mask|redact|obfuscate|anonymi[sz]e|hash|digest|len|sha\d*|md5|fingerprint|"
                         r"truncate|partial|last4)",
        "http_send": ("requests.get", "requests.post", "requests.put", "requests.patch", "requests.delete",
                      "requests.request", "httpx.get", "httpx.post", "httpx.put", "httpx.patch", "httpx.request",
                      "requests.Session.get", "requests.Session.post", "httpx.Client.get", "httpx.Client.post",
                      "urllib.request.urlopen", "urllib.request.Request", "aiohttp.ClientSession.get",
                      "aiohttp.ClientSession.post"),
        "credential_keys": r"(?i)(pass(word|wd)?|pwd|secret|token|api_?key|apikey|authorization|credentials?)",
        "local_hosts": ("localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"),
        "tls_verify_calls": ("requests.get", "requests.post", "requests.put", "requests.patch", "requests.delete",
                             "requests.head", "requests.request", "requests.Session.get", "requests.Session.post",
                             "requests.Session.request", "httpx.get", "httpx.post", "httpx.request", "httpx.Client",
                             "httpx.AsyncClient", "httpx.stream", "aiohttp.ClientSession.get",
                             "aiohttp.ClientSession.post", "aiohttp.TCPConnector", "urllib3.PoolManager"),
        "tls_off_calls": ("ssl._create_unverified_context", "ssl._create_stdlib_context"),
        "old_tls_protocols": r"\b(PROTOCOL_(SSLv2|SSLv3|TLSv1|TLSv1_1)|TLSVersion\.(SSLv3|TLSv1|TLSv1_1)|"
                             r"(SSLv2|SSLv3|TLSv1|TLSv1_1)_METHOD)\b",
        "cleartext_clients": ("smtplib.SMTP", "ftplib.FTP", "telnetlib.Telnet", "poplib.POP3", "imaplib.IMAP4"),
    },
)
