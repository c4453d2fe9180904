"""Hyper-parameter search on Optuna: ``hotleads tune``.

A study (Optuna's) per model searches that model's space (:data:`SPACES`) with a seeded TPE
sampler. A trial is judged as training judges a model: cross-fitted on the same stratified folds,
with feature discovery nested in the folds (done once per worker, reused by every trial), by the
out-of-fold F1 at the F1-optimal threshold (or the recall or precision that ``--objective``
asks for). Each fold's result is reported as it finishes, so Optuna's pruner (median or successive
halving) stops a poor trial after a fold or two.

Honesty: the best of many trials' out-of-fold scores is optimistic, since it was chosen for being
high. Before the search a stratified share of the rows (``holdout_share``) is set aside and never
seen by it; at the end the default and the tuned configuration are each trained on the searched
rows and scored on the set-aside ones, and the tuned one is kept only if it wins there.

Studies live in Optuna's storages: a journal file (one machine, several processes) or a
database such as PostgreSQL (several machines). Running the same search again adds trials to the
same study; a trial left RUNNING by a process that died is marked failed when the study is opened.
Optuna is imported here only (:func:`_optuna`), with an install hint when it is missing.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import neural_params
from .exceptions import DataError, ParameterError
from .history import attach, table_options
from .io import sha256_file
from .metrics import classification_metrics
from .registry import NEURAL
from .schema import infer_schema, prepare
from .scoring import score
from .threshold import Objective, objective_threshold, parse_objective
from .training import CrossFitInputs, TrainOptions, cross_fit_inputs, train

HOLDOUT_SHARE = 0.2
PRUNERS = ("median", "halving", "none")
RDB_SCHEMES = ("postgresql", "postgresql+psycopg", "sqlite", "mysql")
SCHEMA_ATTEMPTS = 3
HEARTBEAT_SECONDS = 30  # a database worker beats this often; one silent for 4 beats is taken for dead
INSTALL_HINT = "pip install 'hotleads[tune]' (make run and make test install it)"

Trial = object  # optuna.Trial, typed loosely so this module imports without Optuna
Space = Callable[[Trial], dict]


# ----------------------------------------------------------------------------- search spaces


GBDT_MAX_ROUNDS = 2_000  # early stopping usually ends boosting before; a cap keeps a slow-learning trial to minutes (AutoGluon: 10,000)
GBDT_STOPPING_ROUNDS = 50


def gbdt_space(trial) -> dict:
    """LightGBM: AutoGluon's search space for LightGBM (learning rate 5e-3-0.2 log, 16-96 leaves, 2-60
    rows per leaf, feature fraction 0.75-1), plus row bagging and L2; the number of trees is not
    searched but found by early stopping (on a tenth of each fold's training rows, 50 rounds)."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 5e-3, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 16, 96),
        "min_child_samples": trial.suggest_int("min_child_samples", 2, 60),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.75, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        "n_estimators": GBDT_MAX_ROUNDS,
        "n_iter_no_change": GBDT_STOPPING_ROUNDS,
    }


def logreg_space(trial) -> dict:
    """The spline GAM: L2 strength (1e-3-10 log), knots per column (0 = linear, up to 12), shape products on or off."""
    return {
        "C": trial.suggest_float("C", 1e-3, 10.0, log=True),
        "n_knots": trial.suggest_int("n_knots", 0, 12),
        "interactions": trial.suggest_categorical("interactions", [True, False]),
    }


