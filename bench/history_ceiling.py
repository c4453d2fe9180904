"""How far above ``gbdt`` on the window's aggregates can a model of the months get, on ``generate --history`` data?

Issue 15 asks the best sequence model to beat ``gbdt`` on the aggregates by 0.03 F1 and reach
95 % of the Bayes F1. The Bayes F1 is the F1 of the generator's true probabilities, which depend
on the latent pattern (an acceleration after a round, a hiring freeze), seen only through Poisson
postings, rounded headcounts and 5 % missing months. This bench measures what the observed months
allow, with ``gbdt`` (hotleads' own, default settings) on three sets of inputs:

- ``aggregates``: the company columns and the window's aggregates (what ``train --history`` gives it);
- ``+ told where to look``: the same plus features computed as if the learner knew the form: the
  months since the latest observed round, the mean postings before and after it, their ratio, the
  mean monthly log growth of headcount before and after it, the trend of that growth after it, and
  how many of the last months had at most one posting;
- at 12,000 training rows (the histories bench's size) and 200,000 (estimation no longer counts).

Each is scored on 20,000 fresh companies at its bagged out-of-fold threshold, as ``train`` chooses
it. A sequence model has to find those features itself, from the same rows.

    .venv/bin/python bench/history_ceiling.py [--sizes 12000,200000] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from hotleads import synth
from hotleads.estimators import GBDTClassifier
from hotleads.history import History, Window, aggregate, month_number
from hotleads.threshold import bagged_f1_threshold

MONTHS = 24
TEST_ROWS = 20_000
QUIET_MONTHS = 6  # how far back the "months with at most one posting" count looks


def companies_and_window(n: int, seed: int) -> tuple[pd.DataFrame, Window, np.ndarray]:
    """``n`` generated companies, their aligned window (n, MONTHS, 3) and true probabilities."""
    companies, history, proba = synth.make_history_companies(n, seed=seed, months=MONTHS)
    channels = synth.HISTORY_CHANNELS
    months = np.array([month_number(m) for m in history["month"].unique()])
    number = dict(zip(history["month"].unique(), months, strict=True))
    table = History(
        "company_id", history["company_id"].to_numpy(object), history["month"].map(number).to_numpy(np.int64),
        history[list(channels)].to_numpy(float), channels, int(months.max()), "generated",
    )  # fmt: skip
    return companies, table.window(companies["company_id"].to_numpy(object), MONTHS), proba


def static_columns(companies: pd.DataFrame) -> pd.DataFrame:
    dummies = pd.get_dummies(companies[["industry", "hq_region"]], dtype=float)
    return dummies.assign(log_employees=np.log10(companies["employees"].to_numpy(float)), founded_year=companies["founded_year"].astype(float))


def told_where_to_look(window: Window) -> pd.DataFrame:
    """Features aligned on each company's latest observed round (module docstring); NaN where undefined."""
    postings, headcount, funding = (window.values[:, :, c].astype(float) for c in range(3))
    t = np.arange(MONTHS)
    rounds = np.nan_to_num(funding) > 0
    funded = rounds.any(axis=1)
    latest = np.where(funded, MONTHS - 1 - np.argmax(rounds[:, ::-1], axis=1), -1)
    after, before = (t > latest[:, None]) & funded[:, None], (t <= latest[:, None]) & funded[:, None]
    growth = np.diff(np.log(headcount), axis=1)  # month t-1 -> t, NaN next to a missing month
    after_growth, before_growth = after[:, 1:], before[:, 1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # means of empty selections: NaN, as intended
        posts_after = np.nanmean(np.where(after, postings, np.nan), axis=1)
        posts_before = np.nanmean(np.where(before, postings, np.nan), axis=1)
        grow_after = np.nanmean(np.where(after_growth, growth, np.nan), axis=1)
        grow_before = np.nanmean(np.where(before_growth, growth, np.nan), axis=1)
        step = np.where(after_growth & ~np.isnan(growth), t[1:] - latest[:, None], np.nan)
        dx = step - np.nanmean(step, axis=1)[:, None]
        dy = np.where(np.isnan(step), np.nan, growth - grow_after[:, None])
        growth_trend = np.nansum(dx * dy, axis=1) / np.nansum(dx**2, axis=1)
    quiet = (np.nan_to_num(postings[:, -QUIET_MONTHS:], nan=0.0) <= 1).sum(axis=1)
    return pd.DataFrame(
        {
            "months_since_round": np.where(funded, MONTHS - 1 - latest, np.nan),
            "postings_before": posts_before,
            "postings_after": posts_after,
            "postings_ratio": posts_after / np.maximum(posts_before, 0.1),
            "growth_before": grow_before,
            "growth_after": grow_after,
            "growth_rise": grow_after - grow_before,
            "growth_trend_after": np.where(np.isfinite(growth_trend), growth_trend, np.nan),
            "quiet_months": quiet.astype(float),
        }
    )


def test_f1(X: pd.DataFrame, y: np.ndarray, train: int, seed: int) -> float:
    """gbdt fitted on the first ``train`` rows, its bagged out-of-fold threshold, F1 on the rest."""
    X = X.to_numpy(float)
    model = GBDTClassifier(random_state=seed, n_jobs=2)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    oof = cross_val_predict(model, X[:train], y[:train], cv=folds, method="predict_proba")[:, 1]
    threshold = bagged_f1_threshold(y[:train], oof, seed=seed)
    predicted = model.fit(X[:train], y[:train]).predict_proba(X[train:])[:, 1] >= threshold
    truth = y[train:] == 1
    return 2 * float((predicted & truth).sum()) / float(predicted.sum() + truth.sum())


def measure(train: int, seed: int) -> dict:
    companies, window, proba = companies_and_window(train + TEST_ROWS, seed)
    y = companies[synth.TARGET].to_numpy(int)
    bayes, _ = synth.bayes_f1(y[train:], proba[train:])
    base = pd.concat([static_columns(companies), aggregate(window)], axis=1)
    told = pd.concat([base, told_where_to_look(window)], axis=1)
    row = {"train": train, "seed": seed, "bayes_f1": bayes}
    for name, X in (("aggregates", base), ("told", told)):
        row[name] = test_f1(X, y, train, seed)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="12000,200000")
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()
    print("| train rows | seed | Bayes F1 | gbdt, aggregates | gbdt, + told where to look | difference |")
    print("|---:|---:|---:|---:|---:|---:|")
    for train in (int(s) for s in args.sizes.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            r = measure(train, seed)
            a, t, b = r["aggregates"], r["told"], r["bayes_f1"]
            print(f"| {train:,} | {seed} | {b:.4f} | {a:.4f} ({a / b:.1%}) | {t:.4f} ({t / b:.1%}) | {t - a:+.4f} |", flush=True)


if __name__ == "__main__":
    main()
