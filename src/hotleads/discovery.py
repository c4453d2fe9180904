"""Feature discovery: arithmetic relations between columns, and candidate features that earn their place.

Company tables are full of derived columns (funding per employee, momentum = funding x postings,
days since a date). When such a column was computed from the *clean* value of a column that is
published with noise, the relation recovers the clean value: on the challenge data
``growth_momentum / total_funding`` is the exact integer job-postings count that
``job_postings_30d`` only approximates. Discovery is general:

1. **Relations.** For every numeric (or date-age) column ``d`` and every quantity ``q`` built
   from one or two other columns (``a``, ``a*b``, ``a/b``, ``a+b``, ``a-b``), fit ``d ~ alpha*q +
   beta``. A near-exact fit (R^2 >= ``MIN_R2`` and clearly better than any single column) is a
   relation; R^2 above ``EXACT_R2`` means ``d`` is a pure function of its inputs (flagged: it adds
   nothing). Coefficients are snapped to round values (1, 0.01, -1...) when that fits as well,
   and a recovered quantity that is integral on almost every row is rounded (a count).
2. **Candidates.** Each relation's recovered quantity, and rounded noisy counts.
3. **Selection.** Greedy forward selection with a fast LightGBM model: a candidate is kept only
   when it raises the out-of-fold F1 by at least ``MIN_GAIN``, so noise features do not pile up.

Everything is deterministic for a seed, and the evidence for each decision (relation, R^2, rows
it holds on, OOF gain) is returned for the model manifest and ``train --explain-features``.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .estimators import GBDTClassifier
from .features import OPS, DerivedFeature
from .folds import out_of_fold, stratified_folds
from .threshold import f1_optimal_threshold

MIN_R2 = 0.6  # a noisy count against its clean value reaches ~0.8-0.9; the OOF gate weeds out the rest
EXACT_R2 = 1 - 1e-9
MIN_R2_ADVANTAGE = 0.02  # a two-column quantity must beat the best single column by this much
MIN_GAIN = 0.002  # OOF F1 a candidate must add to be kept (more on small data: see select_features)
SELECTION_FOLDS = 3  # fewer when a class has fewer rows (a tiny outer fold): each fold needs one of each
SEARCH_ROWS = 5000
# Selection judges each candidate on at most this many rows (drawn with the seed): plenty to tell
# a feature's gain from noise, and selection's cost stops growing with the table.
SELECTION_ROWS = 200_000
INTEGRAL_SHARE = 0.99


@dataclass
class Discovery:
    """What discovery found: relations (with pure-function flags), and the kept and rejected candidates."""

    relations: list[dict]
    kept: list[DerivedFeature]
    rejected: list[DerivedFeature]
    baseline_f1: float
    final_f1: float
    candidates: list[DerivedFeature] = field(default_factory=list)  # in the order selection tried them

    def to_dict(self) -> dict:
        return {
            "relations": self.relations,
            "kept": [f.to_dict() for f in self.kept],
            "rejected": [f.to_dict() for f in self.rejected],
            "baseline_oof_f1": self.baseline_f1,
            "final_oof_f1": self.final_f1,
        }


def find_relations(base: pd.DataFrame, *, seed: int = 0) -> list[DerivedFeature]:
    """Near-exact affine relations ``d ~ alpha*q + beta`` with ``q`` built from one or two other columns."""
    sample = base.sample(n=min(SEARCH_ROWS, len(base)), random_state=seed) if len(base) > SEARCH_ROWS else base
    values = {name: sample[name].to_numpy(dtype=float) for name in sample.columns}
    columns = [name for name in base.columns if np.isfinite(values[name]).sum() > 10 and sample[name].nunique() > 2]
    found, redundant = [], set()
    for i, target in enumerate(columns):  # exact copies first: a later column is the derived one
        source = next((a for a in columns[:i] if a not in redundant and _r2(values[a], values[target]) >= EXACT_R2), None)
        if source is not None:
            redundant.add(target)
            found.append(_relation_feature(base, target, "identity", [source]))
    inputs = [c for c in columns if c not in redundant]
    pairs = _pair_quantities(inputs)
    screened = _screen_r2(values, inputs, pairs)  # (n_pairs, n_inputs)
    for j, target in enumerate(inputs):
        others = [c for c in inputs if c != target]
        single_r2 = max((_r2(values[a], values[target]) for a in others), default=0.0)
        best = _best_pair_relation(values, target, pairs, screened[:, j])
        if best is not None and best[0] >= MIN_R2 and best[0] >= single_r2 + MIN_R2_ADVANTAGE:
            found.append(_relation_feature(base, target, *best[1:]))
    return found


def _pair_quantities(inputs: list[str]) -> list[tuple[str, str, str]]:
    """Every ``(op, a, b)`` a relation may use, in the order the search tries them (a symmetric op in one order only)."""
    return [(op, a, b) for a, b in itertools.permutations(inputs, 2) for op in OPS if not (op in ("product", "sum") and a > b)]


# A screened R^2 within this of a target's best is checked exactly (the screen's error is ~1e-12).
SCREEN_MARGIN = 1e-6
SCREEN_CHUNK = 256  # quantities per block of the screen: bounds its memory at about SEARCH_ROWS x 256 floats x 8


def _screen_r2(values: dict[str, np.ndarray], inputs: list[str], pairs: list[tuple[str, str, str]]) -> np.ndarray:
    """Squared correlation of every pair quantity with every input column, shape ``(len(pairs), len(inputs))``.

    The same figure as :func:`_r2` (on the rows where both are finite), for all targets at once:
    six matrix products of centred sums instead of one ``np.corrcoef`` per (quantity, target)
    (0.5 s instead of 10.7 s for the 20 columns of a history's aggregates). NaN where a value
    overflows or a column is constant.
    """
    targets = np.column_stack([values[c] for c in inputs]) if inputs else np.zeros((0, 0))
    d_ok = np.isfinite(targets)
    d0 = _centred(targets, d_ok)
    out = np.empty((len(pairs), len(inputs)))
    for start in range(0, len(pairs), SCREEN_CHUNK):
        block = pairs[start : start + SCREEN_CHUNK]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            q = np.column_stack([OPS[op](values[a], values[b]) for op, a, b in block])
            q_ok = np.isfinite(q)
            q0 = _centred(q, q_ok)
            q_ok, d_ok = q_ok.astype(float), d_ok.astype(float)
            count = q_ok.T @ d_ok
            sum_q, sum_d = q0.T @ d_ok, q_ok.T @ d0
            var_q = (q0 * q0).T @ d_ok - sum_q * sum_q / count
            var_d = q_ok.T @ (d0 * d0) - sum_d * sum_d / count
            cov = q0.T @ d0 - sum_q * sum_d / count
            r2 = cov * cov / (var_q * var_d)
        # A constant column's rounding gives an R^2 of order 1e-16, not a high one; a zero variance
        # gives NaN or inf, which the search checks exactly.
        out[start : start + len(block)] = np.where(count < 10, 0.0, np.where(r2 <= 1 + 1e-9, r2, np.nan))
    return out


def _centred(columns: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Each column minus the mean of its finite values, 0 where not finite.

    Centring first keeps the sums of squares of large amounts from swamping their variance.
    """
    zeroed = np.where(finite, columns, 0.0)
    means = zeroed.sum(axis=0) / np.maximum(finite.sum(axis=0), 1)
    return np.where(finite, zeroed - means, 0.0)


def _best_pair_relation(values: dict[str, np.ndarray], target: str, pairs: list[tuple[str, str, str]], screened: np.ndarray):
    """The first quantity (in the search order) with the highest R^2 against ``target``: ``(r2, op, [a, b])`` or None.

    Only quantities the screen puts near the best (or could not screen) are checked exactly, in
    the search order; the others cannot be the answer.
    """
    usable = np.array([target not in (a, b) for _, a, b in pairs], dtype=bool)
    if not usable.any():
        return None
    scores = np.where(usable, screened, -np.inf)
    finite = np.isfinite(scores)
    top = np.max(scores[finite]) if finite.any() else -np.inf
    near = usable & (~np.isfinite(screened) | (scores >= top - SCREEN_MARGIN))
    best, d = None, values[target]
    for index in np.flatnonzero(near):
        op, a, b = pairs[index]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r2 = _r2(OPS[op](values[a], values[b]), d)
        if best is None or r2 > best[0] + 1e-12:
            best = (r2, op, [a, b])
    return best


def _r2(q, d) -> float:
    q, d = np.asarray(q, dtype=float), np.asarray(d, dtype=float)
    ok = np.isfinite(q) & np.isfinite(d)
    if ok.sum() < 10 or np.std(q[ok]) == 0 or np.std(d[ok]) == 0:
        return 0.0
    r = np.corrcoef(q[ok], d[ok])[0, 1]
    return float(r * r) if np.isfinite(r) else 0.0


def _relation_feature(base: pd.DataFrame, target: str, op: str, inputs: list[str]) -> DerivedFeature:
    raw = DerivedFeature(name="", op=op, inputs=inputs)
    q = raw.compute(base).to_numpy()
    d = base[target].to_numpy(dtype=float)
    ok = np.isfinite(q) & np.isfinite(d)
    scale, offset = _snap(q[ok], d[ok], *np.polyfit(q[ok], d[ok], 1))
    recovered = scale * q + offset
    integral = float(np.mean(np.abs(recovered[np.isfinite(recovered)] - np.round(recovered[np.isfinite(recovered)])) < 1e-6))
    r2 = _r2(q, d)
    residual = np.abs(recovered[ok] - d[ok])
    evidence = {
        "relation": f"{target} ~ {_describe(op, inputs, scale, offset)}",
        "target": target,
        "r2": round(r2, 6),
        "pure_function": r2 >= EXACT_R2,
        "rows_checked": int(ok.sum()),
        "rows_within_1pct": round(float(np.mean(residual <= 0.01 * np.maximum(np.abs(d[ok]), 1e-12))), 4),
        "integral_share": round(integral, 4),
    }
    return DerivedFeature(
        name=f"{target}__recovered",
        op=op,
        inputs=inputs,
        scale=scale,
        offset=offset,
        rounded=integral >= INTEGRAL_SHARE and not np.allclose(d[ok], np.round(d[ok])),
        evidence=evidence,
    )


def _snap(q: np.ndarray, d: np.ndarray, scale: float, offset: float) -> tuple[float, float]:
    """The simplest round coefficients (1 or 2 significant digits, offset 0 first) that fit almost as well."""
    fitted = np.mean((scale * q + offset - d) ** 2)
    for nice_scale in (_round_sig(scale, 1), _round_sig(scale, 2)):
        for nice_offset in (0.0, _round_sig(offset, 1), _round_sig(offset, 2)):
            if np.mean((nice_scale * q + nice_offset - d) ** 2) <= fitted * 1.01 + 1e-12:
                return nice_scale, nice_offset
    return float(scale), float(offset)


def _round_sig(value: float, digits: int) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    return float(round(value, digits - 1 - int(math.floor(math.log10(abs(value))))))


def _describe(op: str, inputs: list[str], scale: float, offset: float) -> str:
    return DerivedFeature("", op, inputs, scale, offset).formula()


def candidate_features(base: pd.DataFrame, relations: list[DerivedFeature]) -> list[DerivedFeature]:
    """Recovered quantities (not pure functions) and rounded noisy counts.

    No logs of heavy-tailed columns. The preprocessor already puts a column that spans orders of
    magnitude on a log scale; below that, a log changes neither gbdt's splits nor the neural
    models' quantiles, and selection's LightGBM, whose splits a monotone map does not move,
    kept one only by chance.
    """
    candidates = [r for r in relations if not r.evidence["pure_function"]]
    for name in base.columns:
        values = base[name].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if len(finite) == 0:
            continue
        fractional = np.mean(np.abs(finite - np.round(finite)) > 1e-9)
        if 0.5 < fractional and finite.min() >= 0 and np.median(finite) < 1000 and np.mean(finite >= 0.5) > 0.9:
            candidates.append(DerivedFeature(f"{name}__rounded", "round", [name], rounded=True, evidence={"why": "fractional values of a count-like column"}))
    return candidates


def select_features(
    X: np.ndarray, base: pd.DataFrame, candidates: list[DerivedFeature], y: np.ndarray, *, categorical: list[int], seed: int = 0
) -> tuple[list, list, float, float]:
    """Greedy forward selection by the OOF F1 of a fast LightGBM; returns (kept, rejected, baseline F1, final F1).

    Above :data:`SELECTION_ROWS` rows the F1s are those of a seeded sample of that many rows.
    """
    if len(y) > SELECTION_ROWS:
        rows = selection_sample(len(y), seed)
        X, base, y = X[rows], base.iloc[rows], y[rows]
    splits = min(SELECTION_FOLDS, int(np.bincount(y, minlength=2).min()))
    if splits < 2:  # a single row of a class: no out-of-fold F1 to judge a feature by, so none is kept
        return [], list(candidates), float("nan"), float("nan")
    folds = stratified_folds(y, splits, seed=seed)
    min_gain = max(MIN_GAIN, 1.0 / max(int(np.sum(y == 1)), 1))  # about one more positive found
    current = _fast_oof_f1(X, y, folds, categorical, seed)
    baseline, kept, rejected = current, [], []
    for candidate in candidates:
        trial = np.column_stack([X, *[f.compute(base) for f in kept], candidate.compute(base)])
        score = _fast_oof_f1(trial, y, folds, categorical, seed)
        candidate.evidence["oof_gain"] = round(score - current, 5)
        if score - current >= min_gain:
            kept.append(candidate)
            current = score
        else:
            rejected.append(candidate)
    return kept, rejected, baseline, current


def selection_sample(n_rows: int, seed: int) -> np.ndarray:
    """Sorted positions of the rows :func:`select_features` judges on: all ``n_rows``, or above
    :data:`SELECTION_ROWS` a seeded sample of that many.

    A caller with a big table draws it first and hands discovery those rows alone (selection then
    sees no more than the sample, and samples nothing again), so that no matrix of every row is
    built for discovery.
    """
    if n_rows <= SELECTION_ROWS:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=SELECTION_ROWS, replace=False))


