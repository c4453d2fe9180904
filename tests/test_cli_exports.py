"""Tables as people export them, through `schema`, `train`, `predict` and `evaluate` (issue: real CRM exports).

One small labelled table is written plain and in each export style (formatted numbers, other date
layouts, time zones, delimiters, encodings, Excel). Every style must be read to the same values as
the plain file: the model trained on it then scores every company exactly as the plain model
does, which is asserted on the submissions, beside the roles and parses `schema --json` reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotleads.cli import app

runner = CliRunner()
ROWS = 150
FAST = ["--models", "gbdt", "--features", "raw", "--folds", "3", "--calibration", "none", "-q"]


def invoke(*args: object):
    return runner.invoke(app, [str(arg) for arg in args])


def ok(result):
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
    return result


def one_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, f"exit {result.exit_code}\nstderr: {result.stderr}\n{result.exception!r}"
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def warnings_of(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """150 companies: revenue and growth carry the signal; region has 'NA' (North America) as a value."""
    rng = np.random.default_rng(7)
    revenue = np.round(np.exp(rng.normal(13, 1.2, ROWS)), 2)
    revenue[rng.choice(ROWS, 12, replace=False)] = -np.round(rng.uniform(100, 5000, 12), 2)  # refunds: negative
    growth = np.round(rng.normal(5, 8, ROWS), 1)
    region = rng.choice(["NA", "EMEA", "APAC"], ROWS)
    headcount = rng.integers(5, 40_000, ROWS)
    signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1000, ROWS), unit="D")
    score = 0.8 * np.log(np.abs(revenue)) + 0.12 * growth + 0.6 * (region == "NA") - 11.0 + rng.normal(0, 0.8, ROWS)
    frame = pd.DataFrame(
        {
            "company_id": [f"C{i:04d}" for i in range(ROWS)],
            "company_name": [f"Company {i}" for i in range(ROWS)],
            "revenue": revenue,
            "growth_pct": growth,
            "headcount": headcount,
            "region": region,
            "signup": signup,
            "is_hot_lead": (score > np.quantile(score, 0.6)).astype(int),
        }
    )
    frame.loc[[3, 17, 40], "revenue"] = np.nan
    return frame


def write_plain(frame: pd.DataFrame, path: Path) -> Path:
    out = frame.copy()
    out["signup"] = out["signup"].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)
    return path


def _us_money(x: float) -> str:
    if np.isnan(x):
        return "N/A"
    return f"(${-x:,.2f})" if x < 0 else f"${x:,.2f}"


def _eu_number(x: float, decimals: int) -> str:
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def _zoned(day: pd.Timestamp) -> str:
    """The same instant as midnight UTC, written in New York local time with its DST offset, or in UTC."""
    local = day.tz_localize("UTC").tz_convert("America/New_York")
    if day.day % 3 == 0:
        return day.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if day.day % 3 == 1:
        return day.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.isoformat()


def styled(frame: pd.DataFrame, style: str, path: Path) -> Path:
    """``frame`` written the way one kind of export writes it (same values, other spelling)."""
    out = frame.copy()
    dates = out["signup"]
    out["signup"] = dates.dt.strftime("%Y-%m-%d")
    if style == "us-money":
        out["revenue"] = out["revenue"].map(_us_money)
        out["growth_pct"] = out["growth_pct"].map(lambda x: f"{x:.1f}%")
        out["headcount"] = out["headcount"].map(lambda x: f"{x:,}")
        out.to_csv(path, index=False)
    elif style == "european":
        out["revenue"] = out["revenue"].map(lambda x: "" if np.isnan(x) else _eu_number(x, 2) + " €")
        out["growth_pct"] = out["growth_pct"].map(lambda x: _eu_number(x, 1))
        out["headcount"] = out["headcount"].map(lambda x: _eu_number(x, 0))
        out["signup"] = dates.map(lambda d: f"{d.day}.{d.month}.{d.year}")
        out["company_name"] = out["company_name"].str.replace("Company", "Firma; GmbH")  # the delimiter inside quotes
        out.to_csv(path, index=False, sep=";", encoding="utf-8-sig")
    elif style == "zoned":
        out["signup"] = dates.map(_zoned)
        out.to_csv(path, index=False)
    elif style == "us-dates":
        out["signup"] = dates.map(lambda d: f"{d.month}/{d.day}/{d.year}" + (" 12:00 AM" if d.day % 2 else ""))
        out.to_csv(path, index=False)
    elif style == "day-first":
        out["signup"] = dates.dt.strftime("%d-%m-%Y")
        out.to_csv(path, index=False)
    elif style == "missing-markers":
        markers = ["N/A", " ", "-"]
        revenue = out["revenue"].astype(object)
        for marker, row in zip(markers, [3, 17, 40], strict=True):
            revenue[row] = marker
        out["revenue"] = revenue
        out.to_csv(path, index=False)
    elif style == "cp1252":
        out["company_name"] = out["company_name"].str.replace("Company", "Société")
        out.to_csv(path, index=False, encoding="cp1252")
    elif style == "utf16-tab":
        out.to_csv(path, index=False, sep="\t", encoding="utf-16")
    elif style == "pipe-bom":
        out.to_csv(path, index=False, sep="|", encoding="utf-8-sig")
    elif style == "xlsx-named-csv":
        out["signup"] = dates
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            pd.DataFrame({"note": ["exported 2024"]}).to_excel(writer, sheet_name="About", index=False)
            out.to_excel(writer, sheet_name="Leads", index=False)
    return path


STYLES = {
    # style: (extra options for reading, {column: expected parse fragment})
    "us-money": ([], {"revenue": "currency '$', thousands ',', (negatives) in parentheses", "growth_pct": "percent", "headcount": "thousands ','"}),
    "european": ([], {"revenue": "currency '€', thousands '.', decimal ','", "growth_pct": "decimal ','", "signup": "date D.M.YYYY"}),
    "zoned": ([], {"signup": "offsets converted to UTC"}),
    "us-dates": ([], {"signup": "date M/D/YYYY"}),
    "day-first": ([], {"signup": "date D-M-YYYY"}),
    "missing-markers": ([], {"revenue": "number"}),
    "cp1252": ([], {}),
    "utf16-tab": ([], {}),
    "pipe-bom": ([], {}),
    "xlsx-named-csv": (["--sheet", "Leads"], {"signup": "date"}),
}


@pytest.fixture(scope="module")
def plain(table: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The plain table, its model, submission and evaluation: what every style must reproduce."""
    folder = tmp_path_factory.mktemp("plain")
    data = write_plain(table, folder / "plain.csv")
    ok(invoke("train", data, "--out", folder / "model", *FAST))
    ok(invoke("predict", folder / "model", data, "--out", folder / "submission.csv", "-q"))
    metrics = json.loads(ok(invoke("evaluate", folder / "model", data, "--json")).stdout)
    return {"data": data, "submission": (folder / "submission.csv").read_text(), "metrics": metrics}


