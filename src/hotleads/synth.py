"""Built-in synthetic data: a documented generative model of companies and hot leads.

The tables have the exact columns, column order, value ranges and quirks of the public
challenge table ``train.csv`` (see ``shared/data/hr-leads/README.md``), so every part of the
tool can be run and tested without it. Unlike the real data, the true probability of each
label is known, which gives the best F1 any model can reach (the Bayes ceiling).

Generative model
----------------
All draws come from one ``numpy.random.default_rng(seed)``; ``U(a, b)`` is uniform,
``N(m, s)`` normal, ``Poisson(l)`` Poisson, ``round1`` rounds to one decimal.

Latent company (one row):

* ``industry`` uniform over Tech, SaaS, Fintech, Healthcare, Retail; its growth trend
  ``industry_growth_rate = round1(U(lo, hi))`` with an industry-level range (Tech 10-30,
  SaaS 12-30, Fintech 8-28, Healthcare 5-25, Retail 5-20 %).
* ``regional_employment_trend = round1(U(-5, 15))`` (%).
* ``rounds = 1 + Poisson(2)``, capped at 10.
* ``total_funding = 100_000 + 10 ** (6.15 + 0.1 * rounds + N(0, 0.35))`` USD, in cents:
  heavy-tailed (lognormal), larger for companies with more rounds.
* ``days = integer U(1, 1827)``; ``last_funding_date = REFERENCE_DATE - days`` with
  ``REFERENCE_DATE = 2025-02-20``; recency ``r = exp(-days / 365)``.
* true job postings ``jobs = max(1, Poisson(9 + 5 r))``: recently funded companies hire more.
* true employee growth ``growth = round1(U(-10, 50))`` (%).
* main hiring role uniform over Engineering, Sales, Marketing, Operations.

True probability of being a hot lead, with standardised ``j = (jobs - 10) / 3.2``,
``g = (growth - 20) / 17.3``, ``t = (industry_growth_rate - 17.5) / 7``,
``e = (regional_employment_trend - 5) / 5.8``, ``f = (log10(total_funding) - 6.5) / 0.4``::

    z = -6.43 + 4.4 r + 2.0 j + 2.8 tanh(g) + 3.2 r j       (recent funding x hiring)
        + 1.2 t + 0.7 e + 0.6 f + 1.0 [2 <= rounds <= 4]     (growth stage)
        + role effect (Sales +0.6, Operations -0.4, else 0)
    p = 1 / (1 + exp(-z))           # mean about 0.15
    is_hot_lead ~ Bernoulli(p)

Observed columns:

* Derived columns use the true values, as in the real table:
  ``funding_per_employee = total_funding / (100 (growth + 1))`` (``inf`` where the true
  growth is exactly -1.0 %, about 0.17 % of rows; negative where it is below -1 %),
  ``growth_momentum = total_funding * jobs``,
  ``days_since_last_funding = days``.
* Train/test rows carry multiplicative noise ``x * (1 + N(0, 0.1))`` on ``funding_rounds``,
  ``job_postings_30d`` and ``employee_growth_pct`` (fractional counts, as in the real
  ``train.csv``); with ``clean_counts=True`` (the holdout) the true integers and the
  one-decimal growth are written instead: a deliberate distribution shift. The noise is
  drawn either way, so a seed gives the same companies and labels in both modes.
* About 1 % of ``employee_growth_pct`` and of ``regional_employment_trend`` is missing.
* ``company_name`` is built from a built-in list of surnames ("Moreno and Sons",
  "Strickland-Wright", "Cole, Bailey and Bowen", "Sanders Group").
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from .io import write_csv, write_json

GENERATOR = "hotleads.synth v1"
REFERENCE_DATE = np.datetime64("2025-02-20", "D")
MAX_DAYS = 1827
MIN_ROWS = 20
NOISE = 0.1
MISSING_SHARE = 0.01
MISSING_COLUMNS = ("employee_growth_pct", "regional_employment_trend")
SPLIT = (0.6, 0.2)  # train, test; the holdout gets the rest

COLUMNS = [
    "company_id",
    "company_name",
    "industry",
    "funding_rounds",
    "total_funding",
    "last_funding_date",
    "job_postings_30d",
    "employee_growth_pct",
    "hiring_roles",
    "industry_growth_rate",
    "regional_employment_trend",
    "funding_per_employee",
    "days_since_last_funding",
    "growth_momentum",
    "is_hot_lead",
]
TARGET = "is_hot_lead"

# industry -> range of industry_growth_rate (%)
INDUSTRY_GROWTH = {
    "Tech": (10.0, 30.0),
    "SaaS": (12.0, 30.0),
    "Fintech": (8.0, 28.0),
    "Healthcare": (5.0, 25.0),
    "Retail": (5.0, 20.0),
}
ROLE_EFFECT = {"Engineering": 0.0, "Sales": 0.6, "Marketing": 0.0, "Operations": -0.4}

SURNAMES = (
    "Adams Allen Alvarez Anderson Andrews Bailey Baker Barber Bennett Bowen Brandt Brewer "
    "Brooks Brown Campbell Carter Castro Clark Cole Collins Compton Conner Cook Cooper Craig "
    "Cruz Curtis Davis Day Diaz Edwards Evans Fisher Flores Foster Garcia Gomez Gonzalez Gray "
    "Green Hall Harris Hayes Hill Hubbard Hughes Jackson James Jenkins Johnson Jones Kelly "
    "Kim King Knight Lee Lewis Lopez Lowe Maddox Maldonado Martin Martinez Mcdonald Miller "
    "Mills Mitchell Montoya Mooney Moore Morales Moreno Morgan Morris Murphy Myers Nelson "
    "Nguyen Ortiz Parker Patel Perez Perry Peterson Phillips Poole Price Ramirez Reed Reyes "
    "Richardson Rivera Roberts Robinson Rogers Ross Sanchez Sanders Scott Simpson Smith "
    "Stewart Strickland Sullivan Taylor Thomas Thompson Torres Turner Villanueva Wagner "
    "Walker Ward Watson White Williams Wilson Wood Wright Young"
).split()
# name pattern -> share, close to the real table's
NAME_PATTERNS = {
    "{0}, {1} and {2}": 0.34,
    "{0}-{1}": 0.34,
    "{0} and Sons": 0.06,
    "{0} Ltd": 0.055,
    "{0} PLC": 0.055,
    "{0} Group": 0.05,
    "{0} Inc": 0.05,
    "{0} LLC": 0.05,
}


def make_companies(
    n_rows: int, *, seed: int = 0, clean_counts: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """Generate a labelled company table from the model in the module docstring.

    Parameters
    ----------
    n_rows : int
        Number of companies (>= 1).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same table.
    clean_counts : bool, default False
        Write the true integer counts (holdout style) instead of the noisy ones.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``COLUMNS`` in order, ids ``COMP_000000`` upwards.
    true_proba : numpy.ndarray
        True probability of ``is_hot_lead`` per row.
    """
    _check_int("n_rows", "make_companies", n_rows, 1)
    return _generate(n_rows, np.random.default_rng(seed), clean_counts=clean_counts)


def bayes_f1(y_true: np.ndarray, true_proba: np.ndarray) -> tuple[float, float]:
    """Best F1 reachable by thresholding the true probability.

    Rows with ``true_proba >= threshold`` are predicted positive. The threshold is chosen on
    the same labels, so the figure is a (slightly optimistic) ceiling for any model.

    Parameters
    ----------
    y_true : numpy.ndarray
        Labels, 0/1.
    true_proba : numpy.ndarray
        True probability per row, same length.

    Returns
    -------
    f1 : float
        Best F1; 0.0 when there is no positive label.
    threshold : float
        Probability threshold reaching it; 1.0 when there is no positive label.
    """
    y = np.asarray(y_true).astype(bool).ravel()
    p = np.asarray(true_proba, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y_true and true_proba differ in length: {y.size} != {p.size}.")
    n_pos = int(y.sum())
    if n_pos == 0:
        return 0.0, 1.0
    order = np.argsort(-p, kind="stable")
    p_sorted = p[order]
    tp = np.cumsum(y[order])
    predicted = np.arange(1, p.size + 1)
    # cut only after the last of a run of equal probabilities
    last = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    f1 = np.where(last, 2 * tp / (predicted + n_pos), -1.0)
    best = int(np.argmax(f1))
    return float(f1[best]), float(p_sorted[best])


def write_dataset(out_dir: str | Path, *, rows: int = 20_000, seed: int = 0) -> dict:
    """Write a synthetic train/test/holdout dataset and its Bayes ceiling.

    Writes ``train.csv`` and ``test.csv`` (labelled, noisy counts, shuffled ids),
    ``holdout.csv`` (no ``is_hot_lead``, clean integer counts, ids from ``COMP_000000``)
    and ``bayes.json``, each atomically.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to; created when missing.
    rows : int, default 20000
        Total rows, split 60 % train, 20 % test, 20 % holdout (>= 20).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives byte-identical files.

    Returns
    -------
    dict
        The content of ``bayes.json``.
    """
    _check_int("rows", "write_dataset", rows, MIN_ROWS)
    n_train = round(rows * SPLIT[0])
    n_test = round(rows * SPLIT[1])
    n_holdout = rows - n_train - n_test
    rng = np.random.default_rng(seed)
    labelled, proba = _generate(n_train + n_test, rng, clean_counts=False)
    order = rng.permutation(n_train + n_test)
    labelled, proba = labelled.iloc[order].reset_index(drop=True), proba[order]
    holdout, _ = _generate(n_holdout, rng, clean_counts=True)
    train, test = labelled.iloc[:n_train], labelled.iloc[n_train:]
    f1, threshold = bayes_f1(test[TARGET].to_numpy(), proba[n_train:])
    train_f1, _ = bayes_f1(train[TARGET].to_numpy(), proba[:n_train])
    report = {
        "seed": int(seed),
        "rows": {"train": n_train, "test": n_test, "holdout": n_holdout},
        "positive_rate": {
            "train": round(float(train[TARGET].mean()), 6),
            "test": round(float(test[TARGET].mean()), 6),
        },
        "test_bayes_f1": round(f1, 6),
        "test_bayes_threshold": round(threshold, 6),
        "train_bayes_f1": round(train_f1, 6),
        "generator": GENERATOR,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(train, out / "train.csv")
    write_csv(test, out / "test.csv")
    write_csv(holdout.drop(columns=TARGET), out / "holdout.csv")
    write_json(report, out / "bayes.json")
    return report


def _check_int(name: str, func: str, value: object, minimum: int) -> None:
    """Raise ValueError unless ``value`` is an int >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"The {name!r} parameter of {func} must be an int >= {minimum}. Got {value!r} instead."
        )


