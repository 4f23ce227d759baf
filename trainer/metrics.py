"""Evaluation metrics from scores `(clips, labels)` and 0/1 (or soft) targets."""

from __future__ import annotations

import warnings

import numpy as np


def accuracy(scores: np.ndarray, targets: np.ndarray) -> float:
    """Top-1 accuracy against each clip's (first) target label."""
    if len(scores) == 0:
        return float("nan")
    return float(np.mean(scores.argmax(1) == targets.argmax(1)))


def per_class_ap(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Average precision per label; NaN for labels without a positive clip."""
    from sklearn.metrics import average_precision_score

    out = np.full(scores.shape[1], np.nan)
    for k in range(scores.shape[1]):
        positives = targets[:, k] > 0.5
        if positives.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[k] = average_precision_score(positives, scores[:, k])
    return out


def mean_ap(ap: np.ndarray) -> float:
    """mAP over the labels that have positives (the reference's `mAP`)."""
    valid = ap[~np.isnan(ap)]
    return float(valid.mean()) if len(valid) else float("nan")


def confusion(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """`(true, predicted)` counts of argmax decisions, int64 `(labels, labels)`."""
    k = scores.shape[1]
    m = np.zeros((k, k), np.int64)
    np.add.at(m, (targets.argmax(1), scores.argmax(1)), 1)
    return m


def evaluate(scores: np.ndarray, targets: np.ndarray, labels: list[str]) -> dict:
    """All metrics as JSON-friendly values (NaN becomes None)."""
    ap = per_class_ap(scores, targets)

    def num(v: float) -> float | None:
        return None if np.isnan(v) else round(float(v), 6)

    return {
        "accuracy": num(accuracy(scores, targets)),
        "mAP": num(mean_ap(ap)),
        "ap": {name: num(v) for name, v in zip(labels, ap, strict=True)},
        "confusion": confusion(scores, targets).tolist(),
        "clips": int(len(scores)),
    }
