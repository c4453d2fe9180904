"""Built-in synthetic data: documented generative models of companies and hot leads.

Each *family* (``FAMILIES``) is one generative model with its own columns and its own shape
of signal, so that a change to the models can be checked on more than one kind of data:

================== ==========================================================================
family             signal
================== ==========================================================================
hr-leads           the default: the public challenge table's columns; smooth effects, one
                   product interaction, noisy counts (below)
hiring-thresholds  step functions and interactions only (an AND of three thresholds, an XOR
                   of two numbers, steps of a count): trees beat an additive model
crm-export         a CRM export: 11 categorical columns of 5-50 levels (many rare) with
                   random level effects, three smooth numeric effects: additive, suits a
                   linear model on one-hot columns
trial-signups      few signal columns, smooth non-linear additive effects, noisy labels:
                   a low ceiling
================== ==========================================================================

A fifth model, ``hr-histories`` (:func:`write_history_dataset`), adds to a company table a
long table of monthly histories whose label depends on the order of the months (below).

``hr-leads`` has the exact columns, column order, value ranges and quirks of the public
challenge table ``train.csv`` (see ``shared/data/hr-leads/README.md``), so every part of the
tool can be run and tested without it. Unlike real data, the true probability of each label
is known, which gives the best F1 any model can reach (the Bayes ceiling). In every family
the target is ``is_hot_lead`` (0/1, the last column); the id column differs
(:func:`id_column`), and ``hotleads train`` infers both without options.

Generative model: hr-leads
--------------------------
All draws come from one ``numpy.random.default_rng(seed)`` (in every family);
``U(a, b)`` is uniform, ``N(m, s)`` normal, ``Poisson(l)`` Poisson, ``round1`` rounds to one
decimal, ``[c]`` is 1 where ``c`` holds, else 0.

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

Generative model: hiring-thresholds
-----------------------------------
Leads ``LEAD_000000`` upwards with a ``company_name`` as in hr-leads; the columns hold the
true values (no noise), some of them missing:

* ``funding_stage``: Bootstrapped 22 %, Pre-seed 10, Seed 18, Series A 20, Series B 16,
  Series C+ 14 %.
* ``headcount = round(10 ** U(0.7, 3.7))`` (5 to 5,012, log-uniform).
* ``days = integer U(1, 1461)``; ``last_funding_date = REFERENCE_DATE - days``, empty for
  Bootstrapped companies (never funded; their ``days`` still enter the rule below, where they
  never matter since the stage fails it).
* ``glassdoor_rating = round1(U(2, 5))``, ``attrition_rate_pct = round1(U(2, 30))``.
* ``seats = hr_software_seats = round(10 ** U(0.5, 3))`` (3 to 1,000),
  ``postings = job_postings_30d ~ Poisson(6)``.
* Pure noise: ``linkedin_followers = round(10 ** N(3, 0.6))``, ``hq_region`` uniform over
  six regions.

::

    sweet = [50 <= headcount < 500] [funding_stage in (Series A, Series B)] [days <= 540]
    x     = +1 if [glassdoor_rating >= 3.5] == [attrition_rate_pct >= 15] else -1   (XOR)
    z = -7 + 8 sweet + 3 x + 2.5 [seats > 50] + 0.5 [seats > 250] + 3 [postings >= 8]
    p = 1 / (1 + exp(-z))           # mean about 0.15; Bayes F1 about 0.70

Missing: 3 % of ``headcount``, 10 % of ``glassdoor_rating``, 4 % of
``attrition_rate_pct`` (and the Bootstrapped dates). ``clean_counts`` has no effect.

Generative model: crm-export
----------------------------
Records ``00Q5e0000000000`` upwards (15-character, Salesforce-like lead ids), a
``company_name``, and ``created_date`` uniform from 2023-01-01 to ``REFERENCE_DATE`` (noise).
Eleven categorical columns, each drawn with Zipf shares ``w_k ~ k ** -a`` over its levels
``CRM_LEVELS`` (listed most frequent first), and each level ``k`` of column ``c`` with an
effect ``b_ck ~ N(0, s_c)``. The effects are part of the model, not of the data: drawn once from
``default_rng(CRM_MODEL_SEED)``, column by column, whatever the data seed.

======================  ======  =====  ====
column                  levels  s_c    a
======================  ======  =====  ====
lead_source             12      1.3    0.8
country                 25      1.1    1.2
billing_state           50      0.8    0.9   (US rows only; empty and no effect elsewhere)
contact_title           24      1.5    0.8
company_size_band       8       1.1    0.3
industry                20      0.9    0.7
hris_system             15      1.1    0.9
campaign                40      1.0    0.6
lead_owner              18      0.65   0.2
product_interest        6       0.65   0.5
email_domain_type       5       0.9    1.0
======================  ======  =====  ====

Numbers: ``email_opens_90d ~ NegBinomial(2, 0.25)`` (mean 6),
``web_visits_30d ~ Poisson(exp(N(1.2, 0.8)))``, ``days_since_last_activity = integer U(0, 365)``
(``log`` is natural here and in trial-signups)::

    z = -2.8 + sum_c b_c,level + 1.1 (log(1 + opens) - 1.7) + 1.7 tanh((visits - 4) / 4)
        - 2.0 sqrt(days_since_last_activity / 365)
    p = 1 / (1 + exp(-z))           # mean about 0.13; Bayes F1 about 0.69

Missing: 6 % of ``email_opens_90d``, 8 % of ``web_visits_30d``, 3 % of
``days_since_last_activity``. The rarest levels hold under 1 % of the rows (a billing state
about 0.2 %). ``clean_counts`` has no effect.

Generative model: trial-signups
-------------------------------
Trial accounts ``ACC-000000`` upwards, no company name; few signal columns and much label
noise:

* ``signup_date = REFERENCE_DATE - integer U(1, 365)`` and ``browser`` (Chrome 62 %,
  Safari 20, Edge 10, Firefox 8) and ``company_size = round(10 ** U(0.5, 3.5))``: noise.
* ``signup_channel``: Organic 40 % (effect 0), Paid Search 30 % (+0.6), Partner 20 %
  (-0.45), Social 10 % (-0.9).
* ``active_days_14d ~ Binomial(14, Beta(1.2, 2.5))``,
  ``seats_invited ~ Poisson(exp(N(0.5, 0.9)))``, ``session_minutes_7d = round1(exp(N(4, 1.1)))``
  (``m = log`` of it), ``integrations_connected ~ Binomial(5, 0.2)``.

::

    z = -3.4 + 2.4 tanh((active_days - 5) / 3) + 0.9 log(1 + seats) - 0.75 (m - 4.3) ** 2
        + 0.5 integrations + channel effect
    p = 1 / (1 + exp(-z))           # mean about 0.13; Bayes F1 about 0.58

Missing: 5 % of ``session_minutes_7d``, 12 % of ``company_size``. ``clean_counts`` has no
effect.

Generative model: hr-histories
------------------------------
:func:`make_history_companies` and :func:`write_history_dataset` (``hotleads generate
--history``) draw a company table and a long table of monthly histories, ``history.csv``:
``company_id, month, job_postings, headcount, funding_raised`` (``HISTORY_CHANNELS``), the month
as text ``YYYY-MM``, within the ``months`` months (default 24) that end at ``HISTORY_AS_OF =
2025-01`` (2023-02 to 2025-01). It is not one of ``FAMILIES`` (its data are two tables);
``bayes.json`` names it ``hr-histories``. Month ``t = 0 .. M - 1`` counts from the oldest month
of the window, ``M = months``.

Company (``company_id`` ``COMP_000000`` upwards, unique across the three splits;
``company_name`` as in hr-leads):

* ``industry`` uniform over Tech, SaaS, Fintech, Healthcare, Retail; ``hq_region`` uniform
  over the six ``HQ_REGIONS``.
* age ``a`` in months, the as-of month counting as 1: ``integer U(1, 24)`` for 15 % (young),
  else ``integer U(25, 360)``; founded in month ``HISTORY_AS_OF - (a - 1)``, ``founded_year``
  its year. A history starts at the later of that month and the window's first: young
  companies have short histories.
* 10 % have no history rows at all (and no temporal pattern).
* ``employees = max(2, round(10 ** N(1 + 0.12 min(a, 144) / 12, 0.45)))``: the headcount in
  the as-of month.
* base postings rate ``b = exp(N(log(1.2 + 0.9 log2(employees)), 0.35))`` a month; headcount
  drift ``d = N(0.005, 0.006)`` (monthly log growth).

The latent pattern, drawn before any series (a company with ``m`` months of history):

* rounds: ``k`` with P(0, 1, 2, 3) = 0.3, 0.4, 0.2, 0.1, thinned to
  ``Binomial(k, min(1, m / 24))``, at distinct months drawn uniformly among its own; each
  raises ``round(10 ** U(log10 5e5, log10 5e7), -3)`` USD (500,000 to 50,000,000). The latest
  round is in month ``r``, ``s = M - 1 - r`` months before the as-of month.
* ``accel`` (acceleration after a round): half of the companies with ``3 <= s <= 11`` (a round
  in the last 12 months, and at least 3 months after it): from the round on, the postings rate
  rises linearly, ``b (1 + c (t - r))`` for ``t > r``, slope ``c = U(0.15, 0.4)`` a month.
* organic growth (a distractor: no effect): the same linear rise over the last
  ``integer U(3, 11)`` months, for 55 % of the other funded companies (latest round 12 or more,
  or under 3, months before the as-of month) and 12 % of the unfunded ones, when the history
  is longer than the rise.
* ``freeze`` (hiring freeze): 12 % of the clearly active companies (``b >= 2.5``, 9 months of
  history or more): rate 0.1 in the last ``integer U(3, 6)`` months, accelerating or not.
* dip (a distractor: no effect): 10 % of the other clearly active companies: rate 0.1 in the
  last 1 or 2 months only.
* one-off spike (a distractor: no effect, but it inflates means and maxima): 25 % of the
  companies with 2 months or more: in one month other than the as-of month (none when it falls
  in a freeze or dip) the rate becomes ``rate * U(4, 8) + 3``.

Series: ``job_postings ~ Poisson(rate)``; ``headcount`` grows at the monthly log rate
``clip(d + 0.025 (rise - 1), -0.03, 0.06)`` (``rise`` the linear factor above; -0.005 in a
freeze or dip) back from ``employees`` in the as-of month, rounded (at least 1);
``funding_raised`` is the amount in a round's month, else 0. Then 5 % of the company-months
are dropped at random (gaps; a dropped round month hides its round).

True probability, with the static part ``x`` = industry effect (Tech +0.3, SaaS +0.4, Fintech
+0.1, Healthcare -0.2, Retail -0.5) + region effect (Northeast +0.2, Southeast -0.1, Midwest
-0.2, Southwest 0, West +0.3, International -0.2) + ``0.35 (log10(employees) - 2)``::

    temporal_signal=True, from the latent pattern:
        z = -2.85 + x + accel (3.5 + 5 c) - 5.0 freeze
    temporal_signal=False (the control), from order-free aggregates of the observed rows:
        z = -14.5 + x + 3.5 log1p(mean job_postings) + 1.5 log1p(total funding_raised / 1e6)
            + 0.2 log1p(last headcount)
    p = 1 / (1 + exp(-z))   # mean about 0.15 in both; Bayes F1 about 0.77 and 0.71
    is_hot_lead ~ Bernoulli(p)

In the control, means and totals are over the observed months (0 without history) and the last
headcount is the last observed one (``employees`` without history). Both modes make every draw,
in the same order, so a seed gives the same companies and histories in both; only the label
differs. Order-free aggregates of the history (per channel: mean, max, last, total, months
observed) with the company columns, fitted on 6,000 companies (logistic regression or boosted
trees), reach about 55-61 % of the Bayes F1 on the temporal label and 94-100 % on the control.

Export styles
-------------
:func:`write_export` writes a generated table the way people really export tables (formatted
numbers, other date formats, delimiters, encodings, Excel), to test reading them: the values
keep their meaning, only how they are written changes.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import numbers
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import ParameterError
from .io import atomic_path, files_into, sha256_file, write_csv, write_json
from .metrics import sigmoid
from .threshold import sweep

GENERATOR = "hotleads.synth v1"
DATASET_FILES = ("train.csv", "test.csv", "holdout.csv", "bayes.json")  # and HISTORY_FILE with histories
HISTORY_FILE = "history.csv"
BAYES_FILE = "bayes.json"
REFERENCE_DATE = np.datetime64("2025-02-20", "D")
MAX_DAYS = 1827
MIN_ROWS = 20
NOISE = 0.1
MISSING_SHARE = 0.01
MISSING_COLUMNS = ("employee_growth_pct", "regional_employment_trend")
SPLIT = (0.6, 0.2)  # train, test; the holdout gets the rest

# export style -> the suffix such a file has (Excel saves "Unicode text" as .txt)
EXPORT_STYLES = {
    "plain": ".csv",
    "us-formatted": ".csv",
    "european": ".csv",
    "zoned-timestamps": ".csv",
    "us-dates": ".csv",
    "day-first-dates": ".csv",
    "cp1252": ".csv",
    "utf16-tab": ".txt",
    "excel": ".xlsx",
}
MONEY_COLUMNS = ("total_funding", "funding_per_employee")  # USD
PERCENT_COLUMNS = ("employee_growth_pct", "industry_growth_rate", "regional_employment_trend")
SUFFIX_COLUMN = "growth_momentum"  # the one column written 1.437M / 350.5k
DATE_COLUMN = "last_funding_date"
EXPORT_ZONE = "America/New_York"
# 13:00 UTC is 08:00 or 09:00 in New York: the same calendar date in both zones
ZONED_TIME_OF_DAY = pd.Timedelta(hours=13)
# "’", "Œ" and "–" are in cp1252 but not in Latin-1, so guessing Latin-1 shows
ACCENTED_NAMES = (
    "Société Générale",
    "Müller GmbH",
    "Nestlé Suisse",
    "L’Oréal Paris",
    "Škoda Auto",
    "Ørsted A/S",
    "Café Crème – Lyon",
    "Œnologie Dupré",
)
ACCENTED_EVERY = 10

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


def make_companies(n_rows: int, *, seed: int = 0, clean_counts: bool = False, family: str = "hr-leads") -> tuple[pd.DataFrame, np.ndarray]:
    """Generate a labelled table of one family from the model in the module docstring.

    Parameters
    ----------
    n_rows : int
        Number of rows (>= 1).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same table.
    clean_counts : bool, default False
        Write the true integer counts (holdout style) instead of the noisy ones. Only
        ``hr-leads`` has noisy counts; the other families ignore it.
    family : str, default "hr-leads"
        One of ``FAMILIES``.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``columns(family)`` in order, ids (``id_column(family)``) numbered from 0:
        ``COMP_000000``, ``LEAD_000000``, ``00Q5e0000000000``, ``ACC-000000``.
    true_proba : numpy.ndarray
        True probability of ``is_hot_lead`` per row.
    """
    _check_family("make_companies", family)
    _check_int("n_rows", "make_companies", n_rows, 1)
    return _FAMILIES[family].generate(n_rows, np.random.default_rng(seed), clean_counts=clean_counts)


def target_column(family: str = "hr-leads") -> str:
    """The target column of a family's tables: ``is_hot_lead`` for every family, 1 = hot lead."""
    _check_family("target_column", family)
    return TARGET