def schema_rows(path: Path, *options: str) -> dict[str, dict]:
    result = ok(invoke("schema", path, "--json", *options))
    return {row["column"]: row for row in json.loads(result.stdout)}


@pytest.mark.parametrize("style", list(STYLES))
def test_every_export_style_reads_to_the_plain_values(style: str, table: pd.DataFrame, plain: dict, tmp_path: Path) -> None:
    options, parses = STYLES[style]
    data = styled(table, style, tmp_path / f"{style}.csv")
    rows = schema_rows(data, *options)
    roles = {name: row["role"] for name, row in rows.items()}
    assert roles == {
        "company_id": "id",
        "company_name": "ignored",
        "revenue": "numeric",
        "growth_pct": "numeric",
        "headcount": "numeric",
        "region": "categorical",
        "signup": "date",
        "is_hot_lead": "target",
    }
    for column, fragment in parses.items():
        assert fragment in rows[column]["parse"], rows[column]
    assert rows["revenue"]["missing"] == pytest.approx(3 / ROWS)
    assert rows["region"]["missing"] == 0.0  # 'NA' is North America here, not a missing marker

    trained = ok(invoke("train", data, "--out", tmp_path / "model", *FAST, *options))
    if style == "cp1252":
        assert any("read it as cp1252" in w for w in warnings_of(trained))
    else:
        assert warnings_of(trained) == []
    ok(invoke("predict", tmp_path / "model", data, "--out", tmp_path / "submission.csv", "-q", *options))
    assert (tmp_path / "submission.csv").read_text() == plain["submission"]
    metrics = json.loads(ok(invoke("evaluate", tmp_path / "model", data, "--json", *options)).stdout)
    assert metrics["metrics"] == plain["metrics"]["metrics"]


def test_a_model_trained_on_one_style_scores_another(table: pd.DataFrame, plain: dict, tmp_path: Path) -> None:
    data = styled(table, "us-money", tmp_path / "us.csv")
    ok(invoke("train", data, "--out", tmp_path / "model", *FAST))
    european = styled(table, "european", tmp_path / "eu.csv")
    result = ok(invoke("predict", tmp_path / "model", european, "--out", tmp_path / "submission.csv", "-q"))
    assert any("is written differently here" in w and "'revenue'" in w for w in warnings_of(result))
    assert (tmp_path / "submission.csv").read_text() == plain["submission"]


