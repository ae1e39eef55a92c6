"""Hardcoded secrets (CWE-798, 259, 321): passwords, API keys and signing keys written in the source.

Anyone with the code (a leaked repository, a wheel, a container image) holds the secret, and it
cannot be rotated without a release. Values read from the environment or a secrets manager are
not secrets in the code (`os.environ.get("API_KEY")`).

Fix: read the value from the environment or a secret store at start-up.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec
from ai_core.findings import VulnClass

TOKEN_FORMATS: tuple[tuple[str, str, str, str], ...] = (
    ("aws-access-key-id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "AWS access key id",
     "AKIAIOSFODNN7EXAMPLE"),  # coderev: ignore[hardcoded-secret]  (documentation example)
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", "GitHub token", "ghp_" + "a" * 36),
    ("github-fine-grained", r"\bgithub_pat_[A-Za-z0-9_]{60,}\b", "GitHub fine-grained token", "github_pat_..."),
    ("slack-token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", "Slack token", "xoxb-1234-abcd"),
    ("stripe-secret", r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b", "Stripe secret key", "sk_live_..."),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}\b", "Google API key", "AIza..."),
    ("openai-key", r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{32,}\b", "OpenAI API key", "sk-..."),
    ("private-key", r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY", "private key",
     "-----BEGIN RSA PRIVATE KEY-----"),  # coderev: ignore[hardcoded-secret]
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b", "SendGrid API key", "SG.x.y"),
    ("twilio-key", r"\bSK[0-9a-fA-F]{32}\b", "Twilio API key", "SK0123..."),
    ("dsn-password", r"\b(?:dbname|host|user)=[^'\"]*?\bpassword=(?!\$|\{|%\()[^\s'\"]{3,}",
     "password in a database connection string",
     "dbname=app user=app password=s3cret host=db"),  # coderev: ignore[hardcoded-secret]
    ("url-credentials", r"://[^/\s:@'\"]*:(?!\$|\{|%\(|\*)[^/\s@'\"]{3,}@[^\s'\"]+",
     "credentials in a connection URL", "postgres://app:s3cret@db/app"),  # coderev: ignore[hardcoded-secret]
)
"""Known token formats: (id, regex, what it is, example)."""

SPEC = ClassSpec(
    vuln_class=VulnClass.HARDCODED_SECRET,
    tables={
        "secret_names": r"(?i)(pass(word|wd|phrase)?|pwd|secret|token|api_?key|apikey|access_?key|private_?key|"
                        r"auth_?key|client_?secret|credentials?|signing_?key|encryption_?key|master_?key|"
                        r"webhook_?key|bearer)",
        "password_names": r"(?i)(pass(word|wd|phrase)?|pwd)",
        "not_secret_names": r"(?i)(_(url|uri|path|file|dir|name|field|header|type|length|len|prefix|env|var|"
                            r"endpoint|format|pattern|regex|re|template|algorithm|algo|param|label|column|"
                            r"message|msg|placeholder|setting|policy|scope|class|backend|timeout|expires|"
                            r"expiry|ttl|min|max|count|id|key_name|location|hint|help|query|route|validators?|"
                            r"hasher|hashers|mode|lifetime|age|cookie_name|source|file_path|reset|enabled|names|"
                            r"patterns|formats|fields|headers|keys|regexes|words|hints)$"
                            r"|^(is|has|use|num|n|min|max)_|(?<![a-z])(token_type|grant_type)$)",
        "placeholders": r"(?i)^(|x+|\*+|\.+|-+|changeme|change[-_ ]?me|todo|tbd|fixme|none|null|dummy|example|"
                        r"sample|placeholder|redacted|hidden|your[-_ ].*|<.*>|\$\{.*\}|\{\{.*\}\}|%\(.*\)s|\$[A-Z_]+)$",
        "key_arguments": {"jwt.encode": ("key", 1), "jose.jwt.encode": ("key", 1), "hmac.new": ("key", 0),
                          "itsdangerous.URLSafeTimedSerializer": ("secret_key", 0),
                          "itsdangerous.URLSafeSerializer": ("secret_key", 0),
                          "cryptography.fernet.Fernet": ("key", 0), "Crypto.Cipher.AES.new": ("key", 0),
                          "jwt.decode": ("key", 1)},
        "min_entropy": 3.0,
        "min_length": 8,
        "min_password_length": 4,
        "token_formats": TOKEN_FORMATS,
    },
)
