"""Where data enters and leaves: reading CSV/Parquet/Excel tables and writing outputs atomically.

Tables are read as people export them: the delimiter is sniffed, the encoding found (UTF-8,
UTF-16, cp1252), Parquet and Excel recognised by content. CSV columns are read as text so that
:mod:`hotleads.schema` decides each column's type and can name the exact file line of a bad value.
A table too large for memory, or a folder of them, is read in chunks (:func:`read_chunks`), each
the frame :func:`read_table` would give for its rows. Every output goes to a temporary file in the destination
folder first and is renamed into place, so a failed run never leaves a half-written file nor
overwrites a good one.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import copy
import csv
import ctypes
import datetime
import hashlib
import io
import itertools
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

from .exceptions import DataError, DataWarning, ParameterError, ReadingWarning

PARQUET_SUFFIXES = {".parquet", ".pq"}
SPREADSHEET_SUFFIXES = {".xlsx", ".xls", ".ods"}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SEP_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", "\\t": "\t"}
_SNIFF_BYTES = 1 << 16
_SNIFF_RECORDS = 200
_MAX_BAD_ROWS_SHOWN = 3
# The stdlib csv module refuses a field over 131,072 characters, where Arrow reads the table: a long notes cell made
# schema, evaluate and the service's CSV endpoint fail on a file predict scored. 2**31 - 1 is a C long everywhere.
csv.field_size_limit(2**31 - 1)


class RowLocations:
    """Where each row of a table stands in its file, for messages: ``"line 7"`` or ``"row 7"``.

    ``first`` is the file line (or sheet row) of the first data row; ``numbers``, when given,
    holds each row's own line, for files whose quoted fields span lines or that skip blank
    lines. Stored in ``DataFrame.attrs["rows"]``; pandas copies attrs with every operation, so
    a copy is the same object (the array is never changed).

    A CSV table or chunk also knows the data rows it was read from: ``span`` of them, rows of
    bare separators (``,,,,``) included, and ``ordinals``, each row's 0-based position among them
    (None: the rows are those ``span`` rows), so that a table without ids numbers its rows as its
    file does (:func:`row_numbers`).
    """

    def __init__(
        self, unit: str = "line", first: int = 2, numbers: np.ndarray | None = None, *, span: int | None = None, ordinals: np.ndarray | None = None
    ) -> None:
        self.unit, self.first, self.numbers = unit, first, numbers
        self.span, self.ordinals = span, ordinals

    def after(self, rows: int) -> RowLocations:
        """These locations for a frame read after ``rows`` data rows that gave no row (rows of bare separators): its rows number on from them."""
        moved = copy.copy(self)
        moved.ordinals = (np.arange(self.span) if self.ordinals is None else self.ordinals) + rows
        moved.span = self.span + rows
        return moved

    def number(self, position: int) -> int:
        return int(self.numbers[position]) if self.numbers is not None else position + self.first

    def __call__(self, position: int) -> str:
        return f"{self.unit} {self.number(position)}"

    def __deepcopy__(self, memo: dict) -> RowLocations:
        return self

    def __eq__(self, other: object) -> bool:  # pandas compares attrs when it combines frames
        return isinstance(other, RowLocations) and (self.unit, self.first) == (other.unit, other.first) and (self.numbers is other.numbers)

    __hash__ = None


def row_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Each row's 0-based position among the data rows of its file (or chunk): the Id of a table without ids.

    A row of bare separators (``,,,,``) is left out of the table but keeps its number, so the row
    under it keeps the number it has in the file (and in ``pandas.read_csv``, which keeps such a
    row); blank lines, which every reader skips, have none.
    """
    ordinals = getattr(frame.attrs.get("rows"), "ordinals", None)
    return np.array(ordinals, dtype=np.int64) if ordinals is not None and len(ordinals) == len(frame) else np.arange(len(frame))


def rows_spanned(frame: pd.DataFrame) -> int:
    """How many data rows of its file ``frame`` was read from: its rows and the rows of bare separators among (or before) them."""
    span = getattr(frame.attrs.get("rows"), "span", None)
    return len(frame) if span is None else int(span)


def locate(frame: pd.DataFrame, position: int) -> str:
    """``"line 7"`` (CSV), ``"row 7"`` (sheet or Parquet, 1 = first data row) for the row at ``position``."""
    rows = frame.attrs.get("rows")
    return rows(position) if isinstance(rows, RowLocations) else f"row {position + 1}"


def read_table(path: str | Path, *, sep: str | None = None, encoding: str | None = None, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel (.xlsx) table, recognised by content, not by file name.

    CSV values stay text (``None`` only where a cell is empty) so that :mod:`hotleads.schema`
    decides each column's type and names the exact line of a bad value. The delimiter (``,``
    ``;`` tab ``|``) is sniffed unless ``sep`` is given; the encoding is UTF-8 (with or without
    BOM), UTF-16 (Excel's "Unicode text"), else cp1252 with a warning, unless ``encoding`` is
    given. A report's preamble above the header (its title ``Q3 leads,,,,``, an ``Exported on,2024-10-01,,,,`` line,
    filter lines; up to 50 lines, in a CSV or a sheet) is skipped with a warning, as is a CSV report's footer (lines of one
    field under an empty line at the end: Salesforce's ``"Confidential Information - Do Not Distribute"``), and rows whose
    every field is empty or whitespace (``,,,,``, ``, , ,``, or ``,,`` short of the header's width) as blank lines are; ``attrs["rows"]`` still names each row's
    file line. An .xlsx workbook is read from its first sheet, or ``sheet`` (a name or a 1-based
    number); its numbers and dates keep their types; :func:`other_sheets` names the other sheets
    of a workbook read from its first.

    Raises
    ------
    DataError
        When the file is missing, empty, binary, not a table, cannot be decoded, has only a
        header, has rows with a different number of fields than the header (naming the line that
        looks like the header when a preamble line was read as one), or a preamble above no
        header, or alone.
    ParameterError
        When ``sep``, ``encoding`` or ``sheet`` is not usable for this file (a ``sep`` that splits
        the header into fewer fields than the delimiter the file seems to have).
    """
    path = Path(path)
    kind = _table_kind(path, sheet)
    if kind == "parquet":
        table = _read_parquet(path)
    elif kind == "xlsx":
        table = _read_xlsx(path, sheet)
    else:
        table = _read_csv(path, sep=_check_sep(sep), encoding=encoding)
    if len(table) == 0:
        raise no_rows_error(path)
    return table


def no_rows_error(path: str | Path, header: Sequence[str] | None = None, line: int = 1, unit: str = "line") -> DataError:
    """The error for a table without data rows; when its header (on ``line``, a ``unit`` of the file) has one name among blank
    ones (``Q3 lead export,,,,``, a title as Excel writes one), or is one name of several words (``Q3 Leads Report``), it says
    that line looks like a title with nothing under it."""
    names = [name for i, name in enumerate(header or ()) if name != f"Unnamed: {i}"]  # _column_names' name for a blank one
    if header is not None and len(names) == 1 and (len(header) > 1 or len(names[0].split()) > 1):
        return DataError(
            f"{path}: {unit} {line} ('{_shortened(names[0])}') looks like a title, and no header or rows follow it; "
            "export the table with its header row and data rows (a title above the header is skipped)."
        )
    return DataError(f"{path}: the file has a header but no rows; add at least one data row.")


def _preamble_alone_error(path: str | Path, unit: str, texts: list[str], first: int, last: int) -> DataError:
    """The error for a report's preamble (``unit``s ``first`` to ``last``, whose filled records read ``texts``) with no table under it:
    its last line (``Exported on,2024-10-01``) names two cells, and would otherwise be refused as a header without rows."""
    return DataError(
        f"{path}: {unit}s {first}-{last} ({_quoted_texts(texts)}) look like a report's title and notes, and no header or rows follow them; "
        "export the table with its header row and data rows (a title above the header is skipped)."
    )


def _shortened(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _quoted_texts(texts: list[str]) -> str:
    """``'Q3 leads', 'Exported on, 2024-10-01', 'Filtered by:' and 2 more``: a preamble's lines as messages show them."""
    return _first_few([f"'{_shortened(text)}'" for text in texts[:3]], len(texts))


def _first_few(shown: Sequence[str], total: int) -> str:
    """``a, b, c and 4 more``: the few items ``shown`` of ``total``, then how many more (a message stays one line)."""
    return ", ".join(shown) + (f" and {total - len(shown)} more" if total > len(shown) else "")


def _table_kind(path: Path, sheet: str | None) -> str:
    """parquet, xlsx or csv, after checking the file can be read (and ``sheet`` applies to it)."""
    _check_readable(path)
    kind = _content_kind(path)
    if sheet is not None and kind != "xlsx":
        raise ParameterError(f"--sheet {sheet}: {path} is not an Excel workbook; --sheet applies to .xlsx files only.")
    return kind


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file; check the path (current folder: {Path.cwd()}).")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a table; give the path of a .csv, .parquet or .xlsx file.")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; it needs a header line and data rows.")


