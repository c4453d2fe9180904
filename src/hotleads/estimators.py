"""The tree and linear classifiers, as scikit-learn estimators that save without pickle.

Every model of the registry reads the same input: a float matrix from
:class:`hotleads.features.Preprocessor`, whose ``categorical_features`` columns hold integer
category codes (NaN = unknown) and whose other columns are numeric with NaN for missing values.
Each one weights the classes with ``compute_class_weight("balanced")`` and saves itself as files
in the libraries' own formats plus JSON (``save``/``load``), so a bundle never unpickles code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


def default_n_jobs() -> int:
    """Cores this process may use (respects CPU affinity and container limits)."""
    return len(os.sched_getaffinity(0))


class TabularClassifier(ClassifierMixin, BaseEstimator):
    """Shared input checks and label handling; subclasses implement ``_fit`` and ``_positive_proba``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y):
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y)
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(f"{type(self).__name__} is a binary classifier; y has {len(self.classes_)} class(es): {self.classes_.tolist()}.")
        self._fit(X, y_encoded, compute_sample_weight("balanced", y_encoded))
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        positive = self._positive_proba(X)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def _meta(self, files: list[str], **extra) -> dict:
        return {
            "class": type(self).__name__,
            "params": self.get_params(),
            "classes": self.classes_.tolist(),
            "n_features_in": int(self.n_features_in_),
            "files": files,
            **extra,
        }

    @classmethod
    def _restore(cls, meta: dict):
        model = cls(**meta["params"])
        model.classes_ = np.asarray(meta["classes"])
        model.n_features_in_ = meta["n_features_in"]
        return model


class GBDTClassifier(TabularClassifier):
    """LightGBM gradient-boosted trees with balanced class weights and native categoricals.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> GBDTClassifier(n_estimators=20).fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        *,
        categorical_features=(),
        n_estimators: int = 200,
        learning_rate: float = 0.1,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        random_state: int = 0,
        n_jobs: int | None = None,
    ):
        self.categorical_features = categorical_features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _lgb_params(self) -> dict:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_jobs or default_n_jobs(),
            "verbosity": -1,
        }

    def _fit(self, X, y, sample_weight):
        categorical = [i for i in self.categorical_features if i < X.shape[1]]
        data = lgb.Dataset(X, y, weight=sample_weight, categorical_feature=categorical, free_raw_data=True)
        self.booster_ = lgb.train(self._lgb_params(), data, num_boost_round=self.n_estimators)

    def _positive_proba(self, X):
        return self.booster_.predict(X, num_threads=self.n_jobs or default_n_jobs())

    def save(self, directory: Path, stem: str) -> dict:
        """Write the booster in LightGBM's text format; return JSON-able meta."""
        name = f"{stem}.lgb.txt"
        self.booster_.save_model(Path(directory) / name)
        return self._meta([name], lightgbm=lgb.__version__)

    @classmethod
    def load(cls, directory: Path, meta: dict, **_) -> GBDTClassifier:
        model = cls._restore(meta)
        model.booster_ = lgb.Booster(model_file=str(Path(directory) / meta["files"][0]))
        return model


class LogRegClassifier(TabularClassifier):
    """Logistic regression on standardised numerics and one-hot categoricals, balanced class weights.

    Missing numerics are imputed with the training median plus a missing-indicator column;
    unknown categories get no one-hot column. Fitted with scikit-learn, stored as plain arrays.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> LogRegClassifier().fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(self, *, categorical_features=(), C: float = 1.0, max_iter: int = 2000, random_state: int = 0):
        self.categorical_features = categorical_features
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(self, X, y, sample_weight):
        categorical = [i for i in self.categorical_features if i < X.shape[1]]
        self.numeric_ = [i for i in range(X.shape[1]) if i not in categorical]
        numeric = X[:, self.numeric_]
        self.medians_ = np.nan_to_num(np.nanmedian(numeric, axis=0)) if numeric.size else np.zeros(0)
        self.missing_ = [i for i, column in zip(self.numeric_, numeric.T) if np.isnan(column).any()]
        self.levels_ = {i: np.unique(X[~np.isnan(X[:, i]), i]).tolist() for i in categorical}
        self.mean_, self.scale_ = np.zeros(0), np.zeros(0)
        design = self._design(X, fitting=True)
        model = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state)
        model.fit(design, y, sample_weight=sample_weight)
        self.coef_, self.intercept_ = model.coef_[0], float(model.intercept_[0])

    def _design(self, X, *, fitting: bool = False) -> np.ndarray:
        numeric = X[:, self.numeric_]
        filled = np.where(np.isnan(numeric), self.medians_, numeric)
        if fitting:
            self.mean_, self.scale_ = filled.mean(axis=0), filled.std(axis=0)
            self.scale_[self.scale_ == 0] = 1.0
        parts = [(filled - self.mean_) / self.scale_]
        parts += [np.isnan(X[:, [i]]).astype(float) for i in self.missing_]
        parts += [(X[:, [i]] == np.asarray(levels)).astype(float) for i, levels in self.levels_.items()]
        return np.hstack(parts) if parts else np.zeros((len(X), 0))

    def _positive_proba(self, X):
        logits = self._design(X) @ self.coef_ + self.intercept_
        return 1.0 / (1.0 + np.exp(-logits))

    def save(self, directory: Path, stem: str) -> dict:
        """Write the fitted arrays as JSON; return JSON-able meta."""
        name = f"{stem}.json"
        state = {
            "numeric": self.numeric_, "medians": self.medians_.tolist(), "missing": self.missing_,
            "levels": {str(i): levels for i, levels in self.levels_.items()},
            "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(), "intercept": self.intercept_,
        }
        (Path(directory) / name).write_text(json.dumps(state))
        return self._meta([name])

    @classmethod
    def load(cls, directory: Path, meta: dict, **_) -> LogRegClassifier:
        model = cls._restore(meta)
        state = json.loads((Path(directory) / meta["files"][0]).read_text())
        model.numeric_, model.missing_ = state["numeric"], state["missing"]
        model.medians_, model.mean_, model.scale_ = (np.asarray(state[k], dtype=float) for k in ("medians", "mean", "scale"))
        model.levels_ = {int(i): levels for i, levels in state["levels"].items()}
        model.coef_, model.intercept_ = np.asarray(state["coef"], dtype=float), float(state["intercept"])
        return model
