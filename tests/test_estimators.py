"""Tests of the tree and linear classifiers (hotleads.estimators)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from hotleads.base import fit_seed
from hotleads.estimators import MIN_INTERACTION_ROWS, GBDTClassifier, LogRegClassifier, auto_min_child_samples, auto_n_knots

CATEGORICAL = 3  # column of category codes 0..3 in the data below
N_CATEGORIES = 4


def make_estimator(cls: type, seed: int, **params):
    if cls is GBDTClassifier:
        params = {"n_estimators": 30, "min_child_samples": 10, **params}
    return cls(categorical_features=[CATEGORICAL], random_state=seed, **params)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """600 rows, about 10 % positive: 3 numeric columns (some NaN) and one categorical code column."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    X[:, CATEGORICAL] = rng.integers(0, N_CATEGORIES, size=600)
    logit = -3.2 + 1.5 * X[:, 0] + 0.8 * (X[:, CATEGORICAL] == 2)
    y = (rng.random(600) < 1 / (1 + np.exp(-logit))).astype(int)
    X[rng.random(600) < 0.05, 1] = np.nan
    X[rng.random(600) < 0.05, CATEGORICAL] = np.nan
    return X, y


ESTIMATORS = [GBDTClassifier, LogRegClassifier]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_and_predict_proba_shapes(cls: type, data, seed: int) -> None:
    X, y = data
    model = make_estimator(cls, seed).fit(X, y)
    proba = model.predict_proba(X[:50])
    assert proba.shape == (50, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert model.predict(X[:50]).shape == (50,)
    assert model.classes_.tolist() == [0, 1]
    assert model.n_features_in_ == 4


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_the_signal_is_learnt(cls: type, data, seed: int) -> None:
    X, y = data
    proba = make_estimator(cls, seed).fit(X, y).predict_proba(X)[:, 1]
    assert proba[y == 1].mean() > proba[y == 0].mean() + 0.2


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_balanced_class_weights_raise_the_positive_rate(cls: type, data, seed: int, monkeypatch) -> None:
    X, y = data
    assert 0.05 < y.mean() < 0.2
    weighted = make_estimator(cls, seed).fit(X[:400], y[:400]).predict(X[400:]).mean()
    monkeypatch.setattr("hotleads.estimators.compute_sample_weight", lambda _, y: np.ones(len(y)))
    unweighted = make_estimator(cls, seed).fit(X[:400], y[:400]).predict(X[400:]).mean()
    assert weighted > unweighted + 0.03  # on rows the models did not fit


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_missing_values_and_unknown_categories_are_scored(cls: type, data, seed: int) -> None:
    X, y = data
    model = make_estimator(cls, seed).fit(X, y)
    new = X[:20].copy()
    new[:5, 0] = np.nan
    new[5:10, CATEGORICAL] = np.nan
    new[10:15, CATEGORICAL] = N_CATEGORIES + 7  # a code never seen in training
    proba = model.predict_proba(new)
    assert np.isfinite(proba).all()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_save_load_round_trip_gives_identical_probabilities(cls: type, data, seed: int, tmp_path: Path) -> None:
    X, y = data
    model = make_estimator(cls, seed).fit(X, y)
    meta = json.loads(json.dumps(model.save(tmp_path, "m")))  # the manifest stores it as JSON
    assert meta["class"] == cls.__name__
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(meta["files"])
    restored = cls.load(tmp_path, meta)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.get_params() == model.get_params()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_same_seed_same_model(cls: type, data, seed: int) -> None:
    X, y = data
    first = make_estimator(cls, seed).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(make_estimator(cls, seed).fit(X, y).predict_proba(X), first)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_string_labels_are_kept(cls: type, data, seed: int) -> None:
    X, y = data
    labels = np.where(y == 1, "hot", "cold")
    model = make_estimator(cls, seed).fit(X, labels)
    assert model.classes_.tolist() == ["cold", "hot"]
    assert set(model.predict(X)) <= {"cold", "hot"}


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_more_than_two_classes_are_refused(cls: type, data, seed: int) -> None:
    X, y = data
    with pytest.raises(ValueError, match=r"Only binary classification is supported\. The type of the target is multiclass: y has 3 classes \(\[0, 1, 2\]\)"):
        make_estimator(cls, seed).fit(X, np.arange(len(y)) % 3)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_wrong_number_of_columns_is_refused(cls: type, data, seed: int) -> None:
    X, y = data
    model = make_estimator(cls, seed).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict_proba(X[:, :3])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_init_only_stores_parameters(cls: type) -> None:
    model = cls(categorical_features=[1], random_state=3)
    assert clone(model).get_params() == model.get_params()
    assert not [name for name in vars(model) if name.endswith("_")]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "listed, problem",
    [([4], r"\[0, 4\) for X with 4 columns.*Got \[4\] instead; remove \[4\]"), ([1.5], r"Got \[1\.5\] instead"), ([3, -1], "lists a column twice")],
)
def test_bad_categorical_features_are_refused_with_the_fix(cls: type, data, seed: int, listed, problem) -> None:
    X, y = data
    with pytest.raises(ValueError, match=problem):
        cls(categorical_features=listed, random_state=seed).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_an_int_random_state_is_the_seed_and_none_draws_one(cls: type, data) -> None:
    X, y = data
    assert cls().random_state is None
    with_zero = make_estimator(cls, 0).fit(X, y).predict_proba(X)
    assert fit_seed(0) == 0  # LightGBM's rule: an int seeds the library as it is
    np.testing.assert_array_equal(make_estimator(cls, 0).fit(X, y).predict_proba(X), with_zero)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_load_refuses_parameters_it_does_not_know(cls: type, data, seed: int, tmp_path: Path) -> None:
    X, y = data
    meta = json.loads(json.dumps(make_estimator(cls, seed).fit(X, y).save(tmp_path, "m")))
    assert {"hotleads", "numpy", "scikit-learn"} <= set(meta["versions"])
    meta["params"]["learning_speed"] = 3
    with pytest.raises(ValueError, match=r"parameters \['learning_speed'\] that this version of hotleads does not know"):
        cls.load(tmp_path, meta)


