"""Combining the members' probabilities: mean, quality-weighted mean, stacking, or the best one.

Combiners are fitted on the members' out-of-fold probabilities. The ensemble's own out-of-fold
output, on which its threshold is tuned, is nested: rows of fold *k* are combined with weights
(or a stacker) fitted on the other folds only, so the weights never saw the rows they score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from .folds import out_of_fold
from .metrics import logit, sigmoid
from .threshold import f1_optimal_threshold

METHODS = ("mean", "weighted", "stack", "best")
WEIGHT_TEMPERATURE = 0.01  # a member 0.01 PR-AUC behind the best gets e^-1 of its weight


@dataclass
class Ensemble:
    """A fitted combination of named members' positive-class probabilities."""

    method: str
    members: list[str]
    weights: list[float]
    intercept: float = 0.0

    def combine(self, probas: np.ndarray) -> np.ndarray:
        """(n_rows, n_members) member probabilities -> (n_rows,) ensemble probability."""
        if self.method == "stack":
            return sigmoid(logit(probas) @ np.asarray(self.weights) + self.intercept)
        return probas @ np.asarray(self.weights)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Ensemble:
        return cls(**data)


def fit_ensemble(method: str, members: list[str], oof: np.ndarray, y: np.ndarray, *, seed: int = 0) -> Ensemble:
    """Fit the combiner ``method`` on out-of-fold member probabilities ``oof`` (n_rows, n_members)."""
    if method == "mean":
        return Ensemble(method, members, [1.0 / len(members)] * len(members))
    if method == "stack":
        stacker = LogisticRegression(C=1.0, random_state=seed).fit(logit(oof), y)
        return Ensemble(method, members, stacker.coef_[0].tolist(), float(stacker.intercept_[0]))
    quality = np.array([_quality(method, y, oof[:, j]) for j in range(oof.shape[1])])
    if method == "best":
        weights = (np.arange(len(members)) == np.argmax(quality)).astype(float)
    else:
        weights = np.exp((quality - quality.max()) / WEIGHT_TEMPERATURE)
    return Ensemble(method, members, (weights / weights.sum()).tolist())


def nested_oof(method: str, members: list[str], oof: np.ndarray, y: np.ndarray, folds: list, *, seed: int = 0) -> np.ndarray:
    """Ensemble out-of-fold probabilities: each fold combined by a combiner fitted on the other folds."""

    def combine_fold(_k, train_rows, valid_rows):
        return fit_ensemble(method, members, oof[train_rows], y[train_rows], seed=seed).combine(oof[valid_rows])

    return out_of_fold(folds, combine_fold, len(y))


def _quality(method: str, y: np.ndarray, proba: np.ndarray) -> float:
    if method == "best":
        return f1_optimal_threshold(y, proba)[1]
    return float(average_precision_score(y, proba))