def _neural_space(trial) -> dict:
    """What the FT-Transformer paper (Gorishniy et al. 2021, appendix) searched for every network: learning
    rate and weight decay (log), dropout 0-0.5, token width; plus batch size and class weighting on/off.
    Ranges are narrowed to what a CPU trains in minutes (tokens of 16-64, not 64-512) and widened to
    include the one-cycle schedule's higher rates (up to 3e-2)."""
    return {
        "lr": trial.suggest_float("lr", 1e-4, 3e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "d_token": trial.suggest_categorical("d_token", [16, 32, 64]),
        "batch_size": trial.suggest_categorical("batch_size", [128, 256, 512]),
        "class_weight": {"balanced": "balanced", "none": None}[trial.suggest_categorical("class_weight", ["balanced", "none"])],
    }


def lstm_space(trial) -> dict:
    """The shared network space, and the LSTM's units per direction (16-64) and layers (1-2)."""
    return _neural_space(trial) | {
        "hidden_size": trial.suggest_categorical("hidden_size", [16, 32, 64]),
        "n_layers": trial.suggest_int("n_layers", 1, 2),
    }


def cnn_space(trial) -> dict:
    """The shared network space, and the convolution's channels (32-128), width (3 or 5) and layers (1-2)."""
    return _neural_space(trial) | {
        "n_channels": trial.suggest_categorical("n_channels", [32, 64, 128]),
        "kernel_size": trial.suggest_categorical("kernel_size", [3, 5]),
        "n_layers": trial.suggest_int("n_layers", 1, 2),
    }


def transformer_space(trial) -> dict:
    """The shared network space, and the FT-Transformer paper's blocks (1-3 here, 1-4 there) and 2 or 4 heads."""
    return _neural_space(trial) | {
        "n_layers": trial.suggest_int("n_layers", 1, 3),
        "n_heads": trial.suggest_categorical("n_heads", [2, 4]),
    }


SPACES: dict[str, Space] = {"gbdt": gbdt_space, "logreg": logreg_space, "lstm": lstm_space, "cnn": cnn_space, "transformer": transformer_space}


# ----------------------------------------------------------------------------- options


@dataclass
class TuneOptions:
    """What to search and where; ``train`` holds the training options every trial uses (folds, seed, features, ...)."""

    train: TrainOptions = field(default_factory=TrainOptions)
    trials: int | None = 20  # added to each model's study by this run (None: until the timeout)
    timeout: float | None = None  # seconds per model
    storage: str | None = None  # journal file path or database URL; None: a journal file beside the output
    study: str | None = None  # study name prefix; None: from the data's checksum
    holdout_share: float = HOLDOUT_SHARE
    pruner: str = "median"
    worker: int = 0  # this process's number among --workers: its sampler draws from seed + worker
    n_jobs: int | None = None  # threads of each trial's fits; None: every core (see threads_per_worker)

    def check(self) -> None:
        """Raise :class:`~hotleads.exceptions.ParameterError` for the first bad option, before any work."""
        self.train.check()
        if self.train.validation is not None:  # every trial is scored out of fold on the folds; a split would score a tenth of the rows
            raise ParameterError(
                f"tune scores each trial on --folds {self.train.folds} folds and takes no validation split; got validation={self.train.validation}."
            )
        if self.trials is not None and self.trials < 1:
            raise ParameterError(f"--trials must be a positive number of trials; got {self.trials}.")
        if self.timeout is not None and not self.timeout > 0:
            raise ParameterError(f"--timeout must be a positive number of seconds; got {self.timeout}.")
        if self.trials is None and self.timeout is None:
            raise ParameterError("give --trials, --timeout or both: a search needs a budget.")
        if not 0.0 < self.holdout_share < 0.9:
            raise ParameterError(f"--holdout-share must be above 0 and below 0.9; got {self.holdout_share}.")
        if self.pruner not in PRUNERS:
            raise ParameterError(f"--pruner must be one of {', '.join(PRUNERS)}; got '{self.pruner}'.")
        for name in self.train.models:
            if name not in SPACES:
                raise ParameterError(f"--models: {name} has no search space; tune one of {', '.join(SPACES)}.")
        if self.storage is not None:
            storage_kind(self.storage)


def storage_kind(url: str) -> str:
    """``"journal"`` (a file path, or ``journal:PATH``) or ``"rdb"`` (``postgresql://...``, ``sqlite:///...``).

    Examples
    --------
    >>> storage_kind("study.journal"), storage_kind("postgresql://tune@db.internal:5432/hotleads")
    ('journal', 'rdb')
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        if not url.strip() or url.endswith(("/", os.sep)):
            raise ParameterError(f"--storage {url!r}: give a journal file (e.g. study.journal) or a database URL (e.g. postgresql://user@host/db).")
        return "journal"
    if scheme not in RDB_SCHEMES or not rest:
        raise ParameterError(
            f"--storage {url!r}: not a database URL hotleads can use; write postgresql://user:password@host:port/database "
            "(or sqlite:///path.db), or give a journal file path."
        )
    return "rdb"


# ----------------------------------------------------------------------------- Optuna in one place


def _optuna():
    """Optuna, imported once here, quiet (hotleads prints its own progress)."""
    try:
        import optuna
    except ImportError as exc:
        raise ParameterError(f"hotleads tune needs Optuna: {INSTALL_HINT}.") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_storage(url: str):
    """An Optuna storage: a journal file (several processes on one machine) or a database (several machines).

    Raises
    ------
    ParameterError
        The database cannot be reached or the URL is not one Optuna can use.
    """
    optuna = _optuna()
    if storage_kind(url) == "journal":
        path = url.removeprefix("journal:")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    engine_url = url.replace("postgresql://", "postgresql+psycopg://", 1)  # SQLAlchemy's default driver is psycopg2; ours is psycopg 3
    _make_sqlite_folder(engine_url)
    _check_reachable(url, engine_url)
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 4-5, and what fails a dead machine's trials
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    engine_url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=4 * HEARTBEAT_SECONDS, engine_kwargs={"pool_pre_ping": True}
                )
        except Exception as exc:  # two processes creating Optuna's tables in a new database at once: one loses, then finds them made
            if attempt + 1 == SCHEMA_ATTEMPTS or type(exc).__name__ not in ("IntegrityError", "ProgrammingError"):
                raise ParameterError(f"--storage {redacted(url)}: cannot set up Optuna's tables ({_first_line(exc)}).") from None
            time.sleep(0.5 * (attempt + 1))


def _make_sqlite_folder(engine_url: str) -> None:
    """Create the folder of an SQLite file, as a journal file's is: SQLite makes the file but not its folder."""
    if not engine_url.startswith("sqlite:"):
        return
    import sqlalchemy

    try:
        database = sqlalchemy.engine.make_url(engine_url).database
    except sqlalchemy.exc.ArgumentError:
        return  # _check_reachable says what is wrong with the URL
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _check_reachable(url: str, engine_url: str) -> None:
    """Connect once, and close, before Optuna does: a failed attempt inside Optuna leaves its connection to the garbage collector."""
    import sqlalchemy

    engine = None
    try:
        engine = sqlalchemy.create_engine(engine_url)
        with engine.connect():
            pass
    except Exception as exc:  # SQLAlchemy's OperationalError, ArgumentError, a missing driver...: the message names the cause
        raise ParameterError(
            f"--storage {redacted(url)}: cannot open the database ({_first_line(exc)}); check the URL and that the server is running."
        ) from None
    finally:
        if engine is not None:
            engine.dispose()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def redacted(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db`` (messages never show a password)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


# ----------------------------------------------------------------------------- one study per model


@dataclass
class Search:
    """The rows a search may see and its fixed protocol: the set-aside rows, the folds and nested features."""

    frame: pd.DataFrame  # the searched rows, as read
    holdout: pd.DataFrame  # the set-aside rows, as read
    inputs: CrossFitInputs
    data_sha256: str | None
    source: str
    windows: np.ndarray | None = None  # the searched rows' monthly windows (--history), read by the neural models
    holdout_windows: np.ndarray | None = None  # the set-aside rows' windows
    history_sha256: str | None = None  # the history file's checksum: a study is for one history


def split_holdout(frame: pd.DataFrame, share: float, *, seed: int, source: str, **schema_options) -> tuple[np.ndarray, np.ndarray]:
    """(searched rows, set-aside rows), positions in ``frame``, each sorted: a stratified ``share`` of the labelled rows is set aside.

    Raises
    ------
    DataError
        A class has too few rows to set some aside and still search.
    """
    from sklearn.model_selection import train_test_split

    schema = infer_schema(frame, source=source, **schema_options)
    prepared = prepare(frame, schema, source=source, labelled=True, training=True)
    rows = np.arange(len(frame)) if prepared.rows is None else prepared.rows
    smallest = int(np.bincount(prepared.y).min())
    if smallest * share < 1 or smallest * (1 - share) < 2:
        raise DataError(f"{source}: the smaller class has {smallest} row(s), too few to set {share:.0%} aside and search on the rest; add labelled rows.")
    searched, held = train_test_split(rows, test_size=share, stratify=prepared.y, random_state=seed)
    return np.sort(searched), np.sort(held)


def prepare_search(
    frame: pd.DataFrame, options: TuneOptions, *, source: str, data_sha256: str | None = None, history: dict | None = None, **schema_options
) -> Search:
    """Set the holdout aside and build the folds and nested features every trial reuses.

    ``history``: ``{"path", "as_of", "months"}`` of a monthly history (:func:`hotleads.history.attach`): its aggregates
    join ``frame`` and its windows go to the neural models, as in ``train --history``.
    """
    windows = history_sha256 = None
    if history is not None:
        frame, _, windows = attach(frame, history["path"], source=source, id_column=schema_options.get("id_column"), na_values=schema_options.get("na_values", ()), dropped=schema_options.get("drop", ()),
                                   as_of=history.get("as_of"), months=history.get("months"),
                                   decimal_comma=schema_options.get("decimal_comma", ()), decimal_point=schema_options.get("decimal_point", ()))  # fmt: skip
        schema_options = table_options(schema_options, frame.columns)  # the channels' marks were the history's
        history_sha256 = sha256_file(history["path"])
    searched_rows, held_rows = split_holdout(frame, options.holdout_share, seed=options.train.seed, source=source, **schema_options)
    searched, holdout = (frame.iloc[rows].reset_index(drop=True) for rows in (searched_rows, held_rows))
    mine = None if windows is None else windows[searched_rows]
    inputs = cross_fit_inputs(searched, options.train, source=source, bagging=False, sequences=mine, **schema_options)
    return Search(searched, holdout, inputs, data_sha256, source, mine, None if windows is None else windows[held_rows], history_sha256)


def study_name(options: TuneOptions, model: str, search: Search) -> str:
    """``--study`` (or ``hotleads-<first 12 hex of the data's SHA-256>``) and the model: ``NAME-gbdt``."""
    prefix = options.study or f"hotleads-{(search.data_sha256 or 'table')[:12]}"
    return f"{prefix}-{model}"


def study_attrs(options: TuneOptions, model: str, search: Search) -> dict:
    """What a study must agree on to be continued: model, data, rows set aside, folds, seed, objective."""
    train = options.train
    attrs = {
        "model": model, "data_sha256": search.data_sha256, "rows": int(len(search.inputs.y)), "holdout_share": options.holdout_share,
        "folds": train.folds, "seed": train.seed, "features": train.features, "objective": parse_objective(train.objective).name,
    }  # fmt: skip
    return attrs if search.history_sha256 is None else attrs | {"history_sha256": search.history_sha256}


def open_study(storage, name: str, attrs: dict, options: TuneOptions):
    """Create the study ``name`` or continue it; refuse one made for another model, data or protocol.

    Trials a dead process left RUNNING are marked failed first (see :func:`fail_orphans`).
    """
    optuna = _optuna()
    sampler = optuna.samplers.TPESampler(seed=sampler_seed(options, storage))
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction="maximize",
        sampler=sampler,
        pruner=_pruner(options.pruner, warmup_steps(attrs["model"], options)),
        load_if_exists=True,
    )
    # Attributes are written one at a time, so a worker that opens the study while another is still
    # writing them sees only some: it compares those and writes the rest (the same values, when the
    # searches agree): a key not written yet is not a different search.
    saved = study.user_attrs
    differs = {key: (saved[key], value) for key, value in attrs.items() if key in saved and saved[key] != value}
    if differs:
        what = "; ".join(f"{key} {old!r} there, {new!r} here" for key, (old, new) in differs.items())
        raise ParameterError(f"--study: the study '{name}' was made for another search ({what}); choose another --study, or rerun it as it was.")
    for key, value in attrs.items():
        if key not in saved:
            study.set_user_attr(key, value)
    fail_orphans(study)
    return study


def sampler_seed(options: TuneOptions, storage) -> int:
    """The sampler's seed: ``--seed`` plus the worker's number among ``--workers`` (so the workers of one run
    draw different trials, and one process repeats its trials); on a database, where other machines
    run the same command, also this host and process, so that no two processes draw alike."""
    seed = options.train.seed + options.worker
    if type(storage).__name__ != "RDBStorage":
        return seed
    import zlib

    return (seed + zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode())) % 2**32


