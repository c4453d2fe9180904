"""Feature discovery: relations are found, clean quantities recovered, and only useful features kept."""

import itertools

import numpy as np
import pandas as pd
import pytest

from hotleads import discovery
from hotleads.discovery import candidate_features, discover, find_relations, select_features
from hotleads.features import OPS, DerivedFeature


@pytest.fixture(scope="module")
def table():
    """Momentum = funding x true postings; postings published with noise; label driven by true postings."""
    rng = np.random.default_rng(0)
    n = 3000
    postings = rng.poisson(10, n).astype(float) + 1
    funding = rng.lognormal(14, 0.5, n).round(2)
    frame = pd.DataFrame(
        {
            "funding": funding,
            "postings_noisy": postings * (1 + rng.normal(0, 0.15, n)),
            "momentum": funding * postings,
            "twice_funding_plus_3": 2 * funding + 3,
            "noise": rng.normal(size=n),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-3 * (postings - 13)))).astype(int)
    return frame, y


def relation_for(relations, target):
    return next(r for r in relations if r.evidence["target"] == target)


def test_recovers_a_noisy_count_from_a_product(table):
    frame, _ = table
    found = relation_for(find_relations(frame), "postings_noisy")
    assert found.op == "ratio" and found.inputs == ["momentum", "funding"]
    assert (found.scale, found.offset, found.rounded) == (1.0, 0.0, True)
    recovered = found.compute(frame)
    assert np.allclose(recovered, frame["momentum"] / frame["funding"])
    assert found.evidence["integral_share"] == 1.0 and not found.evidence["pure_function"]


def test_flags_a_pure_function(table):
    frame, _ = table
    found = relation_for(find_relations(frame), "twice_funding_plus_3")
    assert found.evidence["pure_function"]
    assert found.formula() == "2 * (funding) + 3"


def test_unrelated_column_has_no_relation(table):
    frame, _ = table
    assert all(r.evidence["target"] != "noise" for r in find_relations(frame))


def test_selection_keeps_the_recovered_count_and_drops_pure_functions(table):
    frame, y = table
    X = frame.to_numpy()
    result = discover(frame, X, y, categorical=[], seed=0)
    kept = [f.name for f in result.kept]
    assert "postings_noisy__recovered" in kept
    assert "twice_funding_plus_3__recovered" not in kept + [f.name for f in result.rejected]
    assert result.final_f1 > result.baseline_f1 + 0.015  # the fast model finds about 0.019 more F1 here
    gains = [f.evidence["oof_gain"] for f in result.kept]
    assert all(gain > 0 for gain in gains)


def test_discovery_is_deterministic(table):
    frame, y = table
    first = discover(frame, frame.to_numpy(), y, categorical=[], seed=3).to_dict()
    second = discover(frame, frame.to_numpy(), y, categorical=[], seed=3).to_dict()
    assert first == second


def test_candidates_include_rounding_but_no_logs(table):
    frame, _ = table
    names = [c.name for c in candidate_features(frame, [])]
    assert "postings_noisy__rounded" in names
    heavy = pd.DataFrame({"money": np.random.default_rng(1).pareto(1.0, 2000) * 1000})
    assert candidate_features(heavy, []) == []  # a log cannot change a split of selection's LightGBM


def _relation_by_brute_force(frame: pd.DataFrame, target: str) -> tuple | None:
    """The search before screening: every quantity's R^2 by np.corrcoef, the first best kept."""
    best = None
    others = [c for c in frame.columns if c != target]
    for a, b in itertools.permutations(others, 2):
        for op, func in OPS.items():
            if op in ("product", "sum") and a > b:
                continue
            with np.errstate(all="ignore"):
                r2 = discovery._r2(func(frame[a].to_numpy(float), frame[b].to_numpy(float)), frame[target].to_numpy(float))
            if best is None or r2 > best[0] + 1e-12:
                best = (r2, op, [a, b])
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_screened_search_finds_what_the_exhaustive_one_finds(seed):
    """Missing and infinite values, a constant and a near-constant column, huge and tiny scales, ties."""
    rng = np.random.default_rng(seed)
    n = 600
    frame = pd.DataFrame(rng.lognormal(0, 2, (n, 7)), columns=list("abcdefg"))
    frame["b"] = frame["b"].where(rng.random(n) > 0.2)  # 20 % missing
    frame.loc[rng.random(n) < 0.05, "c"] = np.inf
    frame["d"] = 5.0 + 1e-13 * rng.normal(size=n)  # constant up to rounding
    frame["e"] = 1e12 * frame["a"] * (1 + 0.01 * rng.normal(size=n))
    frame["f"] = frame["a"] - frame["c"]
    frame["g"] = 3.0
    frame["h"] = frame["a"] / frame["b"] * 1e-9 + rng.normal(0, 1e-12, n)
    inputs = list(frame.columns)
    values = {name: frame[name].to_numpy(float) for name in inputs}
    pairs = discovery._pair_quantities(inputs)
    screened = discovery._screen_r2(values, inputs, pairs)
    for j, target in enumerate(inputs):
        expected = _relation_by_brute_force(frame, target)
        assert discovery._best_pair_relation(values, target, pairs, screened[:, j]) == expected, target


