"""Tests of ``--models auto``'s choice (hotleads.selection) on hand-made out-of-fold probabilities.

A candidate is judged by its out-of-fold F1 at its F1-optimal threshold. The choice goes to the
highest score, the earlier candidate on a tie; ``nested_f1`` scores the choosing itself, out of
fold: fold k's rows from the candidate that wins on the other folds, at its threshold from them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score

from hotleads.folds import stratified_folds
from hotleads.selection import AUTO, CANDIDATE_MODELS, Selection, candidate_outputs, choose
from hotleads.threshold import f1_optimal_threshold


@pytest.fixture(scope="module")
def table() -> tuple[np.ndarray, list]:
    """y (300 rows, 30 % positive) and 5 stratified folds of it."""
    y = (np.random.default_rng(0).random(300) < 0.3).astype(int)
    return y, stratified_folds(y, 5, seed=0)


def separating(y: np.ndarray, seed: int) -> np.ndarray:
    """Probabilities that rank every positive above every negative."""
    noise = np.random.default_rng(seed).random(len(y))
    return np.where(y == 1, 0.6 + 0.4 * noise, 0.4 * noise)


def noisy(y: np.ndarray, seed: int, signal: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(signal * y + rng.random(len(y)) * (1 - signal), 0, 1)


def f1(y, predicted) -> float:
    return float(f1_score(y, np.asarray(predicted).astype(bool), zero_division=0.0))


def nested(y: np.ndarray, proba: np.ndarray, folds: list) -> np.ndarray:
    """0/1 per row: fold k's rows at the threshold that is F1-optimal on the other folds (written out here, independently of the module)."""
    predicted = np.zeros(len(y), dtype=bool)
    for train, valid in folds:
        predicted[valid] = proba[valid] >= f1_optimal_threshold(y[train], proba[train])[0]
    return predicted


# ---------------------------------------------------------------- choosing


@pytest.mark.parametrize("order", [("weak", "strong"), ("strong", "weak")])
def test_the_clearly_better_candidate_is_chosen_in_any_order(table, order: tuple[str, str]) -> None:
    y, folds = table
    proba = {"strong": separating(y, 1), "weak": noisy(y, 2)}
    outputs = {name: ([name], proba[name]) for name in order}

    selection = choose(outputs, y, folds)

    assert selection.chosen == "strong"
    assert selection.members == ["strong"]
    assert list(selection.candidates) == list(order)  # every candidate, in the given order
    assert selection.candidates["strong"]["f1"] == 1.0
    assert selection.candidates["weak"]["f1"] < 0.9
    # the strong candidate wins on every fold's other folds, so choosing scores as it does
    assert selection.nested_f1 == 1.0  # ... and a perfect ranking keeps F1 1 at every nested threshold


@pytest.mark.parametrize("names", [("a", "b"), ("b", "a"), ("gbdt", "gbdt+logreg")])
def test_a_tie_goes_to_the_earlier_candidate(table, names: tuple[str, str]) -> None:
    y, folds = table
    proba = noisy(y, 3)
    outputs = {names[0]: ([names[0]], proba), names[1]: ([names[1]], proba.copy())}
    selection = choose(outputs, y, folds)
    assert selection.candidates[names[0]]["f1"] == selection.candidates[names[1]]["f1"]
    assert selection.chosen == names[0]
    assert selection.nested_f1 == f1(y, nested(y, proba, folds))  # identical candidates: choosing is either, at nested thresholds


def test_a_tie_on_f1_is_a_tie_even_if_the_probabilities_differ(table) -> None:
    """Only the F1 counts: a monotone transform of a candidate's probabilities changes no prediction."""
    y, folds = table
    proba = noisy(y, 4)
    outputs = {"first": (["first"], proba), "squared": (["squared"], proba**2)}
    selection = choose(outputs, y, folds)
    assert selection.candidates["first"]["f1"] == selection.candidates["squared"]["f1"]
    assert selection.chosen == "first"


def test_choose_needs_a_candidate(table) -> None:
    y, folds = table
    with pytest.raises(ValueError, match="at least one candidate"):
        choose({}, y, folds)


