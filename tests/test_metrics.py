"""Tests of the shared classification metrics (hotleads.metrics)."""

from __future__ import annotations

import math

import pytest

from hotleads.metrics import classification_metrics

Y = [1, 1, 0, 0, 1, 0]
PROBA = [0.9, 0.4, 0.6, 0.1, 0.7, 0.2]


def test_hand_computed_case_at_0_5() -> None:
    # predicted [1, 0, 1, 0, 1, 0] -> tp 2, fn 1, fp 1, tn 2
    m = classification_metrics(Y, PROBA, threshold=0.5)
    assert m["confusion"] == {"tn": 2, "fp": 1, "fn": 1, "tp": 2}
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["f1_at_0_5"] == pytest.approx(2 / 3)
    assert m["roc_auc"] == pytest.approx(8 / 9)  # 8 of 9 positive/negative pairs ordered right
    assert m["pr_auc"] == pytest.approx((1 + 1 + 3 / 4) / 3)  # precision at each positive: 1, 1, 3/4
    assert m["positive_rate"] == pytest.approx(0.5)
    assert m["base_rate"] == pytest.approx(0.5)
    assert (m["rows"], m["threshold"]) == (6, 0.5)


def test_threshold_moves_the_counts_but_not_the_rankings() -> None:
    at_half = classification_metrics(Y, PROBA, threshold=0.5)
    m = classification_metrics(Y, PROBA, threshold=0.65)  # predicted [1, 0, 0, 0, 1, 0]
    assert m["confusion"] == {"tn": 3, "fp": 0, "fn": 1, "tp": 2}
    assert m["precision"] == 1.0
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(0.8)
    assert m["f1_at_0_5"] == pytest.approx(2 / 3)
    assert m["positive_rate"] == pytest.approx(2 / 6)
    assert (m["pr_auc"], m["roc_auc"]) == (at_half["pr_auc"], at_half["roc_auc"])


def test_a_score_equal_to_the_threshold_is_positive() -> None:
    assert classification_metrics([1, 0], [0.3, 0.1], threshold=0.3)["confusion"]["tp"] == 1


def test_one_class_gives_nan_areas_and_no_crash() -> None:
    m = classification_metrics([0, 0, 0], [0.2, 0.7, 0.1], threshold=0.5)
    assert math.isnan(m["roc_auc"]) and math.isnan(m["pr_auc"])
    assert m["confusion"] == {"tn": 2, "fp": 1, "fn": 0, "tp": 0}
    assert (m["precision"], m["recall"], m["f1"]) == (0.0, 0.0, 0.0)


def test_values_are_plain_python_numbers() -> None:
    m = classification_metrics(Y, PROBA, threshold=0.5)
    for key, value in m.items():
        if key == "confusion":
            assert all(type(count) is int for count in value.values())
        else:
            assert type(value) in (int, float), key
