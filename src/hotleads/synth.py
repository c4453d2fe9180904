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

Export styles
-------------
:func:`write_export` writes a generated table the way people really export tables (formatted
numbers, other date formats, delimiters, encodings, Excel), to test reading them: the values
keep their meaning, only how they are written changes.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from .io import atomic_path, write_csv, write_json
from .metrics import sigmoid
from .threshold import sweep

GENERATOR = "hotleads.synth v1"
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


def make_companies(n_rows: int, *, seed: int = 0, clean_counts: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
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
    if not y.any():
        return 0.0, 1.0
    curve = sweep(y, p)
    best = len(curve["f1"]) - 1 - int(np.argmax(curve["f1"][::-1]))  # of equal F1s, the highest threshold
    return float(curve["f1"][best]), float(curve["threshold"][best])


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