def id_column(family: str = "hr-leads") -> str:
    """The id column of a family's tables (``company_id``, ``lead_id``, ``record_id``, ``account_id``)."""
    _check_family("id_column", family)
    return _FAMILIES[family].id


def columns(family: str = "hr-leads") -> list[str]:
    """A family's columns in file order, the target last (``holdout.csv`` has all but the target)."""
    _check_family("columns", family)
    return list(_FAMILIES[family].columns)


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
    if not y.any():
        return 0.0, 1.0
    curve = sweep(y, p)
    best = len(curve["f1"]) - 1 - int(np.argmax(curve["f1"][::-1]))  # of equal F1s, the highest threshold
    return float(curve["f1"][best]), float(curve["threshold"][best])


def write_dataset(out_dir: str | Path, *, rows: int = 20_000, seed: int = 0, family: str = "hr-leads", force: bool = False) -> dict:
    """Write a synthetic train/test/holdout dataset of one family and its Bayes ceiling.

    Writes ``train.csv`` and ``test.csv`` (labelled, shuffled ids; noisy counts in
    ``hr-leads``), ``holdout.csv`` (no ``is_hot_lead``, ids from ``COMP_000000``,
    ``LEAD_000000``...; clean integer counts in ``hr-leads``) and ``bayes.json``, all or
    none: after a failed write, no new file and no folder it created. The holdout rows are
    other draws than the labelled ones, numbered apart. ``bayes.json`` records the SHA-256 of
    each table written (``"files"``). Files of those names already in ``out_dir`` are replaced
    only when they are an earlier run's, unchanged (see :func:`check_out_dir`), or ``force``
    is given; an earlier run's ``history.csv`` goes with them (its companies are gone).

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to; created when missing.
    rows : int, default 20000
        Total rows, split 60 % train, 20 % test, 20 % holdout (>= 20).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives byte-identical files.
    family : str, default "hr-leads"
        One of ``FAMILIES``; the target is ``is_hot_lead`` in every family.
    force : bool, default False
        Replace files of those names in ``out_dir`` that an earlier run did not write.

    Returns
    -------
    dict
        The content of ``bayes.json`` (with ``"family"``, and ``"files"``: each table's name and SHA-256).

    Raises
    ------
    ValueError
        ``rows`` or ``family`` is not usable.
    ParameterError
        ``out_dir`` holds files of those names that an earlier run did not write, and ``force`` is not given.
    """
    _check_family("write_dataset", family)
    _check_int("rows", "write_dataset", rows, MIN_ROWS)
    if not force:
        check_out_dir(out_dir)
    stale = _stale_history(out_dir)
    generate = _FAMILIES[family].generate
    n_train = round(rows * SPLIT[0])
    n_test = round(rows * SPLIT[1])
    n_holdout = rows - n_train - n_test
    rng = np.random.default_rng(seed)
    labelled, proba = generate(n_train + n_test, rng, clean_counts=False)
    order = rng.permutation(n_train + n_test)
    labelled, proba = labelled.iloc[order].reset_index(drop=True), proba[order]
    holdout, _ = generate(n_holdout, rng, clean_counts=True)
    train, test = labelled.iloc[:n_train], labelled.iloc[n_train:]
    f1, threshold = bayes_f1(test[TARGET].to_numpy(), proba[n_train:])
    train_f1, _ = bayes_f1(train[TARGET].to_numpy(), proba[:n_train])
    report = {
        "family": family,
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
    with files_into(out_dir) as out:  # all or none: a failed write leaves no file, and no folder it created
        write_csv(train, out / "train.csv")
        write_csv(test, out / "test.csv")
        write_csv(holdout.drop(columns=TARGET), out / "holdout.csv")
        report["files"] = _checksums(out)
        write_json(report, out / BAYES_FILE)
    if stale is not None:  # an earlier generate --history's months, of companies these files no longer hold
        stale.unlink(missing_ok=True)
    return report


def _stale_history(out_dir: str | Path) -> Path | None:
    """The ``history.csv`` of an earlier ``generate --history`` in ``out_dir``, which data without a history would leave
    behind, mismatched; None when there is none or it is not the generator's (see :func:`generated_files`)."""
    history = Path(out_dir) / HISTORY_FILE
    return history if history.is_file() and HISTORY_FILE in generated_files(out_dir) else None


def _checksums(folder: Path) -> dict[str, str]:
    """``{name: SHA-256}`` of the tables written to ``folder``, in ``bayes.json``'s order: what :func:`generated_files` reads back."""
    return {name: sha256_file(folder / name) for name in (*DATASET_FILES, HISTORY_FILE) if name != BAYES_FILE and (folder / name).is_file()}


def write_export(frame: pd.DataFrame, path: str | Path, style: str) -> Path:
    """Write a generated company table as people export tables, in a named style; atomically.

    A style changes how values are written, never what they mean: read back, every value is
    the plain table's, up to the rounding stated below. Columns are picked by name (a column
    the table lacks is skipped): money ``MONEY_COLUMNS`` (USD), percent ``PERCENT_COLUMNS``
    (in percent, as in the plain table), ``SUFFIX_COLUMN`` and the date ``DATE_COLUMN``; the
    target stays 0/1. Missing values are written empty and ``inf`` as ``inf`` in every style.

    ================  =======================================================================
    style             what changes
    ================  =======================================================================
    plain             nothing: what :func:`write_dataset` writes
    us-formatted      money ``$1,437,416.04`` (rounded to cents), negative money as the
                      accounting ``($1,200.00)``; percent ``6.3%`` (rounded to 0.01 point);
                      ``growth_momentum`` as ``1.437M``, ``350.5k``, ``2.1B`` (three decimals:
                      within 0.05 %); other numbers with thousands separators ``1,234`` (exact)
    european          ``;`` delimiter, UTF-8 with BOM (Excel's "CSV UTF-8"); every number with
                      a decimal comma and ``.`` thousands (``1.234``, ``2,87``; exact), money
                      as ``1.437.416,04 €`` (cents); dates ``D.M.YYYY`` (``12.6.2023``)
    zoned-timestamps  dates as ISO timestamps of 13:00 UTC on the plain date, rows taking turns
                      at ``2023-06-12T09:00:00-04:00`` (New York; ``-05:00`` in winter),
                      ``2023-06-12T13:00:00Z`` and ``2023-06-12T13:00:00.000+0000``: one
                      instant, and the plain date both in UTC and in New York
    us-dates          dates ``M/D/YYYY``, every other row with a time at midnight
                      (``6/12/2023``, ``6/13/2023 0:00``)
    day-first-dates   dates ``DD-MM-YYYY`` (``12-06-2023``)
    cp1252            encoded cp1252 with Windows line ends; every ``ACCENTED_EVERY``-th
                      company renamed in turn to one of ``ACCENTED_NAMES`` (``Société
                      Générale``, ``L’Oréal Paris``), so that the encoding matters
    utf16-tab         Excel's "Unicode text": UTF-16 with BOM, tab-delimited, Windows line ends,
                      the same renamed companies
    excel             an ``.xlsx`` workbook: the table on the first sheet, ``companies``
                      (numbers as numbers, dates as date cells, money with a ``$`` number
                      format), and a second sheet, ``notes``
    ================  =======================================================================

    The renamed companies change only ``company_name``, which is free text, not a feature.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table from :func:`make_companies` (or its files), with or without the target.
    path : str or Path
        File to write; ``EXPORT_STYLES[style]`` is the suffix such an export has.
    style : str
        One of ``EXPORT_STYLES``.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> table, _ = make_companies(3, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_export(table, Path(folder) / "companies.csv", "us-formatted")
    ...     written = pd.read_csv(path, dtype=str)
    >>> written.loc[0, ["total_funding", "industry_growth_rate", "growth_momentum"]].tolist()
    ['$373,048.14', '17.9%', '4.477M']
    """
    if style not in EXPORT_STYLES:
        raise ValueError(f"The 'style' parameter of write_export must be one of {', '.join(EXPORT_STYLES)}. Got {style!r} instead.")
    if style == "excel":
        return _write_excel(frame, Path(path))
    table, options = _CSV_STYLES[style](frame.copy())
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, **{"lineterminator": "\n", **options})
    return Path(path)


