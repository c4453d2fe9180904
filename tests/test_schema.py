"""Tests of column roles, validation and typed columns (hotleads.schema)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotleads import schema as schema_module
from hotleads.exceptions import CountedWarning, DataError, ParameterError
from hotleads.io import RowLocations, read_table
from hotleads.schema import DataWarning, Schema, infer_role, infer_schema, prepare


@pytest.fixture(scope="module")
def challenge(dataset: Path) -> pd.DataFrame:
    """The generated train.csv, read as the command line reads it (text columns)."""
    return read_table(dataset / "train.csv")


def small_table(**overrides) -> pd.DataFrame:
    """Eight rows in the challenge layout, as text (like a CSV read), with column overrides."""
    frame = pd.DataFrame(
        {
            "company_id": [f"C{i}" for i in range(8)],
            "industry": ["Tech", "SaaS", "Tech", "Retail", "SaaS", "Tech", "Retail", "SaaS"],
            "funding_rounds": ["1", "2", "3", "1.5", "2", "4", "1", "2"],
            "last_funding_date": ["2024-01-0" + str(d) for d in range(1, 9)],
            "is_hot_lead": ["0", "1", "0", "1", "0", "0", "1", "0"],
        }
    )
    for name, values in overrides.items():
        frame[name] = values
    return frame


@pytest.mark.parametrize(
    ("values", "role"),
    [
        (["1", "2.5", "-3", "1e6", "7"], "numeric"),
        ([1.0, 2.0, np.nan, 4.0, 5.0], "numeric"),
        ([True, False, True, True, False], "numeric"),
        (["2024-01-01", "2023-12-31", "2020-02-29", None, "2021-06-01"], "date"),
        (["a", "b", "a", "b", "c", "a"], "categorical"),
        (["x1", "x2", "x3", "x4", "x5"], "id-like"),
        (["same"] * 5, "constant"),
        ([None] * 5, "empty"),
        ([f"name {i}" for i in range(120)] + ["name 0"] * 10, "free text"),
    ],
)
def test_infer_role(values: list, role: str) -> None:
    assert infer_role(pd.Series(values)) == role


def test_a_few_stray_values_do_not_stop_a_numeric_column() -> None:
    values = pd.Series([str(i) for i in range(99)] + ["unknown"])
    assert infer_role(values) == "numeric"
    assert infer_role(pd.Series([str(i) for i in range(90)] + ["unknown"] * 10)) != "numeric"


def test_challenge_table_roles(challenge: pd.DataFrame) -> None:
    schema = infer_schema(challenge)
    assert schema.target == "is_hot_lead"
    assert schema.id == "company_id"
    assert schema.categorical == ["industry", "hiring_roles"]
    assert schema.date == ["last_funding_date"]
    assert schema.ignored["company_name"].startswith("free text")
    assert schema.numeric == [
        "funding_rounds",
        "total_funding",
        "job_postings_30d",
        "employee_growth_pct",
        "industry_growth_rate",
        "regional_employment_trend",
        "funding_per_employee",
        "days_since_last_funding",
        "growth_momentum",
    ]


def test_drop_and_categorical_override_inference(challenge: pd.DataFrame) -> None:
    schema = infer_schema(challenge, drop=["industry", "growth_momentum"], categorical=["funding_rounds"])
    assert schema.ignored["company_name"].startswith("free text")
    assert {k: v for k, v in schema.ignored.items() if k != "company_name"} == {"industry": "dropped by --drop", "growth_momentum": "dropped by --drop"}
    assert schema.categorical == ["funding_rounds", "hiring_roles"]
    assert "funding_rounds" not in schema.numeric and "growth_momentum" not in schema.features


def test_explicit_target_and_id(challenge: pd.DataFrame) -> None:
    frame = challenge.rename(columns={"is_hot_lead": "label", "company_id": "key"})
    schema = infer_schema(frame, target="label", id_column="key")
    assert (schema.target, schema.id) == ("label", "key")
    assert "key" not in schema.features and "label" not in schema.features


def test_an_id_like_column_becomes_the_id_when_none_is_named() -> None:
    schema = infer_schema(small_table().rename(columns={"company_id": "ref"}))
    assert schema.id == "ref"


@pytest.mark.parametrize("option", ["target", "id_column", "drop", "categorical"])
def test_misspelt_column_names_get_a_suggestion(challenge: pd.DataFrame, option: str) -> None:
    value = "industri" if option != "target" else "is_hot_leads"
    wanted = "industry" if option != "target" else "is_hot_lead"
    kwargs = {option: [value] if option in ("drop", "categorical") else value}
    with pytest.raises(DataError, match=rf"names column '{value}', which the table does not have; did you mean '{wanted}'\?"):
        infer_schema(challenge, source="train.csv", **kwargs)


def test_missing_default_target_says_how_to_name_it() -> None:
    frame = small_table().drop(columns="is_hot_lead")
    with pytest.raises(DataError, match=r"t\.csv: no target column 'is_hot_lead'; name the column to predict with --target \(columns: company_id, industry"):
        infer_schema(frame, source="t.csv")


def test_a_table_without_features_is_refused() -> None:
    frame = pd.DataFrame({"company_id": ["a", "b", "c"], "is_hot_lead": ["0", "1", "0"], "note": ["x", "x", "x"]})
    with pytest.raises(DataError, match=r"no usable feature column .*'note': 'constant'"):
        infer_schema(frame)


def test_schema_round_trips_through_a_dict(challenge: pd.DataFrame) -> None:
    schema = infer_schema(challenge)
    assert Schema.from_dict(schema.to_dict()) == schema


def test_prepare_types_the_columns() -> None:
    frame = small_table()
    prepared = prepare(frame, infer_schema(frame), labelled=True)
    assert prepared.features["funding_rounds"].dtype == np.float64
    assert prepared.features["funding_rounds"].iloc[3] == 1.5
    assert pd.api.types.is_datetime64_any_dtype(prepared.features["last_funding_date"])
    assert prepared.features["industry"].tolist() == frame["industry"].tolist()
    assert prepared.y.tolist() == [0, 1, 0, 1, 0, 0, 1, 0]
    assert prepared.ids.tolist() == frame["company_id"].tolist()


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["yes", "No", "YES", "no"], [1, 0, 1, 0]),
        (["true", "False", "TRUE", "false"], [1, 0, 1, 0]),
        (["1.0", "0.0", "1", "0"], [1, 0, 1, 0]),
        (["1.00", "0.00", " 1 ", "0.000"], [1, 0, 1, 0]),  # an export's fixed decimals: numbers equal to 1 and 0
        ([True, False, True, False], [1, 0, 1, 0]),
        ([1, 0, 1, 0], [1, 0, 1, 0]),
    ],
)
def test_binary_target_spellings_are_accepted(labels: list, expected: list[int]) -> None:
    frame = pd.DataFrame({"x": ["1", "2", "3", "4"], "is_hot_lead": labels})
    assert prepare(frame, infer_schema(frame), labelled=True).y.tolist() == expected


def test_target_with_other_values_names_them_and_their_lines() -> None:
    frame = small_table(is_hot_lead=["0", "1", "7", "1", "0", "2", "1", "0"])
    frame.attrs["rows"] = RowLocations("line", first=2)
    with pytest.raises(
        DataError, match=r"target 'is_hot_lead' has values \['2', '7'\] \(line 4, line 7\); the target must be binary \(0/1, true/false or yes/no\)"
    ):
        prepare(frame, infer_schema(frame), source="train.csv", labelled=True)


def test_numbers_other_than_1_and_0_are_refused_as_labels_however_written() -> None:
    frame = small_table(is_hot_lead=["0.00", "1.00", "0.5", "1", "0", "2.00", "1.0", "0"])
    frame.attrs["rows"] = RowLocations("line", first=2)
    with pytest.raises(DataError, match=r"target 'is_hot_lead' has values \['0.5', '2.00'\] \(line 4, line 7\); the target must be binary"):
        prepare(frame, infer_schema(frame), source="test.csv", labelled=True)


def test_target_with_one_class_is_refused() -> None:
    frame = small_table(is_hot_lead=["0"] * 8)[["company_id", "funding_rounds", "is_hot_lead"]]
    with pytest.raises(DataError, match=r"only the class 0; training needs both hot leads \(1\) and others \(0\)"):
        prepare(frame, Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"]), labelled=True, training=True)


def test_one_class_when_scoring_labels_says_what_the_model_counts_as_hot() -> None:
    frame = small_table(is_hot_lead=["0", "1", "1", "0", "0", "1", "0", "0"])[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Hot"])  # trained on Hot/Cold
    with pytest.raises(
        DataError,
        match=r"only the class 0; the model counts \['Hot'\] as hot and the rest as not, and this table has '0' \(5\), '1' \(3\); metrics need both",
    ):
        prepare(frame, schema, labelled=True)  # evaluating: not training


def test_training_with_positive_keeps_the_target_values_for_scoring() -> None:
    frame = small_table(is_hot_lead=["Hot", "Cold", " cold", "Hot", None, "Cold", "Hot", "Cold"])
    schema = infer_schema(frame, positive=["Hot"])
    with pytest.warns(DataWarning, match="is blank in 1 row;"):
        prepare(frame, schema, labelled=True, training=True)
    assert schema.labels == ["", "Cold", "Hot", "cold"]  # stripped, as written; "" for the blank cell


@pytest.mark.parametrize(
    ("values", "positive"),
    [
        (["Won", "", "Lost", "Won", None, "Lost", " ", "Lost"], "Won"),  # a CSV's text: empty, missing and spaces alike
        ([1.0, np.nan, 0.0, 1.0, np.nan, 0.0, np.nan, 0.0], "1"),  # a Parquet file's or sheet's floats with gaps
    ],
    ids=["text", "floats"],
)
def test_training_with_positive_alone_warns_that_blank_targets_count_as_0(values: list, positive: str) -> None:
    """An unticked CRM checkbox is blank and rightly 0, but so is a row nobody labelled: training says which it took them for."""
    frame = small_table(is_hot_lead=values)[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = infer_schema(frame, positive=[positive])
    with pytest.warns(DataWarning) as caught:
        prepared = prepare(frame, schema, source="t.csv", labelled=True, training=True)
    assert [str(w.message) for w in caught] == [
        f"t.csv: target 'is_hot_lead' is blank in 3 rows; they are counted as not hot (0), as --positive {positive} counts every other value. "
        "If they are unlabelled, remove them or give --negative with the not-hot values: rows in neither list are left out."
    ]
    assert prepared.y.tolist() == [1, 0, 0, 1, 0, 0, 0, 0]
    assert isinstance(caught[0].message, CountedWarning) and caught[0].message.counts == {"": 3}  # partitions would add up


def test_blank_targets_counted_as_0_are_not_warned_about_again_when_scoring_nor_under_negative() -> None:
    frame = small_table(is_hot_lead=["Won", "", "Lost", "Won", None, "Lost", "Lost", "Lost"])[["company_id", "funding_rounds", "is_hot_lead"]]
    trained = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Won"], labels=["", "Lost", "Won"])
    assert prepare(frame, trained, labelled=True).y.tolist() == [1, 0, 0, 1, 0, 0, 0, 0]  # training said it; a warning would fail the test
    with pytest.warns(DataWarning, match=r"left out 2 row\(s\)") as caught:
        prepare(frame, infer_schema(frame, positive=["Won"], negative=["Lost"]), labelled=True, training=True)
    assert len(caught) == 1


def test_a_target_value_training_never_saw_is_named_when_scoring_labels() -> None:
    frame = small_table(is_hot_lead=["Hot", "Warm", "Cold", "Hot", "Warm", "Cold", " ", "cold"])[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Hot"], labels=["Cold", "Hot"])  # trained on Hot/Cold
    with pytest.warns(DataWarning) as caught:
        prepared = prepare(frame, schema, source="test.csv", labelled=True)
    assert [str(w.message) for w in caught] == [
        "test.csv: target 'is_hot_lead' has value(s) the training table did not have: 'Warm' (2 rows), blank cells (1 row); "
        "they are counted as not hot (0), as --positive Hot counts every other value. If that is wrong, train again with them in "
        "--positive (hot leads) or --negative (not hot; rows in neither list are then left out)."
    ]
    assert prepared.y.tolist() == [1, 0, 0, 1, 0, 0, 0, 0]


@pytest.mark.parametrize("labels", [[], ["cold", "hot"]], ids=["model-saved-before-labels-were-kept", "known-in-another-case"])
def test_target_values_training_had_are_read_without_a_word(labels: list[str]) -> None:
    frame = small_table(is_hot_lead=["Hot", "Cold", "COLD", "Hot", "Cold", "Cold", "hot", "Cold"])[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Hot"], labels=labels)
    assert prepare(frame, schema, labelled=True).y.tolist() == [1, 0, 0, 1, 0, 0, 1, 0]  # a warning would fail the test


def test_with_negative_an_unseen_target_value_is_left_out_with_one_warning() -> None:
    frame = small_table(is_hot_lead=["Won", "Lost", "Open", "Won", "Lost", "Lost", "Stalled", "Lost"])[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Won"], negative=["Lost"], labels=["Lost", "Open", "Won"])
    with pytest.warns(DataWarning) as caught:
        prepared = prepare(frame, schema, source="test.csv", labelled=True)
    assert [str(w.message) for w in caught] == [
        "test.csv: left out 2 row(s) whose target is in neither --positive nor --negative: 'Open' (1 row), 'Stalled' (1 row)."
    ]
    assert prepared.rows.tolist() == [0, 1, 3, 4, 5, 7]


@pytest.mark.parametrize("training", [False, True], ids=["scoring", "training"])
def test_with_negative_a_blank_target_is_left_out_as_an_unknown_value_is(training: bool) -> None:
    """A blank cell is in neither --positive nor --negative: left out with the open deals, named, not an error."""
    frame = small_table(is_hot_lead=["Won", "Lost", " ", "Won", None, "Lost", "Open", "Lost"])[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Won"], negative=["Lost"], labels=["Lost", "Open", "Won"])
    with pytest.warns(DataWarning) as caught:
        prepared = prepare(frame, schema, source="t.csv", labelled=True, training=training)
    assert [str(w.message) for w in caught] == [
        "t.csv: left out 3 row(s) whose target is in neither --positive nor --negative: blank cells (2 rows), 'Open' (1 row)."
    ]
    assert prepared.rows.tolist() == [0, 1, 3, 5, 7]
    assert prepared.y.tolist() == [1, 0, 1, 0, 0]


def test_the_left_out_target_values_warning_names_the_most_frequent_five() -> None:
    values = ["Won", "Lost", "Lost", "Open", "Open", *[f"Stage{i:03d}" for i in range(200)]]
    frame = pd.DataFrame({"company_id": [f"C{i}" for i in range(len(values))], "funding_rounds": ["1"] * len(values), "is_hot_lead": values})
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Won"], negative=["Lost"], labels=["Lost", "Won"])
    with pytest.warns(DataWarning) as caught:
        prepare(frame, schema, source="test.csv", labelled=True)
    assert [str(w.message) for w in caught] == [
        "test.csv: left out 202 row(s) whose target is in neither --positive nor --negative: 'Open' (2 rows), 'Stage000' (1 row), "
        "'Stage001' (1 row), 'Stage002' (1 row), 'Stage003' (1 row) and 196 more value(s) (196 rows)."
    ]


def test_float_ids_beyond_exact_whole_numbers_stay_as_written() -> None:
    frame = small_table()[["company_id", "funding_rounds", "is_hot_lead"]].assign(company_id=[1.5e19, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    prepared = prepare(frame, Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"]), labelled=True, training=True)
    assert prepared.ids.tolist()[:2] == ["1.5e+19", "1.0"]  # was a TypeError; 1001.0 -> 1001 needs every id exact in float64


def test_empty_target_cells_are_located() -> None:
    frame = small_table(is_hot_lead=["0", "1", None, "1", "0", "0", "1", "0"])
    with pytest.raises(DataError, match=r"target 'is_hot_lead' is empty \(row 3\); label those rows or remove them"):
        prepare(frame, infer_schema(frame), labelled=True)


def test_text_in_a_numeric_column_names_column_value_and_line() -> None:
    frame = small_table()
    schema = infer_schema(frame)
    frame.loc[4, "funding_rounds"] = "three"
    frame.attrs["rows"] = RowLocations("line", first=2)
    with pytest.raises(DataError, match=r"t\.csv: column 'funding_rounds' is numeric but has text \('three' at line 6\); fix or blank those cells"):
        prepare(frame, schema, source="t.csv", labelled=True)


def test_bad_dates_are_located() -> None:
    frame = small_table()
    schema = infer_schema(frame)
    frame.loc[1, "last_funding_date"] = "last spring"
    with pytest.raises(DataError, match=r"column 'last_funding_date' holds dates \(ISO 8601\) but has \('last spring' at row 2\); write them like the others"):
        prepare(frame, schema, labelled=True)


def test_duplicate_and_empty_ids_are_refused() -> None:
    frame = small_table(company_id=["a", "b", "a", "c", "d", None, "e", "f"])[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"])
    with pytest.raises(DataError, match=r"id column 'company_id' repeats 1 value\(s\) in 2 rows, e\.g\. 'a' \(row 1, row 3\); ids must be unique") as info:
        prepare(frame, schema, labelled=True)
    assert "id column 'company_id' is empty (row 6)" in str(info.value)


def test_every_problem_is_reported_in_one_error() -> None:
    frame = small_table()
    schema = infer_schema(frame)
    frame.loc[0, "funding_rounds"] = "many"
    frame.loc[1, "last_funding_date"] = "soon"
    frame.loc[2, "is_hot_lead"] = "maybe"
    frame.loc[3, "company_id"] = "C0"
    with pytest.raises(DataError) as info:
        prepare(frame, schema, source="t.csv", labelled=True)
    message = str(info.value)
    assert message.startswith("t.csv: ")
    assert "\n" not in message
    for fragment in ("'funding_rounds'", "'many'", "'last_funding_date'", "'soon'", "['maybe']", "repeats"):
        assert fragment in message


def test_missing_columns_are_listed() -> None:
    frame = small_table()
    schema = infer_schema(frame)
    with pytest.raises(DataError, match=r"new\.csv: missing column\(s\) \['industry', 'last_funding_date'\] that the model needs"):
        prepare(frame.drop(columns=["industry", "last_funding_date", "is_hot_lead"]), schema, source="new.csv", labelled=False)
    renamed = frame.drop(columns="is_hot_lead").rename(columns={"industry": "Industry", "last_funding_date": "Last Funding Date"})
    with pytest.raises(DataError, match=r"the table has 'Industry' for 'industry', 'Last Funding Date' for 'last_funding_date': rename them as in training\.$"):
        prepare(renamed, schema, source="new.csv", labelled=False)  # a header re-typed or exported in another case


def test_unlabelled_data_needs_no_target_and_extra_columns_only_warn() -> None:
    frame = small_table()
    schema = infer_schema(frame)
    new = frame.drop(columns="is_hot_lead").assign(notes="x")
    with pytest.warns(DataWarning, match=r"new\.csv: ignoring column\(s\) the model does not use: notes"):
        prepared = prepare(new, schema, source="new.csv", labelled=False)
    assert prepared.y is None
    assert list(prepared.features.columns) == schema.features


def test_messages_name_a_blank_header_by_its_position() -> None:
    frame = small_table().rename(columns={"industry": "Unnamed: 1", "funding_rounds": "Unnamed: 2"})  # as read_table names blank header cells
    schema = infer_schema(frame)
    new = frame.drop(columns="is_hot_lead").assign(**{"Unnamed: 5": "x"})
    with pytest.warns(DataWarning, match=r"^new\.csv: ignoring column\(s\) the model does not use: column 6 \(blank header\)$"):
        prepare(new, schema, source="new.csv", labelled=False)
    new.loc[4, "Unnamed: 2"] = "three"
    with pytest.raises(DataError, match=r"new\.csv: column 3 \(blank header\) is numeric but has text \('three' at row 5\)"), pytest.warns(DataWarning):
        prepare(new, schema, source="new.csv", labelled=False)
    with pytest.raises(
        DataError,
        match=r"missing column\(s\) \[column 3 \(blank header\), 'last_funding_date'\] that the model needs; .*"
        r"a blank header is matched by the column's position alone: give that column a header in both tables and train again\.$",
    ):
        prepare(frame.drop(columns=["Unnamed: 2", "last_funding_date"]), schema, source="new.csv", labelled=True)


def test_a_blank_header_over_no_values_is_not_named_when_scoring() -> None:
    frame = small_table()
    schema = infer_schema(frame)
    trailing_comma = frame.drop(columns="is_hot_lead").assign(**{"Unnamed: 4": pd.Series([None, " ", *[None] * 6], dtype="str")})
    prepare(trailing_comma, schema, source="new.csv", labelled=False)  # a warning would fail the test


def test_missing_id_column_falls_back_to_row_numbers() -> None:
    frame = small_table()
    schema = infer_schema(frame)
    with pytest.warns(DataWarning, match="no id column 'company_id'; using 0-based row numbers as Id"):
        prepared = prepare(frame.drop(columns=["company_id", "is_hot_lead"]), schema, labelled=False)
    assert prepared.ids.tolist() == list(range(8))


def test_typed_columns_from_parquet_are_accepted() -> None:
    frame = pd.DataFrame(
        {
            "company_id": [f"C{i}" for i in range(6)],
            "x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
            "day": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-04", "2024-01-05", "2024-01-06"]).tz_localize("UTC"),
            "is_hot_lead": [0, 1, 0, 1, 0, 1],
        }
    )
    schema = infer_schema(frame)
    assert (schema.numeric, schema.date) == (["x"], ["day"])
    prepared = prepare(frame, schema, labelled=True)
    assert prepared.features["day"].dt.tz is None
    assert prepared.features["day"].iloc[0] == pd.Timestamp("2024-01-01")


# ----------------------------------------------------------------------- inference from a sample


@pytest.fixture
def sampled(monkeypatch):
    """Inference reads a sample of 200 rows of longer tables (INFER_ROWS is 50,000 in use)."""
    monkeypatch.setattr(schema_module, "INFER_ROWS", 200)


def long_table(rows: int = 2_000, **overrides) -> pd.DataFrame:
    """``rows`` rows in the challenge layout, as text, with column overrides."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "company_id": [f"C{i}" for i in range(rows)],
            "industry": rng.choice(["Tech", "SaaS", "Retail"], rows),
            "funding_rounds": [str(v) for v in rng.integers(1, 9, rows)],
            "is_hot_lead": [str(v) for v in rng.integers(0, 2, rows)],
        }
    )
    for name, values in overrides.items():
        frame[name] = values
    return frame


