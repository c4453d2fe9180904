"""Tests of scoring (hotleads.scoring): one ScoredTable per table, evaluate, the writers."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotleads import registry
from hotleads.estimators import GBDTClassifier
from hotleads.exceptions import DataError, ParameterError
from hotleads.io import read_table
from hotleads.metrics import classification_metrics
from hotleads.model import LeadModel
from hotleads.schema import DataWarning, Schema, prepare
from hotleads.scoring import evaluate, lead_list, score, tiers, write_lead_list, write_submission
from hotleads.threshold import bagged_f1_threshold
from hotleads.training import TrainOptions, train


@pytest.fixture(scope="module")
def pair(dataset: Path) -> LeadModel:
    """gbdt (30 trees) and logreg, 3 folds, weighted ensemble."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.MODELS, "gbdt", functools.partial(GBDTClassifier, n_estimators=30))
        options = TrainOptions(models=["gbdt", "logreg"], folds=3, ensemble="weighted", features="raw")
        return train(read_table(dataset / "train.csv"), options, source="train.csv")


def features_of(model: LeadModel, frame: pd.DataFrame) -> np.ndarray:
    predictor = model.predictor
    return predictor.preprocessor.transform(prepare(frame, predictor.schema, labelled=False).features)


def test_score_combines_members_and_applies_the_threshold(pair: LeadModel, dataset: Path) -> None:
    holdout = read_table(dataset / "holdout.csv")
    table = score(pair.predictor, holdout)
    scored, member_probas, predictor = table.leads, table.member_probas, pair.predictor
    assert table.y is None
    assert list(scored.columns) == ["Id", "name", "probability", "lead_score", "rank", "tier", "prediction"]
    assert scored["name"].tolist() == holdout["company_name"].tolist()
    assert scored["Id"].tolist() == holdout["company_id"].tolist()
    X = features_of(pair, holdout)
    for name, member in predictor.members.items():
        np.testing.assert_array_equal(member_probas[name], member.predict_proba(X)[:, 1])
    expected = predictor.calibrator.transform(predictor.combiner.combine(np.column_stack([member_probas["gbdt"], member_probas["logreg"]])))
    np.testing.assert_allclose(scored["probability"], expected)
    np.testing.assert_array_equal(table.raw, predictor.combine(member_probas))
    np.testing.assert_array_equal(scored["prediction"], (scored["probability"] >= predictor.threshold.value).astype(int))
    np.testing.assert_array_equal(scored["lead_score"], np.rint(scored["probability"] * 100).astype(int))
    assert scored["lead_score"].between(0, 100).all()
    assert sorted(scored["rank"]) == list(range(1, len(holdout) + 1))
    assert scored["probability"].iloc[scored["rank"].to_numpy().argsort()].is_monotonic_decreasing


def test_evaluate_reports_the_final_predictor_and_every_member(pair: LeadModel, test_frame: pd.DataFrame) -> None:
    table = score(pair.predictor, test_frame, source="test.csv", labelled=True)
    result = evaluate(pair, table)
    assert (result["source"], result["final"]) == ("test.csv", "ensemble")
    assert set(result["members"]) == {"gbdt", "logreg"}
    y = table.y
    np.testing.assert_array_equal(y, test_frame["is_hot_lead"].astype(int))
    assert result["metrics"] == classification_metrics(y, table.probability, pair.predictor.threshold.value)
    for name, oof in pair.evidence.member_oof.items():
        own_threshold = bagged_f1_threshold(pair.evidence.y, oof, seed=pair.evidence.seed)
        assert result["members"][name] == classification_metrics(y, table.member_probas[name], own_threshold)
    rows = {row["model"]: row for row in result["leaderboard"]}
    assert rows["ensemble"]["final"] and rows["ensemble"]["f1"] == result["metrics"]["f1"]
    assert rows["gbdt"]["f1"] == result["members"]["gbdt"]["f1"]
    assert result["metrics"]["f1"] > 0.5  # the generated data has signal; a broken pipeline scores near 0.3


