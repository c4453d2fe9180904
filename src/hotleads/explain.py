"""Why a company scores as it does: per-lead reasons and global importance, per source column.

Attributions are per *source column* of the company table (what a salesperson knows), not per
model feature: a column's inf flag, its log transform and the discovered features computed from
it all count towards it. Positive contributions raise the score, negative ones lower it; both are
in log-odds of the uncalibrated final score (calibration is monotone, so the direction holds for
the lead score too).

- **A single LightGBM model: TreeSHAP**, LightGBM's exact ``pred_contrib``. A discovered feature's
  contribution is shared equally among the columns it is computed from. A bag of LightGBM fold
  models (:mod:`hotleads.bagging`) averages their log-odds, so its contributions are the mean of
  each fold model's, still exact.
- **Anything else (neural models, logistic regression, ensembles): occlusion.** A column's
  contribution is the log-odds of the final score minus the log-odds with that column replaced by
  its training reference value (median, most frequent category, median date), every other column
  unchanged: "how much this value moves the score compared with a typical company". It works for
  any model and ensemble, costs one extra prediction per column, and ignores interactions between
  columns that SHAP would split between them.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .estimators import GBDTClassifier
from .history import STAT_WORDS
from .metrics import logit
from .profile import date_days
from .schema import DataWarning, blank_headers_named

METHODS = {
    "tree-shap": "TreeSHAP (LightGBM pred_contrib), log-odds per source column",
    "occlusion": "occlusion: change in log-odds when the column is set to its training median / most frequent value",
}
REASONS = 3
IMPORTANCE_ROWS = 2000
CHUNK_ROWS = 4096  # occlusion predicts (columns + 1) copies of a chunk at once
_PERCENTILES = np.arange(1, 100)


@dataclass
class Explainer:
    """What attribution needs beyond the model: method, reference values and training percentiles."""

    method: str = "occlusion"
    reference: dict = field(default_factory=dict)  # column -> typical training value
    percentiles: dict = field(default_factory=dict)  # numeric/date column -> 1st..99th training percentile

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Explainer:
        return cls(**data)


def fit_explainer(predictor, references: tuple[dict, dict]) -> Explainer:
    """The explainer of a fitted ``predictor`` (a :class:`~hotleads.model.Predictor`): its method, and the
    :func:`column_references` of its training table (taken before the fits, which need not keep the table)."""
    return Explainer(_method(predictor), *references)


def column_references(features: pd.DataFrame, schema) -> tuple[dict, dict]:
    """(reference, percentiles) of the training feature columns: each column's typical value (median,
    most frequent category, median date) and the 1st..99th percentiles of the numeric and date ones."""
    reference, percentiles = {}, {}
    for column in schema.numeric:
        finite = features[column][np.isfinite(features[column])]
        reference[column] = float(finite.median()) if len(finite) else 0.0
        percentiles[column] = _percentiles(finite)
    for column in schema.categorical:
        counts = features[column].dropna().astype(str).value_counts()
        reference[column] = str(counts.index[0]) if len(counts) else None
    for column in schema.date:
        days = date_days(features[column])
        days = days[~np.isnan(days)]
        reference[column] = str(pd.Timestamp(np.median(days), unit="D").date()) if len(days) else None
        percentiles[column] = _percentiles(days)
    return reference, percentiles


def _method(predictor) -> str:
    return "tree-shap" if len(predictor.members) == 1 and _boosters(next(iter(predictor.members.values()))) else "occlusion"


def _boosters(estimator) -> list[tuple[object, np.ndarray | None]]:
    """``[(LightGBM booster, the columns of X it reads or None for all)]`` of a gbdt model or a bag of them; [] for any other model."""
    if isinstance(estimator, GBDTClassifier):
        return [(estimator.booster_, None)]
    fold_models = getattr(estimator, "estimators_", [])  # a BaggedClassifier
    if fold_models and all(isinstance(model, GBDTClassifier) for model in fold_models):
        return [(model.booster_, columns) for model, columns in zip(fold_models, estimator.columns_, strict=True)]
    return []


def _percentiles(values) -> list[float]:
    return np.percentile(values, _PERCENTILES).tolist() if len(values) else []


def contributions(predictor, features: pd.DataFrame, *, matrix: np.ndarray | None = None, sequences: np.ndarray | None = None) -> pd.DataFrame:
    """Signed contribution of each source column to each row's score, shape (n_rows, n_columns).

    ``matrix`` is ``predictor.preprocessor.transform(features)`` when the caller has it (scoring
    does): tree SHAP then reads it instead of transforming the rows again. ``sequences (n_rows,
    T, C)``: the rows' monthly windows, for members that read them; they are scored as they are
    (the reasons name the table's columns, the history's aggregates among them).
    """
    if predictor.explainer.method == "tree-shap":
        return _tree_shap(predictor, features, matrix)
    parts = [
        _occlusion(predictor, features.iloc[start : start + CHUNK_ROWS], None if sequences is None else sequences[start : start + CHUNK_ROWS])
        for start in range(0, len(features), CHUNK_ROWS)
    ]
    return pd.concat(parts) if parts else pd.DataFrame(columns=predictor.schema.features, dtype=float)


def _tree_shap(predictor, features: pd.DataFrame, matrix: np.ndarray | None) -> pd.DataFrame:
    X = _quiet_transform(predictor, features) if matrix is None else matrix
    boosters = _boosters(next(iter(predictor.members.values())))
    contrib = np.zeros(X.shape)
    for booster, columns in boosters:
        part = booster.predict(X if columns is None else X[:, columns], pred_contrib=True)[:, :-1]  # last column: the expected value
        contrib[:, slice(None) if columns is None else columns] += part / len(boosters)
    return pd.DataFrame(contrib @ _source_matrix(predictor), index=features.index, columns=predictor.schema.features)


def _source_matrix(predictor) -> np.ndarray:
    """(n_model_features, n_source_columns): how each model feature's contribution is shared."""
    sources = source_columns(predictor.preprocessor)
    columns = predictor.schema.features
    matrix = np.zeros((len(predictor.preprocessor.feature_names_), len(columns)))
    for i, feature in enumerate(predictor.preprocessor.feature_names_):
        for source in sources[feature]:
            matrix[i, columns.index(source)] = 1.0 / len(sources[feature])
    return matrix


