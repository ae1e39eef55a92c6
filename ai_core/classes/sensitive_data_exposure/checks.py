"""Sensitive data exposure (CWE-532, 319, 295): secrets in logs, credentials over plain HTTP, TLS off.

- a logging call whose message or arguments include a password, token, API key, card number...
  (not when wrapped in mask()/redact()/hash/len), CWE-532;
- credentials sent to an `http://` URL (auth=, an Authorization header, a password or token in the
  body or query), FTP logins and SMTP logins without STARTTLS, CWE-319;
- TLS certificate checks turned off: `verify=False`, `ssl._create_unverified_context()`,
  `CERT_NONE`, `check_hostname = False`, paramiko's AutoAddPolicy, CWE-295.
Tracebacks sent to clients are found by the taint engine (rule exposure.traceback-response, CWE-209).

Fix: log identifiers, not secrets; use https:// and FTP_TLS/starttls(); keep certificate checks on
(point `verify` at a CA bundle instead of disabling it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.docindex import CallSite, DocIndex
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.analysis.wordlist import contains_any
from ai_core.classes.sensitive_data_exposure import error_details
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing_function, string_value

SDE = VulnClass.SENSITIVE_DATA_EXPOSURE
TABLE = table(SDE)

LOGGED = Rule("exposure.secret-in-log", SDE, Severity.MEDIUM, 0.7, "secret written to a log", cwe=532)
CLEARTEXT = Rule("exposure.cleartext-credentials", SDE, Severity.HIGH, 0.75, "credentials sent unencrypted", cwe=319)
OLD_TLS = Rule("exposure.weak-tls-protocol", SDE, Severity.MEDIUM, 0.8, "obsolete SSL/TLS protocol version",
               cwe=327)
TLS_OFF = Rule("exposure.tls-verification-disabled", SDE, Severity.HIGH, 0.85, "TLS certificate check disabled",
               cwe=295)

_SENSITIVE = re.compile(TABLE["sensitive_names"])
_NOT_SENSITIVE = re.compile(TABLE["not_sensitive_names"])
_MASKING = re.compile(TABLE["masking_calls"])
_CREDENTIAL_KEY = re.compile(TABLE["credential_keys"])
_LOG_METHODS = frozenset(TABLE["logging_methods"])
_LOGGERS = frozenset(TABLE["logger_names"])
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "urlopen",
                         "Request", "Client", "AsyncClient", "Session", "TCPConnector", "PoolManager"})


def _is_logging(index: DocIndex, site: CallSite) -> bool:
    if site.method not in _LOG_METHODS:
        return False
    if site.qualified.startswith("logging."):
        return True
    receiver = site.receiver
    last = receiver.rsplit(".", 1)[-1]
    return last in _LOGGERS or last.endswith(("logger", "_log", "LOGGER")) or \
        index.kinds.get(receiver) == "logging.Logger" or index.qualify(receiver) == "logging.Logger"


def _sensitive_names(index: DocIndex, node: Node) -> Iterator[tuple[str, Node]]:
    """Sensitive names read by an expression, skipping masked sub-expressions and literal text."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = current.type
        if kind == "call":
            fn = current.child_by_field_name("function")
            name = index.text(fn).rsplit(".", 1)[-1] if fn is not None else ""
            if _MASKING.search(name):
                continue
            if fn is not None and fn.type == "attribute":
                obj = fn.child_by_field_name("object")
                if obj is not None:
                    stack.append(obj)
                if name == "get":
                    args = current.child_by_field_name("arguments")
                    first = next((c for c in args.named_children if c.type == "string"), None) if args else None
                    key = string_value(first)
                    if key:
                        yield key, current
            args = current.child_by_field_name("arguments")
            if args is not None:
                stack.extend(args.named_children)
        elif kind == "identifier":
            yield index.text(current), current
        elif kind == "attribute":
            attr = current.child_by_field_name("attribute")
            if attr is not None:
                yield index.text(attr), current
        elif kind == "subscript":
            subscript = current.child_by_field_name("subscript")
            if subscript is not None and subscript.type == "slice":
                continue  # token[:4] shows a prefix only
            key = string_value(subscript)
            if key:
                yield key, current
            value = current.child_by_field_name("value")
            if value is not None:
                stack.append(value)
        elif kind == "string":
            stack.extend(c for c in current.named_children if c.type == "interpolation")
        elif kind == "keyword_argument":
            value = current.child_by_field_name("value")
            if value is not None:
                stack.append(value)
        else:
            stack.extend(current.named_children)


