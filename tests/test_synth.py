"""Tests of the built-in synthetic data (hotleads.synth)."""

from __future__ import annotations

import doctest
import functools
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
from hotleads.exceptions import ParameterError

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


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synth.write_dataset(tmp_path / "ok", rows=50)
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(FILES)

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(hotleads_io.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        synth.write_dataset(tmp_path / "bad", rows=50)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]  # the folder it created went with its files


def test_write_replaces_an_earlier_runs_data_but_not_the_users_files(tmp_path: Path) -> None:
    synth.write_dataset(tmp_path, rows=50, seed=1)
    synth.write_dataset(tmp_path, rows=60, seed=2)  # an earlier run's data, with its bayes.json
    assert json.loads((tmp_path / "bayes.json").read_text())["seed"] == 2
    (tmp_path / "bayes.json").unlink()
    before = {name: (tmp_path / name).read_bytes() for name in ("train.csv", "test.csv", "holdout.csv")}
    with pytest.raises(ParameterError, match=r"already holds train\.csv, test\.csv and holdout\.csv, not an earlier generate's data"):
        synth.write_dataset(tmp_path, rows=50, seed=3)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    synth.write_dataset(tmp_path, rows=50, seed=3, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)


def test_data_without_a_history_removes_an_earlier_generates_history_but_not_the_users(tmp_path: Path) -> None:
    """generate --history, then generate into the same folder: the months of the first run's companies must not stay
    beside the new tables, where train --history would read them; a history.csv the user put there stays."""
    synth.write_history_dataset(tmp_path, rows=40, seed=1, months=3)
    synth.write_dataset(tmp_path, rows=50, seed=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    (tmp_path / "history.csv").write_text("company_id,month,x\n")  # the user's, with no bayes.json of generate beside it: kept
    (tmp_path / "bayes.json").unlink()
    synth.write_dataset(tmp_path, rows=50, seed=3, force=True)
    assert (tmp_path / "history.csv").read_text() == "company_id,month,x\n"


def test_bayes_json_records_the_checksum_of_each_table_it_came_with(tmp_path: Path) -> None:
    report = synth.write_dataset(tmp_path / "plain", rows=50, seed=1)
    history = synth.write_history_dataset(tmp_path / "history", rows=40, seed=1, months=3)
    for folder, written, tables in [("plain", report, FILES[:3]), ("history", history, [*FILES[:3], "history.csv"])]:
        assert written["files"] == {name: hotleads_io.sha256_file(tmp_path / folder / name) for name in tables}
        assert json.loads((tmp_path / folder / "bayes.json").read_text()) == written


@pytest.mark.parametrize("history", [False, True])
def test_the_users_table_beside_a_generated_bayes_json_is_not_replaced(history: bool, tmp_path: Path) -> None:
    """A bayes.json of generate vouches only for the tables it records, as they were written: the user's own
    train.csv put in a generated folder, or their history.csv beside data written without one, is refused."""
    write = functools.partial(synth.write_history_dataset, months=3) if history else synth.write_dataset
    synth.write_dataset(tmp_path, rows=50, seed=1)
    (tmp_path / "train.csv").write_text("my real leads\n")
    if history:
        (tmp_path / "history.csv").write_text("company_id,month,x\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    named = "train.csv, changed since generate wrote it" + ("; and history.csv, not an earlier generate's data" if history else ", which generate")
    with pytest.raises(ParameterError, match=rf"already holds {named} .*pass --force to replace {'them' if history else 'it'}\.$"):
        write(tmp_path, rows=50, seed=2)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    write(tmp_path, rows=50, seed=2, force=True)
    assert (tmp_path / "train.csv").read_text() != "my real leads\n"


def test_a_history_the_user_put_or_changed_beside_generated_data_stays(tmp_path: Path) -> None:
    """Only the history.csv that an earlier generate --history wrote, unchanged, goes with data written without one."""
    synth.write_dataset(tmp_path, rows=50, seed=1)
    (tmp_path / "history.csv").write_text("company_id,month,x\n")  # the user's, beside a bayes.json of generate
    synth.write_dataset(tmp_path, rows=50, seed=2)
    assert (tmp_path / "history.csv").read_text() == "company_id,month,x\n"
    synth.write_history_dataset(tmp_path, rows=40, seed=1, months=3, force=True)
    with (tmp_path / "history.csv").open("a") as history:
        history.write("COMP_999999,2024-01,1,2,0\n")  # the user added a month: theirs now
    edited = (tmp_path / "history.csv").read_bytes()
    synth.write_dataset(tmp_path, rows=50, seed=2)
    assert (tmp_path / "history.csv").read_bytes() == edited


@pytest.mark.parametrize(("family", "history_is_generates"), [("hr-leads", False), (synth.HISTORY_FAMILY, True)], ids=["plain", "histories"])
def test_a_bayes_json_without_checksums_vouches_by_name(family: str, history_is_generates: bool, tmp_path: Path) -> None:
    """A bayes.json of before "files": the four dataset files are generate's; history.csv only beside one of the history family."""
    for name in ("train.csv", "test.csv", "holdout.csv", "history.csv"):
        (tmp_path / name).write_text(f"{name} of an earlier run\n")
    (tmp_path / "bayes.json").write_text(json.dumps({"family": family, "generator": "hotleads.synth v1"}))
    assert synth.generated_files(tmp_path) == {*FILES, *(["history.csv"] if history_is_generates else [])}
    assert synth.foreign_files(tmp_path, history=True) == ([] if history_is_generates else ["history.csv"])
    synth.write_dataset(tmp_path, rows=50, seed=1)
    assert (tmp_path / "history.csv").exists() is not history_is_generates


@pytest.mark.parametrize("rows", [5, 19, 0, -3, 20.0, True, "100"])
def test_rows_below_twenty_or_not_int_raise(tmp_path: Path, rows: object) -> None:
    message = f"The 'rows' parameter of write_dataset must be an int >= 20. Got {rows!r} instead."
    with pytest.raises(ValueError, match=re.escape(message)):
        synth.write_dataset(tmp_path, rows=rows)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


def test_smallest_dataset(tmp_path: Path) -> None:
    report = synth.write_dataset(tmp_path, rows=20, seed=1)
    assert report["rows"] == {"train": 12, "test": 4, "holdout": 4}


# ---------------------------------------------------------------- export styles
# Each style is read back here by plain pandas and a few lines of parsing, not by hotleads.io:
# these tests pin what the files hold, whatever the reader does with them.

DATE = synth.DATE_COLUMN
Exports = tuple[pd.DataFrame, dict[str, Path]]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    """A 200-row table with an inf and missing money/percent values, in every style, and the
    plain file read back."""
    table, _ = synth.make_companies(200, seed=0)
    table.loc[3, "funding_per_employee"] = np.inf
    table.loc[4, ["total_funding", "employee_growth_pct"]] = np.nan
    out = tmp_path_factory.mktemp("exports")
    paths = {style: synth.write_export(table, out / f"{style}{suffix}", style) for style, suffix in synth.EXPORT_STYLES.items()}
    return pd.read_csv(paths["plain"]), paths


def us_number(text: str) -> float:
    """'$1,200.50' -> 1200.5, '($1,200.00)' -> -1200.0, '6.3%' -> 6.3, '1.437M' -> 1437000.0."""
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").replace("$", "").replace(",", "").removesuffix("%")
    scale = {"k": 1e3, "M": 1e6, "B": 1e9}.get(text[-1], 1.0)
    value = float(text[:-1] if scale != 1.0 else text) * scale
    return -value if negative else value


def numbers(raw: pd.Series, parse) -> np.ndarray:
    return raw.map(parse, na_action="ignore").to_numpy(dtype=float)


def test_plain_export_is_the_dataset_csv(exports: Exports, tmp_path: Path) -> None:
    plain, paths = exports
    hotleads_io.write_csv(plain, tmp_path / "plain.csv")
    assert paths["plain"].read_bytes() == (tmp_path / "plain.csv").read_bytes()


def test_us_formatted_round_trips(exports: Exports) -> None:
    plain, paths = exports
    raw = pd.read_csv(paths["us-formatted"], dtype=str)
    money = raw["funding_per_employee"].dropna()
    assert money.str.fullmatch(r"\(\$[\d,]+\.\d\d\)").any()  # accounting negatives
    assert money.str.fullmatch(r"\$[\d,]+\.\d\d").any()
    assert raw["total_funding"].dropna().str.fullmatch(r"\$\d{1,3}(,\d{3})+\.\d\d").all()
    assert raw["industry_growth_rate"].str.fullmatch(r"-?\d+(\.\d+)?%").all()
    assert raw["growth_momentum"].str.fullmatch(r"\d+(\.\d+)?[kMB]").all()
    assert raw["days_since_last_funding"].str.contains(",").any()
    tolerance = {col: {"atol": 0.0051} for col in (*synth.MONEY_COLUMNS, *synth.PERCENT_COLUMNS)}
    tolerance["growth_momentum"] = {"rtol": 5e-4}
    exact = {"rtol": 0}
    for col in plain.select_dtypes("number").columns:
        parsed = numbers(raw[col], us_number)
        np.testing.assert_allclose(parsed, plain[col], **tolerance.get(col, exact), err_msg=col)
    assert (raw[DATE] == plain[DATE]).all()


def test_european_round_trips(exports: Exports) -> None:
    plain, paths = exports
    assert paths["european"].read_bytes().startswith(b"\xef\xbb\xbfcompany_id;company_name;")
    # with thousands=".", 12.6.2023 would read as the number 1262023
    raw = pd.read_csv(
        paths["european"],
        sep=";",
        decimal=",",
        thousands=".",
        encoding="utf-8-sig",
        dtype={DATE: str},
    )
    assert list(raw.columns) == list(plain.columns)
    assert raw["total_funding"].dropna().str.endswith(" €").all()
    for col in plain.select_dtypes("number").columns:
        values = raw[col]
        if col in synth.MONEY_COLUMNS:
            euros = values.str.removesuffix(" €").str.replace(".", "").str.replace(",", ".")
            values = euros.astype(float)
            np.testing.assert_allclose(values, plain[col], atol=0.0051, err_msg=col)
        else:
            np.testing.assert_allclose(values, plain[col], rtol=1e-15, err_msg=col)
    assert raw[DATE].str.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}").all()
    assert (pd.to_datetime(raw[DATE], format="%d.%m.%Y") == pd.to_datetime(plain[DATE])).all()


def test_zoned_timestamps_are_the_same_instants_and_dates(exports: Exports) -> None:
    plain, paths = exports
    raw = pd.read_csv(paths["zoned-timestamps"], dtype=str)[DATE]
    endings = {"-04:00", "-05:00", "Z", "+0000"}
    assert {next(e for e in endings if t.endswith(e)) for t in raw} == endings
    instants = pd.to_datetime(raw, format="ISO8601", utc=True)
    one_pm_utc = pd.to_datetime(plain[DATE]).dt.tz_localize("UTC") + pd.Timedelta(hours=13)
    assert (instants == one_pm_utc).all()
    assert (raw.str[:10] == plain[DATE]).all()  # the plain date in whichever zone a row is written


def test_us_and_day_first_dates_round_trip(exports: Exports) -> None:
    plain, paths = exports
    dates = pd.to_datetime(plain[DATE])
    us = pd.read_csv(paths["us-dates"], dtype=str)[DATE]
    timed = us.str.endswith(" 0:00")
    assert 0 < timed.sum() < len(us)
    assert (pd.to_datetime(us[timed], format="%m/%d/%Y %H:%M") == dates[timed]).all()
    assert (pd.to_datetime(us[~timed], format="%m/%d/%Y") == dates[~timed]).all()
    assert us.str.match(r"\d/").any()  # no leading zeros
    day_first = pd.read_csv(paths["day-first-dates"], dtype=str)[DATE]
    assert day_first.str.fullmatch(r"\d\d-\d\d-\d{4}").all()
    assert (pd.to_datetime(day_first, format="%d-%m-%Y") == dates).all()


def accented(plain: pd.DataFrame) -> pd.DataFrame:
    """The plain table with the renamed companies of the cp1252 and utf16-tab styles."""
    renamed = plain.copy()
    rows = renamed.index[:: synth.ACCENTED_EVERY]
    names = synth.ACCENTED_NAMES
    renamed.loc[rows, "company_name"] = [names[i % len(names)] for i in range(len(rows))]
    return renamed


def test_cp1252_needs_its_encoding(exports: Exports) -> None:
    plain, paths = exports
    data = paths["cp1252"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "L’Oréal Paris" not in data.decode("latin-1")
    assert data.count(b"\r\n") == len(plain) + 1
    read = pd.read_csv(paths["cp1252"], encoding="cp1252")
    assert {"Société Générale", "Müller GmbH", "L’Oréal Paris"} <= set(read["company_name"])
    pd.testing.assert_frame_equal(read, accented(plain))


def test_utf16_tab_is_excel_unicode_text(exports: Exports) -> None:
    plain, paths = exports
    assert paths["utf16-tab"].suffix == ".txt"
    data = paths["utf16-tab"].read_bytes()
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert data.decode("utf-16").startswith("company_id\tcompany_name\t")
    read = pd.read_csv(paths["utf16-tab"], sep="\t", encoding="utf-16")
    pd.testing.assert_frame_equal(read, accented(plain))


def test_excel_first_sheet_is_the_table(exports: Exports) -> None:
    plain, paths = exports
    sheets = pd.read_excel(paths["excel"], sheet_name=None)
    assert list(sheets) == ["companies", "notes"]
    table = sheets["companies"]
    assert pd.api.types.is_datetime64_any_dtype(table[DATE])
    assert (table[DATE] == pd.to_datetime(plain[DATE])).all()
    pd.testing.assert_frame_equal(table.drop(columns=DATE), plain.drop(columns=DATE))


def test_unknown_export_style_raises(tmp_path: Path) -> None:
    table, _ = synth.make_companies(5)
    message = r"The 'style' parameter of write_export must be one of plain, .*Got 'csv' instead\."
    with pytest.raises(ValueError, match=message):
        synth.write_export(table, tmp_path / "x.csv", "csv")
    assert not any(tmp_path.iterdir())


def test_docstring_examples_run() -> None:
    results = doctest.testmod(synth)
    assert results.attempted > 0 and results.failed == 0