def _pruner(name: str, warmup: int):
    """Optuna's pruner ``name``; no trial is judged before step ``warmup`` (see :func:`warmup_steps`)."""
    optuna = _optuna()
    if name == "median":  # once 5 trials finished, a trial below their median at the same step stops
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=warmup + 1, reduction_factor=3)
    return optuna.pruners.NopPruner()


def warmup_steps(model: str, options: TuneOptions) -> int:
    """Steps before a trial may be pruned: none for fold-wise reports (the first fold decides); half the first
    fold's epochs for a network, whose one-cycle learning rate peaks at 30 % of training, so its early
    epochs say little about where it ends."""
    return epochs_of(model, options) // 2 if model in NEURAL else 0


def fail_orphans(study) -> list[int]:
    """Mark failed the RUNNING trials of processes of this machine that no longer exist; return their numbers.

    A database storage also fails trials whose heartbeat stopped (any machine), through Optuna.
    """
    optuna = _optuna()
    host, failed = socket.gethostname(), []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        attrs = trial.user_attrs
        if attrs.get("host") == host and attrs.get("pid") and not _alive(attrs["pid"]):
            study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
            failed.append(trial.number)
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def objective_value(y: np.ndarray, proba: np.ndarray, objective: Objective) -> float:
    """What a trial maximises: F1 at the F1-optimal threshold, or for ``precision>=P`` (``recall>=R``) the
    recall (precision) reached at that floor; 0 when the floor cannot be reached."""
    found = objective_threshold(y, proba, objective)
    if objective.metric == "f1":
        return found["f1"]
    if not found["attainable"]:
        return 0.0
    return found["recall"] if objective.metric == "precision" else found["precision"]