def _generate(
    n: int, rng: np.random.Generator, *, clean_counts: bool
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` companies from ``rng``: the table and the true probabilities."""
    latent = _draw_latent(n, rng)
    proba = _true_proba(latent)
    label = (rng.random(n) < proba).astype(np.int64)
    noise = {key: 1.0 + NOISE * rng.standard_normal(n) for key in ("rounds", "jobs", "growth")}
    missing = {col: rng.random(n) < MISSING_SHARE for col in MISSING_COLUMNS}
    names = _company_names(n, rng)
    table = _observe(latent, noise, clean_counts)
    table.insert(0, "company_id", [f"COMP_{i:06d}" for i in range(n)])
    table.insert(1, "company_name", names)
    for col, mask in missing.items():
        table.loc[mask, col] = np.nan
    table[TARGET] = label
    return table[COLUMNS], proba


def _draw_latent(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the true (latent) quantities of ``n`` companies."""
    industries = np.array(list(INDUSTRY_GROWTH))
    industry = industries[rng.integers(len(industries), size=n)]
    lo, hi = (np.array([INDUSTRY_GROWTH[i][k] for i in industry]) for k in (0, 1))
    rounds = np.minimum(1 + rng.poisson(2.0, size=n), 10)
    funding = 100_000 + 10 ** (6.15 + 0.1 * rounds + rng.normal(0.0, 0.35, size=n))
    days = rng.integers(1, MAX_DAYS + 1, size=n)
    recency = np.exp(-days / 365.0)
    roles = np.array(list(ROLE_EFFECT))
    return {
        "industry": industry,
        "industry_growth": np.round(rng.uniform(lo, hi), 1),
        "regional": np.round(rng.uniform(-5.0, 15.0, size=n), 1),
        "rounds": rounds,
        "funding": np.round(funding, 2),
        "days": days,
        "recency": recency,
        "jobs": np.maximum(1, rng.poisson(9.0 + 5.0 * recency)),
        "growth": np.round(rng.uniform(-10.0, 50.0, size=n), 1),
        "role": roles[rng.integers(len(roles), size=n)],
    }


def _true_proba(lat: dict[str, np.ndarray]) -> np.ndarray:
    """True hot-lead probability: the logistic model of the module docstring."""
    r = lat["recency"]
    j = (lat["jobs"] - 10.0) / 3.2
    g = (lat["growth"] - 20.0) / 17.3
    t = (lat["industry_growth"] - 17.5) / 7.0
    e = (lat["regional"] - 5.0) / 5.8
    f = (np.log10(lat["funding"]) - 6.5) / 0.4
    stage = (lat["rounds"] >= 2) & (lat["rounds"] <= 4)
    role = np.array([ROLE_EFFECT[x] for x in lat["role"]])
    z = (
        -6.43 + 4.4 * r + 2.0 * j + 2.8 * np.tanh(g) + 3.2 * r * j
        + 1.2 * t + 0.7 * e + 0.6 * f + 1.0 * stage + role
    )
    return 1.0 / (1.0 + np.exp(-z))


def _observe(lat: dict[str, np.ndarray], noise: dict[str, np.ndarray], clean: bool) -> pd.DataFrame:
    """Observed columns (no id, name or label) from the latent values."""
    funding, growth, jobs = lat["funding"], lat["growth"], lat["jobs"]
    with np.errstate(divide="ignore"):
        per_employee = funding / (100.0 * (growth + 1.0))
    date = (REFERENCE_DATE - lat["days"].astype("timedelta64[D]")).astype(str)
    if clean:
        rounds_obs, jobs_obs, growth_obs = lat["rounds"], jobs, growth
    else:
        rounds_obs = lat["rounds"] * noise["rounds"]
        jobs_obs = jobs * noise["jobs"]
        growth_obs = growth * noise["growth"]
    return pd.DataFrame(
        {
            "industry": lat["industry"],
            "funding_rounds": rounds_obs,
            "total_funding": funding,
            "last_funding_date": date,
            "job_postings_30d": jobs_obs,
            "employee_growth_pct": growth_obs,
            "hiring_roles": lat["role"],
            "industry_growth_rate": lat["industry_growth"],
            "regional_employment_trend": lat["regional"],
            "funding_per_employee": per_employee,
            "days_since_last_funding": lat["days"].astype(np.int64),
            "growth_momentum": funding * jobs,
        }
    )


def _company_names(n: int, rng: np.random.Generator) -> list[str]:
    """Plausible fake company names from the built-in surname list."""
    patterns = list(NAME_PATTERNS)
    shares = np.array(list(NAME_PATTERNS.values()))
    kind = rng.choice(len(patterns), size=n, p=shares / shares.sum())
    words = np.array(SURNAMES)[rng.integers(len(SURNAMES), size=(n, 3))]
    return [patterns[k].format(*w) for k, w in zip(kind, words.tolist())]