def source_columns(preprocessor) -> dict[str, list[str]]:
    """Model feature name -> the table columns it is computed from."""
    sources = {}
    for name, params in preprocessor.numeric_.items():
        sources[name] = [name]
        if params["inf_flag"]:
            sources[f"{name}__inf"] = [name]
    sources.update({name: [name] for name in [*preprocessor.categories_, *preprocessor.reference_dates_]})
    sources.update({spec["name"]: list(dict.fromkeys(spec["inputs"])) for spec in preprocessor.derived_})
    return sources


def _occlusion(predictor, features: pd.DataFrame, sequences: np.ndarray | None = None) -> pd.DataFrame:
    columns = predictor.schema.features
    copies = [features] + [_with_reference(features, column, predictor.explainer.reference[column]) for column in columns]
    tiled = None if sequences is None else np.tile(sequences, (len(copies), 1, 1))  # each copy keeps its rows' windows
    logits = _raw_logit(predictor, pd.concat(copies, ignore_index=True), tiled).reshape(len(copies), len(features))
    return pd.DataFrame((logits[0] - logits[1:]).T, index=features.index, columns=columns)


def _with_reference(features: pd.DataFrame, column: str, value) -> pd.DataFrame:
    occluded = features.copy()
    replacement = pd.Series([value] * len(features), index=features.index, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(features[column]):
        replacement = pd.to_datetime(replacement).astype(features[column].dtype)
    elif pd.api.types.is_numeric_dtype(features[column]):
        replacement = replacement.astype("float64")
    occluded[column] = replacement
    return occluded


def _quiet_transform(predictor, features: pd.DataFrame) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # scoring the same rows has reported them
        return predictor.preprocessor.transform(features)


def _raw_logit(predictor, features: pd.DataFrame, sequences: np.ndarray | None = None) -> np.ndarray:
    X = _quiet_transform(predictor, features)
    return logit(predictor.combine(predictor.member_probas(X, sequences)))


def global_importance(predictor, features: pd.DataFrame, *, seed: int, rows: int = IMPORTANCE_ROWS, sequences: np.ndarray | None = None) -> dict:
    """Mean absolute contribution per source column on up to ``rows`` rows (:func:`importance_sample`); ``sequences`` as for :func:`contributions`."""
    sample = importance_sample(features, seed=seed, rows=rows)
    windows = None if sequences is None else sequences[features.index.get_indexer(sample.index)]  # the training table's index is unique
    values = contributions(predictor, sample, sequences=windows).abs().mean().sort_values(ascending=False)
    return {"method": METHODS[predictor.explainer.method], "rows": int(len(sample)), "values": {k: float(v) for k, v in values.items()}}


def importance_sample(features: pd.DataFrame, *, seed: int, rows: int = IMPORTANCE_ROWS) -> pd.DataFrame:
    """The rows :func:`global_importance` reads: all of ``features``, or above ``rows`` a sample of that many drawn with ``seed``."""
    return features.sample(n=rows, random_state=seed) if len(features) > rows else features


def reasons(predictor, features: pd.DataFrame, contrib: pd.DataFrame | None = None, *, k: int = REASONS, sequences: np.ndarray | None = None) -> pd.DataFrame:
    """``reason_1..k``: each row's largest contributions in words, strongest first.

    Example: ``"Job postings (last 30 days): 18, top 10 % — raises the score"``.
    """
    out = pd.DataFrame("", index=features.index, columns=[f"reason_{i + 1}" for i in range(k)], dtype=object)
    for position, column, rows, raises in _strongest(predictor, features, contrib, k, sequences):
        out.iloc[rows, position] = _sentences(predictor, column, features[column].iloc[rows], raises)
    return out


def reason_records(
    predictor, features: pd.DataFrame, contrib: pd.DataFrame | None = None, *, k: int = REASONS, sequences: np.ndarray | None = None
) -> list[list[dict]]:
    """The reasons of :func:`reasons` as records, per row a list of up to ``k``, strongest first.

    Each record has ``column``, ``value`` (as the model read it: a number, a category, an ISO
    date, or None when missing or infinite), ``direction`` (``"raises"`` or ``"lowers"``) and
    ``words``, the very text :func:`reasons` writes in that row's ``reason_i`` (what the scoring
    service returns beside the lead list's columns).
    """
    records: list[list[dict]] = [[] for _ in range(len(features))]
    for _, column, rows, raises in _strongest(predictor, features, contrib, k, sequences):  # position by position: each row's list stays in order
        values = features[column].iloc[rows]
        sentences = _sentences(predictor, column, values, raises)
        for row, value, up, words in zip(rows, _plain(values), raises, sentences, strict=True):
            records[row].append({"column": column, "value": value, "direction": "raises" if up else "lowers", "words": words})
    return records


def _strongest(predictor, features: pd.DataFrame, contrib: pd.DataFrame | None, k: int, sequences: np.ndarray | None = None):
    """(position, column, rows, raises) for each reason slot filled: the rows whose ``position``-th largest
    absolute contribution comes from ``column`` (a contribution of zero is no reason) and its sign."""
    contrib = contributions(predictor, features, sequences=sequences) if contrib is None else contrib
    values = contrib.to_numpy()
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    for position in range(order.shape[1]):
        for j in np.unique(order[:, position]):  # only the columns in this slot: one scored company has k of them
            rows = np.flatnonzero((order[:, position] == j) & (np.abs(values[:, j]) > 1e-9))
            if len(rows):
                yield position, contrib.columns[j], rows, values[rows, j] > 0


def _sentences(predictor, column: str, values: pd.Series, raises: np.ndarray) -> list[str]:
    words = describe(predictor, column, values)
    return [f"{w} — {'raises the score' if up else 'lowers the score'}" for w, up in zip(words, raises, strict=True)]


def _plain(values: pd.Series) -> list:
    """JSON-able values: floats (None for missing or infinite), categories, dates as ISO ``YYYY-MM-DD``."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return [None if pd.isna(v) else v.date().isoformat() for v in values]
    if pd.api.types.is_numeric_dtype(values):
        return [float(v) if np.isfinite(v) else None for v in values.to_numpy(dtype=float)]
    return [None if pd.isna(v) else str(v) for v in values]


def describe(predictor, column: str, values: pd.Series) -> list[str]:
    """``"<label>: <value>[, <position among training rows>]"`` for each value of ``column``."""
    label = humanise(column)
    schema = predictor.schema
    if column in schema.categorical:
        return [f"{label}: {'unknown' if pd.isna(v) else v}" for v in values]
    if column in schema.date:
        stamps = values if pd.api.types.is_datetime64_any_dtype(values) else pd.to_datetime(values)
        positions = _positions(date_days(values), predictor.explainer.percentiles.get(column, []), ("latest", "earliest"))
        return [f"{label}: {'missing' if pd.isna(s) else s.date()}{p}" for s, p in zip(stamps, positions, strict=True)]
    numbers = values.to_numpy(dtype=float)
    positions = _positions(numbers, predictor.explainer.percentiles.get(column, []), ("top", "bottom"))
    return [f"{label}: {_number(v)}{p}" for v, p in zip(numbers, positions, strict=True)]


def _positions(values: np.ndarray, percentiles: list[float], words: tuple[str, str]) -> list[str]:
    """``", top 10 %"`` style position of each value among the training rows ('' when unknown or mid-range)."""
    if not percentiles:
        return [""] * len(values)
    percentiles = np.asarray(percentiles)
    at_or_above = np.searchsorted(percentiles, values, side="right")  # k: at or above the k-th percentile
    below = np.searchsorted(percentiles, values, side="left")  # k: below the (k+1)-th percentile
    high, low = words
    # a value many rows share (0 postings for most companies) spans a block of percentiles: it is high only when the
    # block lies above the median, and low only when it lies below it
    above, under = below >= 50, at_or_above <= 50
    labels = np.select(
        [~np.isfinite(values), above & (at_or_above >= 90), above & (at_or_above >= 75), under & (below < 10), under & (below < 25)],
        ["", f", {high} 10 %", f", {high} 25 %", f", {low} 10 %", f", {low} 25 %"],
        ", mid-range",
    )
    return labels.tolist()


def _number(value: float) -> str:
    if np.isnan(value):
        return "missing"
    if np.isinf(value):
        return "infinite" if value > 0 else "minus infinite"
    if abs(value) >= 1e15:  # beyond any count or amount of money: digits would only make it unreadable
        return f"{value:.3g}"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f} M"
    if abs(value) >= 1e3 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


_UNITS = {"pct": "%", "percent": "%", "num": "number of", "avg": "average", "yoy": "year on year"}


def humanise(column: str) -> str:
    """A column name as words: ``job_postings_30d`` -> ``Job postings (last 30 days)``.

    Examples
    --------
    >>> humanise("employee_growth_pct"), humanise("job_postings_30d"), humanise("job_postings__slope")
    ('Employee growth %', 'Job postings (last 30 days)', 'Job postings, trend per month')
    >>> humanise("Unnamed: 4")
    'Column 5 (blank header)'
    """
    if column != (named := blank_headers_named(column)):  # a blank header cell: "Column 5 (blank header)", as messages name it
        return humanise(named) if "__" in named else named[:1].upper() + named[1:]
    channel, _, stat = column.rpartition("__")
    if channel and stat in STAT_WORDS:  # an aggregate of a monthly history
        return f"{humanise(channel)}, {STAT_WORDS[stat]}"
    words = []
    for word in re.split(r"[_\s]+", column.strip()):
        period = re.fullmatch(r"(\d+)([dwmy])", word.lower())
        if period:
            unit = {"d": "days", "w": "weeks", "m": "months", "y": "years"}[period.group(2)]
            words.append(f"(last {period.group(1)} {unit})")
        elif word:
            words.append(_UNITS.get(word.lower(), word))
    text = " ".join(words)
    return text[:1].upper() + text[1:]