def run_trial(trial, model: str, search: Search, options: TuneOptions) -> float:
    """Cross-fit ``model`` with the trial's parameters, reporting as it goes so the pruner can stop it.

    Tree and linear models report the running out-of-fold objective after each fold (step = fold).
    Neural models report after every epoch their validation rows' PR-AUC (step = fold x epochs +
    epoch; see :func:`epoch_reporter`), so a poor network stops within its first fold.
    """
    optuna = _optuna()
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    params = {**options.train.params(model), **SPACES[model](trial)} | ({} if options.n_jobs is None else {"n_jobs": options.n_jobs})
    inputs, objective = search.inputs, parse_objective(options.train.objective)
    per_epoch = model in NEURAL
    oof, done = np.zeros(len(inputs.y)), np.zeros(len(inputs.y), dtype=bool)
    for k, (_, valid_rows) in enumerate(inputs.folds):
        last = k + 1 == len(inputs.folds)  # a trial in its last fold has paid for its value: report, never prune
        fit_params = {"on_epoch": epoch_reporter(trial, k, epochs_of(model, options), prune=not last)} if per_epoch else {}
        _, oof[valid_rows] = inputs.fold_estimator(model, params, k, seed=options.train.seed, **fit_params)
        done[valid_rows] = True
        if not per_epoch:
            trial.report(objective_value(inputs.y[done], oof[done], objective), step=k)
            if not last and trial.should_prune():
                raise optuna.TrialPruned()
    return objective_value(inputs.y, oof, objective)