def _content_kind(path: Path) -> str:
    """parquet, xlsx or csv, by the file's first bytes (an export's name often lies)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"{path}: is a legacy Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV (UTF-8) and pass that file.")
    if head.startswith(b"PK\x03\x04"):
        names = _zip_names(path)
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            raise DataError(f"{path}: is an OpenDocument spreadsheet; save it as .xlsx or CSV and pass that file.")
        if not names or path.suffix.lower() in SPREADSHEET_SUFFIXES:
            raise DataError(f"{path}: not a readable .xlsx workbook (a damaged or partial file); re-save it from Excel or export CSV.")
        raise DataError(f"{path}: is a ZIP archive, not a table; unpack it and pass the .csv, .parquet or .xlsx inside.")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        raise DataError(f"{path}: not a readable Parquet file (no Parquet header); re-export it or pass a CSV.")
    return "csv"


def _zip_names(path: Path) -> set[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return set()


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        # Converted column by column, each Arrow column freed once converted, and no 2D block to stack them into.
        table = _index_as_columns(_parquet_table(path).to_pandas(split_blocks=True, self_destruct=True))
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({_first_line(exc)}); re-export it or pass a CSV.") from None
    release_memory()
    table.attrs["rows"] = RowLocations("row", first=1)
    return table


def _index_as_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A named index that pandas stored in the file (``df.set_index("company_id").to_parquet(...)``) back as columns;
    one named like a column (``set_index("company_id", drop=False)``) stays the index: the column has its values."""
    names = [name for name in frame.index.names if name is not None and name not in frame.columns]
    return frame.reset_index(level=names) if names else frame


def _parquet_table(path: Path) -> pa.Table:
    """The whole file as one Arrow table, read as many columns at a time as Arrow has threads.

    Decoding every column at once held about 1.5x the table in buffers at its peak (5,000,000
    rows: 1,440-1,590 MiB for an 840 MiB table); a few columns at a time hold about 1.1x, in
    about the same time on 2 cores.
    """
    parquet = pa_parquet.ParquetFile(path)
    names, step = parquet.schema_arrow.names, max(pa.cpu_count(), 1)
    if len(set(names)) < len(names):  # a column named twice: Arrow's whole read refuses it, naming the column
        return pa_parquet.read_table(path)
    columns = []
    for start in range(0, len(names), step):
        wanted = names[start : start + step]
        part = parquet.read(columns=wanted)
        if part.column_names != wanted:  # a name such as 'a.x' that is also a nested field's path reads both
            return pa_parquet.read_table(path)
        columns += part.columns
    return pa.Table.from_arrays(columns, schema=parquet.schema_arrow)  # the pandas metadata (index, dtypes) kept


def release_memory() -> None:
    """Hand back to the system the memory freed after a big read, typing or matrix.

    Arrow's pool keeps freed blocks for reuse (a million-row Parquet read held ~125 MiB more
    resident than its table needs), and so does glibc's heap for numpy's and LightGBM's smaller
    blocks; Dask's workers trim it with the same ``malloc_trim`` call. Elsewhere (macOS, musl) only
    Arrow's pool is released.
    """
    pa.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _malloc_trim() if sys.platform.startswith("linux") else None


# ------------------------------------------------------------------------------------ Excel


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    import openpyxl  # here, not at the top: it costs 0.2 s and most tables are CSV

    with path.open("rb") as handle, warnings.catch_warnings():  # a handle: openpyxl refuses names not ending in .xlsx
        # openpyxl warns about workbook features it skips (default styles, data validation); the values are read all the same
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise DataError(f"{path}: not a readable .xlsx workbook ({_first_line(exc)}); re-save it from Excel or export CSV.") from None
        try:
            worksheet = _worksheet(workbook, sheet, path)
            others = tuple(title for title in workbook.sheetnames if title != worksheet.title) if sheet is None else ()
            rows = [(number, cells) for number, cells in enumerate(map(_cell_values, worksheet.iter_rows()), start=1) if any(_filled(v) for v in cells)]
        finally:
            workbook.close()
    if not rows and others:
        raise DataError(f"{path}: sheet '{worksheet.title}' (the workbook's first) is empty; the data may be on another: {_sheet_options(others)}.")
    if not rows:
        raise DataError(f"{path}: sheet '{worksheet.title}' is empty; it needs a header row and data rows.")
    if not others:
        _refuse_preamble_alone(path, rows)
    rows = rows[_sheet_preamble_rows(path, rows) :]
    rows = rows[: len(rows) - _sheet_footer_rows(path, rows)]
    (header_row, header), body = rows[0], rows[1:]
    if not body and others:
        raise DataError(
            f"{path}: sheet '{worksheet.title}' (the workbook's first) has no rows under its first one; the data may be on another: {_sheet_options(others)}."
        )
    names = _column_names([None if v is None else str(v) for v in header], path)
    if not body:
        raise no_rows_error(path, names, header_row, unit="row")
    width = len(names)
    columns = {name: [row[i] if i < len(row) else None for _, row in body] for i, name in enumerate(names)}
    extra = [number for number, row in body if any(_filled(v) for v in row[width:])]
    if extra:
        raise DataError(
            f"{path}: sheet '{worksheet.title}' has values right of the header in {_count_list('row', extra)}; give those columns a header or delete them."
        )
    table = pd.DataFrame({name: _sheet_column(values) for name, values in columns.items()})
    numbers = np.array([number for number, _ in body], dtype=np.int64)
    # An empty sheet row keeps its number, as pandas.read_excel keeps it (and a CSV's row of bare separators): a table
    # without ids numbers its rows as its sheet does (row_numbers); pandas trims empty rows after the last one, as here.
    span = int(numbers[-1] - header_row) if len(numbers) else 0
    table.attrs["rows"] = RowLocations("row", numbers=numbers, span=span, ordinals=numbers - header_row - 1)
    if others:
        table.attrs["sheets"] = (worksheet.title, others)
    return table


def _sheet_preamble_rows(path: Path, rows: list[tuple[int, tuple]]) -> int:
    """How many of a sheet's first filled rows (numbered) are a preamble above the header, skipped with the warning a CSV's gets.

    The rule is a CSV's (:func:`_preamble_length`), over at most :data:`_MAX_PREAMBLE` sheet rows, blank ones
    included; a preamble with no row under its header is left alone (a cover page of a title and a contact line
    is left to the messages naming other sheets).
    """
    count = _preamble_length([cells for number, cells in rows if number <= _MAX_PREAMBLE + 1])
    if count == 0 or count + 1 == len(rows):
        return 0
    texts = [", ".join(_shown_cell(v) for v in cells if _filled(v)) for _, cells in rows[:count]]
    _warn_preamble(path, "row", texts, first=rows[0][0], header_at=rows[count][0])
    return count


def _sheet_footer_rows(path: Path, rows: list[tuple[int, tuple]]) -> int:
    """How many of a sheet's last filled rows (numbered) are a report's footer under the table, skipped with the warning a CSV's gets.

    The rule is a CSV's (:func:`_footer`): rows filling one cell, at most :data:`_MAX_FOOTER`, with empty rows among
    them, under an empty row under the table's last row; a last row of one cell right under the table is a row.
    """
    count = 0
    while count < len(rows) and sum(map(_filled, rows[-1 - count][1])) == 1:
        count += 1
    if count == 0 or count == len(rows) or count > _MAX_FOOTER or rows[-count][0] - rows[-count - 1][0] < 2:  # no footer, no row above, or no empty row
        return 0
    texts = [" ".join(_shown_cell(next(v for v in cells if _filled(v))).split()) for _, cells in rows[-count:]]
    _warn_footer(path, _Footer(rows[-count][0], rows[-1][0], texts), unit="row")
    return count


def _refuse_preamble_alone(path: Path, rows: list[tuple[int, tuple]]) -> None:
    """Refuse a sheet of a preamble alone (a title and an ``Exported on | 2024-10-01`` row): the rule finds its last row to be
    the header, with no row under it. (A workbook with other sheets is left to the messages naming them.)"""
    count = _preamble_length([cells for number, cells in rows if number <= _MAX_PREAMBLE + 1])
    if count and count + 1 == len(rows) and _preamble_cells(rows[-1][1]) <= 2:
        texts = [", ".join(_shown_cell(v) for v in cells if _filled(v)) for _, cells in rows]
        raise _preamble_alone_error(path, "row", texts, rows[0][0], rows[-1][0])


def _shown_cell(value: object) -> str:
    """A preamble cell as the warning shows it: a date cell (``Exported on | 2024-10-01``) without its midnight time."""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    return _cell_text(value).strip()


def other_sheets(frame: pd.DataFrame) -> str:
    """For a message about missing columns: ``"; read sheet 'About' (the first) ... --sheet Leads"`` when ``frame`` is the
    first sheet of a workbook with others, read because no ``--sheet`` was given; else ``""``."""
    read, others = frame.attrs.get("sheets", (None, ()))
    return f"; read sheet '{read}', the workbook's first: the data may be on another ({_sheet_options(others)})" if others else ""


def _sheet_options(titles: tuple[str, ...], limit: int = 5) -> str:
    return _first_few([f"--sheet {shlex.quote(title)}" for title in titles[:limit]], len(titles))


def _cell_values(cells) -> tuple:
    """A sheet row's values; a number shown as a percentage (0.063 shown as 6.3%) as the 6.3 it shows.

    A CSV export of the same sheet writes ``6.3%``, which :mod:`hotleads.parsing` reads as 6.3, so
    a workbook and its CSV give the model the same numbers.
    """
    return tuple(
        cell.value * 100
        if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) and "%" in (getattr(cell, "number_format", None) or "")
        else cell.value
        for cell in cells
    )


