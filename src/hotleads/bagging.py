"""The k fold models of cross-fitting, scoring as one model (bagging).

Cross-fitting already trains one model per fold, each on the other folds' rows. Rather than
refit one more model on all rows, the saved predictor can average those k models: scoring then
uses exactly the models whose out-of-fold output chose the threshold, calibration and ensemble
weights, and the average of k models fitted on different rows has less variance than any one of
them. AutoGluon's bagged models do the same (Erickson et al., 2020, "AutoGluon-Tabular", section 3.3).

The fold models average in log-odds (the mean of their logits, then the logistic function): for
trees this is the mean of their raw scores, so TreeSHAP contributions of the bag are the mean of
each model's (:mod:`hotleads.explain`). On the four built-in families at 500-12,000 training
rows (``bench/bagging.py``, 3 seeds), the 5-fold bag of ``gbdt`` scored above a refit on all rows
in 13 of 16 cases (by up to 2.6 points of the Bayes F1; down by up to 1.9 in the others), and
``logreg``'s bag in 11 of 16 (from -0.6 to +1.2 points) (README, "Small tables").
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .base import LeadClassifier, positive_proba
from .folds import stratified_folds
from .metrics import logit, sigmoid
from .registry import MODELS, check_params, make_model, model_class

__all__ = ["BaggedClassifier"]


class BaggedClassifier(LeadClassifier):
    """``n_folds`` models of one kind, each fitted on all folds but one, averaged in log-odds.

    ``fit`` makes stratified folds and fits one ``model`` per fold, the scikit-learn way;
    training builds the bag from the fold models it has already fitted (:meth:`from_folds`), where
    each fold model may read its own subset of the columns (features discovered without that
    fold's labels).

    Parameters
    ----------
    model : str, default="gbdt"
        Registered model name (:data:`hotleads.registry.MODELS`).
    params : dict or None, default=None
        Parameters of every fold model.
    n_folds : int, default=5
        Fold models (>= 2).
    categorical_features : sequence of int or None, default=None
        Columns of X holding category codes (passed to each fold model).
    random_state : int, RandomState or None, default=None
        Seed of the folds; fold model k gets ``seed + k``.
    n_jobs : int or None, default=None
        Threads of each fold model while it fits and predicts (None: the model's own default).

    Attributes
    ----------
    estimators_ : list of LeadClassifier
        The fitted fold models.
    columns_ : list of (ndarray of int or None)
        The columns of X each fold model reads (None: all of them).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> bag = BaggedClassifier(model="logreg", n_folds=3, random_state=0).fit(X, y)
    >>> len(bag.estimators_), bag.score(X, y) > 0.9
    (3, True)
    """

    _parameter_constraints = LeadClassifier._parameter_constraints | {
        "model": [StrOptions(set(MODELS))],
        "params": [dict, None],
        "n_folds": [Interval(numbers.Integral, 2, None, closed="left")],
    }

    def __init__(self, *, model: str = "gbdt", params: dict | None = None, n_folds: int = 5, categorical_features=None, random_state=None, n_jobs=None):
        self.model = model
        self.params = params
        self.n_folds = n_folds
        self.categorical_features = categorical_features
        self.random_state = random_state
        self.n_jobs = n_jobs

    @classmethod
    def from_folds(cls, model: str, estimators: list, columns: list[np.ndarray | None], *, n_features: int, categorical_features) -> BaggedClassifier:
        """The bag of already fitted fold ``estimators`` of ``model``; estimator k reads ``X[:, columns[k]]`` of an X with ``n_features`` columns."""
        if len(estimators) != len(columns) or len(estimators) < 2:
            raise ValueError(f"a bag needs at least 2 fold models and one column list each; got {len(estimators)} models and {len(columns)} column lists.")
        bag = cls(model=model, n_folds=len(estimators), categorical_features=list(categorical_features))
        bag.classes_ = estimators[0].classes_
        bag.n_features_in_ = int(n_features)
        bag.categorical_features_ = np.asarray(categorical_features, dtype=np.int64)
        bag.estimators_ = list(estimators)
        bag.columns_ = [None if c is None else np.asarray(c, dtype=np.int64) for c in columns]
        return bag

    def _check_param_rules(self) -> None:
        """``params`` by the fold model's own rules; the bag sets the seed, threads and categorical columns itself."""
        own = sorted({"categorical_features", "random_state", "n_jobs"} & set(self.params or {}))
        if own:
            raise ValueError(f"The 'params' parameter of BaggedClassifier sets {', '.join(own)}, which the bag sets for its fold models; set them on the bag.")
        check_params(self.model, self.params or {})

    def _fit(self, X, y, seed):
        self.estimators_, self.columns_ = [], []
        for k, (train_rows, _) in enumerate(stratified_folds(y, self.n_folds, seed=seed)):
            estimator = self._fold_model(seed + k).fit(X[train_rows], y[train_rows])
            self.estimators_.append(estimator)
            self.columns_.append(None)

    def _fold_model(self, seed: int):
        threads = {} if self.n_jobs is None else {"n_jobs": self.n_jobs}
        return make_model(self.model, categorical_features=self.categorical_features_, random_state=seed, **(self.params or {}), **threads)

    @property
    def reads_sequences(self) -> bool:
        """Whether the fold models read monthly windows (then ``predict_proba`` needs ``sequences``)."""
        return any(getattr(estimator, "reads_sequences", False) for estimator in getattr(self, "estimators_", []))

    def predict_proba(self, X, *, sequences: np.ndarray | None = None) -> np.ndarray:
        """Probabilities ``(n, 2)``: the fold models' mean in log-odds; ``sequences (n, T, C)`` for fold models that read them."""
        self._sequences = sequences
        try:
            return super().predict_proba(X)
        finally:
            del self._sequences

    def _predict_proba(self, X):
        positive = sigmoid(np.mean([logit(p) for p in self.fold_probas(X, sequences=self._sequences)], axis=0))
        return np.column_stack([1.0 - positive, positive])

    def fold_probas(self, X: np.ndarray, *, sequences: np.ndarray | None = None) -> list[np.ndarray]:
        """Each fold model's positive-class probability on ``X (n, n_features_in_)``: k arrays of shape (n,)."""
        check_is_fitted(self)
        probas = []
        for estimator, columns in zip(self.estimators_, self.columns_, strict=True):
            if self.n_jobs is not None and estimator.get_params().get("n_jobs") != self.n_jobs:
                estimator.set_params(n_jobs=self.n_jobs)
            probas.append(positive_proba(estimator, X if columns is None else X[:, columns], sequences=sequences))
        return probas

    def save(self, directory, stem: str) -> dict:
        """Each fold model's files (``{stem}.fold{k}...``) and its meta inside this bag's meta."""
        members = [estimator.save(directory, f"{stem}.fold{k}") for k, estimator in enumerate(self.estimators_)]
        columns = [None if c is None else c.tolist() for c in self.columns_]
        return self._meta([name for meta in members for name in meta["files"]], members=members, columns=columns)

    @classmethod
    def load(cls, directory, meta: dict, *, device: str = "auto") -> BaggedClassifier:
        """Rebuild the bag from :meth:`save`'s meta: each fold model by its own class's ``load``."""
        bag = cls._from_meta(meta)
        bag.estimators_ = [model_class(m["class"]).load(directory, m, device=device) for m in meta["members"]]
        bag.columns_ = [None if c is None else np.asarray(c, dtype=np.int64) for c in meta["columns"]]
        if len(bag.estimators_) != len(bag.columns_):
            raise ValueError(f"the bag's meta lists {len(bag.estimators_)} fold models and {len(bag.columns_)} column lists.")
        return bag