def sample_misses(rows: int, n: int) -> np.ndarray:
    """``n`` row positions the sample of :func:`schema_module._sample_rows` does not hold."""
    return np.setdiff1d(np.arange(rows), schema_module._sample_rows(rows))[:n]


def test_a_long_table_is_inferred_from_a_sample_and_typed_on_every_row(sampled) -> None:
    frame = long_table()
    schema = infer_schema(frame)
    assert (schema.numeric, schema.categorical, schema.id) == (["funding_rounds"], ["industry"], "company_id")
    prepared = prepare(frame, schema, labelled=True, training=True)
    assert len(prepared.features) == 2_000 and prepared.features["funding_rounds"].notna().all()


def test_a_column_unique_only_in_the_sample_is_not_taken_for_an_id(sampled) -> None:
    names = [f"Company {i}" for i in range(2_000)]
    for position in sample_misses(2_000, 3):
        names[position] = "Company 0"  # repeats the sample's eyes never saw
    frame = long_table(account=names).drop(columns="company_id")
    with pytest.warns(DataWarning, match="'account' looks like an id but repeats 2 value"):  # as inferring from every row says
        schema = infer_schema(frame)
    assert schema.id is None and schema.ignored["account"].startswith("free text")


def test_a_column_constant_only_in_the_sample_is_kept(sampled) -> None:
    flag = np.array(["no"] * 2_000, dtype=object)
    flag[sample_misses(2_000, 40)] = "yes"
    schema = infer_schema(long_table(remote=flag))
    assert "remote" in schema.categorical


