"""Bench section "histories": every model with a monthly history, against the Bayes F1, on temporal and control data.

``hotleads generate --history`` data (``ROWS`` companies x ``MONTHS`` months, 60 % train, 20 %
test), once with the temporal signal (the label depends on the order of the months: postings
rising after a round, a hiring freeze) and once without (``--no-temporal-signal``: the label
depends on order-free aggregates only, the control). Each model is trained on ``train.csv`` with
``--history`` (gbdt and logreg read the window's aggregates, the neural models the months as well)
and scored on ``test.csv``; its test F1 is set against the test split's Bayes F1, with the
training wall time (2 cores unless said).

A single draw of 4,000 test labels moves a test F1 by about 0.007 between models of the same
quality, so each model is also scored on what the generator knows: its predictions on the 8,000
test and holdout companies against their true probabilities, as the F1 of the expected counts
(TP = the true probabilities of the companies predicted hot, FP = one minus them, FN = the true
probabilities of the others), set against the same figure of the Bayes rule (the top companies by
true probability, at its best count). Only the model's own variance is left in it.

Goals (issue 15): with the temporal signal the best sequence model beats gbdt on aggregates by at
least 0.03 F1 and reaches at least 95 % of the Bayes F1; on the control the sequence models lose
at most 0.01 to gbdt; training takes at most 120 s per neural model.

    .venv/bin/python bench/histories.py [--rows 20000] [--models gbdt,logreg,lstm,cnn,transformer,lstm+cnn+transformer] [--seed 0] [--train-seed N] [--data temporal,control]

An entry ``a+b+c`` trains ``--models a,b,c``: their mean ensemble, one predictor with one threshold.
The default list ends with the three sequence models' ensemble, which counts as a sequence model
in the goals (it reads only the months and the companies' columns, as its members do).

``--seed`` draws the data and, unless ``--train-seed`` is given, seeds the training (``train --seed``);
a second training seed on the same data shows how much a model moves with its own seed alone.

``make bench`` runs it as the section ``histories`` of ``bench/run_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from small_tables import f1_of  # bench/small_tables.py, beside this file

ROWS = 20_000
MONTHS = 24
MODELS = ("gbdt", "logreg", "lstm", "cnn", "transformer")
SEQUENCE_MODELS = ("lstm", "cnn", "transformer")
# An entry "a+b" trains `--models a,b` (their mean ensemble, the default --ensemble) as one predictor.
SEQUENCE_ENSEMBLE = "+".join(SEQUENCE_MODELS)
ENTRIES = (*MODELS, SEQUENCE_ENSEMBLE)
BEAT_GBDT, SHARE_OF_BAYES, CONTROL_LOSS, NEURAL_SECONDS = 0.03, 0.95, 0.01, 120.0


def one_dataset(folder: Path, *, temporal: bool, rows: int, seed: int, models: tuple[str, ...], train_seed: int | None = None) -> dict:
    """Generate one dataset into ``folder`` and train and score every model on it."""
    from hotleads import synth
    from hotleads.history import for_scoring, with_history
    from hotleads.io import read_table
    from hotleads.scoring import score
    from hotleads.training import TrainOptions, train_file

    bayes = synth.write_history_dataset(folder, rows=rows, seed=seed, months=MONTHS, temporal_signal=temporal)
    test = read_table(folder / "test.csv")
    y_test = test[synth.TARGET].astype(int).to_numpy()  # read_table keeps CSV text as text
    scored_companies = pd.concat([test.drop(columns=synth.TARGET), read_table(folder / "holdout.csv")], ignore_index=True)
    true_proba = _true_proba(scored_companies, rows=rows, seed=seed, temporal=temporal)
    bayes_expected = bayes_expected_count_f1(true_proba)
    result = {"temporal": temporal, "bayes_f1": bayes["test_bayes_f1"], "bayes_expected_f1": bayes_expected, "models": {}}
    for name in models:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = train_file(
                folder / "train.csv",
                TrainOptions(models=name.split("+"), seed=seed if train_seed is None else train_seed),
                history={"path": folder / "history.csv", "months": MONTHS},
            )
            seconds = time.perf_counter() - started
            history = for_scoring(model.predictor.history, folder / "history.csv")
            frame, windows = with_history(scored_companies, history, model.predictor.history)
            probability = np.asarray(score(model.predictor, frame, sequences=windows).probability)
        hot = probability >= model.predictor.threshold.value
        f1 = f1_of(y_test, hot[: len(test)])
        expected = expected_count_f1(true_proba, hot)
        result["models"][name] = {
            "test_f1": f1,
            "share": f1 / bayes["test_bayes_f1"],
            "expected_f1": expected,
            "expected_share": expected / bayes_expected,
            "fit_seconds": seconds,
            "oof_f1": model.oof_metrics()["f1"],
        }
        kind = "temporal" if temporal else "control"
        print(
            f"{kind:8} {name:12} test F1 {f1:.4f} ({f1 / bayes['test_bayes_f1']:.1%} of {bayes['test_bayes_f1']:.4f}), "
            f"expected {expected / bayes_expected:.1%}  {seconds:6.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return result


def _true_proba(companies: pd.DataFrame, *, rows: int, seed: int, temporal: bool) -> np.ndarray:
    """The generator's true probability of each of ``companies`` (ids ``COMP_<index>`` of the same draw)."""
    from hotleads import synth

    everyone, _, proba = synth.make_history_companies(rows, seed=seed, months=MONTHS, temporal_signal=temporal)
    index = pd.Series(np.arange(rows), index=everyone["company_id"])
    return proba[index.loc[companies["company_id"]].to_numpy()]