def test_magnitude_suffixes_and_currency_codes(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "company_id": [f"A{i}" for i in range(40)],
            "funding": ["1.2M", "350k", "2B", "900", "1.5bn"] * 8,
            "deal": ["USD 1,200", "USD 3,400.50", "USD 15", "USD 1,000,000", "USD 7"] * 8,
            "is_hot_lead": [1, 0, 1, 0, 0] * 8,
        }
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    rows = schema_rows(tmp_path / "t.csv")
    assert rows["funding"]["parse"] == "suffixes k/M/B"
    assert rows["deal"]["parse"] == "currency 'USD', thousands ','"


def test_an_ambiguous_thousands_column_is_read_and_named_in_a_warning(tmp_path: Path) -> None:
    frame = pd.DataFrame({"amount": ["1,234", "2,500", "3,999", "4,001"] * 10, "x": range(40), "is_hot_lead": [0, 1] * 20})
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = ok(invoke("schema", tmp_path / "t.csv"))
    assert any("'amount'" in w and "--decimal-comma amount" in w for w in warnings_of(result))
    settled = ok(invoke("schema", tmp_path / "t.csv", "--json", "--decimal-comma", "amount"))
    assert warnings_of(settled) == []
    assert {r["column"]: r["parse"] for r in json.loads(settled.stdout)}["amount"] == "decimal ','"


def test_ambiguous_dates_follow_dayfirst_and_date_forces_a_column(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "company_id": [f"A{i}" for i in range(30)],
            "signed": [f"0{d}/0{m}/2023" for d, m in zip([1, 2, 3, 4, 5, 6] * 5, [2, 3, 4, 5, 6, 7] * 5, strict=True)],
            "seen": ["2023-01-05", "soon", "2023-02-01"] * 10,
            "x": range(30),
            "is_hot_lead": [0, 1, 1] * 10,
        }
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = ok(invoke("schema", tmp_path / "t.csv"))
    assert any("'signed'" in w and "--dayfirst" in w for w in warnings_of(result))
    rows = schema_rows(tmp_path / "t.csv", "--dayfirst")
    assert rows["signed"]["parse"] == "date D/M/YYYY"
    assert rows["seen"]["role"] == "categorical"
    forced = invoke("schema", tmp_path / "t.csv", "--dayfirst", "--date", "seen")
    one_error(forced, "column 'seen' holds dates", "'soon' at line 3")


def test_targets_other_than_0_1_need_positive(tmp_path: Path) -> None:
    frame = pd.DataFrame({"company_id": [f"A{i}" for i in range(60)], "x": np.arange(60) % 7, "stage": ["Won", "Lost", "Lost"] * 20})
    frame.to_csv(tmp_path / "t.csv", index=False)
    one_error(invoke("train", tmp_path / "t.csv", "--out", tmp_path / "m", "--target", "stage", *FAST), "'Lost' (40)", "'Won' (20)", "--positive")
    assert not (tmp_path / "m").exists()
    ok(invoke("train", tmp_path / "t.csv", "--out", tmp_path / "m", "--target", "stage", "--positive", "Won", *FAST))
    assert json.loads(ok(invoke("evaluate", tmp_path / "m", tmp_path / "t.csv", "--json")).stdout)["metrics"]["rows"] == 60


@pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["table", "json"])
def test_schema_of_a_table_train_refuses_prints_the_error_alone(tmp_path: Path, as_json: list[str]) -> None:
    """A command that fails prints no result first: no table, and no valid-looking JSON list with exit status 2."""
    frame = pd.DataFrame({"company_id": [f"A{i}" for i in range(40)], "x": np.arange(40) % 7, "is_hot_lead": [1, 2, 1, 1] * 10})
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = invoke("schema", tmp_path / "t.csv", *as_json)
    one_error(result, "target 'is_hot_lead' has the values '1' (30), '2' (10)", "--positive")
    assert result.stdout == ""


def test_several_target_values_are_all_listed_and_open_deals_left_out(tmp_path: Path) -> None:
    stages = ["Won", "Lost", "Lost", "Open", "Closed Won", "Lost"] * 12
    frame = pd.DataFrame({"company_id": [f"A{i}" for i in range(72)], "x": np.arange(72) % 5, "stage": stages})
    frame.to_csv(tmp_path / "t.csv", index=False)
    one_error(
        invoke("schema", tmp_path / "t.csv", "--target", "stage"),
        "4 values 'Lost' (36), 'Closed Won' (12), 'Open' (12), 'Won' (12)",
        "--positive A[,B]",
        "--negative C[,D]",
    )
    result = ok(invoke("train", tmp_path / "t.csv", "--out", tmp_path / "m", "--target", "stage", "--positive", "Won,Closed Won", "--negative", "Lost", *FAST))
    assert any("left out 12 row(s)" in w for w in warnings_of(result))
    rows = schema_rows(tmp_path / "t.csv", "--target", "stage", "--positive", "Won,Closed Won", "--negative", "Lost")
    assert rows["stage"]["parse"] == "labels 'Won', 'Closed Won' = 1, 'Lost' = 0"


