"""Forward coderev's log records to the client's log (`window/logMessage`), from any thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

_TYPES = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
    logging.DEBUG: types.MessageType.Log,
}


class ClientLogHandler(logging.Handler):
    """A logging handler that sends records to the editor; it never raises."""

    def __init__(self, server: LanguageServer, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.INFO)
        self.server = server
        self.loop = loop

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record on the server's loop (thread-safe)."""
        try:
            level = max((lvl for lvl in _TYPES if lvl <= record.levelno), default=logging.DEBUG)
            params = types.LogMessageParams(type=_TYPES[level], message=self.format(record))
            self.loop.call_soon_threadsafe(self._send, params)
        except Exception:  # a log line must never take the server down
            self.handleError(record)

    def _send(self, params: types.LogMessageParams) -> None:
        with contextlib.suppress(Exception):  # the client may be gone
            self.server.window_log_message(params)


def install(server: LanguageServer, loop: asyncio.AbstractEventLoop) -> ClientLogHandler:
    """Attach a client handler to the `ai_core` and `server` loggers."""
    handler = ClientLogHandler(server, loop)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    for name in ("ai_core", "server"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(min(logger.level or logging.INFO, logging.INFO))
    return handler
