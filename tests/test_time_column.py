"""``train --time-column``: time-ordered (expanding window) out-of-fold predictions beside the stratified ones, the threshold chosen on them, and histories cut at each company's own month."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotleads.cli import app
from hotleads.exceptions import DataError
from hotleads.folds import expanding_folds
from hotleads.history import attach
from hotleads.training import TrainOptions, train

# ---------------------------------------------------------------- the folds


def test_expanding_folds_train_on_the_past_and_hold_out_the_next_period() -> None:
    rng = np.random.default_rng(0)
    times = np.datetime64("2024-01-01") + rng.integers(0, 365, 300).astype("timedelta64[D]")
    times[:7] = np.datetime64("NaT")
    folds = expanding_folds(times, 4)
    assert len(folds) == 4
    held_out = np.concatenate([valid for _, valid in folds])
    assert len(set(held_out.tolist())) == len(held_out) and not set(range(7)) & set(held_out.tolist())  # each row once; no date, no fold
    for k, (train_rows, valid_rows) in enumerate(folds):
        assert times[train_rows].max() < times[valid_rows].min()  # strictly the past: a day never straddles two periods
        if k:
            assert set(folds[k - 1][0].tolist()) | set(folds[k - 1][1].tolist()) == set(train_rows.tolist())  # the window expands
    sizes = [len(valid) for _, valid in folds]
    assert max(sizes) - min(sizes) < 0.2 * np.mean(sizes)  # periods of about equal size


def test_expanding_folds_need_enough_distinct_times() -> None:
    with pytest.raises(ValueError, match=r"^4 time periods need at least 4 distinct times; there are 2\.$"):
        expanding_folds(np.array([1.0, 1.0, 2.0, 2.0, np.nan]), 3)


# ---------------------------------------------------------------- training


def leads_table(n: int = 1_500, seed: int = 0) -> pd.DataFrame:
    """Leads created over two years whose label depends on x alone, all the time."""
    rng = np.random.default_rng(seed)
    days = np.sort(rng.integers(0, 730, n))
    x = rng.normal(size=n)
    y = (x + 0.5 * rng.normal(size=n) > 1.0).astype(int)
    created = (np.datetime64("2023-01-01") + days.astype("timedelta64[D]")).astype(str)
    return pd.DataFrame({"lead_id": [f"L{i:05d}" for i in range(n)], "created": created, "x": x, "noise": rng.normal(size=n), "is_hot_lead": y})


def test_time_ordered_figures_sit_beside_the_stratified_ones_and_choose_the_threshold() -> None:
    """With the creation date as a feature, the stratified figure flatters: its folds interpolate dates, a model scoring
    next quarter's leads must extrapolate them. The time-ordered figure shows it."""
    frame = leads_table()
    model = train(frame, TrainOptions(models=["logreg"], seed=0, time_column="created", features="raw"))
    timed = model.evidence.training["time_ordered"]
    assert timed["column"] == "created" and len(timed["periods"]) == 5
    assert timed["periods"][0]["from"] > "2023-01-01" and timed["periods"][-1]["to"] <= "2024-12-31"
    assert timed["rows"] == sum(p["rows"] for p in timed["periods"]) < len(frame)  # the first period is never held out
    stratified = model.evidence.thresholds["f1"]["f1"]
    assert timed["metrics"]["f1"] < stratified - 0.1, (timed["metrics"]["f1"], stratified)
    threshold = model.predictor.threshold
    assert threshold.time_column == "created" and "time-ordered out-of-fold predictions" in threshold.reason()
    assert set(timed["members"]) == {"logreg"} and 0 < timed["members"]["logreg"] <= 1
    assert "thresholds" not in timed  # what the objectives would choose over time went into the threshold


def test_without_a_date_feature_both_figures_agree() -> None:
    model = train(leads_table(), TrainOptions(models=["logreg"], seed=0, time_column="created", features="raw"), drop=["created"])
    assert abs(model.evidence.training["time_ordered"]["metrics"]["f1"] - model.evidence.thresholds["f1"]["f1"]) < 0.03


# ---------------------------------------------------------------- the command line


