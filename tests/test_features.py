"""Tests of the fitted preprocessing (hotleads.features)."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from hotleads.features import Preprocessor
from hotleads.schema import DataWarning, Schema

SCHEMA = Schema(target=None, id=None, numeric=["x", "money"], categorical=["industry"], date=["funded"])


def features(**overrides) -> pd.DataFrame:
    """Six typed rows, as :func:`hotleads.schema.prepare` returns them."""
    frame = pd.DataFrame(
        {
            "x": [1.0, 5.0, np.inf, -np.inf, 3.0, np.nan],
            "money": [1e3, 2e3, 5e3, 1e4, 3e9, -2e3],
            "industry": ["Tech", "SaaS", "Tech", None, "Retail", "Tech"],
            "funded": pd.to_datetime(["2024-01-01", "2024-03-01", None, "2023-12-31", "2024-02-29", "2024-01-31"]),
        }
    )
    for name, values in overrides.items():
        frame[name] = values
    return frame


@pytest.fixture
def fitted() -> Preprocessor:
    return Preprocessor().fit(features(), SCHEMA)


def test_output_names_and_shape(fitted: Preprocessor) -> None:
    assert fitted.feature_names_ == ["x", "x__inf", "money", "industry", "funded"]
    assert fitted.transform(features()).shape == (6, 5)
    assert fitted.categorical_indices == [3]


def test_infinities_become_the_finite_extremes_and_are_flagged(fitted: Preprocessor) -> None:
    out = fitted.transform_frame(features())
    assert out["x"].tolist()[:5] == [1.0, 5.0, 5.0, 1.0, 3.0]
    assert np.isnan(out["x"].iloc[5])  # missing stays missing
    assert out["x__inf"].tolist() == [0.0, 0.0, 1.0, -1.0, 0.0, 0.0]


def test_infinities_at_predict_time_use_the_training_extremes(fitted: Preprocessor) -> None:
    new = features(x=[np.inf, -np.inf, 100.0, 2.0, np.nan, 0.0])
    out = fitted.transform_frame(new)
    assert out["x"].tolist()[:4] == [5.0, 1.0, 100.0, 2.0]
    assert out["x__inf"].tolist() == [1.0, -1.0, 0.0, 0.0, 0.0, 0.0]


def test_no_flag_column_without_infinities_in_training() -> None:
    fitted = Preprocessor().fit(features(x=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), SCHEMA)
    assert "x__inf" not in fitted.feature_names_


def test_heavy_tailed_columns_get_a_signed_log(fitted: Preprocessor) -> None:
    out = fitted.transform_frame(features())
    money = features()["money"]
    np.testing.assert_allclose(out["money"], np.sign(money) * np.log1p(money.abs()))
    assert fitted.numeric_["money"]["log"] and not fitted.numeric_["x"]["log"]


def test_dates_are_days_before_the_training_reference(fitted: Preprocessor) -> None:
    assert fitted.reference_dates_ == {"funded": "2024-03-01"}
    out = fitted.transform_frame(features())
    assert out["funded"].tolist()[:2] == [60.0, 0.0]
    assert np.isnan(out["funded"].iloc[2])
    assert out["funded"].tolist()[3:] == [61.0, 1.0, 30.0]


def test_dates_at_predict_time_keep_the_training_reference(fitted: Preprocessor) -> None:
    later = pd.to_datetime(["2024-01-01", "2025-03-01", "2024-02-01", "2024-03-01", "2024-02-29", "2024-01-31"])
    out = fitted.transform_frame(features(funded=later))
    assert out["funded"].iloc[0] == 60.0  # same company, same value, whatever else is in the table
    assert out["funded"].iloc[1] == -365.0  # after the reference: negative age, not re-based


def test_categories_are_codes_of_the_training_categories(fitted: Preprocessor) -> None:
    assert fitted.categories_ == {"industry": ["Retail", "SaaS", "Tech"]}
    out = fitted.transform_frame(features())
    assert out["industry"].tolist()[:3] == [2.0, 1.0, 2.0]
    assert np.isnan(out["industry"].iloc[3])  # missing -> unknown


def test_unseen_category_becomes_unknown_with_a_warning(fitted: Preprocessor) -> None:
    new = features(industry=["Tech", "Biotech", "SaaS", "Biotech", "Mining", None])
    with pytest.warns(DataWarning, match=r"column 'industry': 3 row\(s\) have categories not seen in training \(\['Biotech', 'Mining'\]\)"):
        out = fitted.transform_frame(new)
    codes = out["industry"].tolist()
    assert codes[0] == 2.0 and codes[2] == 1.0
    assert np.isnan([codes[1], codes[3], codes[4], codes[5]]).all()


def test_training_rows_transform_without_warnings(fitted: Preprocessor) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.transform(features())


def test_rare_training_categories_become_unknown_without_an_unseen_warning() -> None:
    frame = features(industry=["Tech", "Tech", "Tech", "SaaS", "SaaS", "Retail"])
    fitted = Preprocessor(max_categories=2).fit(frame, SCHEMA)
    assert fitted.categories_["industry"] == ["SaaS", "Tech"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Retail" was seen in training, just too rare to keep
        out = fitted.transform_frame(frame)
    assert np.isnan(out["industry"].iloc[5])
    with pytest.warns(DataWarning, match=r"\['Biotech'\]"):
        fitted.transform_frame(features(industry=["Tech", "Retail", "Biotech", "SaaS", None, "Tech"]))


def test_dict_round_trip_gives_identical_transforms(fitted: Preprocessor) -> None:
    restored = Preprocessor.from_dict(json.loads(json.dumps(fitted.to_dict())))
    new = features(x=[0.5, np.inf, 9.0, -1.0, np.nan, 2.0])
    np.testing.assert_array_equal(restored.transform(features()), fitted.transform(features()))
    np.testing.assert_array_equal(restored.transform(new), fitted.transform(new))
    assert restored.feature_names_ == fitted.feature_names_
    assert restored.categorical_indices == fitted.categorical_indices


def test_transforming_other_data_does_not_refit(fitted: Preprocessor) -> None:
    before = copy.deepcopy(fitted.to_dict())
    reference = fitted.transform(features())
    other = features(
        x=[-100.0, 1e6, np.inf, 4.0, 7.0, 8.0],
        money=[1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        funded=pd.to_datetime(["2030-01-01"] * 6),
    )
    fitted.transform(other)
    assert fitted.to_dict() == before
    np.testing.assert_array_equal(fitted.transform(features()), reference)


def test_fit_uses_only_the_rows_it_is_given() -> None:
    train = features()
    everything = pd.concat([train, features(x=[50.0] * 6, funded=pd.to_datetime(["2030-01-01"] * 6))], ignore_index=True)
    assert Preprocessor().fit(train, SCHEMA).to_dict() != Preprocessor().fit(everything, SCHEMA).to_dict()
    assert Preprocessor().fit(train, SCHEMA).to_dict() == Preprocessor().fit(train.copy(), SCHEMA).to_dict()


def test_the_matrix_of_some_rows_is_those_rows_of_the_whole_matrix(fitted: Preprocessor) -> None:
    """``transform(features, rows)`` and ``base_frame(features, rows)`` compute only ``rows`` (a big
    table's discovery sample, a validation split's order) and give exactly those rows."""
    from hotleads.features import DerivedFeature

    derived = fitted.with_derived([DerivedFeature("x_money", "product", ["x", "money"]), DerivedFeature("age", "identity", ["funded"])])
    rows = np.array([4, 0, 2, 2, 5])
    np.testing.assert_array_equal(derived.transform(features(), rows), derived.transform(features())[rows])
    expected = derived.base_frame(features()).iloc[rows].reset_index(drop=True)
    pd.testing.assert_frame_equal(derived.base_frame(features(), rows), expected)
    assert derived.transform(features(), np.array([], dtype=int)).shape == (0, 7)