def _worksheet(workbook, sheet: str | None, path: Path):
    titles = workbook.sheetnames
    if sheet is None:
        return workbook[titles[0]]
    if sheet in titles:
        return workbook[sheet]
    if sheet.isdigit() and 1 <= int(sheet) <= len(titles):
        return workbook[titles[int(sheet) - 1]]
    listed = ", ".join(f"'{t}'" for t in titles)
    raise ParameterError(f"--sheet {sheet}: {path} has no such sheet; its sheets are {listed} (give a name or a number from 1 to {len(titles)}).")


def _filled(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _sheet_column(values: list) -> pd.Series:
    """A sheet column: numbers stay numbers and dates dates when every filled cell is one; else text."""
    filled = [v for v in values if _filled(v)]
    if filled and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in filled):
        return pd.Series([float(v) if _filled(v) else np.nan for v in values], dtype="float64")
    if filled and all(isinstance(v, (datetime.datetime, datetime.date)) for v in filled):
        return pd.to_datetime(pd.Series([v if _filled(v) else None for v in values], dtype=object))
    return pd.Series([_cell_text(v) for v in values], dtype=object)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # as Excel shows them and writes them to CSV
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------- preamble
# A report saved as CSV or .xlsx (Salesforce and Excel "formatted report" saves, a HubSpot list saved through Excel) may
# open with a preamble above the header: its title, the export date, filter lines, blank lines. One rule finds it in both.

_MAX_PREAMBLE = 50  # lines (sheet rows) above the header that may be a preamble; a longer block is read as the table it opens
_VALUE = re.compile(r"[-+]?[$€£]?\d[\d.,' ]*%?|\d{1,4}([-/.])\d{1,2}\1\d{1,4}(?:[ T][\d:.]+)?")  # 1,234.5  -3  12%  2024-10-01


def _preamble_length(records: Sequence[Sequence[object]]) -> int:
    """How many of a table's first records (each a list of cells: text, or a sheet's typed values) are a preamble above its
    header; 0 when the first record is the header.

    The header is the last record, among the first :data:`_MAX_PREAMBLE` + 1, that names two columns or more and has only
    preamble lines above it (:func:`_heads_table`): the last, not the first, since a ``label,value`` line names two. The
    search ends at the first record that is no preamble line whatever lies under it (three filled cells or more, or two
    not in its first two fields), so a header of three names or more, or two with a blank among or before them, stays
    the header; so does one naming the first two columns of a table of two or three, whose rows never name four.
    """
    found = 0
    for position, cells in enumerate(records[: _MAX_PREAMBLE + 1]):
        if position and _heads_table(cells, records[:position]):
            found = position
        if _preamble_cells(cells) > 2:
            break
    return found


def _heads_table(header: Sequence[object], above: Sequence[Sequence[object]]) -> bool:
    """Whether ``header`` can be the header under the records ``above`` it, each then a line of a report's preamble.

    It names two columns or more. A record above it is blank, or fills one cell anywhere (a title, a filter line; a
    header naming one column reads the same); or fills its first two fields (``Exported on,2024-10-01,,,,``) when the
    header names four columns or more, none of them a number or a date: tables of two or three columns have headers
    of two names, and a header naming its first two columns only must not give way to a data row, which holds numbers.
    (The one header still taken for such a line: one naming only the first two of four columns or more, above a row
    of text alone filling four cells or more; no CRM export writes one.)
    """
    names = [v for v in header if _filled(v)]
    if len(names) < 2:
        return False
    most = 2 if len(names) >= 4 and not any(_is_value(v) for v in names) else 1
    return all(_preamble_cells(cells) <= most for cells in above)


def _preamble_cells(cells: Sequence[object]) -> int:
    """The filled cells of a record as a preamble line holds them: 0, 1, 2 when they are its first two fields; else 3 (none is)."""
    filled = [i for i, v in enumerate(cells) if _filled(v)]
    return len(filled) if len(filled) <= 1 or filled == [0, 1] else 3


def _is_value(cell: object) -> bool:
    """Whether a cell is a number or a date: a data value, not a column name."""
    if isinstance(cell, (int, float, datetime.date, datetime.time)):
        return True
    return isinstance(cell, str) and _VALUE.fullmatch(cell.strip()) is not None


def _warn_preamble(path: Path, unit: str, texts: list[str], first: int, header_at: int) -> None:
    """Warn that ``unit``s (``line`` or ``row``) ``first`` to ``header_at`` - 1 were skipped as a preamble whose filled records read ``texts``."""
    skipped = f"{unit} {first}" if header_at - first == 1 else f"{unit}s {first}-{header_at - 1}"
    if len(texts) == 1:
        what = f"{unit} {first} ('{_shortened(texts[0])}') looks like a title, not the header: skipped {skipped}"
    else:
        what = f"skipped {skipped} above the header, a report's title and notes ({_quoted_texts(texts)}),"
    whole = "the file" if unit == "line" else "the sheet"
    warnings.warn(
        f"{path}: {what} and read the header from {unit} {header_at}. Delete the {unit}s above the header to read {whole} without this warning.",
        ReadingWarning,  # printed even when the command then fails: an error about the columns may come of it
        stacklevel=5,
    )


# -------------------------------------------------------------------------------------- CSV


def _check_sep(sep: str | None) -> str | None:
    if sep is None:
        return None
    sep = SEP_NAMES.get(sep.lower(), sep)
    if len(sep) != 1 or sep in '"\r\n':
        raise ParameterError(f"--sep must be one character (',', ';', '|') or 'tab'; got {sep!r}.")
    return sep


def _read_csv(path: Path, *, sep: str | None, encoding: str | None) -> pd.DataFrame:
    data = path.read_bytes()
    text, used = _decode(path, data, encoding)
    del data  # as large as the text, and no longer needed
    layout = _csv_layout(path, text, sep)
    text, sep, header = layout.text, layout.sep, layout.header
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    # Arrow reads a plain UTF-8 file itself: its text (as large as the table) is let go during the
    # parse, and decoded again only for a file whose records do not each take one line.
    source = path if used == "utf-8" and not layout.lines_above else pa.BufferReader(text.encode("utf-8"))
    if isinstance(source, Path):
        text = None
    bad_rows: list[tuple[int, int, bool]] = []
    try:
        table = pa_csv.read_csv(source, **_arrow_csv_options(header, sep, bad_rows, skip_rows=1, use_threads=True))
        if bad_rows:
            source = source if isinstance(source, Path) else pa.BufferReader(text.encode("utf-8"))
            bad_rows = _numbered_bad_rows(source, header, sep, skip_rows=1)
    except pa.ArrowException as exc:
        raise _unreadable_csv(path, sep, exc) from None
    records = None
    if lines != table.num_rows + len(bad_rows) + 1:  # quoted line breaks or blank lines: only such files pay for this Python pass
        records = _record_starts(io.StringIO(path.read_bytes().decode("utf-8") if text is None else text, newline=""), sep)
    if layout.lines_above:
        records = (records if records is not None else np.arange(1, table.num_rows + len(bad_rows) + 2)) + layout.lines_above
    if bad_rows:  # a report's footer under the table is skipped with a warning; other ragged rows are refused
        whole, first = (path, 1) if text is None else (text, layout.lines_above + 1)
        head = _Head(layout.text, layout.lines_above + 1)
        _refuse_ragged(path, bad_rows, records, len(header), sep, head=head, footer=lambda: _footer(whole, used, sep, first))
    del text, source
    table, kept, span = _without_empty_rows(table, _short_empty_rows(bad_rows, skip_rows=1))
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    release_memory()
    if len(frame) == 0:
        raise no_rows_error(path, header, layout.lines_above + 1)
    frame.attrs["rows"] = RowLocations("line", first=2, numbers=_kept_lines(records, kept), span=span, ordinals=kept)
    frame.attrs["delimiter"] = sep  # a ';' file is a European export: schema leans to decimal commas
    return frame


def _without_empty_rows(table: pa.Table, skipped: np.ndarray | None = None) -> tuple[pa.Table, np.ndarray | None, int]:
    """(the table less its rows whose every field is empty or whitespace, the positions among the records read of the rows
    kept (None when every record is a row kept), how many records were read: the table's rows and the ``skipped`` ones).

    Excel exports a blank sheet row as ``,,,,`` (often several at the end of the sheet), a hand-made
    file as ``, , ,`` or ``,,`` under a wider header: no data, so it goes as a blank line does.
    ``skipped`` holds the positions among the records read of those Arrow left out as ragged,
    short rows of empty fields (:func:`_short_empty_rows`): the rows kept are numbered around them.
    """
    span = table.num_rows + (0 if skipped is None else len(skipped))
    kept = None if skipped is None or not len(skipped) else np.delete(np.arange(span), skipped)
    empty = _empty_rows(table)
    if empty is None:
        return table, kept, span
    rows = np.flatnonzero(~empty)
    return table.take(rows), rows if kept is None else kept[rows], span


