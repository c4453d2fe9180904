"""Tests of the training data profile and the drift check (hotleads.profile)."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotleads import profile as profile_module
from hotleads.io import read_table
from hotleads.profile import drift, integral_share, numeric_bins, profile_table, psi, psi_noise, psi_severity
from hotleads.schema import Schema, infer_schema, prepare

SCHEMA = Schema(target="y", id=None, numeric=["amount", "count"], categorical=["kind"], date=["day"])


def table(n: int, rng: np.random.Generator, *, shift: float = 0.0, whole_counts: bool = False) -> pd.DataFrame:
    count = rng.poisson(8.0, n) * (1.0 if whole_counts else 1.0 + 0.05 * rng.standard_normal(n))
    return pd.DataFrame(
        {
            "amount": rng.lognormal(10.0 + shift, 1.0, n),
            "count": count,
            "kind": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]).astype(object),
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def train_profile() -> dict:
    return profile_table(table(4000, np.random.default_rng(0)), SCHEMA, np.r_[np.ones(1000), np.zeros(3000)])


def by_column(results: list[dict]) -> dict[str, dict]:
    return {r["column"]: r for r in results}


def test_profile_counts_missing_infinite_and_whole_numbers() -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.5, np.nan, np.inf, -np.inf, 2.0, 4.0],
            "count": [1.0, 2.0, 3.0, 4.0, 5.0, 6.5],
            "kind": ["a", None, "b", "a", "a", None],
            "day": pd.to_datetime(["2024-01-01", None, "2024-03-01", "2024-02-01", "2024-01-15", "2024-01-02"]),
        }
    )
    profile = profile_table(frame, SCHEMA, np.array([1, 0, 0, 0, 1, 0]))
    amount, count, kind, day = (profile["columns"][name] for name in ("amount", "count", "kind", "day"))
    assert (profile["rows"], profile["positive_rate"]) == (6, pytest.approx(1 / 3))
    assert (amount["missing"], amount["pos_inf"], amount["neg_inf"]) == (1, 1, 1)
    assert (amount["min"], amount["max"], amount["integral_share"]) == (1.5, 4.0, pytest.approx(2 / 3))
    assert count["integral_share"] == pytest.approx(5 / 6)
    assert (kind["missing"], kind["top"], kind["distinct"]) == (2, {"a": 3, "b": 1}, 2)
    assert (day["first"], day["last"], day["missing"]) == ("2024-01-01", "2024-03-01", 1)
    assert sum(amount["bins"]["proportions"]) == pytest.approx(1.0)
    assert sum(kind["bins"]["proportions"]) == pytest.approx(1.0)


def test_profile_is_strict_json_and_deterministic(train_profile: dict) -> None:
    text = json.dumps(train_profile, allow_nan=False)
    again = profile_table(table(4000, np.random.default_rng(0)), SCHEMA, np.r_[np.ones(1000), np.zeros(3000)])
    assert json.dumps(again, allow_nan=False) == text
    assert train_profile["positive_rate"] == 0.25
    assert len(train_profile["columns"]["amount"]["bins"]["edges"]) == 9  # deciles


def test_profile_of_an_all_missing_column_has_no_range() -> None:
    frame = pd.DataFrame({"amount": [np.nan, np.nan]})
    profile = profile_table(frame, Schema(target="y", id=None, numeric=["amount"]))
    column = profile["columns"]["amount"]
    assert (column["min"], column["integral_share"], column["bins"]["edges"]) == (None, None, [])
    json.dumps(profile, allow_nan=False)
    assert drift(profile, frame, Schema(target="y", id=None, numeric=["amount"]))[0]["severity"] == "none"


def test_same_distribution_is_quiet(train_profile: dict) -> None:
    results = drift(train_profile, table(3000, np.random.default_rng(1)), SCHEMA)
    assert [r["column"] for r in results] == ["amount", "count", "kind", "day"]
    assert all(r["severity"] == "none" and r["flags"] == [] and r["message"] == "" for r in results), results
    assert max(r["psi"] for r in results) < 0.05


def test_a_shifted_column_is_major_drift_with_a_message(train_profile: dict) -> None:
    results = by_column(drift(train_profile, table(3000, np.random.default_rng(1), shift=1.0), SCHEMA))
    amount = results["amount"]
    assert amount["severity"] == "major" and amount["psi"] > 0.25
    assert "amount: its distribution has shifted (major, PSI" in amount["message"]
    assert "median" in amount["message"]
    assert {r["severity"] for name, r in results.items() if name != "amount"} == {"none"}


def test_whole_numbers_where_training_had_noisy_floats_are_flagged(train_profile: dict) -> None:
    count = by_column(drift(train_profile, table(3000, np.random.default_rng(1), whole_counts=True), SCHEMA))["count"]
    assert count["flags"] == ["whole-numbers"]
    assert count["severity"] in ("moderate", "major")
    assert count["integral_train"] < 0.01 and count["integral_scored"] == 1.0
    assert "values are whole numbers here (100 % of values) but not in training (0" in count["message"]


def test_decimals_where_training_had_whole_numbers_are_flagged() -> None:
    schema = Schema(target="y", id=None, numeric=["n"])
    rng = np.random.default_rng(0)
    profile = profile_table(pd.DataFrame({"n": rng.poisson(5.0, 2000).astype(float)}), schema)
    noisy = pd.DataFrame({"n": rng.poisson(5.0, 2000) * (1 + 0.01 * rng.standard_normal(2000))})
    assert drift(profile, noisy, schema)[0]["flags"] == ["decimals"]


def test_missing_values_outside_range_and_unseen_categories_are_flagged(train_profile: dict) -> None:
    frame = table(3000, np.random.default_rng(1))
    frame.loc[:599, "count"] = np.nan
    frame.loc[:99, "amount"] = 1e12
    frame.loc[:299, "kind"] = "brand-new"
    results = by_column(drift(train_profile, frame, SCHEMA))
    assert "missing" in results["count"]["flags"] and results["count"]["missing_scored"] == pytest.approx(0.2)
    assert "20 % of values are missing here, 0 % in training" in results["count"]["message"]
    assert "outside-range" in results["amount"]["flags"] and results["amount"]["outside_range"] == pytest.approx(100 / 3000, abs=0.003)
    assert "unseen-categories" in results["kind"]["flags"] and results["kind"]["unseen_share"] == pytest.approx(0.1)
    assert "never seen in training" in results["kind"]["message"]


def test_a_shifted_category_mix_names_the_category(train_profile: dict) -> None:
    frame = table(3000, np.random.default_rng(1))
    frame["kind"] = np.random.default_rng(2).choice(["a", "b", "c"], 3000, p=[0.35, 0.05, 0.6]).astype(object)
    kind = by_column(drift(train_profile, frame, SCHEMA))["kind"]
    assert kind["severity"] == "major"
    assert re.search(r"'c' is 60 % of rows here, (19|20) % in training", kind["message"]), kind["message"]


def test_too_few_rows_are_judged_by_flags_only(train_profile: dict) -> None:
    few = table(30, np.random.default_rng(1), shift=1.0)
    assert {r["severity"] for r in drift(train_profile, few, SCHEMA)} == {"none"}


def test_numeric_bins_and_psi() -> None:
    shares = numeric_bins(np.array([np.nan, -np.inf, 0.0, 1.0, 1.0, 5.0, np.inf, np.inf]), [1.0, 2.0])
    assert shares.tolist() == [1 / 8, 1 / 8, 1 / 8, 2 / 8, 1 / 8, 2 / 8]
    assert numeric_bins(np.array([]), [1.0]).tolist() == [0.0] * 5
    assert psi([0.25, 0.75], [0.25, 0.75]) == 0.0
    assert psi([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0  # an empty bin on both sides adds nothing
    assert psi([0.5, 0.5], [0.6, 0.4]) == pytest.approx(0.1 * np.log(1.2) + 0.1 * np.log(1.25))
    assert [psi_severity(v) for v in (0.05, 0.1, 0.25, 0.26)] == ["none", "moderate", "moderate", "major"]
    assert integral_share(np.array([np.nan])) is None
    assert psi_noise([0.2, 0.8, 0.0], [0.5, 0.5, 0.0], 100, 100) == pytest.approx(0.02)  # 2 bins used


def test_challenge_style_holdout_is_flagged_and_test_split_is_not(dataset: Path) -> None:
    train = read_table(dataset / "train.csv")
    schema = infer_schema(train)
    prepared = prepare(train, schema, labelled=True)
    profile = profile_table(prepared.features, schema, prepared.y)
    assert profile["positive_rate"] == pytest.approx(prepared.y.mean())
    test = drift(profile, prepare(read_table(dataset / "test.csv"), schema, labelled=False).features, schema)
    assert [r["column"] for r in test if r["severity"] != "none"] == []
    holdout = by_column(drift(profile, prepare(read_table(dataset / "holdout.csv"), schema, labelled=False).features, schema))
    flagged = {name for name, r in holdout.items() if "whole-numbers" in r["flags"]}
    assert flagged == {"funding_rounds", "job_postings_30d"}


def test_docstring_examples_run() -> None:
    results = doctest.testmod(profile_module)
    assert results.attempted > 0 and results.failed == 0
