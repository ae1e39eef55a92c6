"""The model in the loop: a Scorer that judges candidates in batches, caching results by content hash."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.config import Settings
from ai_core.model.adapters import Adapter, AdapterError, AdapterRegistry
from ai_core.model.calibration import Calibration, of_manifest
from ai_core.model.candidates import Candidate
from ai_core.model.classifier import logits
from ai_core.model.minilm import set_threads
from ai_core.model.scoring import Score

log = logging.getLogger(__name__)

BATCH_SIZE = 32
CACHE_SIZE = 8192
INFERENCE_THREADS = 1
"""torch threads for scoring (CODEREV_THREADS overrides): one thread keeps latency steady on a busy machine,
where two threads fighting other processes for two cores made single candidates 10x slower here."""


class ModelUnavailable(Exception):
    """The model cannot be loaded (no adapter, unreadable weights…); the caller falls back to rules."""


@dataclass(frozen=True)
class ModelInfo:
    """What is loaded: adapter version, weights variant, how long loading took."""

    adapter: str
    variant: str
    load_seconds: float
    path: str


class ModelScorer:
    """Implements the Scorer protocol: batches, a content-hash LRU cache, thread-safe."""

    def __init__(self, model: Any, adapter: Adapter, variant: str, load_seconds: float = 0.0,
                 batch_size: int = BATCH_SIZE, cache_size: int = CACHE_SIZE) -> None:
        self.model = model
        self.adapter = adapter
        self.info = ModelInfo(adapter.version, variant, round(load_seconds, 2), str(adapter.path))
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.max_length = adapter.max_length
        self.calibration = calibration_for(adapter, variant)
        """Applied to rule findings' confidence by scoring (scores themselves stay raw)."""
        self.identity = model_identity(adapter, variant)
        self._cache: OrderedDict[str, Score] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        """One Score per candidate, in order (cached ones are not recomputed)."""
        return self.score_texts([c.render(self.adapter.evidence) for c in candidates])

    def score_texts(self, texts: Sequence[str]) -> list[Score]:
        """Scores for already rendered model inputs."""
        keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
        with self._lock:
            results: dict[str, Score] = {}
            missing: dict[str, str] = {}
            for key, text in zip(keys, texts, strict=True):
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    results[key] = cached
                    self.hits += 1
                elif key not in missing:
                    missing[key] = text
                    self.misses += 1
            if missing:
                todo = list(missing.items())
                probabilities = logits(self.model, [t for _, t in todo], self.max_length,
                                       self.batch_size).softmax(-1).tolist()
                labels = self.adapter.labels
                for (key, _), row in zip(todo, probabilities, strict=True):
                    best = max(range(len(labels)), key=row.__getitem__)
                    score = Score(labels[best], round(row[best], 4),
                                  {label: round(p, 4) for label, p in zip(labels, row, strict=True)})
                    results[key] = score
                    self._cache[key] = score
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            return [results[key] for key in keys]


def calibration_for(adapter: Adapter, variant: str) -> Calibration:
    """The calibration of what runs: the student's own, else the adapter's (one for all its weights variants)."""
    from ai_core.model.student import STUDENT, student_calibration

    return student_calibration(adapter) if variant == STUDENT else of_manifest(adapter.manifest)


def model_identity(adapter: Adapter, variant: str) -> str:
    """What a (raw) score depends on besides its input: adapter version and weights, weights variant."""
    from ai_core.model.quantize import adapter_digest

    return f"{adapter.version}:{adapter_digest(adapter)}:{variant}"


def load_scorer(settings: Settings | None = None, workspace: Path | None = None, variant: str = "",
                adapter: str = "") -> ModelScorer:
    """The scorer for a workspace: its active (or configured) adapter in the configured variant."""
    from ai_core.model.quantize import VARIANTS, choose_variant, load_for_scoring

    settings = settings or Settings()
    started = time.perf_counter()
    registry = AdapterRegistry.for_workspace(workspace, settings.adapter_registry)
    try:
        chosen = registry.resolve(adapter or settings.adapter)
    except AdapterError as exc:
        raise ModelUnavailable(str(exc)) from exc
    set_threads(default=INFERENCE_THREADS)
    wanted = variant or settings.model_variant
    try:
        if wanted == "auto":
            wanted = choose_variant(chosen)
        if wanted not in VARIANTS:
            raise ModelUnavailable(f"unknown model variant {wanted!r}")
        model = load_for_scoring(chosen, wanted)
    except ModelUnavailable:
        raise
    except Exception as exc:
        raise ModelUnavailable(f"cannot load adapter {chosen.version} ({wanted}): {exc}") from exc
    _release_memory()
    seconds = time.perf_counter() - started
    log.info("scorer built: adapter %s, %s, %.1f s", chosen.version, wanted, seconds)
    return ModelScorer(model, chosen, wanted, seconds)


def _release_memory() -> None:
    """Hand memory freed while loading (base copies, merged LoRA factors) back to the OS (glibc only)."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