# ---------------------------------------------------------------- gbdt: leaf size adapted to the rows


def test_gbdt_leaf_size_adapts_to_small_tables(data, seed: int, tmp_path: Path) -> None:
    X, y = data
    rows = np.r_[np.flatnonzero(y == 1)[:6], np.flatnonzero(y == 0)[:18]]  # a fold of a 30-row table
    small = GBDTClassifier(categorical_features=[CATEGORICAL], random_state=seed).fit(X[rows], y[rows])
    assert small.min_child_samples_ == 2
    assert np.ptp(small.predict_proba(X)[:, 1]) > 0.5  # with 50 rows a leaf, one constant for every row
    assert GBDTClassifier(n_estimators=5).fit(X, y).min_child_samples_ == min(600 // 20, int(y.sum()) // 2) == 29  # 58 positives
    restored = GBDTClassifier.load(tmp_path, json.loads(json.dumps(small.save(tmp_path, "m"))))
    assert (restored.min_child_samples, restored.min_child_samples_) == ("auto", 2)


def test_gbdt_keeps_the_leaf_size_of_large_tables_and_a_given_one(data, seed: int) -> None:
    assert auto_min_child_samples(16_000, 2_388) == 50  # a fold of the 20,000-row challenge table, as before
    X, y = data
    assert make_estimator(GBDTClassifier, seed, min_child_samples=7).fit(X, y).min_child_samples_ == 7
    with pytest.raises(
        ValueError,
        match=r"^The 'min_child_samples' parameter of GBDTClassifier must be an int in the range \[1, inf\) or a str among \{'auto'\}\. Got 0 instead\.$",
    ):
        make_estimator(GBDTClassifier, seed, min_child_samples=0).fit(X, y)


# ---------------------------------------------------------------- gbdt: early stopping


def test_gbdt_early_stopping_keeps_the_best_round_and_is_seeded(data, seed: int, tmp_path: Path) -> None:
    X, y = data
    stopped = make_estimator(GBDTClassifier, seed, n_estimators=2000, learning_rate=0.3, n_iter_no_change=10)
    stopped.fit(X, y)
    assert 1 <= stopped.n_estimators_ < 2000 and stopped.booster_.best_iteration == stopped.n_estimators_
    again = clone(stopped).fit(X, y)
    assert again.n_estimators_ == stopped.n_estimators_ and np.array_equal(again.predict_proba(X), stopped.predict_proba(X))
    restored = GBDTClassifier.load(tmp_path, json.loads(json.dumps(stopped.save(tmp_path, "m"))))
    assert restored.n_estimators_ == stopped.n_estimators_ and np.array_equal(restored.predict_proba(X), stopped.predict_proba(X))
    assert make_estimator(GBDTClassifier, seed).fit(X, y).n_estimators_ == 30  # off by default: every round


def test_gbdt_early_stopping_needs_a_validation_row_of_each_class(data, seed: int) -> None:
    X, y = data
    rows = np.r_[np.flatnonzero(y == 1)[:5], np.flatnonzero(y == 0)[:40]]  # 5 positives: a tenth is not one row
    model = make_estimator(GBDTClassifier, seed, n_estimators=40, n_iter_no_change=5).fit(X[rows], y[rows])
    assert model.booster_.best_iteration == 0  # fitted on every row, without a validation set
    with pytest.raises(ValueError, match=r"'validation_fraction' parameter of GBDTClassifier must be a float in the range \(0\.0, 1\.0\)\. Got 1\.0 instead"):
        make_estimator(GBDTClassifier, seed, n_iter_no_change=5, validation_fraction=1.0).fit(X, y)


# ---------------------------------------------------------------- logreg: splines, shape products, C by CV


def held_out_auc(model, X, y) -> float:
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y[1000:], model.fit(X[:1000], y[:1000]).predict_proba(X[1000:])[:, 1])