def _fast_oof_f1(X, y, folds, categorical, seed) -> float:
    def fit_predict(_k, train_rows, valid_rows):
        model = GBDTClassifier(categorical_features=categorical, n_estimators=60, learning_rate=0.25, random_state=seed)
        return model.fit(X[train_rows], y[train_rows]).predict_proba(X[valid_rows])[:, 1]

    return f1_optimal_threshold(y, out_of_fold(folds, fit_predict, len(y)))[1]


def discover(base: pd.DataFrame, X: np.ndarray, y: np.ndarray, *, categorical: list[int], seed: int = 0) -> Discovery:
    """Find relations, build candidates, and keep those that raise OOF F1."""
    relations = find_relations(base, seed=seed)
    candidates = candidate_features(base, relations)
    kept, rejected, baseline, final = select_features(X, base, copy.deepcopy(candidates), y, categorical=categorical, seed=seed)
    return Discovery([r.evidence | {"feature": r.name, "formula": r.formula()} for r in relations], kept, rejected, baseline, final, candidates)


def select_within(
    rows: np.ndarray, found: Discovery, base: pd.DataFrame, X: np.ndarray, y: np.ndarray, *, categorical: list[int], seed: int = 0
) -> list[DerivedFeature]:
    """The features selection keeps when it sees only ``rows`` (one outer fold's training rows).

    Relations and candidates need no labels and come from all training rows; the label-driven
    choice is repeated here so the outer out-of-fold F1 never scores rows that chose features.
    """
    candidates = copy.deepcopy(found.candidates)
    return select_features(X[rows], base.iloc[rows], candidates, y[rows], categorical=categorical, seed=seed)[0]
