"""The ``hotleads`` command line: parse, call the library, print. No modelling here.

Start-up stays fast (``hotleads --version`` and ``--help`` import no numerical library): each
command imports the library modules it calls when it runs, so ``predict`` with a gbdt model never
imports torch or matplotlib.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import json
import os
import re
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from . import __version__
from .exceptions import DataWarning, HotleadsError, HotleadsWarning, ParameterError, ReadingWarning

try:  # recent typer carries its own copy of click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer uses the click package
    from click.exceptions import ClickException


class _OneLineUsageErrors(TyperGroup):
    """Typer's group, with typer's own usage errors (an unknown option, a value that is not a number...)
    printed as one ``error:`` line and exit status 2 like every other user error, not as a framed box."""

    def make_context(self, *args, **kwargs):
        with _usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):  # a command's own options are parsed here
        with _usage_errors():
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_errors():
    try:
        yield
    except ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help text itself (click >= 8.2), which typer prints
            raise
        message = " ".join(exc.format_message().split()).rstrip(".")
        ctx = getattr(exc, "ctx", None)
        if ctx is not None and ctx.help_option_names:
            message += f"{'' if message.endswith('?') else ';'} see '{ctx.command_path} {ctx.help_option_names[0]}'"
        console.print(f"error: {message[:1].lower()}{message[1:]}.", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


app = typer.Typer(cls=_OneLineUsageErrors, add_completion=False, no_args_is_help=True, help="Predict which companies are hot leads for HR services.")
console = Console(stderr=True)
stdout = Console()

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display or tables (for scripts).")]
HistoryFile = Annotated[
    Path | None,
    typer.Option(
        help="Monthly history, CSV or Parquet: the company id column (named as in the company table), month (YYYY-MM) and numeric "
        "columns such as job_postings, headcount, funding_raised; companies without rows are scored from their own columns."
    ),
]
AsOf = Annotated[str | None, typer.Option("--as-of", help="With --history: the reference month, YYYY-MM (default: the history's latest month).")]
Months = Annotated[int | None, typer.Option(help="With --history: months of history read per company, up to --as-of (default 24).")]
Family = Annotated[
    str,
    typer.Option(
        help="Kind of built-in data: hr-leads (the challenge schema), hiring-thresholds (step effects and interactions), "
        "crm-export (many categorical columns), trial-signups (smooth effects, noisy labels). Target is_hot_lead in each."
    ),
]
Seed = Annotated[int, typer.Option(help="Seed that fixes every random choice.")]
Device = Annotated[str, typer.Option(help="Device of the neural models: auto, cpu, cuda or cuda:N.")]
# How a file is read (every command that reads a table).
Sep = Annotated[str | None, typer.Option(help="Delimiter of a CSV file: ',', ';', '|' or 'tab' (default: sniffed from the file).")]
Encoding = Annotated[
    str | None, typer.Option(help="Encoding of a CSV file, e.g. utf-8, utf-16, cp1252 (default: UTF-8 or UTF-16 by content, else cp1252 with a warning).")
]
Sheet = Annotated[str | None, typer.Option(help="Sheet of an .xlsx workbook: its name or number, 1 = first (default: the first).")]
# Column roles (train and schema).
Target = Annotated[str | None, typer.Option(help="Target column (default is_hot_lead).")]
IdColumn = Annotated[str | None, typer.Option("--id", help="Id column (default company_id, else inferred).")]
Drop = Annotated[list[str] | None, typer.Option(help="Column to ignore (repeat, or comma-separate).")]
Categorical = Annotated[list[str] | None, typer.Option(help="Column to treat as categorical (repeat, or comma-separate).")]
Dates = Annotated[list[str] | None, typer.Option("--date", help="Column to read as dates even when few values parse (repeat, or comma-separate).")]
Positive = Annotated[
    list[str] | None,
    typer.Option(help="Target value(s) that mean a hot lead, e.g. Won (comma-separate several); the rest become 0 unless --negative is given."),
]
Negative = Annotated[list[str] | None, typer.Option(help="With --positive: target value(s) that mean 0; rows in neither list (open deals) are left out.")]
NaValues = Annotated[
    list[str] | None,
    typer.Option(
        "--na-values",
        help="Token(s) that mean missing in every column, text ones too (comma-separate). NA, N/A, null, -, ? ... are already missing in numeric and date columns.",
    ),
]
DayFirst = Annotated[
    bool | None, typer.Option("--dayfirst/--monthfirst", help="Read ambiguous dates such as 03/04/2024 day first (3 April) or month first (4 March).")
]
DecimalComma = Annotated[
    list[str] | None, typer.Option("--decimal-comma", help="Numeric column whose ',' is the decimal mark (when its values leave it ambiguous).")
]
DecimalPoint = Annotated[
    list[str] | None, typer.Option("--decimal-point", help="Numeric column whose '.' is the decimal mark (when its values leave it ambiguous).")
]


def user_errors(command):
    """Turn input mistakes into one ``error:`` line and exit status 2; print hotleads' warnings."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return command(*args, **kwargs)
            except HotleadsError as exc:
                _fail(str(exc), caught)
            except OSError as exc:  # reading is checked where files are opened: this is a write the system refused
                _fail(_os_problem(exc), caught)
            finally:
                for warning in _unique(caught):
                    console.print(f"warning: {warning.message}", markup=False, highlight=False, soft_wrap=True)

    return wrapper