def epochs_of(model: str, options: TuneOptions) -> int:
    """The epochs each fold of a neural trial trains (``--epochs`` or the model's default; not searched)."""
    return int(options.train.params(model).get("epochs", neural_params.defaults(model)["epochs"]))


def epoch_reporter(trial, fold: int, epochs: int, *, prune: bool = True) -> Callable[[dict], None]:
    """A neural estimator's ``on_epoch``: report the epoch's validation PR-AUC at step ``fold * epochs + epoch - 1``
    and (with ``prune``) raise ``optuna.TrialPruned`` when the pruner says so (an epoch without validation rows
    reports nothing)."""
    optuna = _optuna()

    def report(record: dict) -> None:
        if "val_average_precision" not in record:
            return
        trial.report(record["val_average_precision"], step=fold * epochs + int(record["epoch"]) - 1)
        if prune and trial.should_prune():
            raise optuna.TrialPruned()

    return report


@dataclass
class TrialProgress:
    """What the progress display shows after each trial of one model's search."""

    model: str
    finished: int
    target: int | None
    best: float | None
    pruned: int
    seconds: float
    timeout: float | None

    @property
    def seconds_left(self) -> float | None:
        """Time left: the budget's, or the trials' left at the pace so far, whichever ends first."""
        by_time = None if self.timeout is None else max(0.0, self.timeout - self.seconds)
        if self.target is None or self.finished == 0:
            return by_time
        by_trials = self.seconds / self.finished * max(0, self.target - self.finished)
        return by_trials if by_time is None else min(by_trials, by_time)


