"""Tests of the F1-optimal threshold (hotleads.threshold)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_curve, precision_score, recall_score

from hotleads.exceptions import ParameterError
from hotleads.threshold import REPORTED_OBJECTIVES, bagged_f1_threshold, f1_optimal_threshold, objective_threshold, parse_objective, sweep


def brute_force_best_f1(y: np.ndarray, proba: np.ndarray) -> float:
    return max(f1_score(y, (proba >= t).astype(int), zero_division=0) for t in np.unique(proba))


def test_hand_built_case() -> None:
    # cut at 0.6: F1 1/2; 0.5: 4/5; 0.4: 2/3; 0.3: 6/7 (best); 0.2: 3/4; 0.1: 2/3
    y = [0, 0, 1, 0, 1, 1]
    proba = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    threshold, f1 = f1_optimal_threshold(y, proba)
    assert threshold == pytest.approx(0.25)  # halfway between the chosen score 0.3 and the next lower one
    assert f1 == pytest.approx(6 / 7)


def test_best_cut_at_the_lowest_score_keeps_that_row_positive() -> None:
    y, proba = np.array([1, 0, 1]), np.array([0.2, 0.5, 0.9])  # all positive: F1 4/5
    threshold, f1 = f1_optimal_threshold(y, proba)
    assert 0.19 < threshold < 0.2
    assert f1 == pytest.approx(0.8)
    assert f1_score(y, (proba >= threshold).astype(int)) == pytest.approx(0.8)


def test_perfect_separation_cuts_between_the_classes() -> None:
    threshold, f1 = f1_optimal_threshold([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9])
    assert threshold == pytest.approx(0.5)
    assert f1 == 1.0


def test_ties_are_cut_together() -> None:
    y = np.array([0, 1, 1, 0, 1])
    proba = np.array([0.4, 0.4, 0.8, 0.1, 0.4])
    threshold, f1 = f1_optimal_threshold(y, proba)
    assert f1 == pytest.approx(brute_force_best_f1(y, proba))
    assert f1_score(y, (proba >= threshold).astype(int)) == pytest.approx(f1)


@pytest.mark.parametrize("trial", range(5))
def test_matches_an_exhaustive_search(trial: int) -> None:
    rng = np.random.default_rng(trial)
    y = (rng.random(300) < 0.2).astype(int)
    proba = np.clip(0.3 * y + rng.normal(0.35, 0.2, size=300), 0, 1).round(2)  # with ties
    threshold, f1 = f1_optimal_threshold(y, proba)
    assert f1 == pytest.approx(brute_force_best_f1(y, proba))
    assert f1_score(y, (proba >= threshold).astype(int)) == pytest.approx(f1)


# --- objectives: f1, precision>=P, recall>=R --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "floor", "name"),
    [
        ("f1", "f1", None, "f1"),
        (" F1 ", "f1", None, "f1"),
        ("precision>=0.9", "precision", 0.9, "precision>=0.9"),
        ("Recall >= 0.8", "recall", 0.8, "recall>=0.8"),
        ("precision>=.75", "precision", 0.75, "precision>=0.75"),
    ],
)
def test_parse_objective_accepts(text: str, metric: str, floor: float | None, name: str) -> None:
    objective = parse_objective(text)
    assert (objective.metric, objective.floor, objective.name) == (metric, floor, name)


@pytest.mark.parametrize("text", ["precision>=1.5", "accuracy>=0.9", "precision>0.9", "recall>=0", "precision>=1", "precision", "f2", ""])
def test_parse_objective_rejects_with_the_rule_and_the_value(text: str) -> None:
    message = f"--objective must be f1, precision>=P or recall>=R with 0 < P, R < 1 (e.g. precision>=0.9); got '{text}'."
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):
        parse_objective(text)


# Hand-computed: predicting positive at score >= cut gives
#   cut        0.95  0.9   0.85  0.8   0.7   0.6   0.5   0.4   0.3   0.2
#   precision  1     1     2/3   3/4   4/5   4/6   5/7   5/8   6/9   6/10
#   recall     1/6   2/6   2/6   3/6   4/6   4/6   5/6   5/6   1     1
#   F1         .286  .5    .444  .6    .727  .667  .769  .714  .8    .75
SCORES = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
LABELS = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]


@pytest.mark.parametrize(
    ("objective", "threshold", "precision", "recall"),
    [
        ("precision>=0.9", 0.875, 1, 2 / 6),  # cut 0.9: the most recall with precision 1
        ("precision>=0.75", 0.65, 4 / 5, 4 / 6),  # cut 0.7 beats 0.8 (3/4, less recall)
        ("precision>=0.7", 0.45, 5 / 7, 5 / 6),  # cut 0.5
        ("precision>=0.6", 0.25, 6 / 9, 1),  # cuts 0.3 and 0.2 both recall 1: the higher precision wins
        ("recall>=0.8", 0.45, 5 / 7, 5 / 6),  # cuts 0.5, 0.4, 0.3, 0.2 reach it: 0.5 has the best precision
        ("recall>=0.9", 0.25, 6 / 9, 1),  # cut 0.3
        ("recall>=0.5", 0.65, 4 / 5, 4 / 6),  # cut 0.7
        ("f1", 0.25, 6 / 9, 1),  # cut 0.3, F1 0.8
    ],
)
def test_objective_threshold_on_a_hand_computed_case(objective: str, threshold: float, precision: float, recall: float) -> None:
    result = objective_threshold(LABELS, SCORES, parse_objective(objective))
    assert result["attainable"] is True and result["objective"] == parse_objective(objective).name
    assert result["threshold"] == pytest.approx(threshold)  # halfway to the next lower score
    assert (result["precision"], result["recall"]) == (pytest.approx(precision), pytest.approx(recall))
    assert result["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    predicted = (np.array(SCORES) >= result["threshold"]).astype(int)
    assert precision_score(LABELS, predicted) == pytest.approx(precision)
    assert recall_score(LABELS, predicted) == pytest.approx(recall)


def test_f1_objective_agrees_with_f1_optimal_threshold() -> None:
    result = objective_threshold(LABELS, SCORES, parse_objective("f1"))
    assert (result["threshold"], result["f1"]) == pytest.approx(f1_optimal_threshold(LABELS, SCORES))


def test_an_unreachable_precision_is_reported_not_approximated() -> None:
    labels = [0, 1, 1, 0, 1, 0, 1, 0, 1, 0]  # the best cut has precision 2/3
    result = objective_threshold(labels, SCORES, parse_objective("precision>=0.9"))
    assert result == {"objective": "precision>=0.9", "attainable": False, "threshold": None, "precision": None, "recall": None, "f1": None}
    assert objective_threshold(labels, SCORES, parse_objective("precision>=0.6"))["attainable"] is True


def brute_force(y: np.ndarray, proba: np.ndarray, metric: str, floor: float) -> tuple[float, float] | None:
    """(best other metric, its achieved metric) over every cut at an observed score, or None."""
    best = None
    for cut in np.unique(proba):
        predicted = (proba >= cut).astype(int)
        p, r = precision_score(y, predicted, zero_division=0), recall_score(y, predicted)
        achieved, other = (p, r) if metric == "precision" else (r, p)
        if achieved >= floor and (best is None or (other, achieved) > best):
            best = (other, achieved)
    return best


@pytest.mark.parametrize("trial", range(4))
@pytest.mark.parametrize("objective", ["precision>=0.9", "precision>=0.7", "recall>=0.8", "recall>=0.95"])
def test_objective_threshold_matches_an_exhaustive_search(objective: str, trial: int) -> None:
    rng = np.random.default_rng(trial)
    y = (rng.random(400) < 0.25).astype(int)
    proba = np.clip(0.35 * y + rng.normal(0.35, 0.2, size=400), 0, 1).round(2)  # with ties
    parsed = parse_objective(objective)
    result = objective_threshold(y, proba, parsed)
    expected = brute_force(y, proba, parsed.metric, parsed.floor)
    assert result["attainable"] is (expected is not None)
    if expected is None:
        return
    predicted = (proba >= result["threshold"]).astype(int)
    precision, recall = precision_score(y, predicted), recall_score(y, predicted)
    assert (result["precision"], result["recall"]) == (pytest.approx(precision), pytest.approx(recall))  # reproduced on the data
    achieved, other = (precision, recall) if parsed.metric == "precision" else (recall, precision)
    assert achieved >= parsed.floor
    assert (other, achieved) == pytest.approx(expected)


def test_the_trained_model_keeps_every_reported_threshold(trained) -> None:
    evidence = trained.evidence
    assert list(evidence.thresholds) == list(REPORTED_OBJECTIVES) == ["f1", "precision>=0.9", "recall>=0.8"]
    for name, row in evidence.thresholds.items():
        assert row == objective_threshold(evidence.y, evidence.oof, parse_objective(name), seed=0)  # f1 bagged with the training seed (conftest.SEED)
        if not row["attainable"]:
            continue
        predicted = (evidence.oof >= row["threshold"]).astype(int)
        assert precision_score(evidence.y, predicted) == pytest.approx(row["precision"])
        assert recall_score(evidence.y, predicted) == pytest.approx(row["recall"])
    assert evidence.thresholds["f1"]["threshold"] == trained.predictor.threshold.value


def test_sweep_matches_counting_on_any_grid() -> None:
    rng = np.random.default_rng(0)
    y, proba = rng.integers(0, 2, 500), rng.random(500)
    grid = np.array([0.0, 0.25, 0.5, 0.9, 1.0, 1.5])
    curve = sweep(y, proba, grid)
    for i, t in enumerate(grid):
        called = proba >= t
        tp = int(np.sum(called & (y == 1)))
        precision = tp / called.sum() if called.sum() else 1.0
        assert curve["precision"][i] == pytest.approx(precision)
        assert curve["recall"][i] == pytest.approx(tp / y.sum())
        assert (curve["called"][i], curve["tp"][i]) == (called.sum(), tp)


def test_sweep_at_each_score_is_sklearns_precision_recall_curve() -> None:
    rng = np.random.default_rng(1)
    y, proba = rng.integers(0, 2, 300), rng.random(300).round(2)  # ties too
    precision, recall, thresholds = precision_recall_curve(y, proba)
    curve = sweep(y, proba)
    np.testing.assert_array_equal(curve["threshold"], thresholds)
    np.testing.assert_allclose(curve["precision"], precision[:-1])
    np.testing.assert_allclose(curve["recall"], recall[:-1])


def _scored_rows(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels of a model whose positives are 20 % of the rows (logistic in the score)."""
    score = rng.normal(size=n)
    return (rng.random(n) < 1 / (1 + np.exp(-(2.0 * score - 2.2)))).astype(int), score