def _fail(message: str, caught: list[warnings.WarningMessage]) -> None:
    """Print ``error: message`` and exit 2. The warnings met on the way are about work now undone and are dropped, but
    for those saying how a table was read (:class:`~hotleads.exceptions.ReadingWarning`): printed first, they explain
    an error that follows from that reading (the line read as the header under a skipped title)."""
    notes = [warning for warning in _unique(caught) if issubclass(warning.category, ReadingWarning)]
    caught.clear()
    for note in notes:
        console.print(f"warning: {note.message}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


_OS_ADVICE = {
    errno.ENOSPC: "free some space or write elsewhere",
    errno.EDQUOT: "free some space or write elsewhere",
    errno.EROFS: "write to another folder",
    errno.EACCES: "check the permissions, or write to another folder",
    errno.EPERM: "check the permissions, or write to another folder",
}


def _os_problem(exc: OSError) -> str:
    """A refused write in words: the file (the writers name where it was going, see :func:`hotleads.io.naming`), or the
    folder when it was in one of hotleads' hidden temporary files or folders (an output is written beside itself, then
    renamed; scoring spills parts beside the output), the system's reason and what to do. Arrow's writers name neither
    the file nor the errno field, only ``[errno 28]`` in their text."""
    found = re.search(r"\[errno (\d+)\]", exc.strerror or str(exc), re.IGNORECASE)  # Arrow's "Error writing bytes... [errno 28] ..."
    code = int(found.group(1)) if found else exc.errno
    reason = os.strerror(code) if found else exc.strerror or (os.strerror(code) if code else str(exc))
    where = _outside_temporaries(Path(exc.filename)) if exc.filename else "could not write an output"
    return f"{where}: {reason}; {_OS_ADVICE.get(code, 'check the path and try again')}."


_TEMPORARY = re.compile(r"\.hotleads-.*|\..+\.tmp")  # tempfile's names of io.atomic_path, atomic_dir, files_into and the scoring spill


def _outside_temporaries(path: Path) -> Path:
    """``path``, or the folder that holds the first of hotleads' temporary files or folders on it: those are gone by now."""
    first = next((i for i, part in enumerate(path.parts) if _TEMPORARY.fullmatch(part)), None)
    return path if first is None else Path(*path.parts[:first])


def _unique(caught):
    """hotleads' own warnings, each once. Other libraries' warnings are never printed in their words: those
    met so far are prevented where they arise (the report's fonts, feature discovery's folds) and any other
    is left out, since hotleads could not say what it means for the user's data or what to do about it."""
    seen = set()
    for warning in caught:
        if issubclass(warning.category, HotleadsWarning) and str(warning.message) not in seen:
            seen.add(str(warning.message))
            yield warning


def _version(value: bool) -> None:
    if value:
        stdout.print(f"hotleads {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False) -> None:
    """Predict which companies are hot leads for HR services."""


@app.command()
@user_errors
def generate(
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for train.csv, test.csv, holdout.csv and bayes.json (and history.csv with --history); other files there stay. "
            "Files of those names are replaced only when an earlier generate wrote them as they are (its bayes.json records their checksums), else refused: see --force."
        ),
    ],
    rows: Annotated[int, typer.Option(help="Rows in all (60 % train, 20 % test, 20 % holdout).")] = 20_000,
    family: Family = "hr-leads",
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Write companies with monthly histories instead (history.csv: job postings, headcount, funding per month; "
            "family hr-histories), whose label depends on the order of the months.",
        ),
    ] = False,
    months: Annotated[int | None, typer.Option(help="With --history: months of history up to 2025-01 (default 24).")] = None,
    temporal_signal: Annotated[
        bool | None,
        typer.Option(
            "--temporal-signal/--no-temporal-signal",
            help="With --history: a label that depends on the order of the months (default), or the control whose label depends only on "
            "order-free aggregates of the same histories.",
        ),
    ] = None,
    seed: Seed = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Replace files of those names in --out even when an earlier generate did not write them (your own train.csv...).")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Write built-in synthetic lead data with a known Bayes-optimal F1 (default: the challenge schema).

    Nothing of yours is replaced: without --force, files in --out that it would replace are refused unless an earlier generate wrote them as they are (its bayes.json).
    """
    from . import synth

    synth.check_family_option(family)
    if history and family != "hr-leads":
        raise ParameterError(
            f"--family {family} cannot be combined with --history: histories come with their own companies (hr-histories); drop one of the two."
        )
    if not history and (months is not None or temporal_signal is not None):
        given = "--months" if months is not None else "--temporal-signal" if temporal_signal else "--no-temporal-signal"
        raise ParameterError(f"{given} only applies with --history; add --history or drop {given}.")
    if rows < synth.MIN_ROWS:
        raise ParameterError(f"--rows must be at least {synth.MIN_ROWS}; got {rows}.")
    if months is not None and not synth.MIN_HISTORY_MONTHS <= months <= synth.MAX_HISTORY_MONTHS:
        raise ParameterError(f"--months must be between {synth.MIN_HISTORY_MONTHS} and {synth.MAX_HISTORY_MONTHS} for generated histories; got {months}.")
    if seed < 0:
        raise ParameterError(f"--seed must be an integer >= 0; got {seed}.")
    _check_folder("--out", out)  # and the user's files there are refused (unless --force) before any work, by synth
    if history:
        months = 24 if months is None else months
        temporal = True if temporal_signal is None else temporal_signal
        report = synth.write_history_dataset(out, rows=rows, seed=seed, months=months, temporal_signal=temporal, force=force)
        if not quiet:
            signal = "temporal signal" if temporal else "order-free control signal"
            stdout.print(
                f"wrote {out}/train.csv, test.csv, holdout.csv ({report['rows']}), history.csv ({months} months to {synth.HISTORY_AS_OF}, {signal}); "
                f"family {synth.HISTORY_FAMILY}, target {synth.TARGET}, id company_id; test Bayes-optimal F1 {report['test_bayes_f1']:.4f}"
            )
        return
    report = synth.write_dataset(out, rows=rows, seed=seed, family=family, force=force)
    if not quiet:
        stdout.print(
            f"wrote {out}/train.csv, test.csv, holdout.csv ({report['rows']}); family {family}, target {synth.target_column(family)}, "
            f"id {synth.id_column(family)}; test Bayes-optimal F1 {report['test_bayes_f1']:.4f}"
        )


def _check_folder(option: str, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {path}: is a file, not a folder; give the path of a folder to write into.")
    _check_parents(option, path)


def _check_output(option: str, path: Path, *, table: bool = False) -> None:
    """Refuse, before any work, an output file that is a folder or (``table``) has a suffix hotleads cannot write."""
    from .io import check_file_target, check_table_target

    try:
        check_table_target(path, 0) if table else check_file_target(path)
    except ParameterError as exc:
        raise ParameterError(f"{option} {exc}") from None
    _check_parents(option, path)


# Endings of other kinds of file than hotleads writes (Excel would not open CSV text saved as .xlsx). Only these are
# refused: any other name (submission_2025.01, leads.v2) is written as the output's own kind.
OTHER_KINDS = frozenset(
    ".xlsx .xls .xlsm .ods .json .jsonl .ndjson .xml .html .htm .pdf .tsv .feather .arrow .orc .avro .gz .zip .bz2 .xz .png .svg .docx".split()
)
TABLE_KINDS = frozenset(".csv .txt .parquet .pq".split())


def _check_suffix(option: str, path: Path, allowed: frozenset[str], written: str) -> None:
    """Refuse an output whose ending promises another kind of file than hotleads writes there."""
    if path.suffix.lower() in (OTHER_KINDS | TABLE_KINDS) - allowed:
        raise ParameterError(f"{option} {path}: {written}; end the path in {', '.join(sorted(allowed))} (or give it no ending).")


def _check_parents(option: str, path: Path) -> None:
    """Missing folders above an output are made when it is written; a file there would fail at the very end."""
    above = next((parent for parent in path.parents if parent.exists()), None)
    if above is not None and not above.is_dir():
        raise ParameterError(f"{option} {path}: {above} is a file, so nothing can be written below it; choose another path.")


@app.command()
@user_errors
def train(
    data: Annotated[Path, typer.Argument(help="Labelled company table (CSV, Parquet or .xlsx).")],
    out: Annotated[Path, typer.Option(help="Model directory to write; an earlier model there is replaced, a folder holding anything else is refused.")],
    models: Annotated[
        str,
        typer.Option(
            help="auto (choose among gbdt, logreg and their ensemble by out-of-fold F1), or comma-separated models: gbdt, logreg, lstm, cnn, transformer."
        ),
    ] = "auto",
    ensemble: Annotated[str, typer.Option(help="How several models combine: mean, weighted, stack or best.")] = "mean",
    features: Annotated[str, typer.Option(help="auto: discover derived features and keep those that raise OOF F1; raw: the columns as they are.")] = "auto",
    bagging: Annotated[
        str,
        typer.Option(
            help="on: save each model as the average of its fold models (what the out-of-fold figures describe); off: refit it on all rows "
            "(k times faster to score); auto: on up to 100,000 rows."
        ),
    ] = "auto",
    explain_features: Annotated[bool, typer.Option("--explain-features", help="Print the relations found and the features kept, with their evidence.")] = False,
    time_limit: Annotated[
        float | None,
        typer.Option(
            help="Seconds the whole training may take: the time the models leave goes to more gbdt seeds, a short gbdt tuning run and "
            "the cnn (with --history: first the transformer, cnn and lstm, which read the months), each only if it ends in time; "
            "the leaderboard shows what was tried."
        ),
    ] = None,
    target: Target = None,
    id_column: IdColumn = None,
    drop: Drop = None,
    categorical: Categorical = None,
    dates: Dates = None,
    positive: Positive = None,
    negative: Negative = None,
    na_values: NaValues = None,
    dayfirst: DayFirst = None,
    decimal_comma: DecimalComma = None,
    decimal_point: DecimalPoint = None,
    sep: Sep = None,
    encoding: Encoding = None,
    sheet: Sheet = None,
    folds: Annotated[
        int,
        typer.Option(
            help="Stratified folds for out-of-fold predictions (with --validation: folds of the validation rows for the nested calibration and ensemble)."
        ),
    ] = 5,
    validation: Annotated[
        float | None,
        typer.Option(
            help="Share of rows (0 < share <= 0.5, e.g. 0.1) set aside, stratified: each model is fitted once on the rest and kept, not refitted "
            "on all rows; threshold, calibration and ensemble weights come from the set-aside rows. Several times faster on big tables, "
            "at the price of noisier figures and models that never saw the set-aside rows. Default: --folds cross-fitting."
        ),
    ] = None,
    seed: Seed = 0,
    threshold: Annotated[float | None, typer.Option(help="Fixed decision threshold instead of the F1-optimal one.")] = None,
    objective: Annotated[
        str, typer.Option(help="What the threshold optimises on out-of-fold data: f1, precision>=P (most recall at that precision) or recall>=R.")
    ] = "f1",
    calibration: Annotated[
        str, typer.Option(help="Probability calibration on out-of-fold data: auto (isotonic or platt, lower Brier score), isotonic, platt or none.")
    ] = "auto",
    epochs: Annotated[int | None, typer.Option(help="Neural models: maximum epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Neural models: batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Neural models: learning rate.")] = None,
    loss: Annotated[str | None, typer.Option(help="Neural models: binary or categorical.")] = None,
    device: Device = "auto",
    params: Annotated[Path | None, typer.Option(help="best.json of `hotleads tune`: each model's chosen parameters.")] = None,
    time_column: Annotated[
        str | None,
        typer.Option(
            help="A date column (e.g. when the lead was created): also score each period with models trained on the periods before it "
            "(expanding window), report that beside the stratified figure, and choose the threshold on it."
        ),
    ] = None,
    history: HistoryFile = None,
    as_of: AsOf = None,
    months: Months = None,
    quiet: Quiet = False,
) -> None:
    """Train models with out-of-fold (or --validation split) threshold selection and save them to a model directory."""
    from . import bundle, training
    from .registry import parse_model_names
    from .selection import Selection

    bundle.check_target(out)  # before training, not after it
    _check_parents("--out", out)
    history_options = _history_options(history, as_of, months)
    model_params, search = _tuned(params)
    options = training.TrainOptions(
        models=parse_model_names(models, allow_auto=True),
        folds=folds,
        validation=validation,
        bagging=bagging,
        time_limit=time_limit,
        time_column=time_column,
        seed=seed,
        threshold=threshold,
        ensemble=ensemble,
        features=features,
        objective=objective,
        calibration=calibration,
        neural_params=_neural_params(epochs=epochs, batch_size=batch_size, lr=lr, loss=loss, device=device),
        model_params=model_params,
    )
    roles = _roles(target, id_column, drop, categorical, dates, positive, negative, na_values, dayfirst, decimal_comma, decimal_point)
    with _progress(quiet) as progress:
        model = training.train_file(
            data, options, progress=progress, read_options=_reading(sep, encoding, sheet), search=search, history=history_options, **roles
        )
    bundle.save(model, out)
    predictor, evidence = model.predictor, model.evidence
    if explain_features:
        _print_discovery(evidence.discovery)
    if not quiet:
        print_schema(predictor.schema, title=f"Columns of {data}")
        _print_leaderboard(evidence.leaderboard, title=evidence.held_out_title)
        if evidence.selection:
            stdout.print(Selection.from_dict(evidence.selection).reason(), markup=False, highlight=False)
        if "time_limit" in evidence.training:
            _print_budget(evidence.training["time_limit"])
        if "time_ordered" in evidence.training:
            _print_time_ordered(evidence.training["time_ordered"], evidence.thresholds["f1"], model.oof_metrics())
        _print_thresholds(model)
        stdout.print(f"final: {predictor.label}, threshold {predictor.threshold.value:.4f} ({predictor.threshold.reason()}); saved to {out}")


def _history_options(history: Path | None, as_of: str | None, months: int | None) -> dict | None:
    """``train_file``'s ``history`` argument; --as-of and --months are refused without --history, and checked before any work."""
    from .history import check_as_of, check_months

    if history is None:
        for option, value in (("--as-of", as_of), ("--months", months)):
            if value is not None:
                raise ParameterError(f"{option} applies to a monthly history; add --history HISTORY.csv, or leave out {option}.")
        return None
    check_as_of(as_of)
    if months is not None:
        check_months(months)
    return {"path": history, "as_of": as_of, "months": months}