def check_out_dir(out_dir: str | Path, *, history: bool = False) -> None:
    """Refuse, before any work, an ``out_dir`` holding files that writing the data there would replace and that are the user's.

    Files an earlier run wrote are replaced, so that ``make run`` or ``generate --out data``
    run again just writes the data anew: those of :func:`generated_files`.

    Raises
    ------
    ParameterError
        ``out_dir`` holds a ``train.csv``, ``test.csv``, ``holdout.csv``, ``bayes.json`` (or,
        with ``history``, ``history.csv``) that is not among :func:`generated_files`.
    """
    theirs = foreign_files(out_dir, history=history)
    if theirs:
        report = _generator_report(Path(out_dir) / BAYES_FILE) or {}
        recorded = report.get("files") if isinstance(report.get("files"), dict) else {}
        changed, other = [n for n in theirs if n in recorded], [n for n in theirs if n not in recorded]
        parts = [f"{listed(changed)}, changed since generate wrote {_it(changed)}"] if changed else []
        if other:
            parts.append(f"{listed(other)}, not an earlier generate's data (no bayes.json of generate there records {_it(other)} as written)")
        raise ParameterError(
            f"--out {out_dir}: already holds {'; and '.join(parts)}, which generate would replace; "
            f"choose another --out folder, or pass --force to replace {_it(theirs)}."
        )


