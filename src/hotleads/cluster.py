"""Scoring across machines (``--engine dask``): a table's partitions scored by the workers of a Dask cluster.

The outputs are those of :func:`hotleads.stream.score_file`, byte for byte: the table is cut into
pieces (:mod:`hotleads.pieces`: Parquet slices and CSV byte ranges of about ``chunk_rows`` rows, read
by the same readers as the local path), made a Dask DataFrame with :func:`dask.dataframe.from_map`,
and every partition is scored on a worker by :func:`hotleads.scoring.score`, the one scoring
function. What concerns the whole table is decided on the client, as the local path decides it:
the first chunk settles each text column's format (:func:`hotleads.stream.settled_schema`); ranks
and ``--top-k`` labels come from every row's probability and raw score (24 bytes a row reach the
client: a 64-bit id hash, the probability, the raw score); an id may not repeat across partitions.

How the model travels: the files :func:`hotleads.bundle.load_predictor` reads (JSON, LightGBM text,
safetensors; a few MB) go once to every worker as bytes (``Client.scatter(..., broadcast=True)``);
each worker writes them to a temporary folder, loads them with ``load_predictor`` (which checks
every checksum) and keeps the predictor for the run, keyed by the manifest's SHA-256. No shared
model storage is needed and nothing is pickled to disk.

Output, in three passes of worker tasks: (1) score each partition, keep its lead rows in a
staging folder beside ``out``; (2) with the global ranks, write each partition's submission part
and spread its lead rows over buckets of ``chunk_rows`` ranks; (3) sort each bucket. The client
then streams the parts into the single files. With ``partitioned=FOLDER``, the parts are also kept:
``FOLDER/submission/part-00000.parquet`` ... (one per input partition, input order) and, with
``scores``, ``FOLDER/leads/part-00000.parquet`` ... (part k holds ranks k x chunk_rows + 1 on);
the single files are then left out above :data:`SINGLE_FILE_MAX_ROWS` rows. Workers and client
must therefore see the data, ``out``'s folder and ``partitioned`` under the same paths (one machine,
or shared storage). Every output is written atomically: a partition that fails validation leaves
none behind, and the error of the earliest such partition is raised, naming its file and line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .exceptions import CountedWarning, DataError, ParameterError

try:  # the dask extra; a plain install has neither
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, as_completed
except ImportError as exc:
    raise ParameterError(f"--engine dask needs Dask and distributed ({exc.name} is missing); install them with: pip install 'hotleads[dask]'") from None

import numpy as np  # after the optional imports: a missing extra is reported before anything heavy loads
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pa_parquet

from . import bundle
from .history import History, warn_if_unused, with_history
from .io import atomic_dir, atomic_path, check_table_target, holds_working_folder, locate, naming, no_rows_error, read_chunks, rows_spanned, write_table
from .model import LeadModel, Predictor
from .pieces import Piece, plan
from .schema import prepare
from .scoring import ScoredTable, evaluate, lead_list, ranks, score, submission
from .stream import (
    DEFAULT_CHUNK_ROWS,
    ProgressCallback,
    StreamedScores,
    TableWriter,
    check_counts,
    check_dates_read_alike,
    existing_folder,
    has_ids,
    is_parquet,
    settled_schema,
    to_buckets,
    warn_if_top_k_covers,
    warnings_once,
)

__all__ = [
    "ClusterScores",
    "DEFAULT_WORKERS",
    "SINGLE_FILE_MAX_ROWS",
    "as_dataframe",
    "check_partitioned",
    "connect",
    "evaluate_file",
    "model_files",
    "score_file",
]

DEFAULT_WORKERS = 2
CONNECT_TIMEOUT_S = 10  # to reach a --scheduler, and for it to have a worker
SINGLE_FILE_MAX_ROWS = 10_000_000  # with --partitioned, larger tables get only the parts: one client writing one file would be the bottleneck
# One numeric thread per worker process: a worker is one core's worth of work (read when the libraries load).
WORKER_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
PARTITIONED_FOLDERS = ("submission", "leads")


@dataclass
class ClusterScores(StreamedScores):
    """:class:`~hotleads.stream.StreamedScores`, plus the ``partitions`` scored and whether the ``single_files`` were written."""

    partitions: int
    single_files: bool


# ------------------------------------------------------------------------------------ cluster


@contextlib.contextmanager
def connect(scheduler: str | None = None, *, workers: int = DEFAULT_WORKERS) -> Iterator[Client]:
    """A Dask client: of the running cluster at ``scheduler``, else of a cluster started on this machine and closed at the end.

    Parameters
    ----------
    scheduler : str, optional
        A scheduler's address, ``tcp://HOST:8786``.
    workers : int
        Without ``scheduler``: worker processes of the local cluster, one thread each.

    Raises
    ------
    ParameterError
        ``workers`` is below 1; no scheduler answers at ``scheduler`` within
        :data:`CONNECT_TIMEOUT_S` seconds, or it has no worker.
    """
    if scheduler is None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ParameterError(f"--dask-workers must be a positive number of worker processes; got {workers!r}.")
        # The local workers share the user's terminal: a task that raises is logged by its worker at ERROR ("Compute Failed" and a
        # traceback) before the client re-raises it as the one error line, so only CRITICAL worker logs are let through.
        options = {"threads_per_worker": 1, "processes": True, "host": "127.0.0.1", "dashboard_address": None, "silence_logs": logging.CRITICAL}
        with LocalCluster(n_workers=workers, env=WORKER_ENV, **options) as cluster, Client(cluster) as client:
            yield client
        return
    with _client(scheduler) as client:
        yield client


@contextlib.contextmanager
def _client(scheduler: str) -> Iterator[Client]:
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError, TypeError) as exc:  # refused, timed out, or not an address
        raise ParameterError(
            f"--scheduler {scheduler}: no Dask scheduler answered within {CONNECT_TIMEOUT_S} s ({_first_line(exc)}); "
            f"start one there with `dask scheduler` (port 8786) and workers with `dask worker {scheduler}`, "
            "or leave out --scheduler to start a cluster on this machine."
        ) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError):
            raise ParameterError(f"--scheduler {scheduler}: the scheduler has no worker; start some with `dask worker {scheduler}`.") from None
        yield client


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_partitioned(folder: str | Path, out: str | Path | None = None, scores: str | Path | None = None, data: str | Path | None = None) -> None:
    """Refuse a ``--partitioned`` folder that writing would destroy (it is replaced whole), or that holds ``out`` or ``scores``.

    Raises
    ------
    ParameterError
        ``folder`` is a file, a non-empty folder that is not a partitioned output, or a folder above ``out``,
        ``scores`` or the table being scored (``data``: a file, folder or pattern).
    """
    folder = Path(folder)
    if holds_working_folder(folder):
        raise ParameterError(
            f"--partitioned {folder}: is the folder this command runs in, or one above it; it would be replaced whole, so name a new one (e.g. --partitioned parts)."
        )
    if folder.is_file() or (folder.is_dir() and any(p.name not in PARTITIONED_FOLDERS for p in folder.iterdir())):
        raise ParameterError(
            f"--partitioned {folder}: exists and is not a hotleads partitioned output; it would be replaced whole, so choose a new folder or remove it."
        )
    for option, path in (("--out", out), ("--scores", scores)):
        if path is not None and folder.resolve() in Path(path).resolve().parents:
            raise ParameterError(f"--partitioned {folder}: holds {option} {path}, which replacing the folder would remove; write {option} elsewhere.")
    if data is not None:
        where = Path(data) if Path(data).exists() else Path(data).parent  # a pattern: its folder
        if folder.resolve() == where.resolve() or folder.resolve() in where.resolve().parents:
            raise ParameterError(
                f"--partitioned {folder}: holds the table being scored ({data}), which replacing the folder would remove; choose another folder."
            )


# ------------------------------------------------------------------------------- the model


def model_files(directory: str | Path) -> dict:
    """What a worker needs to load a bundle's predictor: ``{"key": SHA-256 of the manifest, "files": {path in the bundle: bytes}}``.

    The manifest, ``predictor.json`` and the members' files (LightGBM text, JSON, safetensors);
    the manifest's checksums cover the others, so its hash names the model.

    Raises
    ------
    BundleError
        The directory is missing, foreign or of another format.
    """
    directory = Path(directory)
    manifest = bundle.read_manifest(directory)
    names = [bundle.MANIFEST, *(name for name in manifest.get("files", {}) if bundle.is_predictor_file(name))]
    files = {name: (directory / name).read_bytes() for name in names if (directory / name).is_file()}  # load_predictor names a missing one
    return {"key": hashlib.sha256(files[bundle.MANIFEST]).hexdigest(), "files": files}


_PREDICTORS: OrderedDict[tuple[str, str], Predictor] = OrderedDict()  # on a worker: the models of the latest runs, by (key, device)
_PREDICTORS_KEPT = 2
_LOADING = threading.Lock()


def _worker_predictor(model: dict, device: str, formats: dict | None = None) -> Predictor:
    """The predictor of :func:`model_files`' payload, loaded once per worker process; with ``formats``, the settled text formats."""
    key = (model["key"], device)
    with _LOADING:
        if key not in _PREDICTORS:
            _PREDICTORS[key] = _load_files(model["files"], device)
            while len(_PREDICTORS) > _PREDICTORS_KEPT:
                _PREDICTORS.popitem(last=False)
        _PREDICTORS.move_to_end(key)
        predictor = _PREDICTORS[key]
    if formats is None:
        return predictor
    return dataclasses.replace(predictor, schema=dataclasses.replace(predictor.schema, formats=formats))