@pytest.fixture(scope="module")
def curved() -> tuple[np.ndarray, np.ndarray]:
    """2000 rows: a U-shaped effect of column 0; columns 1 and 2 act alone and, more strongly, together."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 3))
    logit = -1.0 + 1.5 * (X[:, 0] ** 2 - 1) + X[:, 1] + X[:, 2] + 1.5 * X[:, 1] * X[:, 2]
    return X, (rng.random(2000) < 1 / (1 + np.exp(-logit))).astype(int)


def test_logreg_splines_learn_a_curved_effect(curved) -> None:
    X, y = curved
    straight = held_out_auc(LogRegClassifier(n_knots=2, interactions=False, C=1.0), X, y)  # < 3 knots: linear terms
    splines = held_out_auc(LogRegClassifier(interactions=False), X, y)
    assert splines > straight + 0.1


def test_logreg_shape_products_learn_an_interaction(curved) -> None:
    X, y = curved
    additive = held_out_auc(LogRegClassifier(interactions=False), X, y)
    assert held_out_auc(LogRegClassifier(), X, y) > additive + 0.02  # measured: 0.878 vs 0.844


@pytest.mark.parametrize("n_knots", [8, 2], ids=["splines", "linear"])
def test_logreg_scores_values_far_beyond_training_as_finite_probabilities(curved, n_knots: int) -> None:
    """1e308 read raw overflowed the linear extrapolation to inf, and the logit to inf - inf: a NaN probability,
    which predict wrote as an empty probability and a lead score of -2**63. Values within reach score as before."""
    X, y = curved
    model = LogRegClassifier(n_knots=n_knots, interactions=True, C=1.0).fit(X, y)
    extreme = np.repeat(X[:4], 6, axis=0)
    for row, value in enumerate([1e308, -1e308, 1e200, 1.7e308, -1e250, -1e150] * 4):
        extreme[row, row % 3] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way either
        proba = model.predict_proba(extreme)
    assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
    within = X[:50] * 3.0  # beyond the training values, well within reach of the linear extrapolation
    np.testing.assert_array_equal(model.predict_proba(within), model.predict_proba(within.copy()))
    assert np.ptp(model.predict_proba(within)[:, 1]) > 0.5


def test_logreg_chooses_C_by_cross_validation_unless_given(data) -> None:
    X, y = data
    assert LogRegClassifier(categorical_features=[CATEGORICAL], Cs=(0.05, 5.0)).fit(X, y).C_ in (0.05, 5.0)
    assert LogRegClassifier(categorical_features=[CATEGORICAL], C=0.3).fit(X, y).C_ == 0.3


def test_logreg_adapts_knots_and_interactions_to_small_tables(data, tmp_path: Path) -> None:
    X, y = data
    rows = np.r_[np.flatnonzero(y == 1)[:6], np.flatnonzero(y == 0)[:18]]  # a fold of a 30-row table
    small = LogRegClassifier(categorical_features=[CATEGORICAL]).fit(X[rows], y[rows])
    assert (small.n_knots_, small.interactions_, small.pairs_) == (4, False, [])
    assert max(len(knots) for knots in small.knots_) == 4
    assert np.ptp(small.predict_proba(X)[:, 1]) > 0.1
    restored = LogRegClassifier.load(tmp_path, json.loads(json.dumps(small.save(tmp_path, "m"))))
    assert (restored.n_knots, restored.n_knots_, restored.interactions_) == ("auto", 4, False)
    assert (auto_n_knots(2_388), 2_388 >= MIN_INTERACTION_ROWS) == (8, True)  # a fold of the challenge table, as before
    given = LogRegClassifier(categorical_features=[CATEGORICAL], n_knots=6, interactions=True).fit(X[rows], y[rows])
    assert (given.n_knots_, given.interactions_) == (6, True)
    with pytest.raises(
        ValueError, match=r"^The 'interactions' parameter of LogRegClassifier must be an instance of 'bool' .* or a str among \{'auto'\}\. Got 'yes' instead\.$"
    ):
        LogRegClassifier(interactions="yes").fit(X, y)


def test_logreg_is_saved_as_plain_json(data, tmp_path: Path) -> None:
    X, y = data
    meta = LogRegClassifier(categorical_features=[CATEGORICAL], interactions=True).fit(X, y).save(tmp_path, "m")
    assert meta["files"] == ["m.json"]
    state = json.loads((tmp_path / "m.json").read_text())
    assert len(state["knots"]) == 3 and state["pairs"]  # three numeric columns, shape products kept