def test_a_number_format_the_sample_missed_is_inferred_from_every_row(sampled) -> None:
    funding = np.array([str(v) for v in range(100, 2_100)], dtype=object)
    big = sample_misses(2_000, 5)
    funding[big] = ["1,234,567"] * 5  # the only values with a thousands separator, all outside the sample
    frame = long_table(total_funding=funding)
    schema = infer_schema(frame)
    prepared = prepare(frame, schema, labelled=True, training=True)
    assert prepared.features["total_funding"].iloc[big].tolist() == [1_234_567.0] * 5
    assert schema.formats["total_funding"]["thousands"] == ","


def test_a_date_layout_the_sample_missed_is_inferred_from_every_row(sampled) -> None:
    dates = np.array([f"{d % 12 + 1:02d}/03/2024" for d in range(2_000)], dtype=object)  # day or month first?
    settling = sample_misses(2_000, 5)
    dates[settling] = "25/03/2024"  # only rows outside the sample say: day first
    frame = long_table(founded=dates)
    with pytest.warns(DataWarning, match="no date settles day-first"):
        schema = infer_schema(frame)
    prepared = prepare(frame, schema, labelled=True, training=True)
    assert prepared.features["founded"].iloc[settling].dt.day.tolist() == [25] * 5
    assert schema.formats["founded"]["order"] == "dmy"


