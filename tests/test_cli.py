"""Tests of the ``hotleads`` command line (hotleads.cli), in-process plus one real subprocess.

Every user error must exit with status 2 and print one ``error: ...`` line on stderr that names
the file, column or row and the fix, with no traceback and without writing (or overwriting) any
output. The runner keeps stdout and stderr apart (``result.stdout`` / ``result.stderr``).
"""

from __future__ import annotations

import csv
import html
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from hotleads import __version__
from hotleads.cli import app

runner = CliRunner()


def invoke(*args: object) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def assert_ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
    assert "error:" not in result.stderr
    return result


def assert_user_error(result: Result, *fragments: str) -> str:
    """Exit 2, exactly one stderr line ``error: ...`` containing every fragment, no traceback."""
    assert result.exit_code == 2, f"exit {result.exit_code}\nstderr: {result.stderr}\n{result.exception!r}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def warnings_of(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (names and contents), to show an error wrote nothing."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_rows(path: Path, n: int = 150) -> list[list[str]]:
    """The header and the first ``n`` data rows; row i of the list is line i + 1 of the file."""
    with path.open(newline="") as handle:
        return list(itertools.islice(csv.reader(handle), n + 1))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def edited(dataset: Path, name: str, tmp_path: Path, edit, *, source: str = "train.csv") -> Path:
    rows = read_rows(dataset / source)
    edit(rows)
    return write_rows(tmp_path / name, rows)


def set_cell(row: int, column: str, value: str):
    def edit(rows: list[list[str]]) -> None:
        rows[row][rows[0].index(column)] = value

    return edit


def set_column(column: str, mapping: dict[str, str]):
    def edit(rows: list[list[str]]) -> None:
        j = rows[0].index(column)
        for row in rows[1:]:
            row[j] = mapping.get(row[j], row[j])

    return edit


def drop_columns(*columns: str):
    def edit(rows: list[list[str]]) -> None:
        keep = [j for j, name in enumerate(rows[0]) if name not in columns]
        rows[:] = [[row[j] for j in keep] for row in rows]

    return edit


# --- training data the command refuses ------------------------------------------------------


def bad_training_file(kind: str, dataset: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """A broken training table and the fragments its error line must contain."""
    if kind == "missing":
        return tmp_path / "nope.csv", ["nope.csv", "no such file"]
    if kind == "empty":
        (tmp_path / "empty.csv").write_bytes(b"")
        return tmp_path / "empty.csv", ["empty.csv", "empty", "header"]
    if kind == "header only":
        path = write_rows(tmp_path / "header.csv", read_rows(dataset / "train.csv", 0))
        return path, ["header.csv", "no rows", "add at least one data row"]
    if kind == "binary":
        (tmp_path / "blob.csv").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes() + b"\x00")
        return tmp_path / "blob.csv", ["blob.csv", "binary", ".csv, .parquet or .xlsx"]
    if kind == "spreadsheet":
        (tmp_path / "leads.xlsx").write_bytes(b"PK\x03\x04" + bytes(100))
        return tmp_path / "leads.xlsx", ["leads.xlsx", "not a readable .xlsx workbook", "export CSV"]
    if kind == "too many fields":
        return edited(dataset, "wide.csv", tmp_path, lambda rows: rows[6].append("extra")), ["wide.csv", "line 7 has 16 fields", "header has 15"]
    if kind == "too few fields":
        return edited(dataset, "short.csv", tmp_path, lambda rows: rows[9].pop()), ["short.csv", "line 10 has 14 fields", "header has 15"]
    if kind == "target not binary":
        path = edited(dataset, "seven.csv", tmp_path, set_cell(7, "is_hot_lead", "7"))
        return path, ["seven.csv", "'is_hot_lead'", "'7'", "line 8", "binary (0/1, true/false or yes/no)"]
    if kind == "one class":
        path = edited(dataset, "zeros.csv", tmp_path, set_column("is_hot_lead", {"1": "0"}))
        return path, ["zeros.csv", "only the class 0", "both hot leads (1) and others (0)"]
    if kind == "text in a number column":
        path = edited(dataset, "words.csv", tmp_path, set_cell(12, "funding_rounds", "three"))
        return path, ["words.csv", "'funding_rounds'", "'three'", "line 13", "fix or blank"]
    if kind == "duplicate ids":

        def duplicate(rows: list[list[str]]) -> None:
            rows[20][0] = rows[10][0]

        path = edited(dataset, "twice.csv", tmp_path, duplicate)
        return path, ["twice.csv", "'company_id'", "line 11, line 21", "unique"]
    if kind == "no target column":
        path = edited(dataset, "unlabelled.csv", tmp_path, drop_columns("is_hot_lead"))
        return path, ["unlabelled.csv", "no target column 'is_hot_lead'", "--target"]
    raise AssertionError(kind)


TRAINING_ERRORS = [
    "missing",
    "empty",
    "header only",
    "binary",
    "spreadsheet",
    "too many fields",
    "too few fields",
    "target not binary",
    "one class",
    "text in a number column",
    "duplicate ids",
    "no target column",
]


@pytest.mark.parametrize("kind", TRAINING_ERRORS)
def test_bad_training_data_is_one_error_line_and_writes_nothing(kind: str, dataset: Path, tmp_path: Path) -> None:
    data, fragments = bad_training_file(kind, dataset, tmp_path)
    before = snapshot(tmp_path)
    assert_user_error(invoke("train", data, "--out", tmp_path / "model", "--folds", 2), *fragments)
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "model").exists()


def test_a_failed_training_keeps_the_existing_model(dataset: Path, tmp_path: Path, copy_bundle) -> None:
    target = copy_bundle()
    data, fragments = bad_training_file("target not binary", dataset, tmp_path)
    before = snapshot(tmp_path)
    assert_user_error(invoke("train", data, "--out", target), *fragments)
    assert snapshot(tmp_path) == before


def test_train_refuses_to_replace_a_folder_that_is_not_a_model(dataset: Path, tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "report.txt").write_text("keep me")
    before = snapshot(tmp_path)
    assert_user_error(invoke("train", dataset / "train.csv", "--out", tmp_path / "results"), "results", "is not a hotleads model", "choose a new --out")
    assert snapshot(tmp_path) == before


def test_train_refuses_to_replace_a_model_folder_holding_the_users_file(dataset: Path, tmp_path: Path, copy_bundle) -> None:
    """train --out replaces an earlier model as a whole, but not the user's notes.txt put inside it: one line names it and the fix."""
    target = copy_bundle()
    (target / "notes.txt").write_text("keep me")
    before = snapshot(tmp_path)
    result = invoke("train", dataset / "train.csv", "--out", target, "--models", "logreg", "--folds", 2, "-q")
    assert_user_error(result, f"{target}: holds notes.txt, not part of the model there", "move it out of it or choose a new --out")
    assert snapshot(tmp_path) == before


