"""Calibration: ECE computed right on known cases, isotonic and Platt fits, the better one chosen on held-out data."""

from __future__ import annotations

import random

import pytest

from ai_core.model.calibration import Calibration, fit_best, interpolate, isotonic, of_manifest
from ai_core.model.metrics import expected_calibration_error


def test_ece_of_a_perfectly_calibrated_bin_is_zero():
    assert expected_calibration_error([0.9] * 10, [True] * 9 + [False]) == pytest.approx(0.0)


def test_ece_is_the_gap_between_confidence_and_accuracy():
    # one bin: confidence 0.8, accuracy 0.5 -> 0.3; two bins weighted by support
    assert expected_calibration_error([0.8] * 10, [True] * 5 + [False] * 5) == pytest.approx(0.3)
    assert expected_calibration_error([0.15] * 4 + [0.95] * 4, [False] * 4 + [True] * 2 + [False] * 2) \
        == pytest.approx((4 * 0.15 + 4 * 0.45) / 8)


def test_isotonic_knots_are_monotone_and_match_the_observed_rates():
    knots = isotonic([0.1, 0.2, 0.3, 0.4], [False, True, False, True])
    ys = [y for _, y in knots]
    assert ys == sorted(ys)
    assert interpolate(knots, 0.0) == pytest.approx(0.0) and interpolate(knots, 1.0) == pytest.approx(1.0)


def _overconfident(n: int, seed: int) -> tuple[list[float], list[bool]]:
    rng = random.Random(seed)
    p = [rng.random() for _ in range(n)]
    return p, [rng.random() < 0.2 + 0.4 * x for x in p]  # true rate 0.2..0.6 while the model says 0..1


def test_the_chosen_fit_lowers_the_held_out_error_and_reads_back_from_a_manifest():
    fit_p, fit_y = _overconfident(2000, 1)
    test_p, test_y = _overconfident(2000, 2)
    fitted = fit_best(fit_p, fit_y, test_p, test_y, "synthetic")
    assert fitted.ece_before > 0.1
    assert fitted.ece_after < 0.05
    manifest = {"calibration": {**fitted.__dict__, "points": [list(x) for x in fitted.points]}}
    again = of_manifest(manifest)
    assert again.vulnerable(0.7) == pytest.approx(fitted.vulnerable(0.7))


def test_the_identity_calibration_leaves_probabilities_alone():
    assert Calibration().vulnerable(0.37) == pytest.approx(0.37)
