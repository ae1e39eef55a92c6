"""Rewriters per vulnerability class; each locates its edit with tree-sitter and keeps the formatting.

Rewriters are keyed on the finding's class and on the code shape at its span, never on rule ids; each returns
None when the shape is not its own, and the engine tries the next. Shapes that several classes share (TLS
verification, cookie flags, secrets in logs) are listed under each class the engine may report them as.
"""

from __future__ import annotations

from ai_core.findings import VulnClass
from ai_core.fixes.context import Rewriter
from ai_core.fixes.rewriters import auth, command, deserialization, guards, settings, sql, xss

_CONFIG = (settings.debug_from_environment, settings.bind_localhost, settings.allowed_hosts, settings.secure_flags,
           settings.cookie_flags, settings.tls_verify, xss.autoescape_on, guards.private_file_mode)

REWRITERS: dict[VulnClass, tuple[Rewriter, ...]] = {
    VulnClass.SQL_INJECTION: (sql.bound_parameters,),
    VulnClass.COMMAND_INJECTION: (command.argument_list, command.shlex_quote, command.literal_eval),
    VulnClass.XSS: (xss.template_variables, xss.escape_values, xss.autoescape_on),
    VulnClass.SSRF: (guards.host_allowlist,),
    VulnClass.PATH_TRAVERSAL: (guards.tar_filter, guards.realpath_prefix),
    VulnClass.INSECURE_DESERIALIZATION: (deserialization.yaml_safe_load, deserialization.json_instead_of_pickle,
                                         deserialization.torch_weights_only, deserialization.numpy_no_pickle),
    VulnClass.HARDCODED_SECRET: (settings.secret_from_environment,),
    VulnClass.SECURITY_MISCONFIGURATION: _CONFIG,
    VulnClass.CORS_MISCONFIGURATION: (settings.cors_origins, settings.reflected_origin),
    VulnClass.SENSITIVE_DATA_EXPOSURE: (settings.tls_verify, settings.host_key_check, auth.redact_logged_secrets,
                                        auth.generic_error, settings.secure_transport, settings.https_url,
                                        settings.cookie_flags),
    VulnClass.BROKEN_AUTH: (auth.password_hashing, auth.strong_hashers, auth.jwt_verification,
                            auth.hashed_password_check, auth.constant_time_compare, auth.password_policy),
    VulnClass.SESSION_FIXATION: (auth.session_id_from_server, auth.rotate_session, auth.token_expiry,
                                 auth.session_lifetime, settings.cookie_flags),
}


def rewriters_for(vuln_class: VulnClass) -> tuple[Rewriter, ...]:
    """The rewriters tried, in order, for a class."""
    return REWRITERS.get(vuln_class, ())
