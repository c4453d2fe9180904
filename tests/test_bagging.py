"""Tests of the bag of fold models (hotleads.bagging.BaggedClassifier).

The bag averages its fold models in log-odds: its probability is the logistic function of the
mean of the fold models' logits, each fold model reading its own columns of X. It follows the
scikit-learn contract, saves without pickle (each fold model's own files) and, in a trained
model, saves to and loads from a bundle and explains itself with TreeSHAP when its fold models
are gbdt.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from hotleads import bundle, synth
from hotleads.bagging import BaggedClassifier
from hotleads.estimators import GBDTClassifier, LogRegClassifier
from hotleads.explain import contributions, source_columns
from hotleads.metrics import logit, sigmoid
from hotleads.model import LeadModel
from hotleads.registry import model_class
from hotleads.schema import prepare
from hotleads.scoring import score
from hotleads.training import TrainOptions, train

SMALL_GBDT = {"n_estimators": 15}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """X (240, 5) with NaNs, a 0/1 column of codes (column 4) and a label that depends on columns 0, 1 and 4."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 5))
    X[:, 4] = rng.integers(0, 3, size=240)
    y = (X[:, 0] + 0.5 * X[:, 1] - 0.4 * X[:, 4] + rng.normal(scale=0.7, size=240) > 0).astype(int)
    X[rng.random(240) < 0.05, 2] = np.nan
    return X, y


@pytest.fixture(scope="module")
def trained_bag() -> tuple[LeadModel, pd.DataFrame]:
    """A gbdt-only model (small trees) with discovered features, saved as the bag of its 5 fold models, and its table."""
    frame, _ = synth.make_companies(300, seed=1)  # its folds keep different discovered features
    model = train(frame, TrainOptions(models=["gbdt"], bagging="on", seed=0, model_params={"gbdt": {"n_estimators": 40}}))
    return model, frame


