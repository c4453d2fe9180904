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


def expanding_folds(times, n_splits: int) -> list[Fold]:
    """Time-ordered folds: the rows with a time, in ``n_splits + 1`` periods of about equal size; fold k
    trains on periods 0..k and holds out period k + 1 (an expanding window, as
    :class:`sklearn.model_selection.TimeSeriesSplit` but on a time column, never splitting a moment).

    ``times`` (n_rows,) are comparable values (datetime64, numbers); NaT/NaN rows are in no fold.

    Raises
    ------
    ValueError
        Fewer distinct times than periods.

    Examples
    --------
    >>> folds = expanding_folds(np.array([3, 1, 2, 2, 5, 4]), 2)
    >>> [(sorted(map(int, train)), sorted(map(int, valid))) for train, valid in folds]
    [([1], [0, 2, 3]), ([0, 1, 2, 3], [4, 5])]
    """
    times = np.asarray(times)
    known = np.flatnonzero(~np.isnat(times) if np.issubdtype(times.dtype, np.datetime64) else ~np.isnan(times.astype(float)))
    order = known[np.argsort(times[known], kind="stable")]
    ordered = times[order]
    if len(np.unique(ordered)) < n_splits + 1:
        raise ValueError(f"{n_splits + 1} time periods need at least {n_splits + 1} distinct times; there are {len(np.unique(ordered))}.")
    cuts = [int(np.searchsorted(ordered, ordered[round(len(order) * j / (n_splits + 1))], side="left")) for j in range(1, n_splits + 1)]
    edges = [0, *cuts, len(order)]  # a moment never straddles two periods: each cut sits where its time begins
    return [(order[: edges[k + 1]], order[edges[k + 1] : edges[k + 2]]) for k in range(n_splits) if edges[k + 2] > edges[k + 1] > 0]


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
