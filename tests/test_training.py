"""Tests of training (hotleads.training): cross-fitting, thresholds, evidence, warnings; and scoring what it trained."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score

from hotleads import registry, synth, training
from hotleads.bundle import load, save
from hotleads.estimators import GBDTClassifier
from hotleads.exceptions import DataError, ParameterError
from hotleads.io import read_table
from hotleads.metrics import classification_metrics
from hotleads.model import LeadModel, ThresholdSource
from hotleads.schema import DataWarning, prepare
from hotleads.scoring import evaluate, score
from hotleads.threshold import bagged_f1_threshold, f1_optimal_threshold
from hotleads.training import TrainOptions, train, train_file

SMALL_GBDT = functools.partial(GBDTClassifier, n_estimators=30)


@pytest.fixture(scope="module")
def frame(dataset: Path) -> pd.DataFrame:
    return read_table(dataset / "train.csv")


@pytest.fixture(scope="module")
def small_gbdt():
    """Registry "gbdt" with 30 trees, to keep the many small trainings here fast."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.MODELS, "gbdt", SMALL_GBDT)
        yield


@pytest.fixture(scope="module")
def pair(frame: pd.DataFrame, small_gbdt) -> LeadModel:
    """gbdt (small) and logreg, 3 folds, weighted ensemble."""
    return train(frame, TrainOptions(models=["gbdt", "logreg"], folds=3, ensemble="weighted"), source="train.csv")


def features_of(model: LeadModel, frame: pd.DataFrame) -> np.ndarray:
    predictor = model.predictor
    return predictor.preprocessor.transform(prepare(frame, predictor.schema, labelled=False).features)


class Memorizer(ClassifierMixin, BaseEstimator):
    """Scores the rows it was fitted on with their label and every other row 0.5, so leakage shows."""

    fitted_rows: list[int] = []

    def __init__(self, *, categorical_features=(), random_state=0):
        self.categorical_features = categorical_features
        self.random_state = random_state

    def fit(self, X, y):
        self.seen_ = {row.tobytes(): float(label) for row, label in zip(X, y, strict=True)}
        self.classes_ = np.array([0, 1])
        Memorizer.fitted_rows.append(len(X))
        return self

    def predict_proba(self, X):
        positive = np.array([self.seen_.get(row.tobytes(), 0.5) for row in X])
        return np.column_stack([1 - positive, positive])


def test_oof_probabilities_come_from_estimators_that_did_not_see_those_rows(frame: pd.DataFrame, monkeypatch) -> None:
    monkeypatch.setitem(registry.MODELS, "memo", Memorizer)
    monkeypatch.setattr(Memorizer, "fitted_rows", [])
    with pytest.warns(DataWarning, match=r"degenerate: every fold's model gave all its held-out leads the same score"):  # 0.5 for all
        model = train(frame, TrainOptions(models=["memo"], folds=3))
    X = features_of(model, frame)
    assert len({row.tobytes() for row in X}) == len(X)  # the construction needs distinct rows
    assert (model.evidence.member_oof["memo"] == 0.5).all()  # no row was scored by an estimator fitted on it
    np.testing.assert_array_equal(model.predictor.members["memo"].predict_proba(X)[:, 1], model.evidence.y)  # the kept estimator saw every row
    n = len(frame)
    assert sorted(Memorizer.fitted_rows[:3]) == pytest.approx([n * 2 / 3] * 3, abs=1)
    assert Memorizer.fitted_rows[3:] == [n]


def test_single_model_threshold_is_chosen_on_its_oof_output(trained: LeadModel) -> None:
    predictor, evidence = trained.predictor, trained.evidence
    assert predictor.name == "gbdt" and predictor.combiner is None
    np.testing.assert_array_equal(evidence.oof_uncalibrated, evidence.member_oof["gbdt"])
    assert predictor.threshold.value == bagged_f1_threshold(evidence.y, evidence.oof, seed=evidence.seed)
    assert (predictor.threshold.source, predictor.threshold.objective) == (ThresholdSource.OOF_F1, "f1")
    assert trained.oof_metrics()["f1"] == pytest.approx(f1_score(evidence.y, evidence.oof >= predictor.threshold.value))
    assert trained.oof_metrics()["f1"] <= f1_optimal_threshold(evidence.y, evidence.oof)[1]