def _print_time_ordered(timed: dict, best: dict, stratified: dict) -> None:
    """The time-ordered out-of-fold figures beside the stratified ones (each F1 at its own best threshold)."""
    metrics, periods = timed["metrics"], timed["periods"]
    stdout.print(
        f"time-ordered by '{timed['column']}' ({len(periods)} periods from {periods[0]['from']} to {periods[-1]['to']}, {timed['rows']:,} rows, "
        f"each scored by models trained on the periods before it): F1 {metrics['f1']:.4f}, PR-AUC {metrics['pr_auc']:.4f}; "
        f"stratified out-of-fold: F1 {best['f1']:.4f}, PR-AUC {stratified['pr_auc']:.4f}.",
        markup=False,
        highlight=False,
    )


def _print_budget(spent: dict) -> None:
    """What ``--time-limit`` tried, step by step, and the seconds training took."""
    steps = "; ".join(_budget_step(step) for step in spent["steps"]) or "nothing: the models used it all"
    stdout.print(f"--time-limit {spent['limit']:g} s: {steps}; training took {spent['spent']:.1f} s.", markup=False, highlight=False)


def _budget_step(step: dict) -> str:
    """``gbdt seed 2 fitted (0.7 s)``; a step skipped before it started has no seconds (they would read as the time left)."""
    return f"{step['step']} {step['status']}" + ("" if step["status"].startswith("skipped") else f" ({step['seconds']:.1f} s)")


