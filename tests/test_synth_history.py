"""Tests of the built-in companies with monthly histories (hotleads.synth, hr-histories)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from hotleads import synth
from hotleads.cli import app

FILES = ["train.csv", "test.csv", "holdout.csv", "history.csv", "bayes.json"]
COMPANY_COLUMNS = ["company_id", "company_name", "industry", "hq_region", "founded_year", "employees", "is_hot_lead"]
HISTORY_COLUMNS = ["company_id", "month", "job_postings", "headcount", "funding_raised"]
N_TRAIN, N_TEST = 6_000, 4_000


@pytest.fixture(scope="module")
def large() -> dict[bool, tuple[pd.DataFrame, pd.DataFrame, np.ndarray]]:
    """10,000 companies (seed 7), with the temporal label (True) and the control label (False)."""
    return {temporal: synth.make_history_companies(N_TRAIN + N_TEST, seed=7, temporal_signal=temporal) for temporal in (True, False)}


def window(months: int) -> list[str]:
    """The months of a window ending at HISTORY_AS_OF, oldest first."""
    return [str(m) for m in pd.period_range(end=synth.HISTORY_AS_OF, periods=months, freq="M")]


def test_public_constants() -> None:
    assert synth.HISTORY_CHANNELS == ("job_postings", "headcount", "funding_raised")
    assert synth.HISTORY_AS_OF == "2025-01"
    assert window(24)[0] == "2023-02"


def test_shapes_columns_and_types(large: dict) -> None:
    companies, history, proba = large[True]
    assert list(companies.columns) == COMPANY_COLUMNS
    assert list(history.columns) == HISTORY_COLUMNS
    assert len(companies) == len(proba) == N_TRAIN + N_TEST
    assert companies["company_id"].str.fullmatch(r"COMP_\d{6}").all() and companies["company_id"].is_unique
    assert companies["company_id"].iloc[0] == "COMP_000000"
    assert 3 <= companies["industry"].nunique() <= 8 and 3 <= companies["hq_region"].nunique() <= 8
    for col in ("founded_year", "employees", "is_hot_lead"):
        assert companies[col].dtype.kind == "i", col
    for col in ("job_postings", "headcount", "funding_raised"):
        assert history[col].dtype.kind == "i", col
    assert (history[["job_postings", "headcount", "funding_raised"]] >= 0).all().all()
    assert (companies["employees"] >= 1).all()
    assert companies["founded_year"].between(1990, 2025).all()
    assert set(companies["is_hot_lead"]) == {0, 1}
    assert set(history["company_id"]) <= set(companies["company_id"])
    assert not history.duplicated(["company_id", "month"]).any()
    keys = list(zip(history["company_id"], history["month"], strict=True))
    assert keys == sorted(keys)  # by company, then month


def test_employees_is_the_as_of_headcount(large: dict) -> None:
    companies, history, _ = large[True]
    as_of = history[history["month"] == synth.HISTORY_AS_OF].set_index("company_id")["headcount"]
    employees = companies.set_index("company_id")["employees"]
    assert len(as_of) > 0.8 * len(companies)
    assert (employees.loc[as_of.index] == as_of).all()


@pytest.mark.parametrize("months", [24, 6, 40])
def test_months_are_text_within_the_window(months: int) -> None:
    companies, history, _ = synth.make_history_companies(400, seed=3, months=months)
    assert history["month"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all()
    assert set(history["month"]) <= set(window(months))
    assert history["month"].max() == synth.HISTORY_AS_OF  # no month after the reference month
    assert history["month"].min() == window(months)[0]
    assert history.groupby("company_id").size().max() <= months


def test_young_companies_start_late(large: dict) -> None:
    companies, history, _ = large[True]
    first = history.groupby("company_id")["month"].min()
    founded = companies.set_index("company_id")["founded_year"].loc[first.index]
    assert (first.str[:4].astype(int) >= founded).all()  # no month before the founding year
    young = founded >= 2024
    assert young.mean() > 0.03
    counts = history.groupby("company_id").size()
    assert counts[young].median() < 13 <= counts[~young].median()  # short histories


def test_about_a_tenth_have_no_history_and_months_have_gaps(large: dict) -> None:
    companies, history, _ = large[True]
    without = ~companies["company_id"].isin(history["company_id"])
    assert 0.08 <= without.mean() <= 0.12
    # companies founded before the window: any month short of 24 is a gap
    old = companies.loc[companies["founded_year"] <= 2022, "company_id"]
    counts = history.groupby("company_id").size().reindex(old).dropna()
    gap_share = 1 - counts.sum() / (24 * len(counts))
    assert 0.03 <= gap_share <= 0.07
    assert (counts < 24).mean() > 0.3


def test_funding_is_rare_rounds_in_range(large: dict) -> None:
    _, history, _ = large[True]
    funding = history["funding_raised"]
    assert (funding == 0).mean() > 0.9
    raised = funding[funding > 0]
    assert raised.between(500_000, 50_000_000).all()
    assert raised.min() < 2_000_000 and raised.max() > 20_000_000
    rounds = (funding > 0).groupby(history["company_id"]).sum()
    assert rounds.max() <= 3
    assert set(rounds) == {0, 1, 2, 3}
    assert history["job_postings"].max() > 5 * history["job_postings"].median()  # spikes exist


def test_control_has_the_same_companies_and_histories(large: dict) -> None:
    (temporal, history, p_temporal), (control, history_control, p_control) = large[True], large[False]
    pd.testing.assert_frame_equal(history, history_control)
    pd.testing.assert_frame_equal(temporal.drop(columns="is_hot_lead"), control.drop(columns="is_hot_lead"))
    assert (temporal["is_hot_lead"] != control["is_hot_lead"]).mean() > 0.1
    assert not np.allclose(p_temporal, p_control)


@pytest.mark.parametrize("temporal", [True, False])
def test_positive_rate_and_bayes_f1(temporal: bool, large: dict) -> None:
    companies, _, proba = large[temporal]
    y = companies["is_hot_lead"].to_numpy()
    assert 0.12 <= y.mean() <= 0.18
    assert abs(y.mean() - proba.mean()) < 0.015
    assert synth.bayes_f1(y[N_TRAIN:], proba[N_TRAIN:])[0] > 0.65


def aggregates(companies: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Order-free features: the company columns and, per channel, mean, max, last, total and months observed (log1p)."""
    months = history.assign(funding_raised=history["funding_raised"] / 1e6).groupby("company_id", sort=True)
    parts = [np.log1p(months[ch].agg(["mean", "max", "last", "sum"]).add_prefix(f"{ch}_")) for ch in synth.HISTORY_CHANNELS]
    parts.append(months.size().rename("months").to_frame())
    per_company = pd.concat(parts, axis=1).reindex(companies["company_id"]).fillna(0.0).reset_index(drop=True)
    static = pd.get_dummies(companies[["industry", "hq_region"]], dtype=float)
    static["log_employees"] = np.log1p(companies["employees"])
    static["founded_year"] = companies["founded_year"] - 2000.0
    return pd.concat([static, per_company], axis=1)


