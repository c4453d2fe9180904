"""Stratified folds and out-of-fold application: the one cross-fitting loop of the package.

Everything that must not see the rows it is judged on goes through :func:`out_of_fold`: the
members' out-of-fold probabilities, the nested ensemble and calibration, feature selection's quick
model and the single-column diagnostics. Each fold's rows get the output of something fitted on
the other folds only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.model_selection import StratifiedKFold

Fold = tuple[np.ndarray, np.ndarray]  # (train_rows, valid_rows), integer row indices


def stratified_folds(y, n_splits: int, *, seed: int) -> list[Fold]:
    """``n_splits`` shuffled stratified folds of the rows of ``y`` (n_rows,), each row held out once.

    Examples
    --------
    >>> folds = stratified_folds([0, 1] * 5, 5, seed=0)
    >>> sorted(int(i) for _, valid in folds for i in valid) == list(range(10))
    True
    """
    y = np.asarray(y)
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def out_of_fold(folds: list[Fold], fit_predict: Callable[[int, np.ndarray, np.ndarray], np.ndarray], n_rows: int) -> np.ndarray:
    """Out-of-fold output (n_rows,): ``fit_predict(k, train_rows, valid_rows)`` gives fold ``k``'s held-out values.

    ``fit_predict`` fits on ``train_rows`` only and returns one value per row of ``valid_rows``.

    Examples
    --------
    >>> y = np.array([0., 1., 0., 1.])
    >>> folds = [(np.array([0, 1]), np.array([2, 3])), (np.array([2, 3]), np.array([0, 1]))]
    >>> out_of_fold(folds, lambda k, train, valid: np.full(len(valid), y[train].mean()), 4)
    array([0.5, 0.5, 0.5, 0.5])
    """
    output = np.empty(n_rows)
    for k, (train_rows, valid_rows) in enumerate(folds):
        output[valid_rows] = fit_predict(k, train_rows, valid_rows)
    return output
