"""Server-side request forgery (CWE-918): the client chooses where the server sends a request.

Fix: keep the scheme and host fixed (`f"https://api.example.com/users/{uid}"`), or check the parsed
host against an allowlist before fetching.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec, Sanitizer, Sink
from ai_core.findings import Severity, VulnClass

SSRF = VulnClass.SSRF

_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")


def _methods(*types: str) -> tuple[str, ...]:
    return tuple(f"{t}.{verb}" for t in types for verb in _VERBS)


SPEC = ClassSpec(
    vuln_class=SSRF,
    sinks=(
        Sink(
            id="ssrf.http-client",
            vuln_class=SSRF,
            patterns=(*_methods("requests", "httpx", "requests.Session", "httpx.Client", "httpx.AsyncClient",
                                "aiohttp.ClientSession"),
                      "httpx.stream", "requests.api.get", "requests.api.post"),
            args=(0, "url"),
            confidence=0.85,
            reason="The HTTP client fetches whatever URL it is given, including internal hosts "
                   "(169.254.169.254, localhost admin ports).",
            example="requests.get(request.args['url'])",
            title="HTTP request to a URL chosen by untrusted data",
        ),
        Sink(
            id="ssrf.http-request-method",
            vuln_class=SSRF,
            patterns=("requests.request", "httpx.request", "requests.Session.request", "httpx.Client.request",
                      "httpx.AsyncClient.request", "aiohttp.ClientSession.request", "urllib3.PoolManager.request",
                      "urllib3.request"),
            args=(1, "url"),
            confidence=0.85,
            reason="request(method, url) fetches the URL.",
            example="http.request('GET', target)",
            title="HTTP request to a URL chosen by untrusted data",
        ),
        Sink(
            id="ssrf.urllib",
            vuln_class=SSRF,
            patterns=("urllib.request.urlopen", "urllib.request.Request", "urllib.request.urlretrieve",
                      "urllib.urlopen", "urllib2.urlopen", "urllib2.Request"),
            args=(0, "url"),
            confidence=0.85,
            reason="urlopen follows any scheme it supports, file:// included.",
            example="urllib.request.urlopen(feed_url)",
            title="urlopen of a URL chosen by untrusted data",
        ),
        Sink(
            id="ssrf.raw-connection",
            vuln_class=SSRF,
            patterns=("http.client.HTTPConnection", "http.client.HTTPSConnection", "socket.create_connection",
                      "ftplib.FTP", "smtplib.SMTP"),
            args=(0, "host", "address"),
            severity=Severity.MEDIUM,
            confidence=0.7,
            reason="Connecting to a client-chosen host reaches internal services.",
            example="conn = http.client.HTTPConnection(request.args['host'])",
            title="connection to a host chosen by untrusted data",
        ),
    ),
    sanitizers=(
        Sanitizer(
            id="ssrf.sanitize.fixed-host",
            patterns=("<fixed-host-url-prefix>",),
            kind="builtin",
            classes=frozenset({SSRF}),
            reason="When the URL starts with a literal 'scheme://host/', the client only picks the path.",
            example='requests.get(f"https://api.github.com/users/{username}")',
        ),
        Sanitizer(
            id="ssrf.sanitize.host-allowlist",
            patterns=("<host-in-constant>",),
            kind="builtin",
            classes=frozenset({SSRF}),
            reason="Checking urlparse(url).hostname against a constant set before the request.",
            example="if urlparse(url).hostname not in ALLOWED_HOSTS: abort(400)",
        ),
    ),
)
