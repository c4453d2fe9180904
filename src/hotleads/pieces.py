"""A table cut into pieces that any machine reads alike: the partitions of ``--engine dask``.

:func:`plan` cuts a table argument (a file, a folder or a pattern, as :func:`hotleads.io.table_files`
names them) into pieces of about ``rows`` rows; each piece is plain data (a path and a range), so it
travels to a worker on another machine, and its :meth:`~ParquetRows.read` gives the frame
:func:`hotleads.io.read_chunks` gives for those rows: the same readers (Arrow, every CSV value
text), the same ``attrs`` (``source``, ``delimiter``) and the same file lines in messages.

- Parquet: slices of exactly ``rows`` rows of each file, the chunks :func:`~hotleads.io.read_chunks`
  reads; only the footers are read to plan them.
- CSV: byte ranges of about ``rows`` rows (bytes per line estimated from the first 64 KiB), each
  starting on a line; the file lines of a range's rows are counted only when a message needs one.
  A range starts after a line break, so a quoted value that holds a line break must not straddle
  two ranges: such files (rare in exports) are read correctly by ``--engine local``, or whole as one
  piece with ``rows`` larger than the file.
- UTF-16 CSV files, files mixing UTF-8 with cp1252 bytes and Excel workbooks: one piece, read whole.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

from .exceptions import DataError
from .io import (
    _SNIFF_BYTES,
    RowLocations,
    _after_lines,
    _arrow_csv_options,
    _arrow_lines,
    _check_sep,
    _csv_layout,
    _decode,
    _FileLines,
    _first_line,
    _footer,
    _Head,
    _head,
    _record_starts,
    _refuse_ragged,
    _short_empty_rows,
    _table_kind,
    _unreadable_csv,
    _without_empty_rows,
    read_table,
    table_files,
)

_MIN_CSV_BYTES = 1 << 16  # a CSV piece is at least 64 KiB: smaller ones cost more in scheduling than they save


@dataclass(frozen=True)
class ParquetRows:
    """Rows ``start`` to ``stop`` (exclusive, 0-based) of a Parquet file."""

    file: str
    start: int
    stop: int

    def read(self) -> pd.DataFrame:
        """The rows as :func:`~hotleads.io.read_chunks` reads them (``attrs["rows"]``: ``row N`` of the file, 1 = first).

        Raises
        ------
        DataError
            The file is not (or no longer) a readable Parquet file.
        """
        try:
            parquet = pa_parquet.ParquetFile(self.file)
            groups, first = _row_groups(parquet.metadata, self.start, self.stop)
            table = pa.Table.from_batches(list(parquet.iter_batches(row_groups=groups)), schema=parquet.schema_arrow)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{self.file}: not a readable Parquet file ({_first_line(exc)}); re-export it or pass a CSV.") from None
        frame = table.slice(self.start - first, self.stop - self.start).to_pandas()
        frame.attrs.update(rows=RowLocations("row", first=self.start + 1), source=self.file)
        return frame


def _row_groups(metadata: pa_parquet.FileMetaData, start: int, stop: int) -> tuple[list[int], int]:
    """(the row groups holding rows ``start`` to ``stop``, the file row of the first one's first row)."""
    ends = np.cumsum([metadata.row_group(k).num_rows for k in range(metadata.num_row_groups)])
    first, last = int(np.searchsorted(ends, start, side="right")), int(np.searchsorted(ends, stop - 1, side="right"))
    return list(range(first, last + 1)), int(ends[first - 1]) if first else 0


@dataclass(frozen=True)
class CsvBytes:
    """Bytes ``start`` to ``stop`` of a CSV file, whole lines; ``skip`` lines (Excel's ``sep=`` line, a title, the header) open the
    first range, ``blank`` of them empty lines (under a title), which are no records."""

    file: str
    start: int
    stop: int
    sep: str
    header: tuple[str, ...]
    encoding: str
    skip: int
    blank: int = 0

    def read(self) -> pd.DataFrame:
        """The range's rows as :func:`~hotleads.io.read_chunks` reads them: every value text, ``attrs["rows"]`` their file lines.

        Raises
        ------
        DataError
            A ragged row (named by its file line), or bytes the file's encoding cannot read.
        """
        with open(self.file, "rb") as handle:
            handle.seek(self.start)
            data = handle.read(self.stop - self.start)
        lines = _RangeLines(self)
        bad_rows: list[tuple[int, int, bool]] = []
        transcode = {} if self.encoding in ("utf-8", "utf-8-sig") else {"encoding": self.encoding}
        options = _arrow_csv_options(list(self.header), self.sep, bad_rows, skip_rows=self.skip, **transcode)
        try:
            table = pa_csv.read_csv(pa.BufferReader(data), **options) if data.strip() else _no_rows(self.header)
        except pa.ArrowException as exc:
            raise self._unreadable(exc) from None
        if bad_rows:  # Arrow numbers the range's records from 1, as the file's are numbered from the header
            # The first range holds the header (its text from the header on, to name a header line under it), the last a footer.
            head = _Head(_after_lines(data[:_SNIFF_BYTES].decode(self.encoding, errors="replace"), self.skip - 1), self.skip) if self.skip else None
            footer = functools.partial(_footer, Path(self.file), self.encoding, self.sep)
            records = _arrow_lines(lines.records(), self.skip, self.skip - self.blank)
            _refuse_ragged(Path(self.file), bad_rows, records, len(self.header), self.sep, head=head, footer=footer)
        # span: rows of bare separators included, short ones too; the row numbers of a table without ids count them
        table, kept, span = _without_empty_rows(table, _short_empty_rows(bad_rows, self.skip))
        frame = table.to_pandas()
        frame.attrs.update(rows=_FileLines(lines, first_record=self.skip - self.blank, kept=kept, span=span), delimiter=self.sep, source=self.file)
        return frame

    def _unreadable(self, exc: pa.ArrowException) -> DataError:
        if "UTF8" in str(exc):  # the first 64 KiB were UTF-8, a later byte is not
            return DataError(
                f"{self.file}: is UTF-8 in its first lines but not further on ({_first_line(exc)}); pass --encoding with the file's encoding (e.g. cp1252)."
            )
        return _unreadable_csv(Path(self.file), self.sep, exc)


def _no_rows(header: tuple[str, ...]) -> pa.Table:
    return pa.table({name: pa.array([], pa.string()) for name in header})


class _RangeLines:
    """The file line each record of a CSV range starts on, found only when a message needs one (it reads the file up to the range)."""

    def __init__(self, piece: CsvBytes) -> None:
        self.piece = piece
        self._lines: np.ndarray | None = None

    def records(self) -> np.ndarray:
        if self._lines is None:
            piece = self.piece
            with open(piece.file, "rb") as handle:
                before = sum(block.count(b"\n") for block in iter(lambda: handle.read(min(1 << 20, piece.start - handle.tell())), b""))
                text = handle.read(piece.stop - piece.start).decode(piece.encoding, errors="replace")
            self._lines = _record_starts(io.StringIO(text, newline=""), piece.sep) + before
        return self._lines


@dataclass(frozen=True)
class WholeFile:
    """A file read whole by :func:`~hotleads.io.read_table`: a workbook, a UTF-16 CSV, a CSV mixing two encodings."""

    file: str
    sep: str | None = None
    encoding: str | None = None
    sheet: str | None = None

    def read(self) -> pd.DataFrame:
        """The file's rows as :func:`~hotleads.io.read_table` reads them.

        Raises
        ------
        DataError
            As :func:`~hotleads.io.read_table`.
        """
        frame = read_table(self.file, sep=self.sep, encoding=self.encoding, sheet=self.sheet)
        frame.attrs["source"] = self.file
        return frame


Piece = ParquetRows | CsvBytes | WholeFile


def plan(data: str | Path, *, rows: int, sep: str | None = None, encoding: str | None = None, sheet: str | None = None) -> list[Piece]:
    """The pieces of a table argument, in input order: about ``rows`` rows each, never spanning files.

    Parameters
    ----------
    data : str or Path
        A CSV, Parquet or .xlsx file, a folder of CSV/Parquet files or a pattern (see
        :func:`hotleads.io.table_files`).
    rows : int
        Rows per piece: exactly for Parquet, about for CSV (estimated from the file's first 64 KiB).
    sep, encoding, sheet
        As for :func:`hotleads.io.read_table`.

    Returns
    -------
    list of ParquetRows, CsvBytes or WholeFile
        Each piece's ``read()`` gives a frame; reading every piece in order reads the whole table.

    Raises
    ------
    DataError
        A file is missing, empty, unreadable, or a Parquet file has no rows.
    ParameterError
        ``sep``, ``encoding`` or ``sheet`` is not usable for a file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "leads.csv").write_text("id,revenue\\n" + "".join(f"{i},{i}.5\\n" for i in range(9000)))
    ...     pieces = plan(folder, rows=3000)
    ...     frames = [piece.read() for piece in pieces]
    >>> len(pieces), sum(len(f) for f in frames), frames[1]["id"].iloc[0] == str(len(frames[0]))
    (2, 9000, True)
    """
    pieces: list[Piece] = []
    for file in table_files(data):
        kind = _table_kind(file, sheet)
        if kind == "parquet":
            pieces += _parquet_pieces(file, rows)
        elif kind == "xlsx":
            pieces.append(WholeFile(str(file), sheet=sheet))
        else:
            pieces += _csv_pieces(file, rows, _check_sep(sep), encoding)
    return pieces


def _parquet_pieces(file: Path, rows: int) -> list[ParquetRows]:
    try:
        count = pa_parquet.ParquetFile(file).metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{file}: not a readable Parquet file ({_first_line(exc)}); re-export it or pass a CSV.") from None
    if count == 0:
        raise DataError(f"{file}: the file has a header but no rows; add at least one data row.")
    return [ParquetRows(str(file), start, min(start + rows, count)) for start in range(0, count, rows)]


def _csv_pieces(file: Path, rows: int, sep: str | None, encoding: str | None) -> list[CsvBytes | WholeFile]:
    head = _head(file)
    text, used = _decode(file, head, encoding)
    if not _lines_split_bytes(used):
        return [WholeFile(str(file), sep=sep, encoding=encoding)]
    layout = _csv_layout(file, text, sep, whole=len(head) == file.stat().st_size)
    line_bytes = len(head) / max(head.count(b"\n"), 1)
    starts = _line_starts(file, step=max(int(line_bytes * rows), _MIN_CSV_BYTES))
    stops = [*starts[1:], file.stat().st_size]
    skip, blank = layout.lines_above + 1, layout.lines_above - layout.records_above
    header = tuple(layout.header)
    return [CsvBytes(str(file), a, b, layout.sep, header, used, skip if a == 0 else 0, blank if a == 0 else 0) for a, b in zip(starts, stops, strict=True)]


def _lines_split_bytes(encoding: str) -> bool:
    """Whether every byte 0x0A of a file in ``encoding`` ends a line: not so in UTF-16, nor in a file mixing two encodings."""
    if encoding == "utf-8+cp1252":  # Arrow cannot stream it either: io reads it whole
        return False
    return "\n".encode(encoding.replace("-sig", "")) == b"\n"


def _line_starts(file: Path, *, step: int) -> list[int]:
    """0 and the first line start at or after every ``step`` bytes (a few bytes read at each)."""
    size, starts = file.stat().st_size, [0]
    with file.open("rb") as handle:
        while starts[-1] + step < size:
            handle.seek(starts[-1] + step - 1)  # a line starts at the cut when the byte before it ends one
            found = -1
            while found < 0 and (block := handle.read(1 << 16)):
                found = block.find(b"\n")
                offset = handle.tell() - len(block)
            if found < 0 or offset + found + 1 >= size:
                break
            starts.append(offset + found + 1)
    return starts
