"""Tests of probability calibration (hotleads.calibration).

The cases have a known answer: labels drawn as Bernoulli(p) for a known p, raw scores a monotone
distortion of p. A calibrator that works maps the raw scores back onto p.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from hotleads import calibration
from hotleads.calibration import Calibrator, calibrate_oof, choose_calibration, fit_calibrator
from hotleads.exceptions import ParameterError


def kfolds(n: int, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    fold_of = np.random.default_rng(seed).permutation(n) % k
    return [(np.flatnonzero(fold_of != i), np.flatnonzero(fold_of == i)) for i in range(k)]


def cubed(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true p, y ~ Bernoulli(p), raw = p**3): well ranked, badly scaled (raw is far too low)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, n)
    return p, (rng.random(n) < p).astype(int), p**3


def logistic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true p, y, raw) where raw is a logistic distortion of p: logit(raw) = 0.3 logit(p) - 1.5, Platt's exact form."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, n)
    p = 1 / (1 + np.exp(-z))
    return p, (rng.random(n) < p).astype(int), 1 / (1 + np.exp(-(0.3 * z - 1.5)))


def step(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true p, y, raw) where p jumps from 0.1 to 0.9 at raw = 0.5: no logistic curve fits a step."""
    rng = np.random.default_rng(seed)
    raw = rng.random(n)
    p = np.where(raw > 0.5, 0.9, 0.1)
    return p, (rng.random(n) < p).astype(int), raw


@pytest.mark.parametrize("choice", ["auto", "isotonic", "platt"])
def test_calibration_recovers_the_true_probability(choice: str) -> None:
    p, y, raw = cubed()
    calibrator, nested, report = choose_calibration(choice, y, raw, kfolds(len(y), 5))
    bayes_brier = brier_score_loss(y, p)  # the best any calibration of these scores can do
    assert report["brier_uncalibrated"] == pytest.approx(brier_score_loss(y, raw))
    assert report["brier_calibrated"] == pytest.approx(brier_score_loss(y, nested))
    assert report["brier_uncalibrated"] > 0.23 and bayes_brier < 0.18  # the case: a large gap to close
    assert report["brier_calibrated"] < bayes_brier + 0.005
    assert np.abs(nested - p).mean() < 0.04  # the nested out-of-fold output tracks p
    assert np.abs(calibrator.transform(raw) - p).mean() < 0.04  # and so does the final map
    assert np.abs(raw - p).mean() > 0.2


def test_isotonic_output_is_monotone_and_within_0_1() -> None:
    _, y, raw = cubed(n=500)
    calibrator = fit_calibrator("isotonic", y, raw)
    grid = np.linspace(-0.5, 1.5, 2001)  # beyond the fitted range too: clipped, not extrapolated
    out = calibrator.transform(grid)
    assert calibrator.method == "isotonic"
    assert (np.diff(out) >= 0).all()
    assert out.min() >= 0 and out.max() <= 1
    assert out[0] == out[grid <= raw.min()].max() and out[-1] == out[grid >= raw.max()].min()


def test_platt_output_is_strictly_monotone() -> None:
    _, y, raw = logistic(300, seed=0)
    calibrator = fit_calibrator("platt", y, raw)
    out = calibrator.transform(np.linspace(0.001, 0.999, 999))
    assert calibrator.params["slope"] > 0
    assert (np.diff(out) > 0).all()


def test_platt_recovers_a_logistic_distortion() -> None:
    # logit(raw) = 0.3 z - 1.5 with z = logit(p): the exact inverse has slope 1/0.3 and intercept 1.5/0.3
    _, y, raw = logistic(20_000, seed=0)
    params = fit_calibrator("platt", y, raw).params
    assert params["slope"] == pytest.approx(1 / 0.3, rel=0.05)
    assert params["intercept"] == pytest.approx(1.5 / 0.3, rel=0.05)


def test_auto_prefers_platt_for_a_logistic_distortion_on_little_data() -> None:
    """On 100 rows isotonic overfits; the smooth curve of the right shape wins most draws (measured: 19 of these 20, 37 of 40)."""
    chosen = []
    for seed in range(20):
        _, y, raw = logistic(100, seed)
        chosen.append(choose_calibration("auto", y, raw, kfolds(len(y), 5, seed))[2]["method"])
    assert chosen.count("platt") >= 15, chosen


def test_auto_prefers_isotonic_for_a_step() -> None:
    for seed in range(5):
        p, y, raw = step(1000, seed)
        calibrator, nested, report = choose_calibration("auto", y, raw, kfolds(len(y), 5, seed))
        assert report["method"] == calibrator.method == "isotonic", report
        assert report["candidates"]["isotonic"] < report["candidates"]["platt"] - 0.01
        assert np.abs(nested - p).mean() < 0.05