def test_evaluate_needs_labels(trained: LeadModel, dataset: Path) -> None:
    with pytest.raises(DataError, match=r"holdout\.csv: missing column\(s\) \['is_hot_lead'\]"):
        score(trained.predictor, read_table(dataset / "holdout.csv"), source="holdout.csv", labelled=True)
    unlabelled = score(trained.predictor, read_table(dataset / "holdout.csv"), source="holdout.csv")
    with pytest.raises(ParameterError, match=r"holdout\.csv: scored without labels; score it with labelled=True to evaluate\."):
        evaluate(trained, unlabelled)


def test_unseen_categories_are_scored_with_a_warning(trained: LeadModel, dataset: Path) -> None:
    holdout = read_table(dataset / "holdout.csv")
    holdout.loc[:4, "industry"] = "Biotech"
    with pytest.warns(DataWarning, match=r"column 'industry': 5 row\(s\) have categories not seen in training \(\['Biotech'\]\)"):
        scored = score(trained.predictor, holdout)
    assert scored.leads["probability"].notna().all()


def test_explaining_the_top_rows_only_leaves_the_others_blank(trained: LeadModel, holdout_frame: pd.DataFrame) -> None:
    everyone = score(trained.predictor, holdout_frame, explain=True).leads
    top = score(trained.predictor, holdout_frame, explain=5).leads
    best = top["rank"] <= 5
    assert (top.loc[best, "reason_1"] != "").all() and (top.loc[~best, ["reason_1", "reason_2", "reason_3"]] == "").all().all()
    pd.testing.assert_frame_equal(top[best], everyone[best])


def test_tiers_split_at_the_threshold_and_its_half() -> None:
    assert tiers(np.array([0.8, 0.6, 0.3, 0.29, 0.0]), 0.6).tolist() == ["hot", "hot", "warm", "cold", "cold"]


def test_a_top_k_below_one_is_refused(trained: LeadModel, holdout_frame: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"--top-k must be a positive number of companies; got 0\."):
        score(trained.predictor, holdout_frame, top_k=0)


def test_labels_are_read_when_the_table_has_them_and_asked_for_none(trained: LeadModel, test_frame: pd.DataFrame, holdout_frame: pd.DataFrame) -> None:
    assert score(trained.predictor, test_frame, labelled=None).y is not None
    assert score(trained.predictor, holdout_frame, labelled=None).y is None
    assert score(trained.predictor, test_frame).y is None  # the default: a table to score, its target ignored


def test_the_writers_write_the_submission_and_the_ranked_lead_list(trained: LeadModel, holdout_frame: pd.DataFrame, tmp_path: Path) -> None:
    scored = score(trained.predictor, holdout_frame, explain=3)
    write_submission(scored, tmp_path / "submission.csv")
    write_lead_list(scored, trained.predictor.schema, tmp_path / "leads.csv")
    submission = pd.read_csv(tmp_path / "submission.csv", dtype={"Id": str})
    assert list(submission.columns) == ["Id", "Prediction"]
    assert submission["Id"].tolist() == holdout_frame["company_id"].tolist()
    leads = pd.read_csv(tmp_path / "leads.csv", dtype={"company_id": str}, keep_default_na=False)
    assert leads.columns[0] == "company_id" and leads["rank"].tolist() == list(range(1, len(holdout_frame) + 1))
    assert (leads["reason_1"].head(3) != "").all() and (leads["reason_1"].iloc[3:] == "").all()


@pytest.mark.parametrize(("id_column", "header"), [("account", "account"), ("Unnamed: 0", "Id"), (None, "Id")])
def test_the_lead_list_heads_the_ids_by_the_tables_id_header_else_id(id_column: str | None, header: str) -> None:
    """A blank id header (the readers' ``Unnamed: 0``, in no file) heads the ids ``Id``, as submission.csv and a table without ids do."""
    leads = pd.DataFrame({"Id": ["A", "B"], "probability": [0.2, 0.9], "rank": [2, 1]})
    listed = lead_list(leads, Schema(target="is_hot_lead", id=id_column))
    assert list(listed.columns) == [header, "probability", "rank"] and listed[header].tolist() == ["B", "A"]
