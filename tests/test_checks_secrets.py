"""Hardcoded secrets: names, entropy and known token formats, each next to a look-alike that is fine."""

from __future__ import annotations

import textwrap

import pytest

from ai_core.analysis import Analyzer
from ai_core.classes.hardcoded_secret.checks import classify, entropy
from ai_core.config import Settings
from ai_core.findings import VulnClass

ANALYZER = Analyzer(Settings(model_enabled=False, enabled_classes=frozenset({VulnClass.HARDCODED_SECRET})))


def rules(code: str, path: str = "app.py") -> list[tuple[int, str]]:
    return [(f.span.start_line + 1, f.rule) for f in ANALYZER.analyze_text(textwrap.dedent(code).lstrip(), path)]


@pytest.mark.parametrize(("code", "rule"), [
    ('DB_PASSWORD = "hunter22"', "secret.hardcoded-password"),
    ('conn = connect(host="db", password="s3cr3t!")', "secret.hardcoded-password"),
    ('def login(user, password="letmein1"):\n    pass', "secret.hardcoded-password"),
    ('if password == "admin123":\n    pass', "secret.hardcoded-password"),
    ('CONFIG = {"api_key": "f3a9c2d8e1b7460a9c5e2d1f8b3a7c6e"}', "secret.hardcoded-credential"),
    ('app.config["SECRET_KEY"] = "9c2f7e1a4b8d3c6e0f5a2b9d"', "secret.hardcoded-credential"),
    ('client.token = "xq7Vb2Lp9Rt4Kw8Zs1Nm6Hd3"', "secret.hardcoded-credential"),
    ('AWS = "AKIAIOSFODNN7ABCDEFG"', "secret.known-token-format"),
    ('headers = {"Authorization": "token ghp_' + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8" + '"}',
     "secret.known-token-format"),
    ('DSN = "postgresql://app:Pa55word@db.internal/app"', "secret.known-token-format"),
    ('token = jwt.encode(claims, "my-signing-key", algorithm="HS256")', "secret.hardcoded-crypto-key"),
])
def test_hardcoded_secrets_are_reported(code: str, rule: str):
    assert [r for _, r in rules("import jwt\n" + code)] == [rule]


@pytest.mark.parametrize("code", [
    'DB_PASSWORD = os.environ.get("DB_PASSWORD")',
    'DB_PASSWORD = os.environ["DB_PASSWORD"]',
    'API_KEY = config("API_KEY", default="")',
    'PASSWORD_FIELD = "password"',
    'PASSWORD_RESET_URL = "https://example.com/reset"',
    'TOKEN_HEADER = "X-Auth-Token"',
    'api_key = "<your-api-key>"',
    'password = ""',
    'SESSION_TOKEN_NAME = "session_token"',
    'if password == confirm_password:\n    pass',
    'token = jwt.encode(claims, settings.SIGNING_KEY, algorithm="HS256")',
    'DSN = "postgresql://app:${DB_PASSWORD}@db/app"',
    'MAX_TOKEN_LENGTH = 64',
])
def test_look_alikes_are_not_secrets(code: str):
    assert rules("import os, jwt\n" + code) == []


def test_entropy_and_classification_decide_generic_names():
    assert entropy("aaaaaaaa") == 0.0
    assert entropy("f3a9c2d8e1b7") > 3.0
    assert classify("api_key", "f3a9c2d8e1b7460a") is not None
    assert classify("api_key", "aaaaaaaaaaaa") is None
    assert classify("cache_key", "f3a9c2d8e1b7460a") is None
    assert classify("user_name", "f3a9c2d8e1b7460a") is None


def test_multiline_private_key_is_reported_once_at_its_assignment():
    code = ('DEPLOY_KEY = (\n    """-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n'
            '-----END RSA PRIVATE KEY-----"""\n)\n')
    assert rules(code) == [(1, "secret.known-token-format")]