def test_a_blank_label_and_three_classes_are_one_message(tmp_path: Path) -> None:
    frame = pd.DataFrame({"company_id": [f"A{i}" for i in range(30)], "x": [str(i) for i in range(30)], "is_hot_lead": ["0", "1", "2"] * 10})
    frame.loc[4, "is_hot_lead"] = None
    frame.loc[6, "x"] = "lots"
    frame.to_csv(tmp_path / "t.csv", index=False)
    line = one_error(invoke("train", tmp_path / "t.csv", "--out", tmp_path / "m", *FAST), "is empty (line 6)", "'2' (10)", "'lots' at line 8")
    assert "--positive" in line


def test_codes_row_numbers_and_record_numbers_are_not_features(table: pd.DataFrame, tmp_path: Path) -> None:
    frame = table.drop(columns="company_id").assign(account=[f"{i:06d}" for i in range(ROWS)], record_number=np.arange(1000, 1000 + ROWS))
    frame["zip4"] = [f"{2000 + k * 37:05d}-{k:04d}" for k in (i if i < 100 else i - 50 for i in range(ROWS))]  # 100 distinct
    write_plain(frame, tmp_path / "t.csv")
    pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False).to_csv(tmp_path / "indexed.csv")  # a saved pandas index: blank header, 0..n-1
    rows = schema_rows(tmp_path / "indexed.csv")
    assert rows["account"]["role"] == "id"
    assert rows["Unnamed: 0"]["role"] == "ignored" and rows["Unnamed: 0"]["reason"].startswith("row numbers")
    assert rows["record_number"]["role"] == "ignored" and "id" in rows["record_number"]["reason"]
    assert rows["zip4"]["role"] == "ignored" and "--categorical zip4" in rows["zip4"]["reason"]


def test_a_near_unique_column_is_named_when_it_cannot_be_the_id(table: pd.DataFrame, tmp_path: Path) -> None:
    frame = table.drop(columns="company_id").assign(account=[f"ACC-{i:05d}" for i in range(ROWS)])
    frame.loc[9, "account"] = "ACC-00001"
    write_plain(frame, tmp_path / "t.csv")
    result = ok(invoke("schema", tmp_path / "t.csv"))
    assert any(
        "'account' looks like an id but repeats 1 value(s), e.g. 'ACC-00001' (line 3, line 11)" in w and "numbers the rows" in w for w in warnings_of(result)
    )


def test_predict_hints_are_ones_predict_can_follow(plain: dict, table: pd.DataFrame, tmp_path: Path) -> None:
    model = Path(plain["data"]).parent / "model"
    frame = table.drop(columns="is_hot_lead")
    frame.loc[5, "company_id"] = "C0001"
    write_plain(frame, tmp_path / "new.csv")
    line = one_error(invoke("predict", model, tmp_path / "new.csv", "--out", tmp_path / "s.csv"), "repeats 1 value(s)", "line 3, line 7")
    assert "--id" not in line


def test_lines_are_file_lines_after_quoted_line_breaks(table: pd.DataFrame, tmp_path: Path) -> None:
    frame = table.copy()
    frame["company_name"] = frame["company_name"].astype(object)
    frame.loc[2, "company_name"] = "Two\nline name"
    frame["growth_pct"] = frame["growth_pct"].astype(object)
    frame.loc[5, "growth_pct"] = "lots"
    write_plain(frame, tmp_path / "t.csv")
    one_error(invoke("train", tmp_path / "t.csv", "--out", tmp_path / "m", *FAST), "'lots' at line 8")


def test_an_undecodable_file_names_the_encoding_line_and_column(table: pd.DataFrame, tmp_path: Path) -> None:
    frame = table.copy()
    frame["company_name"] = frame["company_name"].str.replace("Company 4", "Müller 4")
    frame.to_csv(tmp_path / "t.csv", index=False, encoding="cp1252")
    one_error(invoke("schema", tmp_path / "t.csv", "--encoding", "utf-8"), "encoding", "not valid utf-8", "line 6, column 'company_name'", "--encoding")


def test_sep_overrides_the_sniffed_delimiter(table: pd.DataFrame, tmp_path: Path) -> None:
    write_plain(table, tmp_path / "t.csv")
    one_error(invoke("schema", tmp_path / "t.csv", "--sep", ";"), "--sep ';': splits the header of", "into 1 field", "comma-separated", "pass --sep ','")
    assert schema_rows(tmp_path / "t.csv", "--sep", "comma")["revenue"]["role"] == "numeric"


