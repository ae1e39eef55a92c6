"""The index on object storage: a real LanceDB index in a bucket of a local S3-compatible server (moto)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_core.config import Settings
from ai_core.retrieval import CodeIndex
from ai_core.retrieval.store import IndexStore

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

BUCKET = "coderev-index"
FILES = {
    "shop/db.py": '''
        import sqlite3


        def load_customer(conn, customer_id):
            """Fetch one customer row by its id."""
            return conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
        ''',
    "shop/mail.py": '''
        import smtplib


        def send_welcome_email(address):
            smtplib.SMTP("localhost").sendmail("noreply@example.com", address, "Welcome to the shop!")
        ''',
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on a free local port, with one bucket."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


def bucket_keys(endpoint: str, prefix: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def test_index_uri_in_a_bucket_builds_and_answers_from_the_environment(
        endpoint: str, workspace: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT": endpoint,
                        "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}.items():
        monkeypatch.setenv(name, value)
    settings = Settings(index_uri=f"s3://{BUCKET}/team/index")
    stats = CodeIndex(workspace, settings).sync()
    assert (stats.files, stats.changed, stats.skipped) == (2, 2, 0)
    assert any(key.startswith("team/index/chunks.lance/") for key in bucket_keys(endpoint, "team/index/"))
    assert not (workspace / ".coderev").exists()
    reopened = CodeIndex(workspace, settings)  # another machine of the team: same URI, nothing local
    [hit, *_] = reopened.search("send a welcome e-mail to a new customer", limit=2)
    assert (hit.path, hit.name) == ("shop/mail.py", "send_welcome_email")
    assert [Path(d.path) for d in reopened.find_definitions("load_customer")] == [workspace / "shop/db.py"]


def test_storage_options_reach_the_bucket_without_environment(endpoint: str, monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ALLOW_HTTP"):
        monkeypatch.delenv(name, raising=False)
    options = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_endpoint": endpoint,
               "aws_region": "us-east-1", "allow_http": "true"}
    store = IndexStore(f"s3://{BUCKET}/options/index", storage_options=options).open()
    assert store.count() == 0
    assert any(key.startswith("options/index/meta.lance/") for key in bucket_keys(endpoint, "options/index/"))
