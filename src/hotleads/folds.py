"""Stratified folds and out-of-fold application: the one cross-fitting loop of the package.

Everything that must not see the rows it is judged on goes through :func:`out_of_fold`: the
members' out-of-fold probabilities, the nested ensemble and calibration, feature selection's quick
model and the single-column diagnostics. Each fold's rows get the output of something fitted on
the other folds only. A validation split (:func:`validation_split`, ``train --validation``) is one
such fold: fitted on the fit rows, applied to the validation rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

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


def validation_split(y, share: float, *, seed: int) -> Fold:
    """One shuffled stratified split of the rows of ``y`` (n_rows,): (fit rows, validation rows), each sorted.

    The validation rows are ``share`` of the rows (rounded up), with each class in about that share.

    Examples
    --------
    >>> fit, valid = validation_split([0] * 16 + [1] * 4, 0.25, seed=0)
    >>> len(fit), len(valid), int(sum(i >= 16 for i in valid))  # 1 of the 4 positives set aside
    (15, 5, 1)
    """
    rows = np.arange(len(y))
    fit_rows, valid_rows = train_test_split(rows, test_size=share, stratify=np.asarray(y), random_state=seed)
    return np.sort(fit_rows), np.sort(valid_rows)


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
