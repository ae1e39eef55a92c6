"""Stage timings without global state: the caller passes an observer, `timed` reports to it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

StageObserver = Callable[[str, float], None]
"""Called with a stage name ("parse", "analysis", "model", "index", "fixes") and the seconds it took."""

STAGES = ("parse", "analysis", "model", "index", "fixes")


@contextmanager
def timed(observer: StageObserver | None, stage: str) -> Iterator[None]:
    """Time the block and report it to `observer` (nothing when there is none); reported on errors too."""
    if observer is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        observer(stage, time.perf_counter() - started)


def timed_call(observer: StageObserver | None, stage: str, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, timed as `stage`."""
    with timed(observer, stage):
        return function(*args)
