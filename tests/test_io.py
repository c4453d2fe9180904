"""Tests of reading tables and writing outputs atomically (hotleads.io)."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotleads.exceptions import DataError, DataWarning, ParameterError, ReadingWarning
from hotleads.io import (
    EXCEL_MAX_ROWS,
    atomic_dir,
    atomic_path,
    check_table_target,
    files_into,
    locate,
    naming,
    other_sheets,
    read_chunks,
    read_table,
    row_numbers,
    rows_spanned,
    write_csv,
    write_json,
)
from hotleads.pieces import plan


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_csv_values_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", 'zip,amount,name\n00123,1.50,"Cole, Bailey and Bowen"\n,2,x\n')
    table = read_table(path)
    assert list(table.columns) == ["zip", "amount", "name"]
    assert table["zip"].iloc[0] == "00123"
    assert table["amount"].tolist() == ["1.50", "2"]
    assert table["name"].iloc[0] == "Cole, Bailey and Bowen"
    assert pd.isna(table["zip"].iloc[1])


@pytest.mark.parametrize("line", [2, 3], ids=["first-row", "later-row"])
def test_a_cell_longer_than_the_csv_modules_limit_is_read(tmp_path: Path, line: int) -> None:
    """A 200,000-character notes cell: Arrow reads it, and the stdlib csv module (the preamble and row checks) must not
    stop at its 131,072-character default (schema, evaluate and the service's CSV endpoint failed, predict did not)."""
    notes = "M" * 200_000
    rows = ["1,short,0", f'2,"{notes}",1'] if line == 3 else [f"1,{notes},0", "2,short,1"]
    table = read_table(write(tmp_path / "t.csv", "id,notes,y\n" + "\n".join(rows) + "\n"))
    assert table["notes"].str.len().tolist() == ([5, 200_000] if line == 3 else [200_000, 5])


def test_csv_rows_are_numbered_as_file_lines(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "t.csv", "a,b\n1,2\n3,4\n"))
    assert [locate(table, i) for i in range(2)] == ["line 2", "line 3"]


def test_line_numbers_stay_physical_after_quoted_line_breaks_and_blank_lines(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "t.csv", 'a,b\n"two\nlines",1\n\n"x",2\nthree,"a\nb\nc"\nlast,4\n'))
    assert table["a"].tolist() == ["two\nlines", "x", "three", "last"]
    assert [locate(table, i) for i in range(4)] == ["line 2", "line 5", "line 6", "line 9"]


def test_csv_with_byte_order_mark_has_clean_column_names(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "t.csv", "\ufeffcompany_id,x\nA,1\nB,2\n".encode()))
    assert list(table.columns) == ["company_id", "x"]
    assert table["company_id"].tolist() == ["A", "B"]


def test_parquet_keeps_its_types(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "x": [1.5, np.nan, -2.0],
            "n": [1, 2, 3],
            "day": pd.to_datetime(["2024-01-01", "2024-02-01", None]),
        }
    )
    frame.to_parquet(tmp_path / "t.parquet")
    table = read_table(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(table, frame, check_dtype=False)
    assert pd.api.types.is_float_dtype(table["x"])
    assert pd.api.types.is_datetime64_any_dtype(table["day"])


@pytest.mark.parametrize("threads", [1, 2, 64])
def test_parquet_read_a_few_columns_at_a_time_is_the_whole_file(tmp_path: Path, monkeypatch, threads: int) -> None:
    """The columns are decoded as many at a time as Arrow has threads (the peak is then ~1.1x the
    table, not ~1.5x), and put together as pandas would read the file: values, dtypes, the index as a column."""
    import pyarrow as pa

    frame = pd.DataFrame(
        {
            "amount": [1.5, None, 3.0],
            "industry": pd.Categorical(["Tech", None, "SaaS"]),
            "note": ["x", None, "z"],
            "founded": pd.to_datetime(["2024-01-02", None, "2023-05-06"]).tz_localize("UTC"),
            "employees": [1, 2, 3],
        },
        index=pd.Index([10, 11, 12], name="row"),
    )
    frame.to_parquet(tmp_path / "t.parquet")
    monkeypatch.setattr(pa, "cpu_count", lambda: threads)
    # the named index is a column, as in the table pandas wrote
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), pd.read_parquet(tmp_path / "t.parquet").reset_index())


