"""Observability: Prometheus metrics scraped over HTTP from a real `coderev serve --metrics-port`, the metrics
file of a scan, and JSON log lines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest_lsp
from prometheus_client.parser import text_string_to_metric_families
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp_support import SERVER_ENV, open_document, start_session, wait_for_diagnostics

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PORT = free_port()


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "server.cli", "serve", "--metrics-port", str(PORT)], server_env=SERVER_ENV))
async def lsp(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10) as response:
        return samples(response.read().decode())


async def test_metrics_endpoint_counts_methods_stages_and_findings_after_did_open(lsp: LanguageClient,
                                                                                  tmp_path: Path):
    lsp.client_name = "neovim"  # type: ignore[attr-defined]
    await start_session(lsp, tmp_path, "neovim")
    uri = open_document(lsp, tmp_path / "app.py", VULNERABLE)
    assert (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    metrics = scrape()
    assert metrics[("coderev_lsp_messages_total", (("method", "textDocument/didOpen"),))] == 1
    assert metrics[("coderev_lsp_request_seconds_count", (("method", "initialize"),))] == 1
    assert metrics[("coderev_stage_seconds_count", (("stage", "analysis"),))] >= 1
    assert metrics[("coderev_stage_seconds_count", (("stage", "parse"),))] >= 1
    assert metrics[("coderev_findings_total", (("vuln_class", "insecure-deserialization"),))] == 1
    assert ("coderev_model_cache_lookups_total", (("result", "hit"),)) in metrics


def coderev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_scan_writes_its_metrics_file(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(VULNERABLE)
    (tmp_path / "src" / "safe.py").write_text("import json\nprint(json.loads('{}'))\n")
    result = coderev("scan", str(tmp_path / "src"), "--no-model", "--metrics", str(tmp_path / "scan.prom"))
    assert result.returncode == 1
    metrics = samples((tmp_path / "scan.prom").read_text())
    assert metrics[("coderev_files_analysed_total", ())] == 2
    assert metrics[("coderev_findings_total", (("vuln_class", "insecure-deserialization"),))] == 1
    assert metrics[("coderev_stage_seconds_count", (("stage", "parse"),))] == 2
    assert metrics[("coderev_stage_seconds_count", (("stage", "model"),))] == 0


def test_json_log_format_writes_one_object_per_line(tmp_path: Path):
    (tmp_path / "blob.py").write_bytes(b"\x00\x01binary")
    (tmp_path / "ok.py").write_text("print('hello')\n")  # something is analysed: no "nothing was analysed" error
    result = coderev("scan", str(tmp_path), "--no-model", "--log-format", "json")
    [entry] = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert (entry["level"], entry["logger"], entry["message"]) == ("warning", "ai_core.scan",
                                                                   "skipped blob.py: binary file")
    assert all(line.startswith("{") for line in result.stderr.splitlines())


def lsp_message(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_server_logs_json_lines_with_log_format_json(tmp_path: Path):
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "-v", "serve", "--log-format", "json"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=SERVER_ENV)
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(lsp_message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                    "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}))
    server.stdin.flush()
    # exit only once initialize is answered: an exit that overtakes it would end the server before it logs
    headers = dict(line.split(b":", 1) for line in iter(server.stdout.readline, b"\r\n"))
    length = int(headers[b"Content-Length"])
    assert json.loads(server.stdout.read(length))["id"] == 1
    _, stderr = server.communicate(lsp_message({"jsonrpc": "2.0", "method": "exit"}), timeout=120)
    entries = [json.loads(line) for line in stderr.decode().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert any(e["logger"] == "pygls.protocol.language_server" and e["message"].startswith("Language server "
                                                                                         "initialized")
               for e in entries)


def test_model_cache_lookups_follow_the_current_scorer():
    from prometheus_client import generate_latest

    from server.metrics import Metrics, ModelCacheCollector

    scorer = SimpleNamespace(hits=0, misses=0)
    metrics = Metrics()
    metrics.registry.register(ModelCacheCollector(lambda: scorer))
    scorer.hits, scorer.misses = 7, 2  # read at scrape time, not at registration
    values = samples(generate_latest(metrics.registry).decode())
    assert values[("coderev_model_cache_lookups_total", (("result", "hit"),))] == 7
    assert values[("coderev_model_cache_lookups_total", (("result", "miss"),))] == 2
