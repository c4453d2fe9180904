"""Column roles of a company table: inference, validation, and typed columns.

A table has one binary target, at most one id column, and feature columns that are numeric,
categorical or dates; anything else (free text, id-like, row numbers, constant columns) is
ignored with a reason. Text columns are typed with the formats of :mod:`hotleads.parsing`
(``$1,437,416``, ``6,3``, ``6/12/2023``...), inferred here once and saved in the schema, so
scoring reads values the way training did. ``--id``, ``--target``, ``--positive``/``--negative``,
``--drop``, ``--categorical``, ``--date``, ``--dayfirst``, ``--decimal-comma`` and
``--na-values`` override the inference. Validation collects every problem and raises once, so a
user fixes a file in one pass; :meth:`Schema.rows` is what ``hotleads schema`` prints.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
import shlex
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .exceptions import CountedWarning, DataError, DataWarning, ParameterError
from .io import locate, other_sheets, release_memory, row_numbers
from .parsing import (
    TYPED_SHARE,
    DateFormat,
    NumberFormat,
    arrow_text,
    has_leading_zero_codes,
    infer_date_format,
    infer_number_format,
    is_any_case,
    is_missing,
    parse_dates,
    parse_numbers,
    parse_numbers_marked,
    parse_numbers_read,
    to_utc_naive,
    unread_with_mark,
)

__all__ = ["DataWarning", "Prepared", "Schema", "infer_role", "infer_schema", "is_name_column", "prepare"]

DEFAULT_TARGET = "is_hot_lead"
DEFAULT_ID = "company_id"
# A target's 1 and 0, compared by label key (_label_key): 1.0 and 1.00 are 1, as a sheet or an export writes it.
TRUE_LABELS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_LABELS = frozenset({"0", "false", "no", "n", "f"})
MAX_SHOWN = 3
MAX_UNSEEN_SHOWN = 5  # target values a model's training table did not have, named in its warning (the most frequent)
NEAR_UNIQUE = 0.95  # a text column this unique (but not fully) looks like an id with repeats
MIN_ROWS_FOR_ROW_NUMBERS = 20  # a unique run of integers in fewer rows can be a feature by chance
# Roles and formats are inferred from at most this many rows (drawn evenly at random): inference makes
# a dozen passes over each text column (23-35 s for a million rows), where a sample decides the same.
INFER_ROWS = 50_000
MAX_LABELS = 1_000  # more distinct target values are no CRM stages (amounts, free text): none kept, none checked at scoring
_ID_NAME = re.compile(r"(?i)^(id|key|uuid|guid)$|(_|\b|(?<=[a-z])(?=[A-Z]))(id|key|number|no|num)$|^(record|row)(_?(id|number|no|num))?$")
_INDEX_NAME = re.compile(r"(?i)^(unnamed: \d+|index|level_0|#)$")
_BLANK_HEADER = re.compile(r"Unnamed: (\d+)")  # a blank header cell, as the table readers name it (see column_name)
ROLES = ("id", "target", "numeric", "categorical", "date", "ignored")


@dataclass
class Schema:
    """Roles of a table's columns, as learnt from the training table and saved with a model.

    ``formats`` holds each typed text column's format (``{"kind": "number", ...}`` from
    :class:`~hotleads.parsing.NumberFormat` or ``{"kind": "date", ...}`` from
    :class:`~hotleads.parsing.DateFormat`); ``missing`` the share of missing values per column in
    training; ``notes`` a word on columns handled specially; ``positive``/``negative`` the target
    values read as 1 and 0 (empty: 1/true/yes against 0/false/no); ``labels`` the target values
    of the training table with ``positive`` (stripped, ``""`` for blank cells; empty when there
    were over :data:`MAX_LABELS`, or for a model saved before they were kept): scoring names a
    value it does not know; ``na_values`` extra missing markers for every column; ``columns`` the
    training table's columns in order.
    """

    target: str | None
    id: str | None
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    date: list[str] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)
    formats: dict[str, dict] = field(default_factory=dict)
    missing: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    na_values: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.date]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Schema:
        return cls(**data)

    def role(self, column: str) -> str:
        """One of :data:`ROLES` (``ignored`` also for a column the schema does not know)."""
        if column == self.id:
            return "id"
        if column == self.target:
            return "target"
        for role in ("numeric", "categorical", "date"):
            if column in getattr(self, role):
                return role
        return "ignored"

    def parse_text(self, column: str) -> str:
        """How the column's values are read, in words (``"currency '$', thousands ','"``)."""
        fmt = self.formats.get(column)
        if column == self.target:
            return _label_words(self.positive, self.negative)
        if fmt is None:
            return {"numeric": "number", "date": "date", "categorical": "text", "id": "text"}.get(self.role(column), "")
        return stored_format(fmt).describe()

    def rows(self) -> list[dict]:
        """One dict per training column: ``column``, ``role``, ``parse``, ``missing`` (share or None), ``reason``."""
        columns = self.columns or [c for c in (self.id, *self.features, *self.ignored, self.target) if c]
        return [
            {
                "column": name,
                "role": self.role(name),
                "parse": self.parse_text(name),
                "missing": self.missing.get(name),
                "reason": self.ignored.get(name, self.notes.get(name, "")),
            }
            for name in columns
        ]


def stored_format(fmt: dict) -> NumberFormat | DateFormat:
    """A column format as saved in ``Schema.formats`` (``{"kind": "number"|"date", ...}``), as its dataclass."""
    values = {k: v for k, v in fmt.items() if k not in ("kind", "settled")}
    return NumberFormat.from_dict(values) if fmt["kind"] == "number" else DateFormat.from_dict(values)


def _label_words(positive: list[str], negative: list[str]) -> str:
    if not positive:
        return "labels 1/true/yes = 1, 0/false/no = 0"
    zero = ", ".join(f"'{v}'" for v in negative) if negative else "every other value"
    return f"labels {', '.join(repr(v) for v in positive)} = 1, {zero} = 0"


@dataclass
class Prepared:
    """A validated table: typed feature columns, target (when labelled) and row ids.

    ``rows`` holds the positions (in the table read) of the rows kept, when some were left out
    (target values in neither ``--positive`` nor ``--negative``); None when every row is kept.
    ``ids`` is None in a training table once checked (training never reads them), and with a
    validation split ``features`` too once summarised (the fits read the matrix alone).
    """

    features: pd.DataFrame | None
    ids: pd.Series | None
    y: np.ndarray | None
    rows: np.ndarray | None = None


@dataclass(frozen=True)
class _Options:
    na_values: frozenset[str] = frozenset()
    dates: tuple[str, ...] = ()
    dayfirst: bool | None = None
    decimal_comma: tuple[str, ...] = ()
    decimal_point: tuple[str, ...] = ()
    european: bool = False  # the file was ';'-separated: an ambiguous '1,234' leans to a decimal comma


def infer_schema(
    frame: pd.DataFrame,
    *,
    source: str = "table",
    target: str | None = None,
    id_column: str | None = None,
    drop: Sequence[str] = (),
    categorical: Sequence[str] = (),
    dates: Sequence[str] = (),
    positive: Sequence[str] = (),
    negative: Sequence[str] = (),
    na_values: Sequence[str] = (),
    dayfirst: bool | None = None,
    decimal_comma: Sequence[str] = (),
    decimal_point: Sequence[str] = (),
) -> Schema:
    """Decide each column's role and format; the target must exist (default ``is_hot_lead``).

    A table longer than :data:`INFER_ROWS` is inferred from that many rows drawn at random (seed
    0); what a sample can get wrong is decided again on every row: a column that looks unique
    (an id), constant, empty or numbered row by row in the sample. ``missing`` then holds the
    sample's shares. A format the sample missed (a thousands separator in a few rows) is caught
    by :func:`prepare` with ``training=True``, which reads every row.

    Raises
    ------
    DataError
        When a named column does not exist, no target can be found, no feature is usable, or a column named by
        ``decimal_comma``/``decimal_point`` has values that are no numbers with that mark (blank cells and ``na_values`` aside).
    """
    if negative and not positive:
        raise ParameterError("--negative needs --positive: name the hot-lead value(s) too (e.g. --positive Won --negative Lost).")
    refuse_overlap("--positive and --negative", positive, negative, key=_label_key)
    refuse_overlap("--decimal-comma and --decimal-point", decimal_comma, decimal_point, noun="column")
    columns = list(frame.columns)
    target, id_column = (None if name is None else reader_name(name, columns) for name in (target, id_column))
    drop, categorical, dates, decimal_comma, decimal_point = (
        [reader_name(name, columns) for name in names] for names in (drop, categorical, dates, decimal_comma, decimal_point)
    )
    target = target or (DEFAULT_TARGET if DEFAULT_TARGET in columns else None)
    if target is None:
        raise DataError(
            f"{source}: no target column '{DEFAULT_TARGET}'; name the column to predict with --target{_target_candidates(frame)} (columns: {_short_list(columns)}){other_sheets(frame)}."
        )
    named = {
        "--target": [target],
        "--id": [id_column] if id_column else [],
        "--drop": drop,
        "--categorical": categorical,
        "--date": dates,
        "--decimal-comma": decimal_comma,
        "--decimal-point": decimal_point,
    }
    for option, names in named.items():
        for name in names:
            require_column(name, columns, source, option, sheets=other_sheets(frame))
    _refuse_two_roles(named)
    for role, name in (("the target", target), ("the id column", id_column or (DEFAULT_ID if DEFAULT_ID in columns else None))):
        for option in _ROLE_OPTIONS:  # never a feature anyway: the option would do nothing, which is not what was asked
            if name is not None and name in named[option]:
                other = "--target" if role == "the target" else "--id"
                raise ParameterError(
                    f"{option} names {_quoted(name)}, {role}, which is never a feature; leave it out of {option} (or choose another with {other})."
                )
    options = _Options(frozenset(na_values), tuple(dates), dayfirst, tuple(decimal_comma), tuple(decimal_point), frame.attrs.get("delimiter") == ";")
    sample = _inference_sample(frame)
    not_numbers = {target, id_column, *drop, *categorical, *dates}  # never read as numbers: a mark on them changes nothing
    _refuse_unread_marks(frame, sample, options, not_numbers, source)
    schema = Schema(
        target=target,
        id=id_column or (DEFAULT_ID if DEFAULT_ID in columns else None),
        positive=[str(v) for v in positive],
        negative=[str(v) for v in negative],
        na_values=sorted(options.na_values),
        columns=columns,
    )
    for name in columns:
        if name == target:
            schema.missing[name] = float(frame[name].isna().mean())
        elif name in drop:
            schema.ignored[name] = "dropped by --drop"
        elif name != schema.id:
            full = frame[name] if sample is not frame else None
            _assign_role(schema, name, sample[name], options, forced_categorical=name in categorical, full=full)
    _choose_id(schema, sample)
    if schema.id is not None:
        schema.missing[schema.id] = float(frame[schema.id].isna().mean())
    if not schema.features:
        raise DataError(f"{source}: no usable feature column besides the target and id; ignored: {_ignored_words(schema.ignored)}.")
    if schema.id is None:
        _warn_near_unique(frame, schema, source)
    return schema