def test_parquet_files_the_column_reads_cannot_split_are_read_whole(tmp_path: Path) -> None:
    """A name used twice is refused as before (Arrow names it); a flat 'a.x' beside a struct 'a',
    whose field path is also 'a.x', reads both at once: such a file is read whole."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"x": [1.0, 2.0], "y": [3.0, 4.0]})
    pq.write_table(pa.table([*table.columns, table.column("x")], names=["x", "y", "x"]), tmp_path / "twice.parquet")
    with pytest.raises(DataError, match=r"twice\.parquet: not a readable Parquet file \(.*x.*\); re-export it or pass a CSV\."):
        read_table(tmp_path / "twice.parquet")
    pq.write_table(pa.table({"a": [{"x": 1}, {"x": 2}], "a.x": [5.0, 6.0], "b": ["u", "v"]}), tmp_path / "dotted.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "dotted.parquet"), pq.read_table(tmp_path / "dotted.parquet").to_pandas())


def test_an_index_pandas_stored_in_parquet_is_read_back_as_a_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"company_id": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})
    frame.set_index("company_id").to_parquet(tmp_path / "indexed.parquet")  # how pandas users often save a table
    pd.testing.assert_frame_equal(read_table(tmp_path / "indexed.parquet"), frame)
    [chunk] = list(read_chunks(tmp_path / "indexed.parquet", chunk_rows=10))
    pd.testing.assert_frame_equal(chunk, frame)
    frame.set_index("company_id", drop=False).to_parquet(tmp_path / "both.parquet")  # the index named like a column
    pd.testing.assert_frame_equal(read_table(tmp_path / "both.parquet").reset_index(drop=True), frame)
    frame.to_parquet(tmp_path / "plain.parquet")  # a default RangeIndex is no column
    assert list(read_table(tmp_path / "plain.parquet").columns) == ["company_id", "x"]


def test_corrupt_parquet_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path / "t.parquet", b"PAR1 this is not really parquet")
    with pytest.raises(DataError, match=r"t\.parquet: not a readable Parquet file"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", "a,b\n", "has a header but no rows"),
        ("binary.csv", bytes(range(256)) * 4, "binary file"),
        ("sheet.xlsx", b"PK\x03\x04 zipped sheet", "not a readable .xlsx workbook"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), r"legacy Excel 97-2003 \(\.xls\) workbook; save it as \.xlsx"),
        ("blank.csv", "\n\n", "first line is blank"),
        ("repeat.csv", "a,b,a\n1,2,3\n", r"repeats column\(s\) \['a'\]"),
        (
            "index.csv",
            ",Unnamed: 0,x\n0,0,1\n",  # pandas' index saved twice: the header repeats no name, but the blank cell's is taken
            r"index\.csv: column 2's header 'Unnamed: 0' is the name column 1's blank header is read by; give column 1 a header or rename column 2 "
            r"\(a table pandas saved twice with its index: save it with index=False\)\.$",
        ),
        ("ragged.csv", "a,b\n1,2\n1,2,3\n4\n", r"2 ragged row\(s\): line 3 has 3 fields, line 4 has 1 field, but the header has 2"),
        ("t.csv.gz", gzip.compress(b"a,b\n1,2\n", mtime=0), r"t\.csv\.gz: is gzip-compressed; decompress it first \(gunzip -c .*t\.csv\.gz > table\.csv\)"),
        ("leads.json", '[{"a": 1, "b": 2}]', r"leads\.json: looks like JSON, not a table; export it as CSV"),
        (
            "title.csv",
            "Leads export 2024-11-02\nA,\nB,\n",  # no line of two named fields under it: no header to skip the title for
            r"title\.csv: line 1 has one field but the rows below have 2: it looks like a title above the header",
        ),
        ("leads.txt", '\ufeff {\n "a": [1, 2]}', "looks like JSON, not a table"),
        ("bare.csv", ",,\nid,x,y\n1,2,3\n", r"the first line is blank \(only separators\); it must be the header with the column names"),
        ("blank.csv", "\nid,x,y\n1,2,3\n", r"the first line is blank; it must be the header with the column names"),
    ],
)
def test_unreadable_tables_are_refused_with_the_reason(tmp_path: Path, name: str, content, match: str) -> None:
    path = write(tmp_path / name, content)
    with pytest.raises(DataError, match=match) as info:
        read_table(path)
    assert str(info.value).startswith(f"{path}: ")


def read_every_way(path: Path, **options) -> list[tuple[list, list[str]]]:
    """(values, file lines) of the rows as read_table, read_chunks (one row a chunk) and the dask pieces read them."""
    frames = {
        "read_table": [read_table(path, **options)],
        "read_chunks": list(read_chunks(path, chunk_rows=1, **options)),
        "pieces": [piece.read() for piece in plan(path, rows=1, **options)],
    }
    return {how: ([row for f in read for row in f.values.tolist()], [locate(f, i) for f in read for i in range(len(f))]) for how, read in frames.items()}


@pytest.mark.parametrize(
    ("above", "note", "header_line"),
    [
        ("Leads export 2024-11-02\n", "line 1 ('Leads export 2024-11-02') looks like a title, not the header: skipped line 1", 2),
        # Excel writes a title row with the table's width
        ("Q3 lead export,,\n", "line 1 ('Q3 lead export') looks like a title, not the header: skipped line 1", 2),
        ("Q3 lead export,,\n,,\n", "line 1 ('Q3 lead export') looks like a title, not the header: skipped lines 1-2", 3),
        ("Q3 lead export\n\n", "line 1 ('Q3 lead export') looks like a title, not the header: skipped lines 1-2", 3),
        (
            '"Leads, Q3",,\nExported 2024-11-02 by J. Doe,,\n,,\n',
            "skipped lines 1-3 above the header, a report's title and notes ('Leads, Q3', 'Exported 2024-11-02 by J. Doe'),",
            4,
        ),
        ("sep=,\nQ3 lead export,,\n", "line 2 ('Q3 lead export') looks like a title, not the header: skipped line 2", 3),
        ("Leads; Q3 2024,,\n", "line 1 ('Leads; Q3 2024') looks like a title, not the header: skipped line 1", 2),  # two fields under ';', one under ','
        ("Q3 lead export | EMEA,,\n,,\n", "line 1 ('Q3 lead export | EMEA') looks like a title, not the header: skipped lines 1-2", 3),
        # a title cell written over two lines (Alt+Enter): two file lines, one record
        ('"Q3 leads\nEMEA",,\n', "line 1 ('Q3 leads EMEA') looks like a title, not the header: skipped lines 1-2", 3),
    ],
    ids=["bare", "excel", "excel-empty-row", "blank-line", "two-lines", "sep-line", "semicolon-in-title", "pipe-in-title", "title-over-two-lines"],
)
def test_a_title_above_the_header_is_skipped_with_a_warning(tmp_path: Path, above: str, note: str, header_line: int) -> None:
    """A weekly CRM export with its title reads every week, as the table under it; the warning says which lines were left out."""
    path = write(tmp_path / "t.csv", above + "id,revenue,is_hot_lead\nA,1.5,0\nB,2,1\n")
    with pytest.warns(DataWarning) as caught:
        read = read_every_way(path)
    assert {str(w.message) for w in caught} == {
        f"{path}: {note} and read the header from line {header_line}. Delete the lines above the header to read the file without this warning."
    }
    assert read == dict.fromkeys(read, ([["A", "1.5", "0"], ["B", "2", "1"]], [f"line {header_line + 1}", f"line {header_line + 2}"]))


LEADS = "id,name,revenue,country,is_hot_lead,notes\nA,a,1.5,FR,0,new\nB,b,2,DE,1,called\n"


@pytest.mark.parametrize(
    ("above", "note"),
    [
        ("Leads, Q3 2024,,,,,\n", "line 1 ('Leads, Q3 2024') looks like a title, not the header: skipped line 1"),  # a comma in the title, unquoted
        (
            "Q3 lead export,,,,,\nExported on,2024-10-01,,,,\n",
            "skipped lines 1-2 above the header, a report's title and notes ('Q3 lead export', 'Exported on, 2024-10-01'),",
        ),
        (
            "".join(f"Filter: Region = EMEA {i},,,,,\n" for i in range(1, 13)),  # more lines than the title skip's former limit of 10
            "skipped lines 1-12 above the header, a report's title and notes ('Filter: Region = EMEA 1', 'Filter: Region = EMEA 2', "
            "'Filter: Region = EMEA 3' and 9 more),",
        ),
        (  # fewer separators than the table, and a blank line above the header
            "Lead report\nExported on,2024-10-01\nFilters:,Stage = Open\n\n",
            "skipped lines 1-4 above the header, a report's title and notes ('Lead report', 'Exported on, 2024-10-01', 'Filters:, Stage = Open'),",
        ),
        (  # a title over two lines (Alt+Enter), then a label and a value
            '"Q3 leads\nEMEA",,,,,\nExported on,2024-10-01,,,,\n,,,,,\n',
            "skipped lines 1-4 above the header, a report's title and notes ('Q3 leads EMEA', 'Exported on, 2024-10-01'),",
        ),
    ],
    ids=["comma-in-title", "title-and-export-date", "twelve-filter-lines", "short-lines-and-blank-line", "title-over-two-lines-and-date"],
)
def test_a_reports_preamble_above_the_header_is_skipped_with_one_warning(tmp_path: Path, above: str, note: str) -> None:
    """Salesforce and Excel "formatted report" saves put a title, the export date and filter lines above the header, each
    filling one or two cells: all skipped, in one warning, and every row keeps its file line, read whole, in chunks or in pieces."""
    path = write(tmp_path / "t.csv", above + LEADS)
    header_line = 1 + above.count("\n")
    with pytest.warns(ReadingWarning) as caught:
        read = read_every_way(path)
    assert {str(w.message) for w in caught} == {
        f"{path}: {note} and read the header from line {header_line}. Delete the lines above the header to read the file without this warning."
    }
    rows = [["A", "a", "1.5", "FR", "0", "new"], ["B", "b", "2", "DE", "1", "called"]]
    assert read == dict.fromkeys(read, (rows, [f"line {header_line + 1}", f"line {header_line + 2}"]))
    with pytest.warns(ReadingWarning):
        assert list(read_table(path).columns) == ["id", "name", "revenue", "country", "is_hot_lead", "notes"]


def test_rows_under_a_preamble_with_a_line_break_in_a_cell_keep_their_file_lines(tmp_path: Path) -> None:
    """A quoted line break in a preamble cell makes its record two file lines: the lines named under it stay the file's."""
    path = write(tmp_path / "t.csv", '"Q3 leads\nEMEA",,,,,\n"Exported\non",2024-10-01,,,,\n' + LEADS + "C,c,3\n")
    for read in (lambda: read_table(path), lambda: list(read_chunks(path, chunk_rows=1)), lambda: [p.read() for p in plan(path, rows=1)]):
        with (
            pytest.warns(ReadingWarning, match="skipped lines 1-4 above the header"),
            pytest.raises(DataError, match=r"1 ragged row\(s\): line 8 has 3 fields"),
        ):
            read()


