"""Tests of stratified folds and the one out-of-fold loop (hotleads.folds)."""

from __future__ import annotations

import numpy as np

from hotleads.folds import out_of_fold, stratified_folds


def test_folds_are_stratified_cover_every_row_once_and_follow_the_seed() -> None:
    y = np.r_[np.zeros(80, dtype=int), np.ones(20, dtype=int)]
    folds = stratified_folds(y, 4, seed=3)
    held_out = np.concatenate([valid for _, valid in folds])
    assert sorted(held_out.tolist()) == list(range(100))
    assert all(y[valid].sum() == 5 for _, valid in folds)
    assert all(not set(train) & set(valid) for train, valid in folds)
    again = stratified_folds(y, 4, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, stratified_folds(y, 4, seed=4), strict=True))


def test_each_fold_is_filled_by_what_was_fitted_without_it() -> None:
    y = np.arange(12, dtype=float)
    folds = stratified_folds(np.arange(12) % 2, 3, seed=0)
    seen = []

    def fit_predict(k, train_rows, valid_rows):
        seen.append(k)
        return np.full(len(valid_rows), y[train_rows].sum())  # the other folds' total: never includes its own rows

    output = out_of_fold(folds, fit_predict, len(y))
    assert seen == [0, 1, 2]
    for _, valid in folds:
        np.testing.assert_array_equal(output[valid], y.sum() - y[valid].sum())
