"""Benchmark hotleads on the public challenge data and on the built-in data; print Markdown tables.

    .venv/bin/python bench/run_bench.py [--models gbdt,lstm] [--only startup,train,unseen,seed-config,formats,builtin,small-tables,histories,tune,tune-speed,serve] [--out bench/results]

Each measurement runs in its own process (``--task``), so peak memory (max RSS) and threads are
per model. Figures:

- start-up (``startup``): wall seconds of fresh ``hotleads --version``, ``--help`` and a 100-row
  ``predict`` (gbdt and logreg bundles trained on built-in data), median of five, and which heavy
  libraries (torch, matplotlib, LightGBM, scikit-learn, pandas) that ``predict`` imports;

- ``train.csv`` 5-fold OOF F1, threshold, PR-AUC, fit seconds (5 folds + refit on all 20,000 rows,
  incl. threshold choice), model-only predict rows/s and end-to-end ``score`` rows/s on 1,000,000
  rows replicated from ``train.csv``, peak memory;
- ensembles (mean / weighted / stack / best) of the members' OOF output, nested as in training;
- unseen rows: train on a stratified 80 % of ``train.csv``, score the other 20 %;
- the seed configuration (20 epochs, batch 32, categorical loss) fit time on 18,000 rows, four
  times, around three fits of the seed's own Keras recipe (``bench/keras_seed.py``, run by ``.venv-keras``
  when ``make bench`` could make it) on the same machine in the same run;
- built-in data (``--builtin-rows``, default 100,000):
  each model's OOF F1 and test F1 beside the train and test splits' Bayes-optimal F1, with
  ``--features auto`` on each of ``--builtin-seeds`` (default 0,1,2), so the OOF - test gap is
  seen on several draws of the two splits, not one; gbdt and logreg also with ``raw`` on the
  first seed;
- export styles (``formats``): one built-in table (6,000 rows, seed 0) written in every style of
  ``hotleads.synth.EXPORT_STYLES`` (formatted numbers, other date formats, delimiters, encodings,
  Excel), each read by ``hotleads.io.read_table`` and trained on (gbdt, raw columns, 5 folds): the
  roles found, OOF F1 and its difference to the plain file's, against issue 10's target of 0.01;
  a style that cannot be read or trained on is a row with the error, not the end of the bench;
- tuning (``tune``): ``hotleads tune`` per model (``TUNE_BUDGETS`` trials, neural models at most
  ``TUNE_TIMEOUT`` s) on ``train.csv`` and on built-in data: default and tuned F1 on the rows set aside
  before the search, and on the built-in data their test F1 against the test split's Bayes F1;
- tuning speed (``tune-speed``): gbdt trials per minute with 1 and 2 workers, and with pruning off;
- the scoring service (``serve``, ``bench/serve_load.py``): ``hotleads serve`` on loopback with gbdt and a
  gbdt+logreg ensemble, 1 and 2 workers: latency of one company per request, companies per second in
  batches of 100 and 10,000, worker memory at rest and under load.

Each finished section is merged into ``latest.json`` / ``latest.md`` at once (with when it ran), so
sections can be measured in separate runs and a stopped run keeps what it measured.
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
KERAS_PYTHON = ROOT / ".venv-keras" / "bin" / "python"
KERAS_RECORDED = {"lstm": 53.0, "cnn": 25.0}  # seconds, ../shared/MEASURED.md
BUILTIN_ROWS = 100_000  # 60,000 train and 20,000 test rows
BUILTIN_SEEDS = "0,1,2"
FORMATS_ROWS = 6_000
FORMATS_TOLERANCE = 0.01  # issue 10: every export style within 0.01 F1 of the plain table
HOTLEADS = ROOT / ".venv" / "bin" / "hotleads"
STARTUP_RUNS = 5  # each command's median of this many runs
STARTUP_LIMIT = 0.5  # issue 11: --version and --help in under half a second
STARTUP_ROWS = 100  # rows of the end-to-end predict
HEAVY = ("torch", "matplotlib", "lightgbm", "sklearn", "pandas")
TUNE_BUDGETS = {"gbdt": 40, "logreg": 16, "lstm": 8, "cnn": 8, "transformer": 8}  # trials per model and table (issue 12)
TUNE_TIMEOUT = 900  # seconds per neural model and table: its trials or 15 minutes, whichever ends first
TUNE_BUILTIN_ROWS = 10_000  # 6,000 train and 2,000 test rows
TUNE_SPEED_TRIALS = 40  # gbdt trials of the 1-vs-2-worker and pruning on/off comparisons


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- tasks (each in its own process)


def task_train(model: str, workdir: Path) -> dict:
    """5-fold OOF on train.csv + refit, then predict speed on 1 M replicated rows."""
    from hotleads import bundle, scoring, training
    from hotleads.io import read_table

    frame = read_table(SHARED / "train.csv")
    started = time.perf_counter()
    trained = training.train(frame, training.TrainOptions(models=[model]), source="train.csv")
    fit_seconds = time.perf_counter() - started
    train_peak = peak_mb()
    bundle.save(trained, workdir / f"model-{model}")
    board = trained.evidence.leaderboard[0]
    big = pd.concat([frame] * (PREDICT_ROWS // len(frame)), ignore_index=True)
    big["company_id"] = [f"C{i}" for i in range(len(big))]
    X = trained.predictor.preprocessor.transform(_features(trained, big))
    started = time.perf_counter()
    trained.predictor.members[model].predict_proba(X)
    model_rows_s = len(X) / (time.perf_counter() - started)
    started = time.perf_counter()
    scoring.score(trained.predictor, big)
    score_rows_s = len(big) / (time.perf_counter() - started)
    return {
        "model": model,
        "oof_f1": board["f1"],
        "threshold": board["threshold"],
        "pr_auc": board["pr_auc"],
        "f1_at_0_5": board["f1_at_0_5"],
        "fit_seconds": fit_seconds,
        "predict_rows_s": model_rows_s,
        "score_rows_s": score_rows_s,
        "train_peak_mb": train_peak,
        "peak_mb": peak_mb(),
        "final_oof_f1": trained.oof_metrics()["f1"],
        "calibration": _calibration(trained),
    }


def _calibration(trained) -> dict:
    return {"method": trained.predictor.calibrator.method, **trained.evidence.calibration}


def _features(trained, frame):
    from hotleads.schema import prepare

    return prepare(frame, trained.predictor.schema, labelled=False).features


def task_unseen(models: str, workdir: Path) -> dict:
    """Train on 80 % of train.csv (its own OOF threshold), score the unseen 20 %."""
    from sklearn.model_selection import train_test_split

    from hotleads import scoring, training
    from hotleads.io import read_table

    frame = read_table(SHARED / "train.csv")
    fit_part, unseen = train_test_split(frame, test_size=0.2, stratify=frame["is_hot_lead"], random_state=0)
    trained = training.train(fit_part.reset_index(drop=True), training.TrainOptions(models=models.split(",")))
    result = scoring.evaluate(trained, scoring.score(trained.predictor, unseen.reset_index(drop=True), labelled=True))
    rows = {name: m["f1"] for name, m in result["members"].items()}
    rows[trained.predictor.name] = result["metrics"]["f1"]
    return {"models": models, "unseen_f1": rows, "oof_f1": {r["model"]: r["f1"] for r in trained.evidence.leaderboard}}


def task_seed_config(arg: str, workdir: Path) -> dict:
    """One fit with the seed's configuration on 18,000 rows (the Keras reference's setting), ``MODEL:INPUT``.

    INPUT ``own``: hotleads' preprocessing (12 feature tokens, categories embedded); ``identical``:
    the Keras recipe's very matrix (``seed_recipe.features``: 20 scaled and one-hot columns).
    """
    from hotleads.registry import make_model

    model, inputs = arg.split(":")
    X, y, categorical = _seed_identical() if inputs == "identical" else _seed_own()
    estimator = make_model(model, categorical_features=categorical, random_state=0, epochs=20, batch_size=32, loss="categorical", patience=None)
    started = time.perf_counter()
    estimator.fit(X, y)
    return {"model": model, "inputs": inputs, "seed_config_seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def _seed_own():
    from hotleads.features import Preprocessor
    from hotleads.io import read_table
    from hotleads.schema import infer_schema, prepare

    frame = read_table(SHARED / "train.csv").iloc[:18_000]
    schema = infer_schema(frame)
    prepared = prepare(frame, schema, labelled=True)
    pre = Preprocessor().fit(prepared.features, schema)
    return pre.transform(prepared.features), prepared.y, pre.categorical_indices


def _seed_identical():
    from seed_recipe import table

    X, y = table(SHARED / "train.csv")
    return X, y, []


def task_builtin(arg: str, workdir: Path) -> dict:
    """One model trained on a built-in train split (``MODEL:FEATURES:SEED``): OOF F1, test F1, Bayes F1s.

    The data was written by the driver (:func:`builtin`); both Bayes F1s come from the
    generator, so OOF F1 is compared with the train split's ceiling and test F1 with the test's.
    """
    from hotleads import scoring, training
    from hotleads.io import read_table

    model, features, seed = arg.split(":")
    data = workdir / f"builtin-{seed}"
    bayes = json.loads((data / "bayes.json").read_text())
    started = time.perf_counter()
    trained = training.train(read_table(data / "train.csv"), training.TrainOptions(models=[model], features=features))
    fit_seconds = time.perf_counter() - started
    test = scoring.score(trained.predictor, read_table(data / "test.csv"), labelled=True)
    result = scoring.evaluate(trained, test)
    test_f1 = result["members"][model]["f1"]
    oof_f1 = trained.evidence.leaderboard[0]["f1"]
    return {
        "final_oof_f1": trained.oof_metrics()["f1"],
        "final_test_f1": result["metrics"]["f1"],
        "calibration": _calibration(trained),
        "test_brier": test_brier(test),
        "model": model,
        "features": features,
        "seed": int(seed),
        "oof_f1": oof_f1,
        "test_f1": test_f1,
        "train_bayes_f1": bayes["train_bayes_f1"],
        "test_bayes_f1": bayes["test_bayes_f1"],
        "oof_share": oof_f1 / bayes["train_bayes_f1"],
        "test_share": test_f1 / bayes["test_bayes_f1"],
        "fit_seconds": fit_seconds,
        "peak_mb": peak_mb(),
    }


def test_brier(test) -> dict:
    """Brier score on labelled rows the model never saw (a ScoredTable), before and after calibration."""
    from sklearn.metrics import brier_score_loss

    return {"uncalibrated": float(brier_score_loss(test.y, test.raw)), "calibrated": float(brier_score_loss(test.y, test.probability))}


def task_discovery(model: str, workdir: Path) -> dict:
    """What --features auto costs: the same training with raw and with discovered features."""
    from hotleads import training
    from hotleads.io import read_table

    frame = read_table(SHARED / "train.csv")
    seconds = {}
    for features in ("raw", "auto"):
        started = time.perf_counter()
        training.train(frame, training.TrainOptions(models=[model], features=features))
        seconds[features] = time.perf_counter() - started
    return {"model": model, **seconds}


def task_formats(rows: str, workdir: Path) -> dict:
    """One built-in table written in every export style; each file read and trained on, on one core.

    The section compares F1, not speed: LightGBM's threads crawl when other processes share the
    cores (on this 2-core machine under load, 31 s a style on both cores against 4.5 s on one).
    """
    from hotleads import synth

    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # hotleads sizes its threads from this
    table, _ = synth.make_companies(int(rows), seed=0)
    results = []
    for style, suffix in synth.EXPORT_STYLES.items():
        path = synth.write_export(table, workdir / "formats" / f"companies-{style}{suffix}", style)
        results.append(format_run(style, path))
    return {"rows": int(rows), "results": results}


def format_run(style: str, path: Path) -> dict:
    """Column roles and gbdt's OOF F1 (raw columns, 5 folds, seed 0) on one export; an error is kept
    as the row's result. ``read_table`` gets the path only: its options are for people."""
    from hotleads import training
    from hotleads.io import read_table
    from hotleads.schema import infer_schema

    row = {"style": style, "file": path.name, "roles": None, "ignored": None, "oof_f1": None, "error": None}
    started = time.perf_counter()
    try:
        frame = read_table(path)
        schema = infer_schema(frame, source=path.name)
        row["roles"], row["ignored"] = column_roles(schema), schema.ignored
        options = training.TrainOptions(models=["gbdt"], features="raw", folds=5, seed=0)
        row["oof_f1"] = training.train(frame, options, source=path.name).evidence.leaderboard[0]["f1"]
    except Exception as exc:  # a style hotleads cannot read yet is a result, not the bench's end
        text = str(exc).strip()
        row["error"] = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
    row["seconds"] = time.perf_counter() - started
    return row


