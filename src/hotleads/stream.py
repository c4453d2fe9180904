"""Scoring a table of any size chunk by chunk: bounded memory, the outputs of scoring it in one piece.

The table (a file, a folder of files or a pattern) is read in chunks by
:func:`hotleads.io.read_chunks` and every chunk is scored by :func:`hotleads.scoring.score`, the
one scoring function. What concerns the whole table stays global: an id may not repeat across
chunks, ranks and ``--top-k`` labels are over every row, and each warning is given once. Memory
holds one chunk plus about 40 bytes a row (id hash, probability, raw score, rank): each chunk's
lead rows go to a temporary Parquet part; at the end the parts are written out, to the
submission in input order and to the lead list in rank order (through buckets of ranks, each
sorted in memory). The outputs are byte for byte those of scoring the table in one piece,
written atomically, so a chunk that fails validation leaves no output behind.

Formats. :func:`hotleads.schema.prepare` reads a text column with the training format unless the
table plainly writes it another way. Here the first chunk decides that, as prepare would, and
the decision is then fixed for the chunks after it, so a column is never read two ways. A file
written one way throughout therefore reads as in one piece whenever its first chunk shows how
(any first chunk of a file written like the training table; 100,000 rows by default). Where only
a later chunk would show it, that chunk's values are reported with their file line: a number the
settled format cannot read as such, a date column whose later rows only another layout reads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pa_parquet

from .exceptions import CountedWarning, DataError, DataWarning, ParameterError
from .history import History, warn_if_unused, with_history
from .io import PARQUET_SUFFIXES, atomic_path, check_table_target, locate, naming, read_chunks, rows_spanned, table_files, write_table
from .model import Predictor
from .parsing import DateFormat, NumberFormat
from .schema import Schema, column_words, date_layout, number_format_here, stored_format
from .scoring import lead_list, ranks, score, submission
from .timing import stage

DEFAULT_CHUNK_ROWS = 100_000

ProgressCallback = Callable[[int, float], None]  # (rows scored, share of the input read, 0-1)


@dataclass
class StreamedScores:
    """What :func:`score_file` wrote: ``rows`` scored, ``hot`` labelled 1, and the ``top`` best-ranked lead rows (best first, with reasons)."""

    rows: int
    hot: int
    top: pd.DataFrame


def score_file(
    predictor: Predictor,
    data: str | Path,
    out: str | Path,
    *,
    scores: str | Path | None = None,
    top: int = 0,
    top_k: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    read_options: dict | None = None,
    progress: ProgressCallback | None = None,
    history: History | None = None,
) -> StreamedScores:
    """Score a table chunk by chunk and write the submission and, optionally, the ranked lead list.

    Parameters
    ----------
    predictor : Predictor
        ``model.predictor`` of a trained or loaded model.
    data : str or Path
        A CSV, Parquet or .xlsx file, a folder of CSV/Parquet files or a pattern (see
        :func:`hotleads.io.table_files`); rows are numbered across files in name order.
    out : str or Path
        ``Id,Prediction`` in input order: Parquet when it ends in ``.parquet``/``.pq``, else CSV.
    scores : str or Path, optional
        The lead list (every row with its reasons), best first: CSV, Parquet or ``.xlsx``.
    top : int
        Return the ``top`` best-ranked rows with their reasons (``StreamedScores.top``).
    top_k : int, optional
        Label exactly the ``top_k`` best-ranked rows of the whole table 1, instead of the threshold.
    chunk_rows : int
        Rows read and scored at a time; memory grows with it, not with the table.
    read_options : dict, optional
        ``sep``, ``encoding``, ``sheet`` for :func:`hotleads.io.read_chunks`.
    progress : callable, optional
        Called after each chunk with (rows scored, share of the input read from 0 to 1).
    history : History, optional
        The monthly history a model trained with one needs (:func:`hotleads.history.for_scoring`):
        its aggregates join each chunk.

    Returns
    -------
    StreamedScores

    Raises
    ------
    DataError
        A chunk has a problem :func:`hotleads.scoring.score` reports (named by file and line),
        or an id repeats one of an earlier chunk. Nothing is written then.
    ParameterError
        ``chunk_rows``, ``top`` or ``top_k`` is not usable, or an output path is not writable.
    """
    check_counts(chunk_rows=chunk_rows, top=top, top_k=top_k)
    out, scores = Path(out), None if scores is None else Path(scores)
    with warnings_once(), tempfile.TemporaryDirectory(prefix=".hotleads-", dir=existing_folder(out)) as folder:
        chunks = _ChunkScorer(predictor, Path(folder), keep_leads=scores is not None, top=top)
        reading = _Reading(data, chunk_rows, read_options or {})
        observed = False  # whether any month of the history reached a scored company
        for chunk in reading.chunks():
            windows = None
            if history is not None:
                chunk, windows = with_history(chunk, history, predictor.history, source=chunk.attrs["source"])
                observed = observed or bool(np.isfinite(windows).any())
            chunks.add(chunk, windows)
            if progress is not None:
                progress(chunks.rows, reading.done)
        if history is not None:
            warn_if_unused(observed, chunks.rows, history, predictor.history, str(data))
        proba = np.concatenate(chunks.proba)
        rank = ranks(proba, np.concatenate(chunks.raw))
        warn_if_top_k_covers(top_k, len(rank))
        prediction = (rank <= top_k if top_k is not None else proba >= predictor.threshold.value).astype(np.int64)
        if scores is not None:
            check_table_target(scores, len(rank))
        with stage("writing"):
            _write(chunks, rank, prediction, out, scores, predictor.schema, bucket_rows=chunk_rows)
    return StreamedScores(rows=len(rank), hot=int(prediction.sum()), top=_best(chunks.best, rank, prediction, top))


def warn_if_top_k_covers(top_k: int | None, rows: int) -> None:
    """``--top-k`` at or above the rows scored labels every company hot: most likely a count meant for a larger table."""
    if top_k is not None and top_k >= rows:
        warnings.warn(f"--top-k {top_k:,} is not below the {rows:,} rows scored: every company is labelled a hot lead.", DataWarning, stacklevel=3)


def check_counts(*, chunk_rows: int, top: int = 0, top_k: int | None = None) -> None:
    """Refuse a ``chunk_rows``, ``top`` or ``top_k`` that :func:`score_file` cannot use (the command line asks before loading a model).

    Raises
    ------
    ParameterError
        ``chunk_rows`` is not a positive integer, ``top`` is negative or ``top_k`` below 1.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise ParameterError(f"--chunk-rows must be a positive number of rows; got {chunk_rows!r}.")
    if top < 0:
        raise ParameterError(f"--top must be 0 or a positive number of leads; got {top}.")
    if top_k is not None and top_k < 1:
        raise ParameterError(f"--top-k must be a positive number of companies; got {top_k}.")