def _empty_rows(table: pa.Table) -> np.ndarray | None:
    """Where every field of a row is empty (None) or only whitespace; None when no row is.

    A column with no such cell ends the check: a clean table is let go after one column, the one
    with no empty cell and the fewest bytes, is seen to hold no whitespace-only value (5 ms a
    million rows); a column of a sparse table, once no row is left whose cells so far are all empty.
    """
    if table.num_rows == 0:
        return None
    columns = sorted(table.columns, key=lambda column: (column.null_count > 0, column.nbytes))
    if columns[0].null_count == 0 and not pc.any(pc.utf8_is_space(columns[0])).as_py():
        return None
    empty = None
    for column in columns:
        blank = pc.or_kleene(pc.is_null(column), pc.utf8_is_space(column))
        empty = blank if empty is None else pc.and_(empty, blank)
        if not pc.any(empty).as_py():
            return None
    return empty.to_numpy(zero_copy_only=False)


def _kept_lines(records: np.ndarray | None, kept: np.ndarray | None) -> np.ndarray | None:
    """The file line of each row kept (None: row i is on line i + 2), from the records' lines (header first) and the rows kept."""
    if kept is None:
        return None if records is None else records[1:]
    return kept + 2 if records is None else records[1:][kept]


class _Layout(NamedTuple):
    """Where a CSV file's table starts, from its first lines (see :func:`_csv_layout`)."""

    text: str  # the decoded text from the header line on
    sep: str
    header: list[str]
    lines_above: int  # physical lines above the header: Excel's sep= line, then a report's preamble (title, notes, empty lines)
    records_above: int  # of them, those that are records (blank lines are none), as _record_starts counts them


def _csv_layout(path: Path, text: str, sep: str | None, *, whole: bool = True) -> _Layout:
    """The delimiter, header and lines above the header of a CSV file's decoded text (or its first part: ``whole`` False).

    Above the header may stand Excel's ``sep=;`` line, then a report's preamble: its title
    (``Q3 leads`` or, as Excel writes a title row, ``Q3 leads,,,,``), notes such as
    ``Exported on,2024-10-01,,,,`` and filter lines, and empty lines (the rule:
    :func:`_preamble_length`). A preamble is skipped, with a warning, when the record under it
    names two columns or more; otherwise the file is refused, since the preamble would be read as
    the column names.

    Raises
    ------
    DataError
        A preamble above no header, or alone (its last line taken for the header, nothing under it); a blank first line;
        a repeated column name.
    ParameterError
        ``sep`` splits the header into fewer fields than another delimiter that splits every line alike.
    """
    text = text.lstrip("\ufeff")
    hint = _EXCEL_SEP_LINE.match(text)
    if hint:  # Excel's "sep=;" first line names the delimiter; the header follows it
        text = text[hint.end() :]
    preamble = _preamble_lines(text, sep or (hint.group(1) if hint else None))
    above = text[: preamble[-1][1]] if preamble else ""
    body = text[len(above) :]
    chosen = sep or (hint.group(1) if hint else None) or sniff_delimiter(body[:_SNIFF_BYTES])
    if sep:
        _check_given_sep(path, body[:_SNIFF_BYTES], chosen)
    if preamble:
        _check_preamble(path, preamble, body, chosen, first_line=2 if hint else 1, lines=_physical_lines(above), whole=whole)
    lines_above = bool(hint) + _physical_lines(above)
    records_above = bool(hint) + sum(1 for line, _ in preamble if line)
    return _Layout(body, chosen, _csv_header(path, body, chosen), lines_above, records_above)


def _preamble_lines(text: str, sep: str | None) -> list[tuple[str, int]]:
    """(record, offset after it) of each record of a preamble above the header (:func:`_preamble_length`); none unless line 1 is filled.

    Preamble lines are judged under the delimiter of the lines from the header on: ``Leads; Q3 2024,,,,``
    is a title above a ``,`` header. So the preamble is looked for under each delimiter (``sep``
    first), and kept under the one the lines from its header on are sniffed in: a header is never a
    preamble line under its own delimiter, and a line 1 that ``sep`` splits in two or more, with no
    preamble found under ``sep``, is the header.
    """
    records = _first_records(text, _MAX_PREAMBLE + 1)
    if not records or _is_empty_line(records[0][0], sep):  # an empty line 1 is no title: refused as a blank header
        return []
    for delimiter in dict.fromkeys([*(sep or ""), *DELIMITERS]):  # a given delimiter first
        cells = [_fields(line, delimiter) for line, _ in records]
        count = _preamble_length(cells)
        if count and sniff_delimiter(text[records[count - 1][1] :][:_SNIFF_BYTES]) == delimiter:  # the lines from the header on are in it
            return records[:count]
        if delimiter == sep and sum(1 for field in cells[0] if field.strip()) > 1:  # line 1 is the header under sep
            return []
    return []


_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\n|\r|$)")


_MAX_RECORD_LINES = 20  # physical lines a quoted field may join into one record while the preamble is looked for


def _first_records(text: str, limit: int) -> list[tuple[str, int]]:
    """(record, offset after it) of the first ``limit`` CSV records of ``text``: physical lines joined while a quoted field is
    open, so that a header cell written over two lines (Excel's Alt+Enter, ``"Company\nID",name,...``) is one record, not a
    one-field "title" line.

    A quote left open for more than :data:`_MAX_RECORD_LINES` lines is a stray one (``5" screens report,,,,``): its line
    is then a record alone, so that one inch mark neither joins the whole file into one record nor costs a pass per line.
    """
    lines = []
    for match in itertools.islice(_LINE.finditer(text), limit * _MAX_RECORD_LINES):
        lines.append((match.group(0), match.end()))
        if match.end() == len(text):  # the regex's empty match at the very end is no line
            break
    records, start = [], 0
    while start < len(lines) and len(records) < limit:
        end, quotes = start, lines[start][0].count('"')
        while quotes % 2 and end + 1 < min(len(lines), start + _MAX_RECORD_LINES):
            end += 1
            quotes += lines[end][0].count('"')
        if quotes % 2 and end + 1 < len(lines):  # no closing quote within reach: a stray quote, not a field over lines
            end = start
        records.append(("".join(line for line, _ in lines[start : end + 1]).rstrip("\r\n"), lines[end][1]))
        start = end + 1
    return records


def _after_lines(text: str, count: int) -> str:
    """``text`` less its first ``count`` physical lines."""
    for _ in range(count):
        match = _LINE.match(text)
        text = text[match.end() :]
    return text


def _physical_lines(text: str) -> int:
    """Lines in ``text``, a run of whole lines (each ending in a line break)."""
    return len(re.findall(r"\r\n|\n|\r", text))


def _fields(line: str, sep: str) -> list[str]:
    """The fields of one record (a line break inside it counts as a space: another delimiter may not see its quotes)."""
    return next(csv.reader([re.sub(r"[\r\n]+", " ", line)], delimiter=sep), [])


def _is_empty_line(line: str, sep: str | None) -> bool:
    return not line.strip("".join({*DELIMITERS, *(sep or "")}) + '" ')


_NOTHING = re.compile(r"[\s,;|\"]*")  # what is left of a file of blank lines and rows of bare separators


def _check_preamble(path: Path, preamble: list[tuple[str, int]], body: str, sep: str, first_line: int, lines: int, *, whole: bool = True) -> None:
    """Warn that the preamble above the header (its records, ``lines`` physical lines from ``first_line``) is skipped; refuse
    it when the record under it is no header (fewer than two names under ``sep``), or when that record reads as a preamble
    line too (``Exported on,2024-10-01``) and nothing follows it in the file (``whole``: ``body`` runs to its end)."""
    first = _first_records(body, 1)[0] if body else ("", 0)
    header = _fields(first[0], sep)
    texts = [", ".join(" ".join(field.split()) for field in _fields(line, sep) if field.strip()) for line, _ in [*preamble, first]]
    texts = [text for text in texts if text]  # a title cell written over two lines shows on one; empty lines show nothing
    if sum(1 for name in header if name.strip()) < 2:
        raise DataError(
            f"{path}: line {first_line} ('{_shortened(texts[0])}') looks like a title above the header; delete the lines above the header row "
            "(or export the table without a title)."
        )
    if whole and _preamble_cells(header) <= 2 and _NOTHING.fullmatch(body, first[1]):
        raise _preamble_alone_error(path, "line", texts, first_line, first_line + lines + _physical_lines(first[0]))
    _warn_preamble(path, "line", texts[:-1], first=first_line, header_at=first_line + lines)


def _check_given_sep(path: Path, sample: str, sep: str) -> None:
    """Refuse a ``--sep`` that splits the header into fewer fields than the delimiter the file seems to have."""
    seen = sniff_delimiter(sample)
    if seen == sep:
        return
    scores = _delimiter_scores(sample, (sep, seen))
    (share, width), (seen_share, seen_width) = scores.get(sep, (0.0, 1)), scores.get(seen, (0.0, 1))
    if seen_width > width and (width == 1 or (seen_share == 1.0 and share < 1.0)):
        raise ParameterError(
            f"--sep {_sep_option(sep)}: splits the header of {path} into {width} field{'s' if width > 1 else ''}, but the file seems "
            f"{DELIMITERS[seen]}-separated ({seen_width} fields); pass --sep {_sep_option(seen)} or leave --sep out to have the delimiter detected."
        )


def _sep_option(sep: str) -> str:
    return "tab" if sep == "\t" else f"'{sep}'"