def test_old_mac_line_endings_excel_sep_line_and_a_stray_windows_byte(tmp_path: Path) -> None:
    rows = [f"C{i},{i * 1.5},{'Île' if i % 2 else 'Bretagne'},{i % 2}" for i in range(40)]
    (tmp_path / "mac.csv").write_bytes(("company_id,x,region,is_hot_lead\r" + "\r".join(rows) + "\r").encode())
    assert schema_rows(tmp_path / "mac.csv")["x"]["role"] == "numeric"
    (tmp_path / "sep.csv").write_bytes(("sep=;\ncompany_id;x;region;is_hot_lead\n" + "\n".join(r.replace(",", ";") for r in rows) + "\n").encode())
    assert {name: row["role"] for name, row in schema_rows(tmp_path / "sep.csv").items()} == {
        "company_id": "id",
        "x": "numeric",
        "region": "categorical",
        "is_hot_lead": "target",
    }
    data = ("company_id,x,region,is_hot_lead\n" + "\n".join(rows) + "\n").encode().replace(b"C7,", b"C7\xe9,", 1)
    (tmp_path / "stray.csv").write_bytes(data)
    result = ok(invoke("schema", tmp_path / "stray.csv", "--json"))
    assert any("read those bytes as cp1252" in w and "line 9" in w for w in warnings_of(result))
    ok(invoke("train", tmp_path / "stray.csv", "--out", tmp_path / "m", *FAST))
    (tmp_path / "clean.csv").write_bytes(data.replace(b"C7\xe9,", b"C7,"))
    ok(invoke("predict", tmp_path / "m", tmp_path / "clean.csv", "--out", tmp_path / "s.csv", "-q"))  # 'Île' is one category in both


def test_sap_trailing_minus_and_checkbox_targets(tmp_path: Path) -> None:
    values = [f"{abs(v):,.2f}{'-' if v < 0 else ''}" for v in np.linspace(-5000, 5000, 60)]
    frame = pd.DataFrame({"customer": [f"K{i % 7}" for i in range(60)], "net_value": values, "ticked": ["x" if i % 3 == 0 else "" for i in range(60)]})
    frame.to_csv(tmp_path / "sap.csv", index=False)
    one_error(invoke("schema", tmp_path / "sap.csv", "--target", "ticked"), "one value 'x' (20)", "--positive x")
    rows = schema_rows(tmp_path / "sap.csv", "--target", "ticked", "--positive", "x")
    assert rows["net_value"]["role"] == "numeric"
    blank = (
        f"warning: {tmp_path / 'sap.csv'}: target 'ticked' is blank in 40 rows; they are counted as not hot (0), as --positive x counts every "
        "other value. If they are unlabelled, remove them or give --negative with the not-hot values: rows in neither list are left out."
    )
    for command in (["schema"], ["train", "--out", tmp_path / "m", *FAST]):  # an unticked checkbox, or rows nobody labelled: said, not assumed
        assert warnings_of(ok(invoke(*command, tmp_path / "sap.csv", "--target", "ticked", "--positive", "x")))[0] == blank  # train's next: few rows


def test_scoring_warns_on_percent_scale_and_reads_new_thousands_separators(table: pd.DataFrame, tmp_path: Path) -> None:
    data = styled(table, "us-money", tmp_path / "us.csv")  # growth_pct as 6.3%
    ok(invoke("train", data, "--out", tmp_path / "model", *FAST))
    plain = write_plain(table.assign(growth_pct=table["growth_pct"] / 100), tmp_path / "plain.csv")
    result = ok(invoke("predict", tmp_path / "model", plain, "--out", tmp_path / "s.csv", "-q"))
    assert any("'growth_pct' is written without percent signs here" in w for w in warnings_of(result))
    model = tmp_path / "plain-model"
    ok(invoke("train", write_plain(table, tmp_path / "p.csv"), "--out", model, *FAST))
    grouped = table.assign(headcount=table["headcount"].map(lambda x: f"{x:,}"))
    result = ok(invoke("predict", model, write_plain(grouped, tmp_path / "g.csv"), "--out", tmp_path / "s2.csv", "-q"))
    assert any("'headcount' is written differently here" in w for w in warnings_of(result))