_ROLE_OPTIONS = ("--drop", "--categorical", "--date", "--decimal-comma", "--decimal-point")


def _refuse_two_roles(named: dict[str, list[str]]) -> None:
    """Refuse a column that two of :data:`_ROLE_OPTIONS` name: one would silently win (``--categorical x --decimal-comma x``
    read ``x`` as categories and ignored the mark), so the user must say which they meant.

    Raises
    ------
    ParameterError
        Naming both options and the column.
    """
    for left, right in itertools.combinations(_ROLE_OPTIONS, 2):
        if {left, right} != {"--decimal-comma", "--decimal-point"}:  # refused before the names were resolved
            refuse_overlap(f"{left} and {right}", named[left], named[right], key=str, noun="column")  # resolved names: exact


def _refuse_unread_marks(frame: pd.DataFrame, sample: pd.DataFrame, options: _Options, skipped: set, source: str) -> None:
    """Refuse a ``--decimal-comma``/``--decimal-point`` column whose values are no numbers with that decimal mark.

    Without this the column's values decide alone, and a column the option contradicts is
    silently read as text (a category, free text, even the id). The inference ``sample`` is
    looked at; only a column found wanting there is read whole, for its lines.

    Raises
    ------
    DataError
        Naming, for every such column, the option, a few values with their lines, and the fix.
    """
    problems = []
    for decimal, names in ((",", options.decimal_comma), (".", options.decimal_point)):
        for name in names:
            if name in skipped or not _is_text(frame[name]):  # a sheet's or Parquet's numbers have no decimal mark to read
                continue
            if unread_with_mark(sample[name], decimal, na_values=options.na_values).any():
                unread = unread_with_mark(frame[name], decimal, na_values=options.na_values)
                problems.append(decimal_mark_problem(frame, name, unread, decimal, training=True, na_values=options.na_values))
    if problems:
        raise DataError(f"{source}: " + "; ".join(problems))


def _is_text(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values))


def decimal_mark_problem(frame: pd.DataFrame, name: str, unread: np.ndarray, decimal: str, *, training: bool, na_values: frozenset[str] = frozenset()) -> str:
    """What is wrong with column ``name``'s values that are no numbers with the decimal mark a user set (``unread``: where), and the fix.

    ``training``: the mark is the option just given, else the one the model was trained with.
    The fix depends on how the column is written: nearly every value a number with the other
    mark asks for the other option (scoring: for the file written as in training); most values
    no numbers at all, for dropping the option; a few stray values, for fixing those (a number
    with the other mark written with this one), with ``--na-values`` offered only for what could
    be a missing marker (:func:`na_values_fix`).
    """
    raw = frame[name]
    other = "." if decimal == "," else ","
    option, other_option = (f"--decimal-{word} {shlex.quote(column_name(name))}" for word in (_MARK_WORDS[decimal], _MARK_WORDS[other]))
    texts = raw[unread].astype(str).str.strip()
    neither = unread_with_mark(texts, other)  # read with neither mark: words, typos, numbers with units
    tokens = sorted(set(texts[neither]))
    present = int((~is_missing(raw, na_values)).sum())
    unread_other = unread_with_mark(raw, other, na_values=na_values)
    retrain = "write its numbers so, or train the model again without that option"
    if unread_other.sum() < unread.sum() and unread_other.sum() <= (1 - TYPED_SHARE) * present:  # written with the other mark
        fixes = [_other_mark_fix(frame, raw, unread_other & ~unread, other, other_option) if training else retrain]
    elif neither.sum() > 0.5 * present and not _mostly_a_marker(tokens, read=present - int(unread.sum()), present=present):  # names, codes, categories
        fixes = [f"the column holds no numbers written so: drop {option}" if training else retrain]
        tokens = []  # the option is what is wrong: a category's values are no missing markers
    else:
        strays = sorted(set(texts[~neither]))  # numbers with the other mark among those with this one
        fixes = [f"write {_quoted_few(strays)} as the column's other numbers are, with '{decimal}' as the decimal mark"] if strays else []
    if tokens:
        fixes.append(na_values_fix(tokens, training=training, cells=f"cells such as {_quoted_few(tokens)}"))
    given = option if training else f"the model was trained with {option}"  # predict has no such option to quote
    return f"{column_words(name)} is not a number with '{decimal}' as its decimal mark ({given}) {row_examples(frame, raw, unread)}; " + "; ".join(fixes)


def _mostly_a_marker(tokens: list[str], *, read: int, present: int) -> bool:
    """Whether a column most of whose cells no mark reads is numbers under a missing marker (``Not disclosed`` in two rows
    of three, the rest ``1332,89``): a few marker-like texts, and at least 5 % of the cells numbers written with the mark."""
    return 0 < len(tokens) <= MAX_SHOWN and all(map(is_marker_like, tokens)) and read >= 0.05 * present


def _other_mark_fix(frame: pd.DataFrame, raw: pd.Series, left: np.ndarray, other: str, other_option: str) -> str:
    """The other option to give, and the few values (``left``) only the given mark reads, to write with the other one too."""
    fix = f"its numbers read with '{other}' as the decimal mark: give {other_option} instead"
    return f"{fix}, and write {row_examples(frame, raw, left)[1:-1]} with '{other}' as the decimal mark too" if left.any() else fix


def na_values_fix(tokens: Sequence[str], *, training: bool, cells: str = "those cells") -> str:
    """``fix or blank {cells}``, and ``--na-values`` offered for the ``tokens`` (the cells' texts, sorted) that could be missing markers.

    ``--na-values`` is split on commas and applies to every column: ``1,2,3`` or ``12,5 Mio`` there
    would make other cells missing, so only :func:`is_marker_like` tokens are offered.

    Examples
    --------
    >>> na_values_fix(["1,2,3", "unknown"], training=True)
    "fix or blank those cells, or name 'unknown' with --na-values unknown if it means 'unknown'"
    >>> na_values_fix(["1,2,3"], training=True)
    'fix or blank those cells'
    """
    fix = f"fix or blank {cells}"
    markers = _marker_tokens(tokens)
    if not markers:
        return fix
    listed = shlex.quote(",".join(markers[:MAX_SHOWN]))
    if all(map(is_marker_like, tokens)):
        them, mean = "them", "they mean"
    else:  # only some could be markers: say which
        them, mean = _quoted_few(markers), "it means" if len(markers) == 1 else "they mean"
    if training:
        return f"{fix}, or name {them} with --na-values {listed} if {mean} 'unknown'"
    return f"{fix}, or train the model again with --na-values {listed} added to its own if {mean} 'unknown'"


def is_marker_like(token: str) -> bool:
    """Whether a cell's text could be a missing-value marker to name with ``--na-values``: short, no digit, no comma.

    Examples
    --------
    >>> [is_marker_like(t) for t in ["unknown", "TBD", "€ -", "1,2,3", "12,5 Mio", "TBD, see notes", "COMP_000003"]]
    [True, True, True, False, False, False, False]
    """
    return _MARKER_LIKE.fullmatch(token.strip()) is not None


_MARKER_LIKE = re.compile(r"[^\d,]{1,20}")  # a digit makes it a value (a code, a number with a unit); --na-values splits on commas


def _marker_tokens(tokens: Sequence[str]) -> list[str]:
    """The marker-like ``tokens``, one spelling per word (``--na-values`` matches in any case)."""
    spelled: dict[str, str] = {}
    for token in tokens:
        if is_marker_like(token):
            spelled.setdefault(token.casefold(), token)
    return list(spelled.values())


def _quoted_few(values: Sequence[str]) -> str:
    return ", ".join(map(repr, values[:MAX_SHOWN]))


_MARK_WORDS = {",": "comma", ".": "point"}


