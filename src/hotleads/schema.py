"""Column roles of a company table: inference, validation, and typed columns.

A table has one binary target, at most one id column, and feature columns that are numeric,
categorical or dates; anything else (free text, id-like, constant columns) is ignored with a
reason. The public challenge table's roles come out of the same inference; ``--id``,
``--target``, ``--drop`` and ``--categorical`` override it. Validation collects every problem
and raises once, so a user fixes a file in one pass.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import DataError

DEFAULT_TARGET = "is_hot_lead"
DEFAULT_ID = "company_id"
TRUE_LABELS = frozenset({"1", "1.0", "true", "yes", "y", "t"})
FALSE_LABELS = frozenset({"0", "0.0", "false", "no", "n", "f"})
TYPED_SHARE = 0.95  # a text column is numeric/date when this share of its values parse
MAX_SHOWN = 3


class DataWarning(UserWarning):
    """Something in a table was handled rather than refused (extra columns, unseen categories)."""


@dataclass
class Schema:
    """Roles of a table's columns, as learnt from the training table and saved with a model."""

    target: str | None
    id: str | None
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    date: list[str] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.date]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Schema:
        return cls(**data)


@dataclass
class Prepared:
    """A validated table: typed feature columns, target (when labelled) and row ids."""

    features: pd.DataFrame
    ids: pd.Series
    y: np.ndarray | None


def infer_schema(
    frame: pd.DataFrame,
    *,
    source: str = "table",
    target: str | None = None,
    id_column: str | None = None,
    drop: tuple[str, ...] | list[str] = (),
    categorical: tuple[str, ...] | list[str] = (),
) -> Schema:
    """Decide each column's role; the target must exist (default ``is_hot_lead``)."""
    columns = list(frame.columns)
    target = target or (DEFAULT_TARGET if DEFAULT_TARGET in columns else None)
    if target is None:
        raise DataError(f"{source}: no target column '{DEFAULT_TARGET}'; name the 0/1 column with --target (columns: {_short_list(columns)}).")
    for option, names in (("--target", [target]), ("--id", [id_column] if id_column else []), ("--drop", drop), ("--categorical", categorical)):
        for name in names:
            _require_column(name, columns, source, option)
    id_column = id_column or (DEFAULT_ID if DEFAULT_ID in columns else None)
    schema = Schema(target=target, id=id_column)
    for name in columns:
        if name in (target, id_column):
            continue
        if name in drop:
            schema.ignored[name] = "dropped by --drop"
        elif name in categorical:
            schema.categorical.append(name)
        else:
            _assign_role(schema, name, frame[name])
    if not schema.features:
        raise DataError(f"{source}: no usable feature column besides the target and id; ignored: {schema.ignored}.")
    return schema


def _require_column(name: str, columns: list[str], source: str, option: str) -> None:
    if name not in columns:
        guess = difflib.get_close_matches(name, columns, n=1)
        hint = f"did you mean '{guess[0]}'?" if guess else f"columns are: {_short_list(columns)}"
        raise DataError(f"{source}: {option} names column '{name}', which the table does not have; {hint}")


def _assign_role(schema: Schema, name: str, values: pd.Series) -> None:
    role = infer_role(values)
    if role in ("numeric", "categorical", "date"):
        getattr(schema, role).append(name)
    elif role == "id-like" and schema.id is None:
        schema.id = name
    else:
        schema.ignored[name] = role


def infer_role(values: pd.Series) -> str:
    """Role of one column: numeric, categorical, date, or an ignore reason (id-like, free text, constant, empty)."""
    present = values.dropna()
    if present.empty:
        return "empty"
    if present.nunique() == 1:
        return "constant"
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    text = present.astype(str).str.strip()
    if pd.to_numeric(text, errors="coerce").notna().mean() >= TYPED_SHARE:
        return "numeric"
    if _as_dates(text).notna().mean() >= TYPED_SHARE:
        return "date"
    n_unique = text.nunique()
    if n_unique == len(values):
        return "id-like"
    if n_unique > max(50, len(text) // 2):
        return "free text"
    return "categorical"


def _as_dates(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, errors="coerce", format="ISO8601")


def prepare(frame: pd.DataFrame, schema: Schema, *, source: str = "table", labelled: bool) -> Prepared:
    """Validate ``frame`` against ``schema`` and return typed columns; raise once listing every problem."""
    problems: list[str] = []
    needed = schema.features + ([schema.target] if labelled else [])
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing} that the model needs; add them (extra columns are fine).")
    _warn_extra_columns(frame, schema, source, labelled)
    features = pd.DataFrame(index=frame.index)
    for name in schema.numeric:
        features[name] = _numeric_column(frame, name, problems)
    for name in schema.categorical:
        features[name] = _categorical_column(frame[name])
    for name in schema.date:
        features[name] = _date_column(frame, name, problems)
    y = _target(frame, schema.target, problems) if labelled else None
    ids = _ids(frame, schema.id, source, problems)
    if problems:
        raise DataError(f"{source}: " + "; ".join(problems))
    return Prepared(features=features.reset_index(drop=True), ids=ids.reset_index(drop=True), y=y)


