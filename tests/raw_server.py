"""A raw JSON-RPC client for the real server over stdio, able to send broken frames (for fuzz and exit tests)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.lsp_support import SERVER_ENV

Message = dict[str, Any]


class RawServer:
    """`coderev serve` in a subprocess; server requests (configuration, registrations) are answered with nulls."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**SERVER_ENV, **(env or {})}, cwd=os.getcwd())
        self.inbox: queue.Queue[Message | None] = queue.Queue()
        self.seen: list[Message] = []
        self.stderr: list[bytes] = []
        self.ids = iter(range(1, 1 << 30))
        self.write_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    # -- sending -------------------------------------------------------------------------------------------
    def send_bytes(self, data: bytes) -> None:
        """Write raw bytes to the server's stdin."""
        assert self.proc.stdin is not None
        with self.write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: Message) -> None:
        """Write one well-framed message."""
        body = json.dumps(message).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        self.send({"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})})

    def request(self, method: str, params: Any = None) -> int:
        """Send a request; returns its id."""
        request_id = next(self.ids)
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method,
                   **({"params": params} if params is not None else {})})
        return request_id

    def call(self, method: str, params: Any = None, timeout: float = 60.0) -> Message:
        """Send a request and wait for its response."""
        return self.response(self.request(method, params), timeout)

    # -- receiving -----------------------------------------------------------------------------------------
    def wait(self, matches: Any, timeout: float = 60.0) -> Message:
        """The first message (already received or coming) for which `matches(message)` is true."""
        for message in self.seen:
            if matches(message):
                self.seen.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the server did not send the expected message")
            try:
                message = self.inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                raise EOFError("the server closed its stdout; stderr:\n" + self.log()[-3000:])
            if matches(message):
                return message
            self.seen.append(message)

    def response(self, request_id: int | None, timeout: float = 60.0) -> Message:
        """The response to `request_id` (None: an error response without id)."""
        return self.wait(lambda m: "method" not in m and m.get("id") == request_id, timeout)

    def notification(self, method: str, matches: Any = lambda _params: True, timeout: float = 60.0) -> Any:
        """The params of the first `method` notification that matches."""
        return self.wait(lambda m: m.get("method") == method and "id" not in m and matches(m.get("params")),
                         timeout)["params"]

    def log(self) -> str:
        """What the server wrote to stderr so far."""
        return b"".join(self.stderr).decode("utf-8", "replace")

    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        while True:
            length = 0
            while (line := stdout.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                self.inbox.put(None)
                return
            message = json.loads(stdout.read(length))
            if "method" in message and "id" in message:  # a request from the server: answer it
                items = (message.get("params") or {}).get("items")
                self.send({"jsonrpc": "2.0", "id": message["id"],
                           "result": [None] * len(items) if isinstance(items, list) else None})
            self.inbox.put(message)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    # -- sessions ------------------------------------------------------------------------------------------
    def initialize(self, root: Path, options: dict[str, Any] | None = None) -> Message:
        """initialize (+ initialized) with `root` as the one workspace folder."""
        result = self.call("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {"workspace": {"configuration": True}, "window": {"workDoneProgress": False}},
            **({"initializationOptions": {"coderev": options}} if options is not None else {}),
        })
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> str:
        """didOpen; returns the uri."""
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": version, "text": text}})
        return uri

    def close(self, timeout: float = 10.0) -> int:
        """Ask the server to stop (shutdown, exit) or kill it; returns its exit code."""
        if self.proc.poll() is None:
            try:
                self.call("shutdown", timeout=timeout)
                self.notify("exit")
                return self.proc.wait(timeout)
            except (OSError, TimeoutError, EOFError, subprocess.TimeoutExpired):
                self.proc.kill()
        return self.proc.wait()