def test_month_name_dates_currency_changes_and_totals_rows(table: pd.DataFrame, tmp_path: Path) -> None:
    named = table.copy()
    named["signup"] = named["signup"].map(lambda d: d.strftime("%d-%b-%Y") if d.day % 2 else d.strftime("%b %d, %Y"))
    named.to_csv(tmp_path / "named.csv", index=False)
    assert schema_rows(tmp_path / "named.csv")["signup"]["parse"].startswith("date with month names")
    ok(invoke("train", tmp_path / "named.csv", "--out", tmp_path / "m", *FAST))
    plain = write_plain(table, tmp_path / "plain.csv")
    ok(invoke("predict", tmp_path / "m", plain, "--out", tmp_path / "s.csv", "-q"))  # read as written, same dates
    us = styled(table, "us-money", tmp_path / "us.csv")
    ok(invoke("train", us, "--out", tmp_path / "m2", *FAST))
    euros = pd.read_csv(us, dtype=str, keep_default_na=False)
    euros["revenue"] = euros["revenue"].str.replace("$", "€", regex=False)
    euros.to_csv(tmp_path / "eur.csv", index=False)
    result = ok(invoke("predict", tmp_path / "m2", tmp_path / "eur.csv", "--out", tmp_path / "s2.csv", "-q"))
    assert any("'revenue' is in € here but was in $ in training" in w for w in warnings_of(result))
    totals = pd.concat([pd.read_csv(plain, dtype=str, keep_default_na=False), pd.DataFrame([{"company_id": "X", "revenue": "1", "growth_pct": "Total"}])])
    totals.to_csv(tmp_path / "totals.csv", index=False)
    one_error(invoke("predict", tmp_path / "m", tmp_path / "totals.csv", "--out", tmp_path / "s3.csv"), "'Total' (line 152)", "totals row; delete that row")


def test_a_decimal_mark_given_by_the_user_is_kept_at_training_and_scoring(tmp_path: Path) -> None:
    frame = pd.DataFrame({"company_id": [f"A{i}" for i in range(40)], "x": ["1,234", "5", "2,500", "7,25"] * 10, "is_hot_lead": [0, 1] * 20})
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = ok(invoke("train", tmp_path / "t.csv", "--out", tmp_path / "m", "--decimal-comma", "x", *FAST))
    assert not any("written differently" in w for w in warnings_of(result))
    ok(invoke("predict", tmp_path / "m", tmp_path / "t.csv", "--out", tmp_path / "s.csv", "--scores", tmp_path / "leads.csv", "-q"))
    from hotleads import load
    from hotleads.schema import prepare

    prepared = prepare(pd.read_csv(tmp_path / "t.csv", dtype=str), load(tmp_path / "m").predictor.schema, labelled=False)
    assert prepared.features["x"].tolist()[:4] == [1.234, 5.0, 2.5, 7.25]


def _marked(tmp_path: Path, name: str, values: list[str]) -> Path:
    """40 companies whose column x is ``values`` (repeated), beside a plain numeric column; written as text, as a CSV export has them."""
    frame = pd.DataFrame({"company_id": [f"A{i}" for i in range(40)], "x": (values * 40)[:40], "y": np.arange(40) % 7, "is_hot_lead": [0, 1] * 20})
    frame.to_csv(tmp_path / name, index=False)
    return tmp_path / name


def test_a_decimal_mark_the_values_contradict_is_an_error_naming_the_option_and_lines(tmp_path: Path) -> None:
    """`--decimal-point x` on `1.234,5`: an error with the values, their lines and the other option, not x read as text."""
    european = _marked(tmp_path, "eu.csv", ["1.234,5", "5,25", "2.500,0", "7,75"])
    for command in ("train", "schema"):
        extra = ["--out", tmp_path / "m", *FAST] if command == "train" else []
        one_error(
            invoke(command, european, "--decimal-point", "x", *extra),
            f"error: {european}: column 'x' is not a number with '.' as its decimal mark (--decimal-point x) ",
            "('1.234,5' at line 2, '5,25' at line 3, '2.500,0' at line 4 and 37 more)",
            "read with ',' as the decimal mark: give --decimal-comma x instead",
        )
    assert not (tmp_path / "m").exists()
    from hotleads.exceptions import DataError
    from hotleads.io import read_table
    from hotleads.schema import infer_schema

    with pytest.raises(DataError, match=r"^t.csv: column 'x' is not a number with ',' as its decimal mark \(--decimal-comma x\) \('1.5' at line 2,"):
        infer_schema(read_table(_marked(tmp_path, "points.csv", ["1.5", "2.25", "3.5"])), source="t.csv", decimal_comma=["x"])


def test_text_under_a_decimal_mark_asks_for_na_values_and_blanks_or_tokens_are_fine(tmp_path: Path) -> None:
    """A few words among the numbers (too many to read the column as numbers) name those words and --na-values;
    blank cells, the usual markers and --na-values tokens are missing values under a decimal mark too.
    Most values read with the mark: dropping it is not suggested."""
    words = _marked(tmp_path, "words.csv", ["1,5", "unknown", "2,25", "", "3,5", "n/a", "4,75", "tbd"])
    said = one_error(
        invoke("train", words, "--decimal-comma", "x", "--out", tmp_path / "m", *FAST),
        "(--decimal-comma x) ('unknown' at line 3, 'tbd' at line 9, 'unknown' at line 11 and 7 more); ",
        "fix or blank cells such as 'tbd', 'unknown', or name them with --na-values tbd,unknown if they mean 'unknown'",
    )
    assert said.endswith("if they mean 'unknown'") and "drop" not in said and "holds no numbers" not in said
    ok(invoke("train", words, "--decimal-comma", "x", "--na-values", "unknown,TBD", "--out", tmp_path / "m", *FAST))
    rows = {r["column"]: r for r in json.loads(ok(invoke("schema", words, "--json", "--decimal-comma", "x", "--na-values", "unknown,tbd")).stdout)}
    assert rows["x"]["role"] == "numeric" and rows["x"]["parse"] == "decimal ','" and rows["x"]["missing"] == 0.5