def test_a_stray_quote_in_a_title_is_read_as_a_one_line_title(tmp_path: Path) -> None:
    """An inch mark in a title (``5" screens``) opens a quote that never closes: the title is one line, not the whole file
    joined into one record (which was refused as a field over the CSV reader's limit, after a pass per line)."""
    rows = "".join(f"{i},n{i},{i % 7}.5,FR,{i % 2},x\n" for i in range(20_000))
    path = write(tmp_path / "t.csv", '5" screens report,,,,,\nid,name,revenue,country,is_hot_lead,notes\n' + rows)
    with pytest.warns(ReadingWarning, match=r"line 1 \('5\" screens report'\) looks like a title"):
        table = read_table(path)
    assert table.shape == (20_000, 6) and [locate(table, 0), locate(table, 19_999)] == ["line 3", "line 20002"]


def test_a_preamble_longer_than_its_limit_is_read_as_the_table(tmp_path: Path) -> None:
    """At most 50 lines above the header are a preamble: a longer block of one-cell lines is read as the table it opens."""
    path = write(tmp_path / "t.csv", "".join(f"note {i},,,,,\n" for i in range(51)) + LEADS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning of lines skipped
        assert read_table(path).columns[0] == "note 0"
    path = write(tmp_path / "t.csv", "".join(f"note {i},,,,,\n" for i in range(50)) + LEADS)
    with pytest.warns(ReadingWarning, match=r"skipped lines 1-50 above the header"):
        assert read_table(path)["id"].tolist() == ["A", "B"]


@pytest.mark.parametrize(
    "content",
    [
        "id,label\nA,x\nB,y\n",
        "id,label\nA,x\n",  # one data row
        "id,label\nA,\nB,y\nC,z\n",
        "id,name,x\nA,b,1\nB,c,2\n",
        "id,,x\nA,b,1\nB,c,2\n",  # a blank header cell
        ",company,revenue\n0,Acme,5\n1,Beta,7\n",  # pandas' unnamed index
        "id,name,\nA,b,1\nB,c,2\n",  # a blank last header cell over values
        "company_id,name,revenue,country,is_hot_lead\nA,,,,\nB,b,1,FR,0\n",  # a first data row of empty cells
        "company_id,name,,\nA,,,\nB,b,1,2\n",  # two blank header cells over a row of numbers
        "Exported on,2024-10-01\nid,name\nA,b\n",  # a label and a value above a two-column table: read as ever
    ],
    ids=[
        "two-columns",
        "one-data-row",
        "empty-cells",
        "three-columns",
        "blank-name",
        "unnamed-index",
        "blank-last-name",
        "empty-first-row",
        "two-blank-names",
        "two-field-first-line",
    ],
)
def test_a_genuine_header_is_never_taken_for_a_preamble(tmp_path: Path, content: str) -> None:
    """Two- and three-column tables, headers with blank names and first rows of empty cells keep line 1 as their header."""
    path = write(tmp_path / "t.csv", content)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning of lines skipped
        table = read_table(path)
    assert [name if not name.startswith("Unnamed") else "" for name in table.columns] == content.split("\n", 1)[0].split(",")
    assert locate(table, 0) == "line 2"


def test_a_title_above_a_semicolon_header_is_found_before_the_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "Leads export 2024-11-02\nid;revenue;is_hot_lead\nA;1,5;0\nB;2;1\n")
    with pytest.warns(DataWarning, match=r"line 1 \('Leads export 2024-11-02'\) looks like a title"):
        table = read_table(path)
    assert list(table.columns) == ["id", "revenue", "is_hot_lead"] and table.attrs["delimiter"] == ";"
    assert table["revenue"].tolist() == ["1,5", "2"]


def test_a_header_is_never_a_title_under_its_own_delimiter(tmp_path: Path) -> None:
    """Line 1 is judged under the delimiter of the lines under it: a ';' header with a ',' in a name, or a ',' header with
    a ';' in one, is the header (it has one field only under the other delimiter)."""
    for content in ("id;name, first;x\n1;Ann;2\n2;Bo;3\n", "id,a;b,x\n1,2,3\n4,5,6\n", "a;b\n1;2,5\n3;4\n"):
        table = read_table(write(tmp_path / "h.csv", content))
        assert len(table.columns) == 3 - content.startswith("a;b") and len(table) == 2, content
    path = write(tmp_path / "given.csv", "Leads; Q3 2024,,\nid,x,y\n1,2,3\n")
    with pytest.warns(DataWarning, match=r"line 1 \('Leads; Q3 2024'\) looks like a title"):
        assert list(read_table(path, sep=",").columns) == ["id", "x", "y"]


def test_one_column_tables_and_titles_above_no_header_are_not_skipped(tmp_path: Path) -> None:
    """No line of two named fields under the title lines: nothing is skipped (a one-column table reads as before), or it is refused."""
    assert read_table(write(tmp_path / "one.csv", "id\nA\nB\n"))["id"].tolist() == ["A", "B"]
    path = write(tmp_path / "t.csv", "Q3 leads\na,b;;\n1,2;;\n")  # under ';' the line below the title has one name
    with pytest.raises(DataError, match=r"t\.csv: line 1 has one field but the rows below have 3: it looks like a title above the header; delete the lines"):
        read_table(path, sep=";")


def test_rows_of_empty_fields_are_skipped_and_lines_stay_the_files(tmp_path: Path) -> None:
    """Excel exports blank sheet rows as ',,' (often several at the end); like blank lines, they are no rows."""
    path = write(tmp_path / "t.csv", 'id,name,x\nA,"two\nlines",1\n,,\nB,b,2\n\n"",,\nC,c,3\n,,\n,,\n')
    read = read_every_way(path)
    assert read == dict.fromkeys(read, ([["A", "two\nlines", "1"], ["B", "b", "2"], ["C", "c", "3"]], ["line 2", "line 5", "line 8"]))
    table = read_table(write(tmp_path / "end.csv", "id,x\nA,1\nB,2\n,\n,\n"))  # one line per record: lines found without a second pass
    assert table["id"].tolist() == ["A", "B"] and [locate(table, i) for i in range(2)] == ["line 2", "line 3"]
    with pytest.raises(DataError, match="has a header but no rows"):
        read_table(write(tmp_path / "none.csv", "id,x\n,\n,\n"))