def search_model(
    model: str, search: Search, options: TuneOptions, storage, *, progress: Callable[[TrialProgress], None] | None = None, run_trials: int | None = None
):
    """Run this process's ``options.trials`` trials of ``model``'s study (or until ``options.timeout``); return the study.

    ``run_trials`` is the whole run's trial count when several processes share it (``--workers``),
    for the progress display: the study then ends the run with that many more finished trials.
    """
    optuna = _optuna()
    study = open_study(storage, study_name(options, model, search), study_attrs(options, model, search), options)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    planned = run_trials if run_trials is not None else options.trials
    target = None if planned is None else len(study.get_trials(deepcopy=False, states=finished)) + planned
    started = time.perf_counter()

    def after_trial(study, _trial) -> None:
        trials = study.get_trials(deepcopy=False, states=finished)
        best = max((t.value for t in trials if t.state == optuna.trial.TrialState.COMPLETE), default=None)
        pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
        progress(TrialProgress(model, len(trials), target, best, pruned, time.perf_counter() - started, options.timeout))

    study.optimize(
        lambda trial: run_trial(trial, model, search, options), n_trials=options.trials, timeout=options.timeout,
        callbacks=[after_trial] if progress else [], catch=(), gc_after_trial=False,
    )  # fmt: skip
    return study