def _tuned(params: Path | None) -> tuple[dict, dict | None]:
    """(model parameters, search evidence) of ``--params best.json``; nothing without it."""
    if params is None:
        return {}, None
    from .tune import read_params

    return read_params(params)


@app.command()
@user_errors
def tune(
    data: Annotated[Path, typer.Argument(help="Labelled company table (CSV, Parquet or Excel).")],
    models: Annotated[str, typer.Option(help="Comma-separated models to tune, each in its own study: gbdt, logreg, lstm, cnn, transformer.")] = "gbdt",
    trials: Annotated[int | None, typer.Option(help="Trials this run adds to each model's study (shared by --workers).")] = 20,
    timeout: Annotated[float | None, typer.Option(help="Seconds of search per model (with --trials: whichever ends first).")] = None,
    storage: Annotated[
        str | None, typer.Option(help="Where studies live: a journal file (default: beside --out) or a database URL, postgresql://user@host/db.")
    ] = None,
    study: Annotated[str | None, typer.Option(help="Study name (the model is appended); default from the data's checksum.")] = None,
    out: Annotated[Path, typer.Option(help="best.json to write: chosen parameters per model with the evidence.")] = Path("best.json"),
    model_out: Annotated[Path | None, typer.Option(help="Also train the chosen configuration on all rows and save the model here.")] = None,
    holdout_share: Annotated[float, typer.Option(help="Stratified share of rows set aside, never searched, to compare tuned and default.")] = 0.2,
    pruner: Annotated[str, typer.Option(help="Stop poor trials after a fold or two: median, halving (successive halving) or none.")] = "median",
    workers: Annotated[int, typer.Option(help="Processes searching each study at once, on this machine.")] = 1,
    features: Annotated[str, typer.Option(help="auto or raw (see `train --help`).")] = "auto",
    folds: Annotated[int, typer.Option(help="Stratified folds of each trial.")] = 5,
    seed: Seed = 0,
    objective: Annotated[
        str, typer.Option(help="What a trial maximises: f1 (at the F1-optimal threshold), or the recall at precision>=P, the precision at recall>=R.")
    ] = "f1",
    target: Target = None,
    id_column: IdColumn = None,
    drop: Drop = None,
    categorical: Categorical = None,
    dates: Dates = None,
    positive: Positive = None,
    negative: Negative = None,
    na_values: NaValues = None,
    dayfirst: DayFirst = None,
    decimal_comma: DecimalComma = None,
    decimal_point: DecimalPoint = None,
    sep: Sep = None,
    encoding: Encoding = None,
    sheet: Sheet = None,
    device: Device = "auto",
    history: HistoryFile = None,
    as_of: AsOf = None,
    months: Months = None,
    quiet: Quiet = False,
) -> None:
    """Search each model's hyper-parameters (Optuna), compare tuned and default on set-aside rows, write best.json."""
    from . import tune as tuning
    from .io import read_table, sha256_file, write_json
    from .registry import parse_model_names
    from .training import TrainOptions

    options = tuning.TuneOptions(
        train=TrainOptions(models=parse_model_names(models), folds=folds, seed=seed, features=features, objective=objective, neural_params={"device": device}),
        trials=trials, timeout=timeout, storage=storage, study=study, holdout_share=holdout_share, pruner=pruner,
        n_jobs=tuning.threads_per_worker(max(1, workers)),
    )  # fmt: skip
    options.check()
    if workers < 1:
        raise ParameterError(f"--workers must be a positive number of processes; got {workers}.")
    _check_output("--out", out)
    if model_out is not None:
        from . import bundle

        bundle.check_target(model_out, "--model-out")
    history_options = _history_options(history, as_of, months)
    roles = _roles(target, id_column, drop, categorical, dates, positive, negative, na_values, dayfirst, decimal_comma, decimal_point)
    job = tuning.SearchJob(
        options, storage or tuning.default_storage(out), str(data), sha256_file(data), _reading(sep, encoding, sheet), roles,
        None if history_options is None else history_options | {"path": str(history_options["path"])},
    )  # fmt: skip
    frame = read_table(data, **job.read_options)
    mine, *theirs = tuning.split_trials(options.trials, workers)
    try:
        with _tune_progress(quiet) as progress, tuning.worker_processes(job, theirs) as others:
            result = job.worker(0, mine).run(frame, progress=progress, run_trials=options.trials, wait=others.wait)
    except KeyboardInterrupt:
        console.print(
            f"stopped: every finished trial is kept in {tuning.redacted(job.storage)}; run the same command to continue.", markup=False, highlight=False
        )
        raise typer.Exit(130) from None
    write_json(result.to_dict(), out)
    if model_out is not None:
        from . import bundle, training

        chosen = TrainOptions(**{**vars(options.train), "model_params": result.chosen_params()})
        trained = training.train_file(
            data, chosen, read_options=_reading(sep, encoding, sheet), search=result.to_dict()["models"], history=history_options, **roles
        )
        bundle.save(trained, model_out)
    if not quiet:
        _print_search(result, out, model_out)


def _print_search(result, out: Path, model_out: Path | None) -> None:
    table = Table(title=f"Tuned and default configurations on the {result.data['set_aside']} set-aside rows ({result.objective})")
    for column in ("model", "trials", "pruned", "best OOF", "default F1", "tuned F1", "kept"):
        table.add_column(column, justify="left" if column in ("model", "kept") else "right")
    for name, found in result.models.items():
        holdout, search = found["holdout"], found["search"]
        table.add_row(name, str(len(search["trials"])), str(search["pruned"]), f"{found['oof']:.4f}", f"{holdout['default_f1']:.4f}",
                      f"{holdout['tuned_f1']:.4f}", holdout["chosen"])  # fmt: skip
    stdout.print(table)
    for name, found in result.models.items():
        if found["holdout"]["chosen"] == "default":
            stdout.print(f"{name}: the tuned configuration did not beat the default on the set-aside rows; best.json keeps the default.")
    stdout.print(f"wrote {out}" + (f" and the model {model_out}" if model_out else "") + f"; train with it: hotleads train DATA --params {out}")


