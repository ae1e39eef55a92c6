"""The server never goes deaf or hangs: exit at any moment, errors after shutdown, stale versions, big files."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_core.parsing.budget import over_budget
from tests.lsp_support import SERVER_ENV
from tests.raw_server import RawServer

VULNERABLE = "import os\n\n\ndef run():\n    os.system(input())\n"
SAFE = "import os\n\n\ndef run():\n    os.system('ls')\n"
RULES_ONLY = {"modelEnabled": False, "indexEnabled": False, "diagnosticMode": "push"}


@pytest.fixture
def raw() -> Iterator[RawServer]:
    """A raw server, killed if the test left it running."""
    server = RawServer()
    yield server
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait()


def diagnostics_of(raw: RawServer, uri: str, version: int) -> list[str]:
    """The codes of the next diagnostics published for `uri` at `version`."""
    params = raw.notification("textDocument/publishDiagnostics",
                              lambda p: p["uri"] == uri and p.get("version") == version)
    return [d["code"] for d in params["diagnostics"]]


def log_line(raw: RawServer, text: str) -> str:
    """The first window/logMessage containing `text`."""
    return str(raw.notification("window/logMessage", lambda p: text in p["message"])["message"])


def test_exit_during_the_model_load_ends_the_process_within_a_second(raw: RawServer, tmp_path: Path):
    (tmp_path / "app.py").write_text(VULNERABLE)
    raw.initialize(tmp_path)  # default settings: the model and the index load in the background
    raw.notification("coderev/modelStatus", lambda p: p["state"] == "loading")
    started = time.monotonic()
    raw.notify("exit")
    code = raw.proc.wait(10)
    assert time.monotonic() - started < 1.0
    assert code == 1  # exit without shutdown
    assert "Traceback" not in raw.log()


def test_a_model_turned_off_is_reported_to_the_client_as_off(raw: RawServer, tmp_path: Path):
    raw.initialize(tmp_path, RULES_ONLY)
    assert raw.notification("coderev/modelStatus", lambda p: True) == {"state": "off", "reason": ""}


def test_exit_after_shutdown_ends_the_process_with_code_0(raw: RawServer, tmp_path: Path):
    raw.initialize(tmp_path, RULES_ONLY)
    assert raw.call("shutdown")["result"] is None
    started = time.monotonic()
    raw.notify("exit")
    assert raw.proc.wait(10) == 0
    assert time.monotonic() - started < 1.0


def test_requests_after_shutdown_get_invalid_request(raw: RawServer, tmp_path: Path):
    raw.initialize(tmp_path, RULES_ONLY)
    raw.call("shutdown")
    response = raw.call("textDocument/diagnostic", {"textDocument": {"uri": (tmp_path / "a.py").as_uri()}})
    assert response["error"]["code"] == -32600
    raw.notify("exit")
    assert raw.proc.wait(10) == 0


def test_a_stale_didchange_is_ignored_with_a_log_line(raw: RawServer, tmp_path: Path):
    raw.initialize(tmp_path, RULES_ONLY)
    uri = raw.open(tmp_path / "app.py", VULNERABLE, version=5)
    assert diagnostics_of(raw, uri, 5) == ["command-injection"]
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                          "contentChanges": [{"text": SAFE}]})
    assert "version 3 after 5" in log_line(raw, "stale didChange")
    pulled = raw.call("textDocument/diagnostic", {"textDocument": {"uri": uri}})["result"]["items"]
    assert [d["code"] for d in pulled] == ["command-injection"]


def test_the_same_version_resent_with_new_text_is_analyzed_again(raw: RawServer, tmp_path: Path):
    raw.initialize(tmp_path, RULES_ONLY)
    uri = raw.open(tmp_path / "app.py", VULNERABLE, version=1)
    assert diagnostics_of(raw, uri, 1) == ["command-injection"]
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                          "contentChanges": [{"text": SAFE}]})
    assert diagnostics_of(raw, uri, 2) == []
    raw.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                          "contentChanges": [{"text": VULNERABLE}]})
    assert diagnostics_of(raw, uri, 2) == ["command-injection"]


def test_a_huge_didopen_does_not_block_the_loop(raw: RawServer, tmp_path: Path):
    raw.initialize(tmp_path, RULES_ONLY)
    big = "".join(f"value_{i} = {i} * 2  # padding padding padding padding\n" for i in range(80_000))
    assert len(big) > 4_500_000 and over_budget(big.encode()) == ""
    raw.open(tmp_path / "big.py", big)
    started = time.monotonic()
    assert raw.call("coderev/ping")["error"]["code"] == -32601  # answered by the loop itself
    assert time.monotonic() - started < 1.5


def test_exit_while_a_huge_document_is_parsed_ends_the_process_within_a_second(raw: RawServer, tmp_path: Path):
    raw.initialize(tmp_path, RULES_ONLY)
    big = "value = [\n" + "    1,\n" * 480_000 + "]\n"
    assert over_budget(big.encode()) == ""  # parsed, not set aside by the parse budget
    raw.open(tmp_path / "big.py", big)
    started = time.monotonic()
    raw.notify("exit")
    assert raw.proc.wait(10) == 1
    assert time.monotonic() - started < 1.0
    assert "Traceback" not in raw.log()


def test_creating_the_server_imports_no_heavy_library():
    script = ("import sys; from server.app import create_server; create_server(); "
              "print(sorted({'torch', 'transformers', 'sentence_transformers', 'lancedb'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=SERVER_ENV,
                            check=True, timeout=120)
    assert result.stdout.strip() == "[]"
