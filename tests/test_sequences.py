"""The neural models with a monthly history: one model, two inputs (feature tokens and monthly steps).

Hand-made windows where only the order of the months tells the classes apart (a rise over the
last months against the same values shuffled), so a model that ignored the months would be at
chance; saving, the bag, the predictor and ``train --history`` carry the windows through.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from hotleads.bagging import BaggedClassifier
from hotleads.base import positive_proba
from hotleads.cli import app
from hotleads.estimators import GBDTClassifier
from hotleads.neural import (
    MONTH_INPUTS,
    CNNClassifier,
    LSTMClassifier,
    TransformerClassifier,
    _change_since_observed,
    _months_from_latest_nonzero,
    _months_since_nonzero,
)

MODELS = [LSTMClassifier, CNNClassifier, TransformerClassifier]
FAST = {"epochs": 6, "device": "cpu", "random_state": 0, "n_jobs": 1}


@pytest.fixture(scope="module")
def windows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (1,600, 2) noise, windows (1,600, 8 months, 2 channels) with 10 % unobserved, y: the first channel rises over time (1) or holds the same values shuffled (0)."""
    rng = np.random.default_rng(0)
    n, months = 1_600, 8
    y = (rng.random(n) < 0.4).astype(int)
    rising = np.sort(rng.gamma(2.0, 3.0, size=(n, months)), axis=1)
    shuffled = rng.permuted(rising, axis=1)
    first = np.where(y[:, None] == 1, rising, shuffled)  # the same values per row either way: only their order differs
    w = np.stack([first, rng.poisson(4.0, size=(n, months)).astype(float)], axis=2).astype(np.float32)
    w[rng.random(w.shape) < 0.1] = np.nan
    return rng.normal(size=(n, 2)), w, y


@pytest.mark.parametrize("model", MODELS)
def test_the_months_order_is_learnt(model, windows) -> None:
    X, w, y = windows
    fitted = model(**FAST).fit(X[:1_200], y[:1_200], sequences=w[:1_200])
    assert fitted.reads_sequences and fitted.sequence_shape_ == (8, 2)
    auc = roc_auc_score(y[1_200:], fitted.predict_proba(X[1_200:], sequences=w[1_200:])[:, 1])
    assert auc > 0.7, auc  # chance is 0.5: X alone is noise, and every row's values are the same set either way


@pytest.mark.parametrize("model", MODELS)
def test_a_model_with_sequences_saves_and_loads_exactly(model, windows, tmp_path: Path) -> None:
    X, w, y = windows
    fitted = model(**FAST).fit(X[:400], y[:400], sequences=w[:400])
    meta = fitted.save(tmp_path, "m")
    assert meta["sequence_shape"] == [8, 2]
    loaded = model.load(tmp_path, json.loads(json.dumps(meta)))
    np.testing.assert_array_equal(loaded.predict_proba(X[400:500], sequences=w[400:500]), fitted.predict_proba(X[400:500], sequences=w[400:500]))


def test_a_transformer_saved_before_month_patches_loads_as_it_was_built(windows, tmp_path: Path) -> None:
    X, w, y = windows
    fitted = TransformerClassifier(**FAST, month_patch=1).fit(X[:400], y[:400], sequences=w[:400])
    meta = json.loads(json.dumps(fitted.save(tmp_path, "m")))
    del meta["params"]["month_patch"]
    loaded = TransformerClassifier.load(tmp_path, meta)
    assert loaded.month_patch == 1
    np.testing.assert_array_equal(loaded.predict_proba(X[400:450], sequences=w[400:450]), fitted.predict_proba(X[400:450], sequences=w[400:450]))


def test_each_month_reads_its_change_and_the_months_since_the_channel_was_non_zero() -> None:
    nan = np.nan
    # one company, 6 months, 2 channels: postings with a gap, funding with two rounds
    w = np.array([[[3, 0], [7, 0], [nan, 5e6], [15, 0], [15, nan], [0, 2e6]]], dtype=np.float32)
    logged = np.sign(w) * np.log1p(np.abs(w))
    change = _change_since_observed(logged)
    expected_postings = [nan, np.log(8 / 4), nan, np.log(16 / 8), 0.0, -np.log(16)]  # month 3 is against month 1: month 2 is unobserved
    np.testing.assert_allclose(change[0, :, 0], expected_postings, rtol=1e-6)
    np.testing.assert_allclose(change[0, :, 1], [nan, 0.0, np.log1p(5e6), -np.log1p(5e6), nan, np.log1p(2e6)], rtol=1e-6)
    since = _months_since_nonzero(~np.isnan(w) & (w != 0))
    np.testing.assert_array_equal(since[0, :, 0], [0, 0, 1, 0, 0, 1])  # an unobserved month counts as not non-zero
    np.testing.assert_array_equal(since[0, :, 1], [6, 6, 0, 1, 2, 0])  # never yet: the window's length
    from_latest = _months_from_latest_nonzero(~np.isnan(w) & (w != 0))
    np.testing.assert_array_equal(from_latest[0, :, 0], [-4, -3, -2, -1, 0, 1])  # postings' latest non-zero: month 4 (month 5 is 0)
    np.testing.assert_array_equal(from_latest[0, :, 1], [-5, -4, -3, -2, -1, 0])  # the latest round, not the first


