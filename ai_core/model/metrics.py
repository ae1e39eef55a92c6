"""Classification metrics: per-class precision/recall/F1 and macro F1, without extra dependencies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall, F1 and support of one label."""

    precision: float
    recall: float
    f1: float
    support: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def per_class(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, ClassMetrics]:
    """Metrics for each label in `labels`."""
    out: dict[str, ClassMetrics] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        out[label] = ClassMetrics(round(precision, 4), round(recall, 4), round(_f1(precision, recall), 4), tp + fn)
    return out


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in `gold`."""
    metrics = per_class(gold, predicted, labels)
    present = [m.f1 for label, m in metrics.items() if m.support]
    return round(sum(present) / len(present), 4) if present else 0.0


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of exact matches."""
    return round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold), 4) if gold else 0.0


def binary_f1(gold: Sequence[str], predicted: Sequence[str], safe: str = "safe") -> float:
    """F1 of 'vulnerable (any class)' vs safe."""
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != safe and p != safe)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == safe and p != safe)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g != safe and p == safe)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return round(_f1(precision, recall), 4)


def report(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, object]:
    """A JSON-ready summary: macro F1, accuracy, binary F1 and per-class figures."""
    return {
        "macro_f1": macro_f1(gold, predicted, labels),
        "accuracy": accuracy(gold, predicted),
        "binary_f1": binary_f1(gold, predicted),
        "per_class": {label: m.__dict__ for label, m in per_class(gold, predicted, labels).items() if m.support},
        "examples": len(gold),
    }


def expected_calibration_error(confidences: Sequence[float], outcomes: Sequence[bool], bins: int = 10) -> float:
    """ECE: the support-weighted gap between mean confidence and the share of true outcomes, over equal-width bins."""
    if not confidences:
        return 0.0
    totals = [[0, 0.0, 0] for _ in range(bins)]  # count, sum of confidence, true outcomes
    for p, true in zip(confidences, outcomes, strict=True):
        row = totals[min(bins - 1, int(p * bins))]
        row[0] += 1
        row[1] += p
        row[2] += bool(true)
    return round(sum(abs(s - t) for n, s, t in totals if n) / len(confidences), 4)


def roc_auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Probability that a random positive scores above a random negative (ties count half); nan without both."""
    pos = [s for s, y in zip(scores, outcomes, strict=True) if y]
    neg = [s for s, y in zip(scores, outcomes, strict=True) if not y]
    if not pos or not neg:
        return float("nan")
    ranked = sorted((s, y) for s, y in zip(scores, outcomes, strict=True))
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # average 1-based rank of the tie block
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
