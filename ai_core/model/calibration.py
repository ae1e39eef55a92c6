"""Calibration: one temperature on the classifier's logits, fitted on its validation split, so confidence means
probability. Fitted on half of the validation families, its expected calibration error measured on the other half."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ai_core.findings import SAFE_LABEL
from ai_core.model.adapters import MANIFEST_FILE, Adapter
from ai_core.model.metrics import expected_calibration_error
from ai_core.model.minilm import LABELS

SAFE_INDEX = LABELS.index(SAFE_LABEL)
GRID = tuple(round(math.exp(math.log(0.25) + i * (math.log(8.0) - math.log(0.25)) / 120), 4) for i in range(121))
"""Temperatures tried (0.25 .. 8, log-spaced)."""
BINS = 10


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and what it does: ECE (10 bins) of P(vulnerable) before and after, on held-out data."""

    temperature: float
    ece_before: float
    ece_after: float
    fit_examples: int
    test_examples: int
    method: str = "temperature"
    target: str = "P(vulnerable) = 1 - P(safe), validation split; fitted on half its families, ECE on the other"


def vulnerable_probability(logits: Any, temperature: float = 1.0) -> list[float]:
    """1 - P(safe) of each row of `logits` at `temperature`."""
    return [1.0 - row[SAFE_INDEX] for row in (logits / temperature).softmax(-1).tolist()]


def _nll(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    eps = 1e-6
    return -sum(math.log(max(eps, p if true else 1.0 - p)) for p, true in zip(probabilities, outcomes, strict=True))


def fit_temperature(logits: Any, outcomes: Sequence[bool]) -> float:
    """The grid temperature with the lowest log loss of P(vulnerable) against `outcomes` (True: vulnerable)."""
    return min(GRID, key=lambda t: _nll(vulnerable_probability(logits, t), outcomes))


def split_by_family(families: Sequence[str]) -> tuple[list[int], list[int]]:
    """Indices of (fit, test): every other family (sorted by name) in each, so no family is in both."""
    names = sorted(set(families))
    fit_names = set(names[::2])
    fit = [i for i, f in enumerate(families) if f in fit_names]
    return fit, [i for i, f in enumerate(families) if f not in fit_names]


def calibrate(logits: Any, labels: Sequence[str], families: Sequence[str]) -> Calibration:
    """Fit a temperature on half the families of a labelled set; measure ECE before/after on the other half."""
    outcomes = [label != SAFE_LABEL for label in labels]
    fit, test = split_by_family(families)
    temperature = fit_temperature(logits[fit], [outcomes[i] for i in fit])
    truth = [outcomes[i] for i in test]
    before = expected_calibration_error(vulnerable_probability(logits[test]), truth, BINS)
    after = expected_calibration_error(vulnerable_probability(logits[test], temperature), truth, BINS)
    return Calibration(temperature, before, after, len(fit), len(test))


def record(adapter: Adapter, calibration: Calibration) -> None:
    """Store `calibration` in the adapter's manifest (read back as Adapter.temperature)."""
    manifest = dict(adapter.manifest)
    manifest["calibration"] = asdict(calibration)
    (adapter.path / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n",
                                              encoding="utf-8")
    adapter.manifest.clear()
    adapter.manifest.update(manifest)
