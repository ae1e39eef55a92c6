"""CORS misconfiguration (CWE-942): any web site may read authenticated responses.

A wildcard or reflected Origin combined with credentials lets a malicious page make requests with the
visitor's cookies and read the answers.

Fix: list the trusted origins explicitly (`origins=["https://app.example.com"]`), or drop credentials
when any origin is allowed; never echo the Origin header without checking it against that list.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Sink
from ai_core.findings import Severity, VulnClass

CORS = VulnClass.CORS_MISCONFIGURATION

SPEC = ClassSpec(
    vuln_class=CORS,
    sinks=(
        Sink(
            id="cors.reflected-origin",
            vuln_class=CORS,
            patterns=("<header-assign>:access-control-allow-origin", "*.headers.set", "*.headers.add",
                      "*.headers.setdefault", "*.set_header", "*.add_header"),
            args=("value", 1),
            when=(ArgTest("_header", position=0, contains=("Access-Control-Allow-Origin",
                                                           "access-control-allow-origin")),),
            severity=Severity.HIGH,
            confidence=0.8,
            reason="Echoing the request's Origin header allows every site, like a wildcard that also works "
                   "with credentials.",
            example='resp.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin")',
            title="Origin header reflected into Access-Control-Allow-Origin",
        ),
    ),
    tables={
        "flask_cors": ("flask_cors.CORS", "flask_cors.cross_origin"),
        "starlette_middleware": ("starlette.middleware.cors.CORSMiddleware", "fastapi.middleware.cors.CORSMiddleware"),
        "django_allow_all": ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"),
        "django_regexes": ("CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST"),
        "django_credentials": ("CORS_ALLOW_CREDENTIALS",),
        "wildcard_regexes": (".*", "^.*$", ".+", "^.+$", r"^https?://.*$", "*"),
    },
)
