"""Protocol fuzz over the real server: after each hostile input the server still answers a normal request."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.raw_server import Message, RawServer

VULNERABLE = "import os\n\n\ndef run(cmd):\n    os.system(input())\n"
OPTIONS = {"modelEnabled": False, "indexEnabled": False, "diagnosticMode": "push"}


def frame(body: bytes, length: int | None = None) -> bytes:
    """One frame, with the true length unless `length` says otherwise."""
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def note(method: str, params: object) -> bytes:
    """A framed notification."""
    return frame(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode())


HOSTILE = {
    "content_length_too_long": frame(b'{"jsonrpc": "2.0", "method": "$/ping"}', length=4000),
    "content_length_too_short": frame(b'{"jsonrpc": "2.0", "method": "$/ping", "params": {}}', length=12),
    "content_length_zero": frame(b'{"jsonrpc": "2.0", "method": "$/ping"}', length=0),
    "content_length_absurd": b"Content-Length: 999999999999\r\n\r\n{}",
    "garbage_without_header": b"GET / HTTP/1.1\r\nHost: x\r\n\r\nhello world",
    "header_without_length": b"Content-Type: application/json\r\n\r\n{}",
    "binary_noise": bytes(random.Random(16).randrange(256) for _ in range(3000)),
    "body_not_json": frame(b"{not json at all"),
    "body_not_utf8": frame(b'{"jsonrpc": "2.0", "method": "\xff\xfe"}'),
    "json_array": frame(b"[1, 2, 3]"),
    "json_scalar": frame(b"42"),
    "wrong_jsonrpc_version": frame(b'{"jsonrpc": "1.0", "id": 900, "method": "shutdown"}'),
    "notification_with_bad_params": note("textDocument/didChange", {"textDocument": 5}),
    "didopen_with_bad_params": note("textDocument/didOpen", {"textDocument": {"uri": 3}}),
    "didchange_for_unopened_document": note("textDocument/didChange", {
        "textDocument": {"uri": "file:///nowhere/x.py", "version": 2},
        "contentChanges": [{"text": "x = 1"}]}),
    "didchange_range_outside_the_text": note("textDocument/didChange", {
        "textDocument": {"uri": "{uri}", "version": 0},
        "contentChanges": [{"range": {"start": {"line": 999, "character": 5}, "end": {"line": -1, "character": 0}},
                            "text": "x"}]}),
    "cancel_unknown_request": note("$/cancelRequest", {"id": 123456}),
    "cancel_with_bad_id": note("$/cancelRequest", {"id": {"nested": True}}),
    "unknown_notification": note("coderev/nothing", {"a": 1}),
}
"""Inputs that must neither crash the server nor leave it deaf."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, Path]]:
    """One server for all cases (a case that kills or deafens it fails every later one too)."""
    root = tmp_path_factory.mktemp("fuzz")
    raw = RawServer()
    raw.initialize(root, OPTIONS)
    path = root / "app.py"
    raw.open(path, VULNERABLE)
    raw.notification("textDocument/publishDiagnostics", lambda p: p["uri"] == path.as_uri())
    yield raw, path
    raw.close()


def answers_a_normal_request(raw: RawServer, path: Path) -> None:
    """A pull for the open document returns its diagnostic (the server reads, parses and analyzes)."""
    response = raw.call("textDocument/diagnostic", {"textDocument": {"uri": path.as_uri()}}, timeout=30)
    assert "error" not in response, response
    assert "command-injection" in [item["code"] for item in response["result"]["items"]]


@pytest.mark.parametrize("name", list(HOSTILE))
def test_after_a_hostile_input_the_server_still_answers(server: tuple[RawServer, Path], name: str):
    raw, path = server
    raw.send_bytes(HOSTILE[name].replace(b"{uri}", path.as_uri().encode()))
    answers_a_normal_request(raw, path)
    assert raw.proc.poll() is None


def error_of(response: Message) -> int:
    """The JSON-RPC error code of a response (fails when it is a result)."""
    assert "error" in response, response
    return int(response["error"]["code"])


def test_a_body_that_is_not_json_gets_a_parse_error(server: tuple[RawServer, Path]):
    raw, path = server
    raw.send_bytes(frame(b'{"jsonrpc": "2.0", "id": 77, "method": '))
    assert error_of(raw.response(None)) == -32700
    answers_a_normal_request(raw, path)


def test_a_request_with_invalid_params_gets_32602(server: tuple[RawServer, Path]):
    raw, path = server
    assert error_of(raw.call("textDocument/diagnostic", {"textDocument": 5})) == -32602
    assert error_of(raw.call("textDocument/codeAction", {"range": "everything"})) == -32602
    answers_a_normal_request(raw, path)


def test_a_request_for_an_unknown_method_gets_32601(server: tuple[RawServer, Path]):
    raw, path = server
    assert error_of(raw.call("coderev/doesNotExist", {})) == -32601
    answers_a_normal_request(raw, path)


def test_a_message_of_another_jsonrpc_version_gets_32600(server: tuple[RawServer, Path]):
    raw, path = server
    raw.send({"jsonrpc": "1.0", "id": 4242, "method": "textDocument/diagnostic", "params": {}})
    assert error_of(raw.response(4242)) == -32600
    answers_a_normal_request(raw, path)


def test_a_cancelled_request_is_answered_and_the_next_one_too(server: tuple[RawServer, Path]):
    raw, path = server
    request_id = raw.request("textDocument/diagnostic", {"textDocument": {"uri": path.as_uri()}})
    raw.notify("$/cancelRequest", {"id": request_id})
    raw.response(request_id)  # a result or a RequestCancelled error: either way an answer
    answers_a_normal_request(raw, path)


def test_a_frame_split_across_writes_is_read_whole(server: tuple[RawServer, Path]):
    raw, path = server
    body = json.dumps({"jsonrpc": "2.0", "id": 5151, "method": "textDocument/diagnostic",
                       "params": {"textDocument": {"uri": path.as_uri()}}}).encode()
    data = frame(body)
    for start in range(0, len(data), 7):
        raw.send_bytes(data[start:start + 7])
    assert "result" in raw.response(5151)


def test_seeded_random_frames_never_deafen_the_server(server: tuple[RawServer, Path]):
    raw, path = server
    rng = random.Random(1616)
    pieces = [b"Content-Length: ", b"\r\n", b"\r\n\r\n", b"{", b"}", b'"jsonrpc": "2.0"', b'"id": 1',
              b'"method": "initialize"', b"9" * 3, b"\x00", b"Content-Type: x"]
    for _ in range(30):
        raw.send_bytes(b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12))))
        raw.send_bytes(b"\r\n\r\n")
    answers_a_normal_request(raw, path)
