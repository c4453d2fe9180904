"""Classification metrics shared by ``train``, ``evaluate``, the benchmark and the report."""

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