def _arrow_csv_options(
    header: list[str], sep: str, bad_rows: list[tuple[int, int, bool]], *, skip_rows: int, use_threads: bool = False, **read: object
) -> dict:
    """Arrow's options for hotleads' CSV reading: every column text, empty cells None, ragged rows noted in ``bad_rows``.

    ``bad_rows`` receives (record number, fields, empty) of each row whose field count differs from
    the header's (header = record 1; the number is None with ``use_threads``, Arrow's parallel
    parsing, which reads a file about 1.4 times as fast on 2 cores); ``empty`` when the row is
    shorter than the header and its fields are all empty or whitespace (``,,`` under a wider
    header), no data but a blank row: left out as ``,,,,`` is. ``read`` adds reading options
    (``block_size``, ``encoding``).
    """

    def remember_bad_row(row: pa_csv.InvalidRow) -> str:
        short = row.actual_columns < row.expected_columns
        bad_rows.append((row.number, row.actual_columns, short and not any(field.strip() for field in next(csv.reader([row.text], delimiter=sep), []))))
        return "skip"

    return {
        "read_options": pa_csv.ReadOptions(use_threads=use_threads, column_names=header, skip_rows=skip_rows, **read),
        "parse_options": pa_csv.ParseOptions(delimiter=sep, invalid_row_handler=remember_bad_row, newlines_in_values=True),
        "convert_options": pa_csv.ConvertOptions(column_types={name: pa.string() for name in header}, null_values=[""], strings_can_be_null=True),
    }


def _numbered_bad_rows(source: Path | pa.NativeFile, header: list[str], sep: str, *, skip_rows: int, **read: object) -> list[tuple[int, int, bool]]:
    """(record number, fields, empty) of every ragged row: parsing in parallel Arrow cannot number them, so they are read once more in one thread."""
    bad_rows: list[tuple[int, int, bool]] = []
    with pa_csv.open_csv(source, **_arrow_csv_options(header, sep, bad_rows, skip_rows=skip_rows, **read)) as reader:
        for _ in reader:
            pass
    return bad_rows


def _unreadable_csv(path: Path, sep: str, exc: BaseException) -> DataError:
    return DataError(
        f"{path}: cannot be read as a {DELIMITERS.get(sep, repr(sep))}-separated table ({_first_line(exc)}); check the file, or set the delimiter with --sep."
    )


def _short_empty_rows(bad_rows: list[tuple[int, int, bool]], skip_rows: int) -> np.ndarray | None:
    """The positions among the data records of the short rows of empty fields Arrow left out (numbered: see
    :func:`_numbered_bad_rows`), for :func:`_without_empty_rows`; None when there is none. Arrow counts the
    ``skip_rows`` lines it skipped, then records, from 1."""
    found = [number - skip_rows - 1 for number, _, empty in bad_rows if empty]
    return np.asarray(found, dtype=np.int64) if found else None


class _Head(NamedTuple):
    """The first part of a CSV file's text from its header on (``text``; at least its first :data:`_MAX_PREAMBLE` records),
    and the file line the header is on (``line``): where :func:`_refuse_ragged` looks for the header under a preamble line."""

    text: str
    line: int


class _Footer(NamedTuple):
    """A report's footer under a table (:func:`_footer`, :func:`_sheet_footer_rows`): the file lines (or sheet rows) of its
    first and last lines, and their texts."""

    first: int
    last: int
    texts: list[str]


def _refuse_ragged(
    path: Path,
    bad_rows: list[tuple[int, int, bool]],
    records: np.ndarray | None,
    width: int,
    sep: str,
    *,
    head: _Head | None = None,
    footer: Callable[[], _Footer | None] | None = None,
) -> None:
    """Refuse the ragged rows among ``bad_rows`` (short rows of empty fields are none: left out as blank rows); nothing when there is none.

    ``records`` holds the file line of each record as Arrow numbers them (header = 1; None: record n is on line n).
    ``footer`` finds the file's footer (:func:`_footer`, read only when a row is ragged): ragged rows on its lines are
    skipped, with a warning. ``head`` (None when the rows read are not under the header) lets the message name the line
    that looks like the header when the one read is narrower than the rows (a preamble line taken for it).
    """
    bad_rows = [(number, fields) for number, fields, empty in bad_rows if not empty]
    if not bad_rows:
        return
    # Arrow numbers records (header = 1); a record's file line differs once a quoted field spans lines.
    lines = [(int(records[n - 1]) if records is not None else n, fields) for n, fields in bad_rows]
    found = footer() if footer is not None and any(fields == 1 for _, fields in lines) else None  # a pass over the file: only for lines of one field
    if found is not None and any(line >= found.first for line, _ in lines):
        _warn_footer(path, found)
        lines = [(line, fields) for line, fields in lines if line < found.first]
        if not lines:
            return
    widths = {fields for _, fields in lines}
    if width == 1 and len(widths) == 1 and min(widths) > 1:  # one field on line 1, the same many below: a title above the header
        raise DataError(
            f"{path}: line 1 has one field but the rows below have {min(widths)}: it looks like a title above the header; "
            "delete the lines above the header row (or export the table without a title)."
        )
    below = _header_below(head, sep, width) if head is not None else None
    if below is not None:
        line, fields = below
        above = "line 1" if line == 2 else f"lines 1-{line - 1}"
        raise DataError(
            f"{path}: the header read from line {head.line} has {_fields_words(width)} but the rows have {fields}: line {line} has the width "
            f"of the rows and looks like the header; delete {above} above it."
        )
    shown = _first_few([f"line {line} has {_fields_words(fields)}" for line, fields in lines[:_MAX_BAD_ROWS_SHOWN]], len(lines))
    raise DataError(
        f"{path}: {len(lines)} ragged row(s): {shown}, but the header has {width} "
        f"({DELIMITERS.get(sep, repr(sep))}-separated); fix the rows (quote values that contain the delimiter) or set the delimiter with --sep."
    )


def _fields_words(count: int) -> str:
    return f"{count} field{'s' if count != 1 else ''}"