def test_categories_and_ids_are_typed_into_arrow_not_python_strings() -> None:
    """Typed text stays in Arrow buffers (pandas' str dtype): Python strings cost ~0.1 s and ~60
    bytes a row per column on a million-row table; values, blanks and the id check are unchanged."""
    frame = small_table(industry=[" Tech", "SaaS", "", "Retail", None, "Tech ", "Retail", "SaaS"])
    prepared = prepare(frame, infer_schema(frame), labelled=True, training=True)
    industry = prepared.features["industry"]
    assert industry.dtype == "str" and prepared.ids.dtype == "str"
    assert industry.isna().tolist() == [False, False, True, False, True, False, False, False]
    assert industry.dropna().tolist() == ["Tech", "SaaS", "Retail", "Tech", "Retail", "SaaS"]
    assert prepared.ids.tolist() == [f"C{i}" for i in range(8)]


@pytest.mark.parametrize("large", [False, True])
def test_ids_are_counted_distinct_in_parts_as_in_one_hash(monkeypatch, large: bool) -> None:
    """A big id column is hashed in parts split by its values' last bytes (one hash table for 5M
    ids peaked at ~850 MiB): every value, however it ends, is counted once, nulls never."""
    import pyarrow as pa
    import pyarrow.compute as pc

    monkeypatch.setattr(schema_module, "ID_PART_ROWS", 7)
    rng = np.random.default_rng(0)
    values = [f"id-{i}" for i in rng.integers(0, 40, 60)] + ["", "a", "é", "x ", None, "", None, "a"] + [f"{i:x}" * (i % 4) for i in range(30)]
    text = pa.array(values, type=pa.large_string() if large else pa.string())
    for array in (text, text.slice(5, 70), text.slice(0, 0), pa.array([None, None], type=text.type), pa.array(["", ""], type=text.type)):
        expected = len(pc.unique(array)) - (array.null_count > 0)
        assert schema_module._distinct_count(array) == expected