@pytest.mark.parametrize(
    ("text", "line"),
    [("Q3 lead export,,,,\n", 1), ("Q3 lead export,,,,\n,,,,\n\n", 1), ("sep=,\nQ3 lead export,,,,\n", 2)],
    ids=["title-row", "title-and-empty-rows", "sep-line"],
)
@pytest.mark.parametrize("how", ["read_table", "read_chunks"])
def test_a_title_alone_is_named_as_a_title_not_as_a_header(tmp_path: Path, text: str, line: int, how: str) -> None:
    """(--engine dask refuses it in the same words once its pieces are read: hotleads.cluster._check_files_have_rows.)"""
    path = write(tmp_path / "t.csv", text)
    with pytest.raises(DataError) as raised:
        read_table(path) if how == "read_table" else list(read_chunks(path))
    assert str(raised.value) == (
        f"{path}: line {line} ('Q3 lead export') looks like a title, and no header or rows follow it; "
        "export the table with its header row and data rows (a title above the header is skipped)."
    )


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("Q3 Leads Report,,,,\nExported on,2024-10-01,,,\n\n", "lines 1-2"),
        ("Q3 Leads Report\nExported on,2024-10-01", "lines 1-2"),  # no separators, no line break at the end
        ('sep=,\n"Q3 Leads Report",,,,\n\n"Exported on",2024-10-01,,,\n,,,,\n', "lines 2-4"),
    ],
    ids=["excel", "bare", "sep-line-and-blank-lines"],
)
@pytest.mark.parametrize("how", ["read_table", "read_chunks", "pieces"])
def test_a_preamble_alone_is_named_as_one_not_as_a_header_without_rows(tmp_path: Path, text: str, lines: str, how: str) -> None:
    """A title and an ``Exported on`` line, no table: the rule takes the last line (two cells) for the header, and the file
    is refused as a preamble with nothing under it, with no warning about lines skipped above a header."""
    path = write(tmp_path / "t.csv", text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError) as raised:
            {"read_table": lambda: read_table(path), "read_chunks": lambda: list(read_chunks(path)), "pieces": lambda: plan(path, rows=10)}[how]()
    assert str(raised.value) == (
        f"{path}: {lines} ('Q3 Leads Report', 'Exported on, 2024-10-01') look like a report's title and notes, and no header or rows "
        "follow them; export the table with its header row and data rows (a title above the header is skipped)."
    )