def column_roles(schema) -> dict[str, str]:
    """Column -> role: target, id, numeric, categorical, date or ignored (the reasons name counts,
    which differ between files that hold the same values)."""
    roles = {schema.target: "target", schema.id: "id"}
    for role in ("numeric", "categorical", "date"):
        roles.update(dict.fromkeys(getattr(schema, role), role))
    roles.update(dict.fromkeys(schema.ignored, "ignored"))
    roles.pop(None, None)  # no id column
    return roles


def task_startup_modules(model_dir: str, workdir: Path) -> dict:
    """The heavy libraries a 100-row ``hotleads predict`` with the bundle ``model_dir`` imports, in this process."""
    from hotleads.cli import app

    table = workdir / "startup" / "rows.csv"
    try:
        app(["predict", model_dir, str(table), "--out", str(workdir / "startup" / "modules.csv"), "--quiet"])
    except SystemExit as done:
        if done.code:
            raise
    return {"imported": [name for name in HEAVY if name in sys.modules]}


TASKS = {
    "startup-modules": task_startup_modules,
    "formats": task_formats,
    "discovery": task_discovery,
    "train": task_train,
    "unseen": task_unseen,
    "seed-config": task_seed_config,
    "builtin": task_builtin,
}


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
    from hotleads.bundle import load
    from hotleads.ensemble import METHODS, nested_oof
    from hotleads.folds import stratified_folds
    from hotleads.threshold import f1_optimal_threshold

    evidence = [load(workdir / f"model-{name}").evidence for name in members]
    y = evidence[0].y
    oof = np.column_stack([e.member_oof[name] for e, name in zip(evidence, members, strict=True)])
    folds = stratified_folds(y, 5, seed=0)
    rows = []
    for method in METHODS:
        combined = nested_oof(method, members, oof, y, folds)
        rows.append({"method": method, "oof_f1": f1_optimal_threshold(y, combined)[1]})
    return rows


