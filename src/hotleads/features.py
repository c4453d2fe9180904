"""Fitted preprocessing: typed company columns -> one float matrix every model reads.

Fitted on training rows only, saved as JSON with the model, applied unchanged at predict time:

- numeric: ``+inf``/``-inf`` (e.g. funding per employee with no employees) become the largest /
  smallest finite training value, with an ``<col>__inf`` column (+1/-1/0) so a model can still
  tell them apart; heavy-tailed columns (money) get a signed ``log1p``; missing stays NaN for the
  models to handle (trees natively, the others impute).
- categorical: integer codes of the training categories (at most ``max_categories``, the most
  frequent); missing, rare and unseen values become NaN, the "unknown" category.
- dates: age in days before the reference date, the latest date in the training data (so the
  same company gets the same value whenever it is scored).
- derived features (:class:`DerivedFeature`): arithmetic of the columns above, as chosen by
  :mod:`hotleads.discovery` (which imports this module, never the other way round: preprocessing
  does not depend on modelling).

Scaling is left to the models that need it (the linear and neural models scale internally).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import CountedWarning
from .parsing import arrow_text
from .schema import Schema, column_words

HEAVY_TAIL_RATIO = 100.0  # |p99| / median(|x|) above this: the column spans orders of magnitude

OPS = {
    "product": lambda a, b: a * b,
    "ratio": lambda a, b: a / b,
    "sum": lambda a, b: a + b,
    "difference": lambda a, b: a - b,
}
SYMBOLS = {"product": "*", "ratio": "/", "sum": "+", "difference": "-"}


@dataclass
class DerivedFeature:
    """A column computed as ``round?(scale * op(inputs) + offset)``, with the evidence behind it."""

    name: str
    op: str  # identity, product, ratio, sum, difference, round, log
    inputs: list[str]
    scale: float = 1.0
    offset: float = 0.0
    rounded: bool = False
    evidence: dict = field(default_factory=dict)

    def compute(self, base: pd.DataFrame) -> pd.Series:
        """The feature on ``base`` (raw numeric values, inf as NaN, dates as ages in days)."""
        return pd.Series(self.values(base), index=base.index, name=self.name)

    def values(self, base: pd.DataFrame | dict[str, np.ndarray]) -> np.ndarray:
        """:meth:`compute` as a float array of shape (n_rows,); ``base`` may be a dict of columns."""
        values = [np.asarray(base[name], dtype=float) for name in self.inputs]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.op == "log":
                q = np.sign(values[0]) * np.log1p(np.abs(values[0]))
            elif self.op in ("identity", "round"):
                q = values[0]
            else:
                q = OPS[self.op](values[0], values[1])
            result = self.scale * q + self.offset
        result = np.where(np.isfinite(result), result, np.nan)
        return np.round(result) if self.rounded else result

    def formula(self) -> str:
        if self.op == "log":
            return f"sign*log1p(|{self.inputs[0]}|)"
        text = self.inputs[0] if len(self.inputs) == 1 else f"{self.inputs[0]} {SYMBOLS[self.op]} {self.inputs[1]}"
        if self.scale != 1.0:
            text = f"{_format_number(self.scale)} * ({text})"
        if self.offset != 0.0:
            text = f"{text} {'+' if self.offset > 0 else '-'} {_format_number(abs(self.offset))}"
        return f"round({text})" if self.rounded else text

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DerivedFeature:
        return cls(**data)


def _format_number(value: float) -> str:
    return f"{value:.6g}"


@dataclass
class Preprocessor:
    """Turns validated feature columns into a float matrix; ``fit`` learns from training rows only."""

    max_categories: int = 64
    numeric_: dict[str, dict] = field(default_factory=dict)
    categories_: dict[str, list[str]] = field(default_factory=dict)
    rare_categories_: dict[str, list[str]] = field(default_factory=dict)  # seen, but beyond max_categories
    reference_dates_: dict[str, str] = field(default_factory=dict)
    derived_: list[dict] = field(default_factory=list)  # discovered features, see hotleads.discovery
    feature_names_: list[str] = field(default_factory=list)

    def fit(self, features: pd.DataFrame, schema: Schema) -> Preprocessor:
        self.numeric_ = {name: _fit_numeric(features[name]) for name in schema.numeric}
        self.categories_, self.rare_categories_ = {}, {}
        for name in schema.categorical:
            self.categories_[name], self.rare_categories_[name] = _fit_categories(features[name], self.max_categories)
        self.reference_dates_ = {name: _fit_reference_date(features[name]) for name in schema.date}
        self.derived_ = []
        self.feature_names_ = self._output_names()
        return self

    def with_derived(self, derived: list[DerivedFeature]) -> Preprocessor:
        """A copy of this fitted preprocessor whose output ends with ``derived`` (computed from :meth:`base_frame`).

        The preprocessor itself is left as it is: nested feature selection makes one copy per fold.
        """
        copy = Preprocessor.from_dict(self.to_dict())
        copy.derived_ = [feature.to_dict() for feature in derived]
        copy.feature_names_ = copy._output_names()
        return copy

    def base_frame(self, features: pd.DataFrame, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Raw numeric values (inf as NaN) and date ages: the quantities relations are found between.

        ``rows``: positions of the rows to compute (default: all), on a 0..n-1 index.
        """
        column = _column_reader(features, rows)
        base = {name: _finite_or_nan(column(name).to_numpy(dtype=np.float64)) for name in self.numeric_}
        base |= {name: _age_days(column(name), reference) for name, reference in self.reference_dates_.items()}
        return pd.DataFrame(base, index=features.index if rows is None else pd.RangeIndex(len(rows)))

    # The transforms work on numpy arrays, not Series: they run per column on every scored row,
    # and a one-company request to the scoring service spent most of its time in pandas' per-call
    # overhead (Series.replace, .map, .dt and frame building), not in arithmetic.

    def _output_names(self) -> list[str]:
        names = []
        for name, params in self.numeric_.items():
            names += [name, f"{name}__inf"] if params["inf_flag"] else [name]
        return names + list(self.categories_) + list(self.reference_dates_) + [spec["name"] for spec in self.derived_]

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical codes in the output matrix (for LightGBM and embeddings)."""
        return [self.feature_names_.index(name) for name in self.categories_]

    def transform(self, features: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        """Float matrix (n_rows, n_features) in ``feature_names_`` order; of ``rows`` (positions) only, when given.

        Filled one column at a time: a 5,000,000-row table then needs the matrix and a column or
        two, not every column twice (as stacking them would) nor a copy of the table's rows.
        """
        out = np.empty((len(features) if rows is None else len(rows), len(self.feature_names_)))
        for j, (_, values) in enumerate(self._columns(features, rows)):
            out[:, j] = values
        return out

    def transform_frame(self, features: pd.DataFrame) -> pd.DataFrame:
        """:meth:`transform` as a frame: ``feature_names_`` as columns, the index of ``features``."""
        return pd.DataFrame(dict(self._columns(features)), index=features.index)

    def _columns(self, features: pd.DataFrame, rows: np.ndarray | None = None) -> Iterator[tuple[str, np.ndarray]]:
        """(name, values) of each output column in ``feature_names_`` order, computed as it is asked for."""
        column = _column_reader(features, rows)
        for name, params in self.numeric_.items():
            yield from _transform_numeric(name, column(name), params).items()
        for name, categories in self.categories_.items():
            yield name, _encode(name, column(name), categories, self.rare_categories_.get(name, []))
        ages = {name: _age_days(column(name), reference) for name, reference in self.reference_dates_.items()}
        yield from ages.items()
        # A derived feature reads raw values (inf as NaN) and the ages: only its inputs are computed,
        # and the ages are reused (this runs on every scored row).
        needed = {name for spec in self.derived_ for name in spec["inputs"]}
        base = {name: _finite_or_nan(column(name).to_numpy(dtype=np.float64)) for name in self.numeric_ if name in needed} | ages
        for spec in self.derived_:
            yield spec["name"], DerivedFeature.from_dict(spec).values(base)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessor:
        return cls(**data)


def _column_reader(features: pd.DataFrame, rows: np.ndarray | None) -> Callable[[str], pd.Series]:
    """A column of ``features``, or of its ``rows`` (positions) only: one column's rows are taken at a time."""
    if rows is None:
        return features.__getitem__
    return lambda name: features[name].iloc[rows]


