"""Tests of the built-in synthetic data (hotleads.synth)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hotleads import io as hotleads_io
from hotleads import synth

REAL_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "hr-leads" / "train.csv"
COUNTS = ["funding_rounds", "job_postings_30d"]
FILES = ["train.csv", "test.csv", "holdout.csv", "bayes.json"]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The default dataset (20,000 rows, seed 0), written once."""
    out = tmp_path_factory.mktemp("synth")
    return out, synth.write_dataset(out)


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name)


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    for name, seed in [("a", 3), ("b", 3), ("c", 4)]:
        synth.write_dataset(tmp_path / name, rows=500, seed=seed)
    for file in FILES:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    for file in ["train.csv", "test.csv", "holdout.csv"]:
        assert (tmp_path / "a" / file).read_bytes() != (tmp_path / "c" / file).read_bytes()


def test_columns_match_the_public_table(full: tuple[Path, dict]) -> None:
    out, _ = full
    train = read(out, "train.csv")
    assert list(train.columns) == synth.COLUMNS
    assert list(read(out, "holdout.csv").columns) == synth.COLUMNS[:-1]
    if not REAL_TRAIN.exists():
        pytest.skip(f"public challenge table not found at {REAL_TRAIN}")
    real = pd.read_csv(REAL_TRAIN, nrows=200)
    assert list(real.columns) == synth.COLUMNS
    for col in real.columns:
        assert train[col].dtype.kind == real[col].dtype.kind, col


def test_values_look_like_the_public_table(full: tuple[Path, dict]) -> None:
    out, _ = full
    train = read(out, "train.csv")
    assert train["company_id"].str.fullmatch(r"COMP_\d{6}").all()
    assert train["company_id"].is_unique
    assert set(train["industry"]) == set(synth.INDUSTRY_GROWTH)
    assert set(train["hiring_roles"]) == set(synth.ROLE_EFFECT)
    assert train["industry_growth_rate"].between(5, 30).all()
    days = (pd.Timestamp("2025-02-20") - pd.to_datetime(train["last_funding_date"])).dt.days
    assert (days == train["days_since_last_funding"]).all()
    assert 0.003 < train["employee_growth_pct"].isna().mean() < 0.02
    assert train["company_name"].str.contains("-").any()


def test_positive_rate_near_fifteen_percent(full: tuple[Path, dict]) -> None:
    out, report = full
    labelled = pd.concat([read(out, "train.csv"), read(out, "test.csv")])
    assert 0.12 <= labelled["is_hot_lead"].mean() <= 0.18
    assert report["rows"] == {"train": 12_000, "test": 4_000, "holdout": 4_000}
    assert json.loads((out / "bayes.json").read_text()) == report
    assert report["generator"] == "hotleads.synth v1"


def test_holdout_counts_are_integers_train_counts_fractional(full: tuple[Path, dict]) -> None:
    out, _ = full
    holdout, train = read(out, "holdout.csv"), read(out, "train.csv")
    assert "is_hot_lead" not in holdout
    assert holdout["company_id"].iloc[0] == "COMP_000000"
    assert holdout["company_id"].is_unique
    for col in COUNTS:
        assert holdout[col].dtype.kind == "i", col
        assert (train[col] % 1 != 0).mean() > 0.99, col


def test_funding_per_employee_has_inf(full: tuple[Path, dict]) -> None:
    out, _ = full
    assert np.isinf(read(out, "train.csv")["funding_per_employee"]).any()


def test_bayes_f1_is_a_ceiling(full: tuple[Path, dict]) -> None:
    out, report = full
    train, test = read(out, "train.csv"), read(out, "test.csv")
    numeric = train.select_dtypes("number").columns.drop("is_hot_lead")

    def features(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[numeric].replace([np.inf, -np.inf], np.nan)

    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(features(train), train["is_hot_lead"])
    # threshold tuned on the test labels themselves: generous to the plain model
    lr_proba = model.predict_proba(features(test))[:, 1]
    lr_f1, _ = synth.bayes_f1(test["is_hot_lead"].to_numpy(), lr_proba)
    assert lr_f1 < report["test_bayes_f1"] < 1.0
    assert 0.7 < report["test_bayes_f1"]


def test_make_companies_clean_counts_same_companies() -> None:
    noisy, p_noisy = synth.make_companies(300, seed=7)
    clean, p_clean = synth.make_companies(300, seed=7, clean_counts=True)
    np.testing.assert_array_equal(p_noisy, p_clean)
    assert (noisy["is_hot_lead"] == clean["is_hot_lead"]).all()
    assert (clean["funding_rounds"] % 1 == 0).all()
    assert ((p_clean > 0) & (p_clean < 1)).all()


def test_bayes_f1_small_cases() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.1, 0.9, 0.8, 0.7, 0.2])
    assert synth.bayes_f1(y, p) == pytest.approx((6 / 7, 0.2))  # top four: tp 3, fp 1
    tied = np.array([0.5, 0.5, 0.5, 0.1])  # equal probabilities are never split
    assert synth.bayes_f1(np.array([1, 1, 0, 0]), tied) == pytest.approx((0.8, 0.5))
    assert synth.bayes_f1(np.zeros(3), np.full(3, 0.5)) == (0.0, 1.0)
    assert synth.bayes_f1(np.ones(3), np.full(3, 0.5)) == (1.0, 0.5)


def test_write_is_atomic_and_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synth.write_dataset(tmp_path / "ok", rows=50)
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(FILES)

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(hotleads_io.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        synth.write_dataset(tmp_path / "bad", rows=50)
    assert list((tmp_path / "bad").iterdir()) == []


@pytest.mark.parametrize("rows", [5, 19, 0, -3, 20.0, True, "100"])
def test_rows_below_twenty_or_not_int_raise(tmp_path: Path, rows: object) -> None:
    message = f"The 'rows' parameter of write_dataset must be an int >= 20. Got {rows!r} instead."
    with pytest.raises(ValueError, match=re.escape(message)):
        synth.write_dataset(tmp_path, rows=rows)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


def test_smallest_dataset(tmp_path: Path) -> None:
    report = synth.write_dataset(tmp_path, rows=20, seed=1)
    assert report["rows"] == {"train": 12, "test": 4, "holdout": 4}
