"""Warnings about a training run that its figures alone would hide: a leak, a small class, degenerate scores.

:func:`training_checks` runs after the models are cross-fitted and returns plain JSON that is saved
with the model (``TrainingEvidence.training``) and shown in the report:

- ``column_auc``: per feature column, its single-column out-of-fold ROC-AUC (:func:`column_oof_auc`);
- ``warnings``: a list of ``{"kind", "column", "message"}``, ``kind`` one of

  - ``"leak"``: one column alone separates the classes out of fold (ROC-AUC >= ``LEAK_AUC``), as a
    field filled in after the outcome does (a deal's close value). On company tables an honest
    column ranks far below that (the strongest on the public challenge table reaches 0.82, the whole
    gbdt model 0.99), so a column at 0.99 by itself is almost surely the answer in disguise;
  - ``"small-class"``: the smaller class has fewer than ``MIN_CLASS_ROWS`` rows. Recall is a share
    of the positives: with n of them its 95 % margin is about 1.96 * sqrt(0.25 / n), already
    +/-0.18 at n = 30 (and +/-0.44 at n = 5), and the threshold is tuned on those same rows, so
    below 30 the out-of-fold F1 is a rough guess rather than an estimate;
  - ``"degenerate"``: the out-of-fold scores carry no ranking: every fold's model gave all its
    held-out rows the same score, or the OOF ROC-AUC is at most 0.5 (chance).

These are findings about the data and the fit, not errors: training completes and the caller
(``hotleads.training.train``) emits each message as a :class:`~hotleads.schema.DataWarning`.
(Kept apart from :mod:`hotleads.profile`, which describes the feature columns without labels for
the drift check at scoring time; everything here needs the labels and the training folds.)
"""

from __future__ import annotations

import shlex

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .folds import out_of_fold
from .profile import category_codes, date_days, numeric_codes
from .schema import Schema, column_words

LEAK_AUC = 0.99
MIN_CLASS_ROWS = 30
MAX_BINS = 50  # finer bins than this gain nothing for a leak that separates by a threshold: 2 % of rows a bin
ROWS_PER_BIN = 10  # fewer training rows a bin and its positive rate is noise
PRIOR_ROWS = 1.0  # a bin's positive rate is shrunk towards the fold's base rate as if it held this many more rows
CONSTANT_SPREAD = 1e-6  # held-out scores closer than this count as equal (balanced trees with no split give 0.5 +- 1e-12)


def training_checks(features: pd.DataFrame, schema: Schema, y: np.ndarray, oof: np.ndarray, folds: list) -> dict:
    """Single-column OOF AUCs and the warnings of a training run, JSON-serialisable.

    Parameters
    ----------
    features : DataFrame
        Typed feature columns of the training table (``prepare(...).features``), n_rows rows.
    schema : Schema
        Column roles; every column of ``schema.features`` is checked.
    y : array of 0/1, shape (n_rows,)
        Labels (1 = hot lead).
    oof : array, shape (n_rows,)
        The final predictor's out-of-fold probabilities.
    folds : list of (train_rows, valid_rows)
        The folds ``oof`` was cross-fitted on.

    Returns
    -------
    dict
        ``{"column_auc": {column: auc}, "warnings": [{"kind", "column", "message"}, ...]}``, the
        warnings in the order small-class, leak, degenerate.
    """
    column_auc = column_oof_auc(features, schema, y, folds)
    found = [small_class_warning(y), *leak_warnings(column_auc), degenerate_warning(y, oof, folds)]
    return {"column_auc": column_auc, "warnings": [warning for warning in found if warning]}


def column_oof_auc(features: pd.DataFrame, schema: Schema, y: np.ndarray, folds: list) -> dict[str, float]:
    """ROC-AUC of each feature column on its own, out of fold: its bins' positive rates as scores.

    In each fold the column is cut into bins learnt on the training rows (numeric and date columns
    at up to ``MAX_BINS`` quantiles, categorical columns by category; missing, -inf, +inf and
    unseen categories bins of their own), each bin scores the positive rate of its training rows
    (shrunk towards the base rate), and the held-out rows get their bin's rate. Model-free and
    any-shaped: a U-shaped relation or a telling "missing" counts as much as a monotonic one.

    Parameters
    ----------
    features : DataFrame
        Typed feature columns (``prepare(...).features``), n_rows rows.
    schema : Schema
        Column roles; the columns of ``schema.features`` are scored, in that order.
    y : array of 0/1, shape (n_rows,)
        Labels.
    folds : list of (train_rows, valid_rows)
        Index arrays covering every row once as ``valid_rows`` (as ``StratifiedKFold`` gives).

    Returns
    -------
    dict
        ``{column: auc}``, each rounded to 4 decimals; 0.5 for a column that tells nothing.

    Examples
    --------
    >>> from hotleads.folds import stratified_folds
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=400)
    >>> close_value = np.where(y == 1, rng.uniform(5e4, 2e5, size=400), 0.0)  # known once a deal is won
    >>> features = pd.DataFrame({"close_value": close_value, "noise": rng.normal(size=400)})
    >>> folds = stratified_folds(y, 5, seed=0)
    >>> auc = column_oof_auc(features, Schema(target="y", id=None, numeric=["close_value", "noise"]), y, folds)
    >>> auc["close_value"], auc["noise"] < 0.6
    (1.0, True)
    """
    y = np.asarray(y, dtype=int)
    roles = {**dict.fromkeys(schema.numeric, "numeric"), **dict.fromkeys(schema.categorical, "categorical"), **dict.fromkeys(schema.date, "date")}
    aucs = {}
    for name in schema.features:
        values = _column_values(features[name], roles[name])

        def bin_rates(_k, train_rows, valid_rows, values=values):
            codes, n_codes = _fold_codes(values, train_rows)
            return _bin_rates(codes[train_rows], y[train_rows], n_codes)[codes[valid_rows]]

        aucs[name] = round(roc_auc(y, out_of_fold(folds, bin_rates, len(y))), 4)
    return aucs


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic (ties count half); ``sklearn``'s value, at a tenth of its overhead.

    Examples
    --------
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.4, 0.8]))
    0.875
    """
    positive = np.asarray(y) == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _column_values(column: pd.Series, role: str) -> pd.Series | np.ndarray:
    """Categorical text as it is (a Series); numeric and date columns as floats, dates in days (shape (n_rows,))."""
    if role == "categorical":
        return column
    return date_days(column) if role == "date" else column.to_numpy(dtype=float)


def _fold_codes(values: pd.Series | np.ndarray, train_rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Bin codes of every row (shape (n_rows,)) with bins learnt on ``train_rows``, and the number of bins."""
    if isinstance(values, pd.Series):  # categorical, see _column_values
        categories = sorted(set(values.iloc[train_rows].dropna()))
        return category_codes(values, categories), len(categories) + 2
    finite = values[train_rows][np.isfinite(values[train_rows])]
    n_bins = int(np.clip(len(train_rows) // ROWS_PER_BIN, 2, MAX_BINS))
    edges = _quantile_edges(finite, n_bins) if finite.size else np.zeros(0)
    return numeric_codes(values, edges), len(edges) + 4


def _quantile_edges(finite: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner quantile edges of ``finite`` (shape (n,)); a value that fills several quantiles gets a bin of its own.

    A zero-inflated column (0 for every lead without a deal, the amount otherwise) would else share
    its zeros' bin with the smallest amounts.
    """
    quantiles, repeats = np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]), return_counts=True)
    return np.union1d(quantiles, np.nextafter(quantiles[repeats > 1], np.inf))


def _bin_rates(codes: np.ndarray, y: np.ndarray, n_codes: int) -> np.ndarray:
    """Positive rate of each bin, shape (n_codes,), shrunk towards ``y.mean()`` (an empty bin gets the mean)."""
    counts = np.bincount(codes, minlength=n_codes)
    positives = np.bincount(codes, weights=y, minlength=n_codes)
    return (positives + PRIOR_ROWS * y.mean()) / (counts + PRIOR_ROWS)


def leak_warnings(column_auc: dict[str, float]) -> list[dict]:
    """A ``"leak"`` warning for each column whose single-column OOF AUC is at least ``LEAK_AUC``, strongest first."""
    leaks = sorted((auc, name) for name, auc in column_auc.items() if auc >= LEAK_AUC)
    return [
        {
            "kind": "leak",
            "column": name,
            "message": (
                f"{column_words(name)} alone separates hot leads from the rest out of fold (ROC-AUC {auc:.3f}); "
                f"if it is only known after the outcome, drop it with --drop {shlex.quote(str(name))}"
            ),
        }
        for auc, name in reversed(leaks)
    ]


def small_class_warning(y: np.ndarray) -> dict | None:
    """A ``"small-class"`` warning when the smaller class has fewer than ``MIN_CLASS_ROWS`` rows."""
    counts = np.bincount(np.asarray(y, dtype=int), minlength=2)
    smaller = int(np.argmin(counts))
    count = int(counts[smaller])
    if count >= MIN_CLASS_ROWS:
        return None
    which = "hot leads (1)" if smaller == 1 else "other leads (0)"
    margin = 1.96 * np.sqrt(0.25 / count)
    message = (
        f"only {count} of the {len(y)} labelled rows are {which}, fewer than {MIN_CLASS_ROWS}: the out-of-fold F1 and "
        f"the threshold rest on so few rows that they can be off by +/-{margin:.2f} or more; read them as rough "
        f"and label more rows (at least {MIN_CLASS_ROWS} of each class)"
    )
    return {"kind": "small-class", "column": None, "message": message}


def degenerate_warning(y: np.ndarray, oof: np.ndarray, folds: list) -> dict | None:
    """A ``"degenerate"`` warning when every fold's held-out scores are equal or the OOF ROC-AUC is at most 0.5."""
    constant = all(np.ptp(oof[valid_rows]) < CONSTANT_SPREAD for _, valid_rows in folds)
    auc = roc_auc(y, oof)
    if not constant and auc > 0.5:
        return None
    reason = "every fold's model gave all its held-out leads the same score" if constant else f"their ROC-AUC is {auc:.3f}, no better than chance (0.5)"
    message = (
        f"the out-of-fold scores are degenerate: {reason}; the model does not rank leads, so its hot/cold calls "
        f"and OOF F1 mean nothing. Add labelled rows (here {len(y)}, {int(np.sum(y))} hot), try --models logreg, "
        "or lower --folds so each fold's model sees more rows"
    )
    return {"kind": "degenerate", "column": None, "message": message}
