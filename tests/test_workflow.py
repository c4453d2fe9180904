"""Tests of the main job as a library call (hotleads.workflow.run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hotleads import run
from hotleads.exceptions import BundleError, ParameterError
from hotleads.model import Predictor
from hotleads.training import TrainOptions
from hotleads.workflow import check_run_target

ROWS = 1000  # 600 train, 200 test, 200 holdout


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory):
    """``run`` on built-in data, counting the rows each predictor call scored."""
    scored_rows = []
    original = Predictor.member_probas

    def counting(self, X, sequences=None):
        scored_rows.append(len(X))
        return original(self, X, sequences)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Predictor, "member_probas", counting)
        result = run(tmp_path_factory.mktemp("run") / "out", rows=ROWS, options=TrainOptions(models=["gbdt"], folds=3, features="raw"))
    return result, scored_rows


def test_run_writes_every_output_from_one_scoring_of_each_table(done) -> None:
    result, scored_rows = done
    out = result.out
    for name in ("submission.csv", "scores.csv", "metrics.json", "report.html", "model/manifest.json", "data/train.csv"):
        assert (out / name).is_file(), name
    # a single gbdt explains by TreeSHAP (no predictor call), so the predictor's calls are the scorings of
    # test.csv (200 rows) and holdout.csv (200 rows): each table once, none twice
    assert scored_rows == [200, 200]
    submission = pd.read_csv(out / "submission.csv")
    assert submission["Id"].tolist() == result.holdout.leads["Id"].tolist()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(result.summary))
    assert metrics["test"]["metrics"] == result.test["metrics"]
    assert metrics["leaderboard"] == result.model.evidence.leaderboard


def test_running_again_into_the_same_folder_is_not_refused(done) -> None:
    """`make run` twice: the second run's checks pass on the first's outputs, its data/ included (bayes.json of generate there)."""
    result, _ = done
    check_run_target(result.out, ROWS)


def test_running_again_refuses_the_users_table_put_in_data(done, tmp_path: Path) -> None:
    """The user's train.csv copied into an earlier run's data/ is not that run's (bayes.json records the tables' checksums)."""
    out = tmp_path / "out"
    shutil.copytree(done[0].out / "data", out / "data")
    check_run_target(out, ROWS)
    (out / "data" / "train.csv").write_text("my real leads\n")
    with pytest.raises(ParameterError, match=r"data already holds train\.csv, not an earlier run's data .*move it away"):
        check_run_target(out, ROWS)


def test_running_again_refuses_a_model_folder_holding_the_users_file(done, tmp_path: Path) -> None:
    """run --out R replaces R/model, an earlier run's model, as a whole; a file of the user's inside it is refused before any work."""
    out = tmp_path / "out"
    shutil.copytree(done[0].out / "model", out / "model")
    check_run_target(out, ROWS)
    (out / "model" / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match=r"model: holds notes\.txt, not part of the model there; .*move it out of it or choose a new --out"):
        run(out, rows=ROWS)
    assert (out / "model" / "notes.txt").read_text() == "mine"
    assert not (out / "data").exists()  # refused before generating


def test_a_bad_output_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match=r"--out .*file: is a file, not a folder"):
        run(tmp_path / "file", rows=ROWS)
    with pytest.raises(ParameterError, match=r"--rows must be at least"):
        run(tmp_path / "out", rows=5)
    (tmp_path / "out" / "report.html").mkdir(parents=True)
    with pytest.raises(ParameterError, match=r"--out .*report\.html: is a folder"):
        run(tmp_path / "out", rows=ROWS)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html"]  # nothing generated
