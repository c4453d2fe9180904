"""Every option of every command is checked before any work (issue 10).

A bad value exits with status 2 and prints exactly one line, ``error: ...``, that names the
option and shows the value; no traceback, and nothing is written: no model folder, submission,
report or output folder. The neural options (--epochs, --device...) are checked also when only
gbdt or logreg is trained. Typer's own usage errors (unknown option, a word for a number) come
out as the same one line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from hotleads import synth
from hotleads.cli import app
from hotleads.exceptions import ParameterError
from hotleads.neural import check_device

runner = CliRunner()
NO_CUDA = not torch.cuda.is_available()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/ (train.csv with 60 rows, test.csv, holdout.csv) and model/ (logreg, raw features, 2 folds)."""
    folder = tmp_path_factory.mktemp("options")
    synth.write_dataset(folder / "data", rows=100, seed=0)
    args = ["train", folder / "data" / "train.csv", "--out", folder / "model", "--models", "logreg", "--features", "raw", "--folds", "2", "-q"]
    result = runner.invoke(app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(folder.rglob("*"))}


TRAIN = ["train", "{train}", "--out", "{tmp}/model"]
PREDICT = ["predict", "{model}", "{holdout}", "--out", "{tmp}/submission.csv"]
EVALUATE = ["evaluate", "{model}", "{test}"]
REPORT = ["report", "{model}", "{test}", "--out", "{tmp}/report.html"]
GENERATE = ["generate", "--out", "{tmp}/generated"]
RUN = ["run", "--out", "{tmp}/out"]
SCHEMA = ["schema", "{train}"]


def case(name: str, args: list[str], fragments: list[str], **marks) -> object:
    """A bad command line and the fragments its error line must hold (the option first); "{file}" is a file in tmp."""
    return pytest.param(args, fragments, id=name, **marks)