def test_a_misspelt_target_gets_a_suggestion(dataset: Path, tmp_path: Path) -> None:
    assert_user_error(
        invoke("train", dataset / "train.csv", "--out", tmp_path / "model", "--target", "is_hot_leed"),
        "train.csv",
        "--target names column 'is_hot_leed'",
        "did you mean 'is_hot_lead'?",
    )
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(
    ("spelling", "mapping"),
    [("yes/no", {"1": "yes", "0": "no"}), ("true/false", {"1": "True", "0": "false"})],
)
def test_yes_no_and_true_false_targets_are_accepted(spelling: str, mapping: dict, dataset: Path, tmp_path: Path) -> None:
    data = edited(dataset, "words.csv", tmp_path, set_column("is_hot_lead", mapping))
    assert_ok(invoke("train", data, "--out", tmp_path / "model", "--models", "logreg", "--folds", 2, "--quiet"))
    assert (tmp_path / "model" / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--models", "gbtd"], ["unknown model 'gbtd'", "did you mean 'gbdt'?"]),
        (["--models", "gbdt,lgreg"], ["unknown model 'lgreg'", "did you mean 'logreg'?"]),
        (["--folds", "1"], ["--folds must be an integer >= 2; got 1."]),
        (["--threshold", "1.5"], ["--threshold must be between 0 and 1 (exclusive); got 1.5."]),
        (["--ensemble", "avg", "--models", "gbdt,logreg"], ["--ensemble must be one of mean, weighted, stack, best"]),
        (["--drop", "industri"], ["--drop names column 'industri'", "did you mean 'industry'?"]),
        (["--drop", "is_hot_lead"], ["--drop names 'is_hot_lead', the target, which is never a feature"]),
        (["--drop", "company_id"], ["--drop names 'company_id', the id column", "--id"]),
        (["--validation", "0.6"], ["--validation must be a share of the rows above 0 and at most 0.5 (e.g. 0.1); got 0.6."]),
        (["--validation", "0"], ["--validation must be a share of the rows above 0 and at most 0.5 (e.g. 0.1); got 0.0."]),
    ],
)
def test_bad_options_are_refused(args: list[str], fragments: list[str], dataset: Path, tmp_path: Path) -> None:
    assert_user_error(invoke("train", dataset / "train.csv", "--out", tmp_path / "model", *args), *fragments)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["generate", "run"])
def test_too_few_generated_rows_are_refused(command: str, tmp_path: Path) -> None:
    assert_user_error(invoke(command, "--out", tmp_path / "out", "--rows", 5), "--rows must be at least 20; got 5.")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("history", [False, True], ids=["companies", "history"])
def test_a_failed_generate_removes_the_folders_it_created_and_keeps_the_rest(history: bool, tmp_path: Path, monkeypatch) -> None:
    """The third file cannot be written (a full disk): no new file, no folder left behind, a folder that was there untouched."""
    import errno

    import hotleads.synth

    writes, write_csv = [], hotleads.synth.write_csv

    def full_disk_at_the_third(frame, path):
        writes.append(path)
        if len(writes) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write_csv(frame, path)

    monkeypatch.setattr(hotleads.synth, "write_csv", full_disk_at_the_third)
    options = ["--rows", 40, "-q", *(["--history"] if history else [])]
    assert_user_error(invoke("generate", "--out", tmp_path / "new" / "data", *options), "new/data/holdout.csv: No space left on device")
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "data"
    existing.mkdir()
    bayes = json.dumps({"generator": "hotleads.synth v1"}).encode()  # the last run's data, which generate replaces
    (existing / "bayes.json").write_bytes(bayes)
    (existing / "train.csv").write_text("the last run's\n")
    (existing / "notes.txt").write_text("mine\n")
    writes.clear()
    assert_user_error(invoke("generate", "--out", existing, *options), "data/holdout.csv: No space left on device")
    assert snapshot(existing) == {"bayes.json": bayes, "notes.txt": b"mine\n", "train.csv": b"the last run's\n"}
    assert sorted(p.name for p in existing.iterdir()) == ["bayes.json", "notes.txt", "train.csv"]  # no staging folder left either


