"""Security misconfiguration (CWE-16, 489, 215, 614, 1004, 605, 732): settings that switch protections off.

Covers Django/Flask DEBUG in production settings, ALLOWED_HOSTS = ["*"], session/CSRF cookies
without Secure or HttpOnly, sensitive cookies set without those flags (CSRF protection switched off
is the csrf class), the development server bound to 0.0.0.0 or run with the debugger, and world-writable file modes.
Development and test settings (modules or classes named dev/local/test) are left alone.

Fix: read DEBUG from the environment (off by default), list the real host names, set
`SESSION_COOKIE_SECURE = True` / `SESSION_COOKIE_HTTPONLY = True`, pass `secure=True, httponly=True`
to set_cookie, and serve through a real WSGI/ASGI server.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec
from ai_core.findings import VulnClass

BAD_SETTINGS: tuple[tuple[str, str, int, str], ...] = (
    ("DEBUG", "True", 489, "tracebacks, settings and SQL are shown to every visitor"),
    ("ALLOWED_HOSTS", "*", 16, "any Host header is accepted (cache poisoning, reset-link hijacking)"),
    ("SESSION_COOKIE_SECURE", "False", 614, "the session cookie is also sent over plain HTTP"),
    ("CSRF_COOKIE_SECURE", "False", 614, "the CSRF cookie is also sent over plain HTTP"),
    ("SESSION_COOKIE_HTTPONLY", "False", 1004, "scripts can read the session cookie"),
    ("REMEMBER_COOKIE_SECURE", "False", 614, "the remember-me cookie is also sent over plain HTTP"),
    ("REMEMBER_COOKIE_HTTPONLY", "False", 1004, "scripts can read the remember-me cookie"),
    ("SECURE_SSL_REDIRECT", "False", 319, "plain HTTP requests are served instead of redirected"),
)
"""(setting, bad value, CWE, why): module-level assignments, app.config[...] and config.update(...)."""

SPEC = ClassSpec(
    vuln_class=VulnClass.SECURITY_MISCONFIGURATION,
    tables={
        "bad_settings": BAD_SETTINGS,
        "settings_markers": ("INSTALLED_APPS", "ROOT_URLCONF", "MIDDLEWARE", "SECRET_KEY", "DATABASES"),
        "dev_names": r"(?i)(^|[._\-])(dev|develop|development|local|test|tests|testing|ci|debug)([._\-]|$)"
                     r"|(Dev|Development|Local|Test|Testing)(Config|Settings)",
        "dev_servers": ("flask.Flask.run", "werkzeug.serving.run_simple", "werkzeug.run_simple"),
        "bind_all": ("0.0.0.0", "::", ""),
        "cookie_setters": ("*.set_cookie",),
        "sensitive_cookie": r"(?i)(session|sess|sid|token|auth|remember|jwt|login)",
        "world_writable_mask": 0o002,
        "chmod_calls": ("os.chmod", "os.fchmod", "pathlib.Path.chmod"),
        "jinja2_autoescape": ("jinja2.Environment", "jinja2.Template"),
    },
)