class _tune_progress:
    """A progress bar per model: trials done, best so far, pruned, time left (rich, on stderr)."""

    def __init__(self, quiet: bool) -> None:
        self.bar = None if quiet or not console.is_terminal else Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console, transient=True,
        )  # fmt: skip
        self.tasks: dict[str, object] = {}

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.start()
        return self.update

    def update(self, done) -> None:
        if done.model not in self.tasks:
            self.tasks[done.model] = self.bar.add_task(done.model, total=done.target)
        best = "-" if done.best is None else f"{done.best:.4f}"
        left = "" if done.seconds_left is None else f", ~{done.seconds_left / 60:.0f} min left"
        self.bar.update(self.tasks[done.model], completed=done.finished, description=f"{done.model}: best {best}, {done.pruned} pruned{left}")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("schema")
@user_errors
def schema_command(
    data: Annotated[Path, typer.Argument(help="Company table (CSV, Parquet or Excel).")],
    target: Target = None,
    id_column: IdColumn = None,
    drop: Drop = None,
    categorical: Categorical = None,
    dates: Dates = None,
    positive: Positive = None,
    negative: Negative = None,
    na_values: NaValues = None,
    dayfirst: DayFirst = None,
    decimal_comma: DecimalComma = None,
    decimal_point: DecimalPoint = None,
    sep: Sep = None,
    encoding: Encoding = None,
    sheet: Sheet = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {column, role, parse, missing, reason}.")] = False,
) -> None:
    """Show how `train` would read a table: each column's role, how its values parse, missing share, and why a column is ignored.

    A table `train` would refuse (a target that is not binary, bad values, repeated ids) gives only the error, exit 2.
    """
    from .io import read_table
    from .schema import infer_schema, prepare

    frame = read_table(data, **_reading(sep, encoding, sheet))
    roles = _roles(target, id_column, drop, categorical, dates, positive, negative, na_values, dayfirst, decimal_comma, decimal_point)
    schema = infer_schema(frame, source=str(data), **roles)
    # The values' problems too, as train would say them, before anything is printed: a table train refuses gives the
    # error alone (exit 2), never a table or a valid-looking --json list first.
    prepare(frame, schema, source=str(data), labelled=True, training=True)
    if as_json:
        stdout.print_json(json.dumps(schema.rows()))
    else:
        print_schema(schema, title=f"Columns of {data} ({len(frame)} rows)")


def _reading(sep: str | None, encoding: str | None, sheet: str | None) -> dict:
    return {"sep": sep, "encoding": encoding, "sheet": sheet}


def _roles(target, id_column, drop, categorical, dates, positive, negative, na_values, dayfirst, decimal_comma, decimal_point) -> dict:
    """The role options as :func:`hotleads.schema.infer_schema` takes them."""
    return {
        "target": target,
        "id_column": id_column,
        "drop": _split(drop),
        "categorical": _split(categorical),
        "dates": _split(dates),
        "positive": _split(positive),
        "negative": _split(negative),
        "na_values": _split(na_values),
        "dayfirst": dayfirst,
        "decimal_comma": _split(decimal_comma),
        "decimal_point": _split(decimal_point),
    }


def print_schema(schema, *, title: str) -> None:
    """The table `hotleads schema` prints: column, role, how values parse, missing share, why."""
    from .schema import column_name

    table = Table(title=title)
    for column in ("column", "role", "parse", "missing", "why"):
        table.add_column(column, justify="right" if column == "missing" else "left")
    for row in schema.rows():
        missing = "" if row["missing"] is None else f"{row['missing']:.1%}"
        table.add_row(*(Text(str(cell)) for cell in (column_name(row["column"]), row["role"], row["parse"], missing, row["reason"])))
    stdout.print(table)


def _neural_params(**params) -> dict:
    return {name: value for name, value in params.items() if value is not None}


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _print_thresholds(model) -> None:
    calibration, threshold, held_out = model.evidence.calibration, model.predictor.threshold, model.evidence.held_out
    stdout.print(
        f"calibration: {model.predictor.calibrator.method} "
        f"({held_out} Brier score {calibration['brier_uncalibrated']:.4f} -> {calibration['brier_calibrated']:.4f})"
    )
    table = Table(title=f"Thresholds by objective ({held_out}, calibrated)")
    for column in ("objective", "threshold", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "objective" else "right")
    for name, row in model.evidence.thresholds.items():
        cells = (f"{row[k]:.4f}" for k in ("threshold", "precision", "recall", "f1")) if row["attainable"] else ["not reachable"] + [""] * 3
        table.add_row(name + (" (chosen)" if threshold.chose(name) else ""), *cells)
    stdout.print(table)


# Where scoring runs (predict and evaluate).
Engine = Annotated[
    str, typer.Option(help="local: this machine, chunk by chunk; dask: the partitions on the workers of a Dask cluster (pip install 'hotleads[dask]').")
]
Scheduler = Annotated[
    str | None,
    typer.Option(help="With --engine dask: a running Dask scheduler, tcp://HOST:8786 (default: a cluster started on this machine, closed at the end)."),
]
DaskWorkers = Annotated[
    int | None,
    typer.Option("--dask-workers", help="With --engine dask and no --scheduler: worker processes of the local cluster, one thread each (default 2)."),
]


