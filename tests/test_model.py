"""Tests of the split model object (hotleads.model): predictor, training evidence, threshold."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hotleads.calibration import Calibrator
from hotleads.ensemble import Ensemble
from hotleads.model import LeadModel, Predictor, Threshold, ThresholdSource, TrainingEvidence


@pytest.mark.parametrize(
    ("threshold", "reason", "chose_f1"),
    [
        (Threshold(0.4, ThresholdSource.OOF_F1, "f1"), "it gives the highest F1 on the out-of-fold predictions of the training data", True),
        (Threshold(0.3, ThresholdSource.USER, None), "it was set by hand when the model was trained (--threshold)", False),
        (Threshold(0.7, ThresholdSource.OOF_OBJECTIVE, "recall>=0.8"), "it meets the training objective recall>=0.8 on the out-of-fold predictions", False),
    ],
)
def test_a_threshold_says_where_it_came_from(threshold: Threshold, reason: str, chose_f1: bool) -> None:
    assert threshold.reason().startswith(reason)
    assert threshold.chose("f1") is chose_f1
    assert Threshold.from_dict(threshold.to_dict()) == threshold


def test_a_saved_threshold_source_must_be_known() -> None:
    with pytest.raises(ValueError, match="'guess' is not a valid ThresholdSource"):
        Threshold.from_dict({"value": 0.5, "source": "guess", "objective": "f1"})


def test_the_predictor_round_trips_every_part_through_a_dict(trained: LeadModel) -> None:
    predictor = trained.predictor
    data = predictor.to_dict()
    assert set(data) == {f.name for f in dataclasses.fields(Predictor)} - {"members"}  # every part but the member files
    again = Predictor.from_dict(data, predictor.members)
    assert again == predictor


def test_an_ensemble_predictor_names_and_combines(trained: LeadModel) -> None:
    ensemble = Ensemble("mean", ["a", "b"], [0.5, 0.5])
    predictor = dataclasses.replace(trained.predictor, members={"a": None, "b": None}, combiner=ensemble, calibrator=Calibrator())
    assert (predictor.name, predictor.label, predictor.calibrated) == ("ensemble", "ensemble", False)
    np.testing.assert_allclose(predictor.combine({"a": np.array([0.2, 0.4]), "b": np.array([0.6, 0.8])}), [0.4, 0.6])
    assert Predictor.from_dict(predictor.to_dict(), predictor.members).combiner == ensemble


def test_a_single_calibrated_member_is_labelled_so(trained: LeadModel) -> None:
    assert trained.predictor.calibrated and trained.predictor.label == "gbdt (calibrated)"
    assert trained.evidence.final_row["model"] == "gbdt (calibrated)"
    assert [row["final"] for row in trained.evidence.leaderboard] == [False, True]


def test_evidence_splits_into_json_and_arrays_and_back(trained: LeadModel) -> None:
    data, arrays = trained.evidence.to_parts()
    assert set(arrays) == {"y", "oof", "oof_uncalibrated", "oof_nested", "member_oof.gbdt"}
    assert all(isinstance(value, np.ndarray) for value in arrays.values())
    assert not any(isinstance(value, np.ndarray) for value in data.values())
    again = TrainingEvidence.from_parts(data, arrays)
    np.testing.assert_array_equal(again.member_oof["gbdt"], trained.evidence.member_oof["gbdt"])
    np.testing.assert_array_equal(again.oof_nested, trained.evidence.oof_nested)
    assert again.leaderboard == trained.evidence.leaderboard and again.thresholds == trained.evidence.thresholds


def test_a_members_own_threshold_comes_from_its_leaderboard_row(trained: LeadModel) -> None:
    member_row = trained.evidence.leaderboard[0]
    assert trained.evidence.member_threshold("gbdt") == member_row["threshold"] != trained.predictor.threshold.value
