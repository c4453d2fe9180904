"""Calibrated lead scores: a probability of 0.7 should mean about 70 % of such companies are hot.

Class weights and ensembling leave probabilities well ranked but mis-scaled. A one-dimensional
map fitted on out-of-fold probabilities fixes the scale: isotonic regression (a monotone step
function, flexible) or Platt scaling (a logistic curve on the log-odds, smooth and stable on
little data). The method is chosen by the Brier score of *nested* out-of-fold calibration: rows
of fold k are calibrated by a map fitted on the other folds, so the choice, and the threshold
tuned afterwards on the calibrated output, never see a map fitted on their own rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from .exceptions import ParameterError
from .folds import out_of_fold
from .metrics import logit, sigmoid

METHODS = ("isotonic", "platt")  # "auto" also keeps the raw scores ("none") when neither beats them
CHOICES = ("auto", *METHODS, "none")


@dataclass
class Calibrator:
    """A fitted monotone map from raw to calibrated probability; saved as JSON numbers."""

    method: str = "none"
    params: dict = field(default_factory=dict)

    def transform(self, proba) -> np.ndarray:
        """Calibrated probabilities, same shape as ``proba``."""
        proba = np.asarray(proba, dtype=float)
        if self.method == "isotonic":
            return np.interp(proba, self.params["x"], self.params["y"])
        if self.method == "platt":
            return sigmoid(self.params["slope"] * logit(proba) + self.params["intercept"])
        return proba

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        return cls(**data)


def fit_calibrator(method: str, y, proba) -> Calibrator:
    """Fit ``method`` (isotonic, platt or none) on labels and raw probabilities."""
    y, proba = np.asarray(y), np.asarray(proba, dtype=float)
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(proba, y)
        return Calibrator("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})
    if method == "platt":
        lr = LogisticRegression(C=1e4).fit(logit(proba)[:, None], y)
        return Calibrator("platt", {"slope": float(lr.coef_[0, 0]), "intercept": float(lr.intercept_[0])})
    return Calibrator()


def calibrate_oof(method: str, y, oof, folds) -> np.ndarray:
    """Nested out-of-fold calibration: each fold calibrated by a map fitted on the other folds."""
    y, oof = np.asarray(y), np.asarray(oof, dtype=float)

    def calibrate_fold(_k, train_rows, valid_rows):
        return fit_calibrator(method, y[train_rows], oof[train_rows]).transform(oof[valid_rows])

    return out_of_fold(folds, calibrate_fold, len(y))


def choose_calibration(choice: str, y, oof, folds) -> tuple[Calibrator, np.ndarray, dict]:
    """The calibrator for ``choice`` (``auto``: lowest nested OOF Brier), its nested OOF output and the evidence.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> raw = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, 400), 0, 1)  # ranked well, scaled badly
    >>> folds = [(np.arange(400) % 4 != k, np.arange(400) % 4 == k) for k in range(4)]
    >>> calibrator, calibrated, report = choose_calibration("auto", y, raw, folds)
    >>> report["brier_calibrated"] < report["brier_uncalibrated"]
    True
    """
    if choice not in CHOICES:
        raise ParameterError(f"--calibration must be one of {', '.join(CHOICES)}; got '{choice}'.")
    y, oof = np.asarray(y), np.asarray(oof, dtype=float)
    methods = (*METHODS, "none") if choice == "auto" else (choice,)
    outputs = {method: oof if method == "none" else calibrate_oof(method, y, oof, folds) for method in methods}
    candidates = {method: float(brier_score_loss(y, output)) for method, output in outputs.items()}
    method = min(candidates, key=candidates.get)
    calibrated = outputs[method]
    report = {
        "method": method,
        "brier_uncalibrated": float(brier_score_loss(y, oof)),
        "brier_calibrated": float(brier_score_loss(y, calibrated)),
        "candidates": candidates,
    }
    return fit_calibrator(method, y, oof), calibrated, report