def aggregate_f1s(companies: pd.DataFrame, history: pd.DataFrame, proba: np.ndarray) -> tuple[float, float, float]:
    """(logistic regression F1, boosted trees F1, Bayes F1) on the last 4,000 companies, fitted on the first 6,000;
    every threshold F1-optimal on the scored labels, the Bayes one too."""
    X, y = aggregates(companies, history), companies["is_hot_lead"].to_numpy()
    models = (make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), HistGradientBoostingClassifier(random_state=0))
    f1s = []
    for model in models:
        model.fit(X.iloc[:N_TRAIN], y[:N_TRAIN])
        f1s.append(synth.bayes_f1(y[N_TRAIN:], model.predict_proba(X.iloc[N_TRAIN:])[:, 1])[0])
    return f1s[0], f1s[1], synth.bayes_f1(y[N_TRAIN:], proba[N_TRAIN:])[0]


def test_the_temporal_signal_needs_the_order_of_the_months(large: dict) -> None:
    """Order-free aggregates fall well short of the Bayes F1 on the temporal label (about 60 % of it)..."""
    linear, trees, bayes = aggregate_f1s(*large[True])
    assert max(linear, trees) <= 0.9 * bayes, (linear, trees, bayes)
    assert max(linear, trees) <= 0.75 * bayes, (linear, trees, bayes)  # the margin measured: 0.55-0.61


def test_the_control_signal_is_in_the_aggregates(large: dict) -> None:
    """...and come close to it on the control label, from the same companies and histories."""
    linear, trees, bayes = aggregate_f1s(*large[False])
    assert linear >= 0.93 * bayes, (linear, trees, bayes)
    assert trees >= 0.85 * bayes, (linear, trees, bayes)


def test_write_history_dataset(tmp_path: Path) -> None:
    report = synth.write_history_dataset(tmp_path, rows=500, seed=2, months=12)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    assert json.loads((tmp_path / "bayes.json").read_text()) == report
    assert report["family"] == "hr-histories" and report["rows"] == {"train": 300, "test": 100, "holdout": 100}
    assert report["history"] == {"months": 12, "as_of": "2025-01", "temporal_signal": True, "channels": list(synth.HISTORY_CHANNELS)}
    assert {"seed", "positive_rate", "test_bayes_f1", "test_bayes_threshold", "train_bayes_f1", "generator"} <= set(report)
    train, test, holdout = (pd.read_csv(tmp_path / name) for name in ("train.csv", "test.csv", "holdout.csv"))
    history = pd.read_csv(tmp_path / "history.csv", dtype={"month": str})
    assert list(train.columns) == list(test.columns) == COMPANY_COLUMNS
    assert list(holdout.columns) == COMPANY_COLUMNS[:-1]
    assert list(history.columns) == HISTORY_COLUMNS
    ids = pd.concat([train["company_id"], test["company_id"], holdout["company_id"]])
    assert ids.is_unique and len(ids) == 500
    assert set(history["company_id"]) <= set(ids)
    assert set(holdout["company_id"]) & set(history["company_id"])  # the holdout's histories are there too
    keys = list(zip(history["company_id"], history["month"], strict=True))
    assert keys == sorted(keys)
    assert set(history["month"]) <= set(window(12))


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    for name, seed in [("a", 3), ("b", 3), ("c", 4)]:
        synth.write_history_dataset(tmp_path / name, rows=300, seed=seed)
    for file in FILES:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    for file in ["train.csv", "test.csv", "holdout.csv", "history.csv"]:
        assert (tmp_path / "a" / file).read_bytes() != (tmp_path / "c" / file).read_bytes(), file


