"""What the training data looked like, and how far the data being scored is from it.

:func:`profile_table` summarises the training feature columns in plain JSON (saved with the
model): per column its missing and infinite counts, range and quantiles, the share of values that
are whole numbers, the most frequent categories, the date range, and the bins and proportions that
:func:`drift` needs later. :func:`drift` compares a table to score with that profile, column by
column: population stability index (PSI) over the training bins, change of the missing rate and
of the whole-number share, values outside the training range and unseen categories, each drifted
column with a sentence a newcomer can act on.

PSI = sum over bins of (scored share - training share) * ln(scored share / training share), shares
floored at ``PSI_FLOOR`` so an empty bin counts as rare rather than infinite. The usual reading:
below 0.1 no shift, 0.1-0.25 a moderate shift, above 0.25 a major one.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from hotleads.schema import Schema
>>> schema = Schema(target="y", id=None, numeric=["x"])
>>> rng = np.random.default_rng(0)
>>> train = pd.DataFrame({"x": rng.normal(size=5000) * 1.01})
>>> profile = profile_table(train, schema)
>>> [d["severity"] for d in drift(profile, pd.DataFrame({"x": rng.normal(size=5000) * 1.01}), schema)]
['none']
>>> shifted = drift(profile, pd.DataFrame({"x": rng.normal(size=5000) + 1.0}), schema)[0]
>>> shifted["severity"], shifted["psi"] > 0.25
('major', True)
>>> whole = drift(profile, pd.DataFrame({"x": np.round(rng.normal(size=5000) * 3)}), schema)[0]
>>> "whole-numbers" in whole["flags"]
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .parsing import arrow_text
from .schema import Schema

PROFILE_VERSION = 1
QUANTILES = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
DECILES = np.linspace(0.1, 0.9, 9)
TOP_CATEGORIES = 30
PSI_FLOOR = 1e-4
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
MIN_ROWS_FOR_PSI = 100  # fewer scored values than this: PSI is sampling noise, judge by flags only
WHOLE_IN_TRAINING, NOISY_IN_TRAINING = 0.95, 0.5  # integral shares that make "whole numbers" a flag
MISSING_CHANGE = 0.05  # absolute change of the missing rate that is flagged
OUTSIDE_SHARE = 0.01  # share of values outside the training range (or unseen categories) flagged
SEVERITIES = ("none", "moderate", "major")


def profile_table(features: pd.DataFrame, schema: Schema, y: np.ndarray | None = None) -> dict:
    """Summary of the training feature columns, JSON-serialisable, with the bins :func:`drift` uses.

    Parameters
    ----------
    features : DataFrame
        Typed feature columns, as ``hotleads.schema.prepare(...).features``: numeric float64 (NaN,
        +/-inf allowed), categorical text or None, dates datetime64.
    schema : Schema
        Column roles; only ``schema.features`` are profiled.
    y : array of 0/1, optional
        Training labels, for the positive rate.

    Returns
    -------
    dict
        ``{"version", "rows", "positive_rate", "columns": {name: column profile}}``. A numeric or
        date column's ``bins`` are ``{"edges", "proportions"}``, proportions in the order
        missing, -inf, the ``len(edges) + 1`` finite bins, +inf (see :func:`numeric_bins`); a
        categorical column's are ``{"categories", "proportions"}`` in the order missing, each
        category, any other value.
    """
    columns = {}
    for name in schema.numeric:
        columns[name] = _numeric_profile(features[name].to_numpy(dtype=float), "numeric")
    for name in schema.categorical:
        columns[name] = _categorical_profile(features[name])
    for name in schema.date:
        columns[name] = _date_profile(features[name])
    positive_rate = None if y is None or len(y) == 0 else float(np.mean(y))
    return {"version": PROFILE_VERSION, "rows": int(len(features)), "positive_rate": positive_rate, "columns": columns}


def _numeric_profile(values: np.ndarray, role: str) -> dict:
    finite = values[np.isfinite(values)]
    edges = np.unique(np.quantile(finite, DECILES)) if finite.size else np.array([])
    summary = {
        "role": role,
        "rows": int(values.size),
        "missing": int(np.isnan(values).sum()),
        "pos_inf": int(np.isposinf(values).sum()),
        "neg_inf": int(np.isneginf(values).sum()),
        "min": _float(finite.min()) if finite.size else None,
        "max": _float(finite.max()) if finite.size else None,
        "mean": _float(finite.mean()) if finite.size else None,
        "quantiles": {key: _float(np.quantile(finite, q)) if finite.size else None for key, q in QUANTILES.items()},
        "integral_share": integral_share(finite),
        "bins": {"edges": [float(e) for e in edges], "proportions": numeric_bins(values, edges).tolist()},
    }
    return summary


def _categorical_profile(column: pd.Series) -> dict:
    present = column.dropna().astype(str)
    counts = present.value_counts(sort=True)
    counts = counts.iloc[np.lexsort((counts.index.to_numpy(), -counts.to_numpy()))]  # ties by name: deterministic
    top = [str(c) for c in counts.index[:TOP_CATEGORIES]]
    return {
        "role": "categorical",
        "rows": int(len(column)),
        "missing": int(len(column) - len(present)),
        "distinct": int(len(counts)),
        "top": {name: int(counts[name]) for name in top},
        "bins": {"categories": top, "proportions": category_bins(column, top).tolist()},
    }


def _date_profile(column: pd.Series) -> dict:
    days = date_days(column)
    summary = _numeric_profile(days, "date")
    dates = pd.to_datetime(column)
    summary["first"] = None if dates.isna().all() else dates.min().date().isoformat()
    summary["last"] = None if dates.isna().all() else dates.max().date().isoformat()
    return summary


def date_days(column: pd.Series) -> np.ndarray:
    """Dates as days since 1970-01-01 (float, NaN where missing), so they bin like numbers."""
    stamps = (column if pd.api.types.is_datetime64_any_dtype(column) else pd.to_datetime(column)).to_numpy(dtype="datetime64[ns]")
    days = stamps.astype("datetime64[s]").astype(np.int64) / 86400.0
    return np.where(np.isnat(stamps), np.nan, days)


def integral_share(values: np.ndarray) -> float | None:
    """Share of the finite values that are whole numbers (None when there is none).

    Examples
    --------
    >>> integral_share(np.array([1.0, 2.0, 2.5, np.nan, np.inf]))
    0.6666666666666666
    """
    finite = values[np.isfinite(values)]
    return float(np.mean(finite == np.round(finite))) if finite.size else None


def numeric_bins(values: np.ndarray, edges: np.ndarray | list[float]) -> np.ndarray:
    """Shares of ``values`` in: missing, -inf, the finite bins split at ``edges``, +inf.

    A value equal to an edge goes to the bin above it; finite values below the first or above the
    last edge fall in the outer bins. Shape ``(len(edges) + 4,)``; sums to 1 (all zeros when empty).

    Examples
    --------
    >>> numeric_bins(np.array([np.nan, -np.inf, 0.0, 1.0, 5.0, np.inf]), [1.0]).round(3).tolist()
    [0.167, 0.167, 0.167, 0.333, 0.167]
    """
    return _shares(numeric_codes(values, edges), len(edges) + 4)


def numeric_codes(values: np.ndarray, edges: np.ndarray | list[float]) -> np.ndarray:
    """Bin of each value, as :func:`numeric_bins` counts them: 0 missing, 1 -inf, 2.. finite, ``len(edges) + 3`` +inf.

    Examples
    --------
    >>> numeric_codes(np.array([np.nan, -np.inf, 0.0, 1.0, 5.0, np.inf]), [1.0]).tolist()
    [0, 1, 2, 3, 3, 4]
    """
    edges = np.asarray(edges, dtype=float)
    codes = np.full(values.shape, -1, dtype=np.int64)
    finite = np.isfinite(values)
    codes[np.isnan(values)] = 0
    codes[np.isneginf(values)] = 1
    codes[finite] = 2 + np.searchsorted(edges, values[finite], side="right")
    codes[np.isposinf(values)] = len(edges) + 3
    return codes


def category_bins(column: pd.Series, categories: list[str]) -> np.ndarray:
    """Shares of ``column`` in: missing, each of ``categories``, any other value."""
    return _shares(category_codes(column, categories), len(categories) + 2)


def category_codes(column: pd.Series, categories: list[str]) -> np.ndarray:
    """Bin of each value, as :func:`category_bins` counts them: 0 missing, 1.. ``categories``, ``len(categories) + 1`` other."""
    given = arrow_text(column)  # Arrow's hash join: Python strings of a 5,000,000-row column would take ~300 MiB
    known = pc.fill_null(pc.index_in(given, value_set=pa.array(categories, type=given.type)), -1).to_numpy()
    present = given.is_valid().to_numpy(zero_copy_only=False)
    return np.where(~present, 0, np.where(known >= 0, known + 1, len(categories) + 1))


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_bins).astype(float)
    return counts / counts.sum() if counts.sum() else counts


def psi(expected: np.ndarray | list[float], actual: np.ndarray | list[float]) -> float:
    """Population stability index of ``actual`` shares against ``expected`` (training) shares.

    Examples
    --------
    >>> psi([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> round(psi([0.5, 0.5], [0.9, 0.1]), 3)
    0.879
    """
    e = np.maximum(np.asarray(expected, dtype=float), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), PSI_FLOOR)
    return float(max(np.sum((a - e) * np.log(a / e)), 0.0))


def psi_noise(expected: np.ndarray | list[float], actual: np.ndarray | list[float], n_expected: int, n_actual: int) -> float:
    """PSI that two samples of these sizes from one distribution show by chance: (bins - 1) * (1/n1 + 1/n2).

    Two samples drawn from the same distribution never have equal shares; their PSI is about a
    chi-square with ``bins - 1`` degrees of freedom times ``1/n1 + 1/n2``. Severity is judged on
    PSI minus this, so 300 scored rows are not called "shifted" for sampling noise alone, while on
    large tables the correction vanishes.

    Examples
    --------
    >>> round(psi_noise([0.5, 0.5, 0.0], [0.4, 0.6, 0.0], 900, 300), 4)
    0.0044
    """
    used = int(np.count_nonzero((np.asarray(expected) > 0) | (np.asarray(actual) > 0)))
    return max(used - 1, 0) * (1.0 / max(n_expected, 1) + 1.0 / max(n_actual, 1))


def psi_severity(value: float) -> str:
    """ "none" below 0.1, "moderate" up to 0.25, "major" above."""
    return "major" if value > PSI_MAJOR else "moderate" if value >= PSI_MODERATE else "none"


def drift(train_profile: dict, features: pd.DataFrame, schema: Schema) -> list[dict]:
    """Per feature column, how ``features`` differs from the training data described by ``train_profile``.

    Parameters
    ----------
    train_profile : dict
        :func:`profile_table` of the training features.
    features : DataFrame
        Typed feature columns of the table being scored (``prepare(...).features``).
    schema : Schema
        The model's column roles; columns absent from the profile are skipped.

    Returns
    -------
    list of dict
        One per column, in schema order: ``column``, ``role``, ``rows``, ``psi``, ``psi_noise``
        (the PSI expected by chance at these sample sizes, :func:`psi_noise`), ``severity``
        ("none", "moderate" or "major": by PSI less ``psi_noise``, raised to at least "moderate"
        by any flag),
        ``flags`` (``whole-numbers``, ``decimals``, ``missing``, ``outside-range``,
        ``unseen-categories``), the training and scored values behind them (``missing_train``,
        ``missing_scored``, ``integral_train``, ``integral_scored``, ``outside_range``,
        ``unseen_share``) and ``message``, a sentence for the report ("" when nothing drifted).
    """
    profiles = train_profile["columns"]
    return [_column_drift(name, profiles[name], features[name]) for name in schema.features if name in profiles]


def _column_drift(name: str, trained: dict, column: pd.Series) -> dict:
    if trained["role"] == "categorical":
        result = _categorical_drift(trained, column)
    else:
        values = date_days(column) if trained["role"] == "date" else column.to_numpy(dtype=float)
        result = _numeric_drift(trained, values)
    result["missing_train"] = trained["missing"] / trained["rows"] if trained["rows"] else 0.0
    result["missing_scored"] = float(column.isna().mean()) if len(column) else 0.0
    if abs(result["missing_scored"] - result["missing_train"]) > MISSING_CHANGE:
        result["flags"].append("missing")
    scored_rows = int(column.notna().sum())
    severity = psi_severity(result["psi"] - result["psi_noise"]) if scored_rows >= MIN_ROWS_FOR_PSI else "none"
    if result["flags"] and severity == "none":
        severity = "moderate"
    result.update(column=name, role=trained["role"], rows=int(len(column)), severity=severity)
    result["message"] = _message(name, result, scored_rows) if severity != "none" else ""
    return {key: result[key] for key in _DRIFT_KEYS if key in result}


_DRIFT_KEYS = (
    "column",
    "role",
    "rows",
    "psi",
    "psi_noise",
    "severity",
    "flags",
    "missing_train",
    "missing_scored",
    "integral_train",
    "integral_scored",
    "outside_range",
    "unseen_share",
    "median_train",
    "median_scored",
    "top_change",
    "message",
)


def _numeric_drift(trained: dict, values: np.ndarray) -> dict:
    finite = values[np.isfinite(values)]
    shares = numeric_bins(values, trained["bins"]["edges"])
    lo, hi = trained["min"], trained["max"]
    outside = float(np.mean((finite < lo) | (finite > hi))) if finite.size and lo is not None else 0.0
    result = {
        "psi": psi(trained["bins"]["proportions"], shares) if values.size else 0.0,
        "psi_noise": psi_noise(trained["bins"]["proportions"], shares, trained["rows"], values.size),
        "flags": [],
        "integral_train": trained["integral_share"],
        "integral_scored": integral_share(finite),
        "outside_range": outside,
        "median_train": trained["quantiles"]["p50"],
        "median_scored": _float(np.median(finite)) if finite.size else None,
    }
    result["flags"].extend(_integral_flags(result["integral_train"], result["integral_scored"], trained["role"]))
    if outside > OUTSIDE_SHARE:
        result["flags"].append("outside-range")
    return result


def _integral_flags(train_share: float | None, scored_share: float | None, role: str) -> list[str]:
    if role != "numeric" or train_share is None or scored_share is None:
        return []
    if scored_share >= WHOLE_IN_TRAINING and train_share < NOISY_IN_TRAINING:
        return ["whole-numbers"]
    if train_share >= WHOLE_IN_TRAINING and scored_share < NOISY_IN_TRAINING:
        return ["decimals"]
    return []


def _categorical_drift(trained: dict, column: pd.Series) -> dict:
    categories = trained["bins"]["categories"]
    shares = category_bins(column, categories)
    present = column.dropna().astype(str)
    seen = set(categories) if trained["distinct"] <= len(categories) else None  # None: the profile kept only the top ones
    unseen = float((~present.isin(seen)).mean()) if seen is not None and len(present) else 0.0
    expected = np.asarray(trained["bins"]["proportions"])
    change = shares[1:-1] - expected[1:-1]
    biggest = int(np.argmax(np.abs(change))) if change.size else None
    result = {
        "psi": psi(expected, shares) if len(column) else 0.0,
        "psi_noise": psi_noise(expected, shares, trained["rows"], len(column)),
        "flags": ["unseen-categories"] if unseen > OUTSIDE_SHARE else [],
        "unseen_share": unseen,
        "top_change": None
        if biggest is None
        else {
            "category": categories[biggest],
            "train": float(expected[biggest + 1]),
            "scored": float(shares[biggest + 1]),
        },
    }
    return result


def _message(name: str, result: dict, scored_rows: int) -> str:
    """One plain sentence on how column ``name`` differs from training, most telling fact first."""
    parts = [_FLAG_TEXT[flag](result) for flag in result["flags"]]
    shift = psi_severity(result["psi"] - result["psi_noise"])
    if scored_rows >= MIN_ROWS_FOR_PSI and shift != "none":
        parts.append(f"its distribution has shifted ({shift}, PSI {result['psi']:.2f}){_shift_detail(result)}")
    return f"{name}: " + "; ".join(parts) + "."


def _shift_detail(result: dict) -> str:
    if result.get("top_change"):
        change = result["top_change"]
        return f": '{change['category']}' is {_pct(change['scored'])} of rows here, {_pct(change['train'])} in training"
    if result.get("median_scored") is not None and result.get("median_train") is not None:
        return f": median {_num(result['median_scored'])} here, {_num(result['median_train'])} in training"
    return ""


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.0f} %" if share >= 0.01 or share == 0 else f"{100 * share:.1f} %"


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


_FLAG_TEXT = {
    "whole-numbers": lambda r: f"values are whole numbers here ({_pct(r['integral_scored'])} of values) but not in training ({_pct(r['integral_train'])})",
    "decimals": lambda r: (
        f"values have decimals here (whole numbers on {_pct(r['integral_scored'])}) but were whole numbers in training ({_pct(r['integral_train'])})"
    ),
    "missing": lambda r: f"{_pct(r['missing_scored'])} of values are missing here, {_pct(r['missing_train'])} in training",
    "outside-range": lambda r: f"{_pct(r['outside_range'])} of values lie outside the training range",
    "unseen-categories": lambda r: f"{_pct(r['unseen_share'])} of values are categories never seen in training (scored as unknown)",
}


def _float(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
