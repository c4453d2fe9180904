"""Monthly histories (hotleads.history): reading and checking, the aligned window, the aggregates, and
``train/predict/evaluate --history`` end to end on small hand-made tables."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotleads.cli import app
from hotleads.exceptions import DataError, DataWarning, ParameterError
from hotleads.history import (
    HistorySpec,
    aggregate,
    attach,
    check_as_of,
    for_scoring,
    month_number,
    month_text,
    months_since_observed,
    read_history,
    with_history,
)

HISTORY = """company_id,month,job_postings,headcount
A,2024-10,1,10
A,2024-11,2,11
A,2024-12,4,
A,2025-01,8,14
B,2024-12,5,50
C,2024-06,0,3
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    return write(tmp_path, "history.csv", HISTORY)


# ---------------------------------------------------------------- months


def test_months_round_trip_and_full_dates_count_as_their_month() -> None:
    assert month_number("2025-01") == 2025 * 12
    assert month_number("2025-01-31") == month_number("2025-01")
    for written in ("2025-01-31 00:00:00", "2025-01-31T23:59:59", "2025-01-01T09:30:00.250Z", "2025-01-15T09:30+02:00", "2025-1"):
        assert month_number(written) == month_number("2025-01"), written  # a date and time, as a spreadsheet writes it
    assert month_number("2024-02-29") == month_number("2024-02")  # a leap day
    assert month_text(month_number("1999-12")) == "1999-12"
    for bad in ("2025-13", "2025/01", "Jan 2025", "", "2025", "2025-01-32", "2025-02-29", "2025-04-31", "2025-01-00", "２０２５-０１", "2025-01-31T"):
        assert month_number(bad) is None, bad
    with pytest.raises(ParameterError, match=r"^--as-of must be a month, YYYY-MM \(e.g. 2025-01\); got '2025-1x'\.$"):
        check_as_of("2025-1x")


# ---------------------------------------------------------------- reading and checking


def test_read_history_types_every_column(history_file: Path) -> None:
    history = read_history(history_file, companies=pd.DataFrame({"company_id": list("ABCD")}))
    assert history.id_column == "company_id" and history.channels == ("job_postings", "headcount")
    assert history.as_of_text == "2025-01"  # the latest month
    assert history.values.shape == (6, 2) and np.isnan(history.values[2, 1])  # a blank cell is unobserved
    assert list(history.ids) == list("AAAABC")