CASES = [
    # train: the neural options, also without a neural model
    case("train --epochs 0", TRAIN + ["--epochs", "0"], ["--epochs", "0", ">= 1"]),
    case("train cnn --epochs 0", TRAIN + ["--models", "cnn", "--epochs", "0"], ["--epochs", "0"]),
    case("train --batch-size 0", TRAIN + ["--models", "logreg", "--batch-size", "0"], ["--batch-size", "0"]),
    case("train --lr -1", TRAIN + ["--lr", "-1"], ["--lr", "-1.0"]),
    case("train --lr nan", TRAIN + ["--models", "lstm", "--lr", "nan"], ["--lr", "nan"]),
    case("train --loss focal", TRAIN + ["--loss", "focal"], ["--loss", "'focal'", "'binary' or 'categorical'"]),
    case("train --device gpu", TRAIN + ["--device", "gpu"], ["--device", "'gpu'", "did you mean 'cuda'?"]),
    case("train --device cuda:x", TRAIN + ["--models", "cnn", "--device", "cuda:x"], ["--device", "'cuda:x'", "'cuda:N'"]),
    case("train --device cuda:99", TRAIN + ["--device", "cuda:99"], ["--device cuda:99", "torch sees", "--device cpu", "auto"]),
    case(
        "train --device cuda",
        TRAIN + ["--device", "cuda"],
        ["--device cuda", "no CUDA device", "--device cpu", "auto"],
        marks=pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA"),
    ),
    # train: the other options
    case("train --folds 1", TRAIN + ["--folds", "1"], ["--folds", "got 1"]),
    case("train --seed -1", TRAIN + ["--seed", "-1"], ["--seed", "got -1"]),
    case("train --seed too big", TRAIN + ["--seed", str(2**32)], ["--seed", str(2**32)]),
    case("train --threshold 2", TRAIN + ["--threshold", "2"], ["--threshold", "2.0"]),
    case("train --threshold 0", TRAIN + ["--threshold", "0"], ["--threshold", "0.0"]),
    case("train --objective bogus", TRAIN + ["--objective", "bogus"], ["--objective", "'bogus'"]),
    case("train --objective precision>=1.5", TRAIN + ["--objective", "precision>=1.5"], ["--objective", "precision>=1.5"]),
    case("train --threshold with --objective", TRAIN + ["--threshold", "0.5", "--objective", "recall>=0.8"], ["--threshold", "--objective recall>=0.8"]),
    case("train --calibration x", TRAIN + ["--calibration", "x"], ["--calibration", "'x'"]),
    case("train --ensemble x", TRAIN + ["--ensemble", "x"], ["--ensemble", "'x'"]),
    case("train --features x", TRAIN + ["--features", "x"], ["--features", "'x'"]),
    case("train --models bogus", TRAIN + ["--models", "gbtd"], ["--models", "'gbtd'", "did you mean 'gbdt'?"]),
    case("train --models twice", TRAIN + ["--models", "gbdt,gbdt"], ["--models", "gbdt,gbdt"]),
    case("train --models empty", TRAIN + ["--models", ","], ["--models", "empty"]),
    case("train --out is a file", ["train", "{train}", "--out", "{file}"], ["--out", "afile"]),
    case("train --out below a file", ["train", "{train}", "--out", "{file}/model"], ["--out", "afile/model", "is a file"]),
    case("train --target missing", TRAIN + ["--target", "nope"], ["--target", "'nope'"]),
    case("train --id missing", TRAIN + ["--id", "nope"], ["--id", "'nope'"]),
    case("train --drop missing", TRAIN + ["--drop", "nope"], ["--drop", "'nope'"]),
    case("train --categorical missing", TRAIN + ["--categorical", "nope"], ["--categorical", "'nope'"]),
    case("train --sep two characters", TRAIN + ["--sep", ";;"], ["--sep", "';;'"]),
    case("train --encoding bogus", TRAIN + ["--encoding", "bogus"], ["--encoding", "bogus"]),
    case("train --sheet on a CSV", TRAIN + ["--sheet", "2"], ["--sheet", "2"]),
    case("train --negative without --positive", TRAIN + ["--negative", "0"], ["--negative", "--positive"]),
    case("train --positive not a target value", TRAIN + ["--positive", "Won"], ["--positive", "'Won'"]),
    case("train --date missing", TRAIN + ["--date", "nope"], ["--date", "'nope'"]),
    case("train --decimal-comma missing", TRAIN + ["--decimal-comma", "nope"], ["--decimal-comma", "'nope'"]),
    case("train --folds x (typer)", TRAIN + ["--folds", "x"], ["'--folds'", "integer", "hotleads train --help"]),
    case("train --bogus (typer)", TRAIN + ["--bogus"], ["--bogus", "hotleads train --help"]),
    case("train without --out (typer)", ["train", "{train}"], ["'--out'"]),
    # predict
    case("predict --top -1", PREDICT + ["--top", "-1"], ["--top", "got -1"]),
    case("predict --top-k 0", PREDICT + ["--top-k", "0"], ["--top-k", "got 0"]),
    case("predict --top-k x (typer)", PREDICT + ["--top-k", "x"], ["'--top-k'"]),
    case("predict --device gpu", PREDICT + ["--device", "gpu"], ["--device", "'gpu'", "did you mean 'cuda'?"]),
    case("predict --device cuda:99", PREDICT + ["--device", "cuda:99"], ["--device cuda:99", "--device cpu"]),
    case("predict --out is a folder", ["predict", "{model}", "{holdout}", "--out", "{tmp}"], ["--out", "is a folder"]),
    case("predict --out below a file", ["predict", "{model}", "{holdout}", "--out", "{file}/s.csv"], ["--out", "afile/s.csv", "is a file"]),
    case("predict --scores .xls", PREDICT + ["--scores", "{tmp}/leads.xls"], ["--scores", "leads.xls", ".xlsx or .csv"]),
    case("predict --scores is a folder", PREDICT + ["--scores", "{tmp}"], ["--scores", "is a folder"]),
    case("predict --scores same as --out", PREDICT + ["--scores", "{tmp}/submission.csv"], ["--scores and --out"]),
    case("predict --sep two characters", PREDICT + ["--sep", ";;"], ["--sep", "';;'"]),
    case("predict --encoding bogus", PREDICT + ["--encoding", "bogus"], ["--encoding", "bogus"]),
    case("predict --sheet on a CSV", PREDICT + ["--sheet", "1"], ["--sheet", "1"]),
    # evaluate
    case("evaluate --device gpu", EVALUATE + ["--device", "gpu"], ["--device", "'gpu'", "did you mean 'cuda'?"]),
    case("evaluate --device cuda:99", EVALUATE + ["--device", "cuda:99"], ["--device cuda:99", "--device cpu"]),
    case("evaluate --encoding bogus", EVALUATE + ["--encoding", "bogus"], ["--encoding", "bogus"]),
    case("evaluate -q (typer)", EVALUATE + ["-q"], ["-q", "hotleads evaluate --help"]),
    # report
    case("report --device gpu", REPORT + ["--device", "gpu"], ["--device", "'gpu'", "did you mean 'cuda'?"]),
    case("report --device cuda:99", REPORT + ["--device", "cuda:99"], ["--device cuda:99", "--device cpu"]),
    case("report --out is a folder", ["report", "{model}", "--out", "{tmp}"], ["--out", "is a folder"]),
    case("report --out below a file", ["report", "{model}", "--out", "{file}/r.html"], ["--out", "afile/r.html", "is a file"]),
    case("report --sep two characters", REPORT + ["--sep", ";;"], ["--sep", "';;'"]),
    # generate
    case("generate --rows 5", GENERATE + ["--rows", "5"], ["--rows", "got 5"]),
    case("generate --rows x (typer)", GENERATE + ["--rows", "x"], ["'--rows'"]),
    case("generate --seed -1", GENERATE + ["--rows", "100", "--seed", "-1"], ["--seed", "got -1"]),
    case("generate --out is a file", ["generate", "--out", "{file}", "--rows", "100"], ["--out", "afile", "is a file"]),
    # run: every check comes before the data is generated
    case("run --rows 5", RUN + ["--rows", "5"], ["--rows", "got 5"]),
    case("run --models bogus", RUN + ["--models", "bogus"], ["--models", "'bogus'"]),
    case("run --features x", RUN + ["--features", "x"], ["--features", "'x'"]),
    case("run --seed -1", RUN + ["--seed", "-1"], ["--seed", "got -1"]),
    case("run --device gpu", RUN + ["--device", "gpu"], ["--device", "'gpu'", "did you mean 'cuda'?"]),
    case("run --device cuda:99", RUN + ["--device", "cuda:99"], ["--device cuda:99", "--device cpu"]),
    case("run --out is a file", ["run", "--out", "{file}"], ["--out", "afile", "is a file"]),
    # schema
    case("schema --sep two characters", SCHEMA + ["--sep", ";;"], ["--sep", "';;'"]),
    case("schema --encoding bogus", SCHEMA + ["--encoding", "bogus"], ["--encoding", "bogus"]),
    case("schema --sheet on a CSV", SCHEMA + ["--sheet", "2"], ["--sheet", "2"]),
    case("schema --target missing", SCHEMA + ["--target", "nope"], ["--target", "'nope'"]),
    case("schema --negative without --positive", SCHEMA + ["--negative", "0"], ["--negative", "--positive"]),
    # the app itself
    case("unknown command (typer)", ["trian"], ["'trian'", "hotleads --help"]),
    case("unknown option (typer)", ["--bogus"], ["--bogus", "hotleads --help"]),
]