def test_oof_output_is_honest(trained: LeadModel, dataset: Path) -> None:
    """Scores of the training rows by the final model are better than their OOF scores."""
    X = features_of(trained, read_table(dataset / "train.csv"))
    in_sample = classification_metrics(trained.evidence.y, trained.predictor.members["gbdt"].predict_proba(X)[:, 1], 0.5)["roc_auc"]
    assert trained.oof_metrics()["roc_auc"] < in_sample


def test_train_file_records_the_source_and_its_checksum(trained: LeadModel, dataset: Path) -> None:
    path = dataset / "train.csv"
    training = trained.evidence.training
    assert training == {
        "source": str(path),
        "rows": 900,
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "column_auc": training["column_auc"],
        "warnings": [],
    }
    assert (trained.evidence.seed, trained.evidence.folds) == (0, 3)


def test_ensemble_threshold_and_leaderboard_come_from_oof(pair: LeadModel) -> None:
    predictor, evidence = pair.predictor, pair.evidence
    assert predictor.name == "ensemble" and predictor.combiner.method == "weighted"
    assert predictor.threshold.value == bagged_f1_threshold(evidence.y, evidence.oof, seed=evidence.seed)
    board = {row["model"]: row for row in evidence.leaderboard}
    assert list(board) == ["gbdt", "logreg", "ensemble"]
    assert [row["final"] for row in board.values()] == [False, False, True]
    for name, oof in evidence.member_oof.items():
        threshold = bagged_f1_threshold(evidence.y, oof, seed=evidence.seed)
        assert board[name]["threshold"] == threshold == evidence.member_threshold(name)
        assert board[name]["f1"] == pytest.approx(f1_score(evidence.y, oof >= threshold))
    assert board["ensemble"]["threshold"] == predictor.threshold.value
    assert board["ensemble"]["f1"] == pytest.approx(pair.oof_metrics()["f1"])


def test_a_user_threshold_is_kept(frame: pd.DataFrame) -> None:
    model = train(frame, TrainOptions(models=["logreg"], folds=3, threshold=0.3))
    threshold = model.predictor.threshold
    assert (threshold.value, threshold.source, threshold.objective) == (0.3, ThresholdSource.USER, None)
    assert not threshold.chose("f1")
    assert model.evidence.final_row["threshold"] == 0.3
    assert model.oof_metrics()["threshold"] == 0.3


def test_same_seed_same_model_other_seed_other_folds(frame: pd.DataFrame, small_gbdt) -> None:
    first = train(frame, TrainOptions(models=["gbdt"], folds=3, seed=5))
    again = train(frame, TrainOptions(models=["gbdt"], folds=3, seed=5))
    other = train(frame, TrainOptions(models=["gbdt"], folds=3, seed=6))
    np.testing.assert_array_equal(first.evidence.oof, again.evidence.oof)
    assert first.predictor.threshold == again.predictor.threshold
    assert not np.array_equal(first.evidence.oof, other.evidence.oof)


