"""Tests of ``--models auto``, ``--bagging`` and ``--time-limit`` in training and on the command line.

``auto`` cross-fits the cheap models (gbdt, logreg) and keeps the candidate (a model alone or
their ensemble) with the highest nested out-of-fold F1; ``bagging`` saves each member as the bag
of its fold models (auto: small tables with at least BAG_MIN_FOLDS folds, never with a
validation split); ``time_limit`` spends the time left on more gbdt seeds, a short tuning run
and the cnn (with a history: the sequence models first), and logs each step.
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import assert_ok, assert_user_error, invoke, snapshot

from hotleads import bundle, synth, training
from hotleads.bagging import BaggedClassifier
from hotleads.budget import EXTRA_SEEDS, NO_FOLDS, NO_GBDT, NOT_BAGGED, SEQUENCE_NEURAL, Budget, spend
from hotleads.estimators import GBDTClassifier, LogRegClassifier
from hotleads.exceptions import HotleadsWarning, ParameterError
from hotleads.folds import stratified_folds
from hotleads.schema import prepare
from hotleads.selection import Selection
from hotleads.training import BAG_MAX_ROWS, BAG_MIN_FOLDS, TrainOptions, train

SMALL = {"gbdt": {"n_estimators": 40}}
STEP_ORDER = [f"gbdt seed {k + 2}" for k in range(EXTRA_SEEDS)] + ["gbdt-tuned", "cnn"]
STATUSES = {"fitted", "skipped: too little time left", "stopped: would not end in time", "no trial finished in time", NOT_BAGGED, NO_FOLDS, NO_GBDT}


@pytest.fixture(scope="module")
def companies() -> pd.DataFrame:
    return synth.make_companies(500, seed=1)[0]  # the folds of its first 300 rows keep different discovered features


@pytest.fixture(scope="module")
def auto_model(companies: pd.DataFrame):
    """The defaults: --models auto, --features auto, --bagging auto (5 folds, a small table: bagged), on the first 300 rows."""
    return train(companies.iloc[:300], TrainOptions(seed=0, model_params=SMALL))


def matrix_of(model, frame: pd.DataFrame) -> np.ndarray:
    predictor = model.predictor
    return predictor.preprocessor.transform(prepare(frame, predictor.schema, labelled=False).features)


def tried(model) -> list[str]:
    """The members on the leaderboard (every model tried), in order."""
    return [row["model"] for row in model.evidence.leaderboard if not row["final"]]


# ---------------------------------------------------------------- options


def test_auto_and_bagging_auto_are_the_defaults() -> None:
    options = TrainOptions()
    assert options.models == ["auto"] and options.model_names == ["gbdt", "logreg"]
    assert options.bagging == "auto" and options.time_limit is None
    assert TrainOptions(models=["cnn", "gbdt"]).model_names == ["cnn", "gbdt"]


def test_bags_follows_the_rows_the_folds_and_the_validation_split() -> None:
    assert TrainOptions().bags(BAG_MAX_ROWS) and not TrainOptions().bags(BAG_MAX_ROWS + 1)
    assert TrainOptions(folds=BAG_MIN_FOLDS).bags(100) and not TrainOptions(folds=BAG_MIN_FOLDS - 1).bags(100)
    assert not TrainOptions(folds=2).bags(100)
    assert TrainOptions(bagging="on", folds=2).bags(BAG_MAX_ROWS * 10)
    assert not TrainOptions(bagging="off").bags(100)
    assert not TrainOptions(validation=0.2).bags(100) and not TrainOptions(validation=0.2, folds=10).bags(100)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (TrainOptions(bagging="maybe"), "--bagging must be one of auto, on, off; got 'maybe'"),
        (TrainOptions(bagging="on", validation=0.2), "--bagging on needs the fold models"),
        (TrainOptions(time_limit=0), "--time-limit must be a positive, finite number of seconds"),
        (TrainOptions(time_limit=-3.0), "--time-limit must be a positive, finite number of seconds"),
        (TrainOptions(time_limit=float("nan")), "--time-limit must be a positive, finite number of seconds"),
        (TrainOptions(time_limit=float("inf")), "--time-limit must be a positive, finite number of seconds; got inf"),
        (TrainOptions(models=["auto", "gbdt"]), "--models auto chooses among the models by itself"),
        (TrainOptions(model_params={"cnn": {"epochs": 2}}), "--params has parameters for cnn"),
    ],
)
def test_bad_options_are_refused_before_any_work(options: TrainOptions, words: str) -> None:
    with pytest.raises(ParameterError, match=words.replace("(", r"\(")):
        options.check()


# ---------------------------------------------------------------- --models auto


def test_auto_tries_gbdt_and_logreg_and_keeps_the_chosen_candidate_only(auto_model) -> None:
    evidence, predictor = auto_model.evidence, auto_model.predictor
    assert tried(auto_model) == ["gbdt", "logreg"]
    selection = Selection.from_dict(evidence.selection)
    assert list(selection.candidates) == ["gbdt", "logreg", "gbdt+logreg"]
    assert selection.candidates["gbdt+logreg"]["members"] == ["gbdt", "logreg"]
    assert selection.chosen == max(selection.candidates, key=lambda name: selection.candidates[name]["f1"])
    assert list(predictor.members) == selection.members
    assert list(evidence.member_oof) == selection.members
    assert (predictor.combiner is None) == (len(selection.members) == 1)
    if predictor.combiner is not None:
        assert predictor.combiner.members == selection.members
    assert predictor.name == (selection.chosen if len(selection.members) == 1 else "ensemble")
    assert selection.held_out == "out-of-fold predictions"
    assert all(0.0 <= c["f1"] <= 1.0 for c in selection.candidates.values()) and 0.0 <= selection.nested_f1 <= 1.0


def test_naming_the_models_makes_no_selection(companies: pd.DataFrame) -> None:
    model = train(companies.iloc[:300], TrainOptions(models=["logreg"], features="raw", folds=3))
    assert model.evidence.selection is None and list(model.predictor.members) == ["logreg"]


def test_a_small_table_is_bagged_by_default_and_the_bag_reads_the_union_of_the_folds_features(auto_model, companies: pd.DataFrame) -> None:
    evidence, predictor = auto_model.evidence, auto_model.predictor
    assert evidence.bagged is True
    saved = evidence.discovery["saved"]
    names = predictor.preprocessor.feature_names_
    base = len(names) - len(saved)
    assert saved and names[base:] == saved  # the union of the folds' discovered features, after the base columns
    X = matrix_of(auto_model, companies.iloc[:300])
    folds = stratified_folds(evidence.y, evidence.folds, seed=evidence.seed)
    for name, bag in predictor.members.items():
        assert isinstance(bag, BaggedClassifier) and bag.model == name and len(bag.estimators_) == evidence.folds
        assert len({tuple(c) for c in bag.columns_}) > 1  # the folds kept different features
        assert set(np.concatenate(bag.columns_)) == set(range(X.shape[1]))
        for k, (estimator, columns) in enumerate(zip(bag.estimators_, bag.columns_, strict=True)):
            assert estimator.n_features_in_ == len(columns)
            np.testing.assert_array_equal(columns[:base], np.arange(base))
            assert len(columns) - base == evidence.discovery["kept_per_fold"][k]
            _, valid = folds[k]  # each fold model, reading its columns of the saved matrix, gives its own out-of-fold output
            np.testing.assert_allclose(estimator.predict_proba(X[valid][:, columns])[:, 1], evidence.member_oof[name][valid], rtol=0, atol=1e-12)


def test_auto_with_bagging_is_reproducible(companies: pd.DataFrame) -> None:
    frame = companies.iloc[:300]
    options = TrainOptions(features="raw", bagging="on", seed=3, model_params=SMALL)
    first, second = train(frame, options), train(frame, options)
    assert first.evidence.selection == second.evidence.selection
    assert first.evidence.bagged and second.evidence.bagged
    X = matrix_of(first, frame)
    for name in first.predictor.members:
        np.testing.assert_array_equal(first.predictor.members[name].predict_proba(X), second.predictor.members[name].predict_proba(X))
    np.testing.assert_array_equal(first.evidence.oof, second.evidence.oof)


# ---------------------------------------------------------------- --bagging


@pytest.mark.parametrize(
    ("options", "bagged", "fold_models"),
    [
        (TrainOptions(models=["logreg"], bagging="on", folds=2), True, 2),
        (TrainOptions(models=["logreg"], bagging="off", folds=5), False, None),
        (TrainOptions(models=["logreg"], bagging="auto", folds=BAG_MIN_FOLDS), True, BAG_MIN_FOLDS),
        (TrainOptions(models=["logreg"], bagging="auto", folds=2), False, None),  # too few folds under auto
        (TrainOptions(models=["logreg"], bagging="auto", validation=0.4), False, None),
        (TrainOptions(models=["logreg"], bagging="off", validation=0.4), False, None),
    ],
    ids=["on-2-folds", "off", "auto", "auto-2-folds", "auto-validation", "off-validation"],
)
def test_bagging_on_off_auto(companies: pd.DataFrame, options: TrainOptions, bagged: bool, fold_models: int | None) -> None:
    options.features = "raw"
    model = train(companies if options.validation else companies.iloc[:300], options)  # 200 validation rows: enough of each class
    member = model.predictor.members["logreg"]
    assert model.evidence.bagged is bagged
    if bagged:
        assert isinstance(member, BaggedClassifier) and len(member.estimators_) == fold_models
        assert all(isinstance(e, LogRegClassifier) for e in member.estimators_)
    else:
        assert isinstance(member, LogRegClassifier)


def test_bagging_auto_refits_above_the_row_limit(companies: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training, "BAG_MAX_ROWS", 299)
    model = train(companies.iloc[:300], TrainOptions(models=["logreg"], features="raw"))
    assert model.evidence.bagged is False and isinstance(model.predictor.members["logreg"], LogRegClassifier)


def test_auto_on_a_validation_split_is_not_bagged_and_says_so(companies: pd.DataFrame) -> None:
    model = train(companies, TrainOptions(features="raw", validation=0.4, model_params=SMALL))
    assert model.evidence.bagged is False and tried(model) == ["gbdt", "logreg"]
    assert not any(isinstance(m, BaggedClassifier) for m in model.predictor.members.values())
    selection = Selection.from_dict(model.evidence.selection)
    assert selection.held_out == "validation split (40 % of the training rows)"
    assert "validation split (40 % of the training rows)" in selection.reason()
    assert list(model.predictor.members) == selection.members


# ---------------------------------------------------------------- --time-limit


def check_log(log: dict, limit: float, order: list[str] = STEP_ORDER) -> list[tuple[str, str]]:
    """The documented shape of evidence.training["time_limit"], its steps in ``order``; returns its (step, status) pairs."""
    assert set(log) == {"limit", "spent", "steps"} and log["limit"] == limit
    steps = [(step["step"], step["status"]) for step in log["steps"]]
    assert all(set(step) == {"step", "status", "seconds"} and step["seconds"] >= 0 for step in log["steps"])
    assert all(status in STATUSES for _, status in steps), steps
    names = [name for name, _ in steps]
    assert names == sorted(names, key=order.index) and len(set(names)) == len(names), names  # in the documented order, each once
    for k in range(1, EXTRA_SEEDS):  # a later seed only after the one before it was fitted
        if f"gbdt seed {k + 2}" in names:
            assert (f"gbdt seed {k + 1}", "fitted") in steps
    return steps


def test_a_time_limit_is_kept_and_logged() -> None:
    frame = synth.make_companies(600, seed=1)[0]
    started = time.perf_counter()
    with warnings.catch_warnings():  # a loaded CI machine may pass 25 s: the bound below allows 5 s more
        warnings.filterwarnings("ignore", "training took .* over --time-limit", HotleadsWarning)
        model = train(frame, TrainOptions(features="raw", time_limit=25))
    took = time.perf_counter() - started

    assert took <= 25 + 5, f"training took {took:.1f} s with --time-limit 25"
    log = model.evidence.training["time_limit"]
    steps = check_log(log, 25)
    assert [name for name, _ in steps][:1] == ["gbdt seed 2"]  # gbdt is bagged here, so the seeds come first
    assert log["spent"] <= took
    fitted = {name for name, status in steps if status == "fitted"}
    selection = Selection.from_dict(model.evidence.selection)
    for name in fitted & {"gbdt-tuned", "cnn"}:  # new members are tried like the cheap ones
        assert name in tried(model) and name in selection.candidates
    assert set(tried(model)) == {"gbdt", "logreg"} | (fitted & {"gbdt-tuned", "cnn"})
    assert list(model.predictor.members) == selection.members
    if "gbdt" in model.predictor.members:  # the extra seeds' fold models joined the gbdt bag
        seeds = 1 + sum(name.startswith("gbdt seed") for name in fitted)
        assert len(model.predictor.members["gbdt"].estimators_) == 5 * seeds


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            TrainOptions(features="raw", folds=5, time_limit=1),
            [("gbdt seed 2", "skipped: too little time left"), ("gbdt-tuned", "skipped: too little time left"), ("cnn", "skipped: too little time left")],
        ),
        (
            TrainOptions(features="raw", bagging="off", time_limit=1),
            [("gbdt seed 2", NOT_BAGGED), ("gbdt-tuned", "skipped: too little time left"), ("cnn", "skipped: too little time left")],
        ),
        (
            TrainOptions(features="raw", validation=0.4, time_limit=1),
            [("gbdt seed 2", NOT_BAGGED), ("gbdt-tuned", NO_FOLDS), ("cnn", "skipped: too little time left")],
        ),
    ],
    ids=["bagged", "refit", "validation"],
)
def test_a_tiny_time_limit_still_gives_the_cheap_models(companies: pd.DataFrame, options: TrainOptions, expected: list) -> None:
    """Each step says why it was not taken."""
    options.model_params = SMALL
    with warnings.catch_warnings():  # whether 1 s was passed depends on the machine (test_a_limit_passed_is_said_and_why)
        warnings.filterwarnings("ignore", "training took .* over --time-limit", HotleadsWarning)
        model = train(companies if options.validation else companies.iloc[:300], options)
    assert check_log(model.evidence.training["time_limit"], 1) == expected
    assert tried(model) == ["gbdt", "logreg"]
    assert set(model.predictor.members) <= {"gbdt", "logreg"}
    gbdt = model.predictor.members.get("gbdt")
    if isinstance(gbdt, BaggedClassifier):
        assert len(gbdt.estimators_) == 5  # no extra seed joined
    elif gbdt is not None:
        assert isinstance(gbdt, GBDTClassifier)


class _Fitted:
    """A member as :func:`hotleads.budget.spend` sees one: its fitting seconds."""

    fit_seconds = 0.01


@pytest.mark.parametrize(
    ("months", "named", "order"),
    [
        (False, [], [f"gbdt seed {k + 2}" for k in range(EXTRA_SEEDS)] + ["gbdt-tuned", "cnn"]),
        (True, [], [*SEQUENCE_NEURAL] + [f"gbdt seed {k + 2}" for k in range(EXTRA_SEEDS)] + ["gbdt-tuned"]),
        (True, ["cnn"], [m for m in SEQUENCE_NEURAL if m != "cnn"] + [f"gbdt seed {k + 2}" for k in range(EXTRA_SEEDS)] + ["gbdt-tuned"]),
    ],
    ids=["no-history", "history", "history-cnn-named"],
)
def test_with_a_history_the_time_left_goes_to_the_sequence_models_first(months: bool, named: list[str], order: list[str]) -> None:
    """Without a history: seeds, tuning, then the cnn. With one: the models that read the months, best first, then the rest."""
    budget, fitted = Budget(1_000.0), []

    def fit(model, params, offset, name, deadline):
        fitted.append(name)
        return _Fitted()

    members = {name: _Fitted() for name in ["gbdt", "logreg", *named]}
    seeds, extra = spend(budget, members, fit=fit, bagged=True, tune=lambda b: _Fitted(), explaining=lambda m: 0.0, months=months)
    assert [step["step"] for step in budget.log] == order
    assert all(step["status"] == "fitted" for step in budget.log)
    assert set(extra) == {name for name in order if not name.startswith("gbdt seed")} and len(seeds["gbdt"]) == EXTRA_SEEDS
    assert fitted == [name for name in order if name != "gbdt-tuned"]  # tuning is tune()'s own; a named model is not fitted again


def test_with_a_history_auto_weighs_the_sequence_models_alone_and_together(companies: pd.DataFrame) -> None:
    """`train --history --time-limit`: the sequence models join, and auto also weighs their ensemble without the aggregate models."""
    rng = np.random.default_rng(3)
    frame = companies.reset_index(drop=True)
    y = frame[synth.TARGET].to_numpy()
    rising = np.sort(rng.gamma(2.0, 3.0, size=(len(frame), 6)), axis=1)  # only the months' order tells the classes apart
    windows = np.where(y[:, None] == 1, rising, rng.permuted(rising, axis=1))[:, :, None].astype(np.float32)
    options = TrainOptions(features="raw", validation=0.5, time_limit=240, model_params=SMALL, neural_params={"epochs": 2})
    model = train(frame, options, sequences=windows)

    steps = check_log(model.evidence.training["time_limit"], 240, order=[*SEQUENCE_NEURAL, "gbdt seed 2", "gbdt-tuned"])
    assert steps == [(name, "fitted") for name in SEQUENCE_NEURAL] + [("gbdt seed 2", NOT_BAGGED), ("gbdt-tuned", NO_FOLDS)], steps
    candidates = Selection.from_dict(model.evidence.selection).candidates
    assert candidates["+".join(SEQUENCE_NEURAL)]["members"] == list(SEQUENCE_NEURAL)
    assert set(tried(model)) == {"gbdt", "logreg", *SEQUENCE_NEURAL}


def test_params_of_a_sequence_model_need_a_history_with_a_time_limit(companies: pd.DataFrame) -> None:
    """--time-limit adds the lstm and the transformer only with a history: their --params are refused without one, before any fitting."""
    options = TrainOptions(features="raw", time_limit=30, model_params={"lstm": {"hidden_size": 16}})
    options.check()  # a history may come with the table: the options alone are fine
    with pytest.raises(ParameterError, match=r"--params has parameters for lstm, which --time-limit trains only with --history"):
        train(companies.iloc[:200], options)
    with pytest.raises(ParameterError, match=r"--params has parameters for lstm, which --models does not train"):
        TrainOptions(features="raw", model_params={"lstm": {"hidden_size": 16}}).check()


def test_without_gbdt_the_seeds_and_the_tuning_say_why_they_were_not_tried() -> None:
    """`--models logreg --time-limit`: the steps --help names for gbdt are logged as not taken, with the reason."""
    budget = Budget(1_000.0)
    spend(budget, {"logreg": _Fitted()}, fit=lambda *a: _Fitted(), bagged=True, tune=lambda b: _Fitted(), explaining=lambda m: 0.0)
    assert [(step["step"], step["status"]) for step in budget.log] == [("gbdt seed 2", NO_GBDT), ("gbdt-tuned", NO_GBDT), ("cnn", "fitted")]


def test_a_limit_passed_is_said_and_why() -> None:
    """Training past --time-limit (reading and the models asked for took longer) is said, with the seconds before any extra step."""
    budget = Budget(5.0, started=time.perf_counter() - 22.0)
    spend(budget, {"gbdt": _Fitted()}, fit=lambda *a: None, bagged=False, tune=None, explaining=lambda m: 0.0)
    assert re.fullmatch(
        r"training took 22\.\d s, over --time-limit 5: reading, checking and fitting the models asked for took 22\.\d s before anything "
        r"extra was tried; raise --time-limit to spend time on more\.",
        budget.overrun(),
    )
    assert Budget(60.0).overrun() is None


def test_no_time_limit_no_log(auto_model) -> None:
    assert "time_limit" not in auto_model.evidence.training


# ---------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A train.csv of 240 rows (beside test.csv and holdout.csv)."""
    folder = tmp_path_factory.mktemp("auto-cli")
    synth.write_dataset(folder, rows=400, seed=0)
    return folder / "train.csv"