def _ignored_words(ignored: dict[str, str]) -> str:
    """``{'note': 'constant', column 16 (blank header): 'empty'}``: ignored columns and why, as messages name them."""
    return "{" + ", ".join(f"{_quoted(name)}: {why!r}" for name, why in ignored.items()) + "}"


def _target_candidates(frame: pd.DataFrame) -> str:
    two_valued = [column_name(c) for c in frame.columns if frame[c].dropna().astype(str).str.strip().nunique() == 2]
    return f" (two-valued columns: {', '.join(two_valued)})" if two_valued else ""


def refuse_overlap(option: str, left: Sequence[str], right: Sequence[str], *, key: Callable[[str], str] = str.lower, noun: str = "value") -> None:
    """Refuse a value given to two options that exclude each other (``--decimal-comma`` and ``--decimal-point``).

    Values compare stripped, by ``key``: in any case by default (column names); target
    labels by :func:`_label_key`, as they match the target's values (``1``, ``1.0`` and ``1.00`` are one).
    ``noun``: what the values are, in the fix (``"column"`` for options naming columns).

    Raises
    ------
    ParameterError
        Naming the values both options have, as each wrote them when they differ (``'1' (and '1.0', the same value)``).
    """
    rights = {key(text): text for text in (str(v).strip() for v in right)}
    shared = {key(text): text for text in (str(v).strip() for v in left) if key(text) in rights}
    if shared:
        shown = ", ".join(_both_written(shared[k], rights[k], column=noun == "column") for k in sorted(shared))
        raise ParameterError(f"{option} both name {shown}; give each {noun} to one of them.")


def _both_written(left: str, right: str, *, column: bool = False) -> str:
    """``'salary_k'``, or ``'1' (and '1.0', the same value)``: a value two options share, in each one's words when they differ by more than case;
    a ``column`` read without a header as ``column 2 (blank header)`` (:func:`column_name`), not by the readers' ``Unnamed: 1``."""
    if left.lower() == right.lower():
        return _quoted(left) if column and has_blank_header(left) else repr(left)
    return f"{left!r} (and {right!r}, the same value)"


def require_column(name: str, columns: list[str], source: str, option: str, *, lacking: str = "the table does not have", sheets: str = "") -> None:
    """Refuse an option naming a column not among ``columns``, with the closest name (or the columns) as the fix.

    ``lacking``: the words after "which" (with a history, whose channels count too: "neither the table nor its history (h.csv) has");
    ``sheets``: :func:`~hotleads.io.other_sheets`' hint when the table is a workbook's first sheet.

    Raises
    ------
    DataError
        ``name`` is not one of ``columns``.
    """
    if name not in columns:
        guess = difflib.get_close_matches(name, [column_name(c) for c in columns], n=1)  # as messages name columns, which options accept too
        hint = f"did you mean '{guess[0]}'?" if guess else f"columns are: {_short_list(columns)}"
        raise DataError(f"{source}: {option} names column '{name}', which {lacking}; {hint}{sheets}")


