"""Tests of combining member probabilities (hotleads.ensemble)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hotleads.ensemble import METHODS, Ensemble, fit_ensemble, nested_oof

MEMBERS = ["a", "b"]


@pytest.fixture(scope="module")
def informative() -> tuple[np.ndarray, np.ndarray]:
    """400 rows: member a separates the classes well, member b is noise."""
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.3).astype(int)
    good = np.clip(0.25 + 0.5 * y + rng.normal(0, 0.15, 400), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, 400)
    return np.column_stack([good, noise]), y


def test_mean_averages_the_members() -> None:
    ensemble = fit_ensemble("mean", ["a", "b", "c"], np.zeros((4, 3)), np.array([0, 1, 0, 1]))
    np.testing.assert_allclose(ensemble.weights, [1 / 3] * 3)
    np.testing.assert_allclose(ensemble.combine(np.array([[0.1, 0.4, 0.7], [1.0, 0.0, 0.5]])), [0.4, 0.5])


def test_weighted_prefers_the_better_member(informative) -> None:
    oof, y = informative
    ensemble = fit_ensemble("weighted", MEMBERS, oof, y)
    assert sum(ensemble.weights) == pytest.approx(1.0)
    assert ensemble.weights[0] > 0.99  # b is far behind a in PR-AUC
    np.testing.assert_allclose(ensemble.combine(oof), oof @ np.asarray(ensemble.weights))


def test_weighted_gives_equal_members_equal_weights(informative) -> None:
    oof, y = informative
    twins = np.column_stack([oof[:, 0], oof[:, 0]])
    assert fit_ensemble("weighted", MEMBERS, twins, y).weights == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_best_picks_the_member_with_the_best_f1(informative, order: list[int]) -> None:
    oof, y = informative
    members = [MEMBERS[i] for i in order]
    ensemble = fit_ensemble("best", members, oof[:, order], y)
    assert ensemble.weights == [1.0 if name == "a" else 0.0 for name in members]
    np.testing.assert_array_equal(ensemble.combine(oof[:, order]), oof[:, 0])


def test_stack_is_a_logistic_regression_on_logits() -> None:
    ensemble = Ensemble("stack", MEMBERS, [1.0, 0.0], 0.0)
    np.testing.assert_allclose(ensemble.combine(np.array([[0.8, 0.3], [0.2, 0.9]])), [0.8, 0.2])
    shifted = Ensemble("stack", MEMBERS, [1.0, 1.0], 0.5)
    logit = np.log(0.8 / 0.2) + np.log(0.3 / 0.7) + 0.5
    np.testing.assert_allclose(shifted.combine(np.array([[0.8, 0.3]])), [1 / (1 + np.exp(-logit))])


def test_stack_learns_to_trust_the_informative_member(informative) -> None:
    oof, y = informative
    ensemble = fit_ensemble("stack", MEMBERS, oof, y)
    assert ensemble.weights[0] > 1.0 and abs(ensemble.weights[1]) < 0.5 * ensemble.weights[0]
    combined = ensemble.combine(oof)
    assert ((combined > 0) & (combined < 1)).all()
    assert combined[y == 1].mean() > combined[y == 0].mean() + 0.3


def test_stack_survives_probabilities_of_exactly_0_and_1() -> None:
    y = np.array([0, 1, 0, 1, 0, 1])
    oof = np.array([[0.0, 0.2], [1.0, 0.7], [0.0, 0.4], [1.0, 0.9], [0.1, 0.3], [0.9, 0.6]])
    assert np.isfinite(fit_ensemble("stack", MEMBERS, oof, y).combine(oof)).all()


@pytest.mark.parametrize("method", METHODS)
def test_dict_round_trip(informative, method: str) -> None:
    oof, y = informative
    ensemble = fit_ensemble(method, MEMBERS, oof, y)
    restored = Ensemble.from_dict(json.loads(json.dumps(ensemble.to_dict())))
    assert restored == ensemble
    np.testing.assert_array_equal(restored.combine(oof), ensemble.combine(oof))


def test_nested_oof_never_combines_a_fold_with_a_combiner_fitted_on_it() -> None:
    """Member a is perfect on fold 0 and noise on fold 1; member b the other way round.

    A combiner fitted on fold 1 only picks b, so fold 0 must be scored by b (noise there), and
    vice versa. Any combiner that saw a fold's own rows would pick the member perfect on it.
    """
    rng = np.random.default_rng(1)
    y = np.tile([0, 1], 100)
    fold0, fold1 = np.arange(0, 100), np.arange(100, 200)  # both classes in each
    perfect = np.where(y == 1, 0.9, 0.1)
    noise = rng.uniform(0.05, 0.95, size=200)
    a = np.where(np.isin(np.arange(200), fold0), perfect, noise)
    b = np.where(np.isin(np.arange(200), fold1), perfect, noise)
    oof = np.column_stack([a, b])
    folds = [(fold1, fold0), (fold0, fold1)]  # (train rows, valid rows)
    combined = nested_oof("best", MEMBERS, oof, y, folds)
    np.testing.assert_array_equal(combined[fold0], b[fold0])
    np.testing.assert_array_equal(combined[fold1], a[fold1])


@pytest.mark.parametrize("method", METHODS)
def test_nested_oof_fills_every_row_from_its_own_fold_combiner(informative, method: str) -> None:
    oof, y = informative
    rows = np.arange(len(y))
    folds = [(rows[rows % 3 != k], rows[rows % 3 == k]) for k in range(3)]
    combined = nested_oof(method, MEMBERS, oof, y, folds)
    for train_rows, valid_rows in folds:
        inner = fit_ensemble(method, MEMBERS, oof[train_rows], y[train_rows])
        np.testing.assert_allclose(combined[valid_rows], inner.combine(oof[valid_rows]))