def test_derived_feature_round_trip_and_missing_inputs():
    feature = DerivedFeature("r", "ratio", ["a", "b"], scale=0.5, offset=1.0, rounded=True, evidence={"x": 1})
    again = DerivedFeature.from_dict(feature.to_dict())
    base = pd.DataFrame({"a": [4.0, np.nan, 1.0], "b": [2.0, 1.0, 0.0]})
    assert again == feature
    assert again.compute(base).tolist()[0] == 2.0
    assert np.isnan(again.compute(base).tolist()[1]) and np.isnan(again.compute(base).tolist()[2])


def test_an_unrelated_schema_trains_and_scores_with_auto_features(tmp_path):
    """A table that is not the challenge's: other names, a yes/no target, a date, no id column."""
    from hotleads import bundle, scoring, training

    rng = np.random.default_rng(5)
    n = 800
    rooms = rng.integers(1, 6, n).astype(float)
    area = rooms * 20 + rng.normal(0, 3, n)
    frame = pd.DataFrame(
        {
            "area_m2": area.round(1),
            "price": (area * 3000 * rng.lognormal(0, 0.1, n)).round(0),
            "price_per_m2": np.nan,
            "district": rng.choice(["north", "south", "east"], n),
            "listed": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
            "sold_fast": np.where(rng.random(n) < 0.25 + 0.1 * (rooms > 3), "yes", "no"),
        }
    )
    frame["price_per_m2"] = frame["price"] / frame["area_m2"]
    frame["listed"] = frame["listed"].dt.strftime("%Y-%m-%d")
    model = training.train(frame, training.TrainOptions(folds=3, features="auto"), target="sold_fast")
    assert all("sold_fast" not in r["relation"] for r in model.evidence.discovery["relations"])  # no leakage of the target
    assert any(r["target"] == "price_per_m2" for r in model.evidence.discovery["relations"])
    bundle.save(model, tmp_path / "m")
    scored = scoring.score(bundle.load_predictor(tmp_path / "m"), frame.drop(columns="sold_fast")).leads
    assert len(scored) == n and scored["Id"].tolist() == list(range(n))


@pytest.mark.parametrize("positives", [1, 2])
def test_selection_on_a_tiny_class_needs_no_fold_warning(table, positives):
    """An outer fold of a small table can leave fewer hot leads than selection's 3 folds: fewer folds, or none kept."""
    frame, _ = table
    rows = frame.iloc[:60]
    y = np.zeros(len(rows), dtype=int)
    y[:positives] = 1
    candidates = candidate_features(rows, find_relations(rows))
    kept, rejected, _, _ = select_features(rows.to_numpy(), rows, candidates, y, categorical=[])  # warnings fail the test
    assert len(kept) + len(rejected) == len(candidates)
    if positives == 1:
        assert kept == []


def test_selection_on_a_long_table_judges_a_seeded_sample(table, monkeypatch):
    frame, y = table
    monkeypatch.setattr(discovery, "SELECTION_ROWS", 2_000)  # 200,000 in use; the table has 3,000 rows
    first = discover(frame, frame.to_numpy(), y, categorical=[], seed=3)
    assert "postings_noisy__recovered" in [f.name for f in first.kept]  # a real gain shows on the sample too
    assert first.to_dict() == discover(frame, frame.to_numpy(), y, categorical=[], seed=3).to_dict()
    monkeypatch.setattr(discovery, "SELECTION_ROWS", 200_000)
    assert discover(frame, frame.to_numpy(), y, categorical=[], seed=3).baseline_f1 != first.baseline_f1  # the sample was used
