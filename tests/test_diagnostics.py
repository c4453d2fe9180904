"""Tests of the training-run checks: single-column leaks, a small class, degenerate scores (hotleads.diagnostics)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from hotleads import diagnostics
from hotleads.diagnostics import column_oof_auc, degenerate_warning, leak_warnings, roc_auc, small_class_warning, training_checks
from hotleads.schema import Schema

ROWS = 2000


def folds_of(y: np.ndarray, k: int = 5) -> list:
    return list(StratifiedKFold(k, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, Schema, np.ndarray]:
    """2000 rows, 15 % hot: leaks of several shapes next to an honest signal and pure noise."""
    rng = np.random.default_rng(0)
    y = (rng.random(ROWS) < 0.15).astype(int)
    signal = rng.normal(size=ROWS) + y
    frame = pd.DataFrame(
        {
            "close_value": np.where(y == 1, rng.uniform(5e4, 2e5, ROWS), 0.0),  # filled in once a deal closes
            "u_shaped": np.where(y == 1, rng.choice([-1, 1], ROWS) * rng.uniform(2, 3, ROWS), rng.uniform(-1, 1, ROWS)),  # hot at both ends
            "lost_reason": np.where(y == 1, None, rng.choice(["price", "timing"], ROWS)).astype(object),  # missing exactly when hot
            "signal": signal,
            "noise": rng.normal(size=ROWS),
            "stage": rng.choice(["a", "b", "c"], ROWS).astype(object),
            "signed": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.where(y == 1, 400, 0) + rng.integers(0, 300, ROWS), unit="D"),
        }
    )
    schema = Schema(target="y", id=None, numeric=["close_value", "u_shaped", "signal", "noise"], categorical=["lost_reason", "stage"], date=["signed"])
    return frame, schema, y


def test_column_oof_auc_catches_leaks_of_any_shape(planted) -> None:
    frame, schema, y = planted
    auc = column_oof_auc(frame, schema, y, folds_of(y))
    assert list(auc) == schema.features
    for leak in ("close_value", "u_shaped", "lost_reason", "signed"):  # monotonic, two-sided, missing-when-hot, a date
        assert auc[leak] >= diagnostics.LEAK_AUC, leak
    assert 0.65 < auc["signal"] < 0.85  # an honest column is scored for what it is
    assert abs(auc["noise"] - 0.5) < 0.05 and abs(auc["stage"] - 0.5) < 0.05


def test_column_oof_auc_is_out_of_fold() -> None:
    """A column of distinct random values would be perfect in sample; out of fold it tells nothing."""
    rng = np.random.default_rng(1)
    y = (rng.random(ROWS) < 0.3).astype(int)
    frame = pd.DataFrame({"row_key": rng.permutation(ROWS).astype(float), "code": [f"c{i}" for i in range(ROWS)]})
    auc = column_oof_auc(frame, Schema(target="y", id=None, numeric=["row_key"], categorical=["code"]), y, folds_of(y))
    assert abs(auc["row_key"] - 0.5) < 0.05
    assert auc["code"] == pytest.approx(0.5, abs=0.01)  # every held-out category is unseen: its fold's base rate for all


def test_roc_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(2)
    y, scores = rng.integers(0, 2, 500), rng.integers(0, 7, 500).astype(float)
    assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores))


def test_a_leak_is_named_with_the_drop_hint() -> None:
    found = leak_warnings({"signal": 0.8, "close_value": 0.9984, "stage_won": 0.995})
    assert [w["column"] for w in found] == ["close_value", "stage_won"]  # strongest first
    assert found[0] == {
        "kind": "leak",
        "column": "close_value",
        "message": "column 'close_value' alone separates hot leads from the rest out of fold (ROC-AUC 0.998); "
        "if it is only known after the outcome, drop it with --drop close_value",
    }
    assert leak_warnings({"signal": 0.98}) == []


def test_small_class_warning_says_the_count_below_30() -> None:
    found = small_class_warning(np.r_[np.ones(6), np.zeros(24)])
    assert found["kind"] == "small-class" and found["column"] is None
    assert found["message"].startswith("only 6 of the 30 labelled rows are hot leads (1), fewer than 30: ")
    assert "+/-0.40" in found["message"]  # 1.96 * sqrt(0.25 / 6)
    assert "other leads (0)" in small_class_warning(np.r_[np.ones(90), np.zeros(10)])["message"]
    assert small_class_warning(np.r_[np.ones(30), np.zeros(300)]) is None


def test_degenerate_warning_for_constant_or_chance_scores() -> None:
    y = np.tile([0, 0, 0, 1], 25)
    folds = folds_of(y)
    constant_per_fold = np.empty(len(y))
    for k, (_, valid_rows) in enumerate(folds):
        constant_per_fold[valid_rows] = 0.5 + k * 1e-12  # balanced trees that never split
    found = degenerate_warning(y, constant_per_fold, folds)
    assert found["kind"] == "degenerate"
    assert "every fold's model gave all its held-out leads the same score" in found["message"]
    assert "(here 100, 25 hot), try --models logreg, or lower --folds" in found["message"]
    backwards = degenerate_warning(y, 1.0 - y * 0.5, folds)
    assert "their ROC-AUC is 0.000, no better than chance (0.5)" in backwards["message"]
    assert degenerate_warning(y, y * 0.5 + 0.1, folds) is None


def test_training_checks_are_json_ready(planted) -> None:
    frame, schema, y = planted
    checks = training_checks(frame, schema, y, np.where(y == 1, 0.9, 0.1), folds_of(y))
    assert set(checks) == {"column_auc", "warnings"}
    assert [w["kind"] for w in checks["warnings"]] == ["leak"] * 4
    assert all(isinstance(value, float) for value in checks["column_auc"].values())


def test_docstring_examples_run() -> None:
    results = doctest.testmod(diagnostics)
    assert results.attempted > 0 and results.failed == 0
