"""The heavy libraries (torch, transformers, sentence-transformers, lancedb), imported once, behind one lock.

transformers resolves its names lazily; two threads importing it at once (the model loader and the
indexer) can see a half-initialised module and fail. Every thread that needs these libraries calls
`load_heavy` first: the first caller imports them, the others wait for it and reuse the outcome.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time

log = logging.getLogger(__name__)

HEAVY = ("torch", "transformers", "sentence_transformers", "lancedb")
"""The libraries imported, in this order."""

_RESOLVE = {
    "transformers": ("AutoTokenizer", "AutoModel", "AutoModelForSequenceClassification", "PreTrainedModel"),
    "sentence_transformers": ("SentenceTransformer",),
}
"""Lazy names resolved while the lock is held, so no other thread triggers their import later."""

_LOCK = threading.Lock()  # the import system is process-wide, so is the lock that orders it
_DONE: dict[str, str] = {}  # library -> "" when imported, else the reason it failed


def load_heavy(names: tuple[str, ...] = HEAVY) -> dict[str, str]:
    """Import `names` once (thread-safe); returns library -> "" (imported) or why it cannot be imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with _LOCK:
        for name in names:
            if name not in _DONE:
                _DONE[name] = _import(name)
        return {name: _DONE[name] for name in names}


def _import(name: str) -> str:
    started = time.perf_counter()
    try:
        module = importlib.import_module(name)
        for attribute in _RESOLVE.get(name, ()):
            getattr(module, attribute)
    except Exception as exc:  # a broken install: the reason goes to the caller, the rules still work
        log.warning("cannot import %s: %s", name, exc)
        return f"{type(exc).__name__}: {exc}"
    log.debug("imported %s in %.1f s", name, time.perf_counter() - started)
    return ""


def forget_failures() -> None:
    """Let the next `load_heavy` retry the libraries that failed (a retry after a transient failure)."""
    with _LOCK:
        for name in [name for name, reason in _DONE.items() if reason]:
            del _DONE[name]