def test_scoring_a_file_the_models_given_mark_does_not_read_names_the_option(tmp_path: Path) -> None:
    """A model trained with --decimal-comma x scores a file written with decimal points: the error says so, rather than
    suggesting --na-values for numbers; text there still asks for the model's --na-values."""
    ok(invoke("train", _marked(tmp_path, "eu.csv", ["1.234,5", "5,25", "2.500,0", "7,75"]), "--decimal-comma", "x", "--out", tmp_path / "m", *FAST))
    points = _marked(tmp_path, "points.csv", ["1234.5", "5.25", "2500.0", "7.75"])
    one_error(
        invoke("predict", tmp_path / "m", points, "--out", tmp_path / "s.csv"),
        f"error: {points}: column 'x' is not a number with ',' as its decimal mark (the model was trained with --decimal-comma x) ('1234.5' at line 2,",
        "; write its numbers so, or train the model again without that option",
    )
    one_error(
        invoke("predict", tmp_path / "m", _marked(tmp_path, "words.csv", ["1.234,5", "5,25", "-", "soon"]), "--out", tmp_path / "s.csv"),
        "('soon' at line 5, 'soon' at line 9, 'soon' at line 13 and 7 more); fix or blank cells such as 'soon', "
        "or train the model again with --na-values soon added to its own if they mean 'unknown'",
    )


def test_whole_number_ids_from_a_workbook_stay_whole(tmp_path: Path) -> None:
    frame = pd.DataFrame({"company_id": np.arange(1001, 1041), "x": np.arange(40) % 7, "is_hot_lead": [0, 1] * 20})
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    ok(invoke("train", tmp_path / "t.xlsx", "--out", tmp_path / "m", *FAST))
    ok(invoke("predict", tmp_path / "m", tmp_path / "t.xlsx", "--out", tmp_path / "s.csv", "-q"))
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith("1001,")


def excel_csv(frame: pd.DataFrame, path: Path, *, title: str) -> Path:
    """``frame`` as Excel saves a sheet as CSV: a title row and blank rows written as bare separators, one in the middle, three at the end."""
    lines = write_plain(frame, path).read_text().splitlines(keepends=True)
    empty = "," * (len(frame.columns) - 1) + "\n"
    path.write_text(title + empty[1:] + empty + lines[0] + "".join(lines[1:60]) + empty + "".join(lines[60:]) + empty * 3)
    return path


def test_a_weekly_export_with_a_title_and_blank_rows_trains_and_scores_as_the_plain_file(table: pd.DataFrame, plain: dict, tmp_path: Path) -> None:
    data = excel_csv(table, tmp_path / "weekly.csv", title="Q3 lead export")
    result = ok(invoke("train", data, "--out", tmp_path / "model", *FAST))
    assert warnings_of(result) == [
        f"warning: {data}: line 1 ('Q3 lead export') looks like a title, not the header: skipped lines 1-2 and read the header from line 3. "
        "Delete the lines above the header to read the file without this warning."
    ]
    ok(invoke("predict", tmp_path / "model", data, "--out", tmp_path / "submission.csv", "-q"))
    assert (tmp_path / "submission.csv").read_text() == plain["submission"]  # the blank rows are no companies


def test_lines_stay_the_files_under_a_title_and_after_blank_rows(table: pd.DataFrame, plain: dict, tmp_path: Path) -> None:
    frame = table.copy()
    frame["growth_pct"] = frame["growth_pct"].astype(object)
    frame.loc[99, "growth_pct"] = "lots"  # data row 100: line 101 of the plain file, + 2 title lines + 1 blank row above it
    data = excel_csv(frame, tmp_path / "weekly.csv", title="Q3 lead export")
    one_error(invoke("predict", Path(plain["data"]).parent / "model", data, "--out", tmp_path / "s.csv"), "'lots' at line 104")