def _fit_numeric(values: pd.Series) -> dict:
    finite = values[np.isfinite(values)]
    has_inf = bool(np.isinf(values).any())
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
    magnitude = finite.abs()
    median = float(magnitude.median()) if len(finite) else 0.0
    heavy = bool(len(finite) and median > 0 and magnitude.quantile(0.99) / median > HEAVY_TAIL_RATIO)
    return {"low": low, "high": high, "inf_flag": has_inf, "log": heavy}


def _transform_numeric(name: str, values: pd.Series, params: dict) -> dict[str, np.ndarray]:
    raw = values.to_numpy(dtype=np.float64)
    clipped = np.where(np.isposinf(raw), params["high"], np.where(np.isneginf(raw), params["low"], raw))
    if params["log"]:
        clipped = np.sign(clipped) * np.log1p(np.abs(clipped))
    out = {name: clipped}
    if params["inf_flag"]:
        out[f"{name}__inf"] = np.sign(np.where(np.isinf(raw), raw, 0.0))
    return out


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(values), np.nan, values)


def _age_days(dates: pd.Series, reference: str) -> np.ndarray:
    """Whole days from each date to ``reference`` (floored, as ``Timedelta.days``); NaN where the date is missing."""
    stamps = dates.to_numpy(dtype="datetime64[ns]")
    with np.errstate(invalid="ignore"):  # NaT // 1 day
        days = (np.datetime64(reference, "ns") - stamps) // np.timedelta64(1, "D")
    return np.where(np.isnat(stamps), np.nan, days.astype(np.float64))


