"""Choosing the decision threshold from predictions the model did not fit on.

Balanced class weights move the F1-optimal threshold well away from 0.5 (above it, on the
challenge data), so a fixed cut-off such as the seed's 0.3 costs F1. The threshold is always
chosen on out-of-fold probabilities of the training data, never on the rows being scored.

Besides maximum F1, a sales team may need a threshold it can act on: ``precision>=0.9`` (the
highest recall whose precision is at least 0.9: few wasted calls) or ``recall>=0.8`` (the
highest precision that still finds 80 % of the hot leads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import precision_recall_curve

from .exceptions import ParameterError

REPORTED_OBJECTIVES = ("f1", "precision>=0.9", "recall>=0.8")
_PATTERN = re.compile(r"^(precision|recall)\s*>=\s*([0-9]*\.?[0-9]+)$")


@dataclass(frozen=True)
class Objective:
    """What the threshold optimises: ``f1``, or the best recall/precision under a floor on the other."""

    metric: str  # "f1", "precision" or "recall": the quantity that must reach ``floor``
    floor: float | None = None

    @property
    def name(self) -> str:
        return "f1" if self.metric == "f1" else f"{self.metric}>={self.floor:g}"


def parse_objective(text: str) -> Objective:
    """Read ``f1``, ``precision>=P`` or ``recall>=R`` (0 < P, R < 1).

    Examples
    --------
    >>> parse_objective("precision>=0.9")
    Objective(metric='precision', floor=0.9)
    """
    cleaned = text.strip().lower()
    if cleaned == "f1":
        return Objective("f1")
    match = _PATTERN.match(cleaned)
    floor = float(match.group(2)) if match else None
    if floor is None or not 0.0 < floor < 1.0:
        raise ParameterError(f"--objective must be f1, precision>=P or recall>=R with 0 < P, R < 1 (e.g. precision>=0.9); got '{text}'.")
    return Objective(match.group(1), floor)


def f1_optimal_threshold(y_true, proba) -> tuple[float, float]:
    """Threshold that maximises F1 when ``proba >= threshold`` is called positive, and that F1.

    The threshold sits halfway between the chosen score and the next lower distinct score, so
    unseen rows that fall between the two observed scores are treated evenly.

    Examples
    --------
    >>> threshold, f1 = f1_optimal_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> round(threshold, 3), round(f1, 3)
    (0.225, 0.8)
    """
    best = objective_threshold(y_true, proba, Objective("f1"))
    return best["threshold"], best["f1"]


def objective_threshold(y_true, proba, objective: Objective) -> dict:
    """The threshold that meets ``objective`` on out-of-fold data, with its precision, recall and F1.

    ``attainable`` is False when no threshold reaches the floor; the threshold is then None.

    Examples
    --------
    >>> y, p = [0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.8, 0.9]
    >>> objective_threshold(y, p, parse_objective("precision>=0.9"))["recall"]
    0.6666666666666666
    """
    precision, recall, thresholds = _curve(y_true, proba)
    precision, recall = precision[:-1], recall[:-1]  # the last point is "nothing positive"
    if objective.metric == "f1":
        candidates = np.arange(len(thresholds))
        best = candidates[np.argmax(_f1(precision, recall))]
    else:
        achieved, other = (precision, recall) if objective.metric == "precision" else (recall, precision)
        candidates = np.flatnonzero(achieved >= objective.floor)
        if not len(candidates):
            return {"objective": objective.name, "attainable": False, "threshold": None, "precision": None, "recall": None, "f1": None}
        best = candidates[np.lexsort((-achieved[candidates], -other[candidates]))[0]]
    return {
        "objective": objective.name, "attainable": True, "threshold": _midpoint(thresholds, best),
        "precision": float(precision[best]), "recall": float(recall[best]), "f1": float(_f1(precision[best], recall[best])),
    }


def _curve(y_true, proba) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return precision_recall_curve(np.asarray(y_true), np.asarray(proba, dtype=float))


def _f1(precision, recall):
    precision, recall = np.asarray(precision, dtype=float), np.asarray(recall, dtype=float)
    total = precision + recall
    return np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)


def _midpoint(thresholds: np.ndarray, index: int) -> float:
    lower = thresholds[index - 1] if index > 0 else max(thresholds[index] - 1e-6, 0.0)
    return float((thresholds[index] + lower) / 2)