@pytest.mark.parametrize("chunk_rows", [None, 1, 7])
def test_without_ids_a_blank_row_of_separators_keeps_its_row_number(table: pd.DataFrame, plain: dict, tmp_path: Path, chunk_rows: int | None) -> None:
    """Without an id column the Id is the row number: the company on data row 11, under a ',,,,' row, is Id 11 (as pandas.read_csv
    and the file number it), whole or in chunks; the submission joins back to the file by row position."""
    noid = excel_csv(table.drop(columns="company_id"), tmp_path / "noid.csv", title="Q3 lead export")  # ',,,,' after data row 59
    chunks = [] if chunk_rows is None else ["--chunk-rows", chunk_rows]
    ok(invoke("predict", Path(plain["data"]).parent / "model", noid, "--out", tmp_path / "s.csv", "--scores", tmp_path / "l.csv", *chunks, "-q"))
    submission, leads = pd.read_csv(tmp_path / "s.csv"), pd.read_csv(tmp_path / "l.csv")
    rows = pd.read_csv(noid, skiprows=2)  # the title and its empty row
    assert submission["Id"].tolist() == [*range(59), *range(60, ROWS + 1)] == rows.index[rows["company_name"].notna()].tolist()
    named = leads.set_index("company_id")["name"]  # the id column, named as in training, holds the row numbers
    assert named.loc[60] == "Company 59" and (named == rows.loc[named.index, "company_name"]).all()
    expected = plain["submission"].splitlines()[1:]
    assert [line.split(",", 1)[1] for line in (tmp_path / "s.csv").read_text().splitlines()[1:]] == [line.split(",", 1)[1] for line in expected]


def test_a_report_preamble_of_title_export_date_and_filters_scores_as_the_plain_file(table: pd.DataFrame, plain: dict, tmp_path: Path) -> None:
    """A report saved with its title, a 'label,value' line, filter lines and a blank line above the header: skipped in one warning."""
    lines = write_plain(table, tmp_path / "p.csv").read_text().splitlines(keepends=True)
    empty = "," * (len(table.columns) - 1)
    filters = "".join(f"Filter: {f}{empty}\n" for f in ("Region = any", "Stage = Open"))
    data = tmp_path / "report.csv"
    data.write_text(f"Q3 lead export{empty}\nExported on,2024-10-01{empty[1:]}\n{filters}\n" + "".join(lines))
    result = ok(invoke("predict", Path(plain["data"]).parent / "model", data, "--out", tmp_path / "s.csv"))
    assert warnings_of(result) == [
        f"warning: {data}: skipped lines 1-5 above the header, a report's title and notes ('Q3 lead export', 'Exported on, 2024-10-01', "
        "'Filter: Region = any' and 1 more), and read the header from line 6. Delete the lines above the header to read the file without this warning."
    ]
    assert (tmp_path / "s.csv").read_text() == plain["submission"]


def test_an_error_after_a_title_was_skipped_is_preceded_by_how_the_file_was_read(table: pd.DataFrame, plain: dict, tmp_path: Path) -> None:
    """A title, then a label and a value with an empty cell between them (no preamble line: the gap could be a header's blank
    name): line 2 is read as the header, so the columns are wrong. The error comes with the warning that says so (other
    warnings of a failed command stay unprinted)."""
    lines = write_plain(table, tmp_path / "p.csv").read_text().splitlines(keepends=True)
    empty = "," * (len(table.columns) - 1)
    data = tmp_path / "r5.csv"
    data.write_text(f"Q3 lead export{empty[1:]}\nExported on,,2024-10-01{empty[2:]}\n{empty}\n" + "".join(lines))
    note = f"warning: {data}: line 1 ('Q3 lead export') looks like a title, not the header: skipped line 1 and read the header from line 2."
    for result in (invoke("schema", data), invoke("predict", Path(plain["data"]).parent / "model", data, "--out", tmp_path / "s.csv")):
        one_error(result, "r5.csv")
        assert result.stderr.splitlines()[0].startswith(note) and len(result.stderr.splitlines()) == 2, result.stderr


def test_a_workbook_whose_first_sheet_is_a_cover_names_the_data_sheet(table: pd.DataFrame, plain: dict, tmp_path: Path) -> None:
    book = styled(table, "xlsx-named-csv", tmp_path / "leads.xlsx")  # sheets 'About' (a note), then 'Leads'
    hint = "read sheet 'About', the workbook's first: the data may be on another (--sheet Leads)"
    one_error(invoke("train", book, "--out", tmp_path / "m", *FAST), "no target column 'is_hot_lead'", hint)
    one_error(invoke("train", book, "--target", "is_hot_lead", "--out", tmp_path / "m", *FAST), "--target names column 'is_hot_lead'", hint)
    model = Path(plain["data"]).parent / "model"
    one_error(invoke("predict", model, book, "--out", tmp_path / "s.csv"), "missing column(s)", "that the model needs", hint)
    ok(invoke("predict", model, book, "--sheet", "Leads", "--out", tmp_path / "s.csv", "-q"))
    assert (tmp_path / "s.csv").read_text() == plain["submission"]