def _fit_categories(values: pd.Series, max_categories: int) -> tuple[list[str], list[str]]:
    """(the ``max_categories`` most frequent categories, the rarer ones), each sorted."""
    counts = values.dropna().astype(str).value_counts()
    kept, rare = counts.index[:max_categories], counts.index[max_categories:]
    return sorted(str(category) for category in kept), sorted(str(category) for category in rare)


def _encode(name: str, values: pd.Series, categories: list[str], rare: list[str]) -> np.ndarray:
    """Codes 0..len(categories)-1 as floats; NaN for missing, rare and unseen values (unseen ones warned about)."""
    given = arrow_text(values)
    codes = pc.index_in(given, value_set=pa.array(categories, type=given.type))  # null: missing or not kept (Arrow's hash join)
    unseen = pc.and_(pc.is_null(codes), pc.invert(pc.is_in(given, value_set=pa.array(rare, type=given.type), skip_nulls=True)))
    unseen = pc.and_(unseen, pc.is_valid(given))
    if pc.any(unseen).as_py():
        counts = pc.value_counts(given.filter(unseen)).to_pylist()
        warnings.warn(CountedWarning(_UnseenCategoriesWords(name), {c["values"]: c["counts"] for c in counts}), stacklevel=4)
    return codes.to_numpy(zero_copy_only=False).astype(np.float64)  # null -> NaN


@dataclass(frozen=True)
class _UnseenCategoriesWords:
    """The words of :func:`_encode`'s warning about categories not seen in training, for their counts; a frozen dataclass,
    so that the chunks of a table scored apart add up into the warning the whole table gives
    (:class:`~hotleads.exceptions.CountedWarning`)."""

    name: str
    source: str = ""  # the table's name, which scoring adds (:func:`from_source`): a report reads two tables

    def __call__(self, counts: dict[str, int]) -> str:
        examples = sorted(counts)[:3]
        where = f"{self.source}: " if self.source else ""
        return f"{where}{column_words(self.name)}: {sum(counts.values())} row(s) have categories not seen in training ({examples}); scored as unknown"


@contextmanager
def from_source(source: str) -> Iterator[None]:
    """Name the table ``source`` in the unseen-category warnings of the transforms run within (they see columns, not files).

    Every other warning is given on as it came, and so are those met before an error.
    """
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        for warning in caught:
            message = warning.message
            if isinstance(message, CountedWarning) and isinstance(message.words, _UnseenCategoriesWords):
                message = CountedWarning(replace(message.words, source=source), message.counts)
            warnings.warn_explicit(message, warning.category, warning.filename, warning.lineno)


def _fit_reference_date(values: pd.Series) -> str:
    latest = pd.to_datetime(values).max()
    return (latest if pd.notna(latest) else pd.Timestamp("2000-01-01")).strftime("%Y-%m-%d")