def features_of(model: LeadModel, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The typed feature columns of ``frame`` and the matrix the model reads."""
    predictor = model.predictor
    features = prepare(frame, predictor.schema, labelled=False).features
    return features, predictor.preprocessor.transform(features)


def mean_logit(probas: list[np.ndarray]) -> np.ndarray:
    return np.mean([logit(p) for p in probas], axis=0)


# ---------------------------------------------------------------- the scikit-learn contract


@pytest.mark.parametrize(("model", "params"), [("logreg", None), ("gbdt", SMALL_GBDT)])
def test_fit_gives_one_fold_model_per_fold_and_probabilities(data, model: str, params: dict | None) -> None:
    X, y = data
    bag = BaggedClassifier(model=model, params=params, n_folds=3, categorical_features=[4], random_state=7)
    assert bag.fit(X, y) is bag
    proba = bag.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(bag.classes_, [0, 1])
    assert bag.n_features_in_ == 5
    assert len(bag.estimators_) == 3 and bag.columns_ == [None, None, None]
    assert all(type(e) is model_class(type(e).__name__) for e in bag.estimators_)
    assert [e.random_state for e in bag.estimators_] == [7, 8, 9]  # fold model k gets seed + k
    assert all(e.get_params()["categorical_features"] == [4] for e in bag.estimators_)
    # each fold model is fitted on the other folds' rows: the models differ
    assert not np.array_equal(bag.fold_probas(X)[0], bag.fold_probas(X)[1])
    np.testing.assert_allclose(proba[:, 1], sigmoid(mean_logit([e.predict_proba(X)[:, 1] for e in bag.estimators_])), rtol=1e-12)
    np.testing.assert_array_equal(bag.predict(X), (proba[:, 1] >= 0.5).astype(int))
    assert bag.score(X, y) > 0.7


def test_fit_is_stratified_and_each_fold_model_sees_the_other_folds(data) -> None:
    X, y = data

    class Counter(LogRegClassifier):
        seen: list[tuple[int, float]] = []

        def _fit(self, X, y, seed):
            Counter.seen.append((len(y), float(y.mean())))
            super()._fit(X, y, seed)

    with pytest.MonkeyPatch.context() as patch:
        from hotleads import registry

        patch.setitem(registry.MODELS, "logreg", Counter)
        BaggedClassifier(model="logreg", n_folds=4, random_state=0).fit(X, y)
    assert [rows for rows, _ in Counter.seen] == [len(y) * 3 // 4] * 4
    assert all(abs(share - y.mean()) < 0.02 for _, share in Counter.seen)


def test_labels_other_than_0_and_1_keep_their_names(data) -> None:
    X, y = data
    labels = np.where(y == 1, "hot", "cold")
    bag = BaggedClassifier(model="logreg", n_folds=2, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(bag.classes_, ["cold", "hot"])
    assert set(bag.predict(X)) <= {"cold", "hot"}
    numeric = BaggedClassifier(model="logreg", n_folds=2, random_state=0).fit(X, y)
    np.testing.assert_allclose(bag.predict_proba(X), numeric.predict_proba(X))


def test_predicting_before_fit_raises_not_fitted(data) -> None:
    X, _ = data
    bag = BaggedClassifier(model="logreg")
    with pytest.raises(NotFittedError):
        bag.predict_proba(X)
    with pytest.raises(NotFittedError):
        bag.predict(X)


def test_fold_probas_before_fit_raises_not_fitted(data) -> None:
    X, _ = data
    with pytest.raises(NotFittedError):
        BaggedClassifier(model="logreg").fold_probas(X)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"n_folds": 1}, ["The 'n_folds' parameter of BaggedClassifier must be an int in the range [2, inf). Got 1 instead."]),
        ({"model": "gbtd"}, ["The 'model' parameter of BaggedClassifier must be a str among", "Got 'gbtd' instead."]),
        ({"params": "n_estimators=5"}, ["The 'params' parameter of BaggedClassifier must be an instance of 'dict' or None"]),
        ({"n_jobs": 0}, ["The 'n_jobs' parameter of BaggedClassifier"]),
        ({"n_folds": 1, "model": "gbtd"}, ["'n_folds' parameter", "'model' parameter"]),  # every bad one at once
        (
            {"model": "gbdt", "params": {"num_leaves": 1}},
            ["The 'num_leaves' parameter of GBDTClassifier must be an int in the range [2, inf)", "Got 1 instead."],
        ),
    ],
)
def test_bad_parameters_are_refused_in_scikit_learn_words(data, params: dict, words: list[str]) -> None:
    X, y = data
    with pytest.raises(InvalidParameterError) as caught:
        BaggedClassifier(**params).fit(X, y)
    for fragment in words:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("params", [{"bogus": 1}, {"random_state": 3}])
def test_a_fold_model_parameter_it_does_not_take_is_a_value_error(data, params: dict) -> None:
    X, y = data
    with pytest.raises(ValueError, match="parameter"):
        BaggedClassifier(model="logreg", params=params).fit(X, y)


def test_one_class_is_a_value_error(data) -> None:
    X, y = data
    with pytest.raises(ValueError, match="both classes|binary"):
        BaggedClassifier(model="logreg").fit(X, np.zeros(len(X), dtype=int))


def test_clone_and_get_params_follow_scikit_learn() -> None:
    bag = BaggedClassifier(model="gbdt", params=dict(SMALL_GBDT), n_folds=3, random_state=1, n_jobs=1)
    copy = clone(bag)
    assert copy.get_params() == bag.get_params()
    assert copy.params is not bag.params
    assert not hasattr(copy, "estimators_")


def test_the_same_seed_fits_the_same_bag(data) -> None:
    X, y = data
    first = BaggedClassifier(model="gbdt", params=SMALL_GBDT, n_folds=3, random_state=3).fit(X, y).predict_proba(X)
    second = BaggedClassifier(model="gbdt", params=SMALL_GBDT, n_folds=3, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------- a bag of models fitted elsewhere


COLUMNS = [np.array([0, 1, 2]), np.array([0, 1, 3, 4]), None, np.array([4, 0])]


@pytest.fixture(scope="module")
def fold_models(data) -> list:
    """Four logreg models, each fitted on its own rows and its own columns of X (COLUMNS; None: all)."""
    X, y = data
    rng = np.random.default_rng(1)
    models = []
    for k, columns in enumerate(COLUMNS):
        rows = rng.choice(len(X), size=180, replace=False)
        part = X[rows] if columns is None else X[rows][:, columns]
        models.append(LogRegClassifier(random_state=k).fit(part, y[rows]))
    return models


def test_from_folds_scores_each_fold_model_on_its_columns_averaged_in_logit(data, fold_models) -> None:
    X, _ = data
    bag = BaggedClassifier.from_folds("logreg", fold_models, COLUMNS, n_features=5, categorical_features=[])
    own = [m.predict_proba(X if c is None else X[:, c])[:, 1] for m, c in zip(fold_models, COLUMNS, strict=True)]
    for got, expected in zip(bag.fold_probas(X), own, strict=True):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(bag.predict_proba(X)[:, 1], sigmoid(mean_logit(own)), rtol=1e-12, atol=0)
    assert bag.n_folds == 4 and bag.n_features_in_ == 5 and bag.model == "logreg"
    np.testing.assert_array_equal(bag.classes_, fold_models[0].classes_)
    with pytest.raises(ValueError, match="5 features"):
        bag.predict_proba(X[:, :4])


def test_from_folds_needs_two_models_and_one_column_list_each(fold_models) -> None:
    with pytest.raises(ValueError, match="at least 2 fold models"):
        BaggedClassifier.from_folds("logreg", fold_models[:1], COLUMNS[:1], n_features=5, categorical_features=[])
    with pytest.raises(ValueError, match="4 models and 3 column lists"):
        BaggedClassifier.from_folds("logreg", fold_models, COLUMNS[:3], n_features=5, categorical_features=[])


# ---------------------------------------------------------------- saving without pickle


def saved_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("kind", ["fitted gbdt", "fitted logreg", "fold models on their own columns"])
def test_save_and_load_give_identical_probabilities(data, fold_models, kind: str, tmp_path: Path) -> None:
    X, y = data
    if kind == "fold models on their own columns":
        bag = BaggedClassifier.from_folds("logreg", fold_models, COLUMNS, n_features=5, categorical_features=[])
    else:
        model = kind.split()[1]
        bag = BaggedClassifier(model=model, params=SMALL_GBDT if model == "gbdt" else None, n_folds=3, categorical_features=[4], random_state=0).fit(X, y)
    meta = json.loads(json.dumps(bag.save(tmp_path, "member")))  # JSON-able, as a bundle stores it

    assert meta["class"] == "BaggedClassifier"
    assert saved_files(tmp_path) == sorted(meta["files"])  # every file it wrote, and nothing else
    assert all(name.startswith(f"member.fold{k}") for k, member in enumerate(meta["members"]) for name in member["files"])
    assert not any((tmp_path / name).read_bytes().startswith(b"\x80") for name in meta["files"])  # no pickle

    loaded = model_class(meta["class"]).load(tmp_path, meta, device="cpu")
    assert isinstance(loaded, BaggedClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(X), bag.predict_proba(X))
    for got, expected in zip(loaded.fold_probas(X), bag.fold_probas(X), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert [None if c is None else c.tolist() for c in loaded.columns_] == [None if c is None else c.tolist() for c in bag.columns_]
    assert loaded.get_params() == bag.get_params()
    np.testing.assert_array_equal(loaded.classes_, bag.classes_)


def test_load_refuses_a_meta_whose_models_and_columns_disagree(data, tmp_path: Path) -> None:
    X, y = data
    meta = BaggedClassifier(model="logreg", n_folds=3, random_state=0).fit(X, y).save(tmp_path, "m")
    with pytest.raises(ValueError, match="3 fold models and 2 column lists"):
        BaggedClassifier.load(tmp_path, meta | {"columns": meta["columns"][:2]})
    with pytest.raises(ValueError, match="meta\\['class'\\]"):
        BaggedClassifier.load(tmp_path, meta["members"][0])


# ---------------------------------------------------------------- threads


def test_n_jobs_reaches_every_fold_model(data) -> None:
    X, y = data
    bag = BaggedClassifier(model="gbdt", params=SMALL_GBDT, n_folds=3, random_state=0, n_jobs=1).fit(X, y)
    assert [e.n_jobs for e in bag.estimators_] == [1, 1, 1]
    before = bag.predict_proba(X)
    bag.set_params(n_jobs=2)  # e.g. a scoring service setting threads on the members it loaded
    after = bag.predict_proba(X)
    assert [e.n_jobs for e in bag.estimators_] == [2, 2, 2]
    np.testing.assert_array_equal(after, before)
    untouched = BaggedClassifier(model="gbdt", params=SMALL_GBDT, n_folds=2, random_state=0).fit(X, y)
    assert [e.n_jobs for e in untouched.estimators_] == [None, None]  # None: each model's own default


def test_n_jobs_reaches_the_fold_models_of_a_bag_built_from_folds(data) -> None:
    X, y = data
    models = [LogRegClassifier(random_state=k).fit(X if c is None else X[:, c], y) for k, c in enumerate(COLUMNS)]
    bag = BaggedClassifier.from_folds("logreg", models, COLUMNS, n_features=5, categorical_features=[])
    expected = bag.predict_proba(X)
    assert [m.n_jobs for m in bag.estimators_] == [None] * 4  # n_jobs None on the bag leaves the fold models alone
    np.testing.assert_array_equal(bag.set_params(n_jobs=1).predict_proba(X), expected)
    assert [m.n_jobs for m in bag.estimators_] == [1] * 4


# ---------------------------------------------------------------- a trained bag: bundle and TreeSHAP


def test_training_saves_the_bag_of_its_fold_models(trained_bag) -> None:
    model, _ = trained_bag
    bag = model.predictor.members["gbdt"]
    assert model.evidence.bagged is True
    assert isinstance(bag, BaggedClassifier) and bag.model == "gbdt" and bag.n_folds == 5
    assert all(isinstance(e, GBDTClassifier) and e.n_estimators == 40 for e in bag.estimators_)
    assert model.predictor.explainer.method == "tree-shap"


def test_a_bundle_of_a_bagged_model_lists_every_fold_file_and_scores_identically(trained_bag, tmp_path: Path) -> None:
    model, frame = trained_bag
    directory = bundle.save(model, tmp_path / "model")

    manifest = bundle.read_manifest(directory)
    predictor_json = json.loads((directory / bundle.PREDICTOR).read_text())
    member = predictor_json["members"]["gbdt"]
    assert member["class"] == "BaggedClassifier" and len(member["members"]) == 5
    fold_files = [f"{bundle.MODELS}/{name}" for fold in member["members"] for name in fold["files"]]
    assert len(fold_files) == 5 and all(f"gbdt.fold{k}" in path for k, path in enumerate(fold_files))
    on_disk = sorted(f"{bundle.MODELS}/{p.name}" for p in (directory / bundle.MODELS).iterdir())
    assert sorted(path for path in manifest["files"] if path.startswith(f"{bundle.MODELS}/")) == sorted(fold_files) == on_disk

    restored = bundle.load(directory, device="cpu")
    expected, actual = score(model.predictor, frame, explain=True), score(restored.predictor, frame, explain=True)
    pd.testing.assert_frame_equal(actual.leads, expected.leads)
    np.testing.assert_array_equal(actual.raw, expected.raw)
    bag = restored.predictor.members["gbdt"]
    assert isinstance(bag, BaggedClassifier) and restored.evidence.bagged is True
    assert [c.tolist() for c in bag.columns_] == [c.tolist() for c in model.predictor.members["gbdt"].columns_]


def test_the_fold_models_of_the_trained_bag_read_different_columns(trained_bag) -> None:
    model, frame = trained_bag
    bag, saved = model.predictor.members["gbdt"], model.evidence.discovery["saved"]
    _, X = features_of(model, frame)
    assert saved and X.shape[1] == len(model.predictor.preprocessor.feature_names_)
    assert len({tuple(c) for c in bag.columns_}) > 1, "the fixture should have folds that keep different discovered features"
    assert [e.n_features_in_ for e in bag.estimators_] == [len(c) for c in bag.columns_]
    assert set(np.concatenate(bag.columns_)) == set(range(X.shape[1]))  # the saved features are the union of the folds'


def test_tree_shap_of_a_bag_adds_up_to_the_bags_log_odds(trained_bag) -> None:
    model, frame = trained_bag
    predictor = model.predictor
    bag = predictor.members["gbdt"]
    features, X = features_of(model, frame)
    assert predictor.explainer.method == "tree-shap"

    contrib = contributions(predictor, features)
    assert list(contrib.columns) == predictor.schema.features
    expected_values = [e.booster_.predict(X[:, c], pred_contrib=True)[:, -1] for e, c in zip(bag.estimators_, bag.columns_, strict=True)]
    folds = np.array(bag.fold_probas(X))
    inside = ((folds > 1e-6) & (folds < 1 - 1e-6)).all(axis=0)  # hotleads.metrics.logit clips beyond these
    assert inside.mean() > 0.5
    bag_log_odds = np.mean([logit(p) for p in folds], axis=0)
    total = contrib.sum(axis=1).to_numpy() + np.mean(expected_values, axis=0)
    np.testing.assert_allclose(total[inside], bag_log_odds[inside], atol=1e-6)
    np.testing.assert_allclose(logit(bag.predict_proba(X)[:, 1])[inside], bag_log_odds[inside], atol=1e-6)
    # the matrix scoring passes gives the same contributions
    pd.testing.assert_frame_equal(contributions(predictor, features, matrix=X), contrib)


def test_tree_shap_of_a_bag_gives_each_column_the_mean_of_its_fold_models_contributions(trained_bag) -> None:
    """Each fold model's contributions land on the columns it reads (a discovered feature's on the columns it is computed from)."""
    model, frame = trained_bag
    predictor = model.predictor
    bag = predictor.members["gbdt"]
    features, X = features_of(model, frame)
    per_feature = np.zeros(X.shape)
    for estimator, columns in zip(bag.estimators_, bag.columns_, strict=True):
        per_feature[:, columns] += estimator.booster_.predict(X[:, columns], pred_contrib=True)[:, :-1] / len(bag.estimators_)
    expected = pd.DataFrame(0.0, index=features.index, columns=predictor.schema.features)
    sources = source_columns(predictor.preprocessor)
    for j, name in enumerate(predictor.preprocessor.feature_names_):
        for source in sources[name]:
            expected[source] += per_feature[:, j] / len(sources[name])
    assert all(name in sources for name in model.evidence.discovery["saved"])  # discovered features are shared out too
    pd.testing.assert_frame_equal(contributions(predictor, features), expected, check_exact=False, atol=1e-12, rtol=0)