def existing_folder(path: Path) -> Path:
    """The output's folder, or the nearest one above it that exists: spilled parts go beside the output, not to a RAM-backed /tmp."""
    return next(parent for parent in path.absolute().parents if parent.is_dir())


@contextlib.contextmanager
def warnings_once() -> Iterator[None]:
    """The warnings raised inside, each message once (every chunk raises the same ones), also when an error ends the block.

    A :class:`~hotleads.exceptions.CountedWarning` given by several chunks or partitions, each
    counting its own rows, is given once with their counts added: as for the table in one piece.
    """
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        for message, category in _once(caught):
            warnings.warn(message, category, stacklevel=3)


def _once(caught: list[warnings.WarningMessage]) -> list[tuple[str | Warning, type[Warning]]]:
    """(message, category) of each warning once, in the order first given; the parts of a counted warning as one, their counts added."""
    given: dict[tuple, str | Warning] = {}
    for w in caught:
        if isinstance(w.message, CountedWarning):
            key = (w.category, w.message.words)
            given[key] = given[key].plus(w.message) if key in given else w.message
        else:
            given.setdefault((w.category, str(w.message)), str(w.message))
    return [(message, category) for (category, _), message in given.items()]


class _Reading:
    """The chunks of ``data`` and how much of it has been read (bytes of files done, plus the current file's share)."""

    def __init__(self, data: str | Path, chunk_rows: int, read_options: dict) -> None:
        self.data, self.chunk_rows, self.read_options = data, chunk_rows, read_options
        self.done = 0.0

    def chunks(self) -> Iterator[pd.DataFrame]:
        sizes = {str(f): max(f.stat().st_size, 1) if f.is_file() else 1 for f in table_files(self.data)}
        total, before, current = sum(sizes.values()), 0, None
        for chunk in _timed_reads(read_chunks(self.data, chunk_rows=self.chunk_rows, **self.read_options)):
            source = chunk.attrs["source"]
            if source != current:  # the files before this one are read
                before, current = before + sizes.get(current, 0), source
            self.done = (before + chunk.attrs["read"] * sizes[source]) / total
            yield chunk