def expected_count_f1(true_proba: np.ndarray, hot: np.ndarray) -> float:
    """F1 of the expected counts of predictions ``hot (n,)`` bool, given each row's true probability ``(n,)``: 2 TP / (2 TP + FP + FN)."""
    tp = true_proba[hot].sum()
    return float(2 * tp / (hot.sum() + true_proba.sum()))  # 2 TP + FP + FN = predicted hot + expected hot


def bayes_expected_count_f1(true_proba: np.ndarray) -> float:
    """:func:`expected_count_f1` of the Bayes rule: the top rows by true probability ``(n,)``, at the count that scores best."""
    ordered = np.sort(true_proba)[::-1]
    return float(np.max(2 * np.cumsum(ordered) / (np.arange(1, len(ordered) + 1) + true_proba.sum())))


def reads_months(entry: str) -> bool:
    """Whether bench entry ``entry`` (a model, or models joined by ``+``) is made of sequence models only."""
    return all(name in SEQUENCE_MODELS for name in entry.split("+"))


def histories_section(
    rows: int = ROWS, models: tuple[str, ...] = ENTRIES, seed: int = 0, *, train_seed: int | None = None, data: tuple[str, ...] = ("temporal", "control")
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_dataset(Path(tmp) / kind, temporal=kind == "temporal", rows=rows, seed=seed, models=models, train_seed=train_seed) for kind in data]
    return {"rows": rows, "months": MONTHS, "seed": seed, "train_seed": seed if train_seed is None else train_seed, "runs": runs}


def histories_markdown(section: dict, measured: dict | None = None) -> list[str]:
    from hotleads.synth import SPLIT

    when = f" (measured {measured['at']}, {measured['cores']} cores)" if measured else ""
    lines = [
        f"### Monthly histories{when}",
        "",
        f"`.venv/bin/python bench/run_bench.py --only histories` (or `bench/histories.py`): `generate --history --rows {section['rows']:,}` "
        f"({section['months']} months, seed {section['seed']}{_training_seed(section)}; {SPLIT[0] * 100:.0f} % train, {SPLIT[1] * 100:.0f} % test), each model trained with `--history` on train.csv and "
        "scored on test.csv. gbdt and logreg read the window's aggregates; lstm, cnn and transformer also read the months; "
        "a column a+b+c is the mean ensemble of `train --models a,b,c` (one threshold, the training seconds of all three). "
        "Each cell: test F1 (share of the test split's Bayes F1; in expectation: the F1 of the expected counts on the "
        f"{section['rows'] - round(section['rows'] * SPLIT[0]):,} test and holdout companies against their true probabilities, as a share of the Bayes rule's; training seconds).",
        "",
        "| data | Bayes F1 | " + " | ".join(section["runs"][0]["models"]) + " |",
        "|---|---:|" + "---:|" * len(section["runs"][0]["models"]),
    ]
    for run in section["runs"]:
        cells = [f"{m['test_f1']:.4f} ({m['share']:.1%}; {_expected(m)}{m['fit_seconds']:.0f} s)" for m in run["models"].values()]
        lines.append(f"| {'temporal signal' if run['temporal'] else 'control (no temporal signal)'} | {run['bayes_f1']:.4f} | " + " | ".join(cells) + " |")
    return [*lines, "", *goal_lines(section)]


