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
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .schema import DataWarning, Schema

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
        values = [base[name].to_numpy(dtype=float) for name in self.inputs]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.op == "log":
                q = np.sign(values[0]) * np.log1p(np.abs(values[0]))
            elif self.op in ("identity", "round"):
                q = values[0]
            else:
                q = OPS[self.op](values[0], values[1])
            result = self.scale * q + self.offset
        result = np.where(np.isfinite(result), result, np.nan)
        return pd.Series(np.round(result) if self.rounded else result, index=base.index, name=self.name)

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

    def base_frame(self, features: pd.DataFrame) -> pd.DataFrame:
        """Raw numeric values (inf as NaN) and date ages: the quantities relations are found between."""
        return self._base(features, self._date_ages(features))

    def _base(self, features: pd.DataFrame, ages: dict[str, pd.Series]) -> pd.DataFrame:
        columns = {name: features[name].replace([np.inf, -np.inf], np.nan).astype("float64") for name in self.numeric_}
        return pd.DataFrame(columns | ages, index=features.index)

    def _date_ages(self, features: pd.DataFrame) -> dict[str, pd.Series]:
        return {name: (pd.Timestamp(reference) - pd.to_datetime(features[name])).dt.days.astype("float64") for name, reference in self.reference_dates_.items()}

    def _output_names(self) -> list[str]:
        names = []
        for name, params in self.numeric_.items():
            names += [name, f"{name}__inf"] if params["inf_flag"] else [name]
        return names + list(self.categories_) + list(self.reference_dates_) + [spec["name"] for spec in self.derived_]

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical codes in the output matrix (for LightGBM and embeddings)."""
        return [self.feature_names_.index(name) for name in self.categories_]

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """Float matrix (n_rows, n_features) in ``feature_names_`` order."""
        return self.transform_frame(features).to_numpy(dtype=np.float64)

    def transform_frame(self, features: pd.DataFrame) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        for name, params in self.numeric_.items():
            columns.update(_transform_numeric(name, features[name], params))
        for name, categories in self.categories_.items():
            columns[name] = _encode(name, features[name], categories, self.rare_categories_.get(name, []))
        ages = self._date_ages(features)
        columns.update(ages)
        if self.derived_:
            base = self._base(features, ages)  # reuses the ages: this runs on every scored row
            columns.update({spec["name"]: DerivedFeature.from_dict(spec).compute(base) for spec in self.derived_})
        return pd.DataFrame(columns, index=features.index)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessor:
        return cls(**data)


def _fit_numeric(values: pd.Series) -> dict:
    finite = values[np.isfinite(values)]
    has_inf = bool(np.isinf(values).any())
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
    magnitude = finite.abs()
    median = float(magnitude.median()) if len(finite) else 0.0
    heavy = bool(len(finite) and median > 0 and magnitude.quantile(0.99) / median > HEAVY_TAIL_RATIO)
    return {"low": low, "high": high, "inf_flag": has_inf, "log": heavy}


def _transform_numeric(name: str, values: pd.Series, params: dict) -> dict[str, pd.Series]:
    # numpy, not Series.replace/where: this runs per column on every scored row, and a one-row
    # request to the scoring service spent most of its time in pandas' per-call overhead.
    raw = values.to_numpy(dtype=np.float64)
    clipped = np.where(np.isposinf(raw), params["high"], np.where(np.isneginf(raw), params["low"], raw))
    if params["log"]:
        clipped = np.sign(clipped) * np.log1p(np.abs(clipped))
    out = {name: pd.Series(clipped, index=values.index, dtype="float64")}
    if params["inf_flag"]:
        out[f"{name}__inf"] = pd.Series(np.sign(np.where(np.isinf(raw), raw, 0.0)), index=values.index, dtype="float64")
    return out


def _fit_categories(values: pd.Series, max_categories: int) -> tuple[list[str], list[str]]:
    """(the ``max_categories`` most frequent categories, the rarer ones), each sorted."""
    counts = values.dropna().astype(str).value_counts()
    kept, rare = counts.index[:max_categories], counts.index[max_categories:]
    return sorted(str(category) for category in kept), sorted(str(category) for category in rare)


def _encode(name: str, values: pd.Series, categories: list[str], rare: list[str]) -> pd.Series:
    codes = values.map({category: float(code) for code, category in enumerate(categories)}).astype("float64")
    unseen = values.notna() & codes.isna() & ~values.isin(rare)
    if unseen.any():
        examples = sorted(set(values[unseen].astype(str)))[:3]
        warnings.warn(
            f"column '{name}': {int(unseen.sum())} row(s) have categories not seen in training ({examples}); scored as unknown",
            DataWarning,
            stacklevel=4,
        )
    return codes


def _fit_reference_date(values: pd.Series) -> str:
    latest = pd.to_datetime(values).max()
    return (latest if pd.notna(latest) else pd.Timestamp("2000-01-01")).strftime("%Y-%m-%d")