@pytest.mark.parametrize("large", [False, True])
def test_ids_are_all_distinct_exactly_when_arrow_counts_them_so(monkeypatch, large: bool) -> None:
    """The fingerprint check (words read in place, bytes past each value masked off) agrees with
    Arrow's hash table on codes of one width and of many, short and long values, NUL bytes,
    nulls and slices; and where two fingerprints meet (forced here), the exact count decides."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(0)
    pools = [
        ["", "a", "é", "x ", "a\x00", "abcdefgh", "abcdefghi", "abcdefgh\x00", "0123456789abcdef", "0123456789abcdeg", "z" * 64, "z" * 65],
        [f"C{i:07d}" for i in range(40)],
        [f"{i:03d}" for i in range(40)],
        [f"COMP_{i:09d}" for i in range(40)],
    ]
    checked = 0
    for trial in range(200):
        pool = pools[trial % len(pools)]
        values = [None if rng.random() < 0.05 * (trial % 3) else pool[rng.integers(len(pool))] for _ in range(int(rng.integers(0, 30)))]
        text = pa.array(values, type=pa.large_string() if large else pa.string())
        for array in (text, text.slice(int(rng.integers(0, 5)), int(rng.integers(0, 30)))):
            expected = len(pc.unique(array)) - (array.null_count > 0) == len(array) - array.null_count
            assert schema_module.all_distinct(array) == expected
            checked += expected
    assert checked > 50  # many of the draws are unique, so the fingerprints decided them
    for view in (pa.array(["a", "b", "c"], type=pa.string_view()), pa.array(["a", "b", "a"], type=pa.string_view())):  # other buffers: counted by Arrow
        assert schema_module.all_distinct(view) == (len(pc.unique(view)) == 3)
    monkeypatch.setattr(schema_module, "_fingerprints", lambda text: np.zeros(len(text) - text.null_count, dtype=np.uint64))
    assert schema_module.all_distinct(pa.array(["a", "b", "c"])) and not schema_module.all_distinct(pa.array(["a", "b", "a"]))


def test_whole_number_targets_are_labels_only_when_they_are_0_and_1() -> None:
    for values, fine in (([0, 1, 1, 0, 1, 0, 0, 1], True), ([0, 2, 2, 0, 2, 0, 0, 2], False), ([1, 1, 1, 1, 1, 1, 1, 1], False)):
        frame = small_table(is_hot_lead=np.array(values, dtype=np.int64))
        if fine:
            assert prepare(frame, infer_schema(frame), labelled=True, training=True).y.tolist() == values
        else:
            with pytest.raises(DataError, match="target 'is_hot_lead'"):
                prepare(frame, infer_schema(frame), labelled=True, training=True)


def test_a_repeated_id_is_found_when_the_ids_are_hashed_in_parts(monkeypatch) -> None:
    monkeypatch.setattr(schema_module, "ID_PART_ROWS", 3)
    frame = small_table(company_id=["C1", "C22", "C3", "C4", "C5", "C22", "C7", "C8"])
    with pytest.raises(DataError, match=r"id column 'company_id' repeats 1 value\(s\) in 2 rows, e.g. 'C22'"):
        prepare(frame, infer_schema(frame), labelled=True, training=True)


def test_prepare_consumes_the_columns_it_types_only_when_asked() -> None:
    """``consume`` (train_file's own table) deletes each feature and the target once typed, so the
    table as read and the typed one are never both whole; the typed result is the same."""
    frame = small_table(notes=["x"] * 8)
    schema = infer_schema(frame)
    expected = prepare(frame, schema, labelled=True, training=True)
    assert list(frame.columns) == ["company_id", "industry", "funding_rounds", "last_funding_date", "is_hot_lead", "notes"]
    given = frame.copy()
    prepared = prepare(given, schema, labelled=True, training=True, consume=True)
    assert list(given.columns) == ["company_id", "notes"] and len(given) == 8  # the id and the ignored column stay
    pd.testing.assert_frame_equal(prepared.features, expected.features)
    pd.testing.assert_series_equal(prepared.ids, expected.ids)
    np.testing.assert_array_equal(prepared.y, expected.y)


def test_a_table_indexed_otherwise_than_0_to_n_is_typed_by_position() -> None:
    """A Parquet file can save a pandas index (rows 1000..1007 of a bigger frame): text typed in
    Arrow is placed by position, not aligned by label, which read every category and id as missing."""
    frame = small_table().set_axis(pd.RangeIndex(1000, 1008, name="row"))
    prepared = prepare(frame, infer_schema(frame), labelled=True, training=True)
    assert prepared.features["industry"].tolist() == ["Tech", "SaaS", "Tech", "Retail", "SaaS", "Tech", "Retail", "SaaS"]
    assert prepared.ids.tolist() == [f"C{i}" for i in range(8)]


def test_a_nullable_boolean_target_with_gaps_names_the_empty_rows() -> None:
    frame = small_table(is_hot_lead=pd.array([False, True, None, True, False, False, True, False], dtype="boolean"))
    with pytest.raises(DataError, match=r"target 'is_hot_lead' is empty \(row 3\); label those rows or remove them"):
        prepare(frame, infer_schema(frame), labelled=True, training=True)


def test_a_digit_free_text_column_is_read_as_categories_and_markers_as_missing() -> None:
    """Text without a digit skips the number and date checks (it can be neither), yet a column of
    missing markers only is still empty, and in a category column they stay categories (as before
    the shortcut: a text column's missing cells are blanks and --na-values)."""
    frame = small_table(industry=["n/a", "Tech", "-", "Retail", "Tech", "N/A", "Retail", "Tech"], region=["n/a"] * 8)
    schema = infer_schema(frame)
    assert "industry" in schema.categorical and schema.missing["industry"] == 0.0
    assert schema.ignored["region"] == "empty"


@pytest.mark.parametrize(
    ("values", "role", "kind"),
    [
        (["\uff11\uff12", "\uff13\uff14", "\uff15", "\uff17\uff18", "\uff19", "\uff12", "\uff13", "\uff11"], "numeric", "number"),  # full-width digits
        (["\u0661\u0662", "\u0663\u0664", "\u0665", "\u0667", "\u0669", "\u0662", "\u0663", "\u0661"], "numeric", "number"),  # Arabic-Indic
        (["inf", "-inf", "\u221e", "", "inf", "-inf", "", "\u221e"], "numeric", "number"),
        ([f"\uff12\uff10\uff12\uff11-\uff10\uff11-\uff10{chr(0xFF11 + d)}" for d in range(8)], "date", "date"),  # full-width ISO dates
    ],
)
def test_numbers_and_dates_without_an_ascii_digit_are_still_read_as_such(values: list[str], role: str, kind: str) -> None:
    """The digit-free shortcut must not turn numbers Python reads into categories (found by a break test)."""
    schema = infer_schema(small_table(extra=values))
    assert "extra" in getattr(schema, role) and schema.formats["extra"]["kind"] == kind


def test_iso_dates_are_read_as_dates_without_being_tried_as_numbers(monkeypatch) -> None:
    """No number has a dash inside, so a column of 2024-01-05 (times and blanks allowed) skips the number inference."""
    import hotleads.schema as schema_module

    tried = []
    number_format = schema_module.infer_number_format

    def recording(text, **kwargs):
        tried.append(list(text))
        return number_format(text, **kwargs)

    frame = small_table(last_funding_date=["2024-01-05", " 2024-01-06 10:30", "", "n/a", "2024-1-7", "2024-01-08", "2024-01-09", "2024-01-10"])
    monkeypatch.setattr(schema_module, "infer_number_format", recording)
    schema = infer_schema(frame)
    assert schema.date == ["last_funding_date"] and tried == [["1", "2", "3", "1.5", "2", "4", "1", "2"]]  # funding_rounds only
    dates = prepare(frame, schema, labelled=True, training=True).features["last_funding_date"]
    assert dates.isna().tolist() == [False, False, True, True, False, False, False, False]


def test_whole_float_labels_from_a_sheet_read_as_their_integer_text() -> None:
    """A sheet stores 0/1/2 as 0.0/1.0/2.0: ``--positive 1`` names them, and the saved labels are the integers' text."""
    frame = small_table(is_hot_lead=[1.0, 2.0, 0.0, 1.0, 2.0, 0.0, np.nan, 2.0])
    schema = infer_schema(frame, positive=["1"])
    with pytest.warns(DataWarning, match="is blank in 1 row;"):  # the NaN
        prepared = prepare(frame, schema, labelled=True, training=True)
    assert prepared.y.tolist() == [1, 0, 0, 1, 0, 0, 0, 0]
    assert schema.labels == ["", "0", "1", "2"]
    mixed = small_table(is_hot_lead=[1.0, "2", 0.0, 1.0, 2.0, 0.0, " 0", 2.0])  # numbers and text in one sheet column
    assert prepare(mixed, schema, labelled=True).y.tolist() == [1, 0, 0, 1, 0, 0, 0, 0]  # a warning would fail the test


@pytest.mark.parametrize(
    ("positive", "labels", "values"),
    [(["1"], ["0", "1", "2"], [1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 0.0, 2.0]), (["1.0"], ["0.0", "1.0", "2.0"], ["1", "2", "0", "1", "2", "0", "0", "2"])],
    ids=["trained-on-csv-scoring-a-sheet", "saved-before-from-a-sheet-scoring-a-csv"],
)
def test_whole_number_labels_match_written_either_way(positive: list[str], labels: list[str], values: list) -> None:
    frame = small_table(is_hot_lead=values)[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=positive, labels=labels)
    assert prepare(frame, schema, labelled=True).y.tolist() == [1, 0, 0, 1, 0, 0, 0, 0]  # no warning: every value is known


def test_plain_0_1_labels_from_a_sheet_need_no_positive() -> None:
    frame = small_table(is_hot_lead=[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    assert prepare(frame, infer_schema(frame), labelled=True, training=True).y.tolist() == [1, 0, 0, 1, 1, 0, 0, 1]


def test_options_accept_a_blank_header_column_by_the_name_messages_give_it() -> None:
    """Messages call the readers' ``Unnamed: 1`` ``column 2 (blank header)``: options take that name too (and suggest it)."""
    frame = small_table().rename(columns={"industry": "Unnamed: 1"})
    assert infer_schema(frame, drop=["column 2 (blank header)"]).ignored["Unnamed: 1"] == "dropped by --drop"
    assert "Unnamed: 1" in infer_schema(frame, categorical=["Column 2 (blank header)"]).categorical
    with pytest.raises(
        DataError, match=r"--drop names column 'column 3 \(blank header\)', which the table does not have; did you mean 'column 2 \(blank header\)'\?"
    ):
        infer_schema(frame, drop=["column 3 (blank header)"])


@pytest.mark.parametrize(
    ("positive", "negative", "shown"),
    [
        (["1"], ["1.0"], "'1' (and '1.0', the same value)"),
        (["Won", "1.00"], ["0", " 1 "], "'1.00' (and '1', the same value)"),
        (["Won"], ["won"], "'Won'"),
        (["1"], ["1"], "'1'"),
    ],
    ids=["1-and-1.0", "1.00-and-spaced-1", "any-case", "written-alike"],
)
def test_positive_and_negative_may_not_share_a_label_as_labels_compare(positive: list[str], negative: list[str], shown: str) -> None:
    """1, 1.0 and 1.00 are one target value (:func:`schema._label_key`): in both lists, it is refused as 1 and 1 are."""
    frame = small_table()
    with pytest.raises(ParameterError, match=rf"^--positive and --negative both name {re.escape(shown)}; give each value to one of them\.$"):
        infer_schema(frame, positive=positive, negative=negative)


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ({"categorical": ["funding_rounds"], "decimal_comma": ["funding_rounds"]}, "--categorical and --decimal-comma both name 'funding_rounds'"),
        ({"dates": ["last_funding_date"], "decimal_point": ["last_funding_date"]}, "--date and --decimal-point both name 'last_funding_date'"),
        ({"drop": ["industry"], "categorical": ["industry"]}, "--drop and --categorical both name 'industry'"),
        ({"decimal_comma": ["funding_rounds"], "decimal_point": ["Funding_Rounds"]}, "--decimal-comma and --decimal-point both name 'funding_rounds'"),
    ],
    ids=["categorical-and-decimal-comma", "date-and-decimal-point", "drop-and-categorical", "decimal-comma-and-decimal-point"],
)
def test_a_column_two_role_options_name_is_refused(options: dict, shown: str) -> None:
    """``--categorical x --decimal-comma x`` read x as categories and ignored the mark without a word: one must go.

    The options name columns, so the fix speaks of columns; only ``--positive``/``--negative`` share values.
    """
    with pytest.raises(ParameterError, match=rf"^{re.escape(shown)}; give each column to one of them\.$"):
        infer_schema(small_table(), **options)


def test_two_role_options_name_a_blank_header_column_as_the_other_messages_do() -> None:
    """Not by the readers' ``Unnamed: 5``, a name that is nowhere in the user's file."""
    frame = small_table(**{"Unnamed: 5": list("abababab")})  # as read_table names a blank header cell
    shown = "--drop and --categorical both name column 6 (blank header); give each column to one of them."
    with pytest.raises(ParameterError, match=rf"^{re.escape(shown)}$"):
        infer_schema(frame, drop=["column 6 (blank header)"], categorical=["Unnamed: 5"])


def _amounts(tmp_path: Path, values: list[str]) -> pd.DataFrame:
    """A ``;``-separated export, as read, whose column ``amount`` holds ``values`` (line 2 on), beside ids and a target."""
    rows = "".join(f"A{i};{value};{i % 2}\n" for i, value in enumerate(values))
    (tmp_path / "t.csv").write_text("company_id;amount;is_hot_lead\n" + rows)
    return read_table(tmp_path / "t.csv")


def _decimal_commas(n: int = 40) -> list[str]:
    return [f"{100 + i},{i % 100:02d}" for i in range(n)]  # 100,00 101,01 ...: no number with a decimal point


@pytest.mark.parametrize(
    ("stray", "offered"),
    [("1,2,3", None), ("TBD, see notes", None), ("12,5 Mio", None), ("COMP_000003", None), ("€ -", "'€ -'"), ("unknown", "unknown")],
    ids=["commas", "words-and-a-comma", "number-and-unit", "code", "dash", "word"],
)
def test_na_values_is_offered_only_for_what_could_be_a_missing_marker(tmp_path: Path, stray: str, offered: str | None) -> None:
    """--na-values splits on commas and holds for every column: ``--na-values 1,2,3`` would make each 1, 2 and 3 missing.
    Only a short token without digits or commas is offered; anything else is a cell to fix or blank."""
    values = _decimal_commas()
    values[20] = stray
    frame = _amounts(tmp_path, values)
    with pytest.raises(DataError) as refused:
        infer_schema(frame, source="t.csv", decimal_comma=["amount"])
    said = str(refused.value)
    assert said.startswith(f"t.csv: column 'amount' is not a number with ',' as its decimal mark (--decimal-comma amount) ({stray!r} at line 22); ")
    if offered is None:
        assert said.endswith(f"; fix or blank cells such as {stray!r}") and "--na-values" not in said
    else:
        assert said.endswith(f"; fix or blank cells such as {stray!r}, or name them with --na-values {offered} if they mean 'unknown'")
        assert infer_schema(frame, decimal_comma=["amount"], na_values=[stray]).numeric == ["amount"]  # the fix works


def test_stray_values_under_a_decimal_option_are_named_each_with_its_fix(tmp_path: Path) -> None:
    """A number written with the other mark is to be written as the others are; of the words, only the marker-like one is
    offered to --na-values; the other option, which reads none of the column's numbers, is not suggested."""
    values = _decimal_commas()
    values[5], values[8], values[11] = "12.5", "unknown", "1,2,3"
    with pytest.raises(DataError) as refused:
        infer_schema(_amounts(tmp_path, values), source="t.csv", decimal_comma=["amount"])
    assert str(refused.value) == (
        "t.csv: column 'amount' is not a number with ',' as its decimal mark (--decimal-comma amount) "
        "('12.5' at line 7, 'unknown' at line 10, '1,2,3' at line 13); write '12.5' as the column's other numbers are, "
        "with ',' as the decimal mark; fix or blank cells such as '1,2,3', 'unknown', or name 'unknown' with --na-values unknown if it means 'unknown'"
    )


def test_the_other_decimal_option_is_offered_only_where_it_reads_the_column(tmp_path: Path) -> None:
    """199 amounts with a decimal comma and one 1,234,567: --decimal-comma names that one; --decimal-point asks for
    --decimal-comma (and that one written so). Neither points back at the other."""
    values = _decimal_commas(200)
    values[20] = "1,234,567"
    frame = _amounts(tmp_path, values)
    with pytest.raises(DataError) as comma:
        infer_schema(frame, source="t.csv", decimal_comma=["amount"])
    assert str(comma.value) == (
        "t.csv: column 'amount' is not a number with ',' as its decimal mark (--decimal-comma amount) ('1,234,567' at line 22); "
        "write '1,234,567' as the column's other numbers are, with ',' as the decimal mark"
    )
    with pytest.raises(DataError) as point:
        infer_schema(frame, source="t.csv", decimal_point=["amount"])
    assert str(point.value).endswith(
        "and 196 more); its numbers read with ',' as the decimal mark: give --decimal-comma amount instead, "
        "and write '1,234,567' at line 22 with ',' as the decimal mark too"
    )


@pytest.mark.parametrize("column", ["account_code", "industry", "last_funding_date"])
def test_a_decimal_option_on_a_column_of_no_numbers_says_to_drop_it(column: str) -> None:
    """Codes, categories, dates: no cells to fix, nor missing markers to name, but an option to drop (on the id column
    itself the option is refused as naming the id)."""
    frame = small_table(last_funding_date=["2024-01-0" + str(d) for d in range(1, 9)], account_code=[f"ACC-{i}" for i in range(8)])
    with pytest.raises(DataError) as refused:
        infer_schema(frame, source="t.csv", decimal_comma=[column])
    said = str(refused.value)
    assert said.endswith(f"); the column holds no numbers written so: drop --decimal-comma {column}") and "--na-values" not in said


@pytest.mark.parametrize("markers", [5, 6])
def test_numbers_under_a_missing_marker_in_most_cells_are_offered_na_values_not_dropping_the_option(markers: int) -> None:
    """Revenue 'Not disclosed' in most rows, '1332,89' in the rest: the numbers are written so, and dropping the option
    (the hint before) read the column as categories; naming the marker reads it as numbers."""
    revenue = ["1332,89", "12,5", "7,25"][: 8 - markers] + ["Not disclosed"] * markers
    frame = small_table(revenue=revenue)
    with pytest.raises(DataError) as refused:
        infer_schema(frame, source="t.csv", decimal_comma=["revenue"])
    said = str(refused.value)
    assert said.endswith("fix or blank cells such as 'Not disclosed', or name them with --na-values 'Not disclosed' if they mean 'unknown'")
    assert "drop" not in said
    schema = infer_schema(frame, source="t.csv", decimal_comma=["revenue"], na_values=["Not disclosed"])
    assert schema.role("revenue") == "numeric"


@pytest.mark.parametrize(
    ("text", "fix"),
    [("1,2,3", "fix or blank those cells"), ("three", "fix or blank those cells, or name them with --na-values three if they mean 'unknown'")],
    ids=["commas", "word"],
)
def test_text_in_a_numeric_column_offers_na_values_only_for_what_could_be_a_missing_marker(text: str, fix: str) -> None:
    frame = small_table()
    schema = infer_schema(frame)
    frame.loc[4, "funding_rounds"] = text
    frame.attrs["rows"] = RowLocations("line", first=2)
    with pytest.raises(DataError, match=rf"^t\.csv: column 'funding_rounds' is numeric but has text \({re.escape(repr(text))} at line 6\); {re.escape(fix)}$"):
        prepare(frame, schema, source="t.csv", labelled=True, training=True)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            {"categorical": ["is_hot_lead"]},
            "--categorical names 'is_hot_lead', the target, which is never a feature; leave it out of --categorical (or choose another with --target).",
        ),
        (
            {"id_column": "company_id", "decimal_point": ["company_id"]},
            "--decimal-point names 'company_id', the id column, which is never a feature; leave it out of --decimal-point (or choose another with --id).",
        ),
        (
            {"dates": ["company_id"]},
            "--date names 'company_id', the id column, which is never a feature; leave it out of --date (or choose another with --id).",
        ),
    ],
    ids=["categorical-target", "decimal-point-id", "date-default-id"],
)
def test_a_role_option_naming_the_target_or_the_id_is_refused(options: dict, said: str) -> None:
    """``--categorical is_hot_lead`` or ``--decimal-point company_id`` did nothing without a word, as --drop on them would."""
    with pytest.raises(ParameterError, match=f"^{re.escape(said)}$"):
        infer_schema(small_table(), **options)