def _timed_reads(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``chunks`` with each read counted as the stage ``read`` (the consumer's work between them is not)."""
    while True:
        with stage("read"):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


class _ChunkScorer:
    """Scores chunks one after another, keeping per row only what must be global (ids, scores)."""

    def __init__(self, predictor: Predictor, folder: Path, *, keep_leads: bool, top: int) -> None:
        self.predictor, self.folder, self.keep_leads, self.top_n = predictor, folder, keep_leads, top
        self.settled: Predictor | None = None  # the predictor with the first chunk's formats fixed
        self.proba: list[np.ndarray] = []
        self.raw: list[np.ndarray] = []
        self.parts: list[Path] = []
        self.starts: list[int] = [0]  # each chunk's first row in the whole input; the last is the row count
        self.numbered = 0  # data rows read so far, rows of bare separators included: the row number (Id) the next chunk starts from
        self.places: list[tuple[str, object]] = []  # each chunk's (file, row locations), to name an earlier row
        self.best: list[pd.DataFrame] = []  # each chunk's top_n rows, indexed by position in the whole input
        self.ids = _IdRegister()

    @property
    def rows(self) -> int:
        return self.starts[-1]

    def add(self, chunk: pd.DataFrame, sequences: np.ndarray | None = None) -> None:
        """Score ``chunk`` (``sequences``: its rows' monthly windows, for a model trained with a history)."""
        source, start = chunk.attrs["source"], self.rows
        if self.settled is None:
            self.settled = dataclasses.replace(self.predictor, schema=settled_schema(chunk, self.predictor.schema, source=source))
            scored = score(self.predictor, chunk, source=source, explain=self._explain(), sequences=sequences)
        else:
            check_dates_read_alike(chunk, self.settled.schema, source)
            scored = score(self.settled, chunk, source=source, explain=self._explain(), sequences=sequences)
        leads = scored.leads
        if not has_ids(chunk, self.predictor.schema):
            leads["Id"] += self.numbered  # row numbers count across the whole input, as they would in one piece
        else:
            self._check_new_ids(chunk, leads["Id"].to_numpy(), source)
        with stage("writing"):
            self._spill(leads, start)
        self.proba.append(scored.probability)
        self.raw.append(np.asarray(scored.raw, dtype=float))
        self.places.append((source, chunk.attrs.get("rows")))
        self.starts.append(start + len(leads))
        self.numbered += rows_spanned(chunk)

    def _explain(self) -> bool | int:
        # the whole table's best N are among each chunk's best N, so explaining those per chunk is enough
        return True if self.keep_leads else self.top_n

    def _spill(self, leads: pd.DataFrame, start: int) -> None:
        part = self.folder / f"part-{len(self.parts):06d}.parquet"
        kept = leads if self.keep_leads else leads[["Id"]]
        with naming(part):
            pa_parquet.write_table(pa.Table.from_pandas(kept, preserve_index=False), part)
        self.parts.append(part)
        if self.top_n:
            best = leads[leads["rank"] <= self.top_n].copy()
            best.index = best.index + start  # the row's position in the whole input
            self.best.append(best)

    def _check_new_ids(self, chunk: pd.DataFrame, ids: np.ndarray, source: str) -> None:
        """Refuse ids that earlier chunks had (within a chunk, :func:`~hotleads.schema.prepare` checks them)."""
        hashes = _hash(ids)
        here, earlier = self.ids.repeats(hashes)
        earlier_ids = self._ids_at(earlier)
        repeated = [(i, e) for i, e, id_ in zip(here, earlier, earlier_ids, strict=True) if id_ == ids[i]]  # equal hashes, equal ids: not a collision
        if repeated:
            i, e = repeated[0]
            raise DataError(
                f"{source}: id column '{self.predictor.schema.id}' repeats {len(repeated)} value(s) of earlier rows, "
                f"e.g. '{ids[i]}' ({self._where(e, source)}, {locate(chunk, i)}); ids must be unique"
            )
        self.ids.add(hashes, self.rows)

    def _place(self, position: int) -> tuple[str, str]:
        """(file, ``"line 7"``) of a row by its position in the whole input."""
        k = int(np.searchsorted(self.starts, position, side="right")) - 1
        source, rows = self.places[k]
        offset = position - self.starts[k]
        return source, rows(offset) if callable(rows) else f"row {offset + 1}"

    def _where(self, position: int, source: str) -> str:
        file, where = self._place(position)
        return where if file == source else f"{file} {where}"

    def _ids_at(self, positions: np.ndarray) -> list[object]:
        """The ids of earlier rows, by position in the whole input, from the spilled parts (each read once)."""
        parts = np.searchsorted(self.starts, positions, side="right") - 1
        columns = {k: pa_parquet.read_table(self.parts[k], columns=["Id"]).column("Id") for k in np.unique(parts)}
        return [columns[k][p - self.starts[k]].as_py() for k, p in zip(parts, positions, strict=True)]


class _IdRegister:
    """64-bit hashes of every id seen so far, sorted (8 bytes a row plus its position), to find ids repeated across chunks."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)
        self.positions = np.empty(0, dtype=np.int64)

    def repeats(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(indices into ``hashes``, positions of the earlier rows) of the hashes seen before."""
        if not len(self.hashes):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        hit = np.flatnonzero(self.hashes[at] == hashes)
        return hit, self.positions[at[hit]]

    def add(self, hashes: np.ndarray, start: int) -> None:
        """Remember a chunk's id hashes; its first row is at ``start`` in the whole input."""
        order = np.argsort(hashes, kind="stable")
        at = np.searchsorted(self.hashes, hashes[order])
        self.hashes = np.insert(self.hashes, at, hashes[order])  # a merge: O(rows so far) per chunk, no full sort
        self.positions = np.insert(self.positions, at, start + order)


def _hash(ids: np.ndarray) -> np.ndarray:
    """64-bit hashes of ids (text), shape (n_rows,)."""
    return pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False)


def has_ids(chunk: pd.DataFrame, schema: Schema) -> bool:
    """Whether the table has the id column; without it prepare numbers the rows (per chunk, from 0)."""
    return schema.id is not None and schema.id in chunk.columns


# ------------------------------------------------------------------------------------- formats


def settled_schema(chunk: pd.DataFrame, schema: Schema, *, source: str = "table") -> Schema:
    """``schema`` with each text column's format as :func:`~hotleads.schema.prepare` reads it in ``chunk``, fixed.

    Numbers: the training format, or the chunk's own when it plainly writes the column another
    way; marked ``settled`` so that later chunks never guess, or sample, again. Its ``given``
    stays as training had it: a value no later chunk reads blames ``--decimal-comma``/``--decimal-point``
    only if training was given that option, as in one piece. Dates: the training layout, or
    the chunk's own when only that reads its dates (:func:`check_dates_read_alike` holds later
    chunks to it).
    """
    formats = dict(schema.formats)
    na_values = frozenset(schema.na_values)
    for name in (n for n in schema.numeric if _is_text(chunk, n)):
        trained = stored_format(formats[name]) if name in formats else NumberFormat()
        here = number_format_here(chunk, name, trained, na_values, source)  # prepare's own decision
        formats[name] = {"kind": "number", "settled": True, **here.to_dict()}
    for name in (n for n in schema.date if _is_text(chunk, n)):
        trained = stored_format(formats[name]) if name in formats else DateFormat()
        formats[name] = {"kind": "date", **date_layout(chunk[name], trained, na_values)[0].to_dict()}
    return dataclasses.replace(schema, formats=formats)


def _is_text(chunk: pd.DataFrame, name: str) -> bool:
    if name not in chunk.columns:
        return False
    values = chunk[name]
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values))