def _load_files(files: dict[str, bytes], device: str) -> Predictor:
    with tempfile.TemporaryDirectory(prefix="hotleads-model-") as folder:  # the members read their files while loading, not after
        root = Path(folder).resolve()
        for name, data in files.items():
            path = (root / name).resolve()
            if root not in path.parents:
                raise ValueError(f"model file {name!r} lies outside the model directory")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return bundle.load_predictor(root, device=device)


# ------------------------------------------------------------------------------ predict


def score_file(
    model_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    scores: str | Path | None = None,
    top: int = 0,
    top_k: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    partitioned: str | Path | None = None,
    read_options: dict | None = None,
    device: str = "auto",
    client: Client | None = None,
    scheduler: str | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: ProgressCallback | None = None,
    history: History | None = None,
) -> ClusterScores:
    """Score a table on a Dask cluster and write what :func:`hotleads.stream.score_file` writes, byte for byte.

    Parameters
    ----------
    model_dir : str or Path
        A model directory of ``hotleads train``; its predictor's files go to every worker.
    data, out, scores, top, top_k, read_options
        As for :func:`hotleads.stream.score_file`.
    chunk_rows : int
        Rows per partition (about, for CSV) and per lead-list part; the first ``chunk_rows`` rows
        settle the text formats, as in the local path.
    partitioned : str or Path, optional
        Also keep the parts: ``partitioned/submission/part-00000.parquet`` ... and, with ``scores``,
        ``partitioned/leads/part-00000.parquet`` ...; above :data:`SINGLE_FILE_MAX_ROWS` rows only these.
    device : str
        Where the workers run neural members: auto, cpu, cuda or cuda:N.
    client : distributed.Client, optional
        A connected client; else one is made by :func:`connect` from ``scheduler`` and ``workers``.
    scheduler, workers
        As for :func:`connect`.
    progress : callable, optional
        Called as partitions are scored with (rows scored, share of the partitions done, 0-1).
    history : History, optional
        The monthly history a model trained with one needs (:func:`hotleads.history.for_scoring`):
        it goes once to every worker, and its aggregates and windows join each partition there.

    Returns
    -------
    ClusterScores

    Raises
    ------
    DataError
        As :func:`hotleads.stream.score_file`, for the earliest partition with a problem; nothing is written then.
    ParameterError
        A count or output is not usable, the cluster cannot be reached, or a worker cannot see the data or ``out``'s folder.
    """
    check_counts(chunk_rows=chunk_rows, top=top, top_k=top_k)
    out, scores, partitioned = Path(out), _optional_path(scores), _optional_path(partitioned)
    if partitioned is not None:
        check_partitioned(partitioned, out, scores)
    predictor = bundle.load_predictor(model_dir, device="cpu")  # the client scores nothing: its copy decides formats and ranks
    with warnings_once(), contextlib.ExitStack() as stack:
        pieces, first = _first_chunk(data, chunk_rows, read_options or {})
        formats = _settle(predictor, first, labelled=False, history=history)
        client = client if client is not None else stack.enter_context(connect(scheduler, workers=workers))
        stage = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=".hotleads-", dir=existing_folder(out))))
        parts = stage / "parts" if partitioned is None else stack.enter_context(atomic_dir(partitioned))
        run = _Run(client, model_dir, predictor, formats, device, pieces, history)
        run.check_workers_see([stage, parts])
        job = _Job(device, labelled=False, explain=True if scores is not None else top, top=top, stage=str(stage))
        scored = run.score(job, first.iloc[:0], progress)
        _warn_if_history_unused(scored, history, predictor, data)
        rank = ranks(scored.proba, scored.raw)
        warn_if_top_k_covers(top_k, len(rank))
        prediction = (rank <= top_k if top_k is not None else scored.proba >= predictor.threshold.value).astype(np.int64)
        run.write_parts(scored, rank, prediction, stage, parts, keep_leads=scores is not None, bucket_rows=chunk_rows)
        single = partitioned is None or len(rank) <= SINGLE_FILE_MAX_ROWS
        if single:
            _write_single_files(scored, parts, out, scores, chunk_rows, stack)
    return ClusterScores(len(rank), int(prediction.sum()), scored.best(rank, prediction, top), partitions=len(scored.nonempty), single_files=single)