SECTIONS = ("startup", "train", "unseen", "seed-config", "formats", "builtin", "small-tables", "histories", "tune", "tune-speed", "serve")
BUILTIN_ONLY = {"startup", "builtin", "formats", "small-tables", "histories"}  # sections that run without the challenge data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", nargs=2, metavar=("TASK", "ARG"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--models", default=",".join(ALL_MODELS))
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all); train includes --features auto's cost and the ensembles",
    )
    parser.add_argument("--builtin-rows", type=int, default=BUILTIN_ROWS, help="rows of the built-in data (60 %% train, 20 %% test)")
    parser.add_argument("--builtin-seeds", default=BUILTIN_SEEDS, help="comma-separated generator seeds")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if args.task:
        print(json.dumps(TASKS[args.task[0]](args.task[1], args.workdir)))
        return
    sections = args.only.split(",")
    if unknown := set(sections) - set(SECTIONS):
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if not set(sections) <= BUILTIN_ONLY and not (SHARED / "train.csv").exists():
        print(f"skipped: the challenge data is not at {SHARED} (it lives beside the repository in shared/data/hr-leads)")
        return
    models = args.models.split(",")
    seeds = [int(seed) for seed in args.builtin_seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for section, figures in bench(models, Path(tmp), sections=sections, builtin_rows=args.builtin_rows, builtin_seeds=seeds):
            report = save(args.out, section, figures)
    print(markdown(report))


def save(out: Path, section: str, figures: dict) -> dict:
    """Merge one finished section into ``latest.json`` (a section's figures replace that section's earlier ones),
    so that a long bench that stops keeps what it measured and sections measured on different runs sit together;
    each section carries when it was measured and on how many cores."""
    path = out / "latest.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    report.pop("cores", None)  # written by bench runs before sections carried their own
    if "tune" in figures and "tune" in report:  # models tuned in separate runs (--models) sit together
        fresh = {(r["model"], r["data"]) for r in figures["tune"]["runs"]}
        kept = [r for r in report["tune"]["runs"] if (r["model"], r["data"]) not in fresh]
        figures = {"tune": figures["tune"] | {"runs": kept + figures["tune"]["runs"], "budgets": report["tune"]["budgets"] | figures["tune"]["budgets"]}}
    report.update(figures)
    report.setdefault("measured", {})[section] = {"at": time.strftime("%Y-%m-%d %H:%M"), "cores": len(os.sched_getaffinity(0))}
    for name, text in (("latest.json", json.dumps(report, indent=2)), ("latest.md", markdown(report))):
        (out / f".{name}.tmp").write_text(text)
        os.replace(out / f".{name}.tmp", out / name)
    return report


def bench(models: list[str], workdir: Path, *, sections: list[str], builtin_rows: int, builtin_seeds: list[int]):
    """Yield (section, its figures) as each requested section finishes, in ``SECTIONS`` order."""
    if "startup" in sections:
        yield "startup", {"startup": startup(workdir)}
    if "train" in sections:
        figures = {"train": [run_task("train", m, workdir) for m in models], "discovery": run_task("discovery", "gbdt", workdir)}
        if all(m in models for m in ENSEMBLE_MEMBERS):
            figures["ensembles"] = ensemble_rows(workdir, ENSEMBLE_MEMBERS)
        yield "train", figures
    if "unseen" in sections:
        yield "unseen", {"unseen": run_task("unseen", ",".join(ENSEMBLE_MEMBERS), workdir)}
    if "seed-config" in sections:
        yield "seed-config", {"seed_config": [seed_config(m, workdir) for m in ("lstm", "cnn")]}
    if "formats" in sections:
        yield "formats", {"formats": formats(workdir)}
    if "builtin" in sections:
        yield "builtin", {"builtin": builtin(models, workdir, builtin_rows, builtin_seeds)}
    if "small-tables" in sections:
        from small_tables import small_tables_section  # bench/small_tables.py, beside this file

        yield "small-tables", {"small_tables": small_tables_section()}
    if "histories" in sections:
        from histories import histories_section  # bench/histories.py, beside this file

        yield "histories", {"histories": histories_section()}
    if "tune" in sections:
        yield "tune", {"tune": tune_section(models, workdir)}
    if "tune-speed" in sections:
        yield "tune-speed", {"tune_speed": tune_speed_section(workdir)}
    if "serve" in sections:
        from serve_load import serve_section  # bench/serve_load.py, beside this file

        yield "serve", {"serve": serve_section(workdir / "serve", SHARED / "train.csv")}


def tune_section(models: list[str], workdir: Path) -> dict:
    """Each model tuned on train.csv (budget ``TUNE_BUDGETS``): default and tuned F1 on the set-aside rows; on the
    built-in data (``TUNE_BUILTIN_ROWS``) also the test split's F1 of the default, the tuned and the kept configuration
    against its Bayes F1."""
    from hotleads import synth

    builtin = workdir / "tune-builtin"
    bayes = synth.write_dataset(builtin, rows=TUNE_BUILTIN_ROWS, seed=0)
    rows = []
    for model in models:
        rows.append(tune_run(model, SHARED / "train.csv", workdir / f"tune-{model}", trials=TUNE_BUDGETS[model]) | {"data": "train.csv"})
        run = tune_run(model, builtin / "train.csv", workdir / f"tune-builtin-{model}", trials=TUNE_BUDGETS[model], test=builtin / "test.csv")
        rows.append(run | {"data": f"built-in ({TUNE_BUILTIN_ROWS:,} rows, seed 0)", "test_bayes_f1": bayes["test_bayes_f1"]})
    return {"runs": rows, "budgets": {model: TUNE_BUDGETS[model] for model in models}, "timeout": TUNE_TIMEOUT}


def tune_speed_section(workdir: Path) -> dict:
    """gbdt on train.csv, ``TUNE_SPEED_TRIALS`` trials: 1 worker against 2 (each on its share of the cores), pruner on against off."""
    runs = [
        tune_run("gbdt", SHARED / "train.csv", workdir / f"tune-speed-{workers}-{pruner}", trials=TUNE_SPEED_TRIALS, workers=workers, pruner=pruner)
        | {"workers": workers, "pruner": pruner}
        for workers, pruner in ((1, "median"), (2, "median"), (1, "none"))
    ]
    return {"runs": runs, "trials": TUNE_SPEED_TRIALS}


def tune_run(model: str, data: Path, folder: Path, *, trials: int, workers: int = 1, pruner: str = "median", test: Path | None = None) -> dict:
    """One `hotleads tune` (wall seconds, trials, pruned, best OOF, set-aside F1s); with ``test``, the test F1 of the
    default, of the tuned configuration (whether or not it was kept) and so of the kept one."""
    folder.mkdir(parents=True, exist_ok=True)
    timeout = ["--timeout", str(TUNE_TIMEOUT)] if model in ("lstm", "cnn", "transformer") else []
    started = time.perf_counter()
    _hotleads("tune", str(data), "--models", model, "--trials", str(trials), "--workers", str(workers), "--pruner", pruner,
              "--out", str(folder / "best.json"), *timeout, "--quiet")  # fmt: skip
    seconds = time.perf_counter() - started
    search_seconds = _search_seconds(folder / "best.journal")
    best = json.loads((folder / "best.json").read_text())
    found = best["models"][model]
    result = {"model": model, "seconds": seconds, "search_seconds": search_seconds, "trials": len(found["search"]["trials"]), "pruned": found["search"]["pruned"], "oof": found["oof"],
              "params": found["params"], **{key: found["holdout"][key] for key in ("default_f1", "tuned_f1", "chosen", "rows")}}  # fmt: skip
    if test is not None:
        found["holdout"]["chosen"] = "tuned"  # the tuned configuration's test F1 also where the set-aside rows kept the default
        (folder / "tuned.json").write_text(json.dumps(best))
        for label, params in (("default", []), ("tuned", ["--params", str(folder / "tuned.json")])):
            _hotleads("train", str(data), "--out", str(folder / f"model-{label}"), "--models", model, *params, "--quiet")
            done = subprocess.run([str(HOTLEADS), "evaluate", str(folder / f"model-{label}"), str(test), "--json"], capture_output=True, text=True, check=True)
            result[f"test_{label}_f1"] = json.loads(done.stdout)["metrics"]["f1"]
    return result


def _search_seconds(journal: Path) -> float:
    """Seconds from the first trial's start to the last one's end, read from the study's journal: the search
    alone, without each process's preparation (reading, nested feature discovery) and the final comparison."""
    import optuna

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    trials = [t for summary in optuna.get_all_study_summaries(storage) for t in optuna.load_study(study_name=summary.study_name, storage=storage).trials]
    done = [t for t in trials if t.datetime_start and t.datetime_complete]
    return (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()


def startup(workdir: Path) -> dict:
    """Wall seconds of ``hotleads --version``, ``--help`` and a 100-row ``predict`` (gbdt and logreg bundles
    trained on built-in data), each the median of ``STARTUP_RUNS`` fresh processes, and what predict imports."""
    folder = workdir / "startup"
    _hotleads("generate", "--out", str(folder / "data"), "--rows", "2000", "--quiet")
    pd.read_csv(folder / "data" / "holdout.csv", dtype=str).head(STARTUP_ROWS).to_csv(folder / "rows.csv", index=False)
    commands = {"--version": ["--version"], "--help": ["--help"]}
    imported = {}
    for model in ("gbdt", "logreg"):
        bundle_dir = str(folder / f"model-{model}")
        _hotleads("train", str(folder / "data" / "train.csv"), "--out", bundle_dir, "--models", model, "--quiet")
        commands[f"predict, {STARTUP_ROWS} rows, {model}"] = ["predict", bundle_dir, str(folder / "rows.csv"), "--out", str(folder / "sub.csv"), "--quiet"]
        imported[model] = run_task("startup-modules", bundle_dir, workdir)["imported"]
    return {"seconds": {name: _median_seconds(args) for name, args in commands.items()}, "imported": imported, "limit": STARTUP_LIMIT}


def _hotleads(*args: str) -> None:
    done = subprocess.run([str(HOTLEADS), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"hotleads {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def _median_seconds(args: list[str]) -> float:
    seconds = []
    for _ in range(STARTUP_RUNS):
        started = time.perf_counter()
        _hotleads(*args)
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def seed_config(model: str, workdir: Path, rounds: int = 3) -> dict:
    """hotleads' seed-configuration fit before, between and after the Keras reference's fits, so
    that both see the machine at the same speeds (on this machine one Keras fit of the same
    recipe took 18 s and 34 s on the same day); the recorded reference where Keras is absent."""
    ours = [run_task("seed-config", f"{model}:own", workdir)]
    identical = [run_task("seed-config", f"{model}:identical", workdir)]
    keras = []
    for _ in range(rounds):
        keras.append(keras_seed(model))
        ours.append(run_task("seed-config", f"{model}:own", workdir))
        identical.append(run_task("seed-config", f"{model}:identical", workdir))
    measured = [k for k in keras if k is not None]
    return {
        "model": model,
        "seconds": [r["seed_config_seconds"] for r in ours],
        "identical_seconds": [r["seed_config_seconds"] for r in identical],
        "peak_mb": max(r["peak_mb"] for r in ours),
        "keras_seconds": [k["seconds"] for k in measured] or [KERAS_RECORDED[model]],
        "keras_measured": bool(measured),
        "keras_peak_mb": max((k["peak_mb"] for k in measured), default=None),
    }


def keras_seed(model: str) -> dict | None:
    if not KERAS_PYTHON.exists():
        print(f"... keras reference {model}: {KERAS_PYTHON} is absent, using the recorded figure", file=sys.stderr)
        return None
    print(f"... keras reference {model}", file=sys.stderr, flush=True)
    done = subprocess.run(
        [str(KERAS_PYTHON), str(ROOT / "bench" / "keras_seed.py"), model, str(SHARED / "train.csv")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"keras reference {model} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def builtin(models: list[str], workdir: Path, rows: int, seeds: list[int]) -> dict:
    """Every model with discovered features on each seed's data; gbdt and logreg also on raw
    columns on the first seed's."""
    from hotleads import synth

    results = []
    for i, seed in enumerate(seeds):
        bayes = synth.write_dataset(workdir / f"builtin-{seed}", rows=rows, seed=seed)
        runs = [f"{m}:auto" for m in models]
        runs += [f"{m}:raw" for m in models if i == 0 and m in ("gbdt", "logreg")]
        results += [run_task("builtin", f"{arg}:{seed}", workdir) for arg in runs]
    return {"rows": rows, "seeds": seeds, "train_rows": bayes["rows"]["train"], "test_rows": bayes["rows"]["test"], "results": results}


def formats(workdir: Path, rows: int = FORMATS_ROWS) -> dict:
    """Every export style against the plain file: F1 within ``FORMATS_TOLERANCE`` and the same roles."""
    started = time.perf_counter()
    result = run_task("formats", str(rows), workdir)
    plain = next(r for r in result["results"] if r["style"] == "plain")
    for r in result["results"]:
        r["role_changes"] = role_changes(plain["roles"], r["roles"])
        r["f1_difference"] = None if None in (r["oof_f1"], plain["oof_f1"]) else r["oof_f1"] - plain["oof_f1"]
        r["ok"], r["why"] = format_verdict(r)
    return {**result, "tolerance": FORMATS_TOLERANCE, "seconds": time.perf_counter() - started}


def role_changes(plain: dict | None, roles: dict | None) -> list[str]:
    """'column: role (plain: role)' for each column read with another role than in the plain file."""
    if not plain or not roles:
        return []
    return [f"{name}: {roles.get(name, 'absent')} (plain: {role})" for name, role in plain.items() if roles.get(name) != role]


def format_verdict(r: dict) -> tuple[bool, str]:
    if r["error"]:
        return False, r["error"]
    if r["f1_difference"] is None:
        return False, "the plain file failed"
    if abs(r["f1_difference"]) > FORMATS_TOLERANCE:
        return False, f"F1 {r['f1_difference']:+.4f} off the plain file's"
    if r["role_changes"]:
        return False, "column roles differ from the plain file's"
    return True, ""


def markdown(report: dict) -> str:
    measured = report.get("measured", {})
    lines = ["Sections measured: " + "; ".join(f"{name} {m['at']} ({m['cores']} cores)" for name, m in measured.items()), ""]
    lines += startup_markdown(report["startup"]) if "startup" in report else []
    if "small_tables" in report:
        from small_tables import small_tables_markdown

        lines += [*small_tables_markdown(report["small_tables"], measured.get("small-tables")), ""]
    if "histories" in report:
        from histories import histories_markdown

        lines += [*histories_markdown(report["histories"], measured.get("histories")), ""]
    if "train" in report:
        lines += [
            "### train.csv, 5-fold out-of-fold",
            "",
            "| model | OOF F1 | threshold | F1 @0.5 | PR-AUC | fit s (discovery + 5 folds + refit) | peak MB (fit) | predict rows/s (model) | score rows/s (end to end) | peak MB (1 M rows) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
    for r in report.get("train", []):
        lines.append(
            f"| {r['model']} | {r['oof_f1']:.4f} | {r['threshold']:.3f} | {r['f1_at_0_5']:.4f} | {r['pr_auc']:.4f} | "
            f"{r['fit_seconds']:.1f} | {r['train_peak_mb']:.0f} | {r['predict_rows_s']:,.0f} | {r['score_rows_s']:,.0f} | {r['peak_mb']:.0f} |"
        )
    if report.get("train"):
        lines += [
            "",
            "Calibration of the final predictor (OOF Brier score, nested; lower is better) and its OOF F1 at the threshold tuned on the calibrated output:",
            "",
            "| model | method | Brier before | Brier after | final OOF F1 |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [calibration_row(r["model"], r["calibration"], r["final_oof_f1"]) for r in report["train"]]
    if "discovery" in report:
        d = report["discovery"]
        lines += [
            "",
            f"`--features auto` costs {d['auto'] - d['raw']:.1f} s over `raw` for `{d['model']}` on 20,000 rows ({d['raw']:.1f} s -> {d['auto']:.1f} s).",
        ]
    if "ensembles" in report:
        lines += ["", f"### Ensembles of {', '.join(ENSEMBLE_MEMBERS)} (nested OOF F1)", "", "| method | OOF F1 |", "| --- | --- |"]
        lines += [f"| {r['method']} | {r['oof_f1']:.4f} |" for r in report["ensembles"]]
    if "unseen" in report:
        u = report["unseen"]
        lines += [
            "",
            "### Unseen rows: fit on 80 % of train.csv, F1 on the other 20 %",
            "",
            "| model | OOF F1 (on the 80 %) | unseen F1 |",
            "| --- | --- | --- |",
        ]
        lines += [f"| {name} | {u['oof_f1'].get(name, float('nan')):.4f} | {f1:.4f} |" for name, f1 in u["unseen_f1"].items()]
    if "seed_config" in report:
        lines += [
            "",
            "### Seed configuration (20 epochs, batch 32, categorical loss), one fit on 18,000 rows",
            "",
            "hotleads was timed before, between and after fits of the Keras reference (the seed's own recipe, "
            "`bench/keras_seed.py`) in the same run, on its own preprocessing (12 feature tokens) and on the Keras "
            "recipe's identical matrix (20 columns, `bench/seed_recipe.py`); the ratios are of the medians (issue 14's "
            "goal: at most 0.7 on identical input).",
            "",
            "| model | hotleads s, own input | hotleads s, identical input | Keras reference s | own / Keras | identical / Keras | peak MB hotleads / Keras |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in report["seed_config"]:
            source = "" if r["keras_measured"] else " (recorded, not measured here)"
            keras_mb = f"{r['keras_peak_mb']:.0f}" if r["keras_peak_mb"] else "780 (recorded)"
            keras_median = np.median(r["keras_seconds"])
            identical = r.get("identical_seconds", [])
            lines.append(
                f"| {r['model']} | {', '.join(f'{s:.1f}' for s in r['seconds'])} | {', '.join(f'{s:.1f}' for s in identical)} | "
                f"{', '.join(f'{s:.1f}' for s in r['keras_seconds'])}{source} | {np.median(r['seconds']) / keras_median:.2f} | "
                f"{np.median(identical) / keras_median if identical else float('nan'):.2f} | {r['peak_mb']:.0f} / {keras_mb} |"
            )
    if "builtin" in report:
        lines += builtin_markdown(report["builtin"])
    if "formats" in report:
        lines += formats_markdown(report["formats"])
    if "tune" in report:
        lines += tune_markdown(report["tune"])
    if "tune_speed" in report:
        lines += tune_speed_markdown(report["tune_speed"])
    if "serve" in report:
        from serve_load import serve_markdown

        lines += serve_markdown(report["serve"])
    return "\n".join(lines) + "\n"


def tune_markdown(t: dict) -> list[str]:
    lines = ["", "### Tuning (`hotleads tune`): default and tuned, scored on the 20 % set aside before the search", "",
             f"Budget per model and table: {', '.join(f'{m} {n} trials' for m, n in t['budgets'].items())}; neural models at most {t['timeout'] / 60:.0f} minutes.", "",
             "| model | data | trials (pruned) | minutes | best OOF F1 | set-aside F1 default / tuned | kept | test F1 default / tuned / Bayes |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in t["runs"]:
        test = f"{r['test_default_f1']:.4f} / {r['test_tuned_f1']:.4f} / {r['test_bayes_f1']:.4f}" if "test_tuned_f1" in r else ""
        lines.append(f"| {r['model']} | {r['data']} | {r['trials']} ({r['pruned']}) | {r['seconds'] / 60:.1f} | {r['oof']:.4f} | "
                     f"{r['default_f1']:.4f} / {r['tuned_f1']:.4f} | {r['chosen']} | {test} |")  # fmt: skip
    return lines


def tune_speed_markdown(t: dict) -> list[str]:
    lines = ["", f"### Tuning speed: gbdt on train.csv, {t['trials']} trials", "",
             "Search: from the first trial's start to the last one's end (the journal's times); the whole command adds each process's preparation and the final comparison.", "",
             "| workers | pruner | whole command, minutes | search, minutes | trials per minute (search) | pruned |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    return lines + [
        f"| {r['workers']} | {r['pruner']} | {r['seconds'] / 60:.1f} | {r['search_seconds'] / 60:.1f} | {r['trials'] / (r['search_seconds'] / 60):.1f} | {r['pruned']} |"
        for r in t["runs"]
    ]


def startup_markdown(s: dict) -> list[str]:
    lines = [
        f"### Start-up: wall seconds of a fresh `hotleads` process (median of {STARTUP_RUNS})",
        "",
        f"Target (issue 11): `--version` and `--help` under {s['limit']} s; `predict` with a gbdt model imports neither torch nor matplotlib.",
        "",
        "| command | seconds |",
        "| --- | --- |",
    ]
    lines += [f"| `hotleads {name}` | {seconds:.2f} |" for name, seconds in s["seconds"].items()]
    lines += [
        "",
        "Heavy libraries a 100-row `predict` imports: " + "; ".join(f"{model}: {', '.join(names) or 'none'}" for model, names in s["imported"].items()) + ".",
        "",
    ]
    return lines


def calibration_row(model: str, c: dict, f1: float) -> str:
    return f"| {model} | {c['method']} | {c['brier_uncalibrated']:.4f} | {c['brier_calibrated']:.4f} | {f1:.4f} |"


def split_noise(r: dict) -> float:
    """How much easier the train split is than the test split (their Bayes F1s' difference):
    the part of OOF - test that the draw of the rows gives, whatever the model."""
    return r["train_bayes_f1"] - r["test_bayes_f1"]


def builtin_markdown(b: dict) -> list[str]:
    lines = [
        "",
        f"### Built-in data ({b['rows']:,} rows per seed: {b['train_rows']:,} train, {b['test_rows']:,} test)",
        "",
        "OOF F1 is compared with the train split's Bayes-optimal F1, test F1 with the test split's. "
        "OOF - test adds the split noise (train Bayes F1 - test Bayes F1) to any optimism of OOF; "
        "the last column takes the split noise out.",
        "",
        "| model | features | seed | OOF F1 | test F1 | Bayes F1 train / test | OOF share | test share | OOF - test | less split noise | fit s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in b["results"]:
        gap = r["oof_f1"] - r["test_f1"]
        lines.append(
            f"| {r['model']} | {r['features']} | {r['seed']} | {r['oof_f1']:.4f} | {r['test_f1']:.4f} | "
            f"{r['train_bayes_f1']:.4f} / {r['test_bayes_f1']:.4f} | {r['oof_share']:.1%} | {r['test_share']:.1%} | "
            f"{gap:+.4f} | {gap - split_noise(r):+.4f} | {r['fit_seconds']:.1f} |"
        )
    lines += [
        "",
        "OOF - test per model with discovered features, over the seeds it ran on:",
        "",
        "| model | seeds | mean OOF - test | largest OOF - test | mean less split noise | lowest test share |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for model in dict.fromkeys(r["model"] for r in b["results"]):
        runs = [r for r in b["results"] if r["model"] == model and r["features"] == "auto"]
        gaps = np.array([r["oof_f1"] - r["test_f1"] for r in runs])
        noise = np.array([split_noise(r) for r in runs])
        lines.append(
            f"| {model} | {len(runs)} | {gaps.mean():+.4f} | {gaps[np.argmax(np.abs(gaps))]:+.4f} | "
            f"{(gaps - noise).mean():+.4f} | {min(r['test_share'] for r in runs):.1%} |"
        )
    lines += [
        "",
        "Calibrated final predictor on the built-in data: Brier score on OOF (nested) and on the unseen test split, before -> after.",
        "",
        "| model | features | seed | method | OOF Brier | test Brier | final OOF F1 | final test F1 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in b["results"]:
        c, t = r["calibration"], r["test_brier"]
        lines.append(
            f"| {r['model']} | {r['features']} | {r['seed']} | {c['method']} | {c['brier_uncalibrated']:.4f} -> {c['brier_calibrated']:.4f} | "
            f"{t['uncalibrated']:.4f} -> {t['calibrated']:.4f} | {r['final_oof_f1']:.4f} | {r['final_test_f1']:.4f} |"
        )
    return lines


def formats_markdown(f: dict) -> list[str]:
    lines = [
        "",
        f"### Export styles: one built-in table ({f['rows']:,} rows, seed 0), gbdt on raw columns, 5-fold OOF F1",
        "",
        "Each file is read by `hotleads.io.read_table` (path only) and trained on. Target (issue 10): every style within "
        f"{f['tolerance']} F1 of the plain file, with the plain file's column roles. {f['seconds']:.0f} s in all.",
        "",
        "| style | roles found | OOF F1 | - plain | status | why | s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in f["results"]:
        f1 = "" if r["oof_f1"] is None else f"{r['oof_f1']:.4f}"
        difference = "" if r["f1_difference"] is None else f"{r['f1_difference']:+.4f}"
        why = r["why"] if len(r["why"]) <= 200 else r["why"][:199] + "…"
        lines.append(f"| {r['style']} | {roles_text(r)} | {f1} | {difference} | {'ok' if r['ok'] else 'FAIL'} | {why.replace('|', '/')} | {r['seconds']:.1f} |")
    return lines


def roles_text(r: dict) -> str:
    """'6 numeric, 3 categorical, 1 date, 1 ignored' (features only), then the columns whose role changed."""
    if not r["roles"]:
        return "-"
    counts = pd.Series(list(r["roles"].values())).value_counts()
    text = ", ".join(f"{counts[role]} {role}" for role in ("numeric", "categorical", "date", "ignored") if role in counts)
    return text + "".join(f"; {change}" for change in r["role_changes"])


if __name__ == "__main__":
    main()