def _inference_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` itself, or :data:`INFER_ROWS` of its rows drawn at random (seed 0), in file order."""
    if len(frame) <= INFER_ROWS:
        return frame
    sample = frame.iloc[_sample_rows(len(frame))]
    sample.attrs = dict(frame.attrs)
    return sample


def _sample_rows(n_rows: int) -> np.ndarray:
    """:data:`INFER_ROWS` of ``n_rows`` positions drawn at random (seed 0), sorted; drawn once per table size."""
    return _drawn_rows(n_rows, INFER_ROWS)


@functools.lru_cache(maxsize=8)
def _drawn_rows(n_rows: int, size: int) -> np.ndarray:
    """The sample of :func:`_sample_rows`, kept: every text number column of a table asks for it (a permutation of all rows each time)."""
    rows = np.sort(np.random.default_rng(0).choice(n_rows, size=size, replace=False))
    rows.flags.writeable = False
    return rows


def _assign_role(schema: Schema, name: str, values: pd.Series, options: _Options, *, forced_categorical: bool, full: pd.Series | None = None) -> None:
    """Infer ``values``' role into ``schema``; ``full``: the whole column when ``values`` is a sample of it."""
    role, fmt, reason = _infer_column(name, values, options, forced_categorical=forced_categorical)
    if full is not None and _sample_may_mislead(role, reason, full, options):
        role, fmt, reason = _infer_column(name, full, options, forced_categorical=forced_categorical)
    schema.missing[name] = _missing_share(values, role, options)
    if fmt is not None:
        schema.formats[name] = fmt
    if role in ("numeric", "categorical", "date"):
        getattr(schema, role).append(name)
        if reason:
            schema.notes[name] = reason
    elif role == "id-like" and is_name_column(name):
        schema.ignored[name] = "names (unique for every row): shown in the lead list, not used as a feature"
    elif role == "id-like":
        schema.ignored[name] = "another id-like column (unique for every row)"
        schema.notes[name] = reason or "unique for every row: used as the id"
    else:
        schema.ignored[name] = reason or role


def _sample_may_mislead(role: str, reason: str, full: pd.Series, options: _Options) -> bool:
    """Decisions a sample can get wrong: unique (id-like) unless the whole column is, constant or empty, row numbers."""
    if role == "id-like" and not pd.api.types.is_numeric_dtype(full):
        stripped = pc.utf8_trim_whitespace(arrow_text(full))
        return stripped.null_count > 0 or not all_distinct(stripped) or bool(is_missing(full, options.na_values).any())
    return role == "id-like" or reason in ("constant", "empty") or reason.startswith("row numbers")


def is_name_column(name: str) -> bool:
    """``name``, ``company_name``, ``Account Name``: a column of names, shown in the lead list, never the id."""
    lowered = str(name).lower()
    return lowered == "name" or lowered.endswith("_name") or lowered.endswith(" name")


def _choose_id(schema: Schema, frame: pd.DataFrame) -> None:
    """The id among the id-like columns: codes (``ACC-00001``, ``000123``) first, then whole numbers named like an id."""
    candidates = [name for name, reason in schema.ignored.items() if reason.startswith("another id-like")]
    if schema.id is not None or not candidates:
        for name in candidates:
            schema.notes.pop(name, None)
        return

    def rank(name: str) -> tuple[int, int]:
        text = frame[name].astype("string").str.strip()
        code = name not in schema.formats and not text.str.contains(" ").fillna(False).any()
        return (0 if code else 1, 0 if _ID_NAME.search(str(name)) else 1)

    schema.id = min(candidates, key=rank)
    del schema.ignored[schema.id]
    for name in candidates:
        if name != schema.id:
            schema.notes.pop(name, None)


def _missing_share(values: pd.Series, role: str, options: _Options) -> float:
    if len(values) == 0:
        return 0.0
    typed = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
    if role in ("numeric", "date"):  # typed values are read as they are (prepare applies no --na-values to them)
        return float(values.isna().mean() if typed else is_missing(values, options.na_values).mean())
    text = values.astype("string").str.strip()
    return float(_blank(text, options.na_values).mean())


def infer_role(values: pd.Series) -> str:
    """Role of one column: numeric, categorical, date, or an ignore reason (id-like, free text, constant, empty)."""
    role, _, reason = _infer_column(str(values.name), values, _Options(), forced_categorical=False)
    return role if role in ("numeric", "categorical", "date", "id-like") or not reason else reason.split(" (")[0].split(";")[0]


def _infer_column(name: str, values: pd.Series, options: _Options, *, forced_categorical: bool) -> tuple[str, dict | None, str]:
    """(role, format or None, reason or note) of one column."""
    if forced_categorical:
        return "categorical", None, "categorical by --categorical"
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return _numeric_role(name, values.astype("float64"), None)
    if pd.api.types.is_datetime64_any_dtype(values):
        return ("date", None, "") if values.dropna().nunique() > 1 else _empty_or_constant(values.dropna())
    if name in options.dates:
        fmt = infer_date_format(values.astype(object), dayfirst=options.dayfirst, force=True) or DateFormat()
        return "date", {"kind": "date", **fmt.to_dict()}, "date by --date"
    typed = _typed_text_role(name, values, options)
    return typed if typed is not None else _text_role(name, values, options)


# What every number, date and code with leading zeros has: a decimal digit of any script (Python's
# float reads full-width and Arabic-Indic digits), or one of parsing's infinities.
_NUMBER_OR_DATE_SIGN = r"(?i)\p{Nd}|inf|\x{221e}"


# 2023-06-12 (and its times): never a number (no number has a dash inside), so not tried as one
_ISO_DATE_START = r"^\s*\d{4}-\d{1,2}-\d{1,2}"


def _typed_text_role(name: str, values: pd.Series, options: _Options) -> tuple[str, dict | None, str] | None:
    """numeric or date when the text column's present values parse as such (codes with leading zeros never do)."""
    text = values.astype(object)
    present = ~is_missing(text, options.na_values)
    if not present.any():
        return "ignored", None, "empty"
    written = arrow_text(values)
    if not pc.any(pc.match_substring_regex(written, _NUMBER_OR_DATE_SIGN)).as_py():
        return None  # neither numbers nor dates nor codes: a category column takes 1 ms, not 100
    iso = pc.all(pc.or_kleene(pc.match_substring_regex(written, _ISO_DATE_START), pa.array(~present.to_numpy()))).as_py()
    if not iso and has_leading_zero_codes(text[present]):
        return None
    decimal = "," if name in options.decimal_comma else "." if name in options.decimal_point else None
    number = None if iso else infer_number_format(text[present], prefer_decimal_comma=options.european, decimal=decimal)
    if number is not None:
        fmt = {"kind": "number", **number.to_dict()}
        role = _numeric_role(name, parse_numbers(text, number, na_values=options.na_values), fmt)
        _warn_number_format(name, number, role[0])
        return role
    date = infer_date_format(text[present], dayfirst=options.dayfirst)
    if date is not None:
        if parse_dates(text[present], date).nunique() < 2:
            return _empty_or_constant(text[present])
        _warn_date_format(name, date)
        return "date", {"kind": "date", **date.to_dict()}, ""
    return None


def _numeric_role(name: str, numbers: pd.Series, fmt: dict | None) -> tuple[str, dict | None, str]:
    present = numbers.dropna()
    if present.empty or present.nunique() == 1:
        return _empty_or_constant(present)
    if _is_row_number(name, numbers):
        if _ID_NAME.search(name) and not _INDEX_NAME.match(name):
            return "id-like", fmt, "unique whole numbers named like an id: used as the id, not as a feature"
        return "ignored", fmt, f"row numbers ({present.min():.0f} to {present.max():.0f}, one per row): they say nothing about a company"
    return "numeric", fmt, ""


def _is_row_number(name: str, numbers: pd.Series) -> bool:
    """Unique whole numbers that only number the rows: a saved index, a record number, an ``*_id``."""
    if numbers.isna().any() or not numbers.is_unique or not np.all(numbers == np.round(numbers)):
        return False
    if _INDEX_NAME.match(name) or _ID_NAME.search(name):
        return True
    n = len(numbers)
    return n >= MIN_ROWS_FOR_ROW_NUMBERS and numbers.max() - numbers.min() == n - 1


def _empty_or_constant(present: pd.Series) -> tuple[str, None, str]:
    return ("ignored", None, "empty") if present.empty else ("ignored", None, "constant")


def _text_role(name: str, values: pd.Series, options: _Options) -> tuple[str, dict | None, str]:
    text = values.astype("string").str.strip()
    present = text[~_blank(text, options.na_values)]
    if present.empty:
        return "ignored", None, "empty"
    n_unique = present.nunique()
    if n_unique == 1:
        return "ignored", None, "constant"
    if n_unique == len(values):
        return "id-like", None, ""
    codes = has_leading_zero_codes(present.astype(object))
    if n_unique > max(50, len(present) // 2):
        kind = "codes with leading zeros" if codes else "free text"
        example = " (e.g. ZIP codes)" if codes or _looks_like_codes(present) else ""
        return "ignored", None, f"{kind} ({n_unique} distinct values); if they are categories{example}, pass --categorical {shlex.quote(name)}"
    return "categorical", None, "codes with leading zeros: read as categories, not numbers" if codes else ""


def _looks_like_codes(present: pd.Series) -> bool:
    """Digits with a dash or letters, no spaces (``02134-1234``, ``SW1A-1AA``): postal or product codes, not prose."""
    return bool(present.str.fullmatch(r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+").mean() >= 0.9)


def _warn_number_format(name: str, fmt: NumberFormat, role: str) -> None:
    if role == "numeric":
        for note in number_format_notes(name, fmt):
            warnings.warn(note, DataWarning, stacklevel=5)


def number_format_notes(name: str, fmt: NumberFormat) -> list[str]:
    """What a user should know of how numeric column ``name`` was read under ``fmt``: a decimal mark no value settled, mixed currencies."""
    notes = []
    if fmt.ambiguous:
        sep = fmt.thousands or ("," if fmt.decimal == "." else ".")
        example = f"1{sep if fmt.thousands else fmt.decimal}234"
        if fmt.decimal == ".":
            read, fix = f"read '{sep}' as the thousands separator", f"Pass --decimal-comma {shlex.quote(name)} if ',' is the decimal mark there."
        else:
            read = f"read ',' as the decimal mark{' and ' + repr(fmt.thousands) + ' as the thousands separator' if fmt.thousands else ''} (a ';'-separated file is a European export)"
            fix = f"Pass --decimal-point {shlex.quote(name)} if '.' is the decimal mark there."
        notes.append(f"{column_words(name)}: values such as '{example}' can mean 1234 or 1.234 and no value settles it; {read}. {fix}")
    if len(fmt.currency) > 1:
        notes.append(
            f"{column_words(name)} mixes currencies ({', '.join(fmt.currency)}); amounts are taken as written, not converted. "
            "Convert them to one currency in the export if they should be compared."
        )
    return notes


def _warn_date_format(name: str, fmt: DateFormat) -> None:
    if fmt.ambiguous:
        read = "day first" if fmt.order == "dmy" else "month first"
        option = "--monthfirst" if fmt.order == "dmy" else "--dayfirst"
        warnings.warn(
            f"{column_words(name)}: no date settles day-first against month-first (every day and month is 12 or less); "
            f"read {read} ({fmt.describe()[5:]}). Pass {option} if that is wrong.",
            DataWarning,
            stacklevel=5,
        )


def _warn_near_unique(frame: pd.DataFrame, schema: Schema, source: str) -> None:
    """No id column: name a column that would be one but for a few repeats, and say what happens instead."""
    for name in schema.ignored:
        text = frame[name].astype("string").str.strip()
        if len(text) < MIN_ROWS_FOR_ROW_NUMBERS or text.isna().any():
            continue
        repeats = text.duplicated(keep=False)
        if 0 < repeats.sum() and text.nunique() >= NEAR_UNIQUE * len(text):
            first = text[repeats].iloc[0]
            warnings.warn(
                f"{source}: {column_words(name)} looks like an id but repeats {int(text.duplicated().sum())} value(s), e.g. '{first}' "
                f"{row_examples(frame, text, text == first, show_value=False)}; without a unique id, submission.csv numbers the rows "
                f"0 to {len(text) - 1} instead. Make the values unique, or pass --id with a unique column.",
                DataWarning,
                stacklevel=3,
            )
            return


# ---------------------------------------------------------------------------------------- prepare


def prepare(frame: pd.DataFrame, schema: Schema, *, source: str = "table", labelled: bool, training: bool = False, consume: bool = False) -> Prepared:
    """Validate ``frame`` against ``schema`` and return typed columns; raise once listing every problem.

    ``training`` adds hints that only ``train`` can follow (``--id``), and reads the table as
    the one the schema was inferred from: where :func:`infer_schema` saw a sample and a column's
    inferred format leaves some of its values unread, the format is inferred again from the whole
    column and, when it reads more, kept in ``schema.formats``. ``consume`` deletes each feature
    and target column from ``frame`` once typed, for a caller that owns the table and is done
    with it: the table as read and the typed one are then never both whole in memory.

    Raises
    ------
    DataError
        Listing every missing column, unparseable value, bad target value and duplicate id.
    """
    problems: list[str] = []
    needed = schema.features + ([schema.target] if labelled else [])
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        unlabelled = "; this command reads the labels: to score an unlabelled table, use hotleads predict" if missing == [schema.target] else ""
        raise DataError(
            f"{source}: missing column(s) [{', '.join(map(_quoted, missing))}] that the model needs; add them (extra columns are fine)"
            f"{_written_otherwise(missing, frame)}{_blank_header_hint(missing)}{unlabelled}{other_sheets(frame)}."
        )
    _warn_extra_columns(frame, schema, source)
    na_values = frozenset(schema.na_values)
    columns = {}
    for name in schema.features:  # numbers, categories, dates
        if name in schema.numeric:
            columns[name] = _numeric_column(frame, name, schema, na_values, source, problems, training=training)
        elif name in schema.categorical:
            columns[name] = _categorical_column(frame[name], na_values)
        else:
            columns[name] = _date_column(frame, name, schema, na_values, source, problems, training=training)
        if consume:
            del frame[name]
            release_memory()  # Arrow's pool keeps what the column freed; numpy's next arrays cannot use it there
    # Built once (inserting column by column costs per column) and not consolidated: stacking the
    # numbers into one 2D block copies them (0.1 s and 72 MB a million rows), while a float column
    # read as such stays shared, copy-on-write, with the caller's table.
    features = pd.DataFrame(columns, index=frame.index, copy=False)
    left_out: dict[str, int] = {}  # the target values of the rows left out and their rows, named in the warning
    y = _target(frame, schema, problems, training=training, source=source, left_out=left_out) if labelled else None
    if consume and labelled:
        del frame[schema.target]
        release_memory()
    ids = _ids(frame, schema.id, source, problems, training=training)
    if problems:
        raise DataError(f"{source}: " + "; ".join(problems))
    return _kept(features, ids, y, source, left_out)


def _kept(features: pd.DataFrame, ids: pd.Series, y: np.ndarray | None, source: str, values: dict[str, int]) -> Prepared:
    """Leave out rows whose target is in neither --positive nor --negative (NaN in ``y``), with a warning naming ``values`` (theirs, with their rows)."""
    if y is None or not np.isnan(y).any():
        y = None if y is None else y.astype(np.int64)
        return Prepared(features=features.reset_index(drop=True), ids=ids.reset_index(drop=True), y=y)
    keep = np.flatnonzero(~np.isnan(y))
    warnings.warn(CountedWarning(_LeftOutWords(source), values), stacklevel=3)
    return Prepared(
        features=features.iloc[keep].reset_index(drop=True),
        ids=ids.iloc[keep].reset_index(drop=True),
        y=y[keep].astype(np.int64),
        rows=keep,
    )


def _blank(text: pd.Series, tokens: frozenset[str] = frozenset()) -> pd.Series:
    """Where stripped text is missing, empty or one of the ``--na-values`` tokens (any case): a text column's missing rule."""
    return pd.Series(_blank_arrow(arrow_text(text), tokens).to_numpy(zero_copy_only=False), index=text.index)


def _blank_arrow(stripped: pa.Array, tokens: frozenset[str] = frozenset()) -> pa.Array:
    """:func:`_blank` on Arrow text, as an Arrow boolean array (no nulls): categories are typed with it on every scored row."""
    blank = pc.or_kleene(pc.is_null(stripped), pc.equal(stripped, ""))
    if tokens:
        blank = pc.or_kleene(blank, is_any_case(stripped, frozenset(t.strip().lower() for t in tokens)))
    return blank


def fold_name(name: object) -> str:
    """A column name as names compare when written alike: case-folded, without spaces or underscores.

    Headers are re-typed or exported in capitals (``Company ID``, ``COMPANY_ID``, ``companyid``);
    every hint that a column is there under another spelling compares names by this one rule.
    (Ids, values rather than names, have their own: :func:`hotleads.history.fold_ids`.)

    Examples
    --------
    >>> {fold_name(name) for name in ("company_id", "Company ID", "COMPANY_ID", "companyid")}
    {'companyid'}
    """
    return re.sub(r"[\s_]+", "", str(name)).casefold()


def _written_otherwise(missing: list[str], frame: pd.DataFrame) -> str:
    """`` (the table has 'COMPANY_ID' for 'company_id', ...)`` for missing columns present in another case or spacing: headers re-typed or exported in capitals."""
    folded = {fold_name(c): str(c) for c in frame.columns}
    pairs = [(folded[key], name) for name in missing if (key := fold_name(name)) in folded]
    if not pairs:
        return ""
    shown = ", ".join(f"'{there}' for '{name}'" for there, name in pairs[:3]) + (f" and {len(pairs) - 3} more" if len(pairs) > 3 else "")
    return f"; the table has {shown}: rename {'it' if len(pairs) == 1 else 'them'} as in training"


def _blank_header_hint(missing: list[str]) -> str:
    """How to fix a missing column that had a blank header in training: it is found by its position alone."""
    if not any(map(has_blank_header, missing)):
        return ""
    return "; a blank header is matched by the column's position alone: give that column a header in both tables and train again"


def _warn_extra_columns(frame: pd.DataFrame, schema: Schema, source: str) -> None:
    known = set(schema.features) | set(schema.ignored) | {schema.id} | {schema.target}
    extra = [name for name in frame.columns if name not in known and not _is_stray_blank_column(frame[name])]
    if extra:
        warnings.warn(f"{source}: ignoring column(s) the model does not use: {_short_list(extra)}", DataWarning, stacklevel=3)


def _is_stray_blank_column(column: pd.Series) -> bool:
    """A blank header over no values: what a comma ending every line of a CSV reads as; nothing the model could use, so never named."""
    return has_blank_header(column.name) and bool(pc.all(_blank_arrow(pc.utf8_trim_whitespace(arrow_text(column)))).as_py())


def _numeric_column(
    frame: pd.DataFrame,
    name: str,
    schema: Schema,
    na_values: frozenset[str],
    source: str,
    problems: list[str],
    *,
    training: bool,
) -> pd.Series:
    raw = frame[name]
    if raw.dtype == np.float64:  # as the service and Parquet hand it over; astype would cost ~0.1 ms a column per call
        return raw  # the features frame copies it or shares it copy-on-write: the caller's table stays as it was
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64")
    fmt = schema.formats.get(name)
    number = NumberFormat() if fmt is None else stored_format(fmt)
    # Training inferred the format from this very column (or the user set it); a stream's first chunk settled it for the file.
    settled = (fmt or {}).get("settled")
    if not training and not settled:
        number = number_format_here(frame, name, number, na_values, source)
    values, missing, as_written = parse_numbers_read(raw, number, na_values=na_values)
    if settled and not as_written and _has_percent_signs(raw) != number.percent:  # a settled format reads 6.3% and 6.3 alike
        own = _format_here(frame, name, na_values)[1]  # warned about as in one piece; the settled format stays
        if own is not None:
            _warn_scale_or_currency(source, name, own, number)
    bad = pd.Series(~missing & values.isna().to_numpy(), index=raw.index)
    if bad.any() and training and len(frame) > INFER_ROWS and not number.given:  # inferred from a sample that missed a way of writing
        number, values, bad = _whole_column_format(frame, raw, number, values, bad, na_values)
        schema.formats[name] = {"kind": "number", **number.to_dict()}
    if bad.any():
        written = "" if number.plain else f" ({number.describe()})"
        texts = raw[bad].astype(str).str.strip()
        totals = texts.str.fullmatch(r"(?i)(grand )?(totals?|sum|summe|gesamt|total général)")
        if totals.any():  # a report's totals row exported with the data: a row to delete, not a cell to blank
            problems.append(
                f"{column_words(name)} has '{texts[totals].iloc[0]}' {row_examples(frame, raw, bad & raw.astype(str).str.strip().isin(set(texts[totals])), show_value=False)}: "
                "it looks like a totals row; delete that row from the file"
            )
        elif number.given:  # the user's --decimal-comma/--decimal-point (now or in training): the option is the thing to name
            problems.append(decimal_mark_problem(frame, name, bad.to_numpy(), number.decimal, training=training, na_values=na_values))
        else:  # scoring reads the missing-value tokens the model was trained with: a new one takes a new training
            fix = na_values_fix(sorted(set(texts)), training=training)
            problems.append(f"{column_words(name)} is numeric{written} but has text {row_examples(frame, raw, bad)}; {fix}")
    return values


def _whole_column_format(frame: pd.DataFrame, raw: pd.Series, number: NumberFormat, values: pd.Series, bad: pd.Series, na_values: frozenset[str]):
    """(format, values, unread mask): the column's format inferred from all its rows when that reads more of them."""
    own = infer_number_format(raw[~is_missing(raw, na_values)].astype(object), prefer_decimal_comma=frame.attrs.get("delimiter") == ";")
    if own is None:
        return number, values, bad
    again, missing = parse_numbers_marked(raw, own, na_values=na_values)
    unread = pd.Series(~missing & again.isna().to_numpy(), index=raw.index)
    return (own, again, unread) if unread.sum() < bad.sum() else (number, values, bad)


def _has_percent_signs(raw: pd.Series) -> bool:
    """Whether any text cell holds a percent sign."""
    return bool(pc.any(pc.match_substring(arrow_text(raw), "%")).as_py())


def number_format_here(frame: pd.DataFrame, name: str, trained: NumberFormat, na_values: frozenset[str], source: str) -> NumberFormat:
    """The training format, unless this table plainly writes the column another way (``1.234,5`` where training had ``1,234.5``).

    A value such as ``37.466`` reads under both conventions, so the recorded format alone could
    silently turn 37,466 employees into 37.466; the column's own values (and a ``;`` delimiter)
    decide when they settle it.
    """
    present, own = _format_here(frame, name, na_values)
    if own is None:
        return trained
    _warn_scale_or_currency(source, name, own, trained)
    if trained.given or (own.decimal, own.thousands) == (trained.decimal, trained.thousands):
        return trained
    as_trained, as_written = parse_numbers(present, trained), parse_numbers(present, own)
    unreadable = int(as_trained.isna().sum()) > int(as_written.isna().sum())  # 587,963 where training wrote 587963
    if as_written.equals(as_trained) or (own.ambiguous and not unreadable):
        return trained
    warnings.warn(
        f"{source}: {column_words(name)} is written differently here ({own.describe()}) than in training ({trained.describe()}); read as written here.",
        DataWarning,
        stacklevel=5,
    )
    return own


def _format_here(frame: pd.DataFrame, name: str, na_values: frozenset[str]) -> tuple[pd.Series, NumberFormat | None]:
    """(the present cells looked at, the number format they are written in) of column ``name`` of this table."""
    raw = frame[name]
    raw = raw.iloc[_sample_rows(len(raw))] if len(raw) > INFER_ROWS else raw  # as infer_schema decided: a sample shows how it is written
    present = raw[~is_missing(raw, na_values)].astype(object)
    return present, infer_number_format(present, prefer_decimal_comma=frame.attrs.get("delimiter") == ";")


def _warn_scale_or_currency(source: str, name: str, own: NumberFormat, trained: NumberFormat) -> None:
    """Warn where this table writes percent signs or a currency otherwise than training did: values taken as written may be on another scale."""
    if own.percent != trained.percent:  # 9.0% in training is 9.0: a plain 0.090 here is on another scale
        written, other = ("with", "without") if own.percent else ("without", "with")
        warnings.warn(
            f"{source}: {column_words(name)} is written {written} percent signs here but {other} them in training "
            f"(training read '9.0%' as 9.0); check the values are on the same scale, e.g. 9.0 and not 0.09.",
            DataWarning,
            stacklevel=6,
        )
    if own.currency and trained.currency and set(own.currency) != set(trained.currency):
        warnings.warn(
            f"{source}: {column_words(name)} is in {'/'.join(own.currency)} here but was in {'/'.join(trained.currency)} in training; "
            "amounts are taken as written, not converted: convert them to the training currency if they differ in value.",
            DataWarning,
            stacklevel=6,
        )


def _categorical_column(raw: pd.Series, na_values: frozenset[str]) -> pd.Series:
    """Stripped text, NaN where blank (:func:`_blank`'s rule), kept in Arrow (pandas' ``str`` dtype).

    Not Python strings: a million rows of them cost 0.1 s per column to make and about 60 bytes a
    row to keep, and encoding reads the Arrow buffers again (``features._encode``)."""
    stripped = pc.utf8_trim_whitespace(arrow_text(raw))
    return arrow_series(pc.if_else(_blank_arrow(stripped, na_values), pa.scalar(None, stripped.type), stripped), raw.index)


def arrow_series(text: pa.Array, index: pd.Index) -> pd.Series:
    """Arrow text as a pandas ``str`` Series (NaN where null) on ``index``, without Python strings.

    The values are placed by position: handed a Series, ``pd.Series(..., index=index)`` would align
    it by label, and a table whose index is not 0..n-1 (a Parquet file saving a pandas index)
    would read as all missing.
    """
    return pd.Series(text.to_pandas().array, index=index)


def _date_column(frame: pd.DataFrame, name: str, schema: Schema, na_values: frozenset[str], source: str, problems: list[str], *, training: bool) -> pd.Series:
    raw = frame[name]
    if pd.api.types.is_datetime64_any_dtype(raw):
        return to_utc_naive(raw).astype("datetime64[ns]")
    fmt = schema.formats.get(name)
    date = DateFormat() if fmt is None else stored_format(fmt)
    layout, values = date_layout(raw, date, na_values)
    if layout != date and training:  # inferred from a sample, which the whole column reads otherwise
        schema.formats[name] = {"kind": "date", **layout.to_dict()}
    elif layout != date:
        order = {"mdy": "month first (03/04 = 4 March)", "dmy": "day first (03/04 = 3 April)"}.get(layout.order)
        guessed = (  # scoring has no --dayfirst: the model's options are its training's, so the fix is in the file
            f"; no date here settles the order, so they were read {order}: if that is wrong, write them as YYYY-MM-DD" if layout.ambiguous and order else ""
        )
        warnings.warn(
            f"{source}: {column_words(name)} is written differently here ({layout.describe()}) than in training ({date.describe()}); read as written here{guessed}.",
            DataWarning,
            stacklevel=4,
        )
    if not values.isna().any():  # every row read: nothing missing, nothing to report
        return values
    bad = ~is_missing(raw, na_values) & values.isna()
    if bad.any():
        problems.append(
            f"{column_words(name)} holds dates ({layout.describe()[5:]}) but has {row_examples(frame, raw, bad)}; write them like the others or blank those cells"
        )
    return values


def date_layout(raw: pd.Series, trained: DateFormat, na_values: frozenset[str] = frozenset()) -> tuple[DateFormat, pd.Series]:
    """(the layout :func:`prepare` reads a text date column with, the dates read with it).

    The trained layout, unless it leaves written dates unread that the column's own layout
    (:func:`~hotleads.parsing.infer_date_format`) reads more of.
    """
    values = parse_dates(raw, trained, na_values=na_values)
    if not values.isna().any():
        return trained, values
    written = ~is_missing(raw, na_values)
    if not (written & values.isna()).any():
        return trained, values
    own = infer_date_format(raw[written].astype(object))
    if own is None or own == trained:
        return trained, values
    again = parse_dates(raw, own, na_values=na_values)
    return (own, again) if again.notna().sum() > values.notna().sum() else (trained, values)


# ----------------------------------------------------------------------------------------- target


def _target(
    frame: pd.DataFrame, schema: Schema, problems: list[str], *, training: bool, source: str = "table", left_out: dict[str, int] | None = None
) -> np.ndarray | None:
    """0/1 per row, NaN for rows left out (in neither --positive nor --negative); None after a problem.

    With ``--positive``, training keeps the target's values in ``schema.labels`` and, with it alone, warns
    about blank cells, counted as 0 (:func:`_warn_blank_labels`); scoring warns
    about values not among them (:func:`_warn_unseen_labels`). With ``--negative`` too, a blank
    cell is in neither list: its row is left out as an open deal's is (training and scoring
    alike), and ``left_out`` gets the values of the rows left out (``""`` for blank), each with its rows, for the warning.
    """
    name = schema.target
    raw = frame[name]
    if not schema.positive and (y := _plain_labels(raw)) is not None:
        return y
    text = label_text(raw)
    blank = _blank(text)
    found = len(problems)
    rest_is_zero = bool(schema.positive) and not schema.negative  # "--positive x: the rest become 0", an unticked checkbox too
    if len(text) and blank.all():  # "the model counts ['Won'] as hot, and this table has " nothing: say so
        fix = "fill in the labels" if training else "fill in the labels, or score it with hotleads predict, which needs none"
        problems.append(f"target {_quoted(name)} is blank in every row; {fix}")
        return None
    if blank.any() and not schema.positive:  # under --negative a blank cell is in neither list: left out below, named
        problems.append(f"target {_quoted(name)} is empty {row_examples(frame, raw, blank, show_value=False)}; label those rows or remove them")
    y = _labels(frame, text, schema, problems, training=training)
    if len(problems) > found or y is None:
        return None
    if left_out is not None and np.isnan(y).any():  # rows in neither list, under --negative
        left_out.update(_counts(text.where(~blank, "")[np.isnan(y)]))
    if schema.positive and training:
        schema.labels = _label_values(text, blank)
        if rest_is_zero and blank.any():
            _warn_blank_labels(int(blank.sum()), schema, source)
    elif rest_is_zero and schema.labels:
        _warn_unseen_labels(text, blank, schema, source)
    if np.unique(y[~np.isnan(y)]).size < 2:
        only = int(np.nanmax(y)) if (~np.isnan(y)).any() else 0
        if training:
            problems.append(f"target {_quoted(name)} has only the class {only}; training needs both hot leads (1) and others (0)")
        else:  # the model's own label words may be what is missing: say which values it counts as hot
            words = (
                f"; the model counts {schema.positive} as hot and the rest as not, and this table has {_value_counts(text[~blank])}" if schema.positive else ""
            )
            problems.append(f"target {_quoted(name)} has only the class {only}{words}; metrics need both hot leads (1) and others (0) among the labels")
        return None
    return y


def whole_floats_as_ints(values: pd.Series) -> pd.Series:
    """A float column of whole numbers exact in float64 (below 2**53) as ``Int64`` (``1001.0`` -> ``1001``: sheets and
    Parquet files store whole ids and labels as floats); any other column as it is."""
    finite = values.dropna()
    if pd.api.types.is_float_dtype(values) and (finite == np.round(finite)).all() and (finite.abs() < 2**53).all():
        return values.astype("Int64")
    return values


def label_text(raw: pd.Series) -> pd.Series:
    """Target values as stripped text; a whole float (a sheet's or Parquet's ``1.0``) as its integer text (``1``), as :func:`~hotleads.history.id_text` reads ids.

    Only whole floats exact in float64 (below 2**53) are rewritten; text cells stay as written.
    """
    if pd.api.types.is_float_dtype(raw):
        raw = whole_floats_as_ints(raw)
    elif raw.dtype == object:  # a sheet's column of numbers and text: its numbers are floats
        raw = raw.map(_whole_float_text)
    return raw.astype("string").str.strip()


def _whole_float_text(value: object) -> object:
    if isinstance(value, float) and value == round(value) and abs(value) < 2**53:  # NaN and inf compare false/fail here
        return str(int(value))
    return value


_WHOLE_DECIMAL = re.compile(r"^([+-]?[0-9]+)\.0+$")  # ASCII digits, as Arrow's RE2 reads \d (_arrow_label_keys)


def _label_key(value: str) -> str:
    """A target value as values compare: stripped, any case, ``1.0`` as ``1`` (a model trained on a sheet's floats reads a CSV's ``1``)."""
    return _WHOLE_DECIMAL.sub(r"\1", value.strip().lower())


def _label_keys(text: pd.Series) -> pd.Series:
    """:func:`_label_key` of each value of stripped ``text`` (missing stays missing)."""
    return text.str.lower().str.replace(_WHOLE_DECIMAL, r"\1", regex=True)


def _label_values(text: pd.Series, blank: pd.Series) -> list[str]:
    """The distinct stripped target values, ``""`` for blank cells; none when there are over :data:`MAX_LABELS`."""
    values = {str(v) for v in text[~blank].unique()} | ({""} if blank.any() else set())
    return sorted(values) if len(values) <= MAX_LABELS else []


def _warn_unseen_labels(text: pd.Series, blank: pd.Series, schema: Schema, source: str) -> None:
    """Name target values the training table did not have: ``--positive`` alone counts them 0, which is wrong for a new hot stage.

    A warning, not an error: one stray value should not block the metrics of a whole table.
    """
    written = text.where(~blank, "")
    unseen = ~_label_keys(written).isin({_label_key(v) for v in schema.labels})
    if not unseen.any():
        return
    words = _UnseenLabelsWords(source, schema.target, tuple(schema.positive))
    warnings.warn(CountedWarning(words, _counts(written[unseen])), stacklevel=5)


def _warn_blank_labels(rows: int, schema: Schema, source: str) -> None:
    """Say that ``--positive`` alone counts the training table's blank target cells as 0: right for an unticked checkbox,
    wrong for rows nobody labelled yet, which then teach the model that they are not hot."""
    words = _BlankLabelsWords(source, schema.target, tuple(schema.positive))
    warnings.warn(CountedWarning(words, {"": rows}), stacklevel=5)


@dataclass(frozen=True)
class _BlankLabelsWords:
    """The words of :func:`_warn_blank_labels`' warning, as :class:`_UnseenLabelsWords`."""

    source: str
    target: str
    positive: tuple[str, ...]

    def __call__(self, counts: dict[str, int]) -> str:
        rows = sum(counts.values())
        they, are, them = ("they", "are", "them") if rows > 1 else ("it", "is", "it")
        return (
            f"{self.source}: target {_quoted(self.target)} is blank in {rows} row{'s' if rows > 1 else ''}; {they} {are} counted as not hot (0), "
            f"as --positive {shlex.quote(','.join(self.positive))} counts every other value. If {they} {are} unlabelled, remove {them} or give "
            "--negative with the not-hot values: rows in neither list are left out."
        )


@dataclass(frozen=True)
class _UnseenLabelsWords:
    """The words of :func:`_warn_unseen_labels`' warning for given counts; a frozen dataclass, so that the parts of a table
    scored apart (Dask partitions) add up into one warning (:class:`~hotleads.exceptions.CountedWarning`)."""

    source: str
    target: str
    positive: tuple[str, ...]

    def __call__(self, counts: dict[str, int]) -> str:
        return (
            f"{self.source}: target {_quoted(self.target)} has value(s) the training table did not have: {_named_counts(counts)}; they are counted as not hot (0), "
            f"as --positive {shlex.quote(','.join(self.positive))} counts every other value. If that is wrong, train again with them in "
            "--positive (hot leads) or --negative (not hot; rows in neither list are then left out)."
        )


@dataclass(frozen=True)
class _LeftOutWords:
    """The words of the warning about rows whose target is in neither --positive nor --negative, as :class:`_UnseenLabelsWords`."""

    source: str

    def __call__(self, counts: dict[str, int]) -> str:
        rows = sum(counts.values())
        return f"{self.source}: left out {rows} row(s) whose target is in neither --positive nor --negative: {_named_counts(counts)}."


def _counts(written: pd.Series) -> dict[str, int]:
    """Each target value of ``written`` (``""`` for blank) and its rows, as plain ``str`` and ``int`` (they travel between processes)."""
    return {str(value): int(rows) for value, rows in written.value_counts().items()}


def _named_counts(counts: Mapping[str, int]) -> str:
    """``'Warm' (7 rows), blank cells (1 row)``: the :data:`MAX_UNSEEN_SHOWN` most frequent target values (``""`` for blank) and how many more."""
    return _most_frequent(counts, MAX_UNSEEN_SHOWN, lambda value, count: f"{repr(value) if value else 'blank cells'} ({count} row{'s' if count > 1 else ''})")


def _plain_labels(raw: pd.Series) -> np.ndarray | None:
    """0/1 when every value is one of :data:`TRUE_LABELS`/:data:`FALSE_LABELS` and both occur (Arrow, no pandas .str); else None."""
    if pd.api.types.is_integer_dtype(raw) or pd.api.types.is_bool_dtype(raw):  # Parquet's 0/1: no text at all
        if raw.hasnans:  # a nullable column with gaps: the careful path names the empty rows
            return None
        values = raw.to_numpy()  # whole numbers from 0 to 1 are 0 and 1: no sort needed to see both occur
        return values.astype(np.float64) if len(values) and values.min() == 0 and values.max() == 1 else None
    keys = _arrow_label_keys(pc.utf8_trim_whitespace(arrow_text(raw)))
    positive, negative = is_any_case(keys, TRUE_LABELS), is_any_case(keys, FALSE_LABELS)
    if keys.null_count or not pc.all(pc.or_(positive, negative)).as_py() or not pc.any(positive).as_py() or pc.all(positive).as_py():
        return None  # blanks, other values or one class: the careful path words the problem
    return positive.to_numpy(zero_copy_only=False).astype(np.float64)


def _arrow_label_keys(stripped: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`_label_key` of stripped Arrow text but for case (:func:`~hotleads.parsing.is_any_case` ignores it): ``1.00`` as ``1``."""
    return pc.replace_substring_regex(stripped, pattern=_WHOLE_DECIMAL.pattern, replacement=r"\1")


def _labels(frame: pd.DataFrame, text: pd.Series, schema: Schema, problems: list[str], *, training: bool) -> np.ndarray | None:
    name, lowered, keys = schema.target, text.str.lower(), _label_keys(text)
    present = text[~_blank(text)]
    if schema.positive:
        positive = {_label_key(v) for v in schema.positive}
        negative = {_label_key(v) for v in schema.negative}
        unknown = [v for v in (*schema.positive, *schema.negative) if _label_key(v) not in set(_label_keys(present))]
        if unknown and training:
            problems.append(f"--positive/--negative name value(s) {unknown} that target {_quoted(name)} does not have; its values are {_value_counts(present)}")
            return None
        y = np.where(keys.isin(positive).fillna(False), 1.0, np.where(keys.isin(negative).fillna(False) | (not negative), 0.0, np.nan))
        return y
    y = np.where(keys.isin(TRUE_LABELS).fillna(False), 1.0, np.where(keys.isin(FALSE_LABELS).fillna(False), 0.0, np.nan))
    known = ~np.isnan(y) | lowered.isna().to_numpy() | (lowered == "").fillna(True).to_numpy()
    if not known.all():
        problems.append(
            _target_values_problem(
                name, present, training=training, where=row_examples(frame, lowered, pd.Series(~known, index=lowered.index), show_value=False)
            )
        )
        return None
    return y


def _target_values_problem(name: str, present: pd.Series, *, training: bool, where: str) -> str:
    values = sorted(set(present))
    if not training:
        unknown = sorted(set(present[~_label_keys(present).isin(TRUE_LABELS | FALSE_LABELS)]))
        return f"target {_quoted(name)} has values {unknown} {where}; the target must be binary (0/1, true/false or yes/no), as in the training table"
    if len(values) == 2:
        return (
            f"target {_quoted(name)} has the values {_value_counts(present)}, not 0/1, true/false or yes/no {where}; "
            f"say which one is a hot lead with --positive{_positive_example(values)} (the other becomes 0)"
        )
    if len(values) == 1:
        return (
            f"target {_quoted(name)} has one value {_value_counts(present)} beside blank cells {where}; if it marks the hot leads, "
            f"pass --positive {shlex.quote(values[0])} (blank cells then become 0)"
        )
    return (
        f"target {_quoted(name)} has {len(values)} values {_value_counts(present)}, but the target must be binary (0/1, true/false or yes/no) "
        f"and other values stand at {where[1:-1]}; "
        "pass --positive A[,B] for the hot-lead values (the rest become 0), and --negative C[,D] to train only on those "
        "(rows in neither list, such as open deals, are then left out)"
    )


_POSITIVE_WORDS = re.compile(r"(?i)^(closed[ _-]?)?(won|win|yes|ja|oui|si|sí|wahr|vrai|true|hot|converted|qualified|signed|active|churned|1|100 ?%)$")


def _positive_example(values: list[str]) -> str:
    """`` (e.g. --positive Won)`` when exactly one value reads as the positive one; never a guess."""
    positive = [v for v in values if _POSITIVE_WORDS.match(v.strip())]
    return f" (e.g. --positive {shlex.quote(positive[0])})" if len(positive) == 1 else " VALUE"


def _value_counts(values: pd.Series, limit: int = 10) -> str:
    """``'Won' (12), 'Lost' (9)``: the ``limit`` most frequent values with their rows, then how many more (a target of amounts has thousands)."""
    return _most_frequent(values.value_counts(), limit, lambda value, count: f"'{value}' ({count})")


def _most_frequent(counts: Mapping[object, int], limit: int, shown: Callable[[object, int], str]) -> str:
    """The ``limit`` most frequent values of ``counts`` (value -> rows) as ``shown(value, rows)`` puts them, then ``and N more
    value(s) (M rows)``: a table of new stages or amounts would otherwise give a line of thousands of characters."""
    counts = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    text = ", ".join(shown(value, count) for value, count in counts[:limit])
    if len(counts) > limit:
        rest = sum(count for _, count in counts[limit:])
        text += f" and {len(counts) - limit} more value(s) ({rest} row{'s' if rest > 1 else ''})"
    return text


# --------------------------------------------------------------------------------------------- ids


def _ids(frame: pd.DataFrame, name: str | None, source: str, problems: list[str], *, training: bool) -> pd.Series:
    if name is None or name not in frame.columns:
        if name is not None:
            warnings.warn(f"{source}: no id {column_words(name)}; using 0-based row numbers as Id", DataWarning, stacklevel=3)
        return pd.Series(row_numbers(frame), name="Id")  # a skipped row of bare separators keeps its number, as in the file
    raw = whole_floats_as_ints(frame[name])  # 1001, not 1001.0: a sheet or Parquet file stores whole ids as floats
    stripped = pc.utf8_trim_whitespace(arrow_text(raw))
    present = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, stripped.type), stripped)
    ids = arrow_series(present, raw.index)  # kept in Arrow, as categories are: training only checks them
    empty = present.is_null().to_numpy(zero_copy_only=False)
    unique = all_distinct(present)  # pandas only to name the repeats
    duplicated = np.zeros(len(present), dtype=bool) if unique else ids.duplicated(keep=False).to_numpy() & ~empty
    hint = " (or pass --id with another column)" if training else ""
    if duplicated.any():
        values = ids.to_numpy(dtype=object)
        first = values[duplicated][0]
        rows = row_examples(frame, ids, ids == first, show_value=False)
        problems.append(
            f"id {column_words(name)} repeats {len(set(values[duplicated]))} value(s) in {int(duplicated.sum())} rows, e.g. '{first}' {rows}; ids must be unique{hint}"
        )
    if empty.any():
        problems.append(f"id {column_words(name)} is empty {row_examples(frame, ids, pd.Series(empty, index=ids.index), show_value=False)}; fill in the ids")
    return ids


ID_PART_ROWS = 1_000_000
MAX_HASHED_BYTES = 64  # longer ids (rare) are counted by Arrow's hash table alone


def all_distinct(text: pa.Array) -> bool:
    """Whether Arrow ``text``'s non-null values are all different.

    Settled first by sorting a 64-bit fingerprint of each value (:func:`_fingerprints`: 20-40 ms
    for a million ids, against 0.1-0.25 s for Arrow's hash table of the strings). Equal values
    always share a fingerprint, so distinct fingerprints prove distinct values; when two
    fingerprints match (a repeat, or rarely a collision) the values are counted exactly
    (:func:`_distinct_count`).
    """
    fingerprints = _fingerprints(text) if pa.types.is_string(text.type) or pa.types.is_large_string(text.type) else None  # offsets and data buffers
    if fingerprints is not None:
        fingerprints.sort()
        if not (fingerprints[1:] == fingerprints[:-1]).any():
            return True
    return _distinct_count(text) == len(text) - text.null_count


def _fingerprints(text: pa.Array) -> np.ndarray | None:
    """One uint64 per non-null value of Arrow ``text``, equal for equal values; None for values over :data:`MAX_HASHED_BYTES`.

    The value's bytes are read eight at a time (little-endian words, the bytes past its end
    masked off) and mixed with its length by multiply-add, as FNV and boost's ``hash_combine`` do.
    The words are read in place from Arrow's buffer: no copy of the column's text.
    """
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width)[text.offset : text.offset + len(text) + 1]
    starts, lengths = offsets[:-1].astype(np.int64), np.diff(offsets).astype(np.int64)
    if text.null_count:
        present = text.is_valid().to_numpy(zero_copy_only=False)
        starts, lengths = starts[present], lengths[present]
    if len(lengths) and lengths.max() > MAX_HASHED_BYTES:
        return None
    fingerprint = lengths.astype(np.uint64)
    if len(lengths) == 0 or lengths.max() == 0:
        return fingerprint
    words = _words_at(np.frombuffer(text.buffers()[2], dtype=np.uint8)[: int(offsets[-1])])
    shortest, longest = int(lengths.min()), int(lengths.max())
    fixed = shortest == longest and not text.null_count  # codes of one width (C0000001): every word read by stride
    for word in range(-(-longest // 8)):
        value = words(int(starts[0]) + 8 * word, longest, len(starts)) if fixed else words(starts + 8 * word)
        if fixed and longest < 8 * (word + 1):
            value &= np.uint64(2 ** (8 * (longest - 8 * word)) - 1)
        elif shortest < 8 * (word + 1):  # some values end inside this word: keep only their bytes
            bits = np.minimum(np.maximum(lengths - 8 * word, 0), 8).astype(np.uint64) * np.uint64(8)
            value &= np.where(bits == 64, np.uint64(2**64 - 1), (np.uint64(1) << np.minimum(bits, np.uint64(63))) - np.uint64(1))
        fingerprint *= np.uint64(0x100000001B3)
        fingerprint += value
    return fingerprint


def _words_at(data: np.ndarray):
    """A function: byte positions (sorted) -> the little-endian uint64 starting at each, zeros past ``data``'s end."""
    size = len(data)
    padded = np.zeros(16, dtype=np.uint8)
    tail = data[max(size - 8, 0) :]
    padded[: len(tail)] = tail  # the last eight bytes and eight zeros: the words that start there
    base = max(size - 8, 0)
    inside = np.lib.stride_tricks.as_strided(data, shape=(max(size - 7, 0), 8), strides=(1, 1)).view("<u8")[:, 0]
    ending = np.lib.stride_tricks.as_strided(padded, shape=(9, 8), strides=(1, 1)).view("<u8")[:, 0]

    def read(positions: np.ndarray | int, step: int = 0, count: int = 0) -> np.ndarray:
        """At ``positions``, or at ``count`` positions from ``positions`` every ``step`` bytes."""
        if step:
            early = max(min(count, (size - 8 - positions) // step + 1), 0)
            values = np.empty(count, dtype=np.uint64)
            values[:early] = inside[positions : positions + step * early : step]
            values[early:] = ending[np.minimum(positions + step * np.arange(early, count) - base, 8)]
            return values
        early = int(np.searchsorted(positions, size - 8, side="right"))  # offsets never decrease: the late ones are last
        values = np.empty(len(positions), dtype=np.uint64)
        values[:early] = inside[positions[:early]]
        values[early:] = ending[np.minimum(positions[early:] - base, 8)]
        return values

    return read


def _distinct_count(text: pa.Array) -> int:
    """Distinct non-null values of Arrow ``text``, hashed by Arrow (``pc.unique``) in parts of about :data:`ID_PART_ROWS`.

    One hash table for 5,000,000 ids peaked at ~850 MiB; parts split by the values' last two
    bytes (equal values always share a part) peak at ~250 MiB and take 0.7-0.9 s instead of 1.2.
    Smaller parts cost time: each part is a pass over the whole column (parts of 250,000: +0.5 s
    at 5,000,000 rows).
    """
    parts = -(-len(text) // ID_PART_ROWS)
    data = None if text.buffers()[2] is None else np.frombuffer(text.buffers()[2], dtype=np.uint8)
    if parts <= 1 or data is None or data.size == 0:  # small, or no characters at all
        return len(pc.unique(text)) - (text.null_count > 0)
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width)[text.offset : text.offset + len(text) + 1]
    ends, lengths = offsets[1:], np.diff(offsets)
    last = np.where(lengths >= 1, data[np.maximum(ends - 1, 0)], 0).astype(np.int32)
    before = np.where(lengths >= 2, data[np.maximum(ends - 2, 0)], 0)
    part = (last * 257 + before) % parts
    distinct = 0
    for k in range(parts):
        piece = text.filter(pa.array(part == k))
        distinct += len(pc.unique(piece)) - (piece.null_count > 0)
    return distinct


def row_examples(frame: pd.DataFrame, values: pd.Series | None, mask, *, show_value: bool = True) -> str:
    """Locations of the first few flagged rows (file lines for CSV, sheet rows for Excel), and how many more."""
    positions = np.flatnonzero(np.asarray(pd.Series(mask).fillna(False), dtype=bool))
    shown = [f"'{values.iloc[i]}' at {locate(frame, i)}" if show_value else locate(frame, i) for i in positions[:MAX_SHOWN]]
    more = f" and {len(positions) - MAX_SHOWN} more" if len(positions) > MAX_SHOWN else ""
    return "(" + ", ".join(shown) + more + ")"


def column_name(name: object) -> str:
    """A column as messages name it: its header, or ``column 16 (blank header)`` for one read without a header.

    The table readers (:func:`hotleads.io.read_table`, as pandas) name a blank header cell
    ``Unnamed: <0-based position>``, a name that is nowhere in the user's file.

    Examples
    --------
    >>> column_name("industry"), column_name("Unnamed: 15")
    ('industry', 'column 16 (blank header)')
    """
    blank = _BLANK_HEADER.fullmatch(str(name))
    return f"column {int(blank[1]) + 1} (blank header)" if blank else str(name)


_BLANK_HEADER_WORDS = re.compile(r"(?i)\s*column (\d+) \(blank header\)\s*")


def reader_name(name: str, columns: Sequence) -> str:
    """The column an option names: ``column 3 (blank header)``, as messages name it (:func:`column_name`), is the readers' ``Unnamed: 2``.

    Any other name, or one the table has as written, is returned as is.

    Examples
    --------
    >>> reader_name("column 3 (blank header)", ["id", "x", "Unnamed: 2"]), reader_name("x", ["id", "x"])
    ('Unnamed: 2', 'x')
    """
    blank = _BLANK_HEADER_WORDS.fullmatch(str(name))
    if name in columns or blank is None or int(blank[1]) < 1:
        return name
    read = f"Unnamed: {int(blank[1]) - 1}"
    return read if read in columns else name


_BLANK_HEADER_IN_TEXT = re.compile(r"(?<!\w)Unnamed: (\d+)(?!\d)")


def blank_headers_named(text: str) -> str:
    """``text`` (a formula, a feature name, a report's label) with each reader's ``Unnamed: 4`` written as :func:`column_name` does.

    Examples
    --------
    >>> blank_headers_named("growth ~ Unnamed: 4 * job_postings_30d")
    'growth ~ column 5 (blank header) * job_postings_30d'
    """
    return _BLANK_HEADER_IN_TEXT.sub(lambda match: column_name(match[0]), text)


def column_words(name: object) -> str:
    """``column 'industry'``, or ``column 16 (blank header)``: a column named in a sentence (see :func:`column_name`)."""
    return column_name(name) if has_blank_header(name) else f"column '{name}'"


def has_blank_header(name: object) -> bool:
    """Whether ``name`` is what the table readers call a column whose header cell is blank."""
    return _BLANK_HEADER.fullmatch(str(name)) is not None


def _quoted(name: object) -> str:
    """``'industry'``, or ``column 16 (blank header)``: a column in a list of quoted names."""
    return column_name(name) if has_blank_header(name) else f"'{name}'"


def _short_list(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(column_name(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