def _optional_path(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path)


def _first_chunk(data: str | Path, chunk_rows: int, read_options: dict) -> tuple[list[Piece], pd.DataFrame]:
    """(the table's pieces, its first chunk as the local path reads it), reading only that chunk."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]+:/", str(data)):  # s3://bucket/x arrives as s3:/bucket/x (a Path)
        raise ParameterError(
            f"{data}: hotleads reads tables from a file system, not from URLs; copy the files to storage every worker "
            "and this machine see under the same path (or mount the bucket there), and pass that path."
        )
    pieces = plan(data, rows=chunk_rows, **read_options)
    with contextlib.closing(read_chunks(data, chunk_rows=chunk_rows, **read_options)) as chunks:
        return pieces, next(chunks)


def _settle(predictor: Predictor, first: pd.DataFrame, *, labelled: bool, history: History | None = None) -> dict:
    """The text formats the first chunk settles, as JSON-able ``schema.formats``; that chunk's warnings and errors as the local path gives them.

    Every partition is then read with these formats: the rows of the first chunk as the local
    path reads them in it, and the later ones as it reads them with the formats fixed.
    """
    source = first.attrs["source"]
    if history is not None:
        first = with_history(first, history, predictor.history, source=source)[0]
    with warnings.catch_warnings():
        # rows counted here are counted again by the partitions, which give these with the whole table's counts
        warnings.simplefilter("ignore", CountedWarning)
        prepare(first, predictor.schema, source=source, labelled=labelled)  # raises the first chunk's problems, warns as scoring it would
    return settled_schema(first, predictor.schema, source=source).formats


@dataclass(frozen=True)
class _Job:
    """How a worker scores a partition (pure data: it travels with every task)."""

    device: str
    labelled: bool = False
    explain: bool | int = False
    top: int = 0
    stage: str | None = None  # where the partition's lead rows are kept for the passes after (predict); None: not kept (evaluate)


@dataclass
class _Scored:
    """Pass 1 on the client: every non-empty partition's result, in input order, and the table's rows in arrays."""

    pieces: list[Piece]
    results: list[dict]  # per piece, see _score_piece

    def __post_init__(self) -> None:
        self.nonempty = [k for k, result in enumerate(self.results) if result["rows"]]
        counts = np.array([result["rows"] for result in self.results], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(counts)])  # each piece's first row in the whole table; the last: the row count
        spans = np.array([result.get("span", result["rows"]) for result in self.results], dtype=np.int64)
        self.numbers = np.concatenate([[0], np.cumsum(spans)])  # each piece's first row number (Id without ids): rows of bare separators count
        self.proba = self._joined("proba", float)
        self.raw = self._joined("raw", float)

    def _joined(self, name: str, dtype) -> np.ndarray:
        arrays = [self.results[k][name] for k in self.nonempty]
        return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.empty(0, dtype=dtype)

    def rows(self, k: int) -> slice:
        return slice(int(self.starts[k]), int(self.starts[k + 1]))

    def best(self, rank: np.ndarray, prediction: np.ndarray, top: int) -> pd.DataFrame:
        """The ``top`` best-ranked rows among each partition's best, with the whole table's rank, label and row numbers, best first."""
        frames = [self._placed(k) for k in self.nonempty if top and self.results[k].get("best") is not None]
        if not frames:
            return pd.DataFrame()
        best = pd.concat(frames)
        positions = best.index.to_numpy()
        best["rank"], best["prediction"] = rank[positions], prediction[positions]
        return best.nsmallest(top, "rank").reset_index(drop=True)

    def _placed(self, k: int) -> pd.DataFrame:
        best, start = self.results[k]["best"].copy(), int(self.starts[k])
        if self.results[k]["hashes"] is None:  # row numbers count across the whole input, as the local path numbers them
            best["Id"] += int(self.numbers[k])
        best.index = best.index + start
        return best


class _Run:
    """One scoring run on a cluster: the client, the model shipped to every worker, the settled formats, the table's pieces."""

    def __init__(
        self, client: Client, model_dir: str | Path, predictor: Predictor, formats: dict, device: str, pieces: list[Piece], history: History | None = None
    ) -> None:
        self.client, self.predictor, self.formats, self.device, self.pieces = client, predictor, formats, device, pieces
        [self.model] = client.scatter([model_files(model_dir)], broadcast=True, hash=False)  # once to every worker, as bytes
        self.history = None if history is None else client.scatter([history], broadcast=True, hash=False)[0]

    def check_workers_see(self, folders: list[Path]) -> None:
        """Refuse a cluster whose workers run another hotleads or cannot see the table's files and the output folders."""
        files = sorted({piece.file for piece in self.pieces})
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        try:
            views = self.client.run(_worker_view, [*files, *map(str, folders)])
        except ImportError as exc:
            raise ParameterError(f"a Dask worker cannot import hotleads ({exc}); install hotleads[dask] {__version__} on every worker.") from None
        for worker, (version, missing) in sorted(views.items()):
            if version != __version__:
                raise ParameterError(f"Dask worker {worker} runs hotleads {version}, this machine {__version__}; install the same version everywhere.")
            if missing:
                raise ParameterError(
                    f"Dask worker {worker} does not see {missing[0]}; put the data and the outputs on storage every worker "
                    "mounts under the same path (or score on one machine: leave out --scheduler)."
                )

    def score(self, job: _Job, meta: pd.DataFrame, progress: ProgressCallback | None = None) -> _Scored:
        """Pass 1: every partition of the table (a Dask DataFrame; ``meta``: its columns) scored by a worker; its warnings given here
        (:func:`~hotleads.stream.warnings_once` around the run gives each once, a counted one with the partitions' counts added)."""
        partitions = as_dataframe(self.pieces, meta).to_delayed()
        tasks = [dask.delayed(_score_piece)(part, self.model, self.formats, job, k, self.history) for k, part in enumerate(partitions)]
        results = _in_order(self.client, self.client.compute(tasks), progress)
        for result in results:
            for category, message in result["warnings"]:
                warnings.warn(message, category, stacklevel=2)
        scored = _Scored(self.pieces, results)
        _check_files_have_rows(scored)
        self._check_unique_ids(scored, job)
        return scored

    def _check_unique_ids(self, scored: _Scored, job: _Job) -> None:
        """Refuse an id that an earlier partition has (within a partition, :func:`~hotleads.schema.prepare` refuses it)."""
        repeats = _repeated_hashes(scored)
        for later, earlier in repeats:
            (id_, where), (earlier_id, earlier_where) = (self._row(scored, position, job) for position in (later, earlier))
            if id_ != earlier_id:  # equal 64-bit hashes of different ids: look at the next pair
                continue
            file, earlier_file = (self.pieces[_piece_of(scored, p)].file for p in (later, earlier))
            earlier_where = earlier_where if earlier_file == file else f"{earlier_file} {earlier_where}"
            raise DataError(
                f"{file}: id column '{self.predictor.schema.id}' repeats {len(repeats)} value(s) of earlier rows, "
                f"e.g. '{id_}' ({earlier_where}, {where}); ids must be unique"
            )

    def _row(self, scored: _Scored, position: int, job: _Job) -> tuple[object, str]:
        """(id, ``"line 7"``) of a row by its position in the whole table, read again by a worker (the error path only)."""
        k = _piece_of(scored, position)
        task = self.client.submit(_id_at, self.pieces[k], self.model, self.formats, job, position - int(scored.starts[k]), self.history, pure=False)
        return task.result()

    def write_parts(self, scored: _Scored, rank: np.ndarray, prediction: np.ndarray, stage: Path, parts: Path, *, keep_leads: bool, bucket_rows: int) -> None:
        """Passes 2 and 3: each partition's submission part, then the lead list's parts, one per bucket of ``bucket_rows`` ranks."""
        for name in PARTITIONED_FOLDERS[: 2 if keep_leads else 1]:
            (parts / name).mkdir(parents=True, exist_ok=True)
        part_ranks = self.client.scatter([rank[scored.rows(k)] for k in scored.nonempty])  # straight to the workers, not through the graph
        part_labels = self.client.scatter([prediction[scored.rows(k)] for k in scored.nonempty])
        finished = [
            self.client.submit(
                _finish_piece, str(stage), str(parts), k, part, part_ranks[part], part_labels[part],
                offset=int(scored.numbers[k]) if scored.results[k]["hashes"] is None else None, keep_leads=keep_leads, bucket_rows=bucket_rows,
            )
            for part, k in enumerate(scored.nonempty)
        ]  # fmt: skip
        self.client.gather(finished)
        if keep_leads:
            buckets = range(-(-len(rank) // bucket_rows))
            self.client.gather(self.client.map(_write_bucket, buckets, stage=str(stage), parts=str(parts), model=self.model, device=self.device, pure=False))


def as_dataframe(pieces: list[Piece], meta: pd.DataFrame) -> dd.DataFrame:
    """The table as a Dask DataFrame of one partition per piece, each the frame ``piece.read()`` gives (``meta``: the columns).

    Not ``dask.dataframe.read_csv``/``read_parquet``: pandas' CSV parser and Arrow's string dtype
    read values otherwise than the local path, and lose the file lines that messages name.
    """
    with dask.config.set({"dataframe.convert-string": False}):  # else Dask turns text into string[pyarrow] with pd.NA on the way
        return dd.from_map(_read_piece, pieces, meta=meta, enforce_metadata=False)


def _in_order(client: Client, futures: list, progress: ProgressCallback | None) -> list:
    """The futures' results in their order; the first failure in that order is raised, and the work after it cancelled."""
    index = {future.key: k for k, future in enumerate(futures)}
    results: list = [None] * len(futures)
    failed, rows = len(futures), 0
    for future in as_completed(futures):
        k = index[future.key]
        if future.status == "error" and k < failed:
            client.cancel(futures[k + 1 : failed])
            failed = k
        elif future.status == "finished":
            results[k] = future.result()
            rows += results[k]["rows"]
            if progress is not None:
                progress(rows, sum(r is not None for r in results) / len(futures))
    if failed < len(futures):
        futures[failed].result()  # raises the partition's own error (DataError: its file and line)
    return results


def _repeated_hashes(scored: _Scored) -> list[tuple[int, int]]:
    """(position of a row whose id hash an earlier row has, position of the first such row), in input order."""
    with_ids = [k for k in scored.nonempty if scored.results[k]["hashes"] is not None]
    if not with_ids:
        return []
    hashes = np.concatenate([scored.results[k]["hashes"] for k in with_ids])
    positions = np.concatenate([np.arange(scored.starts[k], scored.starts[k + 1]) for k in with_ids])
    order = np.argsort(hashes, kind="stable")  # within equal hashes, input order
    ordered = hashes[order]
    run_start = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = positions[order][np.repeat(run_start, np.diff(np.r_[run_start, len(ordered)]))]
    later = np.flatnonzero(np.r_[False, ordered[1:] == ordered[:-1]])
    pairs = sorted(zip(positions[order][later].tolist(), first[later].tolist(), strict=True))
    return pairs


def _piece_of(scored: _Scored, position: int) -> int:
    return int(np.searchsorted(scored.starts, position, side="right")) - 1


def _check_files_have_rows(scored: _Scored) -> None:
    """A file whose pieces hold no row is refused, as the local path refuses it (its first piece may be the only one)."""
    rows: dict[str, int] = {}
    for piece, result in zip(scored.pieces, scored.results, strict=True):
        rows[piece.file] = rows.get(piece.file, 0) + result["rows"]
    empty = next((file for file, count in rows.items() if count == 0), None)
    if empty is not None:
        first = next(piece for piece in scored.pieces if piece.file == empty)
        header = getattr(first, "header", None)  # a CSV range's: a title alone is named as one
        raise no_rows_error(empty, header, getattr(first, "skip", 1))


def _write_single_files(scored: _Scored, parts: Path, out: Path, scores: Path | None, chunk_rows: int, stack: contextlib.ExitStack) -> None:
    """The submission and the lead list as one file each, streamed from the parts in the local path's frames (so Parquet row groups match too)."""
    submitted = stack.enter_context(TableWriter(stack.enter_context(atomic_path(out)), parquet=is_parquet(out)))
    files = [scored.pieces[k].file for k in scored.nonempty]
    for frame in _as_local_chunks(zip(files, _read_parts(parts / "submission"), strict=True), chunk_rows):
        submitted.write(frame)
    if scores is None:
        return
    check_table_target(scores, len(scored.proba))
    ranked = _read_parts(parts / "leads")
    if scores.suffix.lower() == ".xlsx":  # a sheet holds a million rows at most: written whole, by the one Excel writer
        write_table(pd.concat(ranked), scores)
        return
    writer = stack.enter_context(TableWriter(stack.enter_context(atomic_path(scores)), parquet=is_parquet(scores)))
    for frame in ranked:
        writer.write(frame)


def _read_parts(folder: Path) -> Iterator[pd.DataFrame]:
    return (pa_parquet.read_table(part).to_pandas() for part in sorted(folder.iterdir()))


def _as_local_chunks(frames: Iterator[tuple[str, pd.DataFrame]], rows: int) -> Iterator[pd.DataFrame]:
    """Consecutive frames (each with its file) cut as :func:`~hotleads.io.read_chunks` cuts the input: ``rows`` rows at a time, never across files."""
    pending: list[pd.DataFrame] = []
    count, current = 0, None
    for file, frame in frames:
        if file != current and pending:
            yield pd.concat(pending, ignore_index=True)
            pending, count = [], 0
        current = file
        while len(frame):
            pending.append(frame.iloc[: rows - count])
            count, frame = count + len(pending[-1]), frame.iloc[rows - count :]
            if count == rows:
                yield pd.concat(pending, ignore_index=True)
                pending, count = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True)


# ----------------------------------------------------------------------------- evaluate


def evaluate_file(
    model_dir: str | Path,
    data: str | Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    read_options: dict | None = None,
    device: str = "auto",
    client: Client | None = None,
    scheduler: str | None = None,
    workers: int = DEFAULT_WORKERS,
    history: History | None = None,
) -> dict:
    """:func:`hotleads.scoring.evaluate`'s metrics of a labelled table scored on a Dask cluster (the same numbers as in one piece).

    The workers return each partition's labels and member probabilities; the metrics are
    computed on the client from them, by the local path's function.

    Parameters
    ----------
    model_dir, data, chunk_rows, read_options, device, client, scheduler, workers, history
        As for :func:`score_file`.

    Returns
    -------
    dict
        As :func:`hotleads.scoring.evaluate`.

    Raises
    ------
    DataError
        A partition lacks the target or has values the model cannot read (the earliest such one).
    ParameterError
        ``chunk_rows`` is not usable, or the cluster cannot be reached or cannot see the data.
    """
    check_counts(chunk_rows=chunk_rows)
    model = bundle.load(model_dir, device="cpu")
    with warnings_once(), contextlib.ExitStack() as stack:
        pieces, first = _first_chunk(data, chunk_rows, read_options or {})
        formats = _settle(model.predictor, first, labelled=True, history=history)
        client = client if client is not None else stack.enter_context(connect(scheduler, workers=workers))
        run = _Run(client, model_dir, model.predictor, formats, device, pieces, history)
        run.check_workers_see([])
        scored = run.score(_Job(device, labelled=True), first.iloc[:0])
        _warn_if_history_unused(scored, history, model.predictor, data)
    return evaluate(model, _labelled_table(str(data), scored, model))


def _warn_if_history_unused(scored: _Scored, history: History | None, predictor: Predictor, data: str | Path) -> None:
    """As the local path warns: no month of the history reached any row of any partition."""
    if history is not None:
        rows = sum(result["rows"] for result in scored.results)
        warn_if_unused(any(result.get("observed", False) for result in scored.results), rows, history, predictor.history, str(data))


def _labelled_table(source: str, scored: _Scored, model: LeadModel) -> ScoredTable:
    """What :func:`~hotleads.scoring.evaluate` reads of a :class:`~hotleads.scoring.ScoredTable` (features and matrix stay on the workers)."""
    members = {name: np.concatenate([scored.results[k]["members"][name] for k in scored.nonempty]) for name in model.predictor.members}
    y = np.concatenate([scored.results[k]["y"] for k in scored.nonempty])
    return ScoredTable(source, pd.DataFrame({"probability": scored.proba}), scored.raw, members, y, pd.DataFrame(), np.empty((0, 0)))


# ------------------------------------------------------------------------ worker tasks


def _worker_view(paths: list[str]) -> tuple[str, list[str]]:
    """On a worker: (its hotleads version, the paths it does not see)."""
    return __version__, [path for path in paths if not os.path.exists(path)]


def _read_piece(piece: Piece) -> pd.DataFrame:
    """A piece's frame; the warnings its reading gives (a footer skipped) ride along in ``attrs``, for :func:`_score_piece`
    to relay with its own: given here, on a worker, Python would print them raw on the worker's stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = piece.read()
    if caught:  # else the frame is read_chunks' own, attrs and all
        frame.attrs["read_warnings"] = [w.message for w in caught]
    return frame


def _score_piece(frame: pd.DataFrame, model: dict, formats: dict, job: _Job, index: int, history: History | None = None) -> dict:
    """Pass 1 on a worker: score one partition; keep its lead rows in ``job.stage``; return what the client needs of it.

    Returns ``rows`` and ``span`` (the data rows read, rows of bare separators included: see :func:`~hotleads.io.rows_spanned`); ``hashes`` of the ids, shape (rows,), or None when the table numbers its rows;
    ``proba`` and ``raw``, shape (rows,); ``best``: the ``job.top`` best rows, explained; labelled:
    ``y`` and ``members`` (name -> probabilities); ``warnings``: (category, message) pairs, each once, a
    :class:`~hotleads.exceptions.CountedWarning` as itself, so that the client adds up the partitions' counts.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for message in frame.attrs.pop("read_warnings", []):
            warnings.warn(message, stacklevel=1)
        result = _scored_piece(frame, _worker_predictor(model, job.device, formats), job, index, history) if len(frame) else {"rows": 0}
    result["span"] = rows_spanned(frame)
    return result | {"warnings": list(dict.fromkeys((w.category, _relayed(w.message)) for w in caught))}


def _relayed(message: Warning) -> str | Warning:
    """A worker's warning as it travels to the client: its text, or a counted warning whole (its counts are added up there)."""
    return message if isinstance(message, CountedWarning) else str(message)


def _scored_piece(frame: pd.DataFrame, predictor: Predictor, job: _Job, index: int, history: History | None = None) -> dict:
    source = frame.attrs["source"]
    check_dates_read_alike(frame, predictor.schema, source)
    windows = None
    if history is not None:
        frame, windows = with_history(frame, history, predictor.history, source=source)
    scored = score(predictor, frame, source=source, labelled=job.labelled, explain=job.explain, sequences=windows)
    leads, numbered = scored.leads, not has_ids(frame, predictor.schema)
    result = {"rows": len(leads), "proba": scored.probability, "raw": np.asarray(scored.raw, dtype=float)}
    result["observed"] = windows is not None and bool(np.isfinite(windows).any())  # a month of the history reached a row
    result["hashes"] = None if numbered else pd.util.hash_array(leads["Id"].to_numpy(dtype=object), categorize=False)
    if job.stage is not None:
        kept, path = leads if job.explain is True else leads[["Id"]], Path(job.stage) / _piece_name(index)
        with naming(path):
            pa_parquet.write_table(pa.Table.from_pandas(kept, preserve_index=False), path)
    if job.top:
        result["best"] = leads[leads["rank"] <= job.top]
    if job.labelled:
        result |= {"y": scored.y, "members": scored.member_probas}
    return result


def _piece_name(index: int) -> str:
    return f"piece-{index:06d}.parquet"


def _part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _id_at(piece: Piece, model: dict, formats: dict, job: _Job, offset: int, history: History | None = None) -> tuple[object, str]:
    """On a worker: (id, file location) of a partition's row ``offset`` (as scored: rows a labelled table leaves out do not count)."""
    frame = piece.read()
    predictor = _worker_predictor(model, job.device, formats)
    if history is not None:
        frame = with_history(frame, history, predictor.history, source=piece.file)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # given once already, in pass 1
        prepared = prepare(frame, predictor.schema, source=piece.file, labelled=job.labelled)
    row = offset if prepared.rows is None else int(prepared.rows[offset])
    return prepared.ids.iloc[offset], locate(frame, row)


def _finish_piece(
    stage: str, parts: str, index: int, part: int, rank: np.ndarray, prediction: np.ndarray, *, offset: int | None, keep_leads: bool, bucket_rows: int
) -> None:
    """Pass 2 on a worker: a partition's submission part with the global labels, and its lead rows spread over rank buckets."""
    leads = pa_parquet.read_table(Path(stage) / _piece_name(index)).to_pandas()
    if offset is not None:
        leads["Id"] += offset
    leads["prediction"] = prediction
    _write_part(submission(leads), Path(parts) / "submission" / _part_name(part))
    if keep_leads:
        leads["rank"] = rank
        to_buckets(leads, Path(stage) / "buckets", index, bucket_rows)


def _write_bucket(bucket: int, *, stage: str, parts: str, model: dict, device: str) -> None:
    """Pass 3 on a worker: one bucket of ranks, sorted: lead-list part ``bucket``."""
    folder = Path(stage) / "buckets" / f"{bucket:09d}"
    leads = pd.concat([pa_parquet.read_table(piece).to_pandas() for piece in sorted(folder.iterdir())])
    _write_part(lead_list(leads, _worker_predictor(model, device).schema), Path(parts) / "leads" / _part_name(bucket))


def _write_part(frame: pd.DataFrame, path: Path) -> None:
    """One Parquet part; a column with no value here is text, as in the other parts (Arrow would make it null-typed)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema], metadata=table.schema.metadata)
    with naming(path):
        pa_parquet.write_table(table.cast(schema), path)
