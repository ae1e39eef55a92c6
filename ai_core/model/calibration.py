"""Calibration: confidence means probability. P(vulnerable) = 1 - P(safe) is rescaled either on its logit,
sigmoid(scale * logit(p) + bias) (a temperature 1/scale with a bias), or by an isotonic (monotone, piecewise
linear) map; fitted on the validation split's rule candidates, its expected calibration error measured on
held-out data (the other half of the validation families, or the test split)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from ai_core.findings import SAFE_LABEL
from ai_core.model.adapters import Adapter, write_manifest
from ai_core.model.metrics import expected_calibration_error
from ai_core.model.minilm import LABELS

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
    points: tuple[tuple[float, float], ...] = ()
    """Isotonic calibration: (raw P(vulnerable), calibrated) knots, interpolated linearly; empty: Platt."""

    @property
    def temperature(self) -> float:
        """The equivalent temperature on the vulnerable-vs-safe logit."""
        return 1.0 / self.scale

    def vulnerable(self, p: float) -> float:
        """P(vulnerable) after calibration."""
        if self.points:
            return interpolate(self.points, p)
        if self.scale == 1.0 and self.bias == 0.0:
            return p
        z = self.scale * _logit(p) + self.bias
        return 1.0 / (1.0 + math.exp(-z))


IDENTITY = Calibration()


def of_manifest(manifest: dict[str, Any]) -> Calibration:
    """The calibration recorded in an adapter manifest (none: the identity)."""
    data = manifest.get("calibration") or {}
    known = {k: v for k, v in data.items() if k in Calibration.__dataclass_fields__}
    if "points" in known:
        known["points"] = tuple((float(x), float(y)) for x, y in known["points"])
    try:
        found = Calibration(**known)
    except TypeError:
        return IDENTITY
    return found if found.scale > 0 else IDENTITY


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


def vulnerable_probability(logits: Any, labels: Sequence[str] = LABELS) -> list[float]:
    """1 - P(safe) of each row of `logits` (over `labels`, the model's)."""
    safe = list(labels).index(SAFE_LABEL)
    return [1.0 - row[safe] for row in logits.softmax(-1).tolist()]


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


def isotonic(probabilities: Sequence[float], outcomes: Sequence[bool]) -> tuple[tuple[float, float], ...]:
    """Pool-adjacent-violators: the monotone non-decreasing map of P(vulnerable) to the observed rate, as knots
    (each pooled block's mean raw probability, its rate), closed at (0, first rate) and (1, last rate)."""
    blocks: list[list[float]] = []  # [sum of raw p, sum of outcomes, count]
    for p, y in sorted(zip(probabilities, outcomes, strict=True)):
        blocks.append([p, float(y), 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=True)]
    if not blocks:
        return ()
    knots = [(round(s / n, 6), round(t / n, 6)) for s, t, n in blocks]
    return ((0.0, knots[0][1]), *knots, (1.0, knots[-1][1]))


def interpolate(points: Sequence[tuple[float, float]], p: float) -> float:
    """The piecewise-linear map through `points` (sorted by x) at `p`."""
    if p <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if p <= x1:
            return y0 if x1 <= x0 else y0 + (y1 - y0) * (p - x0) / (x1 - x0)
    return points[-1][1]


def fit_best(fit_p: Sequence[float], fit_y: Sequence[bool], test_p: Sequence[float], test_y: Sequence[bool],
             target: str) -> Calibration:
    """Platt and isotonic fitted on (fit_p, fit_y); the one with the lower ECE on (test_p, test_y)."""
    scale, bias = fit(fit_p, fit_y)
    before = expected_calibration_error(list(test_p), list(test_y), BINS)
    platt = Calibration(scale, bias, before, 0.0, len(fit_p), len(test_p), target=target)
    platt = replace(platt, ece_after=expected_calibration_error([platt.vulnerable(p) for p in test_p], list(test_y),
                                                                BINS))
    knots = isotonic(fit_p, fit_y)
    iso = Calibration(1.0, 0.0, before, 0.0, len(fit_p), len(test_p),
                      "isotonic: piecewise-linear monotone map of P(vulnerable)", target, knots)
    iso = replace(iso, ece_after=expected_calibration_error([iso.vulnerable(p) for p in test_p], list(test_y), BINS))
    return iso if knots and iso.ece_after < platt.ece_after else platt


def split_by_family(families: Sequence[str]) -> tuple[list[int], list[int]]:
    """Indices of (fit, test): every other family (sorted by name) in each, so no family is in both."""
    names = sorted(set(families))
    fit_names = set(names[::2])
    chosen = [i for i, f in enumerate(families) if f in fit_names]
    return chosen, [i for i, f in enumerate(families) if f not in fit_names]


def calibrate(logits: Any, labels: Sequence[str], families: Sequence[str],
              model_labels: Sequence[str] = LABELS) -> Calibration:
    """Fit on half the families of a labelled set; ECE (10 bins) of P(vulnerable) before/after on the other half."""
    outcomes = [label != SAFE_LABEL for label in labels]
    probabilities = vulnerable_probability(logits, model_labels)
    fit_idx, test_idx = split_by_family(families)
    scale, bias = fit([probabilities[i] for i in fit_idx], [outcomes[i] for i in fit_idx])
    fitted = Calibration(scale, bias)
    truth = [outcomes[i] for i in test_idx]
    before = expected_calibration_error([probabilities[i] for i in test_idx], truth, BINS)
    after = expected_calibration_error([fitted.vulnerable(probabilities[i]) for i in test_idx], truth, BINS)
    return Calibration(scale, bias, before, after, len(fit_idx), len(test_idx))


def record(adapter: Adapter, calibration: Calibration) -> None:
    """Store `calibration` in the adapter's manifest (read back by of_manifest)."""
    write_manifest(adapter, {**adapter.manifest, "calibration": {**asdict(calibration),
                                                                 "points": [list(p) for p in calibration.points]}})