def test_a_blank_header_target_is_named_as_other_messages_name_it() -> None:
    """The readers' ``Unnamed: 4`` is ``column 5 (blank header)`` in the target's messages too, never a name the file lacks."""
    frame = small_table(is_hot_lead=["Won", "Lost", "Won", "Lost", "Lost", "Lost", "Won", "Lost"]).rename(columns={"is_hot_lead": "Unnamed: 4"})
    schema = infer_schema(frame, target="column 5 (blank header)")
    with pytest.raises(DataError, match=r"target column 5 \(blank header\) has the values 'Lost' \(5\), 'Won' \(3\), not 0/1") as caught:
        prepare(frame, schema, labelled=True, training=True)
    assert "Unnamed" not in str(caught.value)
    with pytest.raises(ParameterError, match=r"^--drop names column 5 \(blank header\), the target, which is never a feature"):
        infer_schema(frame, target="column 5 (blank header)", drop=["Unnamed: 4"])


def test_the_unseen_target_values_warning_names_the_most_frequent_few() -> None:
    values = ["Hot", "Cold", "Stage7", "Stage7", *[f"Stage{i}" for i in range(300)]]
    frame = pd.DataFrame({"company_id": [f"C{i}" for i in range(len(values))], "funding_rounds": ["1"] * len(values), "is_hot_lead": values})
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Hot"], labels=["Cold", "Hot"])
    with pytest.warns(DataWarning) as caught:
        prepare(frame, schema, source="test.csv", labelled=True)
    assert [str(w.message) for w in caught] == [
        "test.csv: target 'is_hot_lead' has value(s) the training table did not have: 'Stage7' (3 rows), 'Stage0' (1 row), 'Stage1' (1 row), "
        "'Stage10' (1 row), 'Stage100' (1 row) and 295 more value(s) (295 rows); they are counted as not hot (0), as --positive Hot counts "
        "every other value. If that is wrong, train again with them in --positive (hot leads) or --negative (not hot; rows in neither list are then left out)."
    ]


def test_a_target_of_many_values_names_the_most_frequent_ten() -> None:
    values = ["Won", "Won", *[f"S{i:03d}" for i in range(40)]]
    frame = pd.DataFrame({"company_id": [f"C{i}" for i in range(len(values))], "funding_rounds": ["1"] * len(values), "is_hot_lead": values})
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Hot"])
    with pytest.raises(DataError, match=r"its values are 'Won' \(2\), 'S000' \(1\), .*'S008' \(1\) and 31 more value\(s\) \(31 rows\)$"):
        prepare(frame, schema, labelled=True, training=True)


@pytest.mark.parametrize("positive", [["Hot"], []], ids=["model-with-positive", "model-with-0-1-labels"])
def test_a_target_blank_in_every_row_is_named_as_blank_when_scoring_labels(positive: list[str]) -> None:
    frame = small_table(is_hot_lead=[" ", None, "", None, " ", "", None, ""])[["company_id", "funding_rounds", "is_hot_lead"]]
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=positive, labels=["Cold", "Hot"] if positive else [])
    with pytest.raises(DataError, match=r"test.csv: target 'is_hot_lead' is blank in every row; fill in the labels, or score it with hotleads predict"):
        prepare(frame, schema, source="test.csv", labelled=True)
