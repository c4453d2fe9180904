"""Tests of the F1-optimal threshold (hotleads.threshold)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from hotleads.threshold import f1_optimal_threshold


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