def test_control_files_differ_only_in_the_label(tmp_path: Path) -> None:
    temporal = synth.write_history_dataset(tmp_path / "t", rows=2000, seed=5)
    control = synth.write_history_dataset(tmp_path / "c", rows=2000, seed=5, temporal_signal=False)
    assert control["history"]["temporal_signal"] is False and temporal["history"]["temporal_signal"] is True
    for file in ["history.csv", "holdout.csv"]:
        assert (tmp_path / "t" / file).read_bytes() == (tmp_path / "c" / file).read_bytes(), file
    for file in ["train.csv", "test.csv"]:
        t, c = pd.read_csv(tmp_path / "t" / file), pd.read_csv(tmp_path / "c" / file)
        pd.testing.assert_frame_equal(t.drop(columns="is_hot_lead"), c.drop(columns="is_hot_lead"))
        assert (t["is_hot_lead"] != c["is_hot_lead"]).any(), file


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda out: synth.write_history_dataset(out, rows=19), "The 'rows' parameter of write_history_dataset must be an int >= 20. Got 19 instead."),
        (
            lambda out: synth.write_history_dataset(out, rows=100, months=1),
            "The 'months' parameter of write_history_dataset must be an int >= 2. Got 1 instead.",
        ),
        (
            lambda out: synth.write_history_dataset(out, rows=100, months=12.0),
            "The 'months' parameter of write_history_dataset must be an int >= 2. Got 12.0 instead.",
        ),
        (
            lambda out: synth.write_history_dataset(out, rows=100, temporal_signal=1),
            "The 'temporal_signal' parameter of write_history_dataset must be a bool. Got 1 instead.",
        ),
        (lambda out: synth.make_history_companies(0), "The 'n_rows' parameter of make_history_companies must be an int >= 1. Got 0 instead."),
        (
            lambda out: synth.make_history_companies(10, temporal_signal="no"),
            "The 'temporal_signal' parameter of make_history_companies must be a bool. Got 'no' instead.",
        ),
    ],
)
def test_bad_arguments_raise(call, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call(tmp_path / "out")
    assert not any(tmp_path.iterdir())


def test_cli_generate_history(tmp_path: Path) -> None:
    out = tmp_path / "hist"
    result = CliRunner().invoke(app, ["generate", "--out", str(out), "--rows", "200", "--history", "--months", "12", "--no-temporal-signal", "--seed", "1"])
    assert result.exit_code == 0, result.output
    line = " ".join(result.stdout.split())
    assert "history.csv (12 months to 2025-01, order-free control signal)" in line and "family hr-histories" in line
    assert "test Bayes-optimal F1" in line
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    synth.write_history_dataset(tmp_path / "direct", rows=200, seed=1, months=12, temporal_signal=False)
    for file in FILES:
        assert (out / file).read_bytes() == (tmp_path / "direct" / file).read_bytes(), file


def test_cli_generate_history_defaults(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--rows", "100", "--history", "--family", "hr-leads", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads((tmp_path / "bayes.json").read_text())["history"]["months"] == 24
    assert json.loads((tmp_path / "bayes.json").read_text())["history"]["temporal_signal"] is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--history", "--family", "crm-export"],
            "error: --family crm-export cannot be combined with --history: histories come with their own companies (hr-histories); drop one of the two.",
        ),
        (["--months", "12"], "error: --months only applies with --history; add --history or drop --months."),
        (["--no-temporal-signal"], "error: --no-temporal-signal only applies with --history; add --history or drop --no-temporal-signal."),
        (["--temporal-signal"], "error: --temporal-signal only applies with --history; add --history or drop --temporal-signal."),
        (["--history", "--months", "1"], "error: --months must be between 2 and 240 for generated histories; got 1."),
        (["--history", "--months", "100000"], "error: --months must be between 2 and 240 for generated histories; got 100000."),
    ],
)
def test_cli_bad_history_options_are_one_error_line(options: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "out"), "--rows", "100", *options])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert not any(tmp_path.iterdir())