def goal_lines(section: dict) -> list[str]:
    runs = {("temporal" if r["temporal"] else "control"): r["models"] for r in section["runs"]}
    if set(runs) != {"temporal", "control"}:  # the goals compare both datasets
        return []
    sequence = [m for m in runs["temporal"] if reads_months(m)]
    if "gbdt" not in runs["temporal"] or not sequence:
        return []
    best = max(sequence, key=lambda m: runs["temporal"][m]["test_f1"])
    gain = runs["temporal"][best]["test_f1"] - runs["temporal"]["gbdt"]["test_f1"]
    share = runs["temporal"][best]["share"]
    worst_loss = max(runs["control"]["gbdt"]["test_f1"] - runs["control"][m]["test_f1"] for m in sequence)
    # the time goal is per neural model: an ensemble entry trains several
    slowest = max((run[m]["fit_seconds"] for run in runs.values() for m in sequence if m in SEQUENCE_MODELS), default=float("nan"))

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = [
        f"- Temporal signal: best sequence model {best}, {gain:+.4f} F1 against gbdt on aggregates (goal >= +{BEAT_GBDT}): {met(gain >= BEAT_GBDT)}; "
        f"{share:.1%} of the Bayes F1 (goal >= {SHARE_OF_BAYES:.0%}): {met(share >= SHARE_OF_BAYES)}.",
        f"- Control: the sequence models lose at most {worst_loss:+.4f} F1 to gbdt (goal <= {CONTROL_LOSS}): {met(worst_loss <= CONTROL_LOSS)}.",
    ]
    if not np.isnan(slowest):  # a run of ensembles only times no single neural model
        lines.append(f"- Training: the slowest neural model took {slowest:.0f} s (goal <= {NEURAL_SECONDS:.0f} s): {met(slowest <= NEURAL_SECONDS)}.")
    if "expected_share" in runs["temporal"]["gbdt"]:  # sections measured before it have none
        expected = max(sequence, key=lambda m: runs["temporal"][m]["expected_share"])
        lines.append(
            f"- In expectation (temporal signal, the label draw's luck left out): the best sequence model {expected} reaches "
            f"{runs['temporal'][expected]['expected_share']:.1%} of the Bayes rule's expected-count F1, gbdt {runs['temporal']['gbdt']['expected_share']:.1%} "
            f"({runs['temporal'][expected]['expected_f1'] - runs['temporal']['gbdt']['expected_f1']:+.4f} F1)."
        )
    return lines


def _training_seed(section: dict) -> str:
    return f", training seed {section['train_seed']}" if section.get("train_seed", section["seed"]) != section["seed"] else ""


def _expected(model: dict) -> str:
    return f"{model['expected_share']:.1%}; " if "expected_share" in model else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument(
        "--models",
        default=",".join(ENTRIES),
        help=f"comma-separated entries: a model, or models joined by '+' (their mean ensemble); default {','.join(ENTRIES)}",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data (and of training, unless --train-seed)")
    parser.add_argument("--train-seed", type=int, help="seed of training (default: --seed)")
    parser.add_argument("--data", default="temporal,control", help="which of the two datasets: temporal, control or both")
    parser.add_argument("--json", type=Path, help="also write the section's figures here")
    args = parser.parse_args()
    from hotleads.synth import MIN_ROWS

    data, models = tuple(dict.fromkeys(args.data.split(","))), tuple(dict.fromkeys(args.models.split(",")))
    if not data or set(data) - {"temporal", "control"}:
        parser.error(f"--data takes temporal, control or both, comma-separated; got {args.data!r}")
    if any(set(entry.split("+")) - set(MODELS) for entry in models):
        parser.error(f"--models takes some of {','.join(MODELS)} or models joined by '+' (an ensemble), comma-separated; got {args.models!r}")
    if args.rows < MIN_ROWS:
        parser.error(f"--rows must be at least {MIN_ROWS}; got {args.rows}")
    section = histories_section(args.rows, models, args.seed, train_seed=args.train_seed, data=data)
    if args.json:
        args.json.write_text(json.dumps(section, indent=2))
    print("\n".join(histories_markdown(section)))


if __name__ == "__main__":
    main()