def test_cli_prints_both_figures_and_saves_the_threshold_source(tmp_path: Path) -> None:
    data = tmp_path / "leads.csv"
    leads_table(600).to_csv(data, index=False)
    result = CliRunner().invoke(app, ["train", str(data), "--out", str(tmp_path / "model"), "--models", "logreg", "--time-column", "created"])
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.split())
    assert "time-ordered by 'created' (5 periods from 2023-" in words and "stratified out-of-fold: F1" in words
    threshold = json.loads((tmp_path / "model" / "predictor.json").read_text())["threshold"]
    assert threshold["time_column"] == "created"
    report = tmp_path / "report.html"
    assert CliRunner().invoke(app, ["report", str(tmp_path / "model"), "--out", str(report), "-q"]).exit_code == 0
    assert "Time-ordered by &#x27;created&#x27;: 5 periods from 2023-" in report.read_text() or "Time-ordered by 'created': 5 periods" in report.read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--time-column", "nope"], "error: --time-column 'nope' is not a column of"),
        (["--time-column", "lead_id"], "error: --time-column 'lead_id' is the id column; name a column of dates"),
        (["--time-column", "created", "--validation", "0.2"], "error: --time-column validates by periods of time and --validation by one random split"),
    ],
)
def test_cli_time_column_mistakes_are_one_error_line(tmp_path: Path, extra: list[str], message: str) -> None:
    data = tmp_path / "leads.csv"
    leads_table(300).to_csv(data, index=False)
    result = CliRunner().invoke(app, ["train", str(data), "--out", str(tmp_path / "model"), "--models", "logreg", "-q", *extra])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(message), line
    assert not (tmp_path / "model").exists()


def test_the_tables_own_problems_come_before_a_time_column_it_lacks(tmp_path: Path) -> None:
    """Typing may delete the columns it reads (train_file's own table), yet a missing --time-column is
    still named with every column as read, and after the table's problems, which say more."""
    table = leads_table(300)
    table.to_csv(tmp_path / "leads.csv", index=False)
    result = CliRunner().invoke(app, ["train", str(tmp_path / "leads.csv"), "--out", str(tmp_path / "m"), "--models", "logreg", "-q", "--time-column", "nope"])
    assert result.stderr.strip().endswith(f"its columns are {', '.join(table.columns)}."), result.stderr
    table["x"] = table["x"].astype(object)
    table.loc[5, "x"] = "lots"
    table.to_csv(tmp_path / "leads.csv", index=False)
    result = CliRunner().invoke(app, ["train", str(tmp_path / "leads.csv"), "--out", str(tmp_path / "m"), "--models", "logreg", "-q", "--time-column", "nope"])
    assert result.exit_code == 2
    assert "column 'x' is numeric but has text ('lots' at line 7)" in result.stderr, result.stderr


def test_an_earliest_period_with_one_class_is_one_error_line(tmp_path: Path) -> None:
    table = leads_table(300)
    table.loc[:80, "is_hot_lead"] = 0  # no hot lead in the first months
    table.to_csv(tmp_path / "leads.csv", index=False)
    result = CliRunner().invoke(
        app, ["train", str(tmp_path / "leads.csv"), "--out", str(tmp_path / "model"), "--models", "logreg", "--time-column", "created", "-q"]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --time-column 'created': the earliest period has only one class; give fewer --folds so that it holds both."]


# ---------------------------------------------------------------- histories


def test_no_month_after_a_companys_own_month_reaches_its_features(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text("company_id,month,job_postings\nA,2024-10,1\nA,2024-11,2\nA,2024-12,500\nB,2024-12,3\n")
    frame = pd.DataFrame({"company_id": ["A", "B"]})
    ends = np.array([2024 * 12 + 10, 2025 * 12])  # A created in 2024-11: its December spike is after it
    joined, _, windows = attach(frame, history, months=3, ends=ends)
    assert joined["job_postings__last"].tolist() == [2, 3]
    assert np.nanmax(windows[0]) == 2 and windows[0, -1, 0] == 2  # A's window ends at its own month
    joined_all, _, _ = attach(frame, history, months=3)
    assert joined_all["job_postings__last"].tolist() == [500, 3]  # without --time-column the window ends at the reference month


def test_windows_the_time_column_ends_before_the_history_name_that_column(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text("company_id,month,job_postings\nA,2024-10,1\nB,2024-12,3\n")
    ends = np.array([2010 * 12, 2010 * 12 + 5])  # created in 2010: long before the history's months
    with pytest.raises(
        DataError,
        match=r"each row's window of 3 months ends at its --time-column month \(2010-01 to 2010-06\), and the history runs from 2024-10 to 2024-12; check that column",
    ):
        attach(pd.DataFrame({"company_id": ["A", "B"]}), history, months=3, ends=ends)