@pytest.mark.parametrize(
    ("history", "theirs", "named"),
    [
        (False, {"train.csv": "my real leads\n"}, "already holds train.csv, not an earlier generate's data"),
        (False, {"test.csv": "a\n", "holdout.csv": "b\n"}, "already holds test.csv and holdout.csv, not an earlier generate's data"),
        (False, {"bayes.json": '{"f1": 0.9}\n', "train.csv": "mine\n"}, "already holds train.csv and bayes.json"),  # not the generator's
        (True, {"history.csv": "company_id,month\n"}, "already holds history.csv"),
    ],
    ids=["train", "two", "foreign-bayes", "history"],
)
def test_generate_refuses_to_replace_files_it_did_not_write(history: bool, theirs: dict, named: str, tmp_path: Path) -> None:
    """The user's own train.csv (or any file of generate's names) in --out is never replaced without --force: one line names it and the fix."""
    for name, text in {**theirs, "notes.txt": "mine\n"}.items():
        (tmp_path / name).write_text(text)
    before = snapshot(tmp_path)
    result = invoke("generate", "--out", tmp_path, "--rows", 40, "-q", *(["--history"] if history else []))
    assert_user_error(result, f"--out {tmp_path}: {named}", "choose another --out folder, or pass --force to replace")
    assert snapshot(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == sorted(before)


def test_generate_again_replaces_its_own_data_and_force_replaces_the_users(tmp_path: Path) -> None:
    """Run twice (as `make run` and README do), generate writes its data anew; --force replaces the user's files too. Other files stay."""
    out = tmp_path / "data"
    assert_ok(invoke("generate", "--out", out, "--rows", 40, "--seed", 1, "-q"))
    first = snapshot(out)
    (out / "notes.txt").write_text("mine\n")
    assert_ok(invoke("generate", "--out", out, "--rows", 40, "--seed", 2, "-q"))
    assert_ok(invoke("generate", "--out", out, "--rows", 40, "--history", "-q"))  # an earlier generate's folder, whichever kind
    assert_ok(invoke("generate", "--out", out, "--rows", 40, "--seed", 1, "-q"))  # and the --history run's history.csv goes
    assert snapshot(out) == first | {"notes.txt": b"mine\n"}
    (out / "bayes.json").write_text('{"mine": true}\n')  # now the folder is not generate's any more
    assert_user_error(invoke("generate", "--out", out, "--rows", 40, "--seed", 1, "-q"), "pass --force")
    assert_ok(invoke("generate", "--out", out, "--rows", 40, "--seed", 1, "--force", "-q"))
    assert snapshot(out) == first | {"notes.txt": b"mine\n"}


def test_generate_history_refuses_the_users_history_beside_its_earlier_data(tmp_path: Path) -> None:
    """generate, then the user's own history.csv in that folder, then generate --history: their file is not the earlier run's
    (its bayes.json records the tables it wrote, with their checksums), so it is refused, as their train.csv would be."""
    out = tmp_path / "data"
    assert_ok(invoke("generate", "--out", out, "--rows", 40, "-q"))
    (out / "history.csv").write_text("company_id,month,visits\nCOMP_000001,2024-01,3\n")
    before = snapshot(out)
    assert_user_error(
        invoke("generate", "--out", out, "--rows", 40, "--history", "-q"),
        f"--out {out}: already holds history.csv, not an earlier generate's data",
        "or pass --force to replace it.",
    )
    assert snapshot(out) == before
    (out / "train.csv").write_text("my real leads\n")  # copied over the generated one
    assert_user_error(invoke("generate", "--out", out, "--rows", 40, "-q"), f"--out {out}: already holds train.csv, changed since generate wrote it, which")
    assert_ok(invoke("generate", "--out", out, "--rows", 40, "-q", "--force"))
    assert (out / "history.csv").read_bytes() == before["history.csv"]  # --force replaces what it writes; this is no file of its


def test_run_refuses_a_data_folder_holding_the_users_files(tmp_path: Path) -> None:
    (tmp_path / "out" / "data").mkdir(parents=True)
    (tmp_path / "out" / "data" / "holdout.csv").write_text("my leads\n")
    result = invoke("run", "--out", tmp_path / "out", "--rows", 40, "-q")
    assert_user_error(result, f"--out {tmp_path / 'out'}: {tmp_path / 'out' / 'data'} already holds holdout.csv, not an earlier run's data", "move it away")
    assert snapshot(tmp_path) == {"out/data/holdout.csv": b"my leads\n"}


# --- scoring data and models the command refuses --------------------------------------------


GOOD_SUBMISSION = "Id,Prediction\nkeep,1\n"


def test_prediction_data_missing_columns_lists_them(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    data = edited(dataset, "partial.csv", tmp_path, drop_columns("industry", "total_funding"), source="holdout.csv")
    out = tmp_path / "submission.csv"
    out.write_text(GOOD_SUBMISSION)
    assert_user_error(
        invoke("predict", model_dir, data, "--out", out, "--scores", tmp_path / "scores.csv"),
        "partial.csv",
        "missing column(s) ['total_funding', 'industry']",
        "add them",
    )
    assert out.read_text() == GOOD_SUBMISSION
    assert not (tmp_path / "scores.csv").exists()


def test_text_in_a_number_column_at_predict_time(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    data = edited(dataset, "words.csv", tmp_path, set_cell(4, "job_postings_30d", "lots"), source="holdout.csv")
    assert_user_error(  # predict has no --na-values: its tokens are the model's
        invoke("predict", model_dir, data, "--out", tmp_path / "s.csv"), "'job_postings_30d'", "'lots'", "line 5", "train the model again with --na-values lots"
    )
    assert not (tmp_path / "s.csv").exists()


def damaged_bundle(kind: str, copy_bundle, tmp_path: Path) -> tuple[Path, list[str]]:
    if kind == "edited model file":
        target = copy_bundle()
        name = next(p for p in sorted((target / "models").iterdir()))
        with name.open("a") as handle:
            handle.write("\n")
        return target, [f"models/{name.name}", "does not match its checksum"]
    if kind == "foreign folder":
        (tmp_path / "stuff").mkdir()
        (tmp_path / "stuff" / "model.pkl").write_bytes(b"\x80\x04")
        return tmp_path / "stuff", ["stuff", "no manifest.json", "--out folder of `hotleads train`"]
    if kind == "other format version":
        target = copy_bundle()
        manifest = json.loads((target / "manifest.json").read_text())
        manifest["format_version"] = 99
        (target / "manifest.json").write_text(json.dumps(manifest))
        return target, ["model format 99 is not supported", "retrain the model"]
    if kind == "no folder":
        return tmp_path / "nothing", ["nothing", "no such model directory", "hotleads train"]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["edited model file", "foreign folder", "other format version", "no folder"])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_unusable_model_directories_are_refused(command: str, kind: str, copy_bundle, dataset: Path, tmp_path: Path) -> None:
    bundle, fragments = damaged_bundle(kind, copy_bundle, tmp_path)
    out = tmp_path / "submission.csv"
    out.write_text(GOOD_SUBMISSION)
    extra = ["--out", out] if command == "predict" else []
    assert_user_error(invoke(command, bundle, dataset / "test.csv", *extra), *fragments)
    assert out.read_text() == GOOD_SUBMISSION


def test_predict_refuses_a_folder_as_output_file(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    assert_user_error(invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path), str(tmp_path), "is a folder")
    assert list(tmp_path.iterdir()) == []


def test_predict_never_writes_over_the_table_it_scores(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    table = tmp_path / "leads.csv"
    table.write_bytes((dataset / "holdout.csv").read_bytes())
    before = table.read_bytes()
    assert_user_error(invoke("predict", model_dir, table, "--out", table), "--out", "is the table being scored")
    assert_user_error(invoke("predict", model_dir, table, "--out", tmp_path / "s.csv", "--scores", table), "--scores", "is the table being scored")
    # in the folder or the pattern being scored, the output would be read as input by the next run
    assert_user_error(invoke("predict", model_dir, tmp_path, "--out", tmp_path / "submission.csv"), "inside the folder being scored")
    assert_user_error(invoke("predict", model_dir, tmp_path / "*.csv", "--out", tmp_path / "sub.csv"), "matches the pattern being scored")
    assert table.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["leads.csv"]
    assert_ok(invoke("predict", model_dir, tmp_path / "*.csv", "--out", tmp_path / "sub.parquet", "-q"))  # not a file the pattern takes


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--out", "sub.xlsx"], ["--out sub.xlsx: the submission is written as CSV, or Parquet", "end the path in .csv, .parquet, .pq, .txt (or give it no"]),
        (["--scores", "leads.json"], ["--scores leads.json: the lead list is written as CSV, Parquet or an Excel sheet", ".xlsx"]),
    ],
)
def test_an_output_ending_that_promises_another_kind_of_file_is_refused(args, fragments, model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_user_error(invoke("predict", model_dir, dataset / "holdout.csv", *args), *fragments)
    assert_user_error(invoke("report", model_dir, "--out", "r.pdf"), "--out r.pdf: the report is an HTML page", ".html")
    assert list(tmp_path.iterdir()) == []
    assert_ok(invoke("predict", model_dir, dataset / "holdout.csv", "--out", "submission_2025.01", "-q"))  # a dot in a name is no ending


def test_a_write_the_system_refuses_is_one_error_line(model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch) -> None:
    import errno

    import hotleads.stream

    def full_disk(*args, **kwargs):  # as the system answers a write on a full disk: the hidden temporary file named
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".submission.csv.tmp"))

    monkeypatch.setattr(hotleads.stream, "_write", full_disk)
    result = invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path / "submission.csv")
    assert_user_error(result, f"error: {tmp_path}: No space left on device; free some space or write elsewhere.")

    def arrow_full_disk(*args, **kwargs):  # Arrow's writers: no file name, no errno field, the errno in the text
        raise OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")

    monkeypatch.setattr(hotleads.stream, "_write", arrow_full_disk)
    result = invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path / "submission.csv")
    assert_user_error(result, "error: could not write an output: No space left on device; free some space or write elsewhere.")