def check_dates_read_alike(chunk: pd.DataFrame, schema: Schema, source: str) -> None:
    """Refuse a chunk whose dates only another layout than the first chunk's reads: one piece would read all rows that way."""
    na_values = frozenset(schema.na_values)
    for name in (n for n in schema.date if _is_text(chunk, n) and n in schema.formats):
        settled = stored_format(schema.formats[name])
        here, _ = date_layout(chunk[name], settled, na_values)
        if here != settled:
            raise DataError(
                f"{source}: {column_words(name)} holds dates written {settled.describe()[5:]} in the first rows, "
                f"but those from {locate(chunk, 0)} on read only as {here.describe()[5:]}; write the column one way, "
                "or score with a --chunk-rows large enough that the first chunk shows how it is written"
            )


# -------------------------------------------------------------------------------------- output


def _write(chunks: _ChunkScorer, rank: np.ndarray, prediction: np.ndarray, out: Path, scores: Path | None, schema: Schema, *, bucket_rows: int) -> None:
    """Write the submission (input order) and the lead list (rank order), each atomically, from the spilled parts.

    The lead list goes through buckets of ``bucket_rows`` consecutive ranks: each part's rows go
    to their buckets' folders, then each bucket is sorted in memory and appended.
    """
    buckets = chunks.folder / "buckets"
    with contextlib.ExitStack() as stack:
        # each writer is closed before its file is renamed into place (the stack unwinds last in, first out)
        submitted = stack.enter_context(TableWriter(stack.enter_context(atomic_path(out)), parquet=is_parquet(out)))
        for k, part in enumerate(chunks.parts):
            rows = slice(chunks.starts[k], chunks.starts[k + 1])
            leads = pa_parquet.read_table(part).to_pandas()
            leads["prediction"] = prediction[rows]
            submitted.write(submission(leads))
            if scores is not None:
                leads["rank"] = rank[rows]
                to_buckets(leads, buckets, k, bucket_rows)
        if scores is not None:
            _write_lead_list(buckets, scores, schema, stack)