def test_a_channel_never_non_zero_reads_as_if_its_event_came_before_the_window() -> None:
    nonzero = np.zeros((2, 4, 1), dtype=bool)
    nonzero[1, 0, 0] = True  # an event in the window's first month
    from_latest = _months_from_latest_nonzero(nonzero)
    np.testing.assert_array_equal(from_latest[0, :, 0], [4, 5, 6, 7])  # as if non-zero 4 months before the first month
    np.testing.assert_array_equal(from_latest[1, :, 0], [0, 1, 2, 3])
    assert from_latest[0].min() > from_latest[1].max()  # later than any step of a channel that had one


def test_the_months_steps_give_the_change_at_its_own_scale(windows) -> None:
    X, w, y = windows
    fitted = CNNClassifier(**FAST | {"epochs": 1}).fit(X[:300], y[:300], sequences=w[:300])
    fitted._sequences = w[:300]
    steps = fitted._transform(X[:300])[2].numpy()
    assert steps.shape == (300, 8, 6 * 2)
    change = steps[:, :, 6:8]
    defined = ~np.isnan(_change_since_observed(np.log1p(w[:300])))  # this month and an earlier one observed
    for c in range(2):  # scaled by the training changes' spread, per channel
        assert np.sqrt(np.mean(change[:, :, c][defined[:, :, c]] ** 2)) == pytest.approx(1.0, rel=1e-4)
    assert np.all(change[~defined] == 0)
    assert np.all(change[:, 0] == 0)  # nothing before the first month
    assert np.all(steps[:, :, 8:10] <= 1.0) and np.all(steps[:, :, 8:10] >= 0.0)  # months since non-zero, over the window
    assert np.all(steps[:, :, 10:12] >= -1.0) and np.all(steps[:, :, 10:12] < 2.0)  # months from the latest non-zero, over the window


def test_a_channel_constant_in_training_is_read_at_unit_scale(windows) -> None:
    X, w, y = windows
    constant = w[:300].copy()
    constant[:, :, 1] = np.where(np.isnan(constant[:, :, 1]), np.nan, 4.0)  # e.g. offices: 4 in every observed month
    fitted = CNNClassifier(**FAST | {"epochs": 1}).fit(X[:300], y[:300], sequences=constant)
    assert fitted.sequence_scale_[1] == 1.0 and fitted.sequence_change_scale_[1] == 1.0  # not float32 rounding's ~1e-5
    other = constant[:5].copy()
    other[:, :, 1] = 5.0  # a value training never saw stays on the scale of the others
    fitted._sequences = other
    assert np.abs(fitted._transform(X[:5])[2].numpy()).max() < 10


@pytest.mark.parametrize("saved", [None, ["value", "observed"], "value"])
def test_a_sequence_model_saved_with_other_monthly_inputs_is_refused_with_a_retrain_hint(saved, windows, tmp_path: Path) -> None:
    X, w, y = windows
    meta = json.loads(json.dumps(CNNClassifier(**FAST | {"epochs": 1}).fit(X[:300], y[:300], sequences=w[:300]).save(tmp_path, "m")))
    assert meta["month_inputs"] == list(MONTH_INPUTS)
    if saved is None:  # saved before the key was written
        del meta["month_inputs"]
        was = "before hotleads recorded its monthly inputs"
    else:  # another list, or a hand-edited value
        meta["month_inputs"] = saved
        was = f"reading the monthly inputs {saved!r}"
    with pytest.raises(ValueError, match=re.escape(f"was saved {was}; this hotleads reads {list(MONTH_INPUTS)!r}. Retrain and save the model again.")):
        CNNClassifier.load(tmp_path, meta)


