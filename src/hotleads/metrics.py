"""Classification metrics shared by ``train``, ``evaluate``, the benchmark and the report, and the
probability <-> log-odds maps every part of the package uses (ensembles, calibration, the linear
model, explanations)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

_EPS = 1e-6  # probabilities are clipped to [eps, 1 - eps] before the log-odds: a 0 or 1 has none


def logit(proba) -> np.ndarray:
    """Log-odds ``log(p / (1 - p))`` of probabilities clipped to ``[1e-6, 1 - 1e-6]``, same shape.

    Examples
    --------
    >>> logit([0.5, 0.9]).round(4)
    array([0.    , 2.1972])
    """
    clipped = np.clip(np.asarray(proba, dtype=float), _EPS, 1 - _EPS)
    return np.log(clipped / (1 - clipped))


def sigmoid(logits) -> np.ndarray:
    """Probabilities ``1 / (1 + exp(-z))``, same shape; no overflow warning for large ``|z|``.

    Examples
    --------
    >>> sigmoid([0.0, 2000.0])
    array([0.5, 1. ])
    """
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, dtype=float), -500, 500)))


def classification_metrics(y_true, proba, threshold: float) -> dict:
    """Accuracy, precision, recall, F1 (at ``threshold`` and at 0.5), PR-AUC, ROC-AUC and counts.

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.7], threshold=0.65)
    >>> m["f1"], m["confusion"]
    (0.5, {'tn': 1, 'fp': 1, 'fn': 1, 'tp': 1})
    """
    y_true, proba = np.asarray(y_true).astype(int), np.asarray(proba, dtype=float)
    predicted = (proba >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y_true, predicted, labels=[0, 1]).ravel()
    both_classes = len(np.unique(y_true)) == 2
    return {
        "rows": int(len(y_true)),
        "threshold": float(threshold),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "precision": float(precision_score(y_true, predicted, zero_division=0)),
        "recall": float(recall_score(y_true, predicted, zero_division=0)),
        "f1": float(f1_score(y_true, predicted, zero_division=0)),
        "f1_at_0_5": float(f1_score(y_true, (proba >= 0.5).astype(int), zero_division=0)),
        "pr_auc": float(average_precision_score(y_true, proba)) if both_classes else float("nan"),
        "roc_auc": float(roc_auc_score(y_true, proba)) if both_classes else float("nan"),
        "positive_rate": float(predicted.mean()),
        "base_rate": float(y_true.mean()),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }


def leaderboard(
    y_true, members: dict[str, tuple[np.ndarray, float]], final: tuple[str, np.ndarray, float], *, fit_seconds: dict[str, float] | None = None
) -> list[dict]:
    """The members-versus-final table: one row per member at its threshold, then the final predictor at its own.

    The one builder of this table, for the out-of-fold leaderboard of training and for a labelled
    table (``evaluate``, the report, ``run``). When the final predictor *is* a member (a single,
    uncalibrated model), its row takes that member's place instead of being added.

    Parameters
    ----------
    y_true : array of 0/1, shape (n_rows,)
    members : dict
        ``{name: (probabilities (n_rows,), threshold)}``.
    final : tuple
        ``(label, probabilities (n_rows,), threshold)`` of the final predictor.
    fit_seconds : dict, optional
        ``{name: seconds}``; the final row gets their sum.

    Returns
    -------
    list of dict
        :func:`classification_metrics` of each row plus ``model``, ``final`` (True on exactly one
        row) and, with ``fit_seconds``, ``fit_seconds``.

    Examples
    --------
    >>> y, p = np.array([0, 1, 1, 0]), np.array([0.2, 0.9, 0.6, 0.7])
    >>> [(row["model"], row["final"]) for row in leaderboard(y, {"gbdt": (p, 0.65)}, ("gbdt", p, 0.5))]
    [('gbdt', True)]
    """
    seconds = fit_seconds or {}

    def row(name: str, proba: np.ndarray, threshold: float, final: bool, fit: float | None) -> dict:
        extra = {} if fit is None else {"fit_seconds": round(fit, 2)}
        return {"model": name, "final": final, **classification_metrics(y_true, proba, threshold), **extra}

    rows = [row(name, proba, threshold, False, seconds.get(name)) for name, (proba, threshold) in members.items()]
    label, proba, threshold = final
    final_row = row(label, proba, threshold, True, sum(seconds.values()) if fit_seconds else None)
    replaced = [final_row if r["model"] == label else r for r in rows]
    return replaced if label in members else [*rows, final_row]
