"""Scores kept between scans: a Scorer in front of the model that re-scores only candidates it has not seen.

A (raw, uncalibrated) score is keyed by the model's identity (adapter and its weights, weights variant) and
the candidate's rendered text, which holds the code around the sink and the engine's evidence (taint path,
called helpers): an edit re-scores only the candidates whose text changed. The CLI keeps scores on disk
(sqlite in the user cache dir, bounded); `BackgroundScorer` loads the model on a thread so that the rules run
meanwhile, and only when some candidate is missing from the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from ai_core.model.calibration import IDENTITY, Calibration
from ai_core.model.candidates import Candidate
from ai_core.model.scoring import Score, Scorer

log = logging.getLogger(__name__)

DISK_MAX_ROWS = 100_000
"""Scores kept on disk (~40 MB at most); the least recently used go first."""
MEMORY_MAX_ROWS = 8192
SCORES_FILE = "scores.sqlite"


class ScoreStore(Protocol):
    """Where scores live between calls: get what is known, put what was computed."""

    def get_many(self, keys: Sequence[str]) -> dict[str, Score]:
        """The known scores among `keys`."""
        ...

    def put_many(self, scores: Mapping[str, Score]) -> None:
        """Remember `scores`."""
        ...


def score_cache_path() -> Path:
    """The CLI's score cache: CODEREV_SCORE_CACHE, else scores.sqlite in the user cache dir."""
    from ai_core.model.quantize import cache_dir

    return Path(os.environ.get("CODEREV_SCORE_CACHE") or cache_dir() / SCORES_FILE)


def score_key(identity: str, text: str) -> str:
    """The cache key of one rendered candidate under one model identity."""
    return hashlib.sha256(f"{identity}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


def _encode(score: Score) -> str:
    return json.dumps(score.probabilities, separators=(",", ":"))


def _decode(value: str) -> Score:
    probabilities = {str(k): float(v) for k, v in json.loads(value).items()}
    label = max(probabilities, key=probabilities.__getitem__)
    return Score(label, probabilities[label], probabilities)


class MemoryScores:
    """An in-process LRU of scores (the editor's store)."""

    def __init__(self, max_rows: int = MEMORY_MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._rows: OrderedDict[str, Score] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, Score]:
        """The known scores among `keys` (each becomes the most recently used)."""
        with self._lock:
            found = {key: self._rows[key] for key in keys if key in self._rows}
            for key in found:
                self._rows.move_to_end(key)
            return found

    def put_many(self, scores: Mapping[str, Score]) -> None:
        """Remember `scores`, forgetting the least recently used past `max_rows`."""
        with self._lock:
            self._rows.update(scores)
            while len(self._rows) > self.max_rows:
                self._rows.popitem(last=False)


class DiskScores:
    """Scores in one sqlite file, bounded to `max_rows` (least recently used dropped); any error reads as a miss."""

    def __init__(self, path: Path, max_rows: int = DISK_MAX_ROWS) -> None:
        self.path = path
        self.max_rows = max_rows

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=5)
        connection.execute("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                           "used REAL NOT NULL)")
        return connection

    def get_many(self, keys: Sequence[str]) -> dict[str, Score]:
        """The known scores among `keys`; their use time is refreshed."""
        found: dict[str, Score] = {}
        try:
            with contextlib.closing(self._connect()) as connection, connection:
                for chunk in _chunks(list(dict.fromkeys(keys)), 500):
                    marks = ",".join("?" * len(chunk))
                    rows = connection.execute(f"SELECT key, value FROM scores WHERE key IN ({marks})", chunk)
                    found.update((key, _decode(value)) for key, value in rows)
                    connection.execute(f"UPDATE scores SET used = ? WHERE key IN ({marks})", [time.time(), *chunk])
        except (sqlite3.Error, OSError, ValueError) as exc:
            log.warning("score cache %s unreadable (%s); scoring afresh", self.path, exc)
        return found

    def put_many(self, scores: Mapping[str, Score]) -> None:
        """Remember `scores`; past `max_rows`, drop the least recently used tenth."""
        if not scores:
            return
        now = time.time()
        try:
            with contextlib.closing(self._connect()) as connection, connection:
                connection.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?)",
                                       [(key, _encode(score), now) for key, score in scores.items()])
                (rows,) = connection.execute("SELECT COUNT(*) FROM scores").fetchone()
                if rows > self.max_rows:
                    drop = rows - self.max_rows + self.max_rows // 10
                    connection.execute("DELETE FROM scores WHERE key IN "
                                       "(SELECT key FROM scores ORDER BY used LIMIT ?)", (drop,))
        except (sqlite3.Error, OSError) as exc:
            log.warning("cannot write the score cache %s: %s", self.path, exc)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start: start + size]