def _is_sensitive(name: str) -> bool:
    return bool(_SENSITIVE.search(name)) and not _NOT_SENSITIVE.search(name)


def _logging(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    for site in index.calls:
        if not _is_logging(index, site):
            continue
        for arg in site.arguments():
            hit = next((name for name, _ in _sensitive_names(index, arg) if _is_sensitive(name)), None)
            if hit is not None:
                yield LOGGED.finding(ctx, site.node, f"{hit!r} is written to the log; logs are kept, shipped and "
                                                     "read by many people")
                break


def _url_of(index: DocIndex, site: CallSite) -> str | None:
    position = 1 if site.method == "request" else 0
    return string_value(site.arg("url", position))


def _carries_credentials(index: DocIndex, site: CallSite, url: str) -> bool:
    if site.keyword("auth") is not None:
        return True
    if re.search(r"(?i)[?&](password|passwd|pwd|token|api_?key|apikey|access_token|secret)=", url):
        return True
    if re.search(r"://[^/@]+:[^/@]+@", url):
        return True
    for name in ("headers", "data", "json", "params"):
        value = site.keyword(name)
        if value is None:
            continue
        if value.type == "dictionary":
            for pair in value.named_children:
                key = string_value(pair.child_by_field_name("key")) if pair.type == "pair" else None
                if key and _CREDENTIAL_KEY.search(key.replace("-", "_")):
                    return True
        elif value.type == "identifier" and _CREDENTIAL_KEY.search(index.text(value)):
            return True
    return False


def is_loopback(url: str, local: tuple[str, ...]) -> bool:
    """True for a URL to this machine (localhost, 127.x, ::1, *.local): no network path to listen on."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    authority = rest.split("/", 1)[0].split("@")[-1]
    host = authority[:authority.index("]") + 1] if authority.startswith("[") and "]" in authority \
        else authority.split(":")[0]
    return bool(host) and (host in local or host.startswith("127.") or host.endswith((".local", ".localhost"))
                           or host == "localhost")


def _cleartext(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    send = set(TABLE["http_send"])
    local = tuple(TABLE["local_hosts"])
    for site in index.calls:
        if site.qualified in send or (site.method in _HTTP_VERBS and site.qualified.startswith(("requests", "httpx"))):
            url = _url_of(index, site)
            if not url or not url.lower().startswith("http://"):
                continue
            if is_loopback(url, local):
                continue
            if _carries_credentials(index, site, url):
                yield CLEARTEXT.finding(ctx, site.node, f"credentials go to {url[:60]} over plain HTTP; use https://")
    constructors = [(name, site) for site in index.calls if site.qualified.startswith(("smtplib.", "ftplib.",
                                                                                          "telnetlib.", "poplib.",
                                                                                          "imaplib."))
                    for name in [_assigned_name(index, site.node)] if name]
    cleartext = set(TABLE["cleartext_clients"])
    for site in index.calls:
        if site.method != "login":
            continue
        function = enclosing_function(site.node)
        client = None
        for name, candidate in constructors:
            if name == site.receiver and candidate.node.start_byte < site.node.start_byte and \
                    enclosing_function(candidate.node) == function:
                client = candidate
        if client is None or client.qualified not in cleartext:
            continue
        if client.qualified == "smtplib.SMTP":
            starts_tls = any(s.receiver == site.receiver and s.method == "starttls" for s in index.calls
                             if function is None or function.start_byte <= s.node.start_byte < function.end_byte)
            if starts_tls:
                continue
        yield CLEARTEXT.finding(ctx, site.node, f"{client.qualified} sends this login in clear text; use "
                                                "SMTP_SSL/starttls() or FTP_TLS")


def _assigned_name(index: DocIndex, node: Node) -> str:
    parent = node.parent
    if parent is not None and parent.type == "assignment":
        left = parent.child_by_field_name("left")
        if left is not None and left.type in {"identifier", "attribute"}:
            return index.text(left)
    if parent is not None and parent.type == "as_pattern":
        alias = parent.child_by_field_name("alias")
        if alias is not None:
            return index.text(alias)
    return ""


def _tls(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    data = ctx.doc.data
    verify_calls = set(TABLE["tls_verify_calls"])
    if b"verify" in data or b"ssl" in data:
        for site in index.calls:
            verify = site.keyword("verify") or (site.keyword("ssl") if site.method in _HTTP_VERBS else None)
            if verify is not None and index.text(verify) == "False" and (
                    site.qualified in verify_calls or site.method in _HTTP_VERBS) and not is_loopback(
                    _url_of(index, site) or "", tuple(TABLE["local_hosts"])):
                yield TLS_OFF.finding(ctx, site.node, f"{site.name}(verify=False) accepts any certificate: "
                                                      "anyone on the path can read and change the traffic")
            elif site.qualified in TABLE["tls_off_calls"]:
                yield TLS_OFF.finding(ctx, site.node, f"{site.name}() builds a context that checks no certificate")
            else:
                cert_reqs = site.keyword("cert_reqs") or site.keyword("verify_mode")
                if cert_reqs is not None and index.text(cert_reqs).endswith("CERT_NONE"):
                    yield TLS_OFF.finding(ctx, site.node, "CERT_NONE turns certificate checks off")
        for assign in index.assignments:
            left = assign.child_by_field_name("left")
            right = assign.child_by_field_name("right")
            if left is None or right is None or left.type != "attribute":
                continue
            attr = index.text(left).rsplit(".", 1)[-1]
            value = index.text(right)
            if (attr == "check_hostname" and value == "False") or (attr == "verify_mode" and value.endswith(
                    "CERT_NONE")) or (attr == "verify" and value == "False"):
                yield TLS_OFF.finding(ctx, assign, f"{index.text(left)} = {value} turns certificate checks off")
    if b"AutoAddPolicy" in data:
        for site in index.calls:
            if site.method == "set_missing_host_key_policy" and "AutoAddPolicy" in index.text(site.node):
                yield TLS_OFF.finding(ctx, site.node, "AutoAddPolicy trusts any SSH host key (man in the middle)")


_SENSITIVE_HINT = (b"pass", b"pwd", b"secret", b"token", b"key", b"card", b"cvv", b"ssn", b"authorization", b"session",
                   b"otp")
_CLEARTEXT_HINT = (b"http://", b".login(")


_OLD_PROTOCOLS = re.compile(TABLE["old_tls_protocols"])


def _old_protocols(ctx: AnalysisContext) -> Iterator[Finding]:
    """ssl.PROTOCOL_TLSv1 / SSLv3 contexts, minimum_version = TLSVersion.TLSv1, pyOpenSSL TLSv1_METHOD."""
    index = ctx.index
    for site in index.calls:
        for arg in site.arguments():
            value = arg.child_by_field_name("value") if arg.type == "keyword_argument" else arg
            if value is not None and value.type == "attribute" and _OLD_PROTOCOLS.search(index.text(value)):
                yield OLD_TLS.finding(ctx, value, f"{index.text(value)} is a broken protocol version (POODLE, "
                                                  "BEAST); use ssl.create_default_context() (TLS 1.2+)")
    for assign in index.assignments:
        left = assign.child_by_field_name("left")
        right = assign.child_by_field_name("right")
        if left is not None and right is not None and index.text(left).endswith(("minimum_version", "ssl_version")) \
                and _OLD_PROTOCOLS.search(index.text(right)):
            yield OLD_TLS.finding(ctx, assign, f"{index.text(right)} allows a broken protocol version; require "
                                               "TLSVersion.TLSv1_2 or later")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Secrets in logs, credentials in clear text, certificate checks turned off, obsolete TLS versions."""
    data = ctx.doc.data
    if b"log" in ctx.lowered and contains_any(ctx.lowered, _SENSITIVE_HINT):
        yield from _logging(ctx)
    if contains_any(data, _CLEARTEXT_HINT):
        yield from _cleartext(ctx)
    yield from _tls(ctx)
    if b"TLSv1" in data or b"SSLv" in data:
        yield from _old_protocols(ctx)
    yield from error_details.run(ctx)


CHECK = Check("exposure", (LOGGED, CLEARTEXT, TLS_OFF, OLD_TLS, *error_details.RULES), run)