def test_a_refused_write_names_the_file_or_folder_it_was_writing(model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch) -> None:
    """A full disk or a file size limit names no file in the system's error: the line names it all the same."""
    import errno

    import hotleads.bundle
    import hotleads.stream

    def too_large(*args, **kwargs):
        raise OSError(errno.EFBIG, "File too large")

    with monkeypatch.context() as patch:
        patch.setattr(pd.DataFrame, "to_csv", too_large)
        result = invoke("generate", "--out", tmp_path / "new" / "data", "--rows", 40, "-q")
    assert_user_error(result, f"error: {tmp_path / 'new' / 'data' / 'train.csv'}: File too large; check the path and try again.")
    with monkeypatch.context() as patch:
        patch.setattr(hotleads.bundle, "write_json", too_large)
        result = invoke("train", dataset / "train.csv", "--out", tmp_path / "model", "--models", "logreg", "--folds", 2, "-q")
    assert_user_error(result, f"error: {tmp_path / 'model'}: File too large; check the path and try again.")
    assert list(tmp_path.iterdir()) == []

    def arrow_full_disk(*args, **kwargs):  # Arrow's writers: no file name, no errno field, the errno in the text
        raise OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")

    with monkeypatch.context() as patch:  # the parts predict spills beside --out, in a hidden folder: that folder's is named
        patch.setattr(hotleads.stream.pa_parquet, "write_table", arrow_full_disk)
        result = invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path / "out" / "submission.csv")
    assert_user_error(result, f"error: {tmp_path}: No space left on device; free some space or write elsewhere.")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform != "linux", reason="a file size limit set by bash's ulimit")