class CachedScorer:
    """A Scorer in front of `scorer`: what `store` knows under `identity` is not recomputed.

    `computed` counts candidates the inner scorer was asked for, `reused` those answered from the store.
    """

    def __init__(self, scorer: Scorer, store: ScoreStore, identity: str) -> None:
        self.scorer = scorer
        self.store = store
        self.identity = identity
        self.computed = 0
        self.reused = 0
        self._known: dict[str, Score] = {}

    @property
    def calibration(self) -> Calibration:
        """The inner scorer's calibration (asked each time: a background load may change it)."""
        return getattr(self.scorer, "calibration", None) or IDENTITY

    def prefetch(self, candidates: Sequence[Candidate]) -> bool:
        """Look `candidates` up ahead of scoring; True (and the inner scorer started) when one is missing."""
        keys = [score_key(self.identity, c.render(evidence=True)) for c in candidates]
        wanted = [key for key in keys if key not in self._known]
        self._known.update(self.store.get_many(wanted) if wanted else {})
        missing = any(key not in self._known for key in keys)
        if missing:
            start = getattr(self.scorer, "start", None)
            if callable(start):
                start()
        return missing

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        """One Score per candidate, in order; only unseen texts reach the inner scorer, then the store."""
        keys = [score_key(self.identity, c.render(evidence=True)) for c in candidates]
        wanted = [key for key in dict.fromkeys(keys) if key not in self._known]
        self._known.update(self.store.get_many(wanted) if wanted else {})
        todo: dict[str, Candidate] = {}
        for key, candidate in zip(keys, candidates, strict=True):
            if key not in self._known:
                todo.setdefault(key, candidate)
        self.reused += len(keys) - len(todo)
        if todo:
            scores = self.scorer.score(list(todo.values()))
            self.computed += len(todo)
            fresh = dict(zip(todo, scores, strict=True))
            self.store.put_many(fresh)
            self._known.update(fresh)
        return [self._known[key] for key in keys]


class BackgroundScorer:
    """A Scorer whose model `load` runs on a thread from `start()`; `score` waits for it (rules run meanwhile)."""

    def __init__(self, load: Callable[[], Scorer], identity: str = "", calibration: Calibration = IDENTITY) -> None:
        self._load = load
        self.identity = identity
        """What its scores depend on (predictor.model_identity), for the score cache."""
        self._calibration = calibration
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._scorer: Scorer | None = None
        self._error: BaseException | None = None

    @property
    def calibration(self) -> Calibration:
        """The loaded model's calibration; before it loads, the one expected (from the adapter's manifest)."""
        loaded = getattr(self._scorer, "calibration", None) if self._scorer is not None else None
        return loaded or self._calibration

    @property
    def started(self) -> bool:
        """Whether the load has begun."""
        return self._thread is not None

    def start(self) -> None:
        """Begin loading (once)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="coderev-model-load", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._scorer = self._load()
        except BaseException as exc:  # handed to the caller of score()
            self._error = exc

    def loaded(self) -> Scorer:
        """The loaded scorer (waits for the load; raises what it raised)."""
        self.start()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._scorer is not None
        return self._scorer

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        """Scores from the loaded model."""
        return self.loaded().score(candidates)
