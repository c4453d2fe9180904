"""Where data enters and leaves: reading CSV/Parquet tables and writing outputs atomically.

CSV columns are read as text so that :mod:`hotleads.schema` decides each column's type and can
name the exact row of a bad value. Every output goes to a temporary file in the destination
folder first and is renamed into place, so a failed run never leaves a half-written file nor
overwrites a good one.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

from .exceptions import DataError, ParameterError

PARQUET_SUFFIXES = {".parquet", ".pq"}
SPREADSHEET_SUFFIXES = {".xlsx", ".xls", ".ods"}
_MAX_BAD_ROWS_SHOWN = 3


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet table; CSV values stay text (``None`` where empty).

    Raises
    ------
    DataError
        When the file is missing, empty, binary, not a table, has only a header, or has rows
        with a different number of fields than the header.
    """
    path = Path(path)
    _check_readable(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        table = _read_parquet(path)
    else:
        table = _read_csv(path)
        table.attrs.update(row_offset=2, row_unit="line")  # messages point at file lines
    if len(table) == 0:
        raise DataError(f"{path}: the file has a header but no rows; add at least one data row.")
    return table


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file; check the path (current folder: {Path.cwd()}).")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a table; give the path of a .csv or .parquet file.")
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        raise DataError(f"{path}: spreadsheets are not read directly; save the sheet as CSV and pass that file.")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; it needs a header line and data rows.")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pa_parquet.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({_first_line(exc)}); re-export it or pass a CSV.") from None


def _read_csv(path: Path) -> pd.DataFrame:
    header = _csv_header(path)
    bad_rows: list[str] = []

    def remember_bad_row(row: pa_csv.InvalidRow) -> str:
        bad_rows.append(f"line {row.number} has {row.actual_columns} fields")
        return "skip"

    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=False),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=remember_bad_row, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True
            ),
        )
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({_first_line(exc)}); check the file is a comma-separated table.") from None
    if bad_rows:
        shown = ", ".join(bad_rows[:_MAX_BAD_ROWS_SHOWN])
        more = f" and {len(bad_rows) - _MAX_BAD_ROWS_SHOWN} more" if len(bad_rows) > _MAX_BAD_ROWS_SHOWN else ""
        raise DataError(
            f"{path}: {len(bad_rows)} ragged row(s): {shown}{more}, but the header has {len(header)}; "
            "fix the rows (quote values that contain commas)."
        )
    return table.to_pandas()


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        head = handle.read(65536)
    if b"\x00" in head:
        raise DataError(f"{path}: looks like a binary file, not CSV; pass a .csv or .parquet table.")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = head.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise DataError(f"{path}: is not text; pass a UTF-8 CSV file.") from None
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise DataError(f"{path}: the first line is blank; it must be the header with the column names.")
    header = [name.strip() for name in next(csv.reader([first_line]))]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise DataError(f"{path}: the header repeats column(s) {duplicated}; give every column a unique name.")
    return header


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    check_file_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; swap it in for ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())
    try:
        yield tmp
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")
    return Path(path)


def _json_default(value: object) -> object:
    if hasattr(value, "tolist"):  # numpy scalars and arrays (an array's .item() fails unless size 1)
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
