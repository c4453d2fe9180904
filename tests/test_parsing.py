"""Tests of formatted numbers, dates and missing markers (hotleads.parsing), and how the schema uses them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotleads.exceptions import DataError, DataWarning
from hotleads.io import read_table
from hotleads.parsing import (
    TYPED_SHARE,
    DateFormat,
    NumberFormat,
    has_leading_zero_codes,
    infer_date_format,
    infer_number_format,
    is_any_case,
    is_missing,
    parse_dates,
    parse_numbers,
    parse_numbers_marked,
    to_utc_naive,
)
from hotleads.schema import Schema, infer_schema, prepare


def column(*values: object) -> pd.Series:
    """A text column as read from a CSV (object dtype, None where a cell is empty)."""
    return pd.Series(values, dtype=object)


def numbers(values: list, fmt: NumberFormat | None = None) -> np.ndarray:
    """``values`` parsed under ``fmt``, or under the format inferred from them (which must exist)."""
    text = column(*values)
    fmt = fmt or infer_number_format(text)
    assert fmt is not None, f"{values} not read as numbers"
    return parse_numbers(text, fmt).to_numpy()


def dates(values: list, fmt: DateFormat | None = None, **kwargs) -> list[pd.Timestamp]:
    text = column(*values)
    fmt = fmt or infer_date_format(text, **kwargs)
    assert fmt is not None, f"{values} not read as dates"
    return parse_dates(text, fmt).tolist()


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ---------------------------------------------------------------------------------------- missing


@pytest.mark.parametrize(
    "value",
    [
        "NA",
        "na",
        "Na",
        "N/A",
        "n/a",
        "#N/A",
        "null",
        "NULL",
        "None",
        "none",
        "NaN",
        "nan",
        "NAN",
        "-",
        "--",
        "?",
        "",
        " ",
        "\t",
        "  N/A  ",
        None,
        np.nan,
        "#DIV/0!",
        "#VALUE!",
        "nil",
    ],
)
def test_missing_markers_in_any_case(value: object) -> None:
    assert is_missing(column(value, "7")).tolist() == [True, False]


@pytest.mark.parametrize("value", ["0", "-5", "-0", "NAB", "None yet", "N/A2", "n.a", "TBD", "?!", "---"])
def test_other_values_are_not_missing(value: str) -> None:
    assert not is_missing(column(value)).iloc[0]


def test_extra_missing_markers_match_in_any_case() -> None:
    assert is_missing(column("Unknown", "unknown ", "7"), frozenset({"unknown"})).tolist() == [True, True, False]


def test_words_in_any_case_match_exactly_what_arrow_lowers_to_them() -> None:
    """``is_any_case`` looks ASCII words up with every way of writing them instead of lowering
    the column; it must agree with Arrow's ``utf8_lower`` on every code point (Arrow lowers the
    Kelvin sign to k and the dotted capital I to i), alone and inside a word."""
    import pyarrow as pa
    import pyarrow.compute as pc

    code_points = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]
    text = pa.array(code_points + ["n" + c + "l" for c in code_points[:0x3000]] + ["NİL", "UN\u212aNOWN", None, "N/A", "n/a "])
    for words in (frozenset({"-", "?", "a", "i", "k", "nil", "unknown", "n/a"}), frozenset({"é", "x"}), frozenset({"a" * 20})):
        expected = pc.is_in(pc.utf8_lower(text), value_set=pa.array(sorted(words)), skip_nulls=True)
        assert is_any_case(text, words).to_pylist() == expected.to_pylist()
        assert is_any_case(pa.array(text.to_pylist(), type=pa.large_string()), words).to_pylist() == expected.to_pylist()


def test_missing_markers_are_missing_in_numeric_and_date_columns() -> None:
    markers = ["NA", "N/A", "n/a", "#N/A", "null", "None", "NaN", "-", "--", "?", "", "   ", None]
    assert np.isnan(numbers(["1", "2.5", *markers], NumberFormat())[2:]).all()
    assert pd.isna(dates(["2023-06-12", *markers], DateFormat())[1:]).all()
    fmt = infer_number_format(column("$1,200", "$5", *markers))
    assert fmt is not None and fmt.currency == ("$",)
    assert infer_date_format(column("6/13/2023", "6/14/2023", *markers)) == DateFormat(order="mdy", separator="/")


# ---------------------------------------------------------------------------------------- numbers

USD = NumberFormat(thousands=",", currency=("$",), accounting=True)
EUR = NumberFormat(decimal=",", thousands=".", currency=("€",))


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        # currency symbols and codes, before or after, with signs and accounting parentheses
        ("$1,437,416", USD, 1437416.0),
        ("-$1,200", USD, -1200.0),
        ("$-1,200", USD, -1200.0),
        ("($1,200)", USD, -1200.0),
        ("(1,200)", USD, -1200.0),
        ("1,200.50-", USD, -1200.5),  # SAP writes the minus last
        ("$(1,200.50)", USD, -1200.5),  # Excel's accounting format
        (" $ (1,200.00) ", USD, -1200.0),
        ("USD 1,200", NumberFormat(thousands=",", currency=("USD",)), 1200.0),
        ("1,200 USD", NumberFormat(thousands=",", currency=("USD",)), 1200.0),
        ("USD(1,200)", NumberFormat(thousands=",", currency=("USD",), accounting=True), -1200.0),
        ("£5", NumberFormat(currency=("£",)), 5.0),
        ("€1.200,50", EUR, 1200.5),
        ("1.200,50 €", EUR, 1200.5),
        ("€ 1.234,56", EUR, 1234.56),
        ("-1.234,56 €", EUR, -1234.56),
        ("EUR1.234,56", NumberFormat(decimal=",", thousands=".", currency=("EUR",)), 1234.56),
        ("1 234 567,89 €", NumberFormat(decimal=",", thousands=" ", currency=("€",)), 1234567.89),
        # thousands separators
        ("1,437,416", NumberFormat(thousands=","), 1437416.0),
        ("1,437,416.25", NumberFormat(thousands=","), 1437416.25),
        ("1.437.416,00", NumberFormat(decimal=",", thousands="."), 1437416.0),
        ("17,50,000", NumberFormat(thousands=","), 1750000.0),  # Indian lakh grouping
        ("1,00,00,000", NumberFormat(thousands=","), 10000000.0),  # one crore
        ("1 437 416", NumberFormat(thousands=" "), 1437416.0),
        ("1\u00a0437\u00a0416", NumberFormat(thousands=" "), 1437416.0),  # no-break space
        ("1\u202f437\u202f416", NumberFormat(thousands=" "), 1437416.0),  # narrow no-break space
        ("1\u2009437\u2009416", NumberFormat(thousands=" "), 1437416.0),  # thin space
        ("1'437'416.50", NumberFormat(thousands="'"), 1437416.5),  # Swiss
        ("1\u2019437\u2019416.50", NumberFormat(thousands="'"), 1437416.5),  # Swiss, as Windows writes it
        # decimal comma
        ("6,3", NumberFormat(decimal=","), 6.3),
        ("0,5", NumberFormat(decimal=","), 0.5),
        (",5", NumberFormat(decimal=","), 0.5),
        # percent: percentage points as written
        ("6.3%", NumberFormat(percent=True), 6.3),
        ("+5%", NumberFormat(percent=True), 5.0),
        ("-1.2 %", NumberFormat(percent=True), -1.2),
        ("6,3 %", NumberFormat(decimal=",", percent=True), 6.3),
        # magnitude suffixes
        ("1.2M", NumberFormat(suffixes=True), 1.2e6),
        ("350k", NumberFormat(suffixes=True), 350e3),
        ("350K", NumberFormat(suffixes=True), 350e3),
        ("2B", NumberFormat(suffixes=True), 2e9),
        ("1.5bn", NumberFormat(suffixes=True), 1.5e9),
        ("3 mn", NumberFormat(suffixes=True), 3e6),
        ("1T", NumberFormat(suffixes=True), 1e12),
        ("$1.2M", NumberFormat(currency=("$",), suffixes=True), 1.2e6),
        ("1,5M", NumberFormat(decimal=",", suffixes=True), 1.5e6),
        # exponents, infinities, signs, bare decimal marks
        ("1e3", NumberFormat(), 1000.0),
        ("2.5E-2", NumberFormat(), 0.025),
        ("-1E+06", NumberFormat(), -1e6),
        ("inf", NumberFormat(), np.inf),
        ("-inf", NumberFormat(), -np.inf),
        ("Infinity", NumberFormat(), np.inf),
        ("\u221e", NumberFormat(), np.inf),
        ("\u22125", NumberFormat(), -5.0),  # the minus sign, not a hyphen
        ("+5", NumberFormat(), 5.0),
        ("- 5", NumberFormat(), -5.0),
        (".5", NumberFormat(), 0.5),
        ("5.", NumberFormat(), 5.0),
        ("  7  ", NumberFormat(), 7.0),
    ],
)
def test_parse_numbers(value: str, fmt: NumberFormat, expected: float) -> None:
    # with a word beside it, so that the per-value parser runs even for plain formats
    assert numbers([value, "abc"], fmt).tolist() == pytest.approx([expected, np.nan], nan_ok=True)


ANYTHING = NumberFormat(thousands=",", currency=("$", "€", "USD"), percent=True, suffixes=True, accounting=True)


@pytest.mark.parametrize(
    "value",
    [
        "1,2,3",
        "1.2.3",
        "12,34,56",
        "1..5",
        "1.5.",
        "1e3k",
        "2.5e",
        "e5",
        "USD",
        "$",
        "%",
        "()",
        "(5",
        "5)",
        "((5))",
        "--5",
        "+-5",
        "$5€",
        "$$5",
        "-5-",
        "1_000",
        "0x10",
        "12:30",
        "2023-06-12",
        "6/12/2023",
        "5 apples",
        "abc",
        "k",
    ],
)
def test_values_that_are_not_numbers(value: str) -> None:
    assert np.isnan(numbers([value], ANYTHING)).all()
    assert infer_number_format(column(value, value)) is None


@pytest.mark.parametrize("value", ["1,2345", "1,23", "12,34,56", "1,2,3", "1,234,5", "1,234,56,789", "123,45,678", "1,,234", "1, 234"])
def test_a_thousands_comma_format_refuses_bad_groups(value: str) -> None:
    assert np.isnan(numbers([value], NumberFormat(thousands=",")))


@pytest.mark.parametrize("value", ["6.3", "1.2.3", "1.234.5", "1,234.5"])
def test_a_decimal_comma_format_refuses_dot_decimals(value: str) -> None:
    assert np.isnan(numbers([value], NumberFormat(decimal=",", thousands=".")))


@pytest.mark.parametrize("value", ["5.", "1e5", "+.5", "-.5e-3", "inf", " 7 ", "00012"])
def test_plain_numbers_read_the_same_with_or_without_other_text(value: str) -> None:
    alone = numbers([value, "1"], NumberFormat())[0]
    beside_a_word = numbers([value, "1", "abc"], NumberFormat())[0]
    assert alone == beside_a_word
    assert infer_number_format(column(value, "1")) == NumberFormat()


def test_parse_numbers_keeps_the_index_and_handles_empty_columns() -> None:
    text = pd.Series(["$5", None, "$7"], index=[10, 20, 30], dtype=object)
    assert parse_numbers(text, USD).index.tolist() == [10, 20, 30]
    assert parse_numbers(column(), USD).empty
    assert parse_numbers(column(None, "n/a"), USD).isna().all()


@pytest.mark.parametrize(
    ("values", "na_values", "expected", "missing"),
    [
        (["1.5", None, "-2e3", "inf"], set(), [1.5, np.nan, -2000.0, np.inf], [False, True, False, False]),  # Arrow's cast alone
        (["1.5", "nan", "7"], set(), [1.5, np.nan, 7.0], [False, True, False]),  # 'nan' is a missing marker, not a number
        (["1.5", "NaN", "7"], set(), [1.5, np.nan, 7.0], [False, True, False]),
        (["1.5", " 7 ", "n/a"], set(), [1.5, 7.0, np.nan], [False, False, True]),
        (["1.5", "-999", "7"], {"-999"}, [1.5, np.nan, 7.0], [False, True, False]),  # a number the user calls missing
        (["1.5", "-999", "7"], {" -999 "}, [1.5, np.nan, 7.0], [False, True, False]),
        (["1.5", "-nan", "7"], set(), [1.5, np.nan, 7.0], [False, False, False]),  # text, not a marker: found as a bad value
    ],
)
def test_plain_numbers_take_the_fast_cast_only_where_it_reads_as_the_careful_path(values, na_values, expected, missing) -> None:
    parsed, marked = parse_numbers_marked(column(*values), NumberFormat(), na_values=frozenset(na_values))
    np.testing.assert_array_equal(parsed.to_numpy(), np.array(expected))
    assert marked.tolist() == missing


def test_na_values_are_missing_not_text() -> None:
    text = column("$5", "unknown")
    assert np.isnan(parse_numbers(text, USD, na_values=frozenset({"unknown"})).iloc[1])
    assert is_missing(text, frozenset({"unknown"})).tolist() == [False, True]


@pytest.mark.parametrize(
    ("values", "fmt", "expected"),
    [
        (["$1,200", "$300"], NumberFormat(thousands=",", currency=("$",)), [1200, 300]),
        (["€1.200,50", "€3"], NumberFormat(decimal=",", thousands=".", currency=("€",)), [1200.5, 3]),
        (["1.200,50 €", "7 €"], NumberFormat(decimal=",", thousands=".", currency=("€",)), [1200.5, 7]),
        (["USD 1,200", "USD 5"], NumberFormat(thousands=",", currency=("USD",)), [1200, 5]),
        (["1,437,416", "5"], NumberFormat(thousands=","), [1437416, 5]),
        (["1.437.416,00", "5"], NumberFormat(decimal=",", thousands="."), [1437416, 5]),
        (["17,50,000", "5"], NumberFormat(thousands=","), [1750000, 5]),
        (["1,00,000", "10,00,000", "1,000,000"], NumberFormat(thousands=","), [1e5, 1e6, 1e6]),
        (["1 437 416", "5"], NumberFormat(thousands=" "), [1437416, 5]),
        (["1\u00a0437\u00a0416", "5"], NumberFormat(thousands=" "), [1437416, 5]),
        (["1 234,5", "2"], NumberFormat(decimal=",", thousands=" "), [1234.5, 2]),
        (["1 234 567,89 €", "5 €"], NumberFormat(decimal=",", thousands=" ", currency=("€",)), [1234567.89, 5]),
        (["1'437'416.50", "5"], NumberFormat(thousands="'"), [1437416.5, 5]),
        (["1\u2019437\u2019416.50", "5"], NumberFormat(thousands="'"), [1437416.5, 5]),
        (["6,3", "7"], NumberFormat(decimal=","), [6.3, 7]),
        (["0,5", "1"], NumberFormat(decimal=","), [0.5, 1]),
        (["1,2345", "5"], NumberFormat(decimal=","), [1.2345, 5]),  # not a thousands group: a decimal comma
        (["6.3%", "-1.2%", "n/a"], NumberFormat(percent=True), [6.3, -1.2, np.nan]),
        (["6,3 %", "7 %"], NumberFormat(decimal=",", percent=True), [6.3, 7]),
        (["(1,200)", "5"], NumberFormat(thousands=",", accounting=True), [-1200, 5]),
        (["$(1,200)", "$5"], NumberFormat(thousands=",", currency=("$",), accounting=True), [-1200, 5]),
        (["-$1,200", "$-5"], NumberFormat(thousands=",", currency=("$",)), [-1200, -5]),
        (["1.2M", "350k", "2B", "1.5bn"], NumberFormat(suffixes=True), [1.2e6, 350e3, 2e9, 1.5e9]),
        (["1e3", "2E-2"], NumberFormat(), [1000, 0.02]),
        (["inf", "-inf", "5"], NumberFormat(), [np.inf, -np.inf, 5]),
        ([".5", "5.", "1"], NumberFormat(), [0.5, 5, 1]),
        (["\u22125", "+3"], NumberFormat(), [-5, 3]),
        (["2019", "2020", "2021"], NumberFormat(), [2019, 2020, 2021]),  # years are numbers, not dates
        (["20230612", "20230613"], NumberFormat(), [20230612, 20230613]),
    ],
)
def test_infer_number_format(values: list[str], fmt: NumberFormat, expected: list[float]) -> None:
    assert infer_number_format(column(*values)) == fmt
    assert numbers(values).tolist() == pytest.approx(expected, nan_ok=True)


def test_mixed_currencies_are_all_recorded() -> None:
    assert infer_number_format(column("$1,200", "€300", "£5")).currency == ("$", "£", "€")


@pytest.mark.parametrize(
    ("values", "decimal", "thousands"),
    [
        (["1,234", "2,345", "0,5"], ",", ""),  # 0,5: a decimal comma
        (["1,234", "1,5"], ",", ""),
        (["1,234", "1234"], ",", ""),  # 1234 written ungrouped: the comma is no thousands separator
        (["1,234", "1,234,567"], ".", ","),
        (["1,234", "2,345.5"], ".", ","),
        (["1,234", "12"], ".", ","),  # only values of 1,000 and more carry the comma
        (["1.234", "1.234.567"], ",", "."),
        (["1.234", "2,5"], ",", "."),
        (["0,123", "5"], ",", ""),  # a leading 0 never starts a thousands group
        (["10,000", "1,5"], ",", ""),
    ],
)
def test_the_decimal_mark_is_decided_by_the_other_values(values: list[str], decimal: str, thousands: str) -> None:
    fmt = infer_number_format(column(*values))
    assert (fmt.decimal, fmt.thousands, fmt.ambiguous) == (decimal, thousands, False)


def test_a_column_that_never_settles_the_decimal_mark_is_flagged() -> None:
    text = column("1,234", "2,345", "12,500", "n/a")
    fmt = infer_number_format(text)
    assert (fmt.decimal, fmt.thousands, fmt.ambiguous) == (".", ",", True)
    assert parse_numbers(text, fmt).tolist() == pytest.approx([1234, 2345, 12500, np.nan], nan_ok=True)
    european = infer_number_format(text, prefer_decimal_comma=True)
    assert (european.decimal, european.ambiguous) == (",", True)
    assert parse_numbers(text, european).tolist() == pytest.approx([1.234, 2.345, 12.5, np.nan], nan_ok=True)


@pytest.mark.parametrize(("decimal", "expected"), [(",", [1.234, 2.345]), (".", [1234, 2345])])
def test_a_forced_decimal_mark_settles_the_column(decimal: str, expected: list[float]) -> None:
    text = column("1,234", "2,345")
    fmt = infer_number_format(text, decimal=decimal)
    assert not fmt.ambiguous
    assert parse_numbers(text, fmt).tolist() == pytest.approx(expected)


def test_a_forced_decimal_comma_keeps_dot_thousands() -> None:
    fmt = infer_number_format(column("1.234", "2.345.678"), decimal=",")
    assert (fmt.decimal, fmt.thousands) == (",", ".")


def test_a_semicolon_file_reads_lone_dot_groups_as_thousands() -> None:
    fmt = infer_number_format(column("1.234", "5"), prefer_decimal_comma=True)
    assert (fmt.decimal, fmt.thousands, fmt.ambiguous) == (",", ".", False)


@pytest.mark.parametrize(("words", "typed"), [(1, True), (2, False)])
def test_a_column_is_numeric_only_when_95_percent_of_its_values_parse(words: int, typed: bool) -> None:
    values = [f"${i},{i:03d}" for i in range(1, 21 - words)] + ["call us"] * words
    assert TYPED_SHARE == 0.95
    assert (infer_number_format(column(*values)) is not None) is typed
    plain = [str(i * 7) for i in range(1, 21 - words)] + ["unknown"] * words
    assert (infer_number_format(column(*plain)) is not None) is typed


def test_a_mix_of_conventions_is_no_number_format() -> None:
    assert infer_number_format(column("12", "1,000,000.5", "1.000.000,5")) is None


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        (NumberFormat(), "number"),
        (NumberFormat(thousands=",", currency=("$",)), "currency '$', thousands ','"),
        (NumberFormat(decimal=",", thousands=" "), "thousands 'space', decimal ','"),
        (NumberFormat(percent=True, suffixes=True, accounting=True), "percent (6.3% -> 6.3), suffixes k/M/B, (negatives) in parentheses"),
        (NumberFormat(currency=("$", "€")), "currency '$'/'€'"),
    ],
)
def test_number_format_describe(fmt: NumberFormat, words: str) -> None:
    assert fmt.describe() == words


def test_number_format_round_trips_through_json() -> None:
    fmt = NumberFormat(decimal=",", thousands=".", currency=("€", "EUR"), percent=True, ambiguous=True)
    assert NumberFormat.from_dict(json.loads(json.dumps(fmt.to_dict()))) == fmt
    assert NumberFormat().plain and not fmt.plain


@pytest.mark.parametrize(
    ("values", "codes"),
    [
        (["000123", "000124", "100200"], True),
        (["02134", "10001"], True),
        (["00", "01"], True),
        (["0", "1", "2"], False),  # a lone 0 is a number
        (["0.5", "12"], False),
        (["123", "456"], False),
        (["0123", "abc"], False),  # not all digit codes
        (["0123", None, "n/a", "0456"], True),  # missing markers do not count
        ([], False),
    ],
)
def test_has_leading_zero_codes(values: list, codes: bool) -> None:
    assert has_leading_zero_codes(column(*values)) is codes


# ------------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("values", "fmt", "expected"),
    [
        (["6/12/2023", "6/30/2023"], DateFormat("mdy", "/"), ["2023-06-12", "2023-06-30"]),
        (["12.06.2023", "30.06.2023"], DateFormat("dmy", "."), ["2023-06-12", "2023-06-30"]),
        (["12-06-2023", "30-06-2023"], DateFormat("dmy", "-"), ["2023-06-12", "2023-06-30"]),
        (["2023/06/12", "2023/06/30"], DateFormat("ymd", "/"), ["2023-06-12", "2023-06-30"]),
        (["2023-06-12", "2023-6-3"], DateFormat(), ["2023-06-12", "2023-06-03"]),
        (["6/12/23", "6/30/23"], DateFormat("mdy", "/"), ["2023-06-12", "2023-06-30"]),
        (["12.06.23", "30.06.99"], DateFormat("dmy", "."), ["2023-06-12", "1999-06-30"]),
        (["6/12/2023 13:00", "6/30/2023 1:00 PM"], DateFormat("mdy", "/"), ["2023-06-12 13:00", "2023-06-30 13:00"]),
        (["30.06.2023 08:15:30", "1.7.2023 23:59"], DateFormat("dmy", "."), ["2023-06-30 08:15:30", "2023-07-01 23:59"]),
        (["2023-06-12T13:00:00", "2023-06-12 13:00:00.250"], DateFormat(), ["2023-06-12 13:00", "2023-06-12 13:00:00.25"]),
    ],
)
def test_infer_date_format(values: list[str], fmt: DateFormat, expected: list[str]) -> None:
    assert infer_date_format(column(*values)) == fmt
    assert dates(values) == [ts(e) for e in expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6/12/2023 1:00 PM", "2023-06-12 13:00"),
        ("6/12/2023 1:00PM", "2023-06-12 13:00"),
        ("6/12/2023 12:00 AM", "2023-06-12 00:00"),
        ("6/12/2023 12:30 PM", "2023-06-12 12:30"),
        ("6/12/2023 11:59:59 pm", "2023-06-12 23:59:59"),
        ("6/12/2023 1:00 p.m.", "2023-06-12 13:00"),
        ("6/12/2023 9:05 a.m.", "2023-06-12 09:05"),
        ("6/12/2023 13:00", "2023-06-12 13:00"),
        ("6/12/2023 00:00", "2023-06-12 00:00"),
        ("06/12/2023 23:59:59", "2023-06-12 23:59:59"),
        ("1/1/00", "2000-01-01"),
        ("1/1/69", "2069-01-01"),
        ("1/1/70", "1970-01-01"),
        ("1/1/99", "1999-01-01"),
    ],
)
def test_times_and_two_digit_years(value: str, expected: str) -> None:
    assert dates([value], DateFormat("mdy", "/")) == [ts(expected)]


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("2023-02-30", DateFormat()),
        ("2023-02-29", DateFormat()),  # not a leap year
        ("2023-13-01", DateFormat()),
        ("2023-00-10", DateFormat()),
        ("2023-06-00", DateFormat()),
        ("2023-06-12T25:00", DateFormat()),
        ("2023-06-12 24:00", DateFormat()),
        ("2023-06-12T13:60", DateFormat()),
        ("2023-06-12T13:99", DateFormat()),
        ("2023-06-12T13:59:60", DateFormat()),
        ("9999-12-31", DateFormat()),  # CRMs' "never": no datetime64[ns] holds it
        ("1500-01-01", DateFormat()),
        ("0001-01-01", DateFormat()),
        ("1/1/0001", DateFormat("mdy", "/")),
        ("1/1/023", DateFormat("mdy", "/")),  # a year of three digits
        ("1.2.3", DateFormat("dmy", ".")),  # a version number, not 1 Feb 2003
        ("2023-06/12", DateFormat()),
        ("13/13/2023", DateFormat("mdy", "/")),
        ("0/12/2023", DateFormat("mdy", "/")),
        ("6/31/2023", DateFormat("mdy", "/")),
        ("June 12, 2023", DateFormat("mdy", "/")),
        ("2023-06-12 13:00 EST", DateFormat()),
        ("20230612", DateFormat()),
        ("2023", DateFormat()),
        ("yesterday", DateFormat()),
    ],
)
def test_impossible_dates_are_not_dates(value: str, fmt: DateFormat) -> None:
    assert dates([value, "2023-06-12" if fmt.order == "ymd" else "1/2/2023"], fmt)[0] is pd.NaT


def test_out_of_range_dates_do_not_stop_a_column() -> None:
    values = [f"2023-06-{d:02d}" for d in range(1, 21)] + ["9999-12-31"]
    fmt = infer_date_format(column(*values))
    assert fmt == DateFormat()
    parsed = parse_dates(column(*values), fmt)
    assert parsed.iloc[0] == ts("2023-06-01") and parsed.iloc[-1] is pd.NaT


@pytest.mark.parametrize(
    ("values", "kwargs", "order", "ambiguous"),
    [
        (["1/2/2023", "3/4/2023"], {}, "mdy", True),  # '/' leans month-first
        (["1.2.2023", "3.4.2023"], {}, "dmy", True),  # '.' and '-' lean day-first
        (["01-02-2023", "03-04-2023"], {}, "dmy", True),
        (["1/2/2023", "3/4/2023"], {"dayfirst": True}, "dmy", False),
        (["1.2.2023", "3.4.2023"], {"dayfirst": False}, "mdy", False),
        (["1/2/2023", "3/13/2023"], {"dayfirst": True}, "mdy", False),  # the values settle it, not dayfirst
        (["1/2/2023", "13/4/2023"], {"dayfirst": False}, "dmy", False),
    ],
)
def test_day_first_or_month_first(values: list[str], kwargs: dict, order: str, ambiguous: bool) -> None:
    fmt = infer_date_format(column(*values), **kwargs)
    assert (fmt.order, fmt.ambiguous) == (order, ambiguous)


def test_dayfirst_changes_how_ambiguous_dates_read() -> None:
    assert dates(["1/2/2023", "3/4/2023"], dayfirst=True) == [ts("2023-02-01"), ts("2023-04-03")]
    assert dates(["1/2/2023", "3/4/2023"], dayfirst=False) == [ts("2023-01-02"), ts("2023-03-04")]


def test_one_typo_does_not_unseat_a_date_column() -> None:
    values = [f"6/{d}/2023" for d in range(1, 31)] * 3 + ["13/13/2023"]
    fmt = infer_date_format(column(*values))
    assert (fmt.order, fmt.separator) == ("mdy", "/")
    assert parse_dates(column(*values), fmt).isna().sum() == 1


def test_most_values_decide_day_first_against_month_first() -> None:
    month_first = ["6/30/2023"] * 99 + ["25/6/2023"]  # one date typed the other way
    assert infer_date_format(column(*month_first)).order == "mdy"
    assert parse_dates(column(*month_first), infer_date_format(column(*month_first))).isna().sum() == 1
    assert infer_date_format(column(*(["6/30/2023"] * 50 + ["25/6/2023"] * 50))) is None
    assert infer_date_format(column(*(["6/30/2023"] * 60 + ["25/6/2023"] * 40))) is None  # 40 % would not parse
    assert infer_date_format(column(*(["6/30/2023"] * 60 + ["25/6/2023"] * 40)), force=True).order == "mdy"


def test_force_keeps_the_layout_most_values_share() -> None:
    values = ["2023-06-12", "2023-06-13", "soon", "later"]
    assert infer_date_format(column(*values)) is None
    assert infer_date_format(column(*values), force=True) == DateFormat()
    assert infer_date_format(column("soon", "later", "2023-06-12"), force=True) is None


def test_dates_mixing_separators_read_as_written() -> None:
    assert dates(["2023-06-12", "2023/06/13", "2023.06.14"]) == [ts("2023-06-12"), ts("2023-06-13"), ts("2023-06-14")]
    assert dates(["6/12/2023", "6-13-2023"]) == [ts("2023-06-12"), ts("2023-06-13")]


@pytest.mark.parametrize(
    "values",
    [["2019", "2020", "2021"], ["20230612", "20230613"], ["1.2.3", "1.2.4", "2.1.0"], ["Tech", "Retail"], ["12:30", "13:45"]],
)
def test_values_that_are_not_date_columns(values: list[str]) -> None:
    assert infer_date_format(column(*values)) is None


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2023-06-12T13:00:00.000+0000", "2023-06-12 13:00"),
        ("2023-06-12T13:00:00Z", "2023-06-12 13:00"),
        ("2023-06-12T13:00:00 UTC", "2023-06-12 13:00"),
        ("2023-06-12T09:00:00-04:00", "2023-06-12 13:00"),
        ("2023-01-12T08:00:00-05:00", "2023-01-12 13:00"),
        ("2023-06-12T18:30:00+05:30", "2023-06-12 13:00"),
        ("2023-06-12T15:00:00+02", "2023-06-12 13:00"),
        ("2023-06-12 14:00+0100", "2023-06-12 13:00"),
        ("2023-06-12T00:30:00+01:00", "2023-06-11 23:30"),  # the UTC day is the day before
        ("2023-06-12T13:00:00.123456789Z", "2023-06-12 13:00:00.123456789"),
        ("2023-06-12T13:00:00,5Z", "2023-06-12 13:00:00.5"),
    ],
)
def test_offsets_are_converted_to_utc(value: str, utc: str) -> None:
    assert dates([value], DateFormat(zoned=True)) == [ts(utc)]


def test_a_zoned_column_and_the_same_instants_in_utc_parse_equal() -> None:
    zoned = column("2023-03-12T01:30:00-05:00", "2023-03-12T09:00:00-04:00", "2023-11-05T01:30:00-04:00", "2023-11-05T01:30:00-05:00")
    utc = column("2023-03-12T06:30:00Z", "2023-03-12T13:00:00Z", "2023-11-05T05:30:00Z", "2023-11-05T06:30:00Z")
    zoned_fmt, utc_fmt = infer_date_format(zoned), infer_date_format(utc)
    assert zoned_fmt == utc_fmt == DateFormat(zoned=True)
    assert zoned_fmt.describe() == "date ISO 8601, offsets converted to UTC"
    parsed = parse_dates(zoned, zoned_fmt)
    assert parsed.tolist() == parse_dates(utc, utc_fmt).tolist()
    assert parsed.dtype == "datetime64[ns]"


def test_parse_dates_keeps_the_index_and_handles_empty_columns() -> None:
    text = pd.Series(["2023-06-12", None, "n/a"], index=[5, 6, 7], dtype=object)
    parsed = parse_dates(text, DateFormat())
    assert parsed.index.tolist() == [5, 6, 7] and parsed.isna().tolist() == [False, True, True]
    assert parse_dates(column(), DateFormat()).empty
    assert parse_dates(column("later"), DateFormat(), na_values=frozenset({"later"})).isna().all()


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        (DateFormat(), "date ISO 8601"),
        (DateFormat(zoned=True), "date ISO 8601, offsets converted to UTC"),
        (DateFormat("ymd", "/"), "date YYYY/MM/DD"),
        (DateFormat("mdy", "/"), "date M/D/YYYY"),
        (DateFormat("dmy", "."), "date D.M.YYYY"),
        (DateFormat("dmy", "-"), "date D-M-YYYY"),
    ],
)
def test_date_format_describe(fmt: DateFormat, words: str) -> None:
    assert fmt.describe() == words


def test_date_format_round_trips_through_json() -> None:
    fmt = DateFormat(order="dmy", separator=".", zoned=True, ambiguous=True)
    assert DateFormat.from_dict(json.loads(json.dumps(fmt.to_dict()))) == fmt


def test_to_utc_naive() -> None:
    zoned = pd.Series(pd.to_datetime(["2023-06-12 09:00"]).tz_localize("America/New_York"))
    assert to_utc_naive(zoned).tolist() == [ts("2023-06-12 13:00")]
    naive = pd.Series(pd.to_datetime(["2023-06-12 09:00"]))
    assert to_utc_naive(naive).tolist() == [ts("2023-06-12 09:00")]


# ------------------------------------------------------------------------------- through the schema


def table(**columns: list) -> pd.DataFrame:
    """A text table as read from a CSV: an id, the given columns and an alternating target."""
    n = len(next(iter(columns.values())))
    return pd.DataFrame(
        {
            "company_id": [f"C{i}" for i in range(n)],
            **{name: pd.Series(values, dtype=object) for name, values in columns.items()},
            "is_hot_lead": [str(i % 2) for i in range(n)],
        }
    )


def test_na_is_a_region_in_a_text_column() -> None:
    frame = table(region=["NA", "EMEA", "NA", "APAC", "EMEA", "NA"])
    schema = infer_schema(frame)
    assert schema.categorical == ["region"] and schema.missing["region"] == 0.0
    assert prepare(frame, schema, labelled=True).features["region"].tolist() == ["NA", "EMEA", "NA", "APAC", "EMEA", "NA"]


def test_na_values_make_na_missing_in_a_text_column() -> None:
    frame = table(region=["NA", "EMEA", "NA", "APAC", "EMEA", "NA"])
    schema = infer_schema(frame, na_values=["NA"])
    assert schema.categorical == ["region"] and schema.missing["region"] == 0.5
    region = prepare(frame, schema, labelled=True).features["region"]
    assert region.isna().tolist() == [True, False, True, False, False, True]
    assert region.dropna().tolist() == ["EMEA", "APAC", "EMEA"]


def test_missing_markers_in_a_numeric_column_are_missing() -> None:
    frame = table(revenue=["$1,200", "N/A", "$300", "-", "$4,500", "?", "$7", "  "])
    schema = infer_schema(frame)
    assert schema.numeric == ["revenue"] and schema.missing["revenue"] == 0.5
    revenue = prepare(frame, schema, labelled=True).features["revenue"]
    assert revenue.tolist() == pytest.approx([1200, np.nan, 300, np.nan, 4500, np.nan, 7, np.nan], nan_ok=True)


def test_an_ambiguous_column_warns_naming_the_option() -> None:
    frame = table(revenue=["1,234", "2,345", "3,456", "4,567"])
    with pytest.warns(DataWarning, match=r"column 'revenue': values such as '1,234' can mean 1234 or 1\.234 .*Pass --decimal-comma revenue"):
        schema = infer_schema(frame)
    assert prepare(frame, schema, labelled=True).features["revenue"].tolist() == [1234, 2345, 3456, 4567]
    settled = infer_schema(frame, decimal_comma=["revenue"])
    assert prepare(frame, settled, labelled=True).features["revenue"].tolist() == pytest.approx([1.234, 2.345, 3.456, 4.567])


def test_leading_zero_codes_stay_text() -> None:
    frame = table(zip=["00123", "02134", "00123", "10001", "02134", "00123"])
    schema = infer_schema(frame)
    assert schema.categorical == ["zip"]
    assert "leading zeros" in schema.notes["zip"]
    assert prepare(frame, schema, labelled=True).features["zip"].tolist()[:2] == ["00123", "02134"]


def test_years_are_numbers_not_dates() -> None:
    schema = infer_schema(table(founded=["2019", "2020", "2015", "2020", "1999", "2019"]))
    assert schema.numeric == ["founded"] and schema.formats == {"founded": {"kind": "number", **NumberFormat().to_dict()}}


def test_a_few_words_in_a_numeric_column_are_reported_at_prepare() -> None:
    values = [f"${i * 37},{i:03d}.50" for i in range(1, 20)] + ["call us"]
    frame = table(revenue=values)
    schema = infer_schema(frame)
    assert schema.numeric == ["revenue"]
    with pytest.raises(DataError, match=r"column 'revenue' is numeric \(currency '\$', thousands ','\) but has text \('call us' at row 20\)"):
        prepare(frame, schema, labelled=True)


TRAINING = table(
    revenue=["6,3", "7,1", "1.234,5", "2", "3,5", "12"],
    signup=["12/6/2023", "30/6/2023", "1/7/2023", "2/7/2023", "3/7/2023", "4/7/2023"],
)


def test_the_training_format_is_applied_at_scoring() -> None:
    schema = Schema.from_dict(json.loads(json.dumps(infer_schema(TRAINING).to_dict())))  # as a bundle saves it
    scoring = table(revenue=["1.234", "5", "2,5", "7", "8", "9"], signup=["1/6/2023", "2/6/2023", "3/6/2023", "4/6/2023", "5/6/2023", "6/6/2023"])
    features = prepare(scoring, schema, labelled=False).features
    assert features["revenue"].tolist() == [1234, 5, 2.5, 7, 8, 9]  # 1.234 means what it meant in training
    assert features["signup"].tolist()[:2] == [ts("2023-06-01"), ts("2023-06-02")]  # day first, as in training


def test_a_scoring_table_written_differently_is_read_as_written() -> None:
    schema = infer_schema(TRAINING)
    iso_days = ["2023-06-12", "2023-06-30", "2023-07-01", "2023-07-02", "2023-07-03", "2023-07-04"]
    scoring = table(revenue=["6.3", "7.1", "1,234.5", "2", "3.5", "12"], signup=iso_days)
    with pytest.warns(DataWarning) as caught:
        features = prepare(scoring, schema, source="new.csv", labelled=False).features
    revenue = r"new\.csv: column 'revenue' is written differently here \(thousands ','\) than in training \(thousands '\.', decimal ','\); read as written"
    signup = r"new\.csv: column 'signup' is written differently here \(date ISO 8601\) than in training \(date D/M/YYYY\)"
    messages = [str(w.message) for w in caught]
    assert any(re.search(revenue, m) for m in messages) and any(re.search(signup, m) for m in messages)
    assert features["revenue"].tolist() == [6.3, 7.1, 1234.5, 2, 3.5, 12]
    assert features["signup"].tolist() == dates(iso_days)


def test_ambiguous_dates_written_otherwise_at_scoring_say_how_they_were_read() -> None:
    iso_days = ["2023-06-12", "2023-06-30", "2023-07-01", "2023-07-02", "2023-07-03", "2023-07-04"]
    schema = infer_schema(TRAINING.assign(signup=iso_days))
    scoring = TRAINING.assign(signup=["3/4/2023", "5/6/2023", "1/2/2023", "7/8/2023", "9/10/2023", "11/12/2023"])  # no day above 12
    with pytest.warns(
        DataWarning,
        match=r"column 'signup' is written differently here .* no date here settles the order, so they were read month first \(03/04 = 4 March\): if that is wrong, write them as YYYY-MM-DD\.$",
    ):
        features = prepare(scoring, schema, source="new.csv", labelled=False).features
    assert features["signup"].iloc[0] == ts("2023-03-04")


def test_month_first_dates_at_scoring_are_read_as_written() -> None:
    schema = infer_schema(TRAINING)
    scoring = TRAINING.assign(signup=["6/12/2023", "6/30/2023", "7/1/2023", "7/2/2023", "7/3/2023", "7/4/2023"])
    with pytest.warns(DataWarning, match=r"column 'signup' is written differently here \(date M/D/YYYY\)"):
        features = prepare(scoring, schema, labelled=True).features
    assert features["signup"].tolist()[:2] == [ts("2023-06-12"), ts("2023-06-30")]


def test_a_semicolon_file_reads_ambiguous_values_the_european_way(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("company_id;revenue;growth;is_hot_lead\nA;1.234;6,3 %;1\nB;2.345;-1,2 %;0\nC;12.500;n/a;1\n", encoding="utf-8")
    frame = read_table(path)
    with pytest.warns(DataWarning, match=r"column 'revenue': values such as '1\.234' .*read ',' as the decimal mark .*Pass --decimal-point revenue"):
        schema = infer_schema(frame)
    features = prepare(frame, schema, labelled=True).features
    assert features["revenue"].tolist() == [1234, 2345, 12500]
    assert features["growth"].tolist() == pytest.approx([6.3, -1.2, np.nan], nan_ok=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("28-Feb-2022", "2022-02-28"), ("Feb 28, 2022", "2022-02-28"), ("3 September 2021 10:30", "2021-09-03 10:30"), ("March 3rd, 2021", "2021-03-03")],
)
def test_english_month_names(value: str, expected: str) -> None:
    values = pd.Series([value, "1-Jan-2020", "Dec 31, 2019"])
    fmt = infer_date_format(values)
    assert fmt is not None and fmt.month_names
    assert parse_dates(values, fmt).iloc[0] == pd.Timestamp(expected)