def _header_below(head: _Head, sep: str, width: int) -> tuple[int, int] | None:
    """(file line, fields) of the line that looks like the header, under one of ``width`` fields taken for it; None if none does.

    Among the first :data:`_MAX_PREAMBLE` records under the header read, when most have the same number of fields, more
    than ``width``: the first of that width, when it holds more names (filled cells, no number or date) than most of them
    and none twice. A line of a preamble, such as ``Filtered by,Industry,equals Tech`` above the header, stops the
    preamble's skip (:func:`_preamble_length`), and the line above it is read as the header; rows whose values hold the
    delimiter unquoted (``Smith, John,100`` under ``name,revenue``) have no such line.
    """
    records = _first_records(head.text, _MAX_PREAMBLE + 1)
    rows = []  # (file line, fields) of each record under the header
    for (_, start), (record, _) in zip(records, records[1:], strict=False):
        if not _is_empty_line(record, sep):
            rows.append((head.line + _physical_lines(head.text[:start]), _fields(record, sep)))
    if not rows:
        return None
    widths = [len(fields) for _, fields in rows]
    common = max(set(widths), key=lambda count: (widths.count(count), -widths.index(count)))  # the most frequent; the first of equals
    if common <= width or widths.count(common) * 2 <= len(widths):
        return None
    named = [(line, [field.strip() for field in fields if field.strip() and not _is_value(field)]) for line, fields in rows if len(fields) == common]
    line, names = named[0]
    usual = sorted(len(names) for _, names in named)[len(named) // 2]
    return (line, common) if len(names) > usual and len(set(names)) == len(names) else None


_MAX_FOOTER = 10  # lines of a report's footer under a CSV table, or rows under a sheet's (Salesforce writes two)
_TAIL_LINES = 64  # the last lines of a file kept while looking for a footer


def _footer(source: str | Path, encoding: str, sep: str, first: int = 1) -> _Footer | None:
    """A report's footer at the end of a CSV file, or None: lines filling one field (``"Confidential Information - Do Not
    Distribute"``, ``"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."``), at most :data:`_MAX_FOOTER`,
    with empty lines among them, under an empty line (blank, or only separators) under the table's last row.

    ``source`` is the file's text from file line ``first`` on, or the file, read in ``encoding`` (the error path only: a
    pass over the whole file). Symmetric to the preamble above the header (:func:`_preamble_length`); a footer is known
    only at the end, so the readers decide on it once a row has been found ragged.
    """
    with contextlib.ExitStack() as stack:
        handle = (
            io.StringIO(source, newline="")
            if isinstance(source, str)
            else stack.enter_context(open(source, encoding=encoding.replace("+cp1252", ""), errors="replace", newline=""))
        )
        tail = collections.deque(((number, line.rstrip("\r\n")) for number, line in enumerate(handle, start=first)), maxlen=_TAIL_LINES)
    run: list[tuple[int, str]] = []  # the file's last lines, empty or of one field, last first
    while tail and (_is_empty_line(tail[-1][1], sep) or len(_fields(tail[-1][1], sep)) == 1):
        run.append(tail.pop())
    filled = [(number, line) for number, line in reversed(run) if not _is_empty_line(line, sep)]
    if not tail or not filled or len(filled) > _MAX_FOOTER or not _is_empty_line(run[-1][1], sep):  # no row above, no footer, or no empty line under the rows
        return None
    return _Footer(filled[0][0], filled[-1][0], [" ".join(_fields(line, sep)[0].split()) for _, line in filled])


def _warn_footer(path: Path, footer: _Footer, unit: str = "line") -> None:
    """Warn that ``unit``s (``line`` or ``row``) ``footer.first`` to ``footer.last`` were skipped as a report's footer."""
    lines = f"{unit} {footer.first}" if footer.first == footer.last else f"{unit}s {footer.first}-{footer.last}"
    whole = "the file" if unit == "line" else "the sheet"
    warnings.warn(
        f"{path}: skipped {lines} under the table, a report's footer ({_quoted_texts(footer.texts)}). "
        f"Delete {'it' if footer.first == footer.last else 'them'} to read {whole} without this warning.",
        ReadingWarning,  # printed even when the command then fails
        stacklevel=5,
    )


def sniff_delimiter(sample: str) -> str:
    r"""The delimiter among ``,`` ``;`` tab ``|`` that splits a sample's first lines most consistently.

    Each candidate parses the sample with quoting rules (so ``"Smith, Jones"`` is one field); the
    winner gives the most records with the header's number of fields (more than one), then the
    most fields.

    Examples
    --------
    >>> sniff_delimiter('id;name;revenue\n1;"Cole, Bailey";1,5\n2;Ann;2,0\n')
    ';'
    """
    scores = {sep: score for sep, score in _delimiter_scores(sample, DELIMITERS).items() if score[1] >= 2}
    return max(scores, key=scores.get) if scores else ","  # the first of the best, in DELIMITERS' order


def _delimiter_scores(sample: str, seps) -> dict[str, tuple[float, int]]:
    """For each delimiter of ``seps``: (share of the sample's records with the header's number of fields, that number)."""
    cut = sample.rfind("\n")
    sample = sample[: cut + 1] if cut > 0 else sample
    scores = {}
    for sep in seps:
        records = [r for r in itertools.islice(csv.reader(io.StringIO(sample, newline=""), delimiter=sep), _SNIFF_RECORDS) if r]
        if records:
            width = len(records[0])
            scores[sep] = (sum(len(r) == width for r in records) / len(records), width)
    return scores


_JSON_START = re.compile(rb'^(\xef\xbb\xbf)?\s*(\{\s*"|\[\s*[\[{"\]])')  # an object, or a list of objects, lists or strings


def _refuse_other_formats(path: Path, data: bytes) -> None:
    """Name a compressed or JSON file for what it is: read as text, it would look like a binary file or a broken header."""
    if data.startswith(b"\x1f\x8b"):
        raise DataError(f"{path}: is gzip-compressed; decompress it first (gunzip -c {shlex.quote(str(path))} > table.csv) and pass the table it holds.")
    if _JSON_START.match(data[:_SNIFF_BYTES]):
        raise DataError(f"{path}: looks like JSON, not a table; export it as CSV, Parquet or .xlsx.")


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """(text, encoding used): the given encoding, else a BOM's, else UTF-8, else cp1252 with a warning."""
    _refuse_other_formats(path, data)
    if encoding:
        return _decode_as(path, data, encoding), encoding
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _decode_as(path, data, name), name
    utf16 = _bomless_utf16(data)
    if utf16:
        return _decode_as(path, data, utf16), utf16
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise DataError(f"{path}: looks like a binary file, not a table; pass a .csv, .parquet or .xlsx file.")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        where = _where(data, exc.start, data[: exc.start].decode("utf-8", errors="replace"))
        mixed = data.decode("utf-8", errors="surrogateescape")
        if any(ord(c) > 127 and not 0xDC80 <= ord(c) <= 0xDCFF for c in mixed):
            # Real UTF-8 letters elsewhere: a few bytes pasted from a Windows program, not a cp1252 file.
            warnings.warn(
                f"{path}: is UTF-8 but has bytes that are not (the first, 0x{data[exc.start]:02x}, at {where}); "
                "read those bytes as cp1252 (Windows Western European) and the rest as UTF-8.",
                DataWarning,
                stacklevel=4,
            )
            return _SURROGATE.sub(lambda m: bytes([ord(m.group()) - 0xDC00]).decode("cp1252", errors="replace"), mixed), "utf-8+cp1252"
        fallback = "cp1252" if _decodes(data, "cp1252") else "latin-1"
        warnings.warn(
            f"{path}: is not UTF-8 (byte 0x{data[exc.start]:02x} at {where}); read it as {fallback} "
            f"(Windows Western European). If letters look wrong, pass --encoding with the file's encoding.",
            DataWarning,
            stacklevel=4,
        )
        return data.decode(fallback), fallback


_EXCEL_SEP_LINE = re.compile(r"sep=(.)\r?\n")
_SURROGATE = re.compile("[\udc80-\udcff]")


def _decode_as(path: Path, data: bytes, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ParameterError(f"--encoding {encoding}: unknown encoding; use e.g. utf-8, utf-16, cp1252 or latin-1.") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode(encoding, errors="replace")
        raise DataError(
            f"{path}: encoding: the file is not valid {encoding} (byte 0x{data[exc.start]:02x} at {_where(data, exc.start, prefix)}); "
            "re-export it as UTF-8, or pass the file's real encoding with --encoding (e.g. cp1252)."
        ) from None


def _bomless_utf16(data: bytes) -> str | None:
    """utf-16-le/-be for text whose every other byte is NUL (UTF-16 without a BOM), else None."""
    head = data[:4096]
    if len(head) < 4 or head.count(b"\x00") < len(head) // 3:
        return None
    if head[1::2].count(0) > len(head) // 3:
        return "utf-16-le"
    if head[0::2].count(0) > len(head) // 3:
        return "utf-16-be"
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _where(data: bytes, offset: int, decoded_prefix: str) -> str:
    """``"line 7, column 'city'"`` for a byte offset, from the text decoded before it."""
    line_start = decoded_prefix.rfind("\n") + 1
    header_line = decoded_prefix.split("\n", 1)[0] if "\n" in decoded_prefix else ""
    sep = sniff_delimiter(decoded_prefix[:_SNIFF_BYTES]) if "\n" in decoded_prefix else ","
    header = next(csv.reader([header_line], delimiter=sep), []) if header_line else []
    fields = next(csv.reader([decoded_prefix[line_start:] + "x"], delimiter=sep), [""])
    column = header[len(fields) - 1].strip() if len(fields) - 1 < len(header) else f"field {len(fields)}"
    return f"line {decoded_prefix.count(chr(10)) + 1}, column '{column}'"


def _csv_header(path: Path, text: str, sep: str) -> list[str]:
    text = text.lstrip("\ufeff")
    first_line = re.match(r"[^\r\n]*", text).group()  # up to \n, \r\n or an old Mac's bare \r; not a split of the whole file
    names = next(csv.reader([first_line], delimiter=sep), [])
    if not any(name.strip() for name in names):  # Excel saves a blank first sheet row as ',,,,': blank all the same
        bare = " (only separators)" if first_line.strip() else ""
        raise DataError(f"{path}: the first line is blank{bare}; it must be the header with the column names.")
    return _column_names(names, path)


def _column_names(raw: list[str | None], path: Path) -> list[str]:
    """Stripped header names; a blank one (a saved pandas index) is named ``Unnamed: <position>`` as pandas does."""
    written = [(name or "").strip().lstrip("\ufeff") for name in raw]
    _refuse_blank_name_taken(written, path)
    names = [name or f"Unnamed: {i}" for i, name in enumerate(written)]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise DataError(f"{path}: the header repeats column(s) {duplicated}; give every column a unique name.")
    return names


def _refuse_blank_name_taken(written: list[str], path: Path) -> None:
    """Refuse a header cell reading ``Unnamed: 0`` beside the blank cell that name is for: the header does not repeat a name,
    but the two cannot be told apart. pandas writes such a header (``,Unnamed: 0,...``) when a table read with a saved
    index is saved again with its own index."""
    for blank, name in enumerate(written):
        if not name and f"Unnamed: {blank}" in written:
            other = written.index(f"Unnamed: {blank}")
            raise DataError(
                f"{path}: column {other + 1}'s header 'Unnamed: {blank}' is the name column {blank + 1}'s blank header is read by; "
                f"give column {blank + 1} a header or rename column {other + 1} (a table pandas saved twice with its index: save it with index=False)."
            )


def _record_starts(handle, sep: str) -> np.ndarray:
    """The line each non-blank record of an open text file (``newline=""``) starts on, as Arrow splits records."""
    reader = csv.reader(handle, delimiter=sep)
    starts, line = [], 1
    for record in reader:
        if record:
            starts.append(line)
        line = reader.line_num + 1
    return np.asarray(starts, dtype=np.int64)


# ----------------------------------------------------------------------------------- chunks

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", *PARQUET_SUFFIXES}


def table_files(path: str | Path) -> list[Path]:
    """The files a table argument names: the file itself, a folder's table files or a pattern's matches, in name order.

    A folder contributes its .csv, .tsv, .txt, .parquet and .pq files (hidden ones, such as
    hotleads' own temporary files, left out); a pattern (``exports/2024-*.csv``) every file it
    matches.

    Raises
    ------
    DataError
        When a pattern matches nothing or a folder holds no table file.
    """
    path = Path(path)
    if not path.exists() and any(c in path.name for c in "*?["):  # a file may have such a name: report[2024].csv
        files = sorted(p for p in path.parent.glob(path.name) if p.is_file())
        if not files:
            raise DataError(f"{path}: no file matches the pattern; check it (current folder: {Path.cwd()}).")
        return files
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise DataError(f"{path}: the folder holds no .csv or .parquet file; put the tables to score in it, or give the path of one file.")
    return files


def read_chunks(
    path: str | Path, *, chunk_rows: int = 100_000, sep: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> Iterator[pd.DataFrame]:
    r"""Read a table, a folder of tables or a pattern's files in chunks of ``chunk_rows`` rows, with bounded memory.

    Each chunk is the frame :func:`read_table` gives for those rows: the same columns and
    dtypes (CSV values as text), the same sniffed delimiter and encoding, and
    ``attrs["rows"]`` naming each row's line in its file, so that a bad value in the last chunk
    is reported at its file line. ``attrs["source"]`` is the chunk's file and ``attrs["read"]``
    the share of that file read so far (0-1). CSV is read by Arrow's
    streaming reader, Parquet a row group at a time; an .xlsx sheet (at most a million rows) and
    a CSV file mixing UTF-8 with cp1252 bytes are read whole and then cut into chunks.

    Parameters
    ----------
    path : str or Path
        A CSV, Parquet or .xlsx file; a folder (its table files in name order, see
        :func:`table_files`); or a pattern such as ``exports/*.parquet``.
    chunk_rows : int
        Rows per chunk (the last chunk of each file may have fewer, and so may a chunk where rows
        of empty fields were left out). Chunks never span files.
    sep, encoding, sheet
        As for :func:`read_table`.

    Yields
    ------
    DataFrame
        Up to ``chunk_rows`` rows, in file order.

    Raises
    ------
    DataError
        As :func:`read_table` does, for the file concerned; ragged rows as soon as a chunk holds one.
    ParameterError
        When ``chunk_rows`` is not a positive integer, or ``sep``, ``encoding``, ``sheet`` are not usable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "leads.csv").write_text("id;revenue\n1;2,5\n2;3\n3;4\n")
    ...     chunks = list(read_chunks(folder, chunk_rows=2))
    ...     last_line = locate(chunks[1], 0)  # file lines are looked up when a message needs one
    >>> [len(c) for c in chunks], chunks[1]["revenue"].tolist(), last_line, chunks[1].attrs["delimiter"]
    ([2, 1], ['4'], 'line 4', ';')
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise ParameterError(f"--chunk-rows must be a positive number of rows; got {chunk_rows!r}.")
    carried = 0  # data rows read but giving no row yet (rows of bare separators), in this file or the ones before
    for file in table_files(path):
        kind = _table_kind(file, sheet)
        if kind == "parquet":
            chunks = _parquet_chunks(file, chunk_rows)
        elif kind == "xlsx":
            chunks = _sliced(_read_xlsx(file, sheet), chunk_rows)
        else:
            chunks = _csv_chunks(file, chunk_rows, _check_sep(sep), encoding)
        rows = 0
        for chunk in chunks:
            if carried:
                chunk.attrs["rows"] = chunk.attrs["rows"].after(carried)
            if not len(chunk):  # only rows of bare separators: the rows after them keep their numbers
                carried = rows_spanned(chunk)
                continue
            carried, rows = 0, rows + len(chunk)
            chunk.attrs["source"] = str(file)
            yield chunk
        if rows == 0:
            raise no_rows_error(file)


def _sliced(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """A table read whole, as chunks whose row locations still name the file's lines."""
    located = frame.attrs.get("rows")
    ordinals = row_numbers(frame)
    for start in range(0, len(frame), rows):
        chunk = frame.iloc[start : start + rows].reset_index(drop=True)
        if isinstance(located, RowLocations):
            numbers = None if located.numbers is None else located.numbers[start : start + rows]
            base = ordinals[start - 1] + 1 if start else 0  # rows of bare separators before a chunk's first row are its own
            end = ordinals[start + rows - 1] + 1 if start + rows < len(frame) else rows_spanned(frame)  # the next chunk's base
            chunk_ordinals = ordinals[start : start + rows] - base
            chunk.attrs["rows"] = RowLocations(located.unit, first=located.first + start, numbers=numbers, span=int(end - base), ordinals=chunk_ordinals)
        chunk.attrs["read"] = min(start + rows, len(frame)) / len(frame)
        yield chunk


def _rebatched(batches, rows: int, schema: pa.Schema) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last one fewer) from Arrow record batches of any size."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema=schema)


def _parquet_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    start = 0
    try:
        parquet = pa_parquet.ParquetFile(path)
        for table in _rebatched(parquet.iter_batches(batch_size=rows), rows, parquet.schema_arrow):
            chunk = _index_as_columns(table.to_pandas())
            chunk.attrs["rows"] = RowLocations("row", first=start + 1)
            start += len(chunk)
            chunk.attrs["read"] = start / max(parquet.metadata.num_rows, 1)
            yield chunk
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({_first_line(exc)}); re-export it or pass a CSV.") from None


_CSV_BLOCK_BYTES = (1 << 20, 16 << 20)  # Arrow's read size: at least 1 MiB, about 256 bytes per chunk row, at most 16 MiB


def _csv_chunks(path: Path, rows: int, sep: str | None, encoding: str | None) -> Iterator[pd.DataFrame]:
    head = _head(path)
    text, used = _decode(path, head, encoding)
    if used == "utf-8+cp1252":  # two encodings in one file: no codec Arrow could stream it with
        yield from _sliced(_read_csv(path, sep=sep, encoding=encoding), rows)
        return
    layout = _csv_layout(path, text, sep, whole=len(head) == path.stat().st_size)
    sep, header, skip = layout.sep, layout.header, layout.lines_above + 1
    lines = _RecordLines(path, used, sep)
    ragged = {"head": _Head(layout.text, skip), "footer": lambda: _footer(path, used, sep)}
    bad_rows: list[tuple[int, int, bool]] = []
    shifted = None  # once a short row of empty fields is met: each one's position among the data records, less the number before it
    block = min(max(_CSV_BLOCK_BYTES[0], rows * 256), _CSV_BLOCK_BYTES[1])
    transcode = {} if used in ("utf-8", "utf-8-sig") else {"encoding": used}
    start, record, found, size = 0, 0, 0, max(path.stat().st_size, 1)
    try:
        with pa.OSFile(str(path)) as handle:  # opened here to see how far Arrow has read
            reader = pa_csv.open_csv(handle, **_arrow_csv_options(header, sep, bad_rows, skip_rows=skip, use_threads=True, block_size=block, **transcode))
            for table in _rebatched(reader, rows, reader.schema):
                if bad_rows and shifted is None:  # the rows read so far had none: every row before is where Arrow put it
                    numbered = _numbered_bad_rows(path, header, sep, skip_rows=skip, **transcode)
                    _refuse_ragged(path, numbered, _arrow_lines(lines.records(), skip, layout.records_above + 1), len(header), sep, **ragged)
                    empties = _short_empty_rows(numbered, skip)
                    empties = np.zeros(0, dtype=np.int64) if empties is None else empties  # none: the rows were a footer's
                    shifted = empties - np.arange(len(empties))
                # This chunk's records: from the first after the last chunk's to its last row (short empty rows before a row are its chunk's).
                end = table.num_rows + start - 1 + (0 if shifted is None else int(np.searchsorted(shifted, table.num_rows + start - 1, side="right")))
                skipped = None if shifted is None else (empties[(empties >= record) & (empties < end)] - record)
                filled, kept, span = _without_empty_rows(table, skipped)
                chunk = filled.to_pandas()  # no rows where every row was bare separators: read_chunks numbers the next rows on from them
                chunk.attrs["rows"] = _FileLines(lines, first_record=record + layout.records_above + 1, kept=kept, span=span)
                chunk.attrs["delimiter"] = sep  # as read_table notes it: schema leans to decimal commas in a ';' file
                chunk.attrs["read"] = min(handle.tell() / size, 1.0)  # Arrow reads a block ahead: about right, as a progress bar needs
                yield chunk
                start, record, found = start + table.num_rows, end + 1, found + len(chunk)
    except pa.ArrowException as exc:
        if "UTF8" in str(exc):  # the first 64 KiB were UTF-8, a later byte is not
            raise DataError(
                f"{path}: is UTF-8 in its first lines but not further on ({_first_line(exc)}); pass --encoding with the file's encoding (e.g. cp1252)."
            ) from None
        raise _unreadable_csv(path, sep, exc) from None
    if bad_rows and shifted is None:  # met after the last row: short empty rows at the end are nothing to number
        numbered = _numbered_bad_rows(path, header, sep, skip_rows=skip, **transcode)
        _refuse_ragged(path, numbered, _arrow_lines(lines.records(), skip, layout.records_above + 1), len(header), sep, **ragged)
    if found == 0:  # not one row under the header (rows of bare separators are none)
        raise no_rows_error(path, header, skip)


def _arrow_lines(records: np.ndarray, skipped_lines: int, skipped_records: int) -> np.ndarray:
    """The file line of each row number Arrow gives (from 1): it counts each line it skipped, blank ones too, then records."""
    return np.concatenate([np.arange(1, skipped_lines + 1), records[skipped_records:]])


def _head(path: Path) -> bytes:
    """The file's first 64 KiB, cut after a whole line (or a whole UTF-16 code unit), to sniff encoding and delimiter."""
    with path.open("rb") as handle:
        data = handle.read(_SNIFF_BYTES)
    if len(data) < _SNIFF_BYTES:
        return data
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _bomless_utf16(data):
        return data[: len(data) - len(data) % 2]
    cut = data.rfind(b"\n")
    return data[: cut + 1] if cut > 0 else data


class _RecordLines:
    """The line each record of a CSV file starts on (first the header), found only when a message needs one.

    Reading the file a second time costs a few seconds per GB, paid on the error path only.
    """

    def __init__(self, path: Path, encoding: str, sep: str) -> None:
        self.path, self.encoding, self.sep = path, encoding, sep
        self._starts: np.ndarray | None = None

    def records(self) -> np.ndarray:
        if self._starts is None:
            with self.path.open(encoding=self.encoding, errors="replace", newline="") as handle:
                self._starts = _record_starts(handle, self.sep)
        return self._starts


class _FileLines(RowLocations):
    """The file lines of a CSV chunk's rows; ``first_record`` counts the records before the chunk's first row (header included),
    ``kept`` holds the positions among the chunk's records of its rows when some (rows of empty fields) were left out."""

    def __init__(self, lines: _RecordLines, first_record: int, kept: np.ndarray | None = None, span: int | None = None) -> None:
        super().__init__("line", first=first_record + 1, span=span, ordinals=kept)
        self.lines, self.first_record, self.kept = lines, first_record, kept

    def number(self, position: int) -> int:
        record = int(self.kept[position]) if self.kept is not None else position
        try:
            return int(self.lines.records()[self.first_record + record])
        except OSError:  # the file is gone since: one line per record is the best guess left
            return self.first + record


def _count_list(unit: str, numbers: list[int], limit: int = 10) -> str:
    return f"{unit}{'s' if len(numbers) > 1 else ''} {_first_few([str(n) for n in numbers[:limit]], len(numbers))}"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    Missing folders above ``path`` are made; a failed block removes those again (see :func:`_made_folders`).
    A refused write names ``path``, not the temporary file (see :func:`_name_the_target`).

    Raises
    ------
    ParameterError
        ``path`` is a folder (before anything is made).
    """
    path = Path(path)
    check_file_target(path)
    with _made_folders(path.parent):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        try:
            yield tmp
            os.replace(tmp, path)
        except OSError as exc:
            _name_the_target(exc, tmp, path)
            raise
        finally:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; swap it in for ``path`` only if the block succeeds.

    Missing folders above ``path`` are made; a failed block removes those again (see :func:`_made_folders`).
    A refused write names ``path`` or the file in it, not the temporary folder (see :func:`_name_the_target`).
    """
    path = Path(os.path.abspath(path))  # "." and "x/.." have no name to put a temporary one beside
    if holds_working_folder(path):  # the callers check first; swapping it would leave the user's shell in a removed folder
        raise ParameterError(f"{path}: is the folder this command runs in, or one above it; it would be replaced whole, so name a new one.")
    with _made_folders(path.parent):
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        tmp.chmod(0o777 & ~_umask())
        old = None
        try:
            yield tmp
            if path.exists():  # moved onto an empty folder of a fresh name: never onto a ".x.old" of the user's
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
                os.replace(path, old)
            os.replace(tmp, path)
        except OSError as exc:
            if old is not None and not path.exists():  # the new one could not take its place: the old one goes back
                os.replace(old, path)
            _name_the_target(exc, tmp, path)
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if old is not None and old.exists() and path.exists():  # never the only copy left
                shutil.rmtree(old, ignore_errors=True)


def holds_working_folder(path: str | Path) -> bool:
    """Whether ``path`` is the current folder or one above it (``--out .``): replacing it whole would take the
    folder the command, and the user's shell, runs in."""
    here, target = Path.cwd().resolve(), Path(path).resolve()
    return target == here or target in here.parents


@contextlib.contextmanager
def _made_folders(folder: str | Path) -> Iterator[Path]:
    """Make ``folder`` and its missing parents for the block; if the block fails, remove again the folders made here.

    Only folders this call made, deepest first, and only while empty: a folder that was there
    before stays, and so does one another process has put something in since. A failed write
    to ``new/out.csv`` thus leaves no empty ``new/`` behind.
    """
    folder = Path(folder)
    created = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):  # not empty: never remove what is not ours
                path.rmdir()
        raise


@contextlib.contextmanager
def files_into(folder: str | Path) -> Iterator[Path]:
    """Yield a hidden staging folder inside ``folder``; move the files written there into ``folder`` only if the block succeeds.

    The files arrive all or none, each replacing its namesake; other files of ``folder`` stay.
    A failed block leaves ``folder`` as it was, and removes it (and its parents) where this call
    created it: a failed ``generate --out new/`` leaves no empty folder behind.
    """
    folder = Path(folder)
    with _made_folders(folder):
        staging = Path(tempfile.mkdtemp(prefix=".staging.", suffix=".tmp", dir=folder)).absolute()  # as mkstemp names its files
        try:
            yield staging
            files = sorted(staging.iterdir())
            for file in files:
                check_file_target(folder / file.name)  # before any is moved: all or none
            for file in files:
                os.replace(file, folder / file.name)
        except OSError as exc:
            _name_the_target(exc, staging, folder)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def naming(path: str | Path) -> Iterator[None]:
    """Name ``path`` in an ``OSError`` of the block that names no file: a write refused by a full disk or a file size
    limit names none, nor does any of Arrow's, and the message must say where the write was going."""
    try:
        yield
    except OSError as exc:
        if not exc.filename:
            _set_filename(exc, path)
        raise


def _name_the_target(exc: OSError, written: Path, target: Path) -> None:
    """Make a refused write name where it was going: ``target`` (or the file in it) rather than the temporary ``written``,
    and ``target`` when the system named nothing (a full disk or a file size limit met in ``write()``, ``close()``)."""
    if not exc.filename:
        _set_filename(exc, target)
        return
    failed, written = Path(exc.filename).absolute(), written.absolute()
    if failed == written:
        _set_filename(exc, target)
    elif failed.is_relative_to(written):
        _set_filename(exc, target / failed.relative_to(written))


def _set_filename(exc: OSError, path: Path) -> None:
    if exc.strerror is None:  # OSError(text): once it has a file name, str(exc) shows strerror instead of the text
        exc.strerror = str(exc)
    exc.filename = str(path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (no index), atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
    return Path(path)


EXCEL_MAX_ROWS = 1_048_576  # one of them is the header


def check_table_target(path: str | Path, rows: int) -> None:
    """Refuse, before any work, a table path :func:`write_table` could not write ``rows`` rows to."""
    path = Path(path)
    check_file_target(path)
    if path.suffix.lower() in SPREADSHEET_SUFFIXES - {".xlsx"}:
        raise ParameterError(f"{path}: hotleads writes spreadsheets as .xlsx only; end the path in .xlsx or .csv.")
    if path.suffix.lower() == ".xlsx" and rows >= EXCEL_MAX_ROWS:
        raise ParameterError(f"{path}: {rows:,} rows do not fit in an Excel sheet ({EXCEL_MAX_ROWS - 1:,} at most); write a .csv instead.")


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet: str = "leads") -> Path:
    """Write ``frame`` as Excel when ``path`` ends in ``.xlsx``, else as CSV; atomically either way."""
    path = Path(path)
    check_table_target(path, len(frame))
    if path.suffix.lower() != ".xlsx":
        return write_csv(frame, path)
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name=sheet, index=False)
            _as_text_not_formulas(writer.sheets[sheet], frame)
            writer.sheets[sheet].freeze_panes = "A2"
    return path