def test_a_title_of_one_field_alone_is_named_as_a_title(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "Q3 Leads Report\n")
    with pytest.raises(DataError, match=r"t\.csv: line 1 \('Q3 Leads Report'\) looks like a title, and no header or rows follow it"):
        read_table(path)
    with pytest.raises(DataError, match="has a header but no rows"):  # one name alone may be a header
        read_table(write(tmp_path / "h.csv", "company_id\n"))


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (
            [["Leads Q3", None], ["Exported on", pd.Timestamp("2024-10-01").to_pydatetime()]],
            r"rows 1-2 \('Leads Q3', 'Exported on, 2024-10-01'\) look like a report's title and notes",
        ),
        ([["Leads Q3", None]], r"row 1 \('Leads Q3'\) looks like a title, and no header or rows follow it"),
    ],
    ids=["title-and-date", "title"],
)
def test_a_sheet_of_a_preamble_alone_is_named_as_one(tmp_path: Path, rows: list, match: str) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(tmp_path / "t.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=rf"t\.xlsx: {match}"):
            read_table(tmp_path / "t.xlsx")


def test_a_skipped_row_of_separators_keeps_its_row_number(tmp_path: Path) -> None:
    """Row numbers (the Id of a table without ids) stay the file's, as pandas.read_csv numbers them: a ',,' row keeps its
    number, a blank line has none; read whole, in chunks (a chunk of ',,' rows only included) or in dask pieces, across files."""
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.csv", "x,y\n1,a\n,\n2,b\n\n3,c\n,\n,\n4,d\n,\n")
    write(folder / "b.csv", "x,y\n,\n5,e\n")
    expected = [0, 2, 3, 6]
    assert pd.read_csv(folder / "a.csv").index[pd.read_csv(folder / "a.csv")["x"].notna()].tolist() == expected
    assert row_numbers(read_table(folder / "a.csv")).tolist() == expected and rows_spanned(read_table(folder / "a.csv")) == 8
    for chunk_rows in (1, 2, 100):
        numbered, ids = 0, []
        for chunk in read_chunks(folder, chunk_rows=chunk_rows):
            ids += (row_numbers(chunk) + numbered).tolist()
            numbered += rows_spanned(chunk)
        assert ids == [*expected, 8 + 1], chunk_rows  # b.csv's row follows a.csv's 8 rows and its own ',' row
    for rows in (1, 100):
        pieces = [piece.read() for piece in plan(folder / "a.csv", rows=rows)]
        starts = np.cumsum([0] + [rows_spanned(p) for p in pieces])
        assert [int(n + start) for p, start in zip(pieces, starts, strict=False) for n in row_numbers(p)] == expected


def test_an_empty_sheet_row_keeps_its_row_number(tmp_path: Path) -> None:
    """A sheet's empty rows keep their numbers, as pandas.read_excel keeps them (and a CSV's ',,' rows), whole and in chunks."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in (["x", "y"], [1, "a"], [], [2, "b"], [], [], [3, "c"], [4, "d"], [], []):
        workbook.active.append(row)
    workbook.save(tmp_path / "t.xlsx")
    expected = pd.read_excel(tmp_path / "t.xlsx").dropna(how="all").index.tolist()
    assert expected == [0, 2, 5, 6]
    assert row_numbers(read_table(tmp_path / "t.xlsx")).tolist() == expected
    for chunk_rows in (1, 2, 3, 100):
        numbered, ids = 0, []
        for chunk in read_chunks(tmp_path / "t.xlsx", chunk_rows=chunk_rows):
            ids += (row_numbers(chunk) + numbered).tolist()
            numbered += rows_spanned(chunk)
        assert ids == expected, chunk_rows


@pytest.mark.parametrize("above", ["", "Q3 leads,,\n\n"], ids=["header-first", "under-a-title"])
def test_rows_of_whitespace_and_short_rows_of_separators_are_empty_rows_too(tmp_path: Path, above: str) -> None:
    """' , , ' and ',' under a 3-column header are skipped as ',,' is, keeping their numbers: read whole, in chunks of any
    size (a chunk of them only included) or in dask pieces."""
    path = write(tmp_path / "t.csv", above + 'id,name,x\nA,a,1\n , , \nB,b,2\n,\nC,c,3\n \n\t,  \nD,d,4\n\n"two\nlines",e,5\n,\n')
    expected = [0, 2, 4, 7, 8]  # pandas.read_csv keeps every such row: its index numbers them
    first = 1 + above.count("\n")  # the header's line
    lines = [f"line {first + n}" for n in (1, 3, 5, 8, 10)]
    warn = pytest.warns(DataWarning, match="looks like a title") if above else contextlib.nullcontext()
    with warn:
        read = read_every_way(path)
    assert read == dict.fromkeys(read, ([["A", "a", "1"], ["B", "b", "2"], ["C", "c", "3"], ["D", "d", "4"], ["two\nlines", "e", "5"]], lines))
    with warn:
        assert row_numbers(read_table(path)).tolist() == expected and rows_spanned(read_table(path)) == 10
    for chunk_rows in (1, 2, 3, 100):
        numbered, ids = 0, []
        with warn:
            for chunk in read_chunks(path, chunk_rows=chunk_rows):
                ids += (row_numbers(chunk) + numbered).tolist()
                numbered += rows_spanned(chunk)
        assert ids == expected, chunk_rows
    for rows in (1, 2, 100):
        with warn:
            pieces = [piece.read() for piece in plan(path, rows=rows)]
        starts = np.cumsum([0] + [rows_spanned(p) for p in pieces])
        assert [int(n + start) for p, start in zip(pieces, starts, strict=False) for n in row_numbers(p)] == expected, rows


@pytest.mark.parametrize(("row", "fields"), [(" ,x", 2), (",,,", 4)], ids=["short-with-a-value", "long-of-separators"])
def test_a_short_row_with_a_value_or_a_long_empty_row_is_still_ragged(tmp_path: Path, row: str, fields: int) -> None:
    path = write(tmp_path / "t.csv", f"id,name,x\nA,a,1\n{row}\nB,b,2\n")
    for read in (lambda: read_table(path), lambda: list(read_chunks(path, chunk_rows=1)), lambda: [p.read() for p in plan(path, rows=1)]):
        with pytest.raises(DataError, match=rf"1 ragged row\(s\): line 3 has {fields} fields"):
            read()


@pytest.mark.parametrize("header", ['"Company\nID",name,x', 'id,"Company\nname",x'], ids=["first-name", "second-name"])
def test_a_header_name_written_over_two_lines_is_never_a_title(tmp_path: Path, header: str) -> None:
    """A quoted header name over two lines (Excel's Alt+Enter) is one record of three names, not a title line 'Company':
    skipping it would read 'ID"' as a column name. (Such a header is not read yet; the file is refused, in one line.)"""
    path = write(tmp_path / "h.csv", header + "\nC1,a,1\nC2,b,2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "looks like a title" warning
        with pytest.raises(DataError, match=r"h\.csv: "):
            read_table(path)


def test_ragged_rows_under_a_title_and_empty_rows_name_their_file_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "Q3 leads,,\n\n,,\nid,x,y\n1,2,3\n,,\n4,5\n")
    for read in (lambda: read_table(path), lambda: list(read_chunks(path, chunk_rows=1)), lambda: [p.read() for p in plan(path, rows=1)]):
        with pytest.warns(DataWarning, match="looks like a title"), pytest.raises(DataError, match=r"1 ragged row\(s\): line 7 has 2 fields"):
            read()


@pytest.mark.parametrize(
    ("sep", "content", "match"),
    [
        (
            ",",
            "id;name;x\n1;Cole, Bailey;2\n2;Ann;3\n",
            r"--sep ',': splits the header of .*t\.csv into 1 field, but the file seems semicolon-separated \(3 fields\); pass --sep ';'",
        ),
        (
            ";",
            "id,name,x\n1,Ann,2\n2,Bo,3\n",
            r"--sep ';': splits the header of .*t\.csv into 1 field, but the file seems comma-separated \(3 fields\); pass --sep ','",
        ),
        (
            "tab",
            "id|name|x\n1|Ann|2\n",
            r"--sep tab: splits the header of .*t\.csv into 1 field, but the file seems pipe-separated \(3 fields\); pass --sep '\|'",
        ),
        (",", "id;na,me;x\n1;Ann;2\n2;Bo;3\n", r"--sep ',': splits the header of .*t\.csv into 2 fields, but the file seems semicolon-separated \(3 fields\)"),
    ],
)
def test_a_sep_that_splits_the_header_worse_names_the_files_delimiter(tmp_path: Path, sep: str, content: str, match: str) -> None:
    path = write(tmp_path / "t.csv", content)
    with pytest.raises(ParameterError, match=match):
        read_table(path, sep=sep)
    with pytest.raises(ParameterError, match=match):
        next(read_chunks(path, sep=sep))


def test_a_sep_the_file_splits_alike_is_followed(tmp_path: Path) -> None:
    """Sniffing reads 'a;b,c' as comma-separated (a tie goes to ','); --sep ';' splits every line alike too, so it is taken as given."""
    path = write(tmp_path / "t.csv", "a;b,c\n1;2,3\n")
    assert list(read_table(path).columns) == ["a;b", "c"]
    assert list(read_table(path, sep=";").columns) == ["a", "b,c"]


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file; check the path"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder, not a table"):
        read_table(tmp_path)


def test_many_ragged_rows_are_summarised(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "a,b\n" + "1,2,3\n" * 5)
    with pytest.raises(DataError, match=r"5 ragged row\(s\): line 2 has 3 fields, line 3 has 3 fields, line 4 has 3 fields and 2 more"):
        read_table(path)


SALESFORCE_FOOTER = '"Confidential Information - Do Not Distribute"\n"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
FOOTER_NOTE = (
    "skipped lines {}-{} under the table, a report's footer ('Confidential Information - Do Not Dis...', "
    "'Copyright (c) 2000-2024 salesforce.co...'). Delete them to read the file without this warning."
)


@pytest.mark.parametrize(
    ("above", "under", "footer_line"),
    [
        ("", "\n", 5),
        ("", ",,\n", 5),  # Excel's empty sheet row, and empty lines among and under the footer lines
        ("", "\n\n", 6),
        ('"Q3 Leads Report",,\n\n', "\n", 7),  # a title above the header too
    ],
    ids=["blank-line", "row-of-separators", "two-blank-lines", "under-a-preamble"],
)
def test_a_reports_footer_under_the_table_is_skipped_with_a_warning(tmp_path: Path, above: str, under: str, footer_line: int) -> None:
    """Salesforce closes a report's CSV export with a blank line and two lines of one field: a footer, as its title is a
    preamble; read whole, in chunks (the footer's in the last) or in dask pieces, with one warning naming its lines."""
    header = 1 + above.count("\n")
    footer = SALESFORCE_FOOTER.replace("\n", "\n\n", 1) if under == ",,\n" else SALESFORCE_FOOTER
    path = write(tmp_path / "t.csv", above + "id,revenue,is_hot_lead\nA,1.5,0\nB,2,1\n" + under + footer + ("\n" if under == ",,\n" else ""))
    with pytest.warns(ReadingWarning) as caught:
        read = read_every_way(path)
    last = footer_line + 1 + (under == ",,\n")
    assert {str(w.message) for w in caught if "under the table" in str(w.message)} == {f"{path}: " + FOOTER_NOTE.format(footer_line, last)}
    assert read == dict.fromkeys(read, ([["A", "1.5", "0"], ["B", "2", "1"]], [f"line {header + 1}", f"line {header + 2}"]))


def test_a_footer_split_between_two_dask_pieces_is_skipped_in_both(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "id,x,y\n" + "".join(f"C{i},{i},{i % 2}\n" for i in range(3000)) + "\n" + SALESFORCE_FOOTER)
    (whole,) = plan(path, rows=10**6)
    cut = path.read_bytes().index(b'"Copyright')
    pieces = [dataclasses.replace(whole, stop=cut), dataclasses.replace(whole, start=cut, skip=0)]
    with pytest.warns(ReadingWarning) as caught:
        frames = [piece.read() for piece in pieces]
    assert {str(w.message) for w in caught} == {f"{path}: " + FOOTER_NOTE.format(3003, 3004)}
    assert [len(frame) for frame in frames] == [3000, 0]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("id,x,y\nA,1,2\n\nNote\nB,3,4\n", r"1 ragged row\(s\): line 4 has 1 field, but"),  # rows under it: no footer
        ("id,x,y\nA,1,2\nNote\n", r"1 ragged row\(s\): line 3 has 1 field, but"),  # no empty line above it: a cut row
        ("id,x,y\nA,1,2\nB,3\n\nNote\n", r"1 ragged row\(s\): line 3 has 2 fields, but"),  # the footer skipped, not the table's ragged row
        ("id,x,y\nA,1,2\n\nNote,on two fields\n", r"1 ragged row\(s\): line 4 has 2 fields, but"),
    ],
    ids=["rows-below", "no-empty-line-above", "ragged-row-above", "two-fields"],
)
def test_lines_of_one_field_that_are_no_footer_are_still_ragged(tmp_path: Path, content: str, match: str) -> None:
    path = write(tmp_path / "t.csv", content)
    for read in (lambda: read_table(path), lambda: list(read_chunks(path, chunk_rows=1)), lambda: [p.read() for p in plan(path, rows=1)]):
        with contextlib.ExitStack() as stack:
            if "B,3\n\nNote" in content:
                stack.enter_context(pytest.warns(ReadingWarning, match=r"skipped line 5 under the table, a report's footer \('Note'\)\. Delete it"))
            stack.enter_context(pytest.raises(DataError, match=match))
            read()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (  # a filter line of three cells ends the preamble: the line above it is read as the header
            "Q3 Leads\nExported on,2024-10-01\nFiltered by,Industry,equals Tech\n\nid,industry,employees,stage\nA,Tech,65,Won\nB,Retail,199,Lost\n",
            "the header read from line 2 has 2 fields but the rows have 4: line 5 has the width of the rows and looks like the header; delete lines 1-4 above it.",
        ),
        (  # years as column names: a header naming numbers is not skipped to under a label-and-value line
            "Q3 Leads\nExported on,2024-10-01\n\nid,industry,2023,2024,is_hot_lead\nA,Tech,94,87,1\nB,Tech,754,829,0\n",
            "the header read from line 2 has 2 fields but the rows have 5: line 4 has the width of the rows and looks like the header; delete lines 1-3 above it.",
        ),
        (  # a label and a value above a table of three columns, whose header names two at least
            "Report:,Q3 Leads\ncompany,employees,won\nAcme 0,405,1\nAcme 1,62,0\n",
            "the header read from line 1 has 2 fields but the rows have 3: line 2 has the width of the rows and looks like the header; delete line 1 above it.",
        ),
    ],
    ids=["three-cell-filter", "years-in-the-header", "label-above-three-columns"],
)
def test_a_header_under_a_line_taken_for_it_is_named_with_the_lines_to_delete(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path / "t.csv", content)
    for read in (lambda: read_table(path), lambda: list(read_chunks(path, chunk_rows=1)), lambda: [p.read() for p in plan(path, rows=1)]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReadingWarning)  # the title skipped above the line read as the header
            with pytest.raises(DataError) as raised:
                read()
        assert str(raised.value) == f"{path}: {message}"