def test_a_file_size_limit_names_the_file_in_a_real_process(tmp_path: Path) -> None:
    """The tester's case: `ulimit -f 20` (SIGXFSZ ignored, so write() fails with EFBIG) and generate into a new folder."""
    code = "from hotleads.cli import app; app()"
    completed = subprocess.run(
        ["bash", "-c", f"trap '' XFSZ; ulimit -f 20; exec {sys.executable} -c '{code}' generate --rows 2000 --out new1/a/b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.splitlines() == ["error: new1/a/b/train.csv: File too large; check the path and try again."]
    assert list(tmp_path.iterdir()) == []


def test_evaluate_needs_the_target_column(model_dir: Path, dataset: Path) -> None:
    assert_user_error(
        invoke("evaluate", model_dir, dataset / "holdout.csv"),
        "holdout.csv",
        "missing column(s) ['is_hot_lead']",
        "to score an unlabelled table, use hotleads predict",
    )


def test_a_top_k_that_covers_every_row_is_warned_about(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    rows = len(pd.read_csv(dataset / "holdout.csv"))
    result = assert_ok(invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--top-k", rows, "-q"))
    assert warnings_of(result) == [f"warning: --top-k {rows:,} is not below the {rows:,} rows scored: every company is labelled a hot lead."]
    assert pd.read_csv(tmp_path / "s.csv")["Prediction"].eq(1).all()
    assert warnings_of(assert_ok(invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--top-k", rows - 1, "-q"))) == []


def test_missing_data_file_at_predict_time(model_dir: Path, tmp_path: Path) -> None:
    assert_user_error(invoke("predict", model_dir, tmp_path / "nope.csv", "--out", tmp_path / "s.csv"), "nope.csv", "no such file")
    assert list(tmp_path.iterdir()) == []


# --- what is handled with a warning -------------------------------------------------------------


def test_extra_columns_are_ignored_with_a_warning(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    def add_column(rows: list[list[str]]) -> None:
        rows[0].append("sales_notes")
        for row in rows[1:]:
            row.append("called twice")

    data = edited(dataset, "extra.csv", tmp_path, add_column, source="holdout.csv")
    result = assert_ok(invoke("predict", model_dir, data, "--out", tmp_path / "s.csv"))
    assert any("sales_notes" in line and "ignoring" in line for line in warnings_of(result)), result.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 150


def test_unseen_categories_are_scored_with_a_warning(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    data = edited(dataset, "new.csv", tmp_path, set_column("industry", {"Retail": "Biotech"}), source="holdout.csv")
    result = assert_ok(invoke("predict", model_dir, data, "--out", tmp_path / "s.csv"))
    assert any("'industry'" in line and "Biotech" in line for line in warnings_of(result)), result.stderr
    assert pd.read_csv(tmp_path / "s.csv")["Prediction"].isin([0, 1]).all()


def test_without_an_id_column_the_id_is_the_row_number(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    data = edited(dataset, "anonymous.csv", tmp_path, drop_columns("company_id"), source="holdout.csv")
    assert_ok(invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--scores", tmp_path / "scores.csv"))
    submission = pd.read_csv(tmp_path / "s.csv")
    assert submission["Id"].tolist() == list(range(150))
    assert sorted(pd.read_csv(tmp_path / "scores.csv")["company_id"]) == list(range(150))


# --- end to end -------------------------------------------------------------------------------


TRAIN_ARGS = ["--models", "gbdt", "--folds", "2", "--seed", "3"]  # what auto would choose is test_auto.py's business


@pytest.fixture(scope="module")
def cli_model(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gbdt model trained with the command line (2 folds, seed 3)."""
    out = tmp_path_factory.mktemp("cli") / "model"
    assert_ok(invoke("train", dataset / "train.csv", "--out", out, *TRAIN_ARGS))
    return out


@pytest.fixture(scope="module")
def predicted(cli_model: Path, dataset: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """(submission, scores, scores path) of the holdout table."""
    out = cli_model.parent
    result = assert_ok(invoke("predict", cli_model, dataset / "holdout.csv", "--out", out / "submission.csv", "--scores", out / "scores.csv"))
    assert "wrote" in result.stdout
    assert result.stderr == ""
    read = {"dtype": {"Id": str, "company_id": str}}
    return pd.read_csv(out / "submission.csv", **read), pd.read_csv(out / "scores.csv", **read), out / "scores.csv"


def saved(model_dir: Path, part: str) -> dict:
    """``predictor`` or ``evidence``: that part of a bundle, as saved."""
    return json.loads((model_dir / f"{part}.json").read_text())


def test_train_saves_the_model_with_its_options(cli_model: Path) -> None:
    evidence = saved(cli_model, "evidence")
    assert evidence["folds"] == 2 and evidence["seed"] == 3
    assert saved(cli_model, "predictor")["threshold"]["source"] == "oof-f1"


def test_submission_has_one_prediction_per_input_row(predicted, dataset: Path) -> None:
    submission, _, _ = predicted
    holdout = pd.read_csv(dataset / "holdout.csv", dtype={"company_id": str})
    assert list(submission.columns) == ["Id", "Prediction"]
    assert submission["Id"].tolist() == holdout["company_id"].tolist()
    assert set(submission["Prediction"]) <= {0, 1}
    assert 0 < submission["Prediction"].sum() < len(submission)


def test_scores_file_ranks_the_companies(predicted, cli_model: Path) -> None:
    submission, scores, _ = predicted
    assert list(scores.columns) == ["company_id", "name", "probability", "lead_score", "rank", "tier", "prediction", "reason_1", "reason_2", "reason_3"]
    assert scores["rank"].tolist() == list(range(1, len(scores) + 1))
    assert scores["probability"].is_monotonic_decreasing
    assert scores["lead_score"].between(0, 100).all()
    np.testing.assert_array_equal(scores["lead_score"], np.rint(scores["probability"] * 100))
    threshold = saved(cli_model, "predictor")["threshold"]["value"]
    by_id = submission.set_index("Id")["Prediction"]
    np.testing.assert_array_equal(by_id[scores["company_id"]].to_numpy(), (scores["probability"] >= threshold).astype(int))


def test_evaluate_prints_metrics_and_json(cli_model: Path, dataset: Path) -> None:
    table = assert_ok(invoke("evaluate", cli_model, dataset / "test.csv"))
    assert "F1" in table.stdout and "ROC-AUC" in table.stdout
    result = json.loads(assert_ok(invoke("evaluate", cli_model, dataset / "test.csv", "--json")).stdout)
    metrics = result["metrics"]
    for key in ("accuracy", "precision", "recall", "f1", "pr_auc", "roc_auc", "confusion", "positive_rate"):
        assert key in metrics, key
    assert set(metrics["confusion"]) == {"tn", "fp", "fn", "tp"}
    assert sum(metrics["confusion"].values()) == 300
    assert 0.5 < metrics["f1"] <= 1 and 0.8 < metrics["roc_auc"] <= 1
    assert set(result["members"]) == {"gbdt"}


def test_a_comma_ending_every_line_is_no_column_to_warn_about(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    for name in ("train.csv", "holdout.csv"):
        write_rows(tmp_path / name, [[*row, ""] for row in read_rows(dataset / name, n=10**6)])  # "...,is_hot_lead," and so on
    shown = assert_ok(invoke("schema", tmp_path / "train.csv"))
    assert "column 16" in shown.stdout and "(blank header)" in shown.stdout and "Unnamed" not in shown.stdout
    assert json.loads(assert_ok(invoke("schema", tmp_path / "train.csv", "--json")).stdout)[-1] == {
        "column": "Unnamed: 15",  # the name --drop and the model use
        "role": "ignored",
        "parse": "",
        "missing": 1.0,
        "reason": "empty",
    }
    predicted = assert_ok(invoke("predict", cli_model, tmp_path / "holdout.csv", "--out", tmp_path / "submission.csv", "--quiet"))
    assert predicted.stderr == ""  # was: ignoring column(s) the model does not use: Unnamed: 14


@pytest.fixture(scope="module")
def hot_cold(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a logreg trained with --positive Hot on train.csv labelled Hot/Cold, test.csv so labelled with 'Warm' in lines 2-4)."""
    folder = tmp_path_factory.mktemp("hot-cold")
    for name in ("train.csv", "test.csv"):
        rows = read_rows(dataset / name, n=10**6)
        column = rows[0].index("is_hot_lead")
        for row in rows[1:]:
            row[column] = {"1": "Hot", "0": "Cold"}[row[column]]
        if name == "test.csv":
            for row in rows[1:4]:
                row[column] = "Warm"
        write_rows(folder / name, rows)
    assert_ok(invoke("train", folder / "train.csv", "--positive", "Hot", "--out", folder / "model", "--models", "logreg", "--folds", 2, "--quiet"))
    return folder / "model", folder / "test.csv"


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_scoring_labels_names_a_target_value_training_never_saw(hot_cold: tuple[Path, Path], command: str, tmp_path: Path) -> None:
    model, test = hot_cold
    assert saved(model, "predictor")["schema"]["labels"] == ["Cold", "Hot"]
    result = assert_ok(invoke(command, model, test, *(["--out", tmp_path / "report.html"] if command == "report" else [])))
    assert warnings_of(result) == [
        f"warning: {test}: target 'is_hot_lead' has value(s) the training table did not have: 'Warm' (3 rows); they are counted as not hot (0), "
        "as --positive Hot counts every other value. If that is wrong, train again with them in --positive (hot leads) or --negative "
        "(not hot; rows in neither list are then left out)."
    ]
    if command == "report":  # and the page says it beside the metrics it changes
        assert html.escape(warnings_of(result)[0].removeprefix("warning: ")) in (tmp_path / "report.html").read_text()


def test_same_seed_gives_identical_predictions(predicted, dataset: Path, tmp_path: Path) -> None:
    _, _, first_scores = predicted
    assert_ok(invoke("train", dataset / "train.csv", "--out", tmp_path / "again", *TRAIN_ARGS, "--quiet"))
    assert_ok(invoke("predict", tmp_path / "again", dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--scores", tmp_path / "scores.csv", "--quiet"))
    assert (tmp_path / "scores.csv").read_bytes() == first_scores.read_bytes()


def test_stacked_ensemble_lists_members_and_ensemble(dataset: Path, tmp_path: Path) -> None:
    result = assert_ok(invoke("train", dataset / "train.csv", "--out", tmp_path / "model", "--models", "gbdt,logreg", "--ensemble", "stack", "--folds", 2))
    board = saved(tmp_path / "model", "evidence")["leaderboard"]
    assert [(row["model"], row["final"]) for row in board] == [("gbdt", False), ("logreg", False), ("ensemble", True)]
    assert saved(tmp_path / "model", "predictor")["combiner"]["method"] == "stack"
    for name in ("gbdt", "logreg", "ensemble"):
        assert name in result.stdout
    assert "final: ensemble" in result.stdout


def test_a_fixed_threshold_is_honoured(dataset: Path, tmp_path: Path) -> None:
    assert_ok(invoke("train", dataset / "train.csv", "--out", tmp_path / "model", "--models", "logreg", "--threshold", 0.3, "--folds", 2, "--quiet"))
    assert saved(tmp_path / "model", "predictor")["threshold"] == {"value": 0.3, "source": "user", "objective": None}
    assert_ok(invoke("predict", tmp_path / "model", dataset / "test.csv", "--out", tmp_path / "s.csv", "--scores", tmp_path / "scores.csv", "--quiet"))
    scores = pd.read_csv(tmp_path / "scores.csv", dtype={"company_id": str})
    submission = pd.read_csv(tmp_path / "s.csv", dtype={"Id": str}).set_index("Id")
    np.testing.assert_array_equal(submission.loc[scores["company_id"], "Prediction"], (scores["probability"] >= 0.3).astype(int))
    assert scores["prediction"].tolist() == (scores["probability"] >= 0.3).astype(int).tolist()


def test_run_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert_ok(invoke("run", "--out", out, "--rows", 2000, "--quiet"))
    for name in ("submission.csv", "scores.csv", "metrics.json", "report.html", "model/manifest.json"):
        assert (out / name).is_file(), name
    assert "Leaderboard" in (out / "report.html").read_text()
    scores = pd.read_csv(out / "scores.csv")
    assert scores["reason_1"].str.endswith(("raises the score", "lowers the score")).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.5 < metrics["test"]["metrics"]["f1"] <= 1
    assert 0.5 < metrics["bayes"]["test_f1"] <= 1
    assert metrics["test_f1_share_of_bayes"] == pytest.approx(metrics["test"]["metrics"]["f1"] / metrics["bayes"]["test_f1"])
    submission = pd.read_csv(out / "submission.csv")
    assert list(submission.columns) == ["Id", "Prediction"] and len(submission) == 400


def test_report_writes_one_self_contained_page(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = assert_ok(invoke("report", cli_model, dataset / "test.csv", "--out", out))
    assert "wrote" in result.stdout and out.is_file()
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "test.csv" in page
    assert "http://" not in page and "https://" not in page
    assert warnings_of(result) == []


def test_report_on_an_unlabelled_table_says_it_has_no_metrics(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    result = assert_ok(invoke("report", cli_model, dataset / "holdout.csv", "--out", tmp_path / "report.html"))
    [warning] = warnings_of(result)
    assert "holdout.csv: no target column 'is_hot_lead', so the report has no test metrics for it" in warning and "--scoring" in warning


def test_reports_unseen_category_warnings_name_the_table_they_are_about(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    """A report reads a labelled table and a table to score: each warning about categories training never saw names its file."""
    paths = {}
    for name, category in (("test.csv", "Mining"), ("holdout.csv", "Aerospace")):
        frame = pd.read_csv(dataset / name)
        frame.loc[:2, "industry"] = category
        frame.to_csv(paths.setdefault(name, tmp_path / f"new-{name}"), index=False)
    result = assert_ok(invoke("report", cli_model, paths["test.csv"], "--scoring", paths["holdout.csv"], "--out", tmp_path / "report.html"))
    assert sorted(w for w in warnings_of(result) if "not seen in training" in w) == [
        f"warning: {paths['holdout.csv']}: column 'industry': 3 row(s) have categories not seen in training (['Aerospace']); scored as unknown",
        f"warning: {paths['test.csv']}: column 'industry': 3 row(s) have categories not seen in training (['Mining']); scored as unknown",
    ]


def test_report_user_errors_write_nothing(cli_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert_user_error(invoke("report", tmp_path / "nope", "--out", out), "no such model directory")
    assert_user_error(invoke("report", cli_model, tmp_path / "missing.csv", "--out", out), "missing.csv")
    assert not out.exists()


def test_version() -> None:
    assert assert_ok(invoke("--version")).stdout.strip() == f"hotleads {__version__}"


# --- the installed command ----------------------------------------------------------------------


def test_installed_command_reports_a_user_error_in_one_line(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "hotleads"
    completed = subprocess.run(
        [str(command), "train", "missing.csv", "--out", "model"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr.splitlines() == [f"error: missing.csv: no such file; check the path (current folder: {tmp_path})."]
    assert list(tmp_path.iterdir()) == []


# --- lead lists: --top, --scores .xlsx, --top-k; objectives and calibration (issue #5) --------

import openpyxl  # noqa: E402  (imports of this section kept with it: the file is appended to)
from sklearn.metrics import precision_score, recall_score  # noqa: E402

from hotleads import bundle, scoring  # noqa: E402
from hotleads.io import read_table  # noqa: E402

FAST_TRAIN = [*TRAIN_ARGS, "--features", "raw"]  # feature discovery is not what these tests are about


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a rich table printed with lines between rows, each cell's wrapped lines joined."""
    rows, current = [], None
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
            current = cells if current is None else [f"{a} {b}" for a, b in zip(current, cells, strict=True)]
        elif line.startswith(("├", "└")) and current is not None:
            rows.append([" ".join(cell.split()) for cell in current])
            current = None
    return rows


def read_leads(path: Path) -> pd.DataFrame:
    reader = pd.read_excel if path.suffix == ".xlsx" else pd.read_csv
    return reader(path, dtype={"company_id": str}).fillna({f"reason_{i}": "" for i in (1, 2, 3)})


@pytest.fixture(scope="module")
def lead_list(cli_model: Path, dataset: Path) -> tuple[Result, pd.DataFrame, Path]:
    """(the result of ``predict --top 5 --scores leads.csv``, the lead list, its folder)."""
    out = cli_model.parent / "leads"
    out.mkdir()
    result = assert_ok(invoke("predict", cli_model, dataset / "holdout.csv", "--out", out / "s.csv", "--top", 5, "--scores", out / "leads.csv"))
    return result, read_leads(out / "leads.csv"), out


def test_top_prints_the_best_ranked_leads_with_names_tiers_and_reasons(lead_list) -> None:
    result, leads, _ = lead_list
    assert "Top 5 of 300 companies" in result.stdout
    rows = table_rows(result.stdout)
    expected = [
        [str(lead.rank), lead.company_id, lead.name, str(lead.lead_score), lead.tier, " ".join(r for r in (lead.reason_1, lead.reason_2, lead.reason_3) if r)]
        for lead in leads.head(5).itertuples(index=False)
    ]
    assert rows == expected
    assert [row[0] for row in rows] == ["1", "2", "3", "4", "5"]
    assert all(row[5].endswith(("raises the score", "lowers the score")) for row in rows)
    assert leads.loc[5, "company_id"] not in result.stdout  # only the top 5


def test_the_lead_list_has_names_tiers_and_reasons_best_first(lead_list, cli_model: Path) -> None:
    _, leads, _ = lead_list
    assert list(leads.columns) == ["company_id", "name", "probability", "lead_score", "rank", "tier", "prediction", "reason_1", "reason_2", "reason_3"]
    assert leads["rank"].tolist() == list(range(1, 301))
    threshold = saved(cli_model, "predictor")["threshold"]["value"]
    expected_tier = np.select([leads["probability"] >= threshold, leads["probability"] >= threshold / 2], ["hot", "warm"], "cold")
    assert leads["tier"].tolist() == expected_tier.tolist()
    assert set(leads["tier"]) == {"hot", "warm", "cold"}
    assert (leads["reason_1"] != "").all()
    assert leads["reason_1"].str.contains(r"^[A-Z][^:]*: .+ — (?:raises|lowers) the score$").all()


def test_predict_without_top_prints_no_table(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    result = assert_ok(invoke("predict", cli_model, dataset / "holdout.csv", "--out", tmp_path / "s.csv"))
    assert "Top " not in result.stdout and table_rows(result.stdout) == []


def test_xlsx_lead_list_has_the_rows_of_the_csv_one(lead_list, cli_model: Path, dataset: Path) -> None:
    _, leads, out = lead_list
    result = assert_ok(invoke("predict", cli_model, dataset / "holdout.csv", "--out", out / "s2.csv", "--scores", out / "leads.xlsx"))
    assert "lead list in" in result.stdout and "leads.xlsx" in result.stdout
    workbook = openpyxl.load_workbook(out / "leads.xlsx")
    assert workbook.sheetnames == ["leads"] and workbook["leads"].freeze_panes == "A2"
    excel = read_leads(out / "leads.xlsx")
    pd.testing.assert_frame_equal(excel, leads, check_dtype=False)
    assert (out / "s2.csv").read_bytes() == (out / "s.csv").read_bytes()


def test_scores_as_an_old_excel_format_is_refused(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    assert_user_error(
        invoke("predict", cli_model, dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--scores", tmp_path / "leads.xls"),
        "leads.xls: hotleads writes spreadsheets as .xlsx only",
    )
    assert list(tmp_path.iterdir()) == []


def test_top_k_labels_exactly_the_k_best_ranked(lead_list, cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    _, by_threshold, _ = lead_list
    assert by_threshold["prediction"].sum() != 7  # so the count below comes from --top-k, not the threshold
    result = assert_ok(invoke("predict", cli_model, dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--scores", tmp_path / "leads.csv", "--top-k", 7))
    assert "7 hot leads (the 7 best-ranked)" in result.stdout
    leads = read_leads(tmp_path / "leads.csv")
    assert leads["prediction"].tolist() == [1] * 7 + [0] * 293
    assert leads["company_id"].tolist() == by_threshold["company_id"].tolist()  # the ranking itself is unchanged
    submission = pd.read_csv(tmp_path / "s.csv", dtype={"Id": str})
    assert submission["Prediction"].sum() == 7
    assert set(submission.loc[submission["Prediction"] == 1, "Id"]) == set(leads["company_id"].head(7))


def test_top_k_beyond_the_rows_labels_every_row(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    assert_ok(invoke("predict", cli_model, dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--top-k", 1000, "--quiet"))
    assert pd.read_csv(tmp_path / "s.csv")["Prediction"].tolist() == [1] * 300


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--top-k", "0"], "--top-k must be a positive number of companies; got 0."),
        (["--top-k", "-3"], "--top-k must be a positive number of companies; got -3."),
        (["--top", "-1"], "--top must be 0 or a positive number of leads; got -1."),
    ],
)
def test_bad_lead_counts_are_user_errors(args: list[str], fragment: str, cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    assert_user_error(invoke("predict", cli_model, dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--scores", tmp_path / "l.csv", *args), fragment)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("spelling", ["same", "other"])
def test_scores_onto_the_submission_is_refused_and_overwrites_nothing(spelling: str, cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    out = tmp_path / "s.csv"
    out.write_text("keep me\n")
    scores = out if spelling == "same" else tmp_path / "sub" / ".." / "s.csv"
    before = snapshot(tmp_path)
    assert_user_error(
        invoke("predict", cli_model, dataset / "holdout.csv", "--out", out, "--scores", scores),
        "--scores and --out are both",
        "give the lead list its own file",
    )
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("objective", ["precision>=0.9", "recall>=0.8"])
def test_train_objective_sets_a_threshold_that_meets_it_out_of_fold(objective: str, dataset: Path, tmp_path: Path) -> None:
    result = assert_ok(invoke("train", dataset / "train.csv", "--out", tmp_path / "model", *FAST_TRAIN, "--objective", objective))
    threshold = saved(tmp_path / "model", "predictor")["threshold"]
    assert (threshold["source"], threshold["objective"]) == ("oof-objective", objective)
    chosen = saved(tmp_path / "model", "evidence")["thresholds"][objective]
    assert chosen["attainable"] and threshold["value"] == chosen["threshold"]
    words = " ".join(result.stdout.split())  # rich wraps long lines
    assert f"meets the training objective {objective} on the out-of-fold predictions" in words and f"{objective} (chosen)" in words
    model = bundle.load(tmp_path / "model")
    predicted = (model.evidence.oof >= model.predictor.threshold.value).astype(int)
    precision, recall = precision_score(model.evidence.y, predicted), recall_score(model.evidence.y, predicted)
    assert (precision, recall) == (pytest.approx(chosen["precision"]), pytest.approx(chosen["recall"]))
    metric, floor = objective.split(">=")
    assert {"precision": precision, "recall": recall}[metric] >= float(floor)
    assert model.evidence.final_row["threshold"] == threshold["value"]


def test_an_unreachable_objective_warns_and_keeps_the_f1_threshold(dataset: Path, tmp_path: Path) -> None:
    # labels shuffled (seed 0): no signal, and the best-scored company is a cold lead, so no cut has precision 0.999
    table = pd.read_csv(dataset / "train.csv")
    table["is_hot_lead"] = np.random.default_rng(0).permutation(table["is_hot_lead"].to_numpy())
    table.to_csv(tmp_path / "shuffled.csv", index=False)
    model_dir = tmp_path / "model"
    result = assert_ok(invoke("train", tmp_path / "shuffled.csv", "--out", model_dir, *FAST_TRAIN, "--objective", "precision>=0.999"))
    assert "warning: --objective precision>=0.999: no threshold reaches it on the out-of-fold predictions" in " ".join(result.stderr.split())
    threshold, thresholds = saved(model_dir, "predictor")["threshold"], saved(model_dir, "evidence")["thresholds"]
    assert (threshold["source"], threshold["objective"]) == ("oof-f1", "f1")
    assert threshold["value"] == thresholds["f1"]["threshold"]
    assert thresholds["precision>=0.999"]["attainable"] is False


def test_a_threshold_and_an_objective_together_are_a_user_error(dataset: Path, tmp_path: Path) -> None:
    result = invoke("train", dataset / "train.csv", "--out", tmp_path / "model", *FAST_TRAIN, "--objective", "recall>=0.8", "--threshold", "0.3")
    assert_user_error(result, "--threshold and --objective recall>=0.8 both set the threshold; give one of them.")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--objective", "nonsense"], "--objective must be f1, precision>=P or recall>=R with 0 < P, R < 1 (e.g. precision>=0.9); got 'nonsense'."),
        (["--objective", "precision>0.9"], "got 'precision>0.9'."),
        (["--objective", "accuracy>=0.9"], "got 'accuracy>=0.9'."),
        (["--calibration", "bogus"], "--calibration must be one of auto, isotonic, platt, none; got 'bogus'."),
    ],
)
def test_bad_objective_or_calibration_is_refused(args: list[str], fragment: str, dataset: Path, tmp_path: Path) -> None:
    assert_user_error(invoke("train", dataset / "train.csv", "--out", tmp_path / "model", *args), fragment)
    assert list(tmp_path.iterdir()) == []


def test_calibration_none_keeps_the_raw_probabilities(dataset: Path, tmp_path: Path) -> None:
    result = assert_ok(invoke("train", dataset / "train.csv", "--out", tmp_path / "model", *FAST_TRAIN, "--calibration", "none"))
    assert "calibration: none" in result.stdout
    model = bundle.load(tmp_path / "model")
    assert model.predictor.calibrator.method == "none" and not model.predictor.calibrated
    np.testing.assert_array_equal(model.evidence.oof, model.evidence.oof_uncalibrated)
    np.testing.assert_array_equal(model.evidence.oof, model.evidence.member_oof["gbdt"])


def test_train_on_a_validation_split_and_use_the_model(dataset: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    result = assert_ok(invoke("train", dataset / "train.csv", "--out", model_dir, *FAST_TRAIN, "--validation", 0.25))
    words = " ".join(result.stdout.split())
    assert "Leaderboard (validation split (25 %, 225 rows))" in words and "Thresholds by objective (validation split, calibrated)" in words
    assert "it gives the highest F1 on the validation split (25 % of the training rows)" in words and "out-of-fold" not in words
    assert (saved(model_dir, "evidence")["validation"], saved(model_dir, "predictor")["threshold"]["validation"]) == (0.25, 0.25)
    assert json.loads(assert_ok(invoke("evaluate", model_dir, dataset / "test.csv", "--json")).stdout)["metrics"]["f1"] > 0.5
    assert_ok(invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path / "submission.csv", "--quiet"))
    assert_ok(invoke("report", model_dir, dataset / "test.csv", "--out", tmp_path / "report.html"))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "scored on the validation split (25 %, 225 rows)" in page and "Validation split F1 at the chosen threshold" in page


def test_a_reloaded_model_keeps_calibration_thresholds_and_explanations(trained, model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    assert json.loads((model_dir / "manifest.json").read_text())["format_version"] == 3
    loaded = bundle.load(model_dir)
    assert loaded.predictor.calibrator == trained.predictor.calibrator and loaded.predictor.calibrated
    assert loaded.evidence.calibration == trained.evidence.calibration
    assert (loaded.predictor.threshold, loaded.evidence.thresholds) == (trained.predictor.threshold, trained.evidence.thresholds)
    assert loaded.predictor.explainer == trained.predictor.explainer and loaded.evidence.importance == trained.evidence.importance
    np.testing.assert_array_equal(loaded.evidence.oof_uncalibrated, trained.evidence.oof_uncalibrated)
    np.testing.assert_array_equal(loaded.evidence.oof, trained.evidence.oof)
    # the reloaded model, through the command line, scores and explains exactly as the original in memory
    assert_ok(invoke("predict", model_dir, dataset / "holdout.csv", "--out", tmp_path / "s.csv", "--scores", tmp_path / "leads.csv", "--quiet"))
    original = scoring.score(trained.predictor, read_table(dataset / "holdout.csv"), explain=True).leads
    original = original.sort_values("rank").rename(columns={"Id": "company_id"}).reset_index(drop=True)
    pd.testing.assert_frame_equal(read_leads(tmp_path / "leads.csv"), original.fillna(""), check_dtype=False, rtol=0, atol=1e-15)


# --- found while writing the issue #5 tests: each fails on 9c3ade9 (see the commit message) ----


def test_a_refused_submission_path_writes_no_lead_list(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    result = invoke("predict", cli_model, dataset / "holdout.csv", "--out", tmp_path / "folder", "--scores", tmp_path / "leads.csv")
    assert_user_error(result, "is a folder")
    assert not (tmp_path / "leads.csv").exists()  # user errors write nothing


def test_xlsx_lead_list_keeps_names_as_text_not_formulas(cli_model: Path, dataset: Path, tmp_path: Path) -> None:
    data = edited(dataset, "names.csv", tmp_path, set_cell(1, "company_name", "=1+1"), source="holdout.csv")
    assert_ok(invoke("predict", cli_model, data, "--out", tmp_path / "s.csv", "--scores", tmp_path / "leads.xlsx", "--quiet"))
    sheet = openpyxl.load_workbook(tmp_path / "leads.xlsx")["leads"]
    cells = [cell for cell in sheet["B"] if cell.value == "=1+1"]
    assert len(cells) == 1 and cells[0].data_type == "s"  # a name, not a live formula
    assert "=1+1" in read_leads(tmp_path / "leads.xlsx")["name"].tolist()


# --- issue 10: other libraries' warnings never reach the user in their words ----------------------

import warnings  # noqa: E402

import typer  # noqa: E402

from hotleads.cli import user_errors  # noqa: E402
from hotleads.exceptions import DataWarning  # noqa: E402


def test_only_hotleads_own_warnings_are_printed() -> None:
    single = typer.Typer()

    @single.command()
    @user_errors
    def command() -> None:
        warnings.warn("The least populated class in y has only 2 members, which is less than n_splits=3.", UserWarning, stacklevel=1)
        warnings.warn("Glyph 22686 (\\N{CJK UNIFIED IDEOGRAPH-589E}) missing from font(s) DejaVu Sans.", UserWarning, stacklevel=1)
        for _ in range(2):
            warnings.warn("table.csv: ignoring column(s) the model does not use: notes", DataWarning, stacklevel=1)

    result = assert_ok(runner.invoke(single, []))
    assert result.stderr.splitlines() == ["warning: table.csv: ignoring column(s) the model does not use: notes"]


# --- issue 11: a command line that starts at once --------------------------------------------------


HEAVY = ("torch", "matplotlib", "lightgbm", "sklearn", "pandas", "numpy")


def imported_by(*args: str) -> list[str]:
    """The heavy libraries a fresh process imports to run ``hotleads ARGS``."""
    code = (
        "import sys\nfrom hotleads.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit as done:\n"
        f"    assert not done.code, done.code\nprint('imported:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return [name for name in completed.stdout.splitlines()[-1].removeprefix("imported:").split(",") if name]


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["predict", "--help"]])
def test_version_and_help_import_no_numerical_library(args: list[str]) -> None:
    assert imported_by(*args) == []


def test_predict_with_a_gbdt_model_imports_neither_torch_nor_matplotlib(model_dir: Path, dataset: Path, tmp_path: Path) -> None:
    imported = imported_by("predict", str(model_dir), str(dataset / "holdout.csv"), "--out", str(tmp_path / "s.csv"), "--quiet")
    assert "lightgbm" in imported and "torch" not in imported and "matplotlib" not in imported
    assert (tmp_path / "s.csv").is_file()