def test_progress_reports_every_step(frame: pd.DataFrame) -> None:
    calls = []
    train(frame, TrainOptions(models=["logreg"], folds=3), progress=lambda label, done, total: calls.append((done, total)))
    assert [done for done, _ in calls] == list(range(1, len(calls) + 1))
    assert calls[-1][0] == calls[-1][1] >= 3


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"folds": 1}, r"--folds must be an integer >= 2; got 1\."),
        ({"threshold": 1.5}, r"--threshold must be between 0 and 1 \(exclusive\); got 1\.5\."),
        ({"threshold": 0.0}, r"--threshold must be between 0 and 1"),
        ({"ensemble": "median"}, r"--ensemble must be one of mean, weighted, stack, best; got 'median'\."),
        ({"models": ["gbtd"]}, r"unknown model 'gbtd'; did you mean 'gbdt'\?"),
        ({"models": []}, r"--models is empty"),
        ({"models": ["gbdt", "gbdt"]}, r"--models names a model twice"),
        ({"seed": -1}, r"--seed must be an integer from 0 to 4294967291 with 5 folds; got -1\."),
        ({"neural_params": {"epochs": 0}}, r"^--epochs must be an int >= 1; got 0\.$"),  # no neural model, still checked
        ({"neural_params": {"device": "gpu"}}, r"^--device must be .*; got 'gpu'; did you mean 'cuda'\?$"),
        ({"neural_params": {"epoch": 3}}, r"neural parameter 'epoch' is unknown to the neural models; choose from .*epochs"),
        ({"models": ["transformer"], "neural_params": {"n_heads": 3}}, r"The 'n_heads' parameter of TransformerClassifier must divide"),
        ({"validation": 0.0}, r"^--validation must be a share of the rows above 0 and at most 0\.5 \(e\.g\. 0\.1\); got 0\.0\.$"),
        ({"validation": 0.6}, r"^--validation must be a share of the rows above 0 and at most 0\.5 \(e\.g\. 0\.1\); got 0\.6\.$"),
    ],
)
def test_bad_options_are_refused_before_any_work(frame: pd.DataFrame, options: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        train(frame, TrainOptions(**options))
    with pytest.raises(ParameterError, match=match):
        train_file("no-such-file.csv", TrainOptions(**options))  # checked before the file is read


def test_too_few_minority_rows_for_the_folds(frame: pd.DataFrame) -> None:
    positives = frame.index[frame["is_hot_lead"] == "1"]
    small = frame.drop(index=positives[3:])
    with pytest.raises(DataError, match=r"t\.csv: the smaller class has 3 row\(s\), fewer than --folds 5; add labelled rows or lower --folds\."):
        train(small, TrainOptions(models=["logreg"], folds=5), source="t.csv")


# ---------------------------------------------------------------- warnings about the run: small tables, leaks


@pytest.fixture(scope="module")
def thirty() -> pd.DataFrame:
    """30 generated companies, 9 of them hot: real signal, far too few rows for the old leaf size of 50."""
    frame, _ = synth.make_companies(30, seed=0)
    assert frame["is_hot_lead"].sum() == 9
    return frame


def test_thirty_rows_train_a_gbdt_that_ranks(thirty: pd.DataFrame) -> None:
    with pytest.warns(DataWarning, match=r"only 9 of the 30 labelled rows are hot leads \(1\), fewer than 30: .* label more rows"):
        model = train(thirty, TrainOptions(models=["gbdt"]))
    oof = model.evidence.member_oof["gbdt"]
    assert np.ptp(oof) > 0.5  # before: 0.5 for every lead
    assert classification_metrics(model.evidence.y, oof, 0.5)["roc_auc"] > 0.8  # measured 0.95
    assert [w["kind"] for w in model.evidence.training["warnings"]] == ["small-class"]


def test_degenerate_scores_are_warned_about(thirty: pd.DataFrame, monkeypatch) -> None:
    monkeypatch.setitem(registry.MODELS, "gbdt", functools.partial(GBDTClassifier, min_child_samples=50))  # the old fixed leaf size
    with pytest.warns(DataWarning) as caught:
        model = train(thirty, TrainOptions(models=["gbdt"]))
    assert [w["kind"] for w in model.evidence.training["warnings"]] == ["small-class", "degenerate"]
    degenerate = model.evidence.training["warnings"][1]["message"]
    assert degenerate.startswith("the out-of-fold scores are degenerate: every fold's model gave all its held-out leads the same score")
    assert "Add labelled rows (here 30, 9 hot), try --models logreg, or lower --folds" in degenerate
    assert [str(w.message) for w in caught] == [w["message"] for w in model.evidence.training["warnings"]]


def test_a_healthy_table_trains_without_warnings(small_gbdt) -> None:
    frame, _ = synth.make_companies(2000, seed=1)
    model = train(frame, TrainOptions(models=["gbdt"], folds=3, features="raw"))  # any warning fails the test
    assert model.evidence.training["warnings"] == []
    assert set(model.evidence.training["column_auc"]) == set(model.predictor.schema.features)
    assert 0.6 < max(model.evidence.training["column_auc"].values()) < 0.99


def test_a_leak_column_is_named_with_the_drop_hint_and_training_completes(frame: pd.DataFrame, small_gbdt) -> None:
    hot = frame["is_hot_lead"] == "1"
    leaky = frame.assign(close_value=np.where(hot, np.random.default_rng(0).uniform(5e4, 2e5, len(frame)), 0.0))
    hint = r"column 'close_value' alone separates hot leads from the rest out of fold \(ROC-AUC 1\.000\); if it is only known after the outcome, drop it with --drop close_value"
    with pytest.warns(DataWarning, match=hint):
        model = train(leaky, TrainOptions(models=["gbdt"], folds=3, features="raw"))
    assert model.evidence.training["warnings"] == [{"kind": "leak", "column": "close_value", "message": model.evidence.training["warnings"][0]["message"]}]
    assert model.evidence.training["column_auc"]["close_value"] == 1.0
    assert model.oof_metrics()["f1"] > 0.95  # trained, on the leak
    dropped = train(leaky, TrainOptions(models=["gbdt"], folds=3, features="raw"), drop=["close_value"])  # no warning now
    assert "close_value" not in dropped.evidence.training["column_auc"]


# ---------------------------------------------------------------- --validation: one stratified split instead of k folds and a refit

SHARE = 0.25  # of 900 rows: 225 validation rows, 36 of them hot (>= 30, so no small-class warning)


@pytest.fixture(scope="module")
def split_model(frame: pd.DataFrame, small_gbdt) -> LeadModel:
    """gbdt (small) fitted once on 75 % of the rows; threshold and calibration from the other 25 %, on 3 inner folds."""
    return train(frame, TrainOptions(models=["gbdt"], validation=SHARE, folds=3, features="raw"), source="train.csv")


def labels(frame: pd.DataFrame) -> np.ndarray:
    return (frame["is_hot_lead"] == "1").to_numpy(dtype=int)


def test_a_validation_split_fits_each_model_once_on_the_fit_rows(frame: pd.DataFrame, monkeypatch) -> None:
    monkeypatch.setitem(registry.MODELS, "memo", Memorizer)
    monkeypatch.setattr(Memorizer, "fitted_rows", [])
    with pytest.warns(DataWarning, match=r"degenerate"):  # the kept model scores every validation row 0.5
        model = train(frame, TrainOptions(models=["memo"], validation=SHARE, folds=3, features="raw"))
    valid = model.evidence.validation_rows
    assert Memorizer.fitted_rows == [len(frame) - len(valid)] == [675]  # one fit, no refit on all rows
    fit = np.setdiff1d(np.arange(len(frame)), valid)
    proba = model.predictor.members["memo"].predict_proba(features_of(model, frame))[:, 1]
    np.testing.assert_array_equal(proba[fit], labels(frame)[fit])  # the saved member is the one fitted on the fit rows
    assert (proba[valid] == 0.5).all() and (model.evidence.member_oof["memo"] == 0.5).all()  # and never saw the validation rows


def test_the_validation_split_is_stratified_and_seeded(frame: pd.DataFrame, split_model: LeadModel, small_gbdt) -> None:
    valid, y = split_model.evidence.validation_rows, labels(frame)
    assert len(valid) == 225 and np.all(np.diff(valid) > 0)
    assert abs(y[valid].sum() - SHARE * y.sum()) <= 1  # each class in its share
    again = train(frame, TrainOptions(models=["gbdt"], validation=SHARE, folds=3, features="raw"))
    np.testing.assert_array_equal(again.evidence.validation_rows, valid)
    np.testing.assert_array_equal(again.evidence.oof, split_model.evidence.oof)
    assert again.predictor.threshold == split_model.predictor.threshold
    other = train(frame, TrainOptions(models=["gbdt"], validation=SHARE, folds=3, features="raw", seed=1))
    assert not np.array_equal(other.evidence.validation_rows, valid)


def test_validation_evidence_covers_only_the_validation_rows(frame: pd.DataFrame, split_model: LeadModel) -> None:
    predictor, evidence = split_model.predictor, split_model.evidence
    np.testing.assert_array_equal(evidence.y, labels(frame)[evidence.validation_rows])
    assert len(evidence.oof) == len(evidence.oof_uncalibrated) == len(evidence.member_oof["gbdt"]) == 225
    assert predictor.threshold.value == bagged_f1_threshold(evidence.y, evidence.oof, seed=evidence.seed)
    assert evidence.final_row["f1"] == pytest.approx(split_model.oof_metrics()["f1"])
    assert (evidence.validation, evidence.folds, evidence.training["rows"]) == (SHARE, 3, 900)
    assert evidence.held_out_title == "validation split (25 %, 225 rows)"
    assert predictor.threshold.validation == SHARE
    assert predictor.threshold.reason() == "it gives the highest F1 on the validation split (25 % of the training rows)"
    X = features_of(split_model, frame)  # the member scores what it read: the same probabilities on the validation rows
    np.testing.assert_allclose(predictor.members["gbdt"].predict_proba(X[evidence.validation_rows])[:, 1], evidence.member_oof["gbdt"])


def test_feature_discovery_sees_only_the_fit_rows(frame: pd.DataFrame, monkeypatch, small_gbdt) -> None:
    seen, discover = [], training.discover
    monkeypatch.setattr(training, "discover", lambda base, X, y, **kw: seen.append(len(y)) or discover(base, X, y, **kw))
    model = train(frame, TrainOptions(models=["gbdt"], validation=SHARE, folds=3))
    assert seen == [675]  # once, on the fit rows: the validation rows' labels choose no feature
    assert model.evidence.discovery["kept_per_fold"] == [len(model.predictor.preprocessor.derived_)]


def test_a_validation_model_saves_and_loads(split_model: LeadModel, test_frame: pd.DataFrame, tmp_path: Path) -> None:
    loaded = load(save(split_model, tmp_path / "model"))
    assert (loaded.evidence.validation, loaded.evidence.held_out_title) == (SHARE, split_model.evidence.held_out_title)
    np.testing.assert_array_equal(loaded.evidence.validation_rows, split_model.evidence.validation_rows)
    np.testing.assert_array_equal(loaded.evidence.oof, split_model.evidence.oof)
    assert loaded.predictor.threshold == split_model.predictor.threshold
    expected, actual = (score(m.predictor, test_frame, labelled=True) for m in (split_model, loaded))
    np.testing.assert_array_equal(actual.probability, expected.probability)
    assert evaluate(loaded, actual)["metrics"]["f1"] > 0.5


def test_an_ensemble_on_a_validation_split(frame: pd.DataFrame, test_frame: pd.DataFrame, small_gbdt) -> None:
    model = train(frame, TrainOptions(models=["gbdt", "logreg"], validation=SHARE, folds=3, ensemble="weighted", features="raw"))
    predictor, evidence = model.predictor, model.evidence
    assert predictor.combiner.method == "weighted" and set(evidence.member_oof) == {"gbdt", "logreg"}
    assert [(row["model"], row["final"]) for row in evidence.leaderboard] == [("gbdt", False), ("logreg", False), ("ensemble", True)]
    assert predictor.threshold.value == bagged_f1_threshold(evidence.y, evidence.oof, seed=evidence.seed)
    assert evaluate(model, score(predictor, test_frame, labelled=True))["metrics"]["f1"] > 0.5


def test_a_validation_split_fits_on_a_view_of_one_matrix_in_split_order(frame: pd.DataFrame, small_gbdt, monkeypatch) -> None:
    """The matrix is built once (a block of rows at a time), fit rows then validation rows: a fit reads
    a view of it (taking the fit rows would copy nine tenths of a big table), and each row is the table's row."""
    monkeypatch.setattr(training, "MATRIX_BLOCK_ROWS", 64)
    inputs = training.cross_fit_inputs(frame, TrainOptions(models=["gbdt"], validation=SHARE, folds=3))
    fit_rows, valid_rows = inputs.folds[0]
    fit_matrix, held_out_matrix = inputs.fold_data(0)
    assert np.shares_memory(fit_matrix, inputs.X) and np.shares_memory(held_out_matrix, inputs.X)
    whole = inputs.preprocessor.transform(inputs.prepared.features)
    np.testing.assert_array_equal(fit_matrix, whole[fit_rows])
    np.testing.assert_array_equal(held_out_matrix, whole[valid_rows])
    rows = np.array([5, 0, 700, 3])
    np.testing.assert_array_equal(inputs.matrix(rows), whole[rows])
    np.testing.assert_array_equal(inputs.matrix(slice(0, 4)), whole[:4])
    assert inputs.prepared.ids is None  # checked when typed, never read by training


def test_a_validation_split_lets_the_typed_features_go_before_the_fits(frame: pd.DataFrame, small_gbdt, monkeypatch) -> None:
    """The fits read the matrix alone: the profile, the explanations' references, the held-out rows
    and the importance sample are taken first, and the typed features (as large as the matrix) are
    freed. Fails if a reference to them survives into the fits, or if what was taken differs."""
    import gc
    import weakref

    from hotleads.explain import column_references
    from hotleads.profile import profile_table

    seen: dict[str, object] = {}
    held_for_later, cross_fit_all = training._held_for_later, training._cross_fit_all

    def spy_held(typed, inputs, options):
        seen["features"] = weakref.ref(inputs.prepared.features)
        return held_for_later(typed, inputs, options)

    def spy_fits(inputs, *args, **kwargs):
        gc.collect()
        seen["alive"] = seen["features"]() is not None
        return cross_fit_all(inputs, *args, **kwargs)

    monkeypatch.setattr(training, "_held_for_later", spy_held)
    monkeypatch.setattr(training, "_cross_fit_all", spy_fits)
    options = TrainOptions(models=["gbdt"], validation=SHARE, folds=3)
    model = train(frame, options)
    assert seen["alive"] is False
    typed = training.typed_table(frame, options)
    assert model.evidence.profile == profile_table(typed.prepared.features, typed.schema, typed.prepared.y)
    assert model.predictor.explainer.reference == column_references(typed.prepared.features, typed.schema)[0]
    assert model.evidence.importance["rows"] == min(len(frame), 2000)


def test_too_few_minority_rows_in_the_validation_split(frame: pd.DataFrame) -> None:
    positives = frame.index[frame["is_hot_lead"] == "1"]
    small = frame.drop(index=positives[20:])  # 20 hot leads: a 10 % split holds 2
    message = r"t\.csv: --validation 0\.1 sets aside 2 row\(s\) of the smaller class, fewer than --folds 5 .*; raise --validation, add labelled rows or lower --folds\."
    with pytest.raises(DataError, match=message):
        train(small, TrainOptions(models=["logreg"], validation=0.1), source="t.csv")
    with pytest.raises(DataError, match=r"sets aside 0 row\(s\)"):  # one hot lead: no stratified split at all
        train(frame.drop(index=positives[1:]), TrainOptions(models=["logreg"], validation=0.1), source="t.csv")


def test_train_file_lets_the_table_as_read_go_before_fitting(tmp_path: Path, monkeypatch) -> None:
    """Training memory: once typed, the table as read (as large as the typed one) is freed, so
    fitting never holds both. Fails if train_file keeps a reference to it."""
    import gc
    import weakref

    synth.write_dataset(tmp_path, rows=400, seed=0)
    seen: dict[str, object] = {}
    typed_table, train_typed = training.typed_table, training.train_typed

    def spy_typed(frame, *args, **kwargs):
        seen["frame"] = weakref.ref(frame)
        return typed_table(frame, *args, **kwargs)

    def spy_train(typed, *args, **kwargs):
        gc.collect()
        seen["alive"] = seen["frame"]() is not None
        return train_typed(typed, *args, **kwargs)

    monkeypatch.setattr(training, "typed_table", spy_typed)
    monkeypatch.setattr(training, "train_typed", spy_train)
    train_file(tmp_path / "train.csv", TrainOptions(models=["logreg"], features="raw", folds=3))
    assert seen["alive"] is False