@app.command()
@user_errors
def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model directory from `hotleads train`.")],
    data: Annotated[Path, typer.Argument(help="Company table to score (CSV, Parquet, .xlsx), a folder of CSV/Parquet files, or a pattern ('exports/*.csv').")],
    out: Annotated[Path, typer.Option(help="submission.csv to write (Id,Prediction) in input order; Parquet if it ends in .parquet.")] = Path("submission.csv"),
    scores: Annotated[
        Path | None,
        typer.Option(help="Also write the ranked lead list (id, name, probability, lead score, tier, reasons): .csv, .parquet or .xlsx."),
    ] = None,
    top: Annotated[int, typer.Option(help="Print the N best-ranked leads with their reasons (0: none).")] = 0,
    top_k: Annotated[
        int | None, typer.Option("--top-k", help="Label exactly the K best-scored companies 1 (your calling capacity) instead of using the threshold.")
    ] = None,
    chunk_rows: Annotated[
        int,
        typer.Option("--chunk-rows", help="Rows read and scored at a time (with --engine dask: per partition): memory grows with this, not with the table."),
    ] = 100_000,
    sep: Sep = None,
    encoding: Encoding = None,
    sheet: Sheet = None,
    device: Device = "auto",
    engine: Engine = "local",
    scheduler: Scheduler = None,
    dask_workers: DaskWorkers = None,
    partitioned: Annotated[
        Path | None,
        typer.Option(
            help="With --engine dask: also keep the outputs as Parquet parts, FOLDER/submission/part-00000.parquet ... (input order) and with --scores "
            "FOLDER/leads/part-00000.parquet ... (rank order); --out and --scores are then written only up to 10,000,000 rows."
        ),
    ] = None,
    history: HistoryFile = None,
    as_of: AsOf = None,
    months: Months = None,
    quiet: Quiet = False,
) -> None:
    """Score a table of any size in chunks and write submission.csv; optionally the explained lead list (--scores, --top)."""
    from . import bundle, stream
    from .history import for_scoring
    from .neural_params import check_device

    stream.check_counts(chunk_rows=chunk_rows, top=top, top_k=top_k)  # before the model loads
    check_device(device, name="--device")
    _check_engine(engine, scheduler, dask_workers, partitioned=partitioned)
    _check_output("--out", out)
    _check_suffix("--out", out, TABLE_KINDS, "the submission is written as CSV, or Parquet (a sheet of the leads: --scores leads.xlsx)")
    _check_not_input("--out", out, data, history)
    if scores:
        _check_output("--scores", scores, table=True)
        _check_suffix("--scores", scores, TABLE_KINDS | {".xlsx"}, "the lead list is written as CSV, Parquet or an Excel sheet")
        _check_not_input("--scores", scores, data, history)
        _check_distinct(scores, out)
    reading = _reading(sep, encoding, sheet)
    with _rows_progress(quiet) as progress:
        if engine == "dask":
            from . import cluster  # ParameterError with the install hint when the dask extra is missing

            if partitioned:
                cluster.check_partitioned(partitioned, out, scores, data)  # before a cluster starts
            predictor = bundle.load_predictor(model_dir, device="cpu")  # the workers load their own copies, on --device
            monthly = for_scoring(predictor.history, history, as_of=as_of, months=months, na_values=predictor.schema.na_values)
            options = {"scheduler": scheduler, "workers": dask_workers or cluster.DEFAULT_WORKERS, "device": device, "partitioned": partitioned}
            result = cluster.score_file(
                model_dir, data, out, scores=scores, top=top, top_k=top_k, chunk_rows=chunk_rows, read_options=reading, progress=progress,
                history=monthly, **options,
            )  # fmt: skip
        else:
            predictor = bundle.load_predictor(model_dir, device=device)
            monthly = for_scoring(predictor.history, history, as_of=as_of, months=months, na_values=predictor.schema.na_values)
            result = stream.score_file(
                predictor, data, out, scores=scores, top=top, top_k=top_k, chunk_rows=chunk_rows, read_options=reading, progress=progress,
                history=monthly,
            )  # fmt: skip
    if top and not quiet:
        print_leads(result.top, predictor, top, total=result.rows)
    if not quiet:
        _print_written(result, predictor, out=out, scores=scores, top_k=top_k, partitioned=partitioned)


def _check_engine(engine: str, scheduler: str | None, dask_workers: int | None, *, partitioned: Path | None = None) -> None:
    """Refuse, before any work, an --engine hotleads does not have and Dask options without --engine dask."""
    if engine not in ("local", "dask"):
        raise ParameterError(f"--engine must be local or dask; got '{engine}'.")
    if engine == "local":
        for option, value in (("--scheduler", scheduler), ("--dask-workers", dask_workers), ("--partitioned", partitioned)):
            if value is not None:
                raise ParameterError(f"{option} applies to --engine dask; add --engine dask, or leave out {option} to score on this machine.")
    elif scheduler is not None and dask_workers is not None:
        raise ParameterError(
            "--dask-workers sizes a cluster started on this machine, and --scheduler names a running one with its own workers; give one of them."
        )
    elif dask_workers is not None and dask_workers < 1:
        raise ParameterError(f"--dask-workers must be a positive number of worker processes; got {dask_workers}.")


def _print_written(result, predictor, *, out: Path, scores: Path | None, top_k: int | None, partitioned: Path | None) -> None:
    """predict's last line: rows, hot leads and the files written (with --partitioned, the parts too)."""
    rule = f"the {top_k} best-ranked" if top_k is not None else f"threshold {predictor.threshold.value:.4f}"
    counts = f"{result.rows} rows, {result.hot} hot leads ({rule})"
    if partitioned is None:
        stdout.print(f"wrote {out}: {counts}" + (f"; lead list in {scores}" if scores else ""))
    elif result.single_files:
        stdout.print(f"wrote {out}: {counts}" + (f"; lead list in {scores}" if scores else "") + f"; {result.partitions} partitions in {partitioned}/")
    else:
        from .cluster import SINGLE_FILE_MAX_ROWS

        skipped = f"{out} and {scores}" if scores else f"{out}"
        stdout.print(f"wrote {result.partitions} partitions in {partitioned}/: {counts}; {skipped} not written (more than {SINGLE_FILE_MAX_ROWS:,} rows)")


def _check_not_input(option: str, path: Path, data: Path, history: Path | None = None) -> None:
    """Refuse an output that is the table being scored or its history, or that the next run would read as one (in its folder, or matching its pattern)."""
    from .io import TABLE_SUFFIXES, table_files

    target = path.resolve()
    if history is not None and target == history.resolve():
        raise ParameterError(f"{option} {path} is the history being read ({history}); write the output to another file.")
    try:
        inputs = {file.resolve() for file in table_files(data)}
    except HotleadsError:
        return  # reading the input reports it
    if target in inputs:
        raise ParameterError(f"{option} {path} is the table being scored ({data}); write the output to another file.")
    if data.is_dir() and target.parent == data.resolve() and target.suffix.lower() in TABLE_SUFFIXES and not target.name.startswith("."):
        raise ParameterError(f"{option} {path} is inside the folder being scored ({data}): the next run would read it as input; write it outside that folder.")
    if not data.exists() and target.parent == data.parent.resolve() and fnmatch.fnmatch(target.name, data.name):
        raise ParameterError(f"{option} {path} matches the pattern being scored ({data}): the next run would read it as input; write it elsewhere.")


def _check_distinct(scores: Path, out: Path) -> None:
    if scores.resolve() == out.resolve():
        raise ParameterError(f"--scores and --out are both {out}; give the lead list its own file (e.g. --scores leads.xlsx).")