def test_every_problem_is_reported_at_once_with_its_lines(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "bad.csv",
        "company_id,month,job_postings\nA,2024-10,1\nA,2024-10,2\nA,2024-13,4\nZ,2025-01,8\n,2024-12,5\nB,2025-03,abc\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a refused history gives its error alone: one line, no warning about company Z before it
        with pytest.raises(DataError) as caught:
            read_history(bad, companies=pd.DataFrame({"company_id": ["A", "B"]}), as_of="2025-01")
    message = str(caught.value)
    assert message.startswith(f"{bad}: ")
    for part in (
        "'company_id' is blank (line 6)",
        "'month' is not a month ('2024-13' at line 4); write it YYYY-MM",
        "after the reference month 2025-01 ('2025-03' at line 7)",
        "'job_postings' is not a number ('abc' at line 7)",
        "(company_id, month) pairs repeat (line 2, line 3)",
    ):
        assert part in message, part
    assert "\n" not in message


def test_history_companies_outside_the_company_table_are_warned_about_unless_none_is_in_it(history_file: Path) -> None:
    with pytest.warns(
        DataWarning, match=r"history.csv: 2 companies of the history are not in train.csv \('B' at line 6, 'C' at line 7\); their rows are not used\.$"
    ):
        history = read_history(history_file, companies=pd.DataFrame({"company_id": ["A"]}), companies_source="train.csv")
    assert len(history.ids) == 6  # read; the window of the company table's companies never uses them
    with pytest.raises(
        DataError, match=r"'company_id' has no id of a company in train.csv \('A' at line 2, 'B' at line 6, 'C' at line 7\); is it the history of another table"
    ):
        read_history(history_file, companies=pd.DataFrame({"company_id": ["X", "Y"]}), companies_source="train.csv")


def test_an_id_column_the_company_table_lacks_is_named(history_file: Path) -> None:
    with pytest.raises(DataError, match=r"its id column 'company_id' is not a column of companies.csv; rename it to the company table's id column \(its id"):
        read_history(history_file, companies=pd.DataFrame({"lead_id": ["A"]}), companies_source="companies.csv")
    renamed = write(history_file.parent, "renamed.csv", HISTORY.replace("company_id", "CompanyID"))
    with pytest.raises(DataError, match=r"its id column 'CompanyID' is not a column of c.csv; rename it to the company table's id column \('company_id'\)"):
        read_history(renamed, companies=pd.DataFrame({"company_id": ["A"]}), companies_source="c.csv")


def test_the_id_and_month_columns_and_a_channel_are_required(tmp_path: Path) -> None:
    no_month = write(tmp_path, "a.csv", "company_id,period,job_postings\nA,2024-10,1\n")
    with pytest.raises(DataError, match=r"needs the columns 'company_id' .* and 'month' \(YYYY-MM\); 'month' missing among company_id, period, job_postings"):
        read_history(no_month)
    no_channel = write(tmp_path, "b.csv", "company_id,month\nA,2024-10\n")
    with pytest.raises(DataError, match="at least one numeric column besides 'company_id' and 'month'"):
        read_history(no_channel)
    with pytest.raises(DataError, match=r"the model reads the history columns job_postings, funding_raised; funding_raised missing"):
        read_history(write(tmp_path, "c.csv", "company_id,month,job_postings\nA,2024-10,1\n"), channels=("job_postings", "funding_raised"))


def test_formatted_numbers_and_parquet_read_alike(tmp_path: Path, history_file: Path) -> None:
    formatted = write(tmp_path, "f.csv", 'company_id,month,funding_raised\nA,2024-10,"1,500,000"\nA,2024-11,0\n')
    assert read_history(formatted).values[:, 0].tolist() == [1_500_000.0, 0.0]
    parquet = tmp_path / "h.parquet"
    pd.read_csv(history_file).to_parquet(parquet)
    np.testing.assert_array_equal(read_history(parquet).values, read_history(history_file).values)


# ---------------------------------------------------------------- the window


def test_the_window_aligns_each_company_to_the_reference_month(history_file: Path) -> None:
    history = read_history(history_file)
    window = history.window(np.array(["A", "B", "C", "D"]), 6)  # 2024-08 .. 2025-01
    assert window.values.shape == (4, 6, 2)
    np.testing.assert_array_equal(window.values[0, :, 0], [np.nan, np.nan, 1, 2, 4, 8])
    np.testing.assert_array_equal(window.values[1, :, 1], [np.nan] * 4 + [50, np.nan])
    assert not window.observed[2].any()  # C's only month (2024-06) is before the window
    assert not window.observed[3].any()  # D has no history: all unobserved, scored from its own columns
    # an earlier reference month moves the window: B's 2024-12 is then the last step
    before = history_file.with_name("before.csv")
    before.write_text("".join(line for line in HISTORY.splitlines(keepends=True) if "2025-01" not in line))
    earlier = read_history(before, as_of="2024-12").window(np.array(["B"]), 3)
    assert earlier.values[0, -1, 0] == 5


def test_months_since_observed_is_grud_delta() -> None:
    observed = np.array([[True, False, False, True, True]])[:, :, None]
    np.testing.assert_array_equal(months_since_observed(observed)[0, :, 0], [0, 1, 2, 3, 1])


def test_aggregates_by_hand(history_file: Path) -> None:
    window = read_history(history_file).window(np.array(["A", "B", "D"]), 6)
    table = aggregate(window)
    a, b, d = (table.iloc[i] for i in range(3))
    assert a["job_postings__last"] == 8 and a["job_postings__mean"] == pytest.approx(15 / 4)
    steps = np.array([2, 3, 4, 5.0])
    expected_slope = np.polyfit(steps, [1, 2, 4, 8], 1)[0]
    assert a["job_postings__slope"] == pytest.approx(expected_slope)
    assert a["job_postings__max_rise"] == 4
    assert a["job_postings__last3_vs_prior3"] == pytest.approx((2 + 4 + 8) / 3 / 1)
    assert a["headcount__max_rise"] == 3  # 11 -> (unobserved) -> 14: the rise between observed months
    assert a["job_postings__months_since_nonzero"] == 0
    assert b["job_postings__months_since_nonzero"] == 1 and np.isnan(b["job_postings__slope"])  # one observation: no trend
    assert d.isna().all()  # no history: every aggregate unknown
    assert list(table.columns) == HistorySpec("company_id", ("job_postings", "headcount")).aggregate_columns()


def test_all_zero_months_are_long_ago_not_unknown() -> None:
    from hotleads.history import Window

    values = np.zeros((1, 4, 1), dtype=np.float32)
    window = Window(values, np.ones_like(values, dtype=bool), ("funding_raised",))
    assert aggregate(window)["funding_raised__months_since_nonzero"].iloc[0] == 4


# ---------------------------------------------------------------- joining


def test_attach_joins_aggregates_and_keeps_row_locations(history_file: Path) -> None:
    frame = pd.DataFrame({"company_id": ["B", "A", "D", "C"], "size": [1, 2, 3, 4]})
    frame.attrs["marker"] = "kept"
    joined, spec, windows = attach(frame, history_file, months=6)
    assert windows.shape == (4, 6, 2) and windows[1, -1, 0] == 8  # A's last month, in the frame's row order
    assert spec == HistorySpec("company_id", ("job_postings", "headcount"), 6, "2025-01")
    assert list(joined.columns[:2]) == ["company_id", "size"] and joined.attrs["marker"] == "kept"
    assert joined["job_postings__last"].tolist()[:2] == [5, 8] and np.isnan(joined["job_postings__last"].iloc[2])


def test_a_company_column_named_like_an_aggregate_is_refused(history_file: Path) -> None:
    frame = pd.DataFrame({"company_id": ["A", "B", "C"], "job_postings__mean": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="column 'job_postings__mean' is named like a history aggregate"):
        attach(frame, history_file)


def test_scoring_needs_the_history_a_model_was_trained_with(history_file: Path) -> None:
    spec = HistorySpec("company_id", ("job_postings",), 6, "2025-01")
    with pytest.raises(ParameterError, match=r"^--history: this model was trained with a monthly history \(job_postings over 6 months\)"):
        for_scoring(spec, None)
    with pytest.raises(ParameterError, match=r"^--history: this model was trained without a monthly history; leave out --history\.$"):
        for_scoring(None, history_file)
    with pytest.raises(ParameterError, match=r"^--as-of: this model was trained without"):
        for_scoring(None, None, as_of="2025-01")
    with pytest.raises(ParameterError, match="the model reads 6 months of history"):
        for_scoring(spec, history_file, months=12)
    with pytest.warns(DataWarning, match=r"history.csv: ignoring history column\(s\) the model does not read: headcount$"):
        scoring = for_scoring(spec, history_file)
    assert scoring.channels == ("job_postings",)  # only the model's channels
    unknown_company, window = with_history(pd.DataFrame({"company_id": ["NEW"]}), scoring, spec)
    assert window.shape == (1, 6, 1) and np.isnan(window).all()
    assert np.isnan(unknown_company["job_postings__last"].iloc[0])  # scoring other companies than the history's is fine


# ---------------------------------------------------------------- the command line


def _tables(tmp_path: Path, n: int = 400, seed: int = 0) -> tuple[Path, Path]:
    """Companies whose label is a rise in job postings over the last months: visible only through the history."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(n)]
    rising = rng.random(n) < 0.3
    label = np.where(rng.random(n) < 0.9, rising, ~rising).astype(int)
    companies = pd.DataFrame({"company_id": ids, "employees": rng.integers(5, 500, n), "is_hot_lead": label})
    rows = []
    for i, company in enumerate(ids):
        if i % 10 == 0:
            continue  # a tenth without history
        base = rng.uniform(2, 10)
        for m in range(12):
            level = base * (1.3 ** (m - 6) if rising[i] and m > 6 else 1.0)
            rows.append((company, f"{2024 + (m + 1) // 12}-{(m + 1) % 12 + 1:02d}", rng.poisson(level)))
    history = pd.DataFrame(rows, columns=["company_id", "month", "job_postings"])
    companies.to_csv(tmp_path / "companies.csv", index=False)
    history.to_csv(tmp_path / "history.csv", index=False)
    return tmp_path / "companies.csv", tmp_path / "history.csv"


def test_train_predict_evaluate_with_a_history(tmp_path: Path) -> None:
    companies, history = _tables(tmp_path)
    runner = CliRunner()
    model = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(companies), "--out", str(model), "--history", str(history), "--models", "gbdt", "--months", "12", "-q"])
    assert trained.exit_code == 0, trained.output
    predictor = json.loads((model / "predictor.json").read_text())
    assert predictor["history"] == {"id_column": "company_id", "channels": ["job_postings"], "months": 12, "as_of": "2025-01", "formats": {}}
    evidence = json.loads((model / "evidence.json").read_text())
    assert evidence["training"]["history"]["path"] == str(history) and len(evidence["training"]["history"]["sha256"]) == 64
    assert evidence["leaderboard"][0]["f1"] > 0.75  # the rise is learnable from the aggregates alone

    out = tmp_path / "submission.csv"
    scored = runner.invoke(app, ["predict", str(model), str(companies), "--out", str(out), "--history", str(history), "--top", "1"])
    assert scored.exit_code == 0, scored.output
    assert "Job postings, " in scored.stdout  # reasons name the aggregates in words
    assert len(pd.read_csv(out)) == 400

    metrics = runner.invoke(app, ["evaluate", str(model), str(companies), "--history", str(history), "--json"])
    assert metrics.exit_code == 0, metrics.output
    assert json.loads(metrics.stdout)["metrics"]["f1"] > 0.75

    report = tmp_path / "report.html"
    written = runner.invoke(app, ["report", str(model), str(companies), "--history", str(history), "--out", str(report), "-q"])
    assert written.exit_code == 0, written.output
    assert "Monthly history (" in report.read_text() and "the last 12 months up to 2025-01 per company" in report.read_text()
    assert runner.invoke(app, ["report", str(model), "--out", str(tmp_path / "alone.html"), "-q"]).exit_code == 0  # the model alone needs no history

    missing = runner.invoke(app, ["predict", str(model), str(companies), "--out", str(tmp_path / "x.csv")])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: --history: this model was trained with a monthly history")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--as-of", "2025-01"], "error: --as-of applies to a monthly history; add --history HISTORY.csv, or leave out --as-of."),
        (["--months", "12"], "error: --months applies to a monthly history; add --history HISTORY.csv, or leave out --months."),
        (["--history", "H", "--as-of", "Jan"], "error: --as-of must be a month, YYYY-MM (e.g. 2025-01); got 'Jan'."),
        (["--history", "H", "--months", "1"], "error: --months must be between 2 and 600 (the months of history each company is read over); got 1."),
    ],
)
def test_bad_history_options_are_one_error_line_and_write_nothing(tmp_path: Path, extra: list[str], message: str) -> None:
    companies, history = _tables(tmp_path, n=60)
    extra = [str(history) if e == "H" else e for e in extra]
    result = CliRunner().invoke(app, ["train", str(companies), "--out", str(tmp_path / "model"), "-q", *extra])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert not (tmp_path / "model").exists()


def test_a_bad_history_file_is_one_error_line(tmp_path: Path) -> None:
    companies, _ = _tables(tmp_path, n=60)
    bad = write(tmp_path, "bad.csv", "company_id,month,job_postings\nC0001,2024-13,1\n,2024-10,2\n")
    result = CliRunner().invoke(app, ["train", str(companies), "--out", str(tmp_path / "model"), "--history", str(bad), "-q"])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {bad}: ") and "('2024-13' at line 2)" in line and "is blank (line 3)" in line
    assert not (tmp_path / "model").exists()


# ---------------------------------------------------------------- the scoring service


@pytest.fixture(scope="module")
def history_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(model dir, companies.csv, history.csv): gbdt trained with a 12-month history."""
    folder = tmp_path_factory.mktemp("served")
    companies, history = _tables(folder, n=300)
    result = CliRunner().invoke(app, ["train", str(companies), "--out", str(folder / "model"), "--history", str(history), "--models", "gbdt", "-q"])
    assert result.exit_code == 0, result.output
    return folder / "model", companies, history


def test_the_service_reads_a_history_list_per_company_as_predict_reads_the_file(history_model) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from hotleads.serve import create_app

    model_dir, companies, history = history_model
    client = TestClient(create_app(model_dir))
    info = client.get("/v1/model").json()
    assert info["history"] == {"channels": ["job_postings"], "months": 24, "trained_as_of": "2025-01"}
    assert not any("__" in column["name"] for column in info["columns"])  # aggregates come from the list, not from fields

    table, months = pd.read_csv(companies).head(20), pd.read_csv(history)
    body = []
    for _, row in table.iterrows():
        mine = months[months["company_id"] == row["company_id"]]
        body.append({"company_id": row["company_id"], "employees": int(row["employees"]),
                     "history": [{"month": m, "job_postings": float(v)} for m, v in zip(mine["month"], mine["job_postings"], strict=True)]})  # fmt: skip
    served = client.post("/v1/score", json=body, params={"as_of": "2025-01"})
    assert served.status_code == 200, served.text
    subset = companies.with_name("subset.csv")
    table.to_csv(subset, index=False)
    out = subset.with_name("sub.csv")
    scored = CliRunner().invoke(
        app, ["predict", str(model_dir), str(subset), "--out", str(out), "--scores", str(subset.with_name("leads.csv")), "--history", str(history)]
    )
    assert scored.exit_code == 0, scored.output
    leads = pd.read_csv(subset.with_name("leads.csv")).set_index("company_id")
    for result in served.json()["results"]:
        assert result["probability"] == pytest.approx(leads.loc[result["id"], "probability"], abs=1e-9)
    assert any("Job postings, " in reason["words"] for result in served.json()["results"] for reason in result["reasons"])


def test_a_bad_history_in_a_request_is_a_422_naming_the_field(history_model) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from hotleads.serve import create_app

    client = TestClient(create_app(history_model[0]))
    company = {"company_id": "X", "employees": 10}
    cases = [
        ([company | {"history": [{"month": "2025-13", "job_postings": 1}]}], {}, ["body", 0, "history", 0, "month"]),
        ([company | {"history": [{"month": "2025-01", "postings": 1}]}], {}, ["body", 0, "history", 0, "postings"]),
        ([company | {"history": [{"month": "2025-01", "job_postings": "many"}]}], {}, ["body", 0, "history", 0, "job_postings"]),
        ([company | {"history": [{"month": "2025-01", "job_postings": 1e39}]}], {}, ["body", 0, "history", 0, "job_postings"]),  # beyond float32
        ([company | {"history": [{"month": "2025-01"}, {"month": "2025-01"}]}], {}, ["body", 0, "history", 1, "month"]),
        ([company | {"history": [{"month": "2025-02"}]}], {"as_of": "2025-01"}, ["body", 0, "history", 0, "month"]),
        ([company], {"as_of": "Jan 2025"}, ["query", "as_of"]),
    ]
    for body, params, loc in cases:
        response = client.post("/v1/score", json=body, params=params)
        assert response.status_code == 422, (body, response.text)
        assert loc in [problem["loc"] for problem in response.json()["detail"]], response.text
    alone = client.post("/v1/score", json=[company])  # no history: scored from its own fields
    assert alone.status_code == 200 and 0 <= alone.json()["results"][0]["probability"] <= 1
    csv = client.post("/v1/score.csv", content=b"company_id,employees\nX,10\n", headers={"Content-Type": "text/csv"})
    assert csv.status_code == 422 and "POST the companies as JSON to /v1/score" in csv.text


# ---------------------------------------------------------------- tuning


def test_tune_with_a_history_searches_on_it_and_saves_a_model_that_reads_it(tmp_path: Path) -> None:
    """`tune --history` with two worker processes (each reads the history again) and --model-out."""
    companies, history = _tables(tmp_path, n=300)
    out, model = tmp_path / "best.json", tmp_path / "model"
    args = ["tune", str(companies), "--history", str(history), "--months", "12", "--models", "gbdt", "--trials", "4", "--workers", "2"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--model-out", str(model), "-q"])
    assert result.exit_code == 0, result.output
    found = json.loads(out.read_text())["models"]["gbdt"]
    assert len(found["search"]["trials"]) >= 4 and found["holdout"]["rows"] == 60  # both workers' trials
    assert json.loads((model / "predictor.json").read_text())["history"]["channels"] == ["job_postings"]


def test_a_tuning_search_gives_the_neural_models_the_windows(tmp_path: Path) -> None:
    from hotleads.training import TrainOptions
    from hotleads.tune import TuneOptions, prepare_search

    companies, history = _tables(tmp_path, n=200)
    frame = pd.read_csv(companies)
    search = prepare_search(frame, TuneOptions(train=TrainOptions(models=["cnn"])), source="companies.csv", history={"path": history, "months": 12})
    assert search.windows.shape == (len(search.frame), 12, 1) and search.holdout_windows.shape == (len(search.holdout), 12, 1)
    assert search.history_sha256 and "job_postings__slope" in search.frame.columns
    estimator, proba = search.inputs.fold_estimator("cnn", {"epochs": 2, "device": "cpu"}, 0, seed=0)
    assert estimator.reads_sequences and estimator.sequence_shape_ == (12, 1) and len(proba) == len(search.inputs.folds[0][1])


# ---------------------------------------------------------------- found by trying to break it


def test_the_id_column_is_found_by_name_wherever_it_stands(tmp_path: Path) -> None:
    history = write(tmp_path, "h.csv", "month,job_postings,company_id\n2024-10,1,A\n2024-11,2,B\n")
    assert read_history(history, companies=pd.DataFrame({"company_id": ["A", "B"]})).id_column == "company_id"


def test_a_channel_named_like_an_aggregate_and_a_blank_month_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"column 'headcount__last' has '__' in its name"):
        read_history(write(tmp_path, "a.csv", "company_id,month,headcount__last\nA,2024-10,1\n"))
    with pytest.raises(DataError, match=r"'month' is blank \(line 3\); give every row its month"):
        read_history(write(tmp_path, "b.csv", "company_id,month,job_postings\nA,2024-10,1\nA,,2\n"))
    with pytest.raises(DataError, match=r"'job_postings' is infinite \(line 2\)"):
        read_history(write(tmp_path, "c.csv", "company_id,month,job_postings\nA,2024-10,inf\n"))
    with pytest.raises(DataError, match=r"'funding_raised' is beyond \+-3.4e\+38 \(line 3\), which the monthly windows cannot hold; give a smaller number"):
        read_history(write(tmp_path, "e.csv", "company_id,month,funding_raised\nA,2024-10,3e38\nA,2024-11,-1e39\n"))
    with pytest.warns(DataWarning, match=r"column 'job_postings' has no value; its aggregates are unknown for every company"):
        read_history(write(tmp_path, "d.csv", "company_id,month,job_postings,headcount\nA,2024-10,,3\n"))


def test_a_history_that_reaches_no_company_is_an_error_in_training_and_a_warning_when_scoring(tmp_path: Path) -> None:
    companies, history = _tables(tmp_path, n=120)
    runner = CliRunner()
    late = runner.invoke(app, ["train", str(companies), "--out", str(tmp_path / "m2"), "--history", str(history), "--as-of", "2030-01", "-q"])
    assert late.exit_code == 2
    assert late.stderr.splitlines() == [
        f"error: {history}: no company scored has a month in its window (24 months, 2028-02 to 2030-01; the history runs from 2024-02 "
        "to 2025-01); give an --as-of inside the history, or the history of these companies."
    ]
    model = tmp_path / "model"
    assert runner.invoke(app, ["train", str(companies), "--out", str(model), "--history", str(history), "--models", "logreg", "-q"]).exit_code == 0
    other = pd.read_csv(history)
    other["company_id"] = other["company_id"].str.lower()  # written otherwise: matches no scored company
    other.to_csv(tmp_path / "lower.csv", index=False)
    scored = runner.invoke(app, ["predict", str(model), str(companies), "--out", str(tmp_path / "s.csv"), "--history", str(tmp_path / "lower.csv")])
    assert scored.exit_code == 0 and (tmp_path / "s.csv").exists()
    assert "warning: " in scored.stderr and "the 120 companies of" in " ".join(scored.stderr.split()) and "check the ids" in scored.stderr


def test_the_service_says_when_as_of_is_no_month_or_past_every_month(history_model) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from hotleads.serve import create_app

    client = TestClient(create_app(history_model[0]))
    company = {"company_id": "X", "employees": 10, "history": [{"month": "2024-12", "job_postings": 3}, {"month": "2025-01-31", "job_postings": 4}]}
    garbage = client.post("/v1/score", json=[company], params={"as_of": "garbage"})
    assert garbage.status_code == 422
    assert garbage.json()["detail"] == [{"loc": ["query", "as_of"], "msg": "'garbage' is not a month; write it YYYY-MM, e.g. 2025-01", "type": "value_error"}]
    late = client.post("/v1/score", json=[company], params={"as_of": "2030-01"})
    assert late.status_code == 200 and "no company scored has a month in its window" in late.json()["warnings"][0]
    assert client.post("/v1/score", json=[company]).json()["warnings"] == []  # a full date counts as its month, as in a file


def test_a_history_with_the_company_tables_id_joins_on_it_before_any_other_shared_column(tmp_path: Path) -> None:
    history = write(tmp_path, "h.csv", "company_name,company_id,month,job_postings\nAcme,A,2024-10,1\nBolt,B,2024-11,2\n")
    companies = pd.DataFrame({"company_id": ["A", "B"], "company_name": ["Acme", "Bolt"]})
    with pytest.raises(DataError, match=r"'company_name' is not a number .*; every column besides the id and 'month' is read as a monthly number: drop"):
        read_history(history, companies=companies)
    history = write(tmp_path, "h2.csv", "company_name,company_id,month,job_postings\n,A,2024-10,1\n,B,2024-11,2\n")
    with pytest.warns(DataWarning, match="'company_name' has no value"):  # an empty column: no number to refuse
        assert read_history(history, companies=companies).id_column == "company_id"


def test_an_id_repeated_in_the_company_table_is_refused_with_its_lines(history_file: Path) -> None:
    frame = pd.DataFrame({"company_id": ["A", "B", "A", "C"], "size": [1, 2, 3, 4]})
    with pytest.raises(
        DataError, match=r"^t.csv: the history is joined on 'company_id', which repeats 1 value\(s\) in 2 rows, e.g. 'A' \(row 1, row 3\); give each"
    ):
        attach(frame, history_file, source="t.csv")
    keyed_by_name = write(history_file.parent, "names.csv", HISTORY.replace("company_id", "name"))  # a name two companies share
    frame = pd.DataFrame({"company_id": ["1", "2", "3", "4"], "name": ["A", "A", "B", "C"]})
    with pytest.raises(DataError, match=r"joined on 'name', which repeats 1 value"):
        attach(frame, keyed_by_name, source="t.csv")


def test_whole_float_ids_join_as_the_company_table_reads_them(tmp_path: Path) -> None:
    pd.DataFrame({"company_id": [1001.0, 1002.0], "month": ["2025-01", "2025-01"], "job_postings": [3, 4]}).to_parquet(tmp_path / "h.parquet")
    frame = pd.DataFrame({"company_id": [1002, 1001]})  # a sheet or Parquet file keeps whole ids as floats: 1001.0 is 1001
    _, _, windows = attach(frame, tmp_path / "h.parquet", months=2)
    assert windows[:, -1, 0].tolist() == [4.0, 3.0]


def test_a_reference_month_few_companies_reach_is_warned_about_unless_given(tmp_path: Path) -> None:
    usual = "".join(f"{c},2024-12,1\n{c},2025-01,2\n" for c in "ABCDEFGHIJ")
    late = write(tmp_path, "late.csv", "company_id,month,job_postings\n" + usual + "Z,2025-06,1\n")  # one stray later month
    with pytest.warns(
        DataWarning,
        match=r"late.csv: the reference month 2025-06 \(the latest month given\) is the last month of only 1 of 11 companies; 10 end at 2025-01.*"
        r"to score at 2025-01, remove the rows of later months \(months after it are refused\) and give --as-of 2025-01",
    ):
        assert read_history(late).as_of_text == "2025-06"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_history(late, as_of="2025-06")  # asked for: no warning
        read_history(write(tmp_path, "ok.csv", "company_id,month,job_postings\n" + usual + "Z,2024-06,1\n"))  # most end at the latest month
        churned = "".join(f"X{i},2024-06,1\n" for i in range(12))  # stopped reporting: more than reach the latest month
        read_history(write(tmp_path, "churn.csv", "company_id,month,job_postings\n" + usual + churned))  # 10 of 22 reach it: no stray row
        read_history(write(tmp_path, "spread.csv", HISTORY))  # each company ends at another month: no month is where most end


def test_the_rows_of_companies_not_in_the_table_set_no_reference_month(tmp_path: Path) -> None:
    """One export for the companies to train on and those to score: the others' rows are not used, so their later months
    may not move every window either (two later months had moved the reference month, and most holdout scores)."""
    trained = "".join(f"{c},2024-12,1\n{c},2025-01,2\n" for c in "ABCDEFGHIJ")
    others = "".join(f"X{i},2025-01,1\nX{i},2025-03,5\n" for i in range(30))  # more of them than of the table's: no stray row
    path = write(tmp_path, "export.csv", "company_id,month,job_postings\n" + trained + others)
    frame = pd.DataFrame({"company_id": list("ABCDEFGHIJ")})
    with pytest.warns(DataWarning, match=r"30 companies of the history are not in t.csv .*their rows are not used"):
        _, spec, windows = attach(frame, path, source="t.csv", months=3)
    assert spec.as_of == "2025-01" and windows[:, -1, 0].tolist() == [2.0] * 10
    assert read_history(path).as_of_text == "2025-03"  # scoring reads the export whole: its latest month
    with pytest.warns(DataWarning, match=r"their rows are not used"):  # nor refused when --as-of is given
        assert attach(frame, path, source="t.csv", as_of="2025-01")[1].as_of == "2025-01"
    with pytest.raises(DataError, match=r"'month' is after the reference month 2024-12 \('2025-01' at line 3,"):  # the table's are
        attach(frame, path, source="t.csv", as_of="2024-12")


def test_a_company_column_named_history_is_refused_as_the_services_field(history_file: Path) -> None:
    frame = pd.DataFrame({"company_id": ["A", "B", "C"], "history": ["long", "short", "none"]})
    with pytest.raises(
        DataError,
        match=r"^t.csv: column 'history' has the name the scoring service gives each company's monthly history; rename the column \(or --drop it\)\.$",
    ):
        attach(frame, history_file, source="t.csv")
    kept = attach(frame, history_file, source="t.csv", dropped=["history"])[0]  # dropped: never a field of the service
    assert kept["history"].tolist() == ["long", "short", "none"]


def test_an_error_is_one_line_without_the_warnings_met_before_it(tmp_path: Path) -> None:
    companies, history = _tables(tmp_path, n=120)
    subset = pd.read_csv(companies).head(60)  # the history also covers companies not in this table: a warning, had it succeeded
    subset.to_csv(tmp_path / "subset.csv", index=False)
    late = CliRunner().invoke(app, ["train", str(tmp_path / "subset.csv"), "--out", str(tmp_path / "m"), "--history", str(history), "--as-of", "2030-01", "-q"])
    assert late.exit_code == 2
    [line] = late.stderr.splitlines()
    assert line.startswith(f"error: {history}: no company scored has a month in its window")


def test_the_service_says_when_one_company_sets_a_late_reference_month(history_model) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from hotleads.serve import create_app

    client = TestClient(create_app(history_model[0]))
    usual = [{"company_id": f"X{i}", "employees": 10, "history": [{"month": "2025-01", "job_postings": 3}]} for i in range(10)]
    stray = {"company_id": "Y", "employees": 10, "history": [{"month": "2025-06", "job_postings": 3}]}
    assert client.post("/v1/score", json=usual).json()["warnings"] == []
    [note] = client.post("/v1/score", json=[*usual, stray]).json()["warnings"]
    assert "the reference month 2025-06 (the latest month given) is the last month of only 1 of 11 companies; 10 end at 2025-01" in note
    assert "give as_of 2025-01" in note
    assert client.post("/v1/score", json=[*usual, stray], params={"as_of": "2025-06"}).json()["warnings"] == []


def test_ids_written_otherwise_than_in_the_history_are_warned_about(history_file: Path) -> None:
    spec = HistorySpec("company_id", ("job_postings", "headcount"), 6, "2025-01")
    history = read_history(history_file)
    with pytest.warns(
        DataWarning,
        match=r"^t.csv: companies without history rows under their id have one under the same id written otherwise \(e.g. 'b' is 'B' in .*history.csv\); they are read from their own columns alone",
    ):
        _, window = with_history(pd.DataFrame({"company_id": ["A", "b", "NEW"]}), history, spec, source="t.csv")
    assert np.isnan(window[1]).all()  # not joined: 'b' may be another company; the user decides
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with_history(pd.DataFrame({"company_id": ["A", "NEW"]}), history, spec, source="t.csv")  # a new company: nothing to say


def test_na_values_reach_the_history_in_training_and_scoring(tmp_path: Path) -> None:
    tokenised = write(tmp_path, "h.csv", "company_id,month,job_postings\nA,2024-12,unknown\nA,2025-01,4\nB,2025-01,UNKNOWN\n")
    with pytest.raises(DataError, match=r"'job_postings' is not a number \('unknown' at line 2, 'UNKNOWN' at line 4\)"):
        read_history(tokenised)
    frame = pd.DataFrame({"company_id": ["A", "B"]})
    _, _, windows = attach(frame, tokenised, months=2, na_values=["unknown"])  # train --na-values unknown
    assert np.isnan(windows[0, 0, 0]) and windows[0, 1, 0] == 4 and np.isnan(windows[1]).all()
    spec = HistorySpec("company_id", ("job_postings",), 2, "2025-01")
    assert for_scoring(spec, tokenised, na_values=["unknown"]).values[:, 0].tolist()[1] == 4  # the model's tokens, when scoring


def test_blank_ids_with_a_history_are_left_to_the_tables_own_check(history_file: Path) -> None:
    frame = pd.DataFrame({"company_id": ["A", None, "  ", None, "B", "C"], "size": [1, 2, 3, 4, 5, 6]})
    _, _, windows = attach(frame, history_file, months=3)  # no history for them; the schema then asks to fill the ids
    assert windows[0, -1, 0] == 8 and np.isnan(windows[1:4]).all()


def test_ids_written_otherwise_in_every_row_are_named_and_huge_float_ids_stay_text(tmp_path: Path) -> None:
    lower = write(tmp_path, "lower.csv", "company_id,month,job_postings\na,2025-01,1\nb,2025-01,2\n")
    with pytest.raises(DataError, match=r"has no id of a company in the company table .*; they are its ids written otherwise \(e.g. 'a' is 'A' there\)"):
        read_history(lower, companies=pd.DataFrame({"company_id": ["A", "B"]}))
    text_floats = write(tmp_path, "floats.csv", "company_id,month,job_postings\n1000.0,2025-01,1\n")  # a float column saved as text
    with pytest.raises(DataError, match=r"ids written otherwise \(e.g. '1000.0' is '1000' there\)"):
        read_history(text_floats, companies=pd.DataFrame({"company_id": ["1000"]}))
    pd.DataFrame({"company_id": [1.5e19, 7.0], "month": ["2025-01"] * 2, "job_postings": [1, 2]}).to_parquet(tmp_path / "big.parquet")
    assert set(read_history(tmp_path / "big.parquet").ids) == {"1.5e+19", "7.0"}  # beyond 2**53 a float is no exact id: kept as written
    spec = HistorySpec("company_id", ("job_postings",), 2, "2025-01")
    with pytest.raises(DataError, match=r"joined on 'company_id', which this table lacks \(it has 'Company_ID': rename it 'company_id'\)"):
        with_history(pd.DataFrame({"Company_ID": ["A"]}), read_history(lower), spec, source="t.csv")


def test_id_column_names_written_alike_are_hinted_as_the_schema_hints_them(history_file: Path) -> None:
    spec = HistorySpec("company_id", ("job_postings", "headcount"), 2, "2025-01")
    history = read_history(history_file)
    for header in ("companyid", "Company ID"):  # underscores and spaces aside, as a missing column of the schema is found
        with pytest.raises(DataError, match=rf"joined on 'company_id', which this table lacks \(it has '{header}': rename it 'company_id'\)"):
            with_history(pd.DataFrame({header: ["A"]}), history, spec, source="t.csv")
    renamed = write(history_file.parent, "renamed.csv", HISTORY.replace("company_id", "account_id"))
    with pytest.raises(DataError, match=r"its id column 'account_id' is not a column of c.csv; rename it to the company table's id column \('Account ID'\)"):
        read_history(renamed, companies=pd.DataFrame({"Account ID": ["A"]}), companies_source="c.csv")


def test_predict_never_writes_over_the_history_it_reads(history_model, tmp_path: Path) -> None:
    model_dir, companies, history = history_model
    copy = tmp_path / "history.csv"
    copy.write_bytes(history.read_bytes())
    for option in ("--out", "--scores"):
        result = CliRunner().invoke(app, ["predict", str(model_dir), str(companies), "--history", str(copy), option, str(copy)])
        assert result.exit_code == 2 and result.stderr.splitlines() == [
            f"error: {option} {copy} is the history being read ({copy}); write the output to another file."
        ]
    assert copy.read_bytes() == history.read_bytes()


# ---------------------------------------------------------------- numbers written the European way

# A European CRM export: ';'-separated, decimal commas; every salary_k leaves the mark open ('45,250': 45.25 or 45250?)
EURO_HISTORY = """company_id;month;funding_raised;salary_k
A;2024-12;0,00;45,250
A;2025-01;1.500.000,00;46,125
B;2025-01;2,50;51,500
"""


def _comma_separated(tmp_path: Path, euro: Path) -> Path:
    """The same history ','-separated (the numbers quoted): nothing leans the open salary_k to a decimal comma."""
    pd.read_csv(euro, sep=";", dtype=str).to_csv(tmp_path / "comma.csv", index=False)
    return tmp_path / "comma.csv"


def test_a_semicolon_history_reads_its_numbers_as_the_company_table_reads_them(tmp_path: Path) -> None:
    euro = write(tmp_path, "euro.csv", EURO_HISTORY)
    with pytest.warns(DataWarning, match=r"euro.csv: column 'salary_k': values such as '1,234' can mean 1234 or 1.234 .*Pass --decimal-point salary_k if"):
        history = read_history(euro)  # the company table's rule: a ';' file leans an open column to a decimal comma, and says so
    assert history.values.tolist() == [[0.0, 45.25], [1_500_000.0, 46.125], [2.5, 51.5]]
    assert history.formats["funding_raised"]["thousands"] == "." and history.formats["salary_k"]["decimal"] == ","


def test_decimal_options_naming_a_history_channel_set_its_mark_and_other_names_are_refused(tmp_path: Path) -> None:
    euro = write(tmp_path, "euro.csv", EURO_HISTORY)
    comma = _comma_separated(tmp_path, euro)
    frame = pd.DataFrame({"company_id": ["A", "B"], "employees": [10, 20]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a mark the user set is not warned about
        _, spec, windows = attach(frame, euro, months=2, decimal_point=["salary_k"])  # train --decimal-point salary_k
        assert windows[0, :, 1].tolist() == [45250, 46125] and spec.formats["salary_k"]["given"]
        _, spec, windows = attach(frame, comma, months=2, decimal_comma=["salary_k"])
        assert windows[0, :, 1].tolist() == [45.25, 46.125] and windows[0, -1, 0] == 1_500_000
    with pytest.raises(
        DataError,
        match=r"^t.csv: --decimal-comma names column 'salary', which neither the table nor its history \(.*euro.csv\) has; did you mean 'salary_k'\?$",
    ):
        attach(frame, euro, source="t.csv", decimal_comma=["salary"])
    with pytest.raises(ParameterError, match=r"^--decimal-comma and --decimal-point both name 'salary_k'; give each column to one of them\.$"):
        attach(frame, euro, decimal_comma=["salary_k"], decimal_point=["SALARY_K"])


def test_a_history_channel_a_decimal_option_does_not_read_names_the_option_and_the_fix(tmp_path: Path) -> None:
    """Too many words for the channel to read with the given mark: the error names the option and the words, not the numbers;
    numbers written with the other mark ask for the other option; --na-values tokens and blanks are missing values."""
    rows = [f"A;2025-{m:02d};{value}" for m, value in enumerate(["45,25", "unknown", "46,125", "", "51,5", "n/a", "tbd", "47,75", "unknown"], start=1)]
    words = write(tmp_path, "words.csv", "company_id;month;salary_k\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as refused:
        read_history(words, decimal_comma=["salary_k"])
    assert str(refused.value) == (
        f"{words}: column 'salary_k' is not a number with ',' as its decimal mark (--decimal-comma salary_k) "
        "('unknown' at line 3, 'tbd' at line 8, 'unknown' at line 10); fix or blank cells such as 'tbd', 'unknown', "
        "or name them with --na-values tbd,unknown if they mean 'unknown'"
    )
    read = read_history(words, decimal_comma=["salary_k"], na_values=["UNKNOWN", "tbd"]).values[:, 0]
    assert np.isnan(read).sum() == 5 and np.nansum(read) == 45.25 + 46.125 + 51.5 + 47.75
    with pytest.raises(DataError, match=r"\('45,25' at line 2, '51,5' at line 6, '47,75' at line 9\); its numbers read with ',' as"):
        read_history(words, decimal_point=["salary_k"], na_values=["unknown", "tbd"])


def test_a_few_stray_values_of_a_history_channel_are_named_not_the_other_decimal_option(tmp_path: Path) -> None:
    """Some 240 months written with a decimal comma and one with a point: that one is to be written so, not every
    other one with --decimal-point (which reads none of them); a word is a missing marker to name."""
    values = [f"{1000 + i},{i % 10}" for i in range(240)]
    values[99], values[150] = "12.5", "unknown"
    rows = [f"A{i // 12};{2005 + i // 12}-{i % 12 + 1:02d};{value}" for i, value in enumerate(values)]
    path = write(tmp_path, "months.csv", "company_id;month;salary_k\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as refused:
        read_history(path, decimal_comma=["salary_k"])
    assert str(refused.value) == (
        f"{path}: column 'salary_k' is not a number with ',' as its decimal mark (--decimal-comma salary_k) "
        "('12.5' at line 101, 'unknown' at line 152); write '12.5' as the column's other numbers are, with ',' as the decimal mark; "
        "fix or blank cells such as 'unknown', or name them with --na-values unknown if they mean 'unknown'"
    )
    with pytest.raises(
        DataError, match=r"; its numbers read with ',' as the decimal mark: give --decimal-comma salary_k instead, and write '12.5' at line 101 "
    ):
        read_history(path, decimal_point=["salary_k"], na_values=["unknown"])


def test_train_refuses_a_history_channel_its_decimal_option_does_not_read(tmp_path: Path) -> None:
    companies, history = _tables(tmp_path, n=40)
    months = pd.read_csv(history).assign(salary_k=lambda t: [f"{40 + i % 50}.{i % 10}" for i in range(len(t))])
    months.to_csv(tmp_path / "points.csv", index=False)
    args = ["train", str(companies), "--history", str(tmp_path / "points.csv"), "--models", "logreg", "-q", "--out", str(tmp_path / "m")]
    refused = CliRunner().invoke(app, [*args, "--decimal-comma", "salary_k"])
    assert refused.exit_code == 2 and refused.stderr.splitlines() == [
        f"error: {tmp_path / 'points.csv'}: column 'salary_k' is not a number with ',' as its decimal mark (--decimal-comma salary_k) "
        "('40.0' at line 2, '41.1' at line 3, '42.2' at line 4 and 429 more); its numbers read with '.' as the decimal mark: "
        "give --decimal-point salary_k instead"
    ]


def test_scoring_reads_the_history_by_the_models_formats_and_an_older_model_as_it_did(tmp_path: Path) -> None:
    euro = write(tmp_path, "euro.csv", EURO_HISTORY)
    comma = _comma_separated(tmp_path, euro)
    _, trained, _ = attach(pd.DataFrame({"company_id": ["A", "B"]}), euro, months=2, decimal_comma=["salary_k"])
    spec = HistorySpec.from_dict(json.loads(json.dumps(trained.to_dict())))  # as saved with the model
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert for_scoring(spec, comma).values[:, 1].tolist() == [45.25, 46.125, 51.5]  # the model's --decimal-comma, in any file
        older = HistorySpec.from_dict({name: value for name, value in trained.to_dict().items() if name != "formats"})
        assert older.formats is None  # saved before the formats were: read as it was read in its training, silently
        assert for_scoring(older, euro).values[:, 1].tolist() == [45250, 46125, 51500]
    plain = write(tmp_path, "plain.csv", "company_id,month,funding_raised,salary_k\nA,2025-01,0,46.125\n")
    with pytest.raises(
        DataError,
        match=r"'salary_k' is not a number with ',' as its decimal mark \(the model was trained with --decimal-comma salary_k\) \('46.125' at line 2\); write its",
    ):
        for_scoring(spec, plain)  # a mark the user set holds at scoring, as in a company table
    with pytest.warns(DataWarning, match=r"can mean 1234 or 1.234"):
        _, guessed, _ = attach(pd.DataFrame({"company_id": ["A", "B"]}), euro, months=2)
    with pytest.warns(
        DataWarning, match=r"plain.csv: column 'salary_k' is written differently here \(number\) than in training \(decimal ','\); read as written"
    ):
        assert for_scoring(guessed, plain).values.tolist() == [[0.0, 46.125]]  # a guessed one yields to a file that settles it


def test_train_takes_decimal_options_for_history_channels(tmp_path: Path) -> None:
    companies, history = _tables(tmp_path, n=200)
    months = pd.read_csv(history)
    months["salary_k"] = [f"{40 + i % 50},125" for i in range(len(months))]  # open: 41.125 or 41125
    months.to_csv(tmp_path / "euro.csv", sep=";", index=False)
    args = ["train", str(companies), "--history", str(tmp_path / "euro.csv"), "--models", "logreg", "--months", "12", "-q", "--out"]
    trained = CliRunner().invoke(app, [*args, str(tmp_path / "model"), "--decimal-point", "salary_k"])
    assert trained.exit_code == 0 and "warning" not in trained.stderr, trained.output
    formats = json.loads((tmp_path / "model" / "predictor.json").read_text())["history"]["formats"]
    assert formats["salary_k"]["decimal"] == "." and formats["salary_k"]["given"]
    typo = CliRunner().invoke(app, [*args, str(tmp_path / "typo"), "--decimal-point", "salary"])
    assert typo.exit_code == 2 and typo.stderr.splitlines() == [
        f"error: {companies}: --decimal-point names column 'salary', which neither the table nor its history ({tmp_path / 'euro.csv'}) has; did you mean 'salary_k'?"
    ]


def test_decimal_options_take_a_blank_header_channel_by_the_name_messages_give_it(tmp_path: Path) -> None:
    """`--decimal-point 'column 3 (blank header)'` names the history's blank-header channel, as it names a company column."""
    companies, history = _tables(tmp_path, n=200)
    months = pd.read_csv(history)
    months.insert(2, "", [f"{40 + i % 50},125" for i in range(len(months))])  # a blank header over open values: 41.125 or 41125
    months.to_csv(tmp_path / "euro.csv", sep=";", index=False)
    args = ["train", str(companies), "--history", str(tmp_path / "euro.csv"), "--models", "logreg", "--months", "12", "-q", "--out"]
    trained = CliRunner().invoke(app, [*args, str(tmp_path / "model"), "--decimal-point", "column 3 (blank header)"])
    assert trained.exit_code == 0, trained.output
    formats = json.loads((tmp_path / "model" / "predictor.json").read_text())["history"]["formats"]
    assert formats["Unnamed: 2"]["decimal"] == "." and formats["Unnamed: 2"]["given"]


def test_tune_takes_decimal_options_for_history_channels(tmp_path: Path) -> None:
    from hotleads.training import TrainOptions
    from hotleads.tune import TuneOptions, tune

    companies, history = _tables(tmp_path, n=200)
    months = pd.read_csv(history).assign(salary_k=lambda t: [f"{40 + i % 50},125" for i in range(len(t))])
    months.to_csv(tmp_path / "euro.csv", sep=";", index=False)
    options = TuneOptions(train=TrainOptions(models=["logreg"], folds=2), trials=1)
    found = tune(
        pd.read_csv(companies), options, storage=str(tmp_path / "study.log"), history={"path": tmp_path / "euro.csv", "months": 12}, decimal_point=["salary_k"]
    )
    assert found.models["logreg"]["holdout"]["rows"] == 40  # the set-aside comparison trains with the table's options alone