def _warn_extra_columns(frame: pd.DataFrame, schema: Schema, source: str, labelled: bool) -> None:
    known = set(schema.features) | set(schema.ignored) | {schema.id} | {schema.target}
    extra = [name for name in frame.columns if name not in known]
    if extra:
        warnings.warn(f"{source}: ignoring column(s) the model does not use: {_short_list(extra)}", DataWarning, stacklevel=3)


def _numeric_column(frame: pd.DataFrame, name: str, problems: list[str]) -> pd.Series:
    raw = frame[name]
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64")
    values = _parse_numbers(raw)
    bad = raw.notna() & values.isna()
    if bad.any():
        problems.append(f"column '{name}' is numeric but has text {_examples(frame, raw, bad)}; fix or blank those cells")
    return values


def _parse_numbers(raw: pd.Series) -> pd.Series:
    """Text -> float64 (NaN where not a number); Arrow's parser first, pandas' only when a value fails it."""
    try:
        parsed = pc.cast(pa.array(raw, type=pa.string(), from_pandas=True), pa.float64())
        return pd.Series(parsed.to_numpy(zero_copy_only=False), index=raw.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.to_numeric(raw.astype("string").str.strip(), errors="coerce").astype("float64")


def _categorical_column(raw: pd.Series) -> pd.Series:
    text = raw.astype("string").str.strip()
    return text.where(text != "", pd.NA).astype(object).where(text.notna(), None)


def _date_column(frame: pd.DataFrame, name: str, problems: list[str]) -> pd.Series:
    raw = frame[name]
    if pd.api.types.is_datetime64_any_dtype(raw):
        return pd.to_datetime(raw).dt.tz_localize(None) if getattr(raw.dt, "tz", None) else pd.to_datetime(raw)
    values = _as_dates(raw.astype("string").str.strip())
    bad = raw.notna() & values.isna()
    if bad.any():
        problems.append(f"column '{name}' holds dates but has {_examples(frame, raw, bad)}; use YYYY-MM-DD or blank those cells")
    return values


def _target(frame: pd.DataFrame, name: str, problems: list[str]) -> np.ndarray | None:
    raw = frame[name]
    text = raw.astype("string").str.strip().str.lower()
    y = pd.Series(np.nan, index=raw.index)
    y[text.isin(TRUE_LABELS).fillna(False).astype(bool)] = 1.0
    y[text.isin(FALSE_LABELS).fillna(False).astype(bool)] = 0.0
    if raw.isna().any():
        problems.append(f"target '{name}' is empty {_examples(frame, raw, raw.isna(), show_value=False)}; label those rows or remove them")
        return None
    bad = y.isna()
    if bad.any():
        found = sorted(set(raw[bad].astype(str)))[:MAX_SHOWN]
        problems.append(f"target '{name}' has values {found} {_examples(frame, raw, bad, show_value=False)}; the target must be binary (0/1, true/false or yes/no)")
        return None
    if y.nunique() < 2:
        problems.append(f"target '{name}' has only the class {int(y.iloc[0])}; training needs both hot leads (1) and others (0)")
        return None
    return y.to_numpy(dtype=np.int64)


def _ids(frame: pd.DataFrame, name: str | None, source: str, problems: list[str]) -> pd.Series:
    if name is None or name not in frame.columns:
        if name is not None:
            warnings.warn(f"{source}: no id column '{name}'; using 0-based row numbers as Id", DataWarning, stacklevel=3)
        return pd.Series(np.arange(len(frame)), name="Id")
    ids = frame[name].astype("string")
    duplicated = ids.duplicated(keep=False) & ids.notna()
    if duplicated.any():
        first = ids[duplicated].iloc[0]
        rows = _examples(frame, ids, ids == first, show_value=False)
        problems.append(f"id column '{name}' repeats {duplicated.sum()} value(s), e.g. '{first}' {rows}; ids must be unique (or pass --id with another column)")
    if ids.isna().any():
        problems.append(f"id column '{name}' is empty {_examples(frame, ids, ids.isna(), show_value=False)}; fill in the ids")
    return ids.astype(object)


def _examples(frame: pd.DataFrame, values: pd.Series, mask: pd.Series, *, show_value: bool = True) -> str:
    """Locations of the first few flagged rows, as file lines for CSV or row numbers otherwise."""
    offset, unit = frame.attrs.get("row_offset", 1), frame.attrs.get("row_unit", "row")
    positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))  # NA (e.g. an empty id) is not flagged
    shown = [
        f"'{values.iloc[i]}' at {unit} {i + offset}" if show_value else f"{unit} {i + offset}"
        for i in positions[:MAX_SHOWN]
    ]
    more = f" and {len(positions) - MAX_SHOWN} more" if len(positions) > MAX_SHOWN else ""
    return "(" + ", ".join(shown) + more + ")"


def _short_list(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