def print_leads(leads, predictor, top: int, *, total: int | None = None) -> None:
    """The ``top`` best-ranked rows of lead rows (``ScoredTable.leads``, or its best ``top`` of ``total``) with their reasons."""
    from .scoring import TIER_HELP

    kind = "calibrated probability" if predictor.calibrated else "probability"
    total = len(leads) if total is None else total
    table = Table(title=f"Top {min(top, total)} of {total} companies", caption=f"lead score = {kind} x 100; {TIER_HELP}", show_lines=True)
    table.add_column("rank", justify="right", no_wrap=True)
    table.add_column("id", no_wrap=True)
    if "name" in leads:
        table.add_column("name", max_width=24)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("tier", no_wrap=True)
    table.add_column("why", ratio=1)
    colours = {"hot": "bold red", "warm": "yellow", "cold": "blue"}
    for row in leads.nsmallest(top, "rank").itertuples(index=False):
        why = "\n".join(reason for reason in (row.reason_1, row.reason_2, row.reason_3) if reason)
        name = [str(row.name)] if "name" in leads else []
        table.add_row(str(row.rank), str(row.Id), *name, str(row.lead_score), f"[{colours[row.tier]}]{row.tier}[/]", why)
    stdout.print(table)


@app.command()
@user_errors
def serve(
    model_dir: Annotated[Path, typer.Argument(help="Model directory from `hotleads train`.")],
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Processes, each with the model loaded and one numeric thread.")] = 1,
    max_rows: Annotated[int, typer.Option(help="Most companies in one request; more get 413.")] = 10_000,
    max_body: Annotated[str, typer.Option(help="Largest request body, e.g. 10MB or 512KB; a larger one gets 413 before it is read whole.")] = "10MB",
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the key clients must send in X-API-Key (else 401); /healthz stays open.")
    ] = None,
    limit_concurrency: Annotated[int, typer.Option(help="Requests in flight per worker; the next gets 503 with Retry-After.")] = 16,
    device: Device = "auto",
) -> None:
    """Serve the model over HTTP: POST /v1/score (JSON) and /v1/score.csv (the lead list), GET /v1/model; docs at /docs."""
    # Before numpy, LightGBM and torch load: their thread pools are sized from these. A worker is one
    # core's worth of work; --workers adds processes rather than threads fighting over the same cores.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = "1"
    from . import serve as service  # ParameterError with the install hint when the serve extra is missing
    from .neural_params import check_device

    check_device(device, name="--device")

    settings = service.Settings(
        model_dir=str(model_dir),
        device=device,
        max_rows=max_rows,
        max_body=service.parse_size(max_body),
        api_key_env=api_key_env,
        limit_concurrency=limit_concurrency,
    )
    service.run(settings, host=host, port=port, workers=workers)