def test_auto_choice_is_the_lowest_nested_brier() -> None:
    _, y, raw = cubed(n=600, seed=3)
    folds = kfolds(len(y), 4)
    calibrator, nested, report = choose_calibration("auto", y, raw, folds)
    for method in ("isotonic", "platt"):
        assert report["candidates"][method] == pytest.approx(brier_score_loss(y, calibrate_oof(method, y, raw, folds)))
    assert report["method"] == min(report["candidates"], key=report["candidates"].get) == calibrator.method
    np.testing.assert_array_equal(nested, calibrate_oof(report["method"], y, raw, folds))
    assert report["brier_calibrated"] == report["candidates"][report["method"]]


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_nested_output_of_a_fold_does_not_depend_on_its_own_labels(method: str) -> None:
    """Flipping the labels of fold k leaves fold k's calibrated values unchanged, and changes the others'."""
    _, y, raw = cubed(n=400, seed=1)
    folds = kfolds(len(y), 4)
    before = calibrate_oof(method, y, raw, folds)
    own = folds[0][1]
    flipped = y.copy()
    flipped[own] = 1 - flipped[own]
    after = calibrate_oof(method, flipped, raw, folds)
    np.testing.assert_array_equal(after[own], before[own])
    assert not np.allclose(after[folds[0][0]], before[folds[0][0]])


def test_each_fold_is_calibrated_by_a_map_fitted_without_its_rows(monkeypatch) -> None:
    _, y, raw = cubed(n=300, seed=2)
    assert len(np.unique(raw)) == len(raw)  # distinct scores identify the rows
    fitted_on: list[set[float]] = []
    real = calibration.fit_calibrator

    def spy(method, y_fit, proba):
        fitted_on.append(set(np.asarray(proba).tolist()))
        return real(method, y_fit, proba)

    monkeypatch.setattr(calibration, "fit_calibrator", spy)
    folds = kfolds(len(y), 3)
    calibrate_oof("isotonic", y, raw, folds)
    assert len(fitted_on) == 3
    for seen, (train_rows, valid_rows) in zip(fitted_on, folds, strict=True):
        assert seen == set(raw[train_rows].tolist())
        assert seen.isdisjoint(raw[valid_rows].tolist())


def test_trained_model_tunes_its_threshold_on_the_saved_map_and_keeps_the_nested_output(trained) -> None:
    """The threshold is chosen on the saved calibrator applied to the raw held-out scores (a monotone map: their order, so
    the raw scores' best cut); the calibration figures come from the nested output, each fold calibrated by the others."""
    calibrator, evidence = trained.predictor.calibrator, trained.evidence
    assert calibrator.method in ("isotonic", "platt")
    assert "method" not in evidence.calibration  # the predictor's calibrator is the one record of the method
    assert evidence.calibration["brier_calibrated"] == min(evidence.calibration["candidates"].values())
    np.testing.assert_allclose(evidence.oof, calibrator.transform(evidence.oof_uncalibrated))
    assert trained.predictor.threshold.value == evidence.thresholds["f1"]["threshold"]
    assert brier_score_loss(evidence.y, evidence.oof_nested) == pytest.approx(evidence.calibration["brier_calibrated"])
    assert brier_score_loss(evidence.y, evidence.oof_uncalibrated) == pytest.approx(evidence.calibration["brier_uncalibrated"])
    assert not np.allclose(evidence.oof_nested, evidence.oof)


def test_unknown_choice_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"^--calibration must be one of auto, isotonic, platt, none; got 'bogus'\.$"):
        choose_calibration("bogus", [0, 1], [0.2, 0.8], [])


@pytest.mark.parametrize("method", ["isotonic", "platt", "none"])
def test_json_round_trip_gives_the_same_map(method: str) -> None:
    _, y, raw = cubed(n=500)
    calibrator = fit_calibrator(method, y, raw)
    again = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    assert again == calibrator
    grid = np.linspace(0, 1, 1001)
    np.testing.assert_array_equal(again.transform(grid), calibrator.transform(grid))


def test_none_is_the_identity() -> None:
    _, y, raw = cubed(n=500)
    calibrator, nested, report = choose_calibration("none", y, raw, kfolds(len(y), 5))
    assert calibrator == Calibrator() and calibrator.method == "none"
    np.testing.assert_array_equal(nested, raw)
    np.testing.assert_array_equal(calibrator.transform(raw), raw)
    assert report["brier_calibrated"] == report["brier_uncalibrated"]
    assert report["candidates"] == {"none": report["brier_uncalibrated"]}


def test_auto_keeps_the_raw_scores_when_calibration_does_not_lower_the_brier_score() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 300)
    y = rng.binomial(1, p)  # the raw score is already the true probability
    calibrator, nested, report = choose_calibration("auto", y, p, kfolds(len(y), 5))
    assert set(report["candidates"]) == {"isotonic", "platt", "none"}
    assert report["candidates"]["none"] <= min(report["candidates"]["isotonic"], report["candidates"]["platt"])
    assert calibrator.method == "none" and report["method"] == "none"
    np.testing.assert_array_equal(nested, p)