def test_train_prints_the_choice_and_the_time_limit(table: Path, tmp_path: Path) -> None:
    result = assert_ok(invoke("train", table, "--out", tmp_path / "model", "--features", "raw", "--time-limit", 1, "--bagging", "on", "--folds", 3))
    words = " ".join(result.stdout.split())  # rich wraps long lines
    model = bundle.load(tmp_path / "model")
    selection = Selection.from_dict(model.evidence.selection)
    assert selection.reason() in words
    assert words.count("--models auto chose") == 1
    log = model.evidence.training["time_limit"]
    steps = "; ".join(f"{s['step']} {s['status']}" + ("" if s["status"].startswith("skipped") else f" ({s['seconds']:.1f} s)") for s in log["steps"])
    assert f"--time-limit 1 s: {steps}; training took {log['spent']:.1f} s." in words
    assert model.evidence.bagged is True and len(model.predictor.members[selection.members[0]].estimators_) == 3


def test_train_defaults_to_auto_and_names_no_time_limit(table: Path, tmp_path: Path) -> None:
    result = assert_ok(invoke("train", table, "--out", tmp_path / "model", "--features", "raw", "--folds", 2))
    words = " ".join(result.stdout.split())
    assert "--models auto chose" in words and "--time-limit" not in words
    model = bundle.load(tmp_path / "model")
    assert model.evidence.bagged is False  # 2 folds: auto refits
    assert [row["model"] for row in model.evidence.leaderboard if not row["final"]] == ["gbdt", "logreg"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--bagging", "maybe"], ["--bagging", "'maybe'", "auto, on, off"]),
        (["--bagging", "on", "--validation", "0.2"], ["--bagging on", "--validation"]),
        (["--time-limit", "0"], ["--time-limit", "positive", "got 0"]),
        (["--time-limit", "nan"], ["--time-limit", "got nan"]),
        (["--time-limit", "inf"], ["--time-limit", "finite", "got inf"]),
        (["--models", "auto,gbdt"], ["--models auto", "give it alone"]),
        (["--models", "gbdt,auto"], ["--models auto", "give it alone"]),
    ],
    ids=["bagging-maybe", "bagging-on-validation", "time-limit-0", "time-limit-nan", "time-limit-inf", "auto-and-gbdt", "gbdt-and-auto"],
)
def test_train_refuses_bad_auto_bagging_and_time_limit_options(table: Path, tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    before = snapshot(tmp_path)
    assert_user_error(invoke("train", table, "--out", tmp_path / "model", *args), *fragments)
    assert snapshot(tmp_path) == before and not (tmp_path / "model").exists()


def test_tune_refuses_models_auto(table: Path, tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    assert_user_error(invoke("tune", table, "--models", "auto", "--out", tmp_path / "best.json"), "--models auto", "is for train")
    assert snapshot(tmp_path) == before