def test_every_score_is_a_real_f1(table) -> None:
    y, folds = table
    outputs = {f"m{k}": ([f"m{k}"], noisy(y, 10 + k, signal=0.1 * k)) for k in range(5)}
    selection = choose(outputs, y, folds)
    for name, (_, proba) in outputs.items():
        threshold, best_f1 = f1_optimal_threshold(y, proba)
        assert selection.candidates[name]["f1"] == best_f1 == pytest.approx(f1(y, proba >= threshold))
        assert type(selection.candidates[name]["f1"]) is float
    assert 0.0 <= selection.nested_f1 <= 1.0 and type(selection.nested_f1) is float
    assert selection.chosen == max(selection.candidates, key=lambda name: selection.candidates[name]["f1"])


def test_nested_f1_scores_the_choosing_out_of_fold() -> None:
    """Each fold's rows come from the candidate that wins on the other folds; here that is a different one per fold."""
    y = np.array([0, 1] * 20)
    folds = [(np.flatnonzero(np.arange(40) >= 20), np.arange(20)), (np.arange(20), np.flatnonzero(np.arange(40) >= 20))]
    first_half, second_half = np.arange(40) < 20, np.arange(40) >= 20
    good, flat = separating(y, 5), np.full(40, 0.5)
    # "early" ranks only the first half well, "late" only the second half
    early, late = np.where(first_half, good, flat), np.where(second_half, good, flat)
    outputs = {"early": (["early"], early), "late": (["late"], late)}

    selection = choose(outputs, y, folds)

    predicted = {name: nested(y, proba, folds) for name, (_, proba) in outputs.items()}
    # fold 0 (first half) is judged by the winner on the second half: late; fold 1 by early
    assert f1_optimal_threshold(y[second_half], late[second_half])[1] > f1_optimal_threshold(y[second_half], early[second_half])[1]
    assert f1_optimal_threshold(y[first_half], early[first_half])[1] > f1_optimal_threshold(y[first_half], late[first_half])[1]
    expected = f1(y, np.where(first_half, predicted["late"], predicted["early"]))
    assert selection.nested_f1 == pytest.approx(expected)
    assert selection.nested_f1 != selection.candidates[selection.chosen]["f1"]


# ---------------------------------------------------------------- nested thresholds


def test_the_choosing_classifies_each_fold_at_the_other_folds_threshold() -> None:
    """Fold 0's scores are low, fold 1's high: the threshold of the other fold misclassifies each, an in-sample one would not."""
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    proba = np.array([0.1, 0.2, 0.05, 0.25, 0.6, 0.8, 0.55, 0.9])
    folds = [(np.arange(4, 8), np.arange(4)), (np.arange(4), np.arange(4, 8))]
    assert f1_optimal_threshold(y[4:], proba[4:])[0] == pytest.approx(0.7)  # what fold 0's rows are classified at
    assert f1_optimal_threshold(y[:4], proba[:4])[0] == pytest.approx(0.15)  # ... and fold 1's

    selection = choose({"m": (["m"], proba)}, y, folds)

    assert selection.candidates["m"]["f1"] == f1_optimal_threshold(y, proba)[1] > 0.5  # scored at its in-sample threshold
    assert selection.nested_f1 == 0.5  # fold 0 all negative, fold 1 all positive at the other folds' thresholds
    np.testing.assert_array_equal(nested(y, proba, folds), [0, 0, 0, 0, 1, 1, 1, 1])


# ---------------------------------------------------------------- candidates


def test_candidates_are_each_model_alone_then_their_ensemble(table) -> None:
    y, folds = table
    member_oof = {"gbdt": noisy(y, 7), "logreg": noisy(y, 8)}
    outputs = candidate_outputs(member_oof, y, folds, ensemble="mean", seed=0)
    assert list(outputs) == ["gbdt", "logreg", "gbdt+logreg"]
    assert outputs["gbdt"][0] == ["gbdt"] and outputs["logreg"][0] == ["logreg"] and outputs["gbdt+logreg"][0] == ["gbdt", "logreg"]
    np.testing.assert_array_equal(outputs["gbdt"][1], member_oof["gbdt"])
    np.testing.assert_allclose(outputs["gbdt+logreg"][1], (member_oof["gbdt"] + member_oof["logreg"]) / 2)  # the mean ensemble