def test_the_bagged_threshold_is_drawn_by_its_seed_and_reported_at_its_own_figures() -> None:
    y, score = _scored_rows(400, np.random.default_rng(1))
    assert bagged_f1_threshold(y, score, seed=3) == bagged_f1_threshold(y, score, seed=3)
    row = objective_threshold(y, score, parse_objective("f1"), seed=3)
    assert row["threshold"] == bagged_f1_threshold(y, score, seed=3)
    assert row["f1"] == pytest.approx(f1_score(y, score >= row["threshold"])) and row["f1"] <= f1_optimal_threshold(y, score)[1]


def test_the_bagged_threshold_keeps_more_f1_on_unseen_rows_than_the_single_best_cut() -> None:
    """On 60 samples of 500 rows (about 100 positives) the median of bootstrap thresholds scores
    a higher mean F1 on 50,000 fresh rows than each sample's own best cut: the F1 curve is flat at
    its top and the single best cut lands along it by the luck of a few rows."""
    rng = np.random.default_rng(0)
    y_new, score_new = _scored_rows(50_000, rng)

    def f1_on_new_rows(threshold: float) -> float:
        return float(sweep(y_new, score_new, cuts=[threshold])["f1"][0])

    single, bagged = [], []
    for draw in range(60):
        y, score = _scored_rows(500, rng)
        single.append(f1_on_new_rows(f1_optimal_threshold(y, score)[0]))
        bagged.append(f1_on_new_rows(bagged_f1_threshold(y, score, seed=draw)))
    assert np.mean(bagged) > np.mean(single) + 0.001


def test_over_the_bagged_rows_the_best_cut_is_kept(monkeypatch) -> None:
    import hotleads.threshold as threshold_module

    y, score = _scored_rows(400, np.random.default_rng(2))
    assert bagged_f1_threshold(y, score, seed=0) != f1_optimal_threshold(y, score)[0]
    monkeypatch.setattr(threshold_module, "BAGGED_UP_TO_ROWS", 399)
    assert bagged_f1_threshold(y, score, seed=0) == f1_optimal_threshold(y, score)[0]
