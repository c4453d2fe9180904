"""Tests of the hyper-parameter search (hotleads.tune) and `hotleads tune`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from typer.testing import CliRunner

from hotleads.cli import app
from hotleads.exceptions import ParameterError
from hotleads.io import read_table, sha256_file
from hotleads.threshold import parse_objective
from hotleads.training import TrainOptions, train
from hotleads.tune import (
    SPACES,
    SearchJob,
    TuneOptions,
    open_storage,
    open_study,
    prepare_search,
    read_params,
    run_trial,
    storage_kind,
    study_attrs,
    study_evidence,
    tune,
)

FAST = TrainOptions(models=["gbdt"], folds=3, features="raw")
runner = CliRunner()


@pytest.fixture(scope="module")
def frame(dataset: Path) -> pd.DataFrame:
    return read_table(dataset / "train.csv")


@pytest.fixture(scope="module")
def searched(frame: pd.DataFrame, dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    """Six gbdt trials on the 900-row table, in a journal file; (result, storage path)."""
    storage = str(tmp_path_factory.mktemp("tune") / "study.journal")
    options = TuneOptions(train=FAST, trials=6)
    result = tune(frame, options, storage=storage, source="train.csv", data_sha256=sha256_file(dataset / "train.csv"))
    return result, storage


def test_a_search_records_its_trials_best_parameters_and_the_set_aside_comparison(searched) -> None:
    result, _ = searched
    found = result.models["gbdt"]
    assert len(found["search"]["trials"]) == 6
    searched = {"learning_rate", "num_leaves", "min_child_samples", "colsample_bytree", "subsample", "reg_lambda"}
    assert found["params"] == {name: found["search"]["best"]["params"][name] for name in searched} | {"n_estimators": 2000, "n_iter_no_change": 50}
    assert found["oof"] == max(t["value"] for t in found["search"]["trials"] if t["state"] == "complete")
    holdout = found["holdout"]
    assert holdout["rows"] == 180  # 20 % of 900, stratified
    assert holdout["chosen"] == ("tuned" if holdout["tuned_f1"] > holdout["default_f1"] else "default")
    best = found["search"]["best_so_far"]
    assert best == sorted(best) and best[-1] == found["oof"]
    assert result.chosen_params()["gbdt"] == (found["params"] if holdout["chosen"] == "tuned" else {})


def test_best_json_trains_the_chosen_configuration_and_the_report_shows_the_search(searched, frame: pd.DataFrame, tmp_path: Path) -> None:
    from hotleads.report import build_report

    result, _ = searched
    (tmp_path / "best.json").write_text(json.dumps(result.to_dict()))
    params, search = read_params(tmp_path / "best.json")
    assert params == result.chosen_params()
    model = train(frame, TrainOptions(models=["gbdt"], folds=3, features="raw", model_params=params), search=search)
    estimator = model.predictor.members["gbdt"]
    for name, value in params["gbdt"].items():
        assert estimator.get_params()[name] == value
    assert model.evidence.search["gbdt"]["holdout"] == result.models["gbdt"]["holdout"]
    page = build_report(model)
    assert '<section id="search">' in page and "set-aside rows" in page


def test_running_again_adds_trials_to_the_same_study(searched, frame: pd.DataFrame, dataset: Path) -> None:
    result, storage = searched
    again = tune(frame, TuneOptions(train=FAST, trials=2), storage=storage, source="train.csv", data_sha256=sha256_file(dataset / "train.csv"))
    assert again.models["gbdt"]["study"] == result.models["gbdt"]["study"]
    numbers = [t["number"] for t in again.models["gbdt"]["search"]["trials"]]
    assert numbers == list(range(8))


def test_one_worker_with_a_seed_repeats_its_trials(frame: pd.DataFrame, tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        result = tune(frame, TuneOptions(train=FAST, trials=3), storage=str(tmp_path / f"{name}.journal"), source="t.csv", data_sha256="0" * 64)
        runs.append(result.models["gbdt"]["search"]["trials"])
    assert runs[0] == runs[1]


def test_a_study_made_for_other_data_is_refused(searched, frame: pd.DataFrame) -> None:
    result, storage = searched
    name = result.models["gbdt"]["study"].removesuffix("-gbdt")  # the same study, for another table
    with pytest.raises(ParameterError, match=rf"--study: the study '{name}-gbdt' was made for another search \(data_sha256 '[0-9a-f]+' there, 'ffff"):
        tune(frame, TuneOptions(train=FAST, trials=1, study=name), storage=storage, source="t.csv", data_sha256="f" * 64)


class Fold:
    """A stand-in for optuna.Trial that suggests each parameter's low end and prunes when told to."""

    def __init__(self, prune: bool) -> None:
        self.prune, self.reports, self.attrs = prune, [], {}

    def suggest_float(self, name, low, high, log=False):
        return low

    def suggest_int(self, name, low, high, log=False):
        return low

    def suggest_categorical(self, name, choices):
        return choices[0]

    def set_user_attr(self, key, value):
        self.attrs[key] = value

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune


def test_a_trial_reports_every_fold_and_the_pruner_stops_it_after_the_first(frame: pd.DataFrame) -> None:
    options = TuneOptions(train=FAST, trials=1)
    search = prepare_search(frame, options, source="t.csv")
    kept = Fold(prune=False)
    value = run_trial(kept, "gbdt", search, options)
    assert [step for step, _ in kept.reports] == [0, 1, 2] and kept.reports[-1][1] == value
    assert kept.attrs == {"host": socket.gethostname(), "pid": kept.attrs["pid"]}
    stopped = Fold(prune=True)
    with pytest.raises(optuna.TrialPruned):
        run_trial(stopped, "gbdt", search, options)
    assert [step for step, _ in stopped.reports] == [0]


class LateFold(Fold):
    """Prunes only once a step of the last of 3 folds x 3 epochs has been reported."""

    def should_prune(self):
        return self.prune and self.reports[-1][0] >= 6


def test_a_neural_trial_reports_every_epoch_and_is_pruned_within_its_first_fold(frame: pd.DataFrame) -> None:
    train_options = TrainOptions(models=["cnn"], folds=3, features="raw", model_params={"cnn": {"epochs": 3}})
    options = TuneOptions(train=train_options, trials=1)
    search = prepare_search(frame, options, source="t.csv")
    kept = Fold(prune=False)
    run_trial(kept, "cnn", search, options)
    assert [step for step, _ in kept.reports] == list(range(9))  # fold k, epoch e (from 1) at step 3k + e - 1
    assert all(0.0 <= value <= 1.0 for _, value in kept.reports)  # validation PR-AUC
    stopped = Fold(prune=True)
    with pytest.raises(optuna.TrialPruned):
        run_trial(stopped, "cnn", search, options)
    assert [step for step, _ in stopped.reports] == [0]
    finishing = LateFold(prune=True)  # would prune from the last fold's first epoch on (step 6): that fold only reports
    assert run_trial(finishing, "cnn", search, options) >= 0.0
    assert [step for step, _ in finishing.reports] == list(range(9))


def test_a_network_is_not_judged_in_the_first_half_of_its_first_fold() -> None:
    from hotleads.tune import warmup_steps

    assert warmup_steps("lstm", TuneOptions()) == 8  # 16 epochs by default
    assert warmup_steps("cnn", TuneOptions(train=TrainOptions(models=["cnn"], model_params={"cnn": {"epochs": 6}}))) == 3
    assert warmup_steps("gbdt", TuneOptions()) == 0


def test_a_trial_left_running_by_a_dead_process_is_failed_when_the_study_is_opened(frame: pd.DataFrame, tmp_path: Path) -> None:
    options = TuneOptions(train=FAST, trials=1)
    search = prepare_search(frame, options, source="t.csv", data_sha256="0" * 64)
    storage = open_storage(str(tmp_path / "s.journal"))
    study = open_study(storage, "orphans", study_attrs(options, "gbdt", search), options)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    for pid in (int(dead.stdout), None):  # a dead process's trial, and one of a live process (this one)
        trial = study.ask()
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", pid or __import__("os").getpid())
    open_study(storage, "orphans", study_attrs(options, "gbdt", search), options)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.RUNNING]


