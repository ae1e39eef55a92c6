"""Session fixation and missing session expiry (CWE-384, CWE-613).

A login that writes the user's identity into the existing session keeps the session id the visitor
arrived with, so an attacker who planted that id is logged in too; a session id taken from the
request has the same effect. Sessions and tokens that never expire stay usable after logout or theft.

Fix: call `session.clear()` (Flask) or `request.session.cycle_key()` / `django.contrib.auth.login()`
before storing the identity; never accept a session id from the client; give sessions and JWTs a
bounded lifetime (`exp` claim, PERMANENT_SESSION_LIFETIME / SESSION_COOKIE_AGE of days, not years).
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Sink
from ai_core.findings import Severity, VulnClass

SESSION = VulnClass.SESSION_FIXATION

SPEC = ClassSpec(
    vuln_class=SESSION,
    sinks=(
        Sink(
            id="session.id-from-request",
            vuln_class=SESSION,
            patterns=("*.set_cookie",),
            args=(1, "value"),
            when=(ArgTest("key", position=0, contains=("session", "sid", "sess")),),
            confidence=0.85,
            reason="Setting the session cookie to a value the client supplied lets an attacker fix the id.",
            example='resp.set_cookie("session_id", request.args["sid"])',
            title="session id taken from the request",
        ),
    ),
    tables={
        "identity_keys": ("user_id", "userid", "uid", "user", "username", "account_id", "logged_in",
                          "is_authenticated", "auth_user", "_user_id", "member_id", "current_user", "user_email",
                          "authenticated", "is_admin", "role"),
        "rotation_calls": ("clear", "regenerate", "cycle_key", "flush", "invalidate", "new_session",
                           "rotate", "regenerate_id"),
        "rotating_logins": ("django.contrib.auth.login", "django.contrib.auth.logout"),
        "max_lifetime_s": 31 * 24 * 3600,
        "lifetime_settings": ("PERMANENT_SESSION_LIFETIME", "SESSION_COOKIE_AGE", "REMEMBER_COOKIE_DURATION",
                              "JWT_ACCESS_TOKEN_EXPIRES", "ACCESS_TOKEN_EXPIRE_MINUTES",
                              "SESSION_PERMANENT_LIFETIME"),
        "no_expiry_settings": ("JWT_ACCESS_TOKEN_EXPIRES", "JWT_REFRESH_TOKEN_EXPIRES"),
        "jwt_encode": ("jwt.encode", "jose.jwt.encode", "jwt.api_jwt.encode"),
        "expiry_claims": ("exp", "expires", "expires_at"),
    },
)

SEVERITY = Severity.MEDIUM
