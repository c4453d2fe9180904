"""Benchmark hotleads on the public challenge data and on the built-in data; print Markdown tables.

    .venv/bin/python bench/run_bench.py [--models gbdt,lstm] [--skip-heavy] [--out bench/results]

Each measurement runs in its own process (``--task``), so peak memory (max RSS) and threads are
per model. Figures:

- ``train.csv`` 5-fold OOF F1, threshold, PR-AUC, fit seconds (5 folds + refit on all 20,000 rows,
  incl. threshold choice), model-only predict rows/s and end-to-end ``score`` rows/s on 1,000,000
  rows replicated from ``train.csv``, peak memory;
- ensembles (mean / weighted / stack / best) of the members' OOF output, nested as in training;
- unseen rows: train on a stratified 80 % of ``train.csv``, score the other 20 %;
- the seed configuration (20 epochs, batch 32, categorical loss) fit time on 18,000 rows;
- built-in data (``--builtin-rows``, default 100,000; ``--builtin-only`` runs just this section):
  each model's OOF F1 and test F1 beside the train and test splits' Bayes-optimal F1, with
  ``--features auto`` and, for gbdt and logreg, ``raw`` (does choosing features on all training
  rows make OOF optimistic?).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "hr-leads"
ALL_MODELS = ["gbdt", "logreg", "lstm", "cnn", "transformer"]
ENSEMBLE_MEMBERS = ["lstm", "cnn", "transformer", "gbdt"]
PREDICT_ROWS = 1_000_000
BUILTIN_ROWS = 100_000  # test split 20,000 rows: the two splits' Bayes F1s differ by < 0.01


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- tasks (each in its own process)

def task_train(model: str, workdir: Path) -> dict:
    """5-fold OOF on train.csv + refit, then predict speed on 1 M replicated rows."""
    from hotleads import bundle, pipeline
    from hotleads.io import read_table

    frame = read_table(SHARED / "train.csv")
    started = time.perf_counter()
    trained = pipeline.train(frame, pipeline.TrainOptions(models=[model]), source="train.csv")
    fit_seconds = time.perf_counter() - started
    train_peak = peak_mb()
    bundle.save(trained, workdir / f"model-{model}")
    board = trained.leaderboard()[0]
    big = pd.concat([frame] * (PREDICT_ROWS // len(frame)), ignore_index=True)
    big["company_id"] = [f"C{i}" for i in range(len(big))]
    X = trained.preprocessor.transform(_features(trained, big))
    started = time.perf_counter()
    trained.members[model].predict_proba(X)
    model_rows_s = len(X) / (time.perf_counter() - started)
    started = time.perf_counter()
    pipeline.score(trained, big)
    score_rows_s = len(big) / (time.perf_counter() - started)
    return {
        "model": model, "oof_f1": board["f1"], "threshold": board["threshold"], "pr_auc": board["pr_auc"],
        "f1_at_0_5": board["f1_at_0_5"], "fit_seconds": fit_seconds, "predict_rows_s": model_rows_s,
        "score_rows_s": score_rows_s, "train_peak_mb": train_peak, "peak_mb": peak_mb(),
        "final_oof_f1": trained.oof_metrics()["f1"], "calibration": trained.calibration,
    }


def _features(trained, frame):
    from hotleads.schema import prepare

    return prepare(frame, trained.schema, labelled=False).features


def task_unseen(models: str, workdir: Path) -> dict:
    """Train on 80 % of train.csv (its own OOF threshold), score the unseen 20 %."""
    from sklearn.model_selection import train_test_split

    from hotleads import pipeline
    from hotleads.io import read_table

    frame = read_table(SHARED / "train.csv")
    fit_part, unseen = train_test_split(frame, test_size=0.2, stratify=frame["is_hot_lead"], random_state=0)
    trained = pipeline.train(fit_part.reset_index(drop=True), pipeline.TrainOptions(models=models.split(",")))
    result = pipeline.evaluate(trained, unseen.reset_index(drop=True))
    rows = {name: m["f1"] for name, m in result["members"].items()}
    rows[trained.final_name] = result["metrics"]["f1"]
    return {"models": models, "unseen_f1": rows, "oof_f1": {r["model"]: r["f1"] for r in trained.leaderboard()}}


def task_seed_config(model: str, workdir: Path) -> dict:
    """One fit with the seed's configuration on 18,000 rows (the Keras reference's setting)."""
    from hotleads.features import Preprocessor
    from hotleads.io import read_table
    from hotleads.registry import make_model
    from hotleads.schema import infer_schema, prepare

    frame = read_table(SHARED / "train.csv").iloc[:18_000]
    schema = infer_schema(frame)
    prepared = prepare(frame, schema, labelled=True)
    pre = Preprocessor().fit(prepared.features, schema)
    X = pre.transform(prepared.features)
    estimator = make_model(model, categorical_features=pre.categorical_indices, random_state=0,
                           epochs=20, batch_size=32, loss="categorical", patience=None)
    started = time.perf_counter()
    estimator.fit(X, prepared.y)
    return {"model": model, "seed_config_seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def task_builtin(arg: str, workdir: Path) -> dict:
    """One model trained on the built-in train split (``MODEL:FEATURES``): OOF F1, test F1, Bayes F1s.

    The data was written by the driver (:func:`builtin_data`); both Bayes F1s come from the
    generator, so OOF F1 is compared with the train split's ceiling and test F1 with the test's.
    """
    from hotleads import pipeline
    from hotleads.io import read_table

    model, features = arg.split(":")
    data = workdir / "builtin"
    bayes = json.loads((data / "bayes.json").read_text())
    started = time.perf_counter()
    trained = pipeline.train(read_table(data / "train.csv"), pipeline.TrainOptions(models=[model], features=features))
    fit_seconds = time.perf_counter() - started
    test = read_table(data / "test.csv")
    result = pipeline.evaluate(trained, test)
    test_f1 = result["members"][model]["f1"]
    oof_f1 = trained.leaderboard()[0]["f1"]
    return {
        "final_oof_f1": trained.oof_metrics()["f1"], "final_test_f1": result["metrics"]["f1"],
        "calibration": trained.calibration, "test_brier": test_brier(trained, test),
        "model": model, "features": features, "oof_f1": oof_f1, "test_f1": test_f1,
        "train_bayes_f1": bayes["train_bayes_f1"], "test_bayes_f1": bayes["test_bayes_f1"],
        "oof_share": oof_f1 / bayes["train_bayes_f1"], "test_share": test_f1 / bayes["test_bayes_f1"],
        "fit_seconds": fit_seconds, "peak_mb": peak_mb(),
    }


def test_brier(trained, test) -> dict:
    """Brier score on labelled rows the model never saw, before and after calibration."""
    from sklearn.metrics import brier_score_loss

    from hotleads import pipeline

    _, member_probas, y = pipeline.score(trained, test, labelled=True)
    raw = trained.final_proba(member_probas)
    return {"uncalibrated": float(brier_score_loss(y, raw)), "calibrated": float(brier_score_loss(y, trained.calibrator.transform(raw)))}


def builtin_data(workdir: Path, rows: int, seed: int) -> dict:
    """Write the built-in data set once for every built-in task; return its bayes.json."""
    from hotleads import synth

    return synth.write_dataset(workdir / "builtin", rows=rows, seed=seed)


def task_discovery(model: str, workdir: Path) -> dict:
    """What --features auto costs: the same training with raw and with discovered features."""
    from hotleads import pipeline
    from hotleads.io import read_table

    frame = read_table(SHARED / "train.csv")
    seconds = {}
    for features in ("raw", "auto"):
        started = time.perf_counter()
        pipeline.train(frame, pipeline.TrainOptions(models=[model], features=features))
        seconds[features] = time.perf_counter() - started
    return {"model": model, **seconds}


TASKS = {"discovery": task_discovery, "train": task_train, "unseen": task_unseen, "seed-config": task_seed_config, "builtin": task_builtin}


# ---------------------------------------------------------------- driver

def run_task(task: str, arg: str, workdir: Path) -> dict:
    command = [sys.executable, __file__, "--task", task, arg, "--workdir", str(workdir)]
    print(f"... {task} {arg}", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench task {task} {arg} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensemble_rows(workdir: Path, members: list[str]) -> list[dict]:
    """Each ensemble method on the members' saved OOF output, with its nested OOF threshold."""
    from sklearn.model_selection import StratifiedKFold

    from hotleads.ensemble import METHODS, nested_oof
    from hotleads.threshold import f1_optimal_threshold
    from safetensors.numpy import load_file

    arrays = [load_file(workdir / f"model-{name}" / "oof.safetensors") for name in members]
    y = arrays[0]["y"]
    oof = np.column_stack([a[f"member.{name}"] for a, name in zip(arrays, members)])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(oof, y))
    rows = []
    for method in METHODS:
        combined = nested_oof(method, members, oof, y, folds)
        rows.append({"method": method, "oof_f1": f1_optimal_threshold(y, combined)[1]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", nargs=2, metavar=("TASK", "ARG"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--models", default=",".join(ALL_MODELS))
    parser.add_argument("--skip-heavy", action="store_true", help="only the per-model train.csv table")
    parser.add_argument("--builtin-only", action="store_true", help="only the built-in data section")
    parser.add_argument("--builtin-rows", type=int, default=BUILTIN_ROWS, help="rows of the built-in data (60 %% train, 20 %% test)")
    parser.add_argument("--builtin-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if args.task:
        print(json.dumps(TASKS[args.task[0]](args.task[1], args.workdir)))
        return
    if not args.builtin_only and not (SHARED / "train.csv").exists():
        print(f"skipped: the challenge data is not at {SHARED} (it lives beside the repository in shared/data/hr-leads)")
        return
    models = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if args.builtin_only:
            report = {"cores": len(os.sched_getaffinity(0)), "builtin": builtin(models, Path(tmp), args.builtin_rows, args.builtin_seed)}
        else:
            report = bench(models, Path(tmp), heavy=not args.skip_heavy, builtin_rows=args.builtin_rows, builtin_seed=args.builtin_seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report, indent=2))
    (args.out / "latest.md").write_text(markdown(report))
    print(markdown(report))


def bench(models: list[str], workdir: Path, *, heavy: bool, builtin_rows: int, builtin_seed: int) -> dict:
    report = {"cores": len(os.sched_getaffinity(0)), "train": [run_task("train", m, workdir) for m in models]}
    report["discovery"] = run_task("discovery", "gbdt", workdir)
    if all(m in models for m in ENSEMBLE_MEMBERS):
        report["ensembles"] = ensemble_rows(workdir, ENSEMBLE_MEMBERS)
    if heavy:
        report["unseen"] = run_task("unseen", ",".join(ENSEMBLE_MEMBERS), workdir)
        report["seed_config"] = [run_task("seed-config", m, workdir) for m in ("lstm", "cnn")]
        report["builtin"] = builtin(models, workdir, builtin_rows, builtin_seed)
    return report


def builtin(models: list[str], workdir: Path, rows: int, seed: int) -> dict:
    """Every model on the built-in data with discovered features; gbdt and logreg also on raw columns."""
    bayes = builtin_data(workdir, rows, seed)
    runs = [f"{m}:auto" for m in models] + [f"{m}:raw" for m in models if m in ("gbdt", "logreg")]
    return {"rows": rows, "seed": seed, "train_rows": bayes["rows"]["train"], "test_rows": bayes["rows"]["test"],
            "results": [run_task("builtin", arg, workdir) for arg in runs]}


def markdown(report: dict) -> str:
    lines = []
    if "train" in report:
        lines += [f"### train.csv, 5-fold out-of-fold ({report['cores']} cores)", "",
                  "| model | OOF F1 | threshold | F1 @0.5 | PR-AUC | fit s (discovery + 5 folds + refit) | peak MB (fit) | predict rows/s (model) | score rows/s (end to end) | peak MB (1 M rows) |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in report.get("train", []):
        lines.append(f"| {r['model']} | {r['oof_f1']:.4f} | {r['threshold']:.3f} | {r['f1_at_0_5']:.4f} | {r['pr_auc']:.4f} | "
                     f"{r['fit_seconds']:.1f} | {r['train_peak_mb']:.0f} | {r['predict_rows_s']:,.0f} | {r['score_rows_s']:,.0f} | {r['peak_mb']:.0f} |")
    if report.get("train"):
        lines += ["", "Calibration of the final predictor (OOF Brier score, nested; lower is better) and its OOF F1 at the threshold tuned on the calibrated output:", "",
                  "| model | method | Brier before | Brier after | final OOF F1 |", "| --- | --- | --- | --- | --- |"]
        lines += [calibration_row(r["model"], r["calibration"], r["final_oof_f1"]) for r in report["train"]]
    if "discovery" in report:
        d = report["discovery"]
        lines += ["", f"`--features auto` costs {d['auto'] - d['raw']:.1f} s over `raw` for `{d['model']}` on 20,000 rows ({d['raw']:.1f} s -> {d['auto']:.1f} s)."]
    if "ensembles" in report:
        lines += ["", f"### Ensembles of {', '.join(ENSEMBLE_MEMBERS)} (nested OOF F1)", "", "| method | OOF F1 |", "| --- | --- |"]
        lines += [f"| {r['method']} | {r['oof_f1']:.4f} |" for r in report["ensembles"]]
    if "unseen" in report:
        u = report["unseen"]
        lines += ["", "### Unseen rows: fit on 80 % of train.csv, F1 on the other 20 %", "", "| model | OOF F1 (on the 80 %) | unseen F1 |", "| --- | --- | --- |"]
        lines += [f"| {name} | {u['oof_f1'].get(name, float('nan')):.4f} | {f1:.4f} |" for name, f1 in u["unseen_f1"].items()]
    if "seed_config" in report:
        lines += ["", "### Seed configuration (20 epochs, batch 32, categorical loss), one fit on 18,000 rows", "",
                  "| model | seconds | Keras reference s | peak MB |", "| --- | --- | --- | --- |"]
        keras = {"lstm": 53, "cnn": 25}
        lines += [f"| {r['model']} | {r['seed_config_seconds']:.1f} | {keras[r['model']]} | {r['peak_mb']:.0f} |" for r in report["seed_config"]]
    if "builtin" in report:
        lines += builtin_markdown(report["builtin"])
    return "\n".join(lines) + "\n"


def calibration_row(model: str, c: dict, f1: float) -> str:
    return f"| {model} | {c['method']} | {c['brier_uncalibrated']:.4f} | {c['brier_calibrated']:.4f} | {f1:.4f} |"


def builtin_markdown(b: dict) -> list[str]:
    lines = ["", f"### Built-in data ({b['rows']:,} rows, seed {b['seed']}: {b['train_rows']:,} train, {b['test_rows']:,} test)", "",
             "OOF F1 is compared with the train split's Bayes-optimal F1, test F1 with the test split's; "
             "OOF - test is what split noise and any optimism of OOF add together.", "",
             "| model | features | OOF F1 | test F1 | Bayes F1 train / test | OOF share | test share | OOF - test | fit s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in b["results"]:
        lines.append(f"| {r['model']} | {r['features']} | {r['oof_f1']:.4f} | {r['test_f1']:.4f} | {r['train_bayes_f1']:.4f} / {r['test_bayes_f1']:.4f} | "
                     f"{r['oof_share']:.1%} | {r['test_share']:.1%} | {r['oof_f1'] - r['test_f1']:+.4f} | {r['fit_seconds']:.1f} |")
    lines += ["", "Calibrated final predictor on the built-in data: Brier score on OOF (nested) and on the unseen test split, before -> after.", "",
              "| model | features | method | OOF Brier | test Brier | final OOF F1 | final test F1 |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in b["results"]:
        c, t = r["calibration"], r["test_brier"]
        lines.append(f"| {r['model']} | {r['features']} | {c['method']} | {c['brier_uncalibrated']:.4f} -> {c['brier_calibrated']:.4f} | "
                     f"{t['uncalibrated']:.4f} -> {t['calibrated']:.4f} | {r['final_oof_f1']:.4f} | {r['final_test_f1']:.4f} |")
    return lines


if __name__ == "__main__":
    main()
