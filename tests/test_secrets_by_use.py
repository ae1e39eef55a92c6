"""Secrets by use, not only by look: weak signing keys, literals used as keys through a name, seeded passwords,
cloud token formats from detect-secrets' plugins; values are masked in messages; test code is review tier."""

from __future__ import annotations

import textwrap

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import Finding

ANALYZER = Analyzer(Settings(model_enabled=False, enabled_classes=frozenset({"hardcoded-secret"})))  # type: ignore[arg-type]


def secrets(code: str, path: str = "app.py") -> list[Finding]:
    return ANALYZER.analyze_text(textwrap.dedent(code).lstrip("\n"), path)


def found(code: str, path: str = "app.py") -> list[tuple[int, str, str]]:
    return [(f.span.start_line + 1, f.rule, f.tier) for f in secrets(code, path)]


@pytest.mark.parametrize(("vulnerable", "safe"), [
    ('app.config["SECRET_KEY"] = "changeme"', 'app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]'),
    ('app.secret_key = "dev"', 'app.secret_key = os.urandom(32)'),
    ('JWT_SECRET = "secret"', 'JWT_SECRET = "${JWT_SECRET}"'),
    ('SECRET_KEY = "changeme"', 'SECRET_KEY = ""'),
])
def test_a_placeholder_or_short_signing_key_is_weak_and_its_safe_twin_is_silent(vulnerable: str, safe: str):
    assert found("import os\n" + vulnerable) == [(2, "secret.weak-signing-key", "flow")]
    assert found("import os\n" + safe) == []


def test_a_literal_used_as_a_jwt_key_through_a_name_is_reported_at_the_literal():
    code = """
    import jwt
    import os

    KEY = "k3y-0f-th3-app"
    OTHER = os.environ["JWT_KEY"]


    def token(payload):
        return jwt.encode(payload, KEY, algorithm="HS256")


    def other(payload):
        return jwt.encode(payload, OTHER, algorithm="HS256")
    """
    assert found(code) == [(4, "secret.literal-used-as-key", "flow")]


def test_hmac_and_fernet_keys_written_in_the_code_are_reported():
    code = """
    import hmac
    from cryptography.fernet import Fernet

    signature = hmac.new(b"0123456789abcdef", b"msg", "sha256")
    box = Fernet(b"ZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmRmZGZkZmQ=")
    """
    assert [(line, rule) for line, rule, _ in found(code)] == [(4, "secret.hardcoded-crypto-key"),
                                                              (5, "secret.hardcoded-crypto-key")]


def test_passwords_seeded_into_a_user_table_are_reported_and_generated_ones_are_not():
    code = """
    def seed(cursor, generate):
        cursor.execute("INSERT INTO users (username, password) VALUES ('admin', 'admin123')")
        cursor.executemany("INSERT INTO users (username, password) VALUES (?, ?)", [("alice", "alice-pw")])
        cursor.execute("INSERT INTO users (username, password) VALUES (?, ?)", ("carol", generate()))
        cursor.execute("INSERT INTO products (name, price) VALUES ('pen', '1.20')")
    """
    assert found(code) == [(2, "secret.seeded-credentials", "flow"), (3, "secret.seeded-credentials", "flow")]


@pytest.mark.parametrize(("code", "what"), [
    ('AWS = "AKIAIOSFODNN7ABCDEFG"', "AWS"),
    ('GH = "ghp_' + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8" + '"', "GitHub"),
    ('HOOK = "xoxb-123456789012-abcdefghij"', "Slack"),
    ('STRIPE = "sk_live_' + "a1B2c3D4e5F6g7H8i9J0k1L2" + '"', "Stripe"),
    ('PEM = """-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"""', "private key"),
])
def test_cloud_token_formats_come_from_detect_secrets_plugins(code: str, what: str):
    findings = secrets(code)
    assert [f.rule for f in findings] == ["secret.known-token-format"]
    assert what in findings[0].message


def test_detect_secrets_supplies_the_cloud_patterns():
    from ai_core.classes.hardcoded_secret.by_use import detect_secrets_patterns

    assert {"aws-access-key-id", "github-token", "slack-token", "stripe-secret", "private-key"} <= set(
        detect_secrets_patterns())


def test_messages_never_contain_the_secret():
    code = 'app.config["SECRET_KEY"] = "changeme"\nKEY = "k3y-0f-th3-app"\nimport jwt\njwt.encode({}, KEY)\n'
    for finding in secrets(code):
        assert "changeme" not in finding.message and "k3y-0f-th3-app" not in finding.message


@pytest.mark.parametrize("path", ["tests/test_login.py", "tests/fixtures/users.py", "conftest.py",
                                  "app/login_test.py"])
def test_a_password_in_test_code_is_a_fixture_not_a_finding_and_a_key_format_there_is_review_tier(path: str):
    assert found('PASSWORD = "hunter2-pass"\n', path) == []
    assert found('PASSWORD = "hunter2-pass"\n', "app/login.py") == [(1, "secret.hardcoded-password", "flow")]
    assert found('AWS_KEY = "AKIAIOSFODNN7EXAMPL3"\n', path) == [(1, "secret.known-token-format.review", "review")]


def test_credentials_in_fixture_rows_are_reported_and_names_with_full_names_are_not():
    code = """
    SEED_USERS = [("admin", "admin123"), ("alice", "wonderland!")]
    MEMBERS = [("alice", "Alice Liddell"), ("bob", "bob@example.com")]
    """
    assert found(code) == [(1, "secret.seeded-credentials", "flow"), (1, "secret.seeded-credentials", "flow")]


def test_a_placeholder_key_in_a_development_config_class_is_not_reported_and_in_production_it_is():
    code = """
    class ProductionConfig:
        SECRET_KEY = "changeme"


    class DevelopmentConfig:
        DEBUG = True
        SECRET_KEY = "dev"
    """
    assert found(code) == [(2, "secret.weak-signing-key", "flow")]
