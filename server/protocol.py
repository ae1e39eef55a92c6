"""The LSP protocol coderev speaks: UTF-8 positions when offered, open documents kept by the session only,
a stdio reader that survives broken frames, an error answer to every bad request, and an immediate exit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.io_ import StdoutWriter
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from server.framing import Framer

log = logging.getLogger(__name__)

SYNC_KIND = types.TextDocumentSyncKind.Incremental
READ_CHUNK = 1 << 16
_NOT_JSON = object()


def exit_now(code: int) -> None:
    """End the process at once: flush stdout and the logs, then leave without waiting for any thread."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing left to flush
            stream.flush()
    logging.shutdown()
    os._exit(code)


class CoderevProtocol(LanguageServerProtocol):
    """pygls's protocol, preferring UTF-8 positions, and leaving the document texts to `server.session`.

    pygls keeps its own copy of every open document; coderev's session keeps the parsed documents, so the
    document notifications go straight to the registered handlers (one document store, not two).
    """

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):  # type: ignore[no-untyped-def]
        """Move utf-8 to the front of the client's encodings, then initialize as usual."""
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            offered = list(general.position_encodings)
            if types.PositionEncodingKind.Utf8 in offered:
                offered.remove(types.PositionEncodingKind.Utf8)
                general.position_encodings = [types.PositionEncodingKind.Utf8, *offered]
        return (yield from super().lsp_initialize(params))

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any):  # type: ignore[no-untyped-def]
        """End the process now, whatever is still running: loading, indexing (the stdio reader exits first)."""
        self.exit()
        yield from ()

    def exit(self) -> None:
        """End the process now: code 0 after shutdown, else 1 (as LSP says)."""
        code = 0 if self._shutdown else 1
        log.info("exit received: stopping (code %d)", code)
        exit_now(code)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):  # type: ignore[no-untyped-def]
        """Hand didOpen to the session's handler (no copy in pygls's workspace)."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):  # type: ignore[no-untyped-def]
        """Hand didChange to the session's handler (no copy in pygls's workspace)."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):  # type: ignore[no-untyped-def]
        """Hand didClose to the session's handler (no copy in pygls's workspace)."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):  # type: ignore[no-untyped-def]
        """Run a handler as pygls does, but forget its future once done when no response will pop it.

        pygls files the future of every coroutine notification handler (and of every step of a generator
        handler) under a fresh id and never removes it: one future, with its params, leaked per didChange.
        """
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        if getattr(callback, "func", None) == self._send_handler_result:
            return  # a request: the response pops it
        future = self._request_futures.get(msg_id)
        try:
            loop = asyncio.get_running_loop()  # forgotten later on the loop: shutdown iterates the futures
        except RuntimeError:
            return
        if future is None:
            return
        future.add_done_callback(
            lambda done: loop.is_closed() or loop.call_soon_threadsafe(self._forget, msg_id, done))

    def _forget(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    # -- receiving ---------------------------------------------------------------------------------------
    def receive(self, data: Any) -> None:
        """Handle one decoded message; a request that cannot be handled gets a JSON-RPC error, never silence."""
        if data is _NOT_JSON:
            self._reply_error(None, JsonRpcParseError("the message is not valid JSON"))
            return
        request_id = data.get("id") if isinstance(data, dict) else None
        method = data.get("method") if isinstance(data, dict) else None
        is_request = isinstance(method, str) and isinstance(request_id, (int, str))
        if not isinstance(data, dict) or data.get("jsonrpc") != self.VERSION or (
                method is not None and not isinstance(method, str)):
            log.warning("ignoring a message that is not JSON-RPC 2.0")
            self._reply_error(request_id if isinstance(request_id, (int, str)) else None,
                              JsonRpcInvalidRequest("not a JSON-RPC 2.0 message"))
            return
        if self._shutdown and is_request and method != types.EXIT:
            self._reply_error(request_id, JsonRpcInvalidRequest(f"{method}: the server is shutting down"))
            return
        if method is not None:
            data.setdefault("params", None)  # JSON-RPC lets a request or notification omit its params
        try:
            message = self.structure_message(data)
        except JsonRpcException as exc:
            if is_request:
                self._reply_error(request_id, type(exc)(f"{method}: {exc.message.lower()} (params do not match)"))
            else:
                log.warning("ignoring %s with invalid params", method or "a message")
            return
        self.handle_message(message)

    def _reply_error(self, request_id: int | str | None, error: JsonRpcException) -> None:
        log.warning("answering request %s with error %d: %s", request_id, error.code, error.message)
        self._send_response(request_id, None, error.to_response_error())  # type: ignore[arg-type]


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        log.warning("received %d bytes that are not JSON", len(body))
        return _NOT_JSON


async def _serve(protocol: CoderevProtocol, stdin: BinaryIO) -> None:
    """Read frames on a daemon thread (JSON decoded there too), handle them on the loop; return at EOF."""
    loop = asyncio.get_running_loop()
    closed = loop.create_future()

    def read() -> None:
        framer = Framer()
        read_some = getattr(stdin, "read1", stdin.read)
        try:
            while chunk := read_some(READ_CHUNK):
                for body in framer.feed(chunk):
                    message = _decode(body)
                    if isinstance(message, dict) and message.get("method") == types.EXIT:
                        protocol.exit()  # at once, from this thread: the loop may be busy
                    loop.call_soon_threadsafe(protocol.receive, message)
        except Exception:
            log.exception("reading from the client failed")
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is already gone
                loop.call_soon_threadsafe(_settle, closed)

    threading.Thread(target=read, name="coderev-stdin", daemon=True).start()
    await closed


def _settle(closed: asyncio.Future[None]) -> None:
    if not closed.done():
        closed.set_result(None)


def serve_stdio(protocol: CoderevProtocol, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """Serve the protocol over stdio until the client closes stdin (exit ends the process before that)."""
    protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        asyncio.run(_serve(protocol, stdin or sys.stdin.buffer))
    log.info("the client closed the connection; stopping")