@app.command()
@user_errors
def evaluate(
    model_dir: Annotated[Path, typer.Argument(help="Model directory from `hotleads train`.")],
    data: Annotated[Path, typer.Argument(help="Labelled company table.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    sep: Sep = None,
    encoding: Encoding = None,
    sheet: Sheet = None,
    device: Device = "auto",
    engine: Engine = "local",
    scheduler: Scheduler = None,
    dask_workers: DaskWorkers = None,
    history: HistoryFile = None,
    as_of: AsOf = None,
    months: Months = None,
) -> None:
    """Metrics of a trained model on labelled data (each member, and the final predictor)."""
    from . import bundle, scoring
    from .history import for_scoring
    from .neural_params import check_device

    check_device(device, name="--device")
    _check_engine(engine, scheduler, dask_workers)
    if engine == "dask":
        from . import cluster  # ParameterError with the install hint when the dask extra is missing

        workers = dask_workers or cluster.DEFAULT_WORKERS
        predictor = bundle.load_predictor(model_dir, device="cpu")
        monthly = for_scoring(predictor.history, history, as_of=as_of, months=months, na_values=predictor.schema.na_values)
        result = cluster.evaluate_file(
            model_dir, data, read_options=_reading(sep, encoding, sheet), device=device, scheduler=scheduler, workers=workers, history=monthly
        )
    else:
        model = bundle.load(model_dir, device=device)
        monthly = for_scoring(model.predictor.history, history, as_of=as_of, months=months, na_values=model.predictor.schema.na_values)
        result = scoring.evaluate(model, _score_table(model.predictor, data, monthly, _reading(sep, encoding, sheet), labelled=True))
    if as_json:
        stdout.print_json(json.dumps(result))
    else:
        _print_metrics(result, title=f"{data}")


def _score_table(predictor, path: Path, monthly, reading: dict, **options):
    """Read the table at ``path``, join the monthly history a model trained with one needs, and score it (:func:`hotleads.scoring.score`)."""
    import numpy as np

    from .history import warn_if_unused, with_history
    from .io import read_table
    from .scoring import score

    frame, windows = read_table(path, **reading), None
    if monthly is not None:
        frame, windows = with_history(frame, monthly, predictor.history, source=str(path))
        warn_if_unused(bool(np.isfinite(windows).any()), len(frame), monthly, predictor.history, str(path))
    return score(predictor, frame, source=str(path), sequences=windows, **options)


def _noted(score_table):
    """``score_table()``'s :class:`~hotleads.scoring.ScoredTable` with the hotleads warnings met on the way in its ``notes``
    (the report shows them beside the metrics); each warning is still given on, to be printed as ever, an error's too."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = score_table()
    finally:
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    table.notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, HotleadsWarning)))
    return table


@app.command()
@user_errors
def report(
    model_dir: Annotated[Path, typer.Argument(help="Model directory from `hotleads train`.")],
    data: Annotated[Path | None, typer.Argument(help="Optional labelled table: test metrics and curves, and its drift from training.")] = None,
    scoring: Annotated[Path | None, typer.Option(help="Optional table you will score (e.g. holdout.csv): its drift from training.")] = None,
    out: Annotated[Path, typer.Option(help="HTML file to write (self-contained, opens offline).")] = Path("report.html"),
    sep: Sep = None,
    encoding: Encoding = None,
    sheet: Sheet = None,
    device: Device = "auto",
    history: HistoryFile = None,
    as_of: AsOf = None,
    months: Months = None,
    quiet: Quiet = False,
) -> None:
    """Write a self-contained HTML report: leaderboard, curves, calibration, importance, data and drift."""
    from . import bundle
    from .history import for_scoring
    from .neural_params import check_device
    from .report import write_report
    from .schema import column_words

    check_device(device, name="--device")
    _check_output("--out", out)
    _check_suffix("--out", out, frozenset({".html", ".htm"}), "the report is an HTML page (print it to PDF from a browser)")
    model = bundle.load(model_dir, device=device)
    needs_history = data or scoring or history or as_of or months  # the model alone needs none
    monthly = for_scoring(model.predictor.history, history, as_of=as_of, months=months, na_values=model.predictor.schema.na_values) if needs_history else None
    reading = _reading(sep, encoding, sheet)
    checked = _noted(lambda: _score_table(model.predictor, data, monthly, reading, labelled=None)) if data else None
    if checked is not None and checked.y is None:  # read, but not what the argument is for: say so rather than leave metrics out
        warnings.warn(
            f"{data}: no target {column_words(model.predictor.schema.target)}, so the report has no test metrics for it, only its drift from training; "
            "give a labelled table for metrics (a table to score goes to --scoring).",
            DataWarning,
            stacklevel=2,
        )
    to_score = _score_table(model.predictor, scoring, monthly, reading) if scoring else None
    write_report(model, out, checked, scoring=to_score)
    if not quiet:
        stdout.print(f"wrote {out}")


@app.command()
@user_errors
def run(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    rows: Annotated[int, typer.Option(help="Rows of built-in data to generate.")] = 20_000,
    family: Family = "hr-leads",
    models: Annotated[str, typer.Option(help="auto or comma-separated models (see `train --help`).")] = "auto",
    features: Annotated[str, typer.Option(help="auto or raw (see `train --help`).")] = "auto",
    seed: Seed = 0,
    device: Device = "auto",
    quiet: Quiet = False,
) -> None:
    """The main job on built-in data: generate, train, evaluate against the Bayes ceiling, predict."""
    from .registry import parse_model_names
    from .training import TrainOptions
    from .workflow import run as run_job

    options = TrainOptions(models=parse_model_names(models, allow_auto=True), seed=seed, features=features, neural_params={"device": device})
    with _progress(quiet) as progress:
        result = run_job(out, rows=rows, family=family, options=options, progress=progress)
    if not quiet:
        _print_leaderboard(result.model.evidence.leaderboard, title="out-of-fold on train.csv")
        _print_metrics(result.test, title="test.csv", bayes_f1=result.summary["bayes"]["test_f1"])
        print_leads(result.holdout.leads, result.model.predictor, 5)
        stdout.print(f"wrote {out}/submission.csv, scores.csv (ranked, with reasons), metrics.json, report.html, model/")


def _progress_bar(quiet: bool, *columns) -> Progress | None:
    """A transient rich progress bar on stderr with these columns; None when quiet or off a terminal."""
    # Off the terminal (pipes, logs) rich would still print a blank line when the bar stops.
    return None if quiet or not console.is_terminal else Progress(*columns, console=console, transient=True)


class _progress:
    """Rich progress bar on stderr, fed by training's (label, done, total) callback."""

    def __init__(self, quiet: bool) -> None:
        self.bar = _progress_bar(quiet, TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
        self.task = None

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.start()
        return self.update

    def update(self, label: str, done: int, total: int) -> None:
        if self.task is None:
            self.task = self.bar.add_task("training", total=total)
        self.bar.update(self.task, completed=done, description=label)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


class _rows_progress(_progress):
    """Scoring's progress on stderr: rows scored, rows per second, time left; fed by (rows, share of the input read)."""

    def __init__(self, quiet: bool) -> None:
        self.bar = _progress_bar(
            quiet,
            TextColumn("scoring"),
            BarColumn(),
            TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,.0f} rows/s"),
            TimeRemainingColumn(),
        )
        self.task = None

    def __enter__(self):
        update = super().__enter__()
        if self.bar is not None:  # started now, so that rows/s counts from the first row read
            self.task = self.bar.add_task("scoring", total=1.0, rows=0, rate=0.0)
        return update

    def update(self, rows: int, share: float) -> None:
        elapsed = self.bar.tasks[0].elapsed or 0.0
        self.bar.update(self.task, completed=share, rows=rows, rate=rows / elapsed if elapsed else 0.0)


def _print_leaderboard(rows: list[dict], *, title: str) -> None:
    table = Table(title=f"Leaderboard ({title})")
    for column in ("model", "F1", "threshold", "precision", "recall", "PR-AUC", "F1 @0.5", "fit s"):  # the title says on which rows
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in sorted(rows, key=lambda r: -r["f1"]):
        table.add_row(row["model"], *(f"{row[k]:.4f}" for k in ("f1", "threshold", "precision", "recall", "pr_auc", "f1_at_0_5")), f"{row['fit_seconds']:.1f}")
    stdout.print(table)


def _print_discovery(discovery: dict | None) -> None:
    if discovery is None:
        stdout.print("feature discovery is off (--features raw)")
        return
    table = Table(title="Relations between columns")
    for column in ("relation", "R²", "rows within 1 %", "integral", "pure function"):
        table.add_column(column, justify="left" if column == "relation" else "right")
    for r in discovery["relations"]:
        table.add_row(r["relation"], f"{r['r2']:.4f}", f"{r['rows_within_1pct']:.1%}", f"{r['integral_share']:.1%}", "yes" if r["pure_function"] else "")
    stdout.print(table)
    table = Table(title=f"Candidate features (fast-model OOF F1 {discovery['baseline_oof_f1']:.4f} -> {discovery['final_oof_f1']:.4f})")
    for column in ("feature", "formula / why", "OOF F1 gain", "kept"):
        table.add_column(column, justify="right" if column == "OOF F1 gain" else "left")
    for kept, features in ((True, discovery["kept"]), (False, discovery["rejected"])):
        for f in features:
            why = f["evidence"].get("relation") or f["evidence"].get("why", "")
            table.add_row(f["name"], why, f"{f['evidence'].get('oof_gain', 0):+.4f}", "yes" if kept else "no")
    stdout.print(table)


def _print_metrics(result: dict, *, title: str, bayes_f1: float | None = None) -> None:
    """``evaluate``'s leaderboard as one column per row, the final predictor marked."""
    columns = {f"{row['model']} (final)" if row["final"] else row["model"]: row for row in result["leaderboard"]}
    table = Table(title=f"Metrics on {title}")
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    for key in ("f1", "threshold", "precision", "recall", "accuracy", "pr_auc", "roc_auc", "f1_at_0_5", "positive_rate"):
        table.add_row(METRIC_LABELS[key], *(f"{m[key]:.4f}" for m in columns.values()))
    table.add_row("tn/fp/fn/tp", *("/".join(str(m["confusion"][k]) for k in ("tn", "fp", "fn", "tp")) for m in columns.values()))
    stdout.print(table)
    if bayes_f1:
        stdout.print(f"Bayes-optimal F1 on this split: {bayes_f1:.4f}; final model reaches {result['metrics']['f1'] / bayes_f1:.1%} of it")


METRIC_LABELS = {
    "f1": "F1",
    "threshold": "threshold",
    "precision": "precision",
    "recall": "recall",
    "accuracy": "accuracy",
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "f1_at_0_5": "F1 at 0.5",
    "positive_rate": "predicted positive rate",
}