def _as_text_not_formulas(worksheet, frame: pd.DataFrame) -> None:
    """Keep values such as a company called ``=HYPERLINK(...)`` as text: a lead list never runs formulas."""
    for position, dtype in enumerate(frame.dtypes, start=1):
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            continue  # only text columns can hold a formula
        for (cell,) in worksheet.iter_rows(min_row=2, min_col=position, max_col=position):
            if cell.data_type == "f":
                cell.data_type = "s"


def check_file_target(path: str | Path) -> None:
    """Refuse an output path that is a folder, before anything is written."""
    if Path(path).is_dir():
        raise ParameterError(f"{path}: is a folder; give the path of the file to write.")


def write_json(obj: object, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON (through :func:`jsonable`), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(jsonable(obj), indent=2, sort_keys=False) + "\n")
    return Path(path)


def jsonable(value: object) -> object:
    """``value`` with numpy scalars and arrays as Python numbers and lists, tuples as lists, recursively.

    The one converter for everything hotleads writes as JSON (manifests, estimator parameters,
    metrics). Dictionary keys are kept as they are; anything else JSON cannot hold is returned
    unchanged, so ``json.dumps`` names it.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"w": np.array([1.5, 2.0]), "n": np.int64(3), "pair": (np.float32(0.5), None)})
    {'w': [1.5, 2.0], 'n': 3, 'pair': [0.5, None]}
    """
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays (an array's .item() fails unless size 1)
        return jsonable(value.tolist())
    return value


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks (a training table may not fit in memory twice)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