@pytest.mark.parametrize(("args", "fragments"), CASES)
def test_a_bad_option_value_is_one_error_line_and_nothing_written(args: list[str], fragments: list[str], inputs: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder\n")
    paths = {
        "train": inputs / "data" / "train.csv",
        "test": inputs / "data" / "test.csv",
        "holdout": inputs / "data" / "holdout.csv",
        "model": inputs / "model",
        "tmp": tmp_path,
        "file": tmp_path / "afile",
    }
    before, inputs_before = snapshot(tmp_path), snapshot(inputs)

    result = runner.invoke(app, [arg.format(**paths) for arg in args], prog_name="hotleads")

    assert result.exit_code == 2, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines == result.stderr.splitlines(), result.output
    assert lines[0].startswith("error: ") and lines[0].strip() != "error:", lines[0]
    for fragment in fragments:
        assert fragment.format(**paths) in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert snapshot(tmp_path) == before
    assert snapshot(inputs) == inputs_before


def test_the_installed_command_refuses_device_gpu_in_one_line(inputs: Path, tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "hotleads"
    completed = subprocess.run(
        [str(command), "train", str(inputs / "data" / "train.csv"), "--out", "model", "--models", "logreg", "--device", "gpu"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr.splitlines() == ["error: --device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'gpu'; did you mean 'cuda'?"]
    assert list(tmp_path.iterdir()) == []


def test_a_cuda_index_beyond_the_gpus_is_refused_and_cuda_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    check_device("cuda", name="--device")
    check_device("cuda:1", name="--device")
    with pytest.raises(
        ParameterError, match=r"^--device cuda:2: torch sees 2 CUDA devices \(cuda:0 to cuda:1\); use --device cuda \(the first\), cpu or auto\.$"
    ):
        check_device("cuda:2", name="--device")