def test_sequences_are_checked(windows) -> None:
    X, w, y = windows
    fitted = CNNClassifier(**FAST).fit(X[:300], y[:300], sequences=w[:300])
    with pytest.raises(ValueError, match=r"fitted with sequences of 8 months x 2 channels; pass sequences= to predict_proba"):
        fitted.predict_proba(X[:5])
    with pytest.raises(ValueError, match=r"sequences must have shape \(n, 8, 2\) as in fit; got \(5, 7, 2\)"):
        fitted.predict_proba(X[:5], sequences=w[:5, :7])
    with pytest.raises(ValueError, match=r"sequences must have shape \(n_rows, months, channels\) with n_rows = 300"):
        CNNClassifier(**FAST).fit(X[:300], y[:300], sequences=w[:200])
    plain = CNNClassifier(**FAST).fit(X[:300], y[:300])
    assert not plain.reads_sequences and plain.sequence_shape_ is None
    with pytest.raises(ValueError, match="fitted without sequences"):
        plain.predict_proba(X[:5], sequences=w[:5])


def test_a_window_never_observed_is_read_as_unobserved(windows) -> None:
    X, w, y = windows
    fitted = LSTMClassifier(**FAST).fit(X[:300], y[:300], sequences=w[:300])
    empty = np.full((3, 8, 2), np.nan, dtype=np.float32)
    proba = fitted.predict_proba(X[:3], sequences=empty)
    assert np.isfinite(proba).all()  # a company without history is scored from its own columns


def test_the_bag_and_positive_proba_pass_sequences_only_to_models_that_read_them(windows) -> None:
    X, w, y = windows
    folds = [
        CNNClassifier(**FAST | {"random_state": k}).fit(X[k * 200 : k * 200 + 400], y[k * 200 : k * 200 + 400], sequences=w[k * 200 : k * 200 + 400])
        for k in range(2)
    ]
    bag = BaggedClassifier.from_folds("cnn", folds, [None, None], n_features=2, categorical_features=[])
    assert bag.reads_sequences
    mean_logit = np.mean([np.log(p / (1 - p)) for p in (positive_proba(f, X[:50], sequences=w[:50]) for f in folds)], axis=0)
    np.testing.assert_allclose(positive_proba(bag, X[:50], sequences=w[:50]), 1 / (1 + np.exp(-mean_logit)), rtol=1e-6)
    tree = GBDTClassifier(n_estimators=5, random_state=0).fit(X[:300], y[:300])
    np.testing.assert_array_equal(positive_proba(tree, X[:5], sequences=w[:5]), tree.predict_proba(X[:5])[:, 1])  # a tree never sees them


def test_train_and_predict_with_a_history_and_a_sequence_model(tmp_path: Path) -> None:
    """`train --history --models cnn`: the cnn reads the months (its bag of fold models too), predict and evaluate pass them again."""
    rng = np.random.default_rng(1)
    n, months = 500, 8
    ids = [f"C{i:04d}" for i in range(n)]
    y = (rng.random(n) < 0.4).astype(int)
    rows = []
    for i, company in enumerate(ids):
        values = np.sort(rng.gamma(2.0, 3.0, size=months))
        values = values if y[i] else rng.permuted(values)
        rows += [f"{company},2024-{m + 1:02d},{v:.1f}" for m, v in enumerate(values)]
    (tmp_path / "history.csv").write_text("company_id,month,job_postings\n" + "\n".join(rows) + "\n")
    (tmp_path / "companies.csv").write_text(
        "company_id,employees,is_hot_lead\n" + "\n".join(f"{c},{rng.integers(5, 500)},{t}" for c, t in zip(ids, y, strict=True)) + "\n"
    )
    runner = CliRunner()
    model = tmp_path / "model"
    args = ["--history", str(tmp_path / "history.csv")]
    trained = runner.invoke(
        app, ["train", str(tmp_path / "companies.csv"), "--out", str(model), "--models", "cnn", "--epochs", "8", "--months", "8", *args, "-q"]
    )
    assert trained.exit_code == 0, trained.output
    cnn = json.loads((model / "predictor.json").read_text())["members"]["cnn"]
    assert cnn["class"] == "BaggedClassifier" and all(m["sequence_shape"] == [8, 1] for m in cnn["members"])
    scored = runner.invoke(app, ["predict", str(model), str(tmp_path / "companies.csv"), "--out", str(tmp_path / "s.csv"), "--top", "2", *args])
    assert scored.exit_code == 0, scored.output
    metrics = runner.invoke(app, ["evaluate", str(model), str(tmp_path / "companies.csv"), "--json", *args])
    assert metrics.exit_code == 0, metrics.output
    assert json.loads(metrics.stdout)["metrics"]["roc_auc"] > 0.85  # in-sample, but only the months' order separates the classes