def test_values_holding_the_delimiter_unquoted_are_no_header_below(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "name,revenue\nSmith, John,100\nDoe, Jane,200\nRoe, Ann,300\n")
    with pytest.raises(DataError, match=r"3 ragged row\(s\): line 2 has 3 fields, .* fix the rows \(quote values that contain the delimiter\)"):
        read_table(path)


def test_atomic_path_replaces_the_target_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = write(tmp_path / "out.csv", "old\n")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new\n")
        assert target.read_text() == "old\n"  # nothing visible before the block ends
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_atomic_path_keeps_the_target_when_the_block_raises(tmp_path: Path) -> None:
    target = write(tmp_path / "out.csv", "good\n")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_atomic_path_creates_nothing_when_the_block_raises(tmp_path: Path) -> None:
    """No file, and none of the folders it made for the file: a failed write to new/deeper/out.csv leaves no empty new/."""
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "sub" / "deeper" / "new.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_the_folders_that_were_there_when_the_block_raises(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()  # there before, empty: still the user's
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "empty" / "new" / "out.csv"):
        raise RuntimeError("boom")
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")] == ["empty"]


def test_atomic_path_leaves_a_folder_made_for_it_that_another_file_now_holds(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "new" / "out.csv"):
        write(tmp_path / "new" / "theirs.csv", "written meanwhile")  # by another process, say
        raise RuntimeError("boom")
    assert [p.relative_to(tmp_path).as_posix() for p in sorted(tmp_path.rglob("*"))] == ["new", "new/theirs.csv"]