def _it(names: list[str]) -> str:
    return "them" if len(names) > 1 else "it"


def foreign_files(out_dir: str | Path, *, history: bool = False) -> list[str]:
    """The files of ``out_dir`` that writing the data there would replace and that are not an earlier run's (:func:`generated_files`)."""
    out_dir = Path(out_dir)
    names = [*DATASET_FILES, *([HISTORY_FILE] if history else [])]
    ours = generated_files(out_dir)
    return [name for name in names if (out_dir / name).exists() and name not in ours]


def generated_files(out_dir: str | Path) -> set[str]:
    """The names of the files in ``out_dir`` that an earlier run wrote and nobody changed since; empty without its ``bayes.json``.

    ``bayes.json`` records each table it came with and its SHA-256 (``"files"``); a table counts
    when its bytes still match, so the user's own ``train.csv`` or ``history.csv`` copied beside
    it does not. A ``bayes.json`` of before those checksums vouches for the four dataset files,
    and for ``history.csv`` when its family is ``HISTORY_FAMILY`` (the only one that writes it).
    """
    out_dir = Path(out_dir)
    report = _generator_report(out_dir / BAYES_FILE)
    if report is None:
        return set()
    recorded = report.get("files")
    if not isinstance(recorded, dict):  # written before "files": trusted by name, as then
        return {*DATASET_FILES, *([HISTORY_FILE] if report.get("family") == HISTORY_FAMILY else [])}
    tables = [name for name in (*DATASET_FILES, HISTORY_FILE) if name != BAYES_FILE]
    return {BAYES_FILE, *(name for name in tables if name in recorded and _checksum(out_dir / name) == recorded[name])}


def _generator_report(bayes: Path) -> dict | None:
    """The content of ``bayes`` when it is a bayes.json this generator wrote (any version of it), else None."""
    try:
        content = json.loads(bayes.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):  # missing, a folder, unreadable or not JSON: not ours
        return None
    ours = isinstance(content, dict) and str(content.get("generator", "")).startswith(GENERATOR.split()[0])
    return content if ours else None


def _checksum(path: Path) -> str | None:
    """SHA-256 of the file ``path``; None when it is no file or cannot be read (then it is nobody's earlier output)."""
    try:
        return sha256_file(path) if path.is_file() else None
    except OSError:
        return None


def listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: file names in a message."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def check_family_option(family: str) -> None:
    """Refuse an unknown ``--family`` with one line naming the choices.

    Raises
    ------
    ParameterError
        ``family`` is not one of ``FAMILIES``.
    """
    if family not in _FAMILIES:
        close = difflib.get_close_matches(family, FAMILIES, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ParameterError(f"--family: unknown family {family!r}; {hint}choose from {', '.join(FAMILIES)}.")


def _check_family(func: str, family: object) -> None:
    """Raise ValueError unless ``family`` is one of ``FAMILIES``."""
    if not isinstance(family, str) or family not in _FAMILIES:
        raise ValueError(f"The 'family' parameter of {func} must be one of {', '.join(FAMILIES)}. Got {family!r} instead.")


def _check_int(name: str, func: str, value: object, minimum: int) -> None:
    """Raise ValueError unless ``value`` is an int >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"The {name!r} parameter of {func} must be an int >= {minimum}. Got {value!r} instead.")


def _generate(n: int, rng: np.random.Generator, *, clean_counts: bool) -> tuple[pd.DataFrame, np.ndarray]:
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
    z = -6.43 + 4.4 * r + 2.0 * j + 2.8 * np.tanh(g) + 3.2 * r * j + 1.2 * t + 0.7 * e + 0.6 * f + 1.0 * stage + role
    return sigmoid(z)


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
    return [patterns[k].format(*w) for k, w in zip(kind, words.tolist(), strict=True)]


# ---------------------------------------------------------------- family hiring-thresholds

THRESHOLD_COLUMNS = [
    "lead_id",
    "company_name",
    "headcount",
    "funding_stage",
    "last_funding_date",
    "glassdoor_rating",
    "attrition_rate_pct",
    "hr_software_seats",
    "job_postings_30d",
    "linkedin_followers",
    "hq_region",
    "is_hot_lead",
]
# funding stage -> share of leads
FUNDING_STAGES = {"Bootstrapped": 0.22, "Pre-seed": 0.10, "Seed": 0.18, "Series A": 0.20, "Series B": 0.16, "Series C+": 0.14}
SWEET_SPOT_STAGES = ("Series A", "Series B")
HQ_REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West", "International")
THRESHOLD_MAX_DAYS = 1461
THRESHOLD_MISSING = {"headcount": 0.03, "glassdoor_rating": 0.10, "attrition_rate_pct": 0.04}


def _generate_thresholds(n: int, rng: np.random.Generator, *, clean_counts: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` leads of the hiring-thresholds family (``clean_counts`` has no effect)."""
    stages = np.array(list(FUNDING_STAGES))
    shares = np.array(list(FUNDING_STAGES.values()))
    stage = stages[rng.choice(len(stages), size=n, p=shares / shares.sum())]
    headcount = np.round(10 ** rng.uniform(0.7, 3.7, size=n)).astype(np.int64)
    days = rng.integers(1, THRESHOLD_MAX_DAYS + 1, size=n)
    rating = np.round(rng.uniform(2.0, 5.0, size=n), 1)
    attrition = np.round(rng.uniform(2.0, 30.0, size=n), 1)
    seats = np.round(10 ** rng.uniform(0.5, 3.0, size=n)).astype(np.int64)
    postings = rng.poisson(6.0, size=n)
    followers = np.round(10 ** rng.normal(3.0, 0.6, size=n)).astype(np.int64)
    region = np.array(HQ_REGIONS)[rng.integers(len(HQ_REGIONS), size=n)]
    sweet = (headcount >= 50) & (headcount < 500) & np.isin(stage, SWEET_SPOT_STAGES) & (days <= 540)
    match = np.where((rating >= 3.5) == (attrition >= 15.0), 1.0, -1.0)
    z = -7.0 + 8.0 * sweet + 3.0 * match + 2.5 * (seats > 50) + 0.5 * (seats > 250) + 3.0 * (postings >= 8)
    proba = sigmoid(z)
    label = (rng.random(n) < proba).astype(np.int64)
    missing = {col: rng.random(n) < share for col, share in THRESHOLD_MISSING.items()}
    date = (REFERENCE_DATE - days.astype("timedelta64[D]")).astype(str).astype(object)
    date[stage == "Bootstrapped"] = np.nan  # never funded
    table = pd.DataFrame(
        {
            "lead_id": [f"LEAD_{i:06d}" for i in range(n)],
            "company_name": _company_names(n, rng),
            "headcount": pd.array(headcount, dtype="Int64"),
            "funding_stage": stage,
            "last_funding_date": date,
            "glassdoor_rating": rating,
            "attrition_rate_pct": attrition,
            "hr_software_seats": seats,
            "job_postings_30d": postings.astype(np.int64),
            "linkedin_followers": followers,
            "hq_region": region,
            TARGET: label,
        }
    )
    for col, mask in missing.items():
        table.loc[mask, col] = pd.NA if col == "headcount" else np.nan
    return table[THRESHOLD_COLUMNS], proba


# ---------------------------------------------------------------- family crm-export

CRM_COLUMNS = [
    "record_id",
    "company_name",
    "created_date",
    "lead_source",
    "country",
    "billing_state",
    "contact_title",
    "company_size_band",
    "industry",
    "hris_system",
    "campaign",
    "lead_owner",
    "product_interest",
    "email_domain_type",
    "email_opens_90d",
    "web_visits_30d",
    "days_since_last_activity",
    "is_hot_lead",
]
CRM_MODEL_SEED = 20250220  # fixes the level effects: part of the model, not of the data seed
CRM_CREATED_FROM = np.datetime64("2023-01-01", "D")
CRM_INTERCEPT = -2.8
CRM_MISSING = {"email_opens_90d": 0.06, "web_visits_30d": 0.08, "days_since_last_activity": 0.03}
US = "United States"
_CAMPAIGN_THEMES = ("Webinar", "Newsletter", "Retargeting", "Trade Show", "Ebook")
# column -> (levels, most frequent first; sd of the level effects; Zipf exponent of the level shares)
CRM_LEVELS: dict[str, tuple[tuple[str, ...], float, float]] = {
    "lead_source": (
        (
            "Web Form",
            "Paid Search",
            "Organic Search",
            "LinkedIn Ads",
            "Referral",
            "Webinar",
            "Trade Show",
            "Partner",
            "Content Download",
            "Cold Call",
            "Email Campaign",
            "Live Chat",
        ),
        1.3,
        0.8,
    ),
    "country": (
        (
            US,
            "United Kingdom",
            "Canada",
            "Germany",
            "Australia",
            "France",
            "Netherlands",
            "India",
            "Ireland",
            "Spain",
            "Sweden",
            "Brazil",
            "Mexico",
            "Singapore",
            "Italy",
            "Switzerland",
            "Denmark",
            "Poland",
            "Belgium",
            "Norway",
            "Japan",
            "New Zealand",
            "South Africa",
            "Israel",
            "Portugal",
        ),
        1.1,
        1.2,
    ),
    "billing_state": (  # US rows only; empty elsewhere
        tuple(
            "CA TX FL NY PA IL OH GA NC MI NJ VA WA AZ TN MA IN MD MO WI CO MN SC AL LA KY OR OK CT UT "
            "IA NV AR MS KS NM NE ID WV HI NH ME MT RI DE SD ND AK VT WY".split()
        ),
        0.8,
        0.9,
    ),
    "contact_title": (
        (
            "HR Manager",
            "HR Director",
            "Head of People",
            "Office Manager",
            "Recruiter",
            "CEO",
            "Founder",
            "VP People",
            "Talent Acquisition Manager",
            "HR Generalist",
            "Operations Manager",
            "CFO",
            "People Operations Manager",
            "HR Business Partner",
            "Payroll Specialist",
            "CHRO",
            "Finance Manager",
            "Benefits Manager",
            "COO",
            "Executive Assistant",
            "Controller",
            "General Manager",
            "IT Manager",
            "Chief of Staff",
        ),
        1.5,
        0.8,
    ),
    "company_size_band": (("11-50", "51-200", "1-10", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+"), 1.1, 0.3),
    "industry": (
        (
            "Software",
            "IT Services",
            "Healthcare",
            "Financial Services",
            "Retail",
            "Manufacturing",
            "Professional Services",
            "Education",
            "Construction",
            "Hospitality",
            "Real Estate",
            "Logistics",
            "Media",
            "Nonprofit",
            "Insurance",
            "Telecommunications",
            "Energy",
            "Biotech",
            "Legal",
            "Government",
        ),
        0.9,
        0.7,
    ),
    "hris_system": (
        (
            "Spreadsheets",
            "ADP",
            "Gusto",
            "BambooHR",
            "Paychex",
            "Workday",
            "Rippling",
            "Paylocity",
            "UKG",
            "Namely",
            "Zenefits",
            "Justworks",
            "Personio",
            "HiBob",
            "SAP SuccessFactors",
        ),
        1.1,
        0.9,
    ),
    "campaign": (tuple(f"{year}-Q{quarter} {theme}" for year in (2024, 2023) for quarter in (4, 3, 2, 1) for theme in _CAMPAIGN_THEMES), 1.0, 0.6),
    "lead_owner": (
        (
            "Alex Kim",
            "Maria Lopez",
            "James Carter",
            "Priya Patel",
            "Tom Walker",
            "Sofia Rossi",
            "Daniel Reed",
            "Emma Brooks",
            "Lucas Nguyen",
            "Olivia Hayes",
            "Noah Fisher",
            "Chloe Price",
            "Ethan Morris",
            "Grace Bennett",
            "Ryan Foster",
            "Hannah Cole",
            "Jacob Ward",
            "Mia Turner",
        ),
        0.65,
        0.2,
    ),
    "product_interest": (("Payroll", "Benefits", "Recruiting", "Performance", "Time Tracking", "Compliance"), 0.65, 0.5),
    "email_domain_type": (("Corporate", "Gmail", "Outlook", "Yahoo", "Other"), 0.9, 1.0),
}


@functools.cache
def _crm_model() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """column -> (levels, shares, effects) of the crm-export family; the effects drawn once from
    ``default_rng(CRM_MODEL_SEED)``, column by column in ``CRM_LEVELS`` order."""
    model_rng = np.random.default_rng(CRM_MODEL_SEED)
    model = {}
    for col, (levels, sd, exponent) in CRM_LEVELS.items():
        weights = 1.0 / np.arange(1, len(levels) + 1) ** exponent
        model[col] = (np.array(levels, dtype=object), weights / weights.sum(), model_rng.normal(0.0, sd, size=len(levels)))
    return model


def _generate_crm(n: int, rng: np.random.Generator, *, clean_counts: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` leads of the crm-export family (``clean_counts`` has no effect)."""
    z = np.full(n, CRM_INTERCEPT)
    table = {"record_id": [f"00Q5e0000{_base62(i, 6)}" for i in range(n)]}
    table["company_name"] = _company_names(n, rng)
    created = rng.integers(0, int((REFERENCE_DATE - CRM_CREATED_FROM).astype(int)) + 1, size=n)
    table["created_date"] = (CRM_CREATED_FROM + created.astype("timedelta64[D]")).astype(str)
    for col, (levels, shares, effects) in _crm_model().items():
        drawn = rng.choice(len(levels), size=n, p=shares)
        values, effect = levels[drawn], effects[drawn]
        if col == "billing_state":
            outside = table["country"] != US
            values[outside], effect[outside] = np.nan, 0.0
        table[col] = values
        z += effect
    opens = rng.negative_binomial(2, 0.25, size=n)
    visits = rng.poisson(np.exp(rng.normal(1.2, 0.8, size=n)))
    idle = rng.integers(0, 366, size=n)
    z += 1.1 * (np.log1p(opens) - 1.7) + 1.7 * np.tanh((visits - 4.0) / 4.0) - 2.0 * np.sqrt(idle / 365.0)
    proba = sigmoid(z)
    label = (rng.random(n) < proba).astype(np.int64)
    numeric = {"email_opens_90d": opens, "web_visits_30d": visits, "days_since_last_activity": idle}
    for col, values in numeric.items():
        values = pd.array(values.astype(np.int64), dtype="Int64")
        values[rng.random(n) < CRM_MISSING[col]] = pd.NA
        table[col] = values
    table[TARGET] = label
    return pd.DataFrame(table)[CRM_COLUMNS], proba


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


# ---------------------------------------------------------------- family trial-signups

TRIAL_COLUMNS = [
    "account_id",
    "signup_date",
    "signup_channel",
    "company_size",
    "active_days_14d",
    "seats_invited",
    "session_minutes_7d",
    "integrations_connected",
    "browser",
    "is_hot_lead",
]
# channel -> (share, effect on the logit)
SIGNUP_CHANNELS = {"Organic": (0.4, 0.0), "Paid Search": (0.3, 0.6), "Partner": (0.2, -0.45), "Social": (0.1, -0.9)}
BROWSERS = {"Chrome": 0.62, "Safari": 0.2, "Edge": 0.1, "Firefox": 0.08}
TRIAL_DAYS = 365
TRIAL_MISSING = {"session_minutes_7d": 0.05, "company_size": 0.12}


def _generate_trials(n: int, rng: np.random.Generator, *, clean_counts: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` trial accounts of the trial-signups family (``clean_counts`` has no effect)."""
    days = rng.integers(1, TRIAL_DAYS + 1, size=n)
    channels = np.array(list(SIGNUP_CHANNELS))
    shares = np.array([share for share, _ in SIGNUP_CHANNELS.values()])
    channel = rng.choice(len(channels), size=n, p=shares)
    size = np.round(10 ** rng.uniform(0.5, 3.5, size=n)).astype(np.int64)
    active = rng.binomial(14, rng.beta(1.2, 2.5, size=n))
    seats = rng.poisson(np.exp(rng.normal(0.5, 0.9, size=n)))
    minutes = np.round(np.exp(rng.normal(4.0, 1.1, size=n)), 1)
    integrations = rng.binomial(5, 0.2, size=n)
    browsers = np.array(list(BROWSERS))
    browser_shares = np.array(list(BROWSERS.values()))
    browser = browsers[rng.choice(len(browsers), size=n, p=browser_shares / browser_shares.sum())]
    effect = np.array([e for _, e in SIGNUP_CHANNELS.values()])[channel]
    m = np.log(np.maximum(minutes, 0.1))
    z = -3.4 + 2.4 * np.tanh((active - 5.0) / 3.0) + 0.9 * np.log1p(seats) - 0.75 * (m - 4.3) ** 2 + 0.5 * integrations + effect
    proba = sigmoid(z)
    label = (rng.random(n) < proba).astype(np.int64)
    table = pd.DataFrame(
        {
            "account_id": [f"ACC-{i:06d}" for i in range(n)],
            "signup_date": (REFERENCE_DATE - days.astype("timedelta64[D]")).astype(str),
            "signup_channel": channels[channel],
            "company_size": pd.array(size, dtype="Int64"),
            "active_days_14d": active.astype(np.int64),
            "seats_invited": seats.astype(np.int64),
            "session_minutes_7d": minutes,
            "integrations_connected": integrations.astype(np.int64),
            "browser": browser,
            TARGET: label,
        }
    )
    for col, share in TRIAL_MISSING.items():
        table.loc[rng.random(n) < share, col] = pd.NA if col == "company_size" else np.nan
    return table[TRIAL_COLUMNS], proba


@dataclasses.dataclass(frozen=True)
class _Family:
    generate: Callable[..., tuple[pd.DataFrame, np.ndarray]]  # (n, rng, *, clean_counts) -> (table, true_proba)
    id: str
    columns: list[str]


_FAMILIES = {
    "hr-leads": _Family(_generate, "company_id", COLUMNS),
    "hiring-thresholds": _Family(_generate_thresholds, "lead_id", THRESHOLD_COLUMNS),
    "crm-export": _Family(_generate_crm, "record_id", CRM_COLUMNS),
    "trial-signups": _Family(_generate_trials, "account_id", TRIAL_COLUMNS),
}
FAMILIES = tuple(_FAMILIES)


# ---------------------------------------------------------------- monthly histories (hr-histories)

HISTORY_FAMILY = "hr-histories"
HISTORY_CHANNELS = ("job_postings", "headcount", "funding_raised")
HISTORY_AS_OF = "2025-01"  # the reference month: the last month any history row may have
HISTORY_COMPANY_COLUMNS = ["company_id", "company_name", "industry", "hq_region", "founded_year", "employees", "is_hot_lead"]
HISTORY_COLUMNS = ["company_id", "month", *HISTORY_CHANNELS]
MIN_HISTORY_MONTHS = 2
MAX_HISTORY_MONTHS = 240  # twenty years: the generated companies' founding years do not reach further back
# industry -> effect on the logit (both modes)
HISTORY_INDUSTRY_EFFECT = {"Tech": 0.3, "SaaS": 0.4, "Fintech": 0.1, "Healthcare": -0.2, "Retail": -0.5}
# region (HQ_REGIONS) -> effect on the logit (both modes)
HISTORY_REGION_EFFECT = {"Northeast": 0.2, "Southeast": -0.1, "Midwest": -0.2, "Southwest": 0.0, "West": 0.3, "International": -0.2}
HISTORY_NONE_SHARE = 0.10  # companies without any history row
HISTORY_YOUNG_SHARE = 0.15  # founded 1-24 months before the as-of month (inclusive)
HISTORY_GAP_SHARE = 0.05  # company-months missing at random
ROUND_COUNTS = (0.3, 0.4, 0.2, 0.1)  # P(0, 1, 2, 3 rounds in ROUND_MONTHS months)
ROUND_MONTHS = 24
ACCEL_SINCE = (3, 11)  # months from the latest round to the as-of month that allow an acceleration
ACCEL_SHARE = 0.5  # of the companies whose latest round is that recent
GROWTH_SHARE = (0.55, 0.12)  # organic growth: of the other funded companies, of the unfunded ones
FREEZE_SHARE = 0.12  # of the clearly active companies (base rate >= FREEZE_MIN_RATE, >= 9 months)
FREEZE_MIN_RATE = 2.5
DIP_SHARE = 0.10  # of the other clearly active companies
SPIKE_SHARE = 0.25
QUIET_RATE = 0.1  # postings per month during a freeze or a dip
# intercept, acceleration effect (plus ACCEL_SLOPE_EFFECT * slope), freeze effect
TEMPORAL_LOGIT = (-2.85, 3.5, 5.0, -5.0)
# intercept, log1p(mean postings), log1p(total funding in USD millions), log1p(last headcount)
CONTROL_LOGIT = (-14.5, 3.5, 1.5, 0.2)


def make_history_companies(n_rows: int, *, seed: int = 0, months: int = 24, temporal_signal: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Generate companies with monthly histories from the hr-histories model (module docstring).

    Parameters
    ----------
    n_rows : int
        Number of companies (>= 1).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same tables.
    months : int, default 24
        Length of the window, in months, ending at ``HISTORY_AS_OF`` (>= 2).
    temporal_signal : bool, default True
        True: the label depends on the order of the months (acceleration after a round, hiring
        freeze); False: the control, whose label depends only on order-free aggregates of the
        observed window. The companies and histories are the same either way.

    Returns
    -------
    companies : pandas.DataFrame
        Columns ``HISTORY_COMPANY_COLUMNS``, ids ``COMP_000000`` upwards.
    history : pandas.DataFrame
        Columns ``HISTORY_COLUMNS``, one row per observed company-month, sorted by
        ``company_id`` then ``month`` (text ``YYYY-MM``).
    true_proba : numpy.ndarray
        True probability of ``is_hot_lead`` per company.
    """
    _check_int("n_rows", "make_history_companies", n_rows, 1)
    _check_history_options("make_history_companies", months, temporal_signal)
    return _generate_histories(n_rows, np.random.default_rng(seed), months, temporal_signal)


def write_history_dataset(
    out_dir: str | Path, *, rows: int = 20_000, seed: int = 0, months: int = 24, temporal_signal: bool = True, force: bool = False
) -> dict:
    """Write companies with monthly histories, split train/test/holdout, and their Bayes ceiling.

    Writes ``train.csv``, ``test.csv`` and ``holdout.csv`` (company tables, shuffled ids; the
    holdout without ``is_hot_lead``), ``history.csv`` (the monthly history of the companies of
    all three splits, sorted by ``company_id`` then ``month``) and ``bayes.json``, all or
    none, replacing files of those names only as :func:`write_dataset` does. All companies are
    drawn at once, so ids are unique across the splits.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to; created when missing.
    rows : int, default 20000
        Companies in all, split 60 % train, 20 % test, 20 % holdout (>= 20).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives byte-identical files, and
        the same ``history.csv`` and company columns whatever ``temporal_signal``.
    months : int, default 24
        Months of history up to ``HISTORY_AS_OF`` (>= 2).
    temporal_signal : bool, default True
        The label of :func:`make_history_companies`: temporal, or the order-free control.
    force : bool, default False
        Replace files of those names in ``out_dir`` that an earlier run did not write.

    Returns
    -------
    dict
        The content of ``bayes.json``: as :func:`write_dataset` writes it, with ``"family":
        "hr-histories"``, ``"history"`` (months, as-of month, temporal_signal, channels) and
        ``history.csv`` among ``"files"``.

    Raises
    ------
    ValueError
        ``rows``, ``months`` or ``temporal_signal`` is not usable.
    ParameterError
        As :func:`write_dataset`: ``out_dir`` holds files of those names an earlier run did not write, and ``force`` is not given.
    """
    _check_int("rows", "write_history_dataset", rows, MIN_ROWS)
    _check_history_options("write_history_dataset", months, temporal_signal)
    if not force:
        check_out_dir(out_dir, history=True)
    n_train = round(rows * SPLIT[0])
    n_test = round(rows * SPLIT[1])
    rng = np.random.default_rng(seed)
    companies, history, proba = _generate_histories(rows, rng, months, temporal_signal)
    order = rng.permutation(rows)
    companies, proba = companies.iloc[order].reset_index(drop=True), proba[order]
    train, test = companies.iloc[:n_train], companies.iloc[n_train : n_train + n_test]
    holdout = companies.iloc[n_train + n_test :]
    f1, threshold = bayes_f1(test[TARGET].to_numpy(), proba[n_train : n_train + n_test])
    train_f1, _ = bayes_f1(train[TARGET].to_numpy(), proba[:n_train])
    report = {
        "family": HISTORY_FAMILY,
        "seed": int(seed),
        "rows": {"train": n_train, "test": n_test, "holdout": len(holdout)},
        "positive_rate": {
            "train": round(float(train[TARGET].mean()), 6),
            "test": round(float(test[TARGET].mean()), 6),
        },
        "test_bayes_f1": round(f1, 6),
        "test_bayes_threshold": round(threshold, 6),
        "train_bayes_f1": round(train_f1, 6),
        "generator": GENERATOR,
        "history": {"months": int(months), "as_of": HISTORY_AS_OF, "temporal_signal": temporal_signal, "channels": list(HISTORY_CHANNELS)},
    }
    with files_into(out_dir) as out:  # all or none: a failed write leaves no file, and no folder it created
        write_csv(train, out / "train.csv")
        write_csv(test, out / "test.csv")
        write_csv(holdout.drop(columns=TARGET), out / "holdout.csv")
        write_csv(history, out / HISTORY_FILE)
        report["files"] = _checksums(out)
        write_json(report, out / BAYES_FILE)
    return report


def _check_history_options(func: str, months: object, temporal_signal: object) -> None:
    _check_int("months", func, months, MIN_HISTORY_MONTHS)
    if months > MAX_HISTORY_MONTHS:
        raise ValueError(f"{func}: months must be at most {MAX_HISTORY_MONTHS}; got {months}.")
    if not isinstance(temporal_signal, bool):
        raise ValueError(f"The 'temporal_signal' parameter of {func} must be a bool. Got {temporal_signal!r} instead.")


def _generate_histories(n: int, rng: np.random.Generator, months: int, temporal_signal: bool) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Draw ``n`` companies and their histories; every draw is made in both modes, in one order."""
    lat = _draw_history_latent(n, rng, months)
    series = _history_series(lat, rng)
    names = _company_names(n, rng)
    u = rng.random(n)  # the label's uniforms: the same in both modes
    observed = series["observed"]
    rows, cols = np.nonzero(observed)
    width = max(6, len(str(n - 1)))  # ids sort as numbers
    ids = np.array([f"COMP_{i:0{width}d}" for i in range(n)], dtype=object)
    labels = (np.datetime64(HISTORY_AS_OF, "M") - np.arange(months - 1, -1, -1)).astype(str).astype(object)
    history = pd.DataFrame(
        {
            "company_id": ids[rows],
            "month": labels[cols],
            "job_postings": series["postings"][rows, cols],
            "headcount": series["headcount"][rows, cols],
            "funding_raised": series["funding"][rows, cols],
        }
    )
    proba = _temporal_proba(lat) if temporal_signal else _control_proba(lat, series)
    companies = pd.DataFrame(
        {
            "company_id": ids,
            "company_name": names,
            "industry": lat["industry"],
            "hq_region": lat["region"],
            "founded_year": lat["founded_year"],
            "employees": lat["employees"],
            TARGET: (u < proba).astype(np.int64),
        }
    )
    return companies[HISTORY_COMPANY_COLUMNS], history[HISTORY_COLUMNS], proba


def _draw_history_latent(n: int, rng: np.random.Generator, months: int) -> dict[str, np.ndarray]:
    """The latent company and its latent monthly pattern (no noise yet)."""
    industries = np.array(list(HISTORY_INDUSTRY_EFFECT))
    industry = industries[rng.integers(len(industries), size=n)]
    region = np.array(HQ_REGIONS)[rng.integers(len(HQ_REGIONS), size=n)]
    young = rng.random(n) < HISTORY_YOUNG_SHARE
    age = np.where(young, rng.integers(1, 25, size=n), rng.integers(25, 361, size=n))  # months, the as-of month is month 1
    founded = np.datetime64(HISTORY_AS_OF, "M") - (age - 1)
    has_history = rng.random(n) >= HISTORY_NONE_SHARE
    start = np.maximum(0, months - age)  # first window month of the company (index 0 = the oldest)
    active = (np.arange(months) >= start[:, None]) & has_history[:, None]
    size = np.minimum(age, 144) / 12.0
    employees = np.maximum(2, np.round(10 ** rng.normal(1.0 + 0.12 * size, 0.45))).astype(np.int64)
    base = np.exp(rng.normal(np.log(1.2 + 0.9 * np.log2(employees)), 0.35))  # postings per month
    drift = rng.normal(0.005, 0.006, size=n)  # monthly log growth of headcount without hiring trend

    # rounds: 0 to 3 per 24 months, each kept with probability (active months) / 24 when fewer; distinct months
    n_active = active.sum(axis=1)
    drawn = rng.binomial(rng.choice(len(ROUND_COUNTS), size=n, p=ROUND_COUNTS), np.minimum(1.0, n_active / ROUND_MONTHS))
    n_rounds = np.minimum(drawn, n_active)
    keys = np.where(active, rng.random((n, months)), np.inf)
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    is_round = rank < n_rounds[:, None]
    amounts = np.round(10 ** rng.uniform(np.log10(500_000), np.log10(50_000_000), size=(n, months)), -3)
    funding = np.where(is_round, amounts, 0.0).astype(np.int64)
    latest = np.where(is_round.any(axis=1), months - 1 - np.argmax(is_round[:, ::-1], axis=1), -1)
    since = months - 1 - latest  # months from the latest round to the as-of month
    recent = (latest >= 0) & (since >= ACCEL_SINCE[0]) & (since <= ACCEL_SINCE[1])

    accel = recent & (rng.random(n) < ACCEL_SHARE)
    grow_draw, slope = rng.random(n), rng.uniform(0.15, 0.4, size=n)
    growth_length = rng.integers(ACCEL_SINCE[0], ACCEL_SINCE[1] + 1, size=n)
    growth = ~recent & (grow_draw < np.where(latest >= 0, GROWTH_SHARE[0], GROWTH_SHARE[1]))
    growth &= n_active > growth_length
    clearly_active = (base >= FREEZE_MIN_RATE) & (n_active >= 9)
    freeze = clearly_active & (rng.random(n) < FREEZE_SHARE)
    freeze_length = rng.integers(3, 7, size=n)
    dip = clearly_active & ~freeze & (rng.random(n) < DIP_SHARE)
    dip_length = rng.integers(1, 3, size=n)
    spike = (n_active >= 2) & (rng.random(n) < SPIKE_SHARE)
    spike_keys = np.where(active & (np.arange(months) < months - 1), rng.random((n, months)), -1.0)
    spike_month = np.argmax(spike_keys, axis=1)
    spike_factor = rng.uniform(4.0, 8.0, size=n)

    t = np.arange(months)
    trend_start = np.where(accel, latest, np.where(growth, months - 1 - growth_length, months))
    trend = 1.0 + slope[:, None] * np.maximum(0, t - trend_start[:, None])
    quiet = np.where(freeze, freeze_length, np.where(dip, dip_length, 0))
    is_quiet = t >= (months - quiet)[:, None]
    rate = np.where(is_quiet, QUIET_RATE, base[:, None] * trend)
    log_growth = np.where(is_quiet, -0.005, np.clip(drift[:, None] + 0.025 * (trend - 1.0), -0.03, 0.06))
    # headcount: employees in the as-of month, back-cast through the monthly log growth
    later = np.cumsum(log_growth[:, ::-1], axis=1)[:, ::-1] - log_growth
    headcount = np.maximum(1, np.round(employees[:, None] * np.exp(-later))).astype(np.int64)
    spiked = spike[:, None] & (t == spike_month[:, None]) & ~is_quiet
    rate = np.where(spiked, rate * spike_factor[:, None] + 3.0, rate)
    return {
        "industry": industry,
        "region": region,
        "founded_year": founded.astype("datetime64[Y]").astype(np.int64) + 1970,
        "employees": employees,
        "active": active,
        "rate": rate,
        "headcount": headcount,
        "funding": funding,
        "accel": accel,
        "slope": slope,
        "freeze": freeze,
    }


def _history_series(lat: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The observed monthly values: Poisson postings around the latent rate, gaps at random."""
    postings = rng.poisson(lat["rate"]).astype(np.int64)
    gaps = rng.random(lat["rate"].shape) < HISTORY_GAP_SHARE
    return {"observed": lat["active"] & ~gaps, "postings": postings, "headcount": lat["headcount"], "funding": lat["funding"]}


def _static_logit(lat: dict[str, np.ndarray]) -> np.ndarray:
    industry = np.array([HISTORY_INDUSTRY_EFFECT[x] for x in lat["industry"]])
    region = np.array([HISTORY_REGION_EFFECT[x] for x in lat["region"]])
    return industry + region + 0.35 * (np.log10(lat["employees"]) - 2.0)


def _temporal_proba(lat: dict[str, np.ndarray]) -> np.ndarray:
    """True probability from the latent pattern: acceleration after a recent round, hiring freeze."""
    intercept, accel, per_slope, freeze = TEMPORAL_LOGIT
    z = intercept + _static_logit(lat) + lat["accel"] * (accel + per_slope * lat["slope"]) + freeze * lat["freeze"]
    return sigmoid(z)


def _control_proba(lat: dict[str, np.ndarray], series: dict[str, np.ndarray]) -> np.ndarray:
    """True probability from order-free aggregates of the observed rows (the control)."""
    intercept, b_postings, b_funding, b_headcount = CONTROL_LOGIT
    observed = series["observed"]
    count = observed.sum(axis=1)
    mean_postings = np.where(observed, series["postings"], 0).sum(axis=1) / np.maximum(count, 1)
    total_funding = np.where(observed, series["funding"], 0).sum(axis=1) / 1e6
    last = np.where(count > 0, series["headcount"][np.arange(len(count)), observed.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)], lat["employees"])
    z = intercept + _static_logit(lat) + b_postings * np.log1p(mean_postings) + b_funding * np.log1p(total_funding) + b_headcount * np.log1p(last)
    return sigmoid(z)


# ---------------------------------------------------------------- export styles


def _us_formatted(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    for name in _numeric_columns(table):
        table[name] = _each(table[name], _us_writer(name))
    return table, {}


def _us_writer(name: str):
    """How us-formatted writes one finite value of column ``name``."""
    if name in MONEY_COLUMNS:
        return _us_money
    if name in PERCENT_COLUMNS:
        return lambda x: f"{round(x, 2) + 0.0:g}%"  # + 0.0 turns -0.0 into 0.0
    if name == SUFFIX_COLUMN:
        return _with_suffix
    return "{:,}".format


def _us_money(x: float) -> str:
    text = f"${abs(x):,.2f}"
    return f"({text})" if x < 0 else text


def _with_suffix(x: float) -> str:
    for scale, letter in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3f}".rstrip("0").rstrip(".") + letter
    return f"{x:g}"


def _european(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    swap = str.maketrans(",.", ".,")
    for name in _numeric_columns(table):
        if name in MONEY_COLUMNS:
            table[name] = _each(table[name], lambda x: f"{x:,.2f}".translate(swap) + " €")
        else:
            table[name] = _each(table[name], lambda x: f"{x:,}".translate(swap))
    _rewrite_dates(table, lambda dates: _unpadded(dates, "dmy", "."))
    return table, {"sep": ";", "encoding": "utf-8-sig"}


def _zoned_timestamps(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    _rewrite_dates(table, _as_zoned)
    return table, {}


def _as_zoned(dates: pd.Series) -> pd.Series:
    utc = (dates + ZONED_TIME_OF_DAY).dt.tz_localize("UTC")
    local = utc.dt.tz_convert(EXPORT_ZONE).dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    ways = [
        local.str.replace(r"(\d\d)$", r":\1", regex=True),  # -0400 -> -04:00
        utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    ]
    rows = np.arange(len(dates))
    return pd.Series(np.column_stack(ways)[rows, rows % len(ways)], index=dates.index)


def _us_dates(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    def write(dates: pd.Series) -> pd.Series:
        text = _unpadded(dates, "mdy", "/")
        return text.where(np.arange(len(text)) % 2 == 0, text + " 0:00")

    _rewrite_dates(table, write)
    return table, {}


def _day_first_dates(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    _rewrite_dates(table, lambda dates: dates.dt.strftime("%d-%m-%Y"))
    return table, {}


def _cp1252(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    _accent_names(table)
    return table, {"encoding": "cp1252", "lineterminator": "\r\n"}


def _utf16_tab(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    _accent_names(table)
    return table, {"sep": "\t", "encoding": "utf-16", "lineterminator": "\r\n"}


_CSV_STYLES = {
    "plain": lambda table: (table, {}),
    "us-formatted": _us_formatted,
    "european": _european,
    "zoned-timestamps": _zoned_timestamps,
    "us-dates": _us_dates,
    "day-first-dates": _day_first_dates,
    "cp1252": _cp1252,
    "utf16-tab": _utf16_tab,
}


def _write_excel(frame: pd.DataFrame, path: Path) -> Path:
    table = frame.copy()
    _rewrite_dates(table, lambda dates: dates)  # date cells, not text
    notes = pd.DataFrame({"note": [f"{len(table):,} companies from {GENERATOR} on sheet 1."]})
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl", datetime_format="yyyy-mm-dd") as writer:
            table.to_excel(writer, sheet_name="companies", index=False)
            notes.to_excel(writer, sheet_name="notes", index=False)
            sheet = writer.sheets["companies"]
            for position, name in enumerate(table.columns, start=1):
                if name in MONEY_COLUMNS:  # a display format: the cells keep their values
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
                        cell.number_format = '"$"#,##0.00'
    return path


def _numeric_columns(table: pd.DataFrame) -> list[str]:
    return [name for name in table.select_dtypes("number").columns if name != TARGET]


def _each(values: pd.Series, write) -> pd.Series:
    """``write`` applied to each finite value; missing values stay missing, inf is ``inf``."""
    return values.map(lambda x: None if pd.isna(x) else write(x) if np.isfinite(x) else str(x))


def _rewrite_dates(table: pd.DataFrame, write) -> None:
    if DATE_COLUMN in table:
        table[DATE_COLUMN] = write(pd.to_datetime(table[DATE_COLUMN], format="ISO8601"))


def _unpadded(dates: pd.Series, order: str, sep: str) -> pd.Series:
    """Dates without leading zeros, fields in ``order``: ``"mdy"``, ``"/"`` gives 6/2/2023."""
    fields = {"d": dates.dt.day, "m": dates.dt.month, "y": dates.dt.year}
    first, second, third = (fields[key].astype("Int64").astype("string") for key in order)
    return first + sep + second + sep + third


def _accent_names(table: pd.DataFrame) -> None:
    if "company_name" in table:
        renamed = np.arange(len(table)) % ACCENTED_EVERY == 0
        names = np.resize(np.array(ACCENTED_NAMES, dtype=object), renamed.sum())
        table.loc[renamed, "company_name"] = names
