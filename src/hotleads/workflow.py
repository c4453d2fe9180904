"""The main job on built-in data, as one library call: generate, train, evaluate against the Bayes ceiling, predict, report.

``hotleads run`` (and ``make run``) is :func:`run` plus printing. Every table is scored once: the
labelled test split feeds the evaluation and the report's test section, the holdout feeds
``submission.csv``, the lead list and the report's scoring section.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import synth
from .bundle import check_target, save
from .exceptions import ParameterError
from .io import check_file_target, read_table, write_json
from .model import LeadModel
from .report import write_report
from .scoring import ScoredTable, evaluate, score, write_lead_list, write_submission
from .training import Progress, TrainOptions, train_file

OUTPUTS = ("submission.csv", "scores.csv", "metrics.json", "report.html")  # besides data/ and model/


@dataclass
class RunResult:
    """What :func:`run` made: the model, the test evaluation, the scored holdout and the summary in ``metrics.json``."""

    out: Path
    model: LeadModel
    test: dict
    holdout: ScoredTable
    summary: dict


def run(out: str | Path, *, rows: int = 20_000, family: str = "hr-leads", options: TrainOptions | None = None, progress: Progress | None = None) -> RunResult:
    """Generate built-in data in ``out/data``, train on its train split, and write every output to ``out``.

    Writes ``out/model/`` (the bundle), ``submission.csv`` (holdout, ``Id,Prediction``),
    ``scores.csv`` (the ranked, explained lead list), ``metrics.json`` (out-of-fold and test
    metrics beside the test split's Bayes-optimal F1) and ``report.html``.

    Parameters
    ----------
    out : str or Path
        Output folder (created when missing).
    rows : int, default 20000
        Rows of built-in data (60 % train, 20 % test, 20 % holdout).
    family : str, default "hr-leads"
        Which built-in data (one of :data:`hotleads.synth.FAMILIES`).
    options : TrainOptions, optional
        What to train (default: ``TrainOptions()``); ``options.seed`` also seeds the data.
    progress : callable, optional
        ``(label, done, total)`` after each fitted fold.

    Raises
    ------
    ParameterError
        A bad option or an output path that cannot be written (checked before any work).
    """
    out, options = Path(out), options or TrainOptions()
    options.check()
    synth.check_family_option(family)
    check_run_target(out, rows)
    data = out / "data"
    bayes = synth.write_dataset(data, rows=rows, seed=options.seed, family=family)
    model = train_file(data / "train.csv", options, progress=progress)
    save(model, out / "model")
    test = score(model.predictor, read_table(data / "test.csv"), source=str(data / "test.csv"), labelled=True)
    holdout = score(model.predictor, read_table(data / "holdout.csv"), source=str(data / "holdout.csv"), explain=True)
    write_submission(holdout, out / "submission.csv")
    write_lead_list(holdout, model.predictor.schema, out / "scores.csv")
    evaluation = evaluate(model, test)
    summary = run_summary(model, evaluation, bayes)
    write_json(summary, out / "metrics.json")
    write_report(model, out / "report.html", test, scoring=holdout)
    return RunResult(out, model, evaluation, holdout, summary)


def check_run_target(out: Path, rows: int) -> None:
    """Refuse, before any work, too few rows, an ``out`` whose outputs could not be written, or one whose ``data/`` holds files of
    the user that the generated data would replace (an earlier run's data is replaced: :func:`hotleads.synth.foreign_files`)."""
    if rows < synth.MIN_ROWS:
        raise ParameterError(f"--rows must be at least {synth.MIN_ROWS}; got {rows}.")
    for folder in (out, out / "data"):
        if folder.exists() and not folder.is_dir():
            raise ParameterError(f"--out {folder}: is a file, not a folder; give the path of a folder to write into.")
    above = next((parent for parent in out.parents if parent.exists()), None)
    if above is not None and not above.is_dir():
        raise ParameterError(f"--out {out}: {above} is a file, so nothing can be written below it; choose another path.")
    for name in OUTPUTS:
        try:
            check_file_target(out / name)
        except ParameterError as exc:
            raise ParameterError(f"--out {exc}") from None
    check_target(out / "model")
    theirs = synth.foreign_files(out / "data")
    if theirs:  # an earlier run's data (as its bayes.json records it) is replaced; anything else there is the user's
        them = "them" if len(theirs) > 1 else "it"
        raise ParameterError(
            f"--out {out}: {out / 'data'} already holds {synth.listed(theirs)}, not an earlier run's data (no bayes.json of generate there records {them} as written), "
            f"which run would replace; choose another --out folder, or move {them} away."
        )


def run_summary(model: LeadModel, test: dict, bayes: dict) -> dict:
    """``metrics.json``: the final predictor, its threshold, OOF metrics, leaderboard, test metrics and the Bayes ceiling."""
    return {
        "final": model.predictor.name,
        "threshold": model.predictor.threshold.value,
        "oof": model.oof_metrics(),
        "leaderboard": model.evidence.leaderboard,
        "test": test,
        "bayes": {"test_f1": bayes["test_bayes_f1"], "test_threshold": bayes["test_bayes_threshold"]},
        "test_f1_share_of_bayes": test["metrics"]["f1"] / bayes["test_bayes_f1"],
    }
