"""Bench section "histories": every model with a monthly history, against the Bayes F1, on temporal and control data.

``hotleads generate --history`` data (``ROWS`` companies x ``MONTHS`` months, 60 % train, 20 %
test), once with the temporal signal (the label depends on the order of the months: postings
rising after a round, a hiring freeze) and once without (``--no-temporal-signal``: the label
depends on order-free aggregates only, the control). Each model is trained on ``train.csv`` with
``--history`` (gbdt and logreg read the window's aggregates, the neural models the months as well)
and scored on ``test.csv``; its test F1 is set against the test split's Bayes F1, with the
training wall time (2 cores unless said).

Goals (issue 15): with the temporal signal the best sequence model beats gbdt on aggregates by at
least 0.03 F1 and reaches at least 95 % of the Bayes F1; on the control the sequence models lose
at most 0.01 to gbdt; training takes at most 120 s per neural model.

    .venv/bin/python bench/histories.py [--rows 20000] [--models gbdt,logreg,lstm,cnn,transformer] [--seed 0]

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

from small_tables import f1_of  # bench/small_tables.py, beside this file

ROWS = 20_000
MONTHS = 24
MODELS = ("gbdt", "logreg", "lstm", "cnn", "transformer")
SEQUENCE_MODELS = ("lstm", "cnn", "transformer")
BEAT_GBDT, SHARE_OF_BAYES, CONTROL_LOSS, NEURAL_SECONDS = 0.03, 0.95, 0.01, 120.0


def one_dataset(folder: Path, *, temporal: bool, rows: int, seed: int, models: tuple[str, ...]) -> dict:
    """Generate one dataset into ``folder`` and train and score every model on it."""
    from hotleads import synth
    from hotleads.history import for_scoring, with_history
    from hotleads.io import read_table
    from hotleads.scoring import score
    from hotleads.training import TrainOptions, train_file

    bayes = synth.write_history_dataset(folder, rows=rows, seed=seed, months=MONTHS, temporal_signal=temporal)
    test = read_table(folder / "test.csv")
    y_test = test[synth.TARGET].astype(int).to_numpy()  # read_table keeps CSV text as text
    result = {"temporal": temporal, "bayes_f1": bayes["test_bayes_f1"], "models": {}}
    for name in models:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = train_file(folder / "train.csv", TrainOptions(models=[name], seed=seed), history={"path": folder / "history.csv", "months": MONTHS})
            seconds = time.perf_counter() - started
            history = for_scoring(model.predictor.history, folder / "history.csv")
            frame, windows = with_history(test, history, model.predictor.history)
            scored = score(model.predictor, frame.drop(columns=synth.TARGET), sequences=windows)
        f1 = f1_of(y_test, scored.probability >= model.predictor.threshold.value)
        result["models"][name] = {"test_f1": f1, "share": f1 / bayes["test_bayes_f1"], "fit_seconds": seconds, "oof_f1": model.oof_metrics()["f1"]}
        kind = "temporal" if temporal else "control"
        print(
            f"{kind:8} {name:12} test F1 {f1:.4f} ({f1 / bayes['test_bayes_f1']:.1%} of {bayes['test_bayes_f1']:.4f})  {seconds:6.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return result


def histories_section(rows: int = ROWS, models: tuple[str, ...] = MODELS, seed: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_dataset(Path(tmp) / kind, temporal=kind == "temporal", rows=rows, seed=seed, models=models) for kind in ("temporal", "control")]
    return {"rows": rows, "months": MONTHS, "seed": seed, "runs": runs}


def histories_markdown(section: dict, measured: dict | None = None) -> list[str]:
    when = f" (measured {measured['at']}, {measured['cores']} cores)" if measured else ""
    lines = [
        f"### Monthly histories{when}",
        "",
        f"`.venv/bin/python bench/run_bench.py --only histories` (or `bench/histories.py`): `generate --history --rows {section['rows']:,}` "
        f"({section['months']} months, seed {section['seed']}; 60 % train, 20 % test), each model trained with `--history` on train.csv and "
        "scored on test.csv. gbdt and logreg read the window's aggregates; lstm, cnn and transformer also read the months.",
        "",
        "| data | Bayes F1 | " + " | ".join(section["runs"][0]["models"]) + " |",
        "|---|---:|" + "---:|" * len(section["runs"][0]["models"]),
    ]
    for run in section["runs"]:
        cells = [f"{m['test_f1']:.4f} ({m['share']:.1%}, {m['fit_seconds']:.0f} s)" for m in run["models"].values()]
        lines.append(f"| {'temporal signal' if run['temporal'] else 'control (no temporal signal)'} | {run['bayes_f1']:.4f} | " + " | ".join(cells) + " |")
    return [*lines, "", *goal_lines(section)]


def goal_lines(section: dict) -> list[str]:
    runs = {("temporal" if r["temporal"] else "control"): r["models"] for r in section["runs"]}
    sequence = [m for m in SEQUENCE_MODELS if m in runs["temporal"]]
    if "gbdt" not in runs["temporal"] or not sequence:
        return []
    best = max(sequence, key=lambda m: runs["temporal"][m]["test_f1"])
    gain = runs["temporal"][best]["test_f1"] - runs["temporal"]["gbdt"]["test_f1"]
    share = runs["temporal"][best]["share"]
    worst_loss = max(runs["control"]["gbdt"]["test_f1"] - runs["control"][m]["test_f1"] for m in sequence)
    slowest = max(run[m]["fit_seconds"] for run in runs.values() for m in sequence)

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return [
        f"- Temporal signal: best sequence model {best}, {gain:+.4f} F1 against gbdt on aggregates (goal >= +{BEAT_GBDT}): {met(gain >= BEAT_GBDT)}; "
        f"{share:.1%} of the Bayes F1 (goal >= {SHARE_OF_BAYES:.0%}): {met(share >= SHARE_OF_BAYES)}.",
        f"- Control: the sequence models lose at most {worst_loss:+.4f} F1 to gbdt (goal <= {CONTROL_LOSS}): {met(worst_loss <= CONTROL_LOSS)}.",
        f"- Training: the slowest neural model took {slowest:.0f} s (goal <= {NEURAL_SECONDS:.0f} s): {met(slowest <= NEURAL_SECONDS)}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the section's figures here")
    args = parser.parse_args()
    section = histories_section(args.rows, tuple(args.models.split(",")), args.seed)
    if args.json:
        args.json.write_text(json.dumps(section, indent=2))
    print("\n".join(histories_markdown(section)))


if __name__ == "__main__":
    main()