def test_atomic_path_refuses_a_folder(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(ParameterError, match=r"out: is a folder; give the path of the file to write\."), atomic_path(tmp_path / "out"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_dir_swaps_in_the_new_folder_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    write(target / "old.txt", "old")
    with atomic_dir(target) as tmp:
        write(tmp / "new.txt", "new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_dir_removes_the_folders_it_made_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "new" / "model") as tmp:
        write(tmp / "half.txt", "half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_keeps_the_old_folder_when_the_block_raises(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    write(target / "old.txt", "old")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        write(tmp / "new.txt", "new")
        raise RuntimeError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_written_files_have_the_usual_permissions(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": [1]}), tmp_path / "a.csv")
    assert path.stat().st_mode & 0o044 == 0o044  # readable by group and others (umask 022)


def test_write_csv_and_json_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Id": ["a", "b"], "Prediction": [1, 0]})
    write_csv(frame, tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_text() == "Id,Prediction\na,1\nb,0\n"
    write_json({"f1": np.float64(0.5), "n": np.int64(3), "v": np.array([1, 2])}, tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text()) == {"f1": 0.5, "n": 3, "v": [1, 2]}


def test_a_table_too_long_for_excel_is_refused_before_writing(tmp_path: Path) -> None:
    check_table_target(tmp_path / "leads.xlsx", EXCEL_MAX_ROWS - 1)
    check_table_target(tmp_path / "leads.csv", 10 * EXCEL_MAX_ROWS)
    with pytest.raises(ParameterError, match=r"leads\.xlsx: 1,048,576 rows do not fit in an Excel sheet \(1,048,575 at most\); write a \.csv instead\."):
        check_table_target(tmp_path / "leads.xlsx", EXCEL_MAX_ROWS)
    with pytest.raises(ParameterError, match=r"leads\.xls: hotleads writes spreadsheets as \.xlsx only"):
        check_table_target(tmp_path / "leads.xls", 10)
    assert list(tmp_path.iterdir()) == []


def test_excel_by_content_keeps_types_and_reads_percent_cells_as_shown(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "About"
    sheet = workbook.create_sheet("Leads")
    sheet.append(["id", "conversion", "flag", "signed"])
    for i in range(3):
        sheet.append([f"{i:04d}", 0.05 * i, i == 1, pd.Timestamp("2024-01-01") + pd.Timedelta(days=i)])
        sheet.cell(row=i + 2, column=2).number_format = "0.0%"
    workbook.save(tmp_path / "leads.csv")  # an .xlsx whatever its name
    table = read_table(tmp_path / "leads.csv", sheet="Leads")
    assert table["id"].tolist() == ["0000", "0001", "0002"]
    assert table["conversion"].round(6).tolist() == [0.0, 5.0, 10.0]  # as a CSV export writes 5.0%
    assert table["flag"].tolist() == ["FALSE", "TRUE", "FALSE"]
    assert pd.api.types.is_datetime64_any_dtype(table["signed"])
    assert locate(table, 2) == "row 4"
    with pytest.raises(ParameterError, match=r"--sheet Nope: .* its sheets are 'About', 'Leads'"):
        read_table(tmp_path / "leads.csv", sheet="Nope")


@pytest.mark.parametrize(
    ("above", "note"),
    [
        ([["Q3 lead export"]], "row 1 ('Q3 lead export') looks like a title, not the header: skipped row 1"),
        ([[None, "Q3 lead export", None], [], ["", "  "]], "row 1 ('Q3 lead export') looks like a title, not the header: skipped rows 1-3"),
        (
            [["Q3 lead export"], ["Exported by J. Doe"]],
            "skipped rows 1-2 above the header, a report's title and notes ('Q3 lead export', 'Exported by J. Doe'),",
        ),
    ],
    ids=["title", "title-off-column-a-blank-rows", "two-title-rows"],
)
def test_a_title_above_a_sheets_header_is_skipped_as_a_csvs_is(tmp_path: Path, above: list[list], note: str) -> None:
    """A sheet saved below a title (pandas' ``to_excel(startrow=2)``, a title typed in A1) reads as its CSV export does; rows keep the sheet's numbers."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in [*above, ["id", "x", "is_hot_lead"], ["A", 1, 0], ["B", 2, 1]]:
        workbook.active.append(row)
    workbook.save(tmp_path / "leads.xlsx")
    header_row = len(above) + 1
    with pytest.warns(ReadingWarning) as caught:
        table = read_table(tmp_path / "leads.xlsx")
    assert [str(w.message) for w in caught] == [
        f"{tmp_path / 'leads.xlsx'}: {note} and read the header from row {header_row}. Delete the rows above the header to read the sheet without this warning."
    ]
    assert table.columns.tolist() == ["id", "x", "is_hot_lead"] and table["id"].tolist() == ["A", "B"]
    assert [locate(table, i) for i in range(2)] == [f"row {header_row + 1}", f"row {header_row + 2}"]


def test_a_reports_preamble_above_a_sheets_header_is_skipped_as_a_csvs_is(tmp_path: Path) -> None:
    """A report sheet: its title, a label beside a date cell, twelve filter rows and a blank row above the header, all skipped."""
    import openpyxl

    above = [["Leads, Q3 2024"], ["Exported on", pd.Timestamp("2024-10-01").to_pydatetime()], *([[f"Filter: Region = EMEA {i}"] for i in range(12)]), []]
    workbook = openpyxl.Workbook()
    for row in [*above, ["id", "name", "revenue", "country", "is_hot_lead"], ["A", "a", 1.5, "FR", 0], ["B", "b", 2, "DE", 1]]:
        workbook.active.append(row)
    workbook.save(tmp_path / "leads.xlsx")
    with pytest.warns(ReadingWarning) as caught:
        table = read_table(tmp_path / "leads.xlsx")
    assert [str(w.message) for w in caught] == [
        f"{tmp_path / 'leads.xlsx'}: skipped rows 1-15 above the header, a report's title and notes ('Leads, Q3 2024', 'Exported on, 2024-10-01', "
        "'Filter: Region = EMEA 0' and 11 more), and read the header from row 16. Delete the rows above the header to read the sheet without this warning."
    ]
    assert table.columns.tolist() == ["id", "name", "revenue", "country", "is_hot_lead"] and table["id"].tolist() == ["A", "B"]
    assert [locate(table, i) for i in range(2)] == ["row 17", "row 18"]


SHEET_FOOTER = [["Confidential Information - Do Not Distribute"], ["Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."]]


@pytest.mark.parametrize(
    ("under", "footer", "skipped"),
    [
        (
            [[]],
            SHEET_FOOTER,
            "rows 5-6 under the table, a report's footer ('Confidential Information - Do Not Dis...', 'Copyright (c) 2000-2024 salesforce.co...')",
        ),
        (
            [[], [None, None]],
            [SHEET_FOOTER[0], [], [None, "  Copyright  (c)\n2000 "]],  # empty rows among them, one off column A
            "rows 6-8 under the table, a report's footer ('Confidential Information - Do Not Dis...', 'Copyright (c) 2000')",
        ),
        (
            [[]],
            [[f"Note {i}"] for i in range(10)],
            "rows 5-14 under the table, a report's footer ('Note 0', 'Note 1', 'Note 2' and 7 more)",
        ),  # as many as a CSV's
    ],
    ids=["salesforce", "blank-rows-among-them", "ten-rows"],
)
def test_a_reports_footer_under_a_sheets_table_is_skipped_as_a_csvs_is(tmp_path: Path, under: list[list], footer: list[list], skipped: str) -> None:
    """A report sheet closes with an empty row and rows of one cell: skipped with one warning naming the sheet rows,
    whole or in chunks, as a CSV's footer is; the rows keep the sheet's numbers."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in [["id", "revenue", "is_hot_lead"], ["A", 1.5, 0], ["B", 2, 1], *under, *footer]:
        workbook.active.append(row)
    workbook.save(tmp_path / "leads.xlsx")
    with pytest.warns(ReadingWarning) as caught:
        table = read_table(tmp_path / "leads.xlsx")
        chunks = list(read_chunks(tmp_path / "leads.xlsx", chunk_rows=1))
    assert {str(w.message) for w in caught} == {f"{tmp_path / 'leads.xlsx'}: skipped {skipped}. Delete them to read the sheet without this warning."}
    assert table["id"].tolist() == ["A", "B"] and [locate(table, i) for i in range(2)] == ["row 2", "row 3"]
    assert [chunk["id"].tolist() for chunk in chunks] == [["A"], ["B"]]


@pytest.mark.parametrize(
    "rows",
    [
        [["id", "revenue", "is_hot_lead"], ["A", 1.5, 0], ["B", None, None]],  # a last row of one cell right under the table
        [["id", "revenue", "is_hot_lead"], ["A", 1.5, 0], [], ["B", 2, 1], ["C", None, None]],  # an empty row above the table's last rows
        [["id"], ["A"], [], ["B"]],  # a one-column sheet: every row fills one cell
        [["id", "revenue", "is_hot_lead"], ["A", 1.5, 0], [], *([[f"Note {i}"] for i in range(11)])],  # more rows than a footer has
    ],
    ids=["no-empty-row-above", "empty-row-higher-up", "one-column", "eleven-rows"],
)
def test_rows_of_one_cell_that_are_no_footer_are_kept(tmp_path: Path, rows: list[list]) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(tmp_path / "t.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning of rows skipped
        table = read_table(tmp_path / "t.xlsx")
    assert len(table) == sum(map(any, rows)) - 1


def test_a_sheets_genuine_header_is_never_taken_for_a_preamble(tmp_path: Path) -> None:
    """A two-column sheet, and one whose header has a blank cell above rows of numbers, keep row 1 as their header."""
    import openpyxl

    for rows in ([["id", "label"], ["A", "x"], ["B", "y"]], [["id", "name", None, None], ["A", None, None, None], ["B", "b", 1, 2]]):
        workbook = openpyxl.Workbook()
        for row in rows:
            workbook.active.append(row)
        workbook.save(tmp_path / "t.xlsx")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning of rows skipped
            assert read_table(tmp_path / "t.xlsx").columns[:2].tolist() == ["id", rows[0][1]]


def test_a_one_column_sheet_has_no_title(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in [["id"], ["A"], ["B"]]:
        workbook.active.append(row)
    workbook.save(tmp_path / "ids.xlsx")
    assert read_table(tmp_path / "ids.xlsx")["id"].tolist() == ["A", "B"]  # a warning would fail the test


def cover_workbook(path: Path, cover: list[list[str]]) -> Path:
    """A workbook whose first sheet, 'About', is a cover page, and whose data is on 'Leads' (then 'Q3 notes')."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "About"
    for row in cover:
        workbook.active.append(row)
    leads = workbook.create_sheet("Leads")
    for row in (["id", "x", "is_hot_lead"], ["A", 1, 0], ["B", 2, 1]):
        leads.append(row)
    workbook.create_sheet("Q3 notes").append(["kept for the record"])
    workbook.save(path)
    return path


def test_a_first_sheet_read_by_default_names_the_other_sheets(tmp_path: Path) -> None:
    path = cover_workbook(tmp_path / "leads.xlsx", [["Lead export"], ["Generated 2024-11-02"], [], ["Contact", "ops@example.com"]])
    note = "; read sheet 'About', the workbook's first: the data may be on another (--sheet Leads, --sheet 'Q3 notes')"
    assert other_sheets(read_table(path)) == note  # for the messages of a missing column
    assert other_sheets(next(read_chunks(path))) == note
    with pytest.raises(
        DataError,
        match=r"rows 1-4 \('Lead export', 'Generated 2024-11-02', 'Contact, ops@example.com'\) look like a report's title and notes, and no header or rows follow them; export the table[^;]*$",
    ):
        read_table(path, sheet="About")  # a sheet chosen is not second-guessed (no other sheet named): a cover page alone is refused as one
    assert other_sheets(read_table(path, sheet="Leads")) == ""
    assert other_sheets(read_table(write(tmp_path / "t.csv", "a,b\n1,2\n"))) == ""


@pytest.mark.parametrize(("cover", "problem"), [([], "is empty"), ([["Lead export, Q3"]], "has no rows under its first one")], ids=["empty", "title-only"])
def test_an_empty_or_title_only_first_sheet_names_the_other_sheets(tmp_path: Path, cover: list, problem: str) -> None:
    path = cover_workbook(tmp_path / "leads.xlsx", cover)
    with pytest.raises(
        DataError, match=rf"leads\.xlsx: sheet 'About' \(the workbook's first\) {problem}; the data may be on another: --sheet Leads, --sheet 'Q3 notes'\.$"
    ):
        read_table(path)


def test_files_into_moves_every_file_or_none(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "keep.txt", "mine")
    write(folder / "train.csv", "old")
    with files_into(folder) as staging:
        write_csv(pd.DataFrame({"a": [1]}), staging / "train.csv")
        write_json({"f1": 0.5}, staging / "bayes.json")
    assert sorted(p.name for p in folder.iterdir()) == ["bayes.json", "keep.txt", "train.csv"]
    assert (folder / "train.csv").read_text() == "a\n1\n" and (folder / "keep.txt").read_text() == "mine"


def test_files_into_a_failed_block_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "train.csv", "old")
    with pytest.raises(OSError, match="No space left") as info, files_into(folder) as staging:
        write_csv(pd.DataFrame({"a": [1]}), staging / "train.csv")
        raise OSError(28, "No space left on device", str(staging / "test.csv"))
    assert info.value.filename == str(folder / "test.csv")  # the file where it was going, not the staging folder
    assert sorted(p.name for p in folder.iterdir()) == ["train.csv"] and (folder / "train.csv").read_text() == "old"


def test_a_refused_write_that_names_no_file_names_where_it_was_going(tmp_path: Path) -> None:
    """A full disk or a file size limit met in write() or close() names no file, nor do Arrow's writers: each writer names its
    target (the file of a temporary folder as the file it becomes), so that the error line can say where the write failed."""
    with pytest.raises(OSError) as info, atomic_path(tmp_path / "out.csv"):
        raise OSError(errno.EFBIG, "File too large")
    assert info.value.filename == str(tmp_path / "out.csv")
    with pytest.raises(OSError) as info, atomic_dir(tmp_path / "model") as tmp, atomic_path(tmp / "predictor.json"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.filename == str(tmp_path / "model" / "predictor.json")
    with pytest.raises(OSError) as info, atomic_dir(tmp_path / "model") as tmp:
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.filename == str(tmp_path / "model")
    with pytest.raises(OSError) as info, files_into(tmp_path / "data") as staging:
        with atomic_path(staging / "train.csv"):
            raise OSError(errno.EFBIG, "File too large")
    assert info.value.filename == str(tmp_path / "data" / "train.csv")
    with pytest.raises(OSError) as info, naming(tmp_path / "part.parquet"):
        raise OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")
    assert info.value.filename == str(tmp_path / "part.parquet")
    with pytest.raises(OSError) as info, naming(tmp_path / "part.parquet"):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "elsewhere.csv")
    assert info.value.filename == "elsewhere.csv"  # a named error keeps its name
    assert list(tmp_path.iterdir()) == []


def test_files_into_a_failed_block_removes_the_folders_it_created(tmp_path: Path) -> None:
    with pytest.raises(OSError), files_into(tmp_path / "new" / "data") as staging:
        write_csv(pd.DataFrame({"a": [1]}), staging / "train.csv")
        raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []
