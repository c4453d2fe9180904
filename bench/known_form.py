"""How much of the Bayes F1 can a learner reach from n rows if it is *told* the true model's form?

The small-table goals are shares of the Bayes F1, the F1 of the generator's true probabilities.
Those probabilities use what a table does not always show: values that are missing (a few
percent of several columns in every family) and, in ``hr-leads``, the noise on the observed
funding rounds. And with n rows every learner must estimate the effects it uses. This bench
measures both for each built-in family with a *known-form* reference: a logistic regression on
exactly the terms of the family's true logit, computed from the observed columns (a missing
value gets the column's mean and an indicator), with its L2 strength chosen by 5-fold
cross-validated log loss and its threshold F1-optimal on out-of-fold probabilities, as hotleads
chooses its own. No learner that has to find the form as well can be expected to beat it by more
than noise.

- ``n rows``: the reference trained on the same tables as ``bench/small_tables.py`` (same seeds,
  same 20,000-row test tables), test F1 as a share of the test table's Bayes F1;
- ``ceiling``: the reference trained on 200,000 rows, so estimation no longer counts: what the
  observed columns allow at all.

    .venv/bin/python bench/known_form.py [--sizes 500,1200,3000,12000] [--seeds 0,1,2] [--families ...]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from small_tables import SEEDS, SIZES, f1_of, tables  # bench/small_tables.py, beside this file

CEILING_ROWS = 200_000


def _filled(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values with NaN replaced by the column mean, 0/1 missing indicator)."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    missing = np.isnan(numbers)
    return np.where(missing, np.nanmean(numbers), numbers), missing.astype(float)


def _dummies(values: pd.Series, name: str) -> pd.DataFrame:
    return pd.get_dummies(values.astype("object").fillna("(missing)"), prefix=name, dtype=float)


def _hr_leads(frame: pd.DataFrame) -> pd.DataFrame:
    funding = frame["total_funding"].to_numpy(float)
    recency = np.exp(-frame["days_since_last_funding"].to_numpy(float) / 365.0)
    jobs = frame["growth_momentum"].to_numpy(float) / funding  # growth_momentum = funding x jobs, exactly
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = funding / (100.0 * frame["funding_per_employee"].to_numpy(float)) - 1.0  # its definition, inverted
    growth = np.where(np.isfinite(growth), growth, -1.0)
    regional, regional_missing = _filled(frame["regional_employment_trend"])
    rounds = np.round(frame["funding_rounds"].to_numpy(float))
    j = (jobs - 10.0) / 3.2
    terms = {
        "recency": recency,
        "jobs": j,
        "tanh_growth": np.tanh((growth - 20.0) / 17.3),
        "recency_x_jobs": recency * j,
        "industry_growth": frame["industry_growth_rate"].to_numpy(float),
        "regional": regional,
        "regional_missing": regional_missing,
        "log_funding": np.log10(funding),
        "stage": ((rounds >= 2) & (rounds <= 4)).astype(float),
    }
    return pd.concat([pd.DataFrame(terms, index=frame.index), _dummies(frame["hiring_roles"], "role")], axis=1)


def _hiring_thresholds(frame: pd.DataFrame) -> pd.DataFrame:
    from hotleads import synth

    headcount, headcount_missing = _filled(frame["headcount"])
    days = (pd.Timestamp(synth.REFERENCE_DATE) - pd.to_datetime(frame["last_funding_date"])).dt.days.to_numpy(float)  # NaN: never funded
    stage = frame["funding_stage"].isin(synth.SWEET_SPOT_STAGES).to_numpy()
    sweet = (headcount >= 50) & (headcount < 500) & stage & (np.nan_to_num(days, nan=1e9) <= 540)
    rating = pd.to_numeric(frame["glassdoor_rating"]).to_numpy(float)
    attrition = pd.to_numeric(frame["attrition_rate_pct"]).to_numpy(float)
    unknown = np.isnan(rating) | np.isnan(attrition)
    match = np.where(unknown, 0.0, np.where((rating >= 3.5) == (attrition >= 15.0), 1.0, -1.0))
    seats = frame["hr_software_seats"].to_numpy(float)
    terms = {
        "sweet": sweet.astype(float),
        "sweet_headcount_missing": headcount_missing * stage,
        "match": match,
        "match_missing": unknown.astype(float),
        "seats_gt_50": (seats > 50).astype(float),
        "seats_gt_250": (seats > 250).astype(float),
        "postings_ge_8": (frame["job_postings_30d"].to_numpy(float) >= 8).astype(float),
    }
    return pd.DataFrame(terms, index=frame.index)


def _crm_export(frame: pd.DataFrame) -> pd.DataFrame:
    from hotleads import synth

    parts = [_dummies(frame[col], col) for col in synth.CRM_LEVELS]
    opens, opens_missing = _filled(frame["email_opens_90d"])
    visits, visits_missing = _filled(frame["web_visits_30d"])
    idle, idle_missing = _filled(frame["days_since_last_activity"])
    terms = {
        "log_opens": np.log1p(opens),
        "opens_missing": opens_missing,
        "tanh_visits": np.tanh((visits - 4.0) / 4.0),
        "visits_missing": visits_missing,
        "sqrt_idle": np.sqrt(idle / 365.0),
        "idle_missing": idle_missing,
    }
    return pd.concat([pd.DataFrame(terms, index=frame.index), *parts], axis=1)


def _trial_signups(frame: pd.DataFrame) -> pd.DataFrame:
    minutes, minutes_missing = _filled(frame["session_minutes_7d"])
    m = np.log(np.maximum(minutes, 0.1))
    terms = {
        "tanh_active": np.tanh((frame["active_days_14d"].to_numpy(float) - 5.0) / 3.0),
        "log_seats": np.log1p(frame["seats_invited"].to_numpy(float)),
        "log_minutes": m,
        "log_minutes_squared": m**2,  # with log_minutes, spans the true -(m - 4.3)^2 without being told 4.3
        "minutes_missing": minutes_missing,
        "integrations": frame["integrations_connected"].to_numpy(float),
    }
    return pd.concat([pd.DataFrame(terms, index=frame.index), _dummies(frame["signup_channel"], "channel")], axis=1)


TERMS = {"hr-leads": _hr_leads, "hiring-thresholds": _hiring_thresholds, "crm-export": _crm_export, "trial-signups": _trial_signups}


def known_form_f1(family: str, frame: pd.DataFrame, test: pd.DataFrame, target: str, seed: int) -> float:
    """Test F1 of the known-form logistic regression fitted on ``frame``, at its out-of-fold F1-optimal threshold."""
    from hotleads.threshold import f1_optimal_threshold

    x, x_test = TERMS[family](frame), TERMS[family](test)
    x_test = x_test.reindex(columns=x.columns, fill_value=0.0)  # a level the training rows never showed
    y = frame[target].to_numpy()
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=12, cv=folds, scoring="neg_log_loss", max_iter=5000))
        best_c = float(search.fit(x, y)[-1].C_[0])
        model = make_pipeline(StandardScaler(), LogisticRegression(C=best_c, max_iter=5000))
        oof = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
        threshold = f1_optimal_threshold(y, oof)[0]
        proba = model.fit(x, y).predict_proba(x_test)[:, 1]
    return f1_of(test[target].to_numpy(), proba >= threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--families", default=",".join(TERMS))
    args = parser.parse_args()
    sizes, seeds = [int(s) for s in args.sizes.split(",")], [int(s) for s in args.seeds.split(",")]
    families = args.families.split(",")
    print("| family | " + " | ".join(f"{n:,} rows" for n in sizes) + f" | ceiling ({CEILING_ROWS:,} rows) |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for family in families:
        shares = []
        for rows in [*sizes, CEILING_ROWS]:
            runs = seeds if rows != CEILING_ROWS else seeds[:1]
            values = []
            for seed in runs:
                frame, test, _, bayes, target = tables(family, rows, seed)
                values.append(known_form_f1(family, frame, test, target, seed) / bayes)
            shares.append(f"{np.mean(values):.1%}")
        print(f"| {family} | " + " | ".join(shares) + " |", flush=True)


if __name__ == "__main__":
    main()