def test_the_evidence_names_its_best_from_the_trials_it_lists_while_another_worker_finishes_one() -> None:
    """The evidence reads the study once: a better trial another worker finishes meanwhile is in neither its list, its best nor its importance."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    distributions = {"num_leaves": optuna.distributions.IntDistribution(4, 64)}
    for value, leaves in ((0.70, 8), (0.75, 16), (0.75, 32)):
        study.add_trial(optuna.trial.create_trial(params={"num_leaves": leaves}, distributions=distributions, value=value))
    listed = study.get_trials

    def read_then_another_worker_finishes(*args, **kwargs):
        trials = listed(*args, **kwargs)
        study.add_trial(optuna.trial.create_trial(params={"num_leaves": 48}, distributions=distributions, value=0.80))
        return trials

    study.get_trials = read_then_another_worker_finishes
    judged = []
    importances = optuna.importance.get_param_importances

    def importance_of(study, **kwargs):
        judged.extend(t.value for t in study.get_trials())
        return importances(study, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optuna.importance, "get_param_importances", importance_of)
        evidence = study_evidence(study)
    assert [row["value"] for row in evidence["trials"]] == [0.70, 0.75, 0.75]
    assert evidence["best"] == {"number": 1, "value": 0.75, "params": {"num_leaves": 16}}  # the earliest of a tie
    assert judged == [0.70, 0.75, 0.75]  # the importance, too, from the trials listed


def test_every_model_has_a_search_space_the_estimator_accepts() -> None:
    from hotleads.registry import check_params

    for name, space in SPACES.items():
        check_params(name, space(Fold(prune=False)))


@pytest.mark.parametrize(
    ("url", "kind"),
    [("best.journal", "journal"), ("postgresql://u:p@127.0.0.1:5432/db", "rdb"), ("sqlite:///x.db", "rdb")],
)
def test_storage_kinds(url: str, kind: str) -> None:
    assert storage_kind(url) == kind


def test_an_sqlite_study_in_a_folder_not_made_yet_gets_its_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studies' / 'leads.db'}"
    study = optuna.create_study(storage=open_storage(url), study_name="s", direction="maximize")
    assert study.study_name == "s" and (tmp_path / "studies" / "leads.db").is_file()


def test_a_search_job_survives_its_trip_to_a_worker_process() -> None:
    job = SearchJob(TuneOptions(train=FAST, trials=3, pruner="none"), "s.journal", "t.csv", "0" * 64, {"sep": ";"}, {"target": "won"})
    assert SearchJob.from_json(job.to_json()) == job


def test_a_validation_split_is_refused_as_trials_are_scored_out_of_fold() -> None:
    with pytest.raises(ParameterError, match=r"^tune scores each trial on --folds 3 folds and takes no validation split; got validation=0\.1\.$"):
        TuneOptions(train=TrainOptions(models=["gbdt"], folds=3, validation=0.1)).check()


def test_objective_floors_maximise_the_other_side() -> None:
    from hotleads.tune import objective_value

    y, p = np.array([0, 0, 1, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4, 0.8, 0.9])
    assert objective_value(y, p, parse_objective("precision>=0.9")) == pytest.approx(2 / 3)
    assert objective_value(y, p, parse_objective("precision>=0.99")) == pytest.approx(2 / 3)
    assert objective_value(y, np.zeros(6), parse_objective("precision>=0.9")) == 0.0


# ---------------------------------------------------------------------------- the command line


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], prog_name="hotleads")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--trials", "0"], "--trials must be a positive number of trials; got 0."),
        (["--timeout", "-5"], "--timeout must be a positive number of seconds; got -5.0."),
        (["--models", "gbtd"], "unknown model 'gbtd'; did you mean 'gbdt'?"),
        (["--storage", "postgres://x"], "--storage 'postgres://x': not a database URL hotleads can use"),
        (["--storage", "postgresql://me:secret@127.0.0.1:9/none"], "--storage postgresql://me:***@127.0.0.1:9/none: cannot open the database"),
        (["--pruner", "hyperband"], "--pruner must be one of median, halving, none; got 'hyperband'."),
        (["--holdout-share", "0.95"], "--holdout-share must be above 0 and below 0.9; got 0.95."),
        (["--workers", "0"], "--workers must be a positive number of processes; got 0."),
    ],
)
def test_bad_tune_options_are_one_error_line_and_write_nothing(args, fragment: str, dataset: Path, tmp_path: Path) -> None:
    result = invoke("tune", dataset / "train.csv", "--out", tmp_path / "best.json", *args)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.output
    assert "secret" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_tune_with_two_workers_shares_one_study_and_trains_with_the_result(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "best.json"
    result = invoke(
        "tune", dataset / "train.csv", "--out", out, "--trials", 4, "--workers", 2, "--folds", 3, "--features", "raw", "--model-out", tmp_path / "model"
    )
    assert result.exit_code == 0, result.output
    assert "set-aside rows" in result.stdout
    assert f"hotleadstrainDATA--params{out}".replace(" ", "") in "".join(result.stdout.split())  # rich wraps long paths anywhere
    best = json.loads(out.read_text())
    trials = best["models"]["gbdt"]["search"]["trials"]
    assert sorted(t["number"] for t in trials) == [0, 1, 2, 3]  # two each: every trial run once, by one of the two
    assert len({json.dumps(t["params"], sort_keys=True) for t in trials}) == 4  # and no configuration twice
    assert (tmp_path / "best.journal").is_file() and (tmp_path / "model" / "manifest.json").is_file()
    trained = invoke("train", dataset / "train.csv", "--out", tmp_path / "again", "--params", out, "--folds", 3, "--features", "raw", "--quiet")
    assert trained.exit_code == 0, trained.output


# ---------------------------------------------------------------------------- a real PostgreSQL server

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program, as the postgres user when this is root (the server refuses to run as root)."""
    import os

    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL 15 server on a free loopback port, stopped afterwards; yields its URL."""
    import os
    import pwd
    import shutil
    import tempfile

    if not (PG_BIN / "initdb").is_file():
        pytest.skip(f"PostgreSQL 15 is not installed ({PG_BIN}); .ci/run installs Debian's postgresql-15 where apt-get can")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
    folder = Path(tempfile.mkdtemp(prefix="hotleads-pg-"))  # not under pytest's 0700 folders: the postgres user must reach it
    if os.geteuid() == 0:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    steps = [
        [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "hotleads", "--no-sync"],
        [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "start",
         "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"],
        [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "hotleads", "tune"],
    ]  # fmt: skip
    try:
        for step in steps:
            done = _as_postgres(step)
            if done.returncode != 0:
                pytest.skip(f"the PostgreSQL test server did not start ({Path(step[0]).name}: {(done.stderr or done.stdout).strip()[:300]})")
        yield f"postgresql://hotleads@127.0.0.1:{port}/tune"
    finally:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def test_two_workers_on_one_postgresql_study(postgres: str, dataset: Path, tmp_path: Path) -> None:
    """Two `hotleads tune` processes at once on one database study, as two machines would run them."""
    command = [str(Path(sys.executable).parent / "hotleads")]
    args = ["tune", str(dataset / "train.csv"), "--storage", postgres, "--study", "shared", "--trials", "3", "--folds", "3", "--features", "raw", "--quiet"]
    first = subprocess.Popen([*command, *args, "--out", str(tmp_path / "a.json")], stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*command, *args, "--out", str(tmp_path / "b.json")], stderr=subprocess.PIPE, text=True)
    for process in (first, second):
        _, errors = process.communicate(timeout=600)
        assert process.returncode == 0, errors
    trials = stored_trials(postgres, "shared-gbdt")
    assert len(trials) == 6 and all(t["state"] in ("COMPLETE", "PRUNED") for t in trials)  # 3 each, none lost
    assert sorted(t["number"] for t in trials) == list(range(6))  # each trial evaluated once, by one process
    assert len({json.dumps(t["params"], sort_keys=True) for t in trials}) == 6  # and the two drew different configurations
    best = max(t["value"] for t in trials if t["state"] == "COMPLETE")
    for out in ("a.json", "b.json"):  # each wrote the best of what the study held when it finished
        found = json.loads((tmp_path / out).read_text())["models"]["gbdt"]
        assert found["oof"] == max(t["value"] for t in found["search"]["trials"] if t["state"] == "complete") <= best


def stored_trials(url: str, name: str) -> list[dict]:
    """The trials of study ``name`` as a separate process reads them from the database (this one holds no connection)."""
    code = (
        "import json, sys\nimport optuna\nfrom hotleads.tune import open_storage\n"
        "study = optuna.load_study(study_name=sys.argv[2], storage=open_storage(sys.argv[1]))\n"
        "print(json.dumps([{'number': t.number, 'state': t.state.name, 'value': t.value, 'params': t.params} for t in study.get_trials()]))"
    )
    done = subprocess.run([sys.executable, "-c", code, url, name], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])