def test_a_group_adds_the_ensemble_of_its_models_alone(table) -> None:
    """With a history, the models that read its months are also weighed together without the aggregate models."""
    y, folds = table
    member_oof = {name: noisy(y, seed) for seed, name in enumerate(["gbdt", "logreg", "transformer", "cnn"], start=20)}
    outputs = candidate_outputs(member_oof, y, folds, ensemble="mean", seed=0, groups=[["transformer", "cnn"]])
    assert list(outputs) == ["gbdt", "logreg", "transformer", "cnn", "gbdt+logreg+transformer+cnn", "transformer+cnn"]
    assert outputs["transformer+cnn"][0] == ["transformer", "cnn"]
    np.testing.assert_allclose(outputs["transformer+cnn"][1], (member_oof["transformer"] + member_oof["cnn"]) / 2)
    for groups in ([["cnn"]], [list(member_oof)], [[]]):  # one model, every model, none: nothing more than without a group
        assert list(candidate_outputs(member_oof, y, folds, ensemble="mean", seed=0, groups=groups)) == list(outputs)[:-1]


def test_the_ensemble_candidate_is_nested_for_fitted_weights(table) -> None:
    y, folds = table
    member_oof = {"gbdt": separating(y, 9), "logreg": noisy(y, 10)}
    ensemble = candidate_outputs(member_oof, y, folds, ensemble="best", seed=0)["gbdt+logreg"][1]
    np.testing.assert_array_equal(ensemble, member_oof["gbdt"])  # "best" picks gbdt on every fold's other folds
    assert candidate_outputs({"gbdt": member_oof["gbdt"]}, y, folds, ensemble="mean", seed=0).keys() == {"gbdt"}  # one model: no ensemble


def test_the_auto_candidates_are_the_cheap_models() -> None:
    assert AUTO == "auto" and CANDIDATE_MODELS == ("gbdt", "logreg")


# ---------------------------------------------------------------- the reason and saving


def test_the_reason_names_the_chosen_and_the_others(table) -> None:
    y, folds = table
    member_oof = {"gbdt": noisy(y, 11, 0.5), "logreg": noisy(y, 12, 0.2)}
    selection = choose(candidate_outputs(member_oof, y, folds, ensemble="mean", seed=0), y, folds)
    reason = selection.reason()
    assert reason.startswith(f"--models auto chose {selection.chosen}: ")
    chosen_f1 = f"{selection.candidates[selection.chosen]['f1']:.4f}"
    assert chosen_f1 in reason and f"{selection.nested_f1:.4f}" in reason
    others = [name for name in selection.candidates if name != selection.chosen]
    assert len(others) == 2
    for name in others:
        assert f"{name} {selection.candidates[name]['f1']:.4f}" in reason
    assert "out-of-fold predictions" in reason and "nested" in reason


def test_the_reason_says_which_rows_scored_and_has_no_others_for_one_candidate(table) -> None:
    y, folds = table
    selection = choose({"gbdt": (["gbdt"], noisy(y, 13))}, y, folds, held_out="validation split (20 % of the training rows)")
    reason = selection.reason()
    assert reason.startswith("--models auto chose gbdt: the highest F1 on the validation split (20 % of the training rows)")
    assert "(" not in reason.replace("(20 % of the training rows)", "")  # no list of others


def test_a_selection_round_trips_through_json(table) -> None:
    y, folds = table
    member_oof = {"gbdt": noisy(y, 14), "logreg": noisy(y, 15)}
    selection = choose(candidate_outputs(member_oof, y, folds, ensemble="weighted", seed=0), y, folds)
    restored = Selection.from_dict(json.loads(json.dumps(selection.to_dict())))
    assert restored == selection
    assert restored.reason() == selection.reason()
    assert restored.members == selection.members
    assert Selection.from_dict(Selection().to_dict()) == Selection()