def to_buckets(leads: pd.DataFrame, folder: Path, part: int, bucket_rows: int) -> None:
    bucket = (leads["rank"].to_numpy() - 1) // bucket_rows
    for b in np.unique(bucket):
        (folder / f"{b:09d}").mkdir(parents=True, exist_ok=True)
        rows, path = leads[bucket == b], folder / f"{b:09d}" / f"{part:06d}.parquet"
        with naming(path):
            pa_parquet.write_table(pa.Table.from_pandas(rows, preserve_index=False), path)


def _write_lead_list(buckets: Path, scores: Path, schema: Schema, stack: contextlib.ExitStack) -> None:
    ranked = (lead_list(pd.concat([pa_parquet.read_table(p).to_pandas() for p in sorted(b.iterdir())]), schema) for b in sorted(buckets.iterdir()))
    if scores.suffix.lower() == ".xlsx":  # a sheet holds a million rows at most: written whole, by the one Excel writer
        write_table(pd.concat(ranked), scores)
        return
    writer = stack.enter_context(TableWriter(stack.enter_context(atomic_path(scores)), parquet=is_parquet(scores)))
    for frame in ranked:
        writer.write(frame)


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


class TableWriter(contextlib.AbstractContextManager):
    """Appends frames to one CSV file, as ``DataFrame.to_csv`` writes them in one piece, or to one Parquet file; closes on exit."""

    def __init__(self, path: Path, *, parquet: bool) -> None:
        self.path = path
        self.handle = None if parquet else path.open("w", encoding="utf-8", newline="")
        self.parquet_writer: pa_parquet.ParquetWriter | None = None
        self.header = True

    def write(self, frame: pd.DataFrame) -> None:
        if self.handle is not None:
            frame.to_csv(self.handle, header=self.header, index=False, lineterminator="\n")
            self.header = False
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.parquet_writer is None:
            # a column empty in the first frame has Arrow's null type; text it is in the next ones
            schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema], metadata=table.schema.metadata)
            self.parquet_writer = pa_parquet.ParquetWriter(self.path, schema)
        self.parquet_writer.write_table(table.cast(self.parquet_writer.schema))

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.parquet_writer is not None:
            self.parquet_writer.close()


def _best(tops: list[pd.DataFrame], rank: np.ndarray, prediction: np.ndarray, top: int) -> pd.DataFrame:
    """The ``top`` best-ranked rows among each chunk's best, with the whole table's rank and label, best first."""
    if not top or not tops:
        return pd.DataFrame()
    best = pd.concat(tops)
    positions = best.index.to_numpy()
    best["rank"], best["prediction"] = rank[positions], prediction[positions]
    return best.nsmallest(top, "rank").reset_index(drop=True)