def threads_per_worker(workers: int) -> int | None:
    """Threads each of ``workers`` processes on this machine fits with: its share of the cores (None for one
    worker: every core). Two processes each fitting on every core of a 2-core machine would share them
    at a switching cost instead of adding trials.

    Examples
    --------
    >>> threads_per_worker(1) is None
    True
    """
    from .base import default_n_jobs

    return None if workers == 1 else max(1, default_n_jobs() // workers)


def split_trials(trials: int | None, workers: int) -> list[int | None]:
    """Each of ``workers`` processes' share of ``trials`` (the first ones take the remainder); all None without a count.

    Examples
    --------
    >>> split_trials(10, 3), split_trials(None, 2)
    ([4, 3, 3], [None, None])
    """
    if trials is None:
        return [None] * workers
    return [trials // workers + (i < trials % workers) for i in range(workers)]


# ----------------------------------------------------------------------------- the honest comparison


def compare_on_holdout(model: str, params: dict, search: Search, options: TuneOptions, schema_options: dict) -> dict:
    """The default and the tuned configuration, each trained on the searched rows and scored on the set-aside rows."""
    scores = {}
    for label, model_params in (("default", {}), ("tuned", {model: params})):
        train_options = TrainOptions(**{**vars(options.train), "models": [model], "model_params": model_params})
        trained = train(search.frame, train_options, source=search.source, sequences=search.windows, **schema_options)
        scored = score(trained.predictor, search.holdout, source=f"{search.source} (set aside)", labelled=True, sequences=search.holdout_windows)
        scores[label] = classification_metrics(scored.y, scored.probability, trained.predictor.threshold.value)["f1"]
    return {"rows": int(len(search.holdout)), "default_f1": scores["default"], "tuned_f1": scores["tuned"], "chosen": _chosen(scores)}


def _chosen(scores: dict) -> str:
    return "tuned" if scores["tuned"] > scores["default"] else "default"


def study_evidence(study) -> dict:
    """Every finished trial (number, state, value, parameters), the best so far by trial, and which parameters mattered."""
    optuna = _optuna()
    trials = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    rows = [{"number": t.number, "state": t.state.name.lower(), "value": t.value, "params": t.params} for t in trials]
    best_so_far, best = [], -math.inf
    for row in rows:
        if row["state"] == "complete":
            best = max(best, row["value"])
        best_so_far.append(None if best == -math.inf else best)
    top = _best_of(complete, study.direction == optuna.study.StudyDirection.MAXIMIZE) if complete else None
    return {
        "study": study.study_name, "trials": rows, "best_so_far": best_so_far,
        "best": {"number": top.number, "value": top.value, "params": top.params} if top else None,
        "importance": _importance(complete, study.direction) if len(complete) >= 2 else {},
        "pruned": sum(row["state"] == "pruned" for row in rows),
    }  # fmt: skip


def _best_of(complete: list, maximize: bool):
    """The best of ``complete`` (the earliest on a tie), from that one read of the study.

    Not ``study.best_trial``: that reads the storage again, and another worker sharing the study
    may have finished a better trial in between, which the trials listed would then lack.
    """
    sign = 1.0 if maximize else -1.0
    return max(complete, key=lambda t: (sign * t.value, -t.number))


def _importance(complete: list, direction) -> dict[str, float]:
    """Optuna's fANOVA importance of each parameter over the ``complete`` trials (shares summing to 1); empty when it cannot be told.

    The trials are copied into a study in memory: the storage's own study, read again, could hold a
    trial another worker finished after ``complete`` was listed.
    """
    optuna = _optuna()
    listed = optuna.create_study(direction=direction)
    listed.add_trials(complete)
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        return {name: float(value) for name, value in optuna.importance.get_param_importances(listed, evaluator=evaluator).items()}
    except (RuntimeError, ValueError, ZeroDivisionError):  # too few trials, or no variation, to tell anything apart
        return {}


def best_params(draws: dict, model: str) -> dict:
    """A trial's parameters as the estimator takes them: ``model``'s space replayed on the trial's ``draws``
    (so fixed settings such as early stopping, and the class-weight switch, come out as in the trial)."""
    return SPACES[model](_optuna().trial.FixedTrial(draws))


def default_storage(out: Path) -> str:
    """The journal file of ``--out best.json``: ``best.journal`` beside it."""
    return str(out.with_suffix(".journal"))


# ----------------------------------------------------------------------------- the whole search


PARAMS_FORMAT = "hotleads-params"
PARAMS_VERSION = 1


@dataclass
class TuneResult:
    """Per model: the study's evidence, the best parameters, the set-aside comparison and the configuration kept."""

    models: dict[str, dict]
    storage: str
    objective: str
    data: dict

    def chosen_params(self) -> dict[str, dict]:
        """``{model: parameters}`` of the configurations kept (empty for a model whose default won)."""
        return {name: found["params"] if found["holdout"]["chosen"] == "tuned" else {} for name, found in self.models.items()}

    def to_dict(self) -> dict:
        """``best.json``: what ``hotleads train --params`` reads, with the evidence behind each choice."""
        return {"format": PARAMS_FORMAT, "version": PARAMS_VERSION, "storage": redacted(self.storage), "objective": self.objective, "data": self.data,
                "models": self.models}  # fmt: skip


def tune(
    frame: pd.DataFrame,
    options: TuneOptions,
    *,
    storage: str,
    source: str = "table",
    data_sha256: str | None = None,
    progress: Callable[[TrialProgress], None] | None = None,
    run_trials: int | None = None,
    compare: bool = True,
    wait: Callable[[], None] | None = None,
    history: dict | None = None,
    **schema_options,
) -> TuneResult | None:
    """Search each model of ``options.train.models`` in its own study, then compare the best with the default on the set-aside rows.

    With ``--workers`` each process runs its share of the trials (``options.trials``) and
    ``run_trials`` is the run's whole count (for the progress display); ``compare=False`` only
    searches (a worker) and returns None; ``wait`` is called between the search and the comparison
    (to let the other workers finish their trials). ``history``: a monthly history, as for
    :func:`prepare_search`.

    Raises
    ------
    ParameterError
        A bad option, a storage that cannot be opened, or a study made for another search.
    DataError
        The table cannot be trained on.
    """
    options.check()
    search = prepare_search(frame, options, source=source, data_sha256=data_sha256, history=history, **schema_options)
    if history is not None:  # as prepare_search: the channels' --decimal-comma/--decimal-point were the history's
        schema_options = table_options(schema_options, search.frame.columns)
    opened = open_storage(storage)  # after the data checks: a refused table or history leaves no journal file behind
    studies = {model: search_model(model, search, options, opened, progress=progress, run_trials=run_trials) for model in options.train.models}
    if not compare:
        return None
    if wait is not None:
        wait()  # the other workers' trials belong to the evidence
    found = {}
    for model, study in studies.items():
        evidence = study_evidence(study)
        if evidence["best"] is None:
            raise DataError(f"{source}: no trial of {model} finished; raise --trials or --timeout.")
        params = best_params(evidence["best"]["params"], model)  # the trial the evidence names, from the same read
        found[model] = {"params": params, "study": study.study_name, "oof": evidence["best"]["value"],
                        "holdout": compare_on_holdout(model, params, search, options, schema_options), "search": evidence}  # fmt: skip
    data = {"source": source, "sha256": data_sha256, "rows": int(len(frame)), "set_aside": int(len(search.holdout))}
    return TuneResult(found, storage, parse_objective(options.train.objective).name, data)


def read_params(path: str | Path) -> tuple[dict[str, dict], dict]:
    """``({model: parameters}, {model: search evidence})`` from a ``best.json`` written by ``hotleads tune``.

    Raises
    ------
    ParameterError
        The file is missing, not JSON, or not a ``hotleads tune`` result.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ParameterError(f"--params {path}: no such file; write one with `hotleads tune DATA --out {path}`.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(f"--params {path}: not readable JSON ({exc}); pass the --out file of `hotleads tune`.") from None
    if not isinstance(data, dict) or data.get("format") != PARAMS_FORMAT or not isinstance(data.get("models"), dict):
        raise ParameterError(f"--params {path}: not a `hotleads tune` result; pass the --out file of `hotleads tune`.")
    if data.get("version") != PARAMS_VERSION:
        raise ParameterError(f"--params {path}: written by another version of hotleads tune (format {data.get('version')}); tune again.")
    params = {name: found["params"] if found["holdout"]["chosen"] == "tuned" else {} for name, found in data["models"].items()}
    return params, {name: found["search"] | {"holdout": found["holdout"]} for name, found in data["models"].items()}


# ----------------------------------------------------------------------------- several processes on one study


@dataclass
class SearchJob:
    """A search as a worker process can repeat it: options, storage, the data file and how to read it."""

    options: TuneOptions
    storage: str
    path: str
    data_sha256: str
    read_options: dict = field(default_factory=dict)
    schema_options: dict = field(default_factory=dict)
    history: dict | None = None  # {"path", "as_of", "months"} of --history (JSON-able: the workers read it again)

    def run(self, frame: pd.DataFrame, *, progress=None, run_trials: int | None = None, compare: bool = True, wait=None) -> TuneResult | None:
        """:func:`tune` on ``frame`` (this job's file, read) with this job's options."""
        return tune(
            frame, self.options, storage=self.storage, source=self.path, data_sha256=self.data_sha256, progress=progress, run_trials=run_trials,
            compare=compare, wait=wait, history=self.history, **self.schema_options,
        )  # fmt: skip

    def worker(self, number: int, trials: int | None) -> SearchJob:
        """The job of worker ``number``: its share of the trials, and its own sampler seed."""
        return SearchJob(**{**vars(self), "options": TuneOptions(**{**vars(self.options), "trials": trials, "worker": number})})

    def to_json(self) -> str:
        return json.dumps(vars(self) | {"options": vars(self.options) | {"train": vars(self.options.train)}})

    @classmethod
    def from_json(cls, text: str) -> SearchJob:
        data = json.loads(text)
        options = data.pop("options")
        return cls(TuneOptions(**{**options, "train": TrainOptions(**options["train"])}), **data)


def worker_main(spec: str) -> None:
    """Entry point of a worker process started by :class:`worker_processes`: search only, no comparison."""
    from .io import read_table

    job = SearchJob.from_json(spec)
    job.run(read_table(job.path, **job.read_options), compare=False)


class worker_processes:
    """Start a worker process per share in ``shares`` on the same studies (``--workers``); wait for them on
    exit, stop them on Ctrl-C or an error (each keeps the trials it finished).

    Each worker is a fresh Python running :func:`worker_main`; Optuna's storage (a locked journal
    file or a database) hands each trial to one process, and each worker's sampler has its own
    seed, so no configuration is drawn twice by design. A worker that fails is reported with its
    last error line.
    """

    def __init__(self, job: SearchJob, shares: list[int | None]) -> None:
        self.job, self.shares, self.processes = job, shares, []

    def __enter__(self) -> worker_processes:
        code = "import sys\nfrom hotleads.tune import worker_main\nworker_main(sys.argv[1])"
        for number, trials in enumerate(self.shares, start=1):
            log = tempfile.TemporaryFile(mode="w+")
            args = [sys.executable, "-c", code, self.job.worker(number, trials).to_json()]
            self.processes.append((subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, text=True), log))
        return self

    def wait(self) -> None:
        """Wait for every worker; raise :class:`ParameterError` with the first failure's last line."""
        failures = []
        for process, log in self.processes:
            if process.wait() != 0:
                log.seek(0)
                lines = [line for line in log.read().splitlines() if line.strip()]
                failures.append(lines[-1] if lines else f"exit status {process.returncode}")
        if failures:
            raise ParameterError(f"--workers: {len(failures)} worker process(es) failed: {failures[0]}")

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None:  # Ctrl-C or an error here: the others stop too (as on Ctrl-C), each keeping the trials it finished
            for process, _ in self.processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
        for process, log in self.processes:
            process.wait()
            log.close()
