"""Cross-site request forgery (CWE-352): state-changing requests accepted without a CSRF check.

A browser sends the site's cookies with a form another site submits; without a per-session token check
that form can transfer money, change an e-mail address or delete data in the victim's name. Reported:
`@csrf_exempt` (Django) or `@csrf.exempt` (Flask-WTF) on a view that changes state (reads a POST body,
checks for POST/PUT/DELETE, saves or deletes), `WTF_CSRF_ENABLED = False` / `WTF_CSRF_CHECK_DEFAULT = False`
in production settings, a Django `MIDDLEWARE` list with sessions but without `CsrfViewMiddleware`, and (review
tier) a view that answers GET (a Flask route allowing it, a Django view reading `request.GET`) and saves or
deletes: CSRF checks cover POST/PUT/DELETE only, so a link or an
`<img>` on another site triggers it.
Webhooks that verify a signature (`hmac.compare_digest`, `construct_event`) are not reported: they do not
rely on cookies. Development and test settings are left alone.

Fix: remove the exemption (send the token from the client: `{% csrf_token %}`, the `X-CSRFToken` header),
set the setting to True, keep `django.middleware.csrf.CsrfViewMiddleware` in MIDDLEWARE.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec
from ai_core.findings import VulnClass

CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"

SPEC = ClassSpec(
    vuln_class=VulnClass.CSRF,
    tables={
        "flask_csrf_objects": ("flask_wtf.csrf.CSRFProtect", "flask_wtf.CSRFProtect"),
        "state_changing": r"request\.(POST|body|data|json|files|FILES|form|get_json)\b|def (post|put|patch|delete)\(|"
                          r"\.method\s*(==|in)\s*[\[\(\{]?\s*['\"](POST|PUT|PATCH|DELETE)|\.(save|delete|create|update|"
                          r"bulk_create|commit|execute)\(|require_POST|require_http_methods|methods\s*=\s*\[[^\]]*"
                          r"['\"](POST|PUT|PATCH|DELETE)",
        "signature_checks": r"compare_digest|construct_event|verify_signature|verify_webhook|\.verify\(|"
                            r"validate_signature|X-Hub-Signature|Stripe-Signature",
        "disabled_settings": (("WTF_CSRF_ENABLED", "False"), ("WTF_CSRF_CHECK_DEFAULT", "False"),
                              ("CSRF_ENABLED", "False")),
        "get_writes": r"\.(?:save|delete\w*|remove_\w+|commit)\(|\bobjects\.(?:create|update|get_or_create|"
                      r"update_or_create|bulk_create)\(|\.(?:add|remove)\(\s*request\.user",
        "method_checks": r"request\.method|request\.POST|require_POST|require_http_methods|require_safe|"
                         r"@\w+\.(?:post|put|patch|delete)\(",
        "csrf_middleware": CSRF_MIDDLEWARE,
        "session_middleware": ("django.contrib.sessions.middleware.SessionMiddleware",
                               "django.contrib.auth.middleware.AuthenticationMiddleware"),
    },
)
