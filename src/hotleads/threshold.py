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


THRESHOLD_BOOTSTRAPS = 50
BAGGED_UP_TO_ROWS = 100_000  # beyond, the best cut's noise is small and 50 resamples would cost seconds


def bagged_f1_threshold(y_true, proba, *, seed: int, n_bootstraps: int = THRESHOLD_BOOTSTRAPS) -> float:
    """The median of the F1-optimal thresholds (:func:`f1_optimal_threshold`) of ``n_bootstraps`` bootstrap resamples of the rows.

    Bagging (Breiman, 1996, "Bagging predictors") applied to the threshold. Near its top the F1
    curve is flat, so on a few hundred positives the single best cut lands anywhere along that
    top, by the luck of a few rows; the median over resamples sits in its middle
    (``bench/threshold_rules.py`` measures what it gains on new rows). Over
    :data:`BAGGED_UP_TO_ROWS` rows, the rows' own best cut.

    Parameters
    ----------
    y_true : array of 0/1, shape (n_rows,)
    proba : array of float, shape (n_rows,)
    seed : int
        Draws the resamples.

    Examples
    --------
    >>> y = [0, 0, 1, 0, 1, 1, 0, 1]
    >>> round(bagged_f1_threshold(y, [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.75, 0.9], seed=0), 3)
    0.275
    """
    y, p = np.asarray(y_true, dtype=np.int64), np.asarray(proba, dtype=float)
    if len(y) > BAGGED_UP_TO_ROWS:
        return f1_optimal_threshold(y, p)[0]
    rng = np.random.default_rng(seed)
    drawn = []
    for _ in range(n_bootstraps):
        rows = rng.integers(0, len(y), len(y))
        if 0 < y[rows].sum() < len(rows):  # a resample with one class has no F1 to maximise
            drawn.append(f1_optimal_threshold(y[rows], p[rows])[0])
    return float(np.median(drawn)) if drawn else f1_optimal_threshold(y, p)[0]


def objective_threshold(y_true, proba, objective: Objective, *, seed: int | None = None) -> dict:
    """The threshold that meets ``objective`` on out-of-fold data, with its precision, recall and F1.

    ``attainable`` is False when no threshold reaches the floor; the threshold is then None.
    ``seed``: for ``f1``, the threshold is :func:`bagged_f1_threshold` (drawn with ``seed``) and
    the figures are the data's at it; without a seed, the data's own best cut.

    Examples
    --------
    >>> y, p = [0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.8, 0.9]
    >>> objective_threshold(y, p, parse_objective("precision>=0.9"))["recall"]
    0.6666666666666666
    """
    if objective.metric == "f1" and seed is not None:
        threshold = bagged_f1_threshold(y_true, proba, seed=seed)
        at = sweep(y_true, proba, cuts=[threshold])
        return {"objective": "f1", "attainable": True, "threshold": threshold, **{key: float(at[key][0]) for key in ("precision", "recall", "f1")}}
    curve = sweep(y_true, proba)
    thresholds, precision, recall, f1 = curve["threshold"], curve["precision"], curve["recall"], curve["f1"]
    if objective.metric == "f1":
        best = int(np.argmax(f1))
    else:
        achieved, other = (precision, recall) if objective.metric == "precision" else (recall, precision)
        candidates = np.flatnonzero(achieved >= objective.floor)
        if not len(candidates):
            return {"objective": objective.name, "attainable": False, "threshold": None, "precision": None, "recall": None, "f1": None}
        best = candidates[np.lexsort((-achieved[candidates], -other[candidates]))[0]]
    return {
        "objective": objective.name,
        "attainable": True,
        "threshold": _midpoint(thresholds, best),
        "precision": float(precision[best]),
        "recall": float(recall[best]),
        "f1": float(f1[best]),
    }


def sweep(y_true, proba, cuts=None) -> dict[str, np.ndarray]:
    """Precision, recall and F1 when ``proba >= t`` is called positive, for every cut ``t``.

    The one "F1 at every threshold" of the package (thresholds, the report's curves, the Bayes F1
    of the built-in data). ``cuts`` defaults to each distinct score, ascending (as
    ``sklearn.metrics.precision_recall_curve`` gives them); any grid may be passed instead. One
    sort and a cumulative count: O(n log n) for any number of cuts. With no row called positive,
    precision is 1.

    Parameters
    ----------
    y_true : array of 0/1, shape (n_rows,)
    proba : array of float, shape (n_rows,)
    cuts : array of float, shape (n_cuts,), optional

    Returns
    -------
    dict
        ``threshold``, ``precision``, ``recall``, ``f1``, ``called`` (rows called positive) and
        ``tp``, each of shape (n_cuts,).

    Examples
    --------
    >>> curve = sweep([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> curve["threshold"].tolist(), curve["f1"].round(3).tolist()
    ([0.1, 0.35, 0.4, 0.8], [0.667, 0.8, 0.5, 0.667])
    """
    y, proba = np.asarray(y_true, dtype=np.int64), np.asarray(proba, dtype=float)
    order = np.argsort(proba, kind="stable")
    positives_below = np.r_[0, np.cumsum(y[order])]  # positives among the k lowest scores
    cuts = np.unique(proba) if cuts is None else np.asarray(cuts, dtype=float)
    below = np.searchsorted(proba[order], cuts, side="left")  # rows scored < t
    called = len(proba) - below
    tp = positives_below[-1] - positives_below[below]
    precision = np.divide(tp, called, out=np.ones(len(cuts)), where=called > 0)
    recall = tp / max(int(positives_below[-1]), 1)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(len(cuts)), where=total > 0)
    return {"threshold": cuts, "precision": precision, "recall": recall, "f1": f1, "called": called, "tp": tp}


def _midpoint(thresholds: np.ndarray, index: int) -> float:
    lower = thresholds[index - 1] if index > 0 else max(thresholds[index] - 1e-6, 0.0)
    return float((thresholds[index] + lower) / 2)
