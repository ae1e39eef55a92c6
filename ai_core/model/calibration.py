"""Calibration: confidence means probability. P(vulnerable) = 1 - P(safe) is rescaled on its logit,
sigmoid(scale * logit(p) + bias) (a temperature 1/scale with a bias), fitted on the validation split's rule
candidates; fitted on half of the validation families, its expected calibration error measured on the other half."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ai_core.findings import SAFE_LABEL
from ai_core.model.adapters import Adapter, write_manifest
from ai_core.model.metrics import expected_calibration_error
from ai_core.model.minilm import LABELS

SAFE_INDEX = LABELS.index(SAFE_LABEL)
SCALES = tuple(round(0.05 + 0.01 * i, 2) for i in range(296))
"""Scales tried: 0.05 .. 3 (a temperature of 20 .. 1/3)."""
BIASES = tuple(round(-3 + 0.05 * i, 2) for i in range(121))
BINS = 10
RULE_VIEWS = frozenset({"slice", "loop"})
"""Validation inputs rendered like rule candidates (function-level inputs are off by default)."""
_EPS = 1e-6


@dataclass(frozen=True)
class Calibration:
    """A fitted rescaling of P(vulnerable) and what it does: ECE (10 bins) before and after, on held-out data."""

    scale: float = 1.0
    bias: float = 0.0
    ece_before: float = 0.0
    ece_after: float = 0.0
    fit_examples: int = 0
    test_examples: int = 0
    method: str = "platt: sigmoid(scale * logit(P(vulnerable)) + bias)"
    target: str = "validation rule candidates; fitted on half their families, ECE on the other half"

    @property
    def temperature(self) -> float:
        """The equivalent temperature on the vulnerable-vs-safe logit."""
        return 1.0 / self.scale

    def vulnerable(self, p: float) -> float:
        """P(vulnerable) after calibration."""
        if self.scale == 1.0 and self.bias == 0.0:
            return p
        z = self.scale * _logit(p) + self.bias
        return 1.0 / (1.0 + math.exp(-z))


IDENTITY = Calibration()


def of_manifest(manifest: dict[str, Any]) -> Calibration:
    """The calibration recorded in an adapter manifest (none: the identity)."""
    data = manifest.get("calibration") or {}
    known = {k: v for k, v in data.items() if k in Calibration.__dataclass_fields__}
    try:
        found = Calibration(**known)
    except TypeError:
        return IDENTITY
    return found if found.scale > 0 else IDENTITY


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


def vulnerable_probability(logits: Any) -> list[float]:
    """1 - P(safe) of each row of `logits`."""
    return [1.0 - row[SAFE_INDEX] for row in logits.softmax(-1).tolist()]


def fit(probabilities: Sequence[float], outcomes: Sequence[bool]) -> tuple[float, float]:
    """The (scale, bias) of the grid with the lowest log loss of recalibrated P(vulnerable) against `outcomes`."""
    import torch

    z = torch.tensor([_logit(p) for p in probabilities], dtype=torch.float64)
    y = torch.tensor([float(o) for o in outcomes], dtype=torch.float64)
    scales = torch.tensor(SCALES, dtype=torch.float64)[:, None, None]
    biases = torch.tensor(BIASES, dtype=torch.float64)[None, :, None]
    q = torch.sigmoid(scales * z + biases).clamp(_EPS, 1 - _EPS)
    loss = -(y * q.log() + (1 - y) * (1 - q).log()).sum(-1)
    best = int(loss.argmin())
    return SCALES[best // len(BIASES)], BIASES[best % len(BIASES)]


def split_by_family(families: Sequence[str]) -> tuple[list[int], list[int]]:
    """Indices of (fit, test): every other family (sorted by name) in each, so no family is in both."""
    names = sorted(set(families))
    fit_names = set(names[::2])
    chosen = [i for i, f in enumerate(families) if f in fit_names]
    return chosen, [i for i, f in enumerate(families) if f not in fit_names]


def calibrate(logits: Any, labels: Sequence[str], families: Sequence[str]) -> Calibration:
    """Fit on half the families of a labelled set; ECE (10 bins) of P(vulnerable) before/after on the other half."""
    outcomes = [label != SAFE_LABEL for label in labels]
    probabilities = vulnerable_probability(logits)
    fit_idx, test_idx = split_by_family(families)
    scale, bias = fit([probabilities[i] for i in fit_idx], [outcomes[i] for i in fit_idx])
    fitted = Calibration(scale, bias)
    truth = [outcomes[i] for i in test_idx]
    before = expected_calibration_error([probabilities[i] for i in test_idx], truth, BINS)
    after = expected_calibration_error([fitted.vulnerable(probabilities[i]) for i in test_idx], truth, BINS)
    return Calibration(scale, bias, before, after, len(fit_idx), len(test_idx))


def record(adapter: Adapter, calibration: Calibration) -> None:
    """Store `calibration` in the adapter's manifest (read back by of_manifest)."""
    write_manifest(adapter, {**adapter.manifest, "calibration": asdict(calibration)})
