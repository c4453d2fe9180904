"""Monthly company histories: read and check them, align each company's last months, summarise them.

A HISTORY table is long: one row per company and month, ``company_id, month, <numeric
columns>`` (e.g. ``job_postings, headcount, funding_raised``), CSV, Parquet or Excel. Its id
column has the company table's id column's name; ``month`` is ``YYYY-MM`` (a full ISO date
``YYYY-MM-DD``, with or without a time, counts as its month). Every other column is a *channel*.

:func:`read_history` checks it, reporting every problem at once (a blank or unknown id, a month
that is not a month or lies after the reference month, a duplicate (id, month) pair, a value that
is not a number), each with its file lines. :meth:`History.window` aligns each company's last
``months`` months up to the reference month (``--as-of``) into arrays of shape
``(n_companies, months, n_channels)``: the values (NaN where unobserved) and the observed mask;
with the months since each channel was last observed (:func:`months_since_observed`) these are
the inputs GRU-D gives a recurrent network for irregular series (Che et al., 2018, "Recurrent
Neural Networks for Multivariate Time Series with Missing Values", Scientific Reports 8). A
company without history rows is all unobserved: it is scored from its static columns.

Models that read one row per company get the window summarised by :func:`aggregate` (last
value, mean, slope, largest month-on-month rise, the last 3 months against the 3 before, months
since the channel was last non-zero), joined to the company table by :func:`with_history`, so
``gbdt`` and ``logreg`` gain from histories too, and the comparison with sequence models is fair.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import DataError, DataWarning, ParameterError
from .io import read_table
from .parsing import NumberFormat, infer_number_format, is_missing, parse_numbers_marked
from .schema import (
    DEFAULT_ID,
    decimal_mark_problem,
    fold_name,
    number_format_here,
    number_format_notes,
    reader_name,
    refuse_overlap,
    require_column,
    row_examples,
    stored_format,
    whole_floats_as_ints,
)

MONTH = "month"
SERVICE_FIELD = "history"  # a company's months in a request to the scoring service
# YYYY-MM, or an ISO date (and time) within it; [0-9], not \d, which also takes other scripts' digits
_MONTH_PATTERN = r"^([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2})(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?)?$"
_MONTH = re.compile(_MONTH_PATTERN)
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# a month this share of the companies or fewer end at is a late reference month, when it was not given: said
LATE_REFERENCE_SHARE = 0.1
_BLANK = "\0blank "  # the key of a row with a blank id when it is joined to the history: no history id starts so
DEFAULT_MONTHS = 24
LARGEST_VALUE = float(np.finfo(np.float32).max)  # windows are float32: a larger value would turn into inf there
# Aggregate columns are named CHANNEL__STAT: the double underscore keeps them apart from the
# company table's own columns (a clash is refused) and from discovered features.
STATS = ("last", "mean", "slope", "max_rise", "last3_vs_prior3", "months_since_nonzero")
STAT_WORDS = {  # how a reason names each aggregate: "Job postings, trend per month: 11.6, top 10 %"
    "last": "latest month",
    "mean": "monthly mean",
    "slope": "trend per month",
    "max_rise": "largest month-on-month rise",
    "last3_vs_prior3": "last 3 months over the 3 before",
    "months_since_nonzero": "months since last non-zero",
}


@dataclass(frozen=True)
class HistorySpec:
    """How a model reads histories: the id column, the channels, the window and its reference month. Saved with the model.

    ``as_of`` is the training history's reference month (``YYYY-MM``); scoring uses its own
    (``--as-of``, or the latest month of the history it is given). ``formats``: how each channel
    written as text wrote its numbers in training (``{"kind": "number", ...}``, as ``Schema.formats``),
    read again by scoring as the company table's are; None for a model saved before they were kept,
    whose histories are read as then (see :func:`read_history`'s ``european``).
    """

    id_column: str
    channels: tuple[str, ...]
    months: int = DEFAULT_MONTHS
    as_of: str = ""
    formats: dict[str, dict] | None = field(default_factory=dict)

    def aggregate_columns(self) -> list[str]:
        """The columns :func:`aggregate` adds, in order."""
        return [f"{channel}__{stat}" for channel in self.channels for stat in STATS]

    def to_dict(self) -> dict:
        return asdict(self) | {"channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict) -> HistorySpec:
        return cls(**({"formats": None} | data | {"channels": tuple(data["channels"])}))  # no formats: saved before they were kept


@dataclass
class Window:
    """Each company's last ``months`` months, aligned: arrays of shape (n_companies, months, n_channels).

    ``values`` is float32 with NaN where unobserved; ``observed`` the mask. Step ``months - 1`` is
    the reference month. The neural models derive the months since each channel was last observed
    from the mask (:func:`months_since_observed`).
    """

    values: np.ndarray
    observed: np.ndarray
    channels: tuple[str, ...]


@dataclass
class History:
    """A checked history table: ``ids`` (n_rows,), ``months`` as month numbers (year * 12 + month - 1), ``values`` (n_rows, n_channels)."""

    id_column: str
    ids: np.ndarray
    months: np.ndarray
    values: np.ndarray
    channels: tuple[str, ...]
    as_of: int
    source: str
    formats: dict[str, dict] = field(default_factory=dict)  # each text channel's number format (HistorySpec.formats)

    @property
    def as_of_text(self) -> str:
        return month_text(self.as_of)

    @functools.cached_property
    def unique_ids(self) -> pd.Index:
        """The history's companies, once: a scoring run asks each chunk's ids against them (the index keeps its hash table)."""
        return pd.Index(pd.unique(self.ids), dtype=object)

    @functools.cached_property
    def folded_ids(self) -> dict[str, str]:
        """Each id of the history by its case-folded form without spaces: to tell a user whose ids differ only in how they are written."""
        unique = pd.Series(self.unique_ids, dtype=object).dropna()
        return dict(zip(fold_ids(unique), unique, strict=True))

    def window(self, ids: np.ndarray | pd.Series, months: int, ends: np.ndarray | None = None) -> Window:
        """The last ``months`` months up to ``as_of`` of each company of ``ids`` (n_companies,), in that order.

        ``ends`` (n_companies,): each company's own reference month as a month number (``train
        --time-column``: when the lead was created), at most ``as_of``; its later months are left
        out. Ids must be unique when ``ends`` is given.
        """
        ids = np.asarray(ids, dtype=object)
        position = pd.Index(ids).get_indexer(self.ids)  # -1: a company not asked for (ids are unique: with_history refuses repeats)
        end = np.full(len(self.ids), self.as_of) if ends is None else np.minimum(np.asarray(ends)[np.maximum(position, 0)], self.as_of)
        step = self.months - (end - months + 1)
        keep = (position >= 0) & (step >= 0) & (step < months)
        values = np.full((len(ids), months, len(self.channels)), np.nan, dtype=np.float32)
        values[position[keep], step[keep]] = self.values[keep]
        observed = ~np.isnan(values)
        return Window(values, observed, self.channels)


def month_number(text: str) -> int | None:
    """``"2025-01"`` (or a date in it, ``"2025-01-31"``, ``"2025-01-31T09:30:00Z"``) -> year * 12 + month - 1; None when it is neither.

    One value at a time, without pandas: the service checks every month of every company with it.
    """
    match = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    day = None if match.group(3) is None else int(match.group(3))
    if not _valid_date(np.array([year]), np.array([month]), np.array([np.nan if day is None else day]))[0]:
        return None
    return year * 12 + month - 1


def _valid_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether each (year, month, day) is a calendar date; NaN day: a month alone (YYYY-MM)."""
    month_ok = (month >= 1) & (month <= 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = np.where(month_ok, _DAYS[np.clip(month, 1, 12).astype(np.int64) - 1] + ((month == 2) & leap), 0)
    return month_ok & (np.isnan(day) | ((day >= 1) & (day <= last)))


def month_text(number: int) -> str:
    """Inverse of :func:`month_number`: ``24300`` -> ``"2025-01"``."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def check_as_of(as_of: str | None) -> int | None:
    """The month number of ``--as-of`` (None stays None).

    Raises
    ------
    ParameterError
        ``as_of`` is not ``YYYY-MM``.
    """
    if as_of is None:
        return None
    number = month_number(as_of)
    if number is None:
        raise ParameterError(f"--as-of must be a month, YYYY-MM (e.g. 2025-01); got '{as_of}'.")
    return number


def check_months(months: int) -> None:
    """Refuse a window of fewer than 2 months (a trend needs two) or more than 600."""
    if not 2 <= months <= 600:
        raise ParameterError(f"--months must be between 2 and 600 (the months of history each company is read over); got {months}.")


def read_history(
    path: str | Path,
    *,
    id_column: str | None = None,
    companies: pd.DataFrame | None = None,
    companies_source: str = "the company table",
    as_of: str | None = None,
    channels: tuple[str, ...] | None = None,
    read_options: dict | None = None,
    na_values: Iterable[str] = (),
    decimal_comma: Iterable[str] = (),
    decimal_point: Iterable[str] = (),
    formats: dict[str, dict] | None = None,
    european: bool = True,
) -> History:
    """Read and check a HISTORY table; with ``companies`` (the company table), its ids are checked against them.

    ``id_column``: None = the history's first column (besides ``month``) that ``companies`` has too.
    A history with no company of ``companies`` is refused; one that also covers other companies
    (one CRM export for the companies to train on and those to score) is read with a
    :class:`DataWarning`, and their rows are not used. ``channels``: the ones a trained model reads
    (others are ignored with no error); None: every column but the id and the month. ``as_of``
    (``YYYY-MM``): the reference month; None: the latest month in the table (of the rows of ``companies``'
    companies, when given: the rows of others set no window). ``na_values``: text
    that means unknown in a channel, beside the usual markers (``--na-values``, as for the company table).

    A channel written as text (``1.500.000,00``, ``2,5``, ``$1,200``) is read by the company table's
    rules: its values decide the decimal mark, a ``;``-separated file leans to a decimal comma where
    they leave it open (with a warning), and ``decimal_comma``/``decimal_point`` (``--decimal-comma``,
    ``--decimal-point``: names of the history's or the company table's columns) set it. ``formats``
    (scoring a model: :attr:`HistorySpec.formats`): each channel is read by the model's format,
    unless this file plainly writes it otherwise, as a scored company table is. ``european=False``
    (a model saved before it kept ``formats``): a ``;`` file leans to nothing, as histories were read then.

    Raises
    ------
    DataError
        The file cannot be read, lacks the id or month column or any channel, or has problems in
        its rows (all of them in one message, each with its lines); ``decimal_comma`` or
        ``decimal_point`` names a column neither the history nor ``companies`` has.
    ParameterError
        ``as_of`` is not a month, or ``decimal_comma`` and ``decimal_point`` name the same column.
    """
    refuse_overlap("--decimal-comma and --decimal-point", tuple(decimal_comma), tuple(decimal_point), noun="column")
    as_of_number = check_as_of(as_of)
    frame = read_table(path, **(read_options or {}))
    source = str(path)
    if id_column is None:  # the company table's id (as the schema names it), else the first column it has too
        shared = [str(c) for c in frame.columns if str(c) != MONTH and companies is not None and c in companies.columns]
        shared = sorted(shared, key=lambda c: c != DEFAULT_ID)
        id_column = shared[0] if shared else str(next((c for c in frame.columns if str(c) != MONTH), frame.columns[0]))
    if companies is not None and id_column not in companies.columns:
        alike = next((f"'{c}'" for c in companies.columns if fold_name(c) == fold_name(id_column)), None)  # 'Account ID' for account_id
        table_id = alike or (f"'{DEFAULT_ID}'" if DEFAULT_ID in companies.columns else "its id column")
        raise DataError(
            f"{source}: its id column '{id_column}' is not a column of {companies_source}; "
            f"rename it to the company table's id column ({table_id}): the two files are joined on a column named alike in both."
        )
    channels = _channels(frame, id_column, channels, source)
    known = [*channels, *([] if companies is None else map(str, companies.columns))]  # a blank header may be named as messages name it
    marks = {"--decimal-comma": _read_as(decimal_comma, known), "--decimal-point": _read_as(decimal_point, known)}
    _require_marked_columns(marks, channels, companies, source, companies_source)
    problems: list[str] = []
    notes: list[str] = []  # warnings, given only when there is no error: one line for a failed command
    ids, used = _ids(frame, id_column, None if companies is None else companies[id_column], problems, notes, source=source, companies_source=companies_source)
    months = _months(frame, as_of_number, used, problems)
    tokens = frozenset(str(v).strip().lower() for v in na_values)
    reading = _Reading(marks["--decimal-comma"], marks["--decimal-point"], formats, european)
    values, written = _channel_values(frame, channels, tokens, reading, problems, notes, source)
    _duplicates(frame, ids, months, id_column, problems)
    if problems:
        raise DataError(f"{source}: " + "; ".join(problems))
    empty = [channel for c, channel in enumerate(channels) if np.isnan(values[:, c]).all()]
    if empty:
        notes.append(
            f"{source}: column{'s' if len(empty) > 1 else ''} {', '.join(repr(c) for c in empty)} ha{'ve' if len(empty) > 1 else 's'} no value; its aggregates are unknown for every company."
        )
    if as_of_number is None and used.any():  # the latest month of the companies read here: rows said not to be used set nothing
        as_of_number = int(months[used].max())
        notes.extend(filter(None, [late_reference_note(ids[used], months[used], as_of_number, source, "--as-of")]))
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=3)
    as_of_number = int(as_of_number if as_of_number is not None else months.max())
    return History(id_column, ids, months.astype(np.int64), values, channels, as_of_number, source, written)


def late_reference_note(ids: np.ndarray, months: np.ndarray, as_of: int, source: str, option: str) -> str | None:
    """Why a reference month taken from the latest month given is doubtful, or None: at most a tenth of the companies
    end there, and more end at one earlier month. (Companies that stopped reporting are common; a month almost no
    company reached is a stray row.)

    One company with a stray later month would otherwise move every window: the others' last months
    then count as months before the reference month, and their latest months as unobserved. ``ids`` and ``months`` (n_rows,): each history row's company and month number.
    """
    last = pd.Series(months).groupby(pd.Series(ids, dtype=object)).max()
    at_end = int((last == as_of).sum())
    earlier = last[last < as_of].value_counts()
    if at_end > LATE_REFERENCE_SHARE * len(last) or earlier.empty or int(earlier.iloc[0]) <= at_end:
        return None  # most companies end there, or no earlier month is where more of them end
    usual, count = int(earlier.index[0]), int(earlier.iloc[0])
    return (
        f"{source}: the reference month {month_text(as_of)} (the latest month given) is the last month of only {at_end:,} of "
        f"{len(last):,} companies; {count:,} end at {month_text(usual)}. Every window ends at {month_text(as_of)}, so their later months "
        f"count as unobserved: to score at {month_text(usual)}, remove the rows of later months (months after it are refused) and give {option} "
        f"{month_text(usual)}; or give {option} {month_text(as_of)} to keep this and not be warned."
    )


def fold_ids(ids: pd.Series) -> pd.Series:
    """Ids as they compare when written alike: no spaces, case-folded, a whole number's '.0' left out (a float column written as text).

    Values, not names: column names compare by :func:`hotleads.schema.fold_name` (which also ignores underscores).
    """
    return ids.astype(str).str.replace(r"\s+", "", regex=True).str.casefold().str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)


def id_text(values: pd.Series) -> pd.Series:
    """Ids as text, as the company table's are read: stripped, a whole float (a sheet's or Parquet's 1001.0) as 1001, None where missing."""
    values = whole_floats_as_ints(values)
    return values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v).strip())


def _channels(frame: pd.DataFrame, id_column: str, wanted: tuple[str, ...] | None, source: str) -> tuple[str, ...]:
    columns = [str(c) for c in frame.columns]
    missing = [name for name in (id_column, MONTH) if name not in columns]
    if missing:
        raise DataError(
            f"{source}: a history needs the columns '{id_column}' (the company table's id column) and '{MONTH}' (YYYY-MM); "
            f"{' and '.join(repr(m) for m in missing)} missing among {', '.join(columns)}."
        )
    present = tuple(c for c in columns if c not in (id_column, MONTH))
    clashing = [c for c in present if "__" in c]
    if clashing:
        raise DataError(f"{source}: column '{clashing[0]}' has '__' in its name, which hotleads' own aggregate names use; rename it.")
    if wanted is None:
        if not present:
            raise DataError(f"{source}: a history needs at least one numeric column besides '{id_column}' and '{MONTH}' (e.g. job_postings).")
        return present
    lacking = [c for c in wanted if c not in present]
    if lacking:
        raise DataError(f"{source}: the model reads the history columns {', '.join(wanted)}; {', '.join(lacking)} missing. Add them (blank where unknown).")
    extra = [c for c in present if c not in wanted]
    if extra:  # as for a company table's extra columns: said, not refused (the service, which names fields, refuses them)
        warnings.warn(f"{source}: ignoring history column(s) the model does not read: {', '.join(extra)}", DataWarning, stacklevel=4)
    return tuple(wanted)


def _ids(
    frame: pd.DataFrame, id_column: str, company_ids, problems: list[str], notes: list[str], *, source: str, companies_source: str
) -> tuple[np.ndarray, np.ndarray]:
    """(each history row's id as text, whether it is a company of ``company_ids``: every row without them); a blank id,
    or no known id at all, is a problem, and the companies not among them a note (their rows are not used)."""
    ids = id_text(frame[id_column])
    blank = ids.isna() | (ids == "")
    if blank.any():
        problems.append(f"'{id_column}' is blank {row_examples(frame, None, blank, show_value=False)}; give every row its company's id")
    if company_ids is None:
        return ids.to_numpy(dtype=object), np.ones(len(ids), dtype=bool)
    known = pd.Index(id_text(pd.Series(company_ids)).dropna())
    used = ids.isin(known)
    unknown = ~blank & ~used
    first_rows = unknown & ~ids.duplicated()  # each company named once, at its first line
    if unknown.any() and unknown.sum() == (~blank).sum():
        problems.append(
            f"'{id_column}' has no id of a company in {companies_source} {row_examples(frame, ids, first_rows)}; "
            + (_alike(ids[~blank], known) or "is it the history of another table, or are the ids in another column (--id)?")
        )
    elif unknown.any():  # one CRM export covers the companies to train on and those to score: theirs are not used here
        companies = int(first_rows.sum())
        notes.append(
            f"{source}: {companies:,} compan{'y' if companies == 1 else 'ies'} of the history {'is' if companies == 1 else 'are'} not in "
            f"{companies_source} {row_examples(frame, ids, first_rows)}; their rows are not used."
        )
    return ids.to_numpy(dtype=object), used.to_numpy(dtype=bool)


def _alike(ids: pd.Series, known: pd.Index) -> str:
    """Advice when the history's ids are the company table's written otherwise (case, spaces, '1001.0'); '' when they are not."""
    table = dict(zip(fold_ids(pd.Series(known, dtype=object)), known, strict=False))
    there = fold_ids(ids).map(table)
    if there.isna().all():
        return ""
    first = int(np.flatnonzero(there.notna().to_numpy())[0])
    return f"they are its ids written otherwise (e.g. '{ids.iloc[first]}' is '{there.iloc[first]}' there): write the ids alike in both files"


def _parse_months(text: pd.Series) -> np.ndarray:
    """Month numbers (float, NaN where not a month) of ``YYYY-MM`` text, or of a date (and time) as :func:`month_number` reads it."""
    parts = text.astype(str).str.strip().str.extract(_MONTH_PATTERN)
    year, month, day = (pd.to_numeric(parts[i], errors="coerce").to_numpy(dtype=float) for i in range(3))
    ok = _valid_date(np.nan_to_num(year), np.nan_to_num(month), day) & ~np.isnan(year) & text.notna().to_numpy()
    return np.where(ok, year * 12 + month - 1, np.nan)


def _months(frame: pd.DataFrame, as_of: int | None, used: np.ndarray, problems: list[str]) -> np.ndarray:
    """Each row's month number (-1 where it is refused); a ``used`` row's month after ``as_of`` is a problem (another
    company's is not used)."""
    raw = frame[MONTH]
    text = raw.dt.strftime("%Y-%m") if pd.api.types.is_datetime64_any_dtype(raw) else raw.astype(object)
    months = _parse_months(pd.Series(text, index=frame.index))
    blank = is_missing(pd.Series(text, index=frame.index).astype(object).where(pd.notna(text), None)).to_numpy()
    bad = np.isnan(months) & ~blank
    if blank.any():
        problems.append(f"'{MONTH}' is blank {row_examples(frame, None, pd.Series(blank), show_value=False)}; give every row its month, e.g. 2025-01")
    if bad.any():
        problems.append(
            f"'{MONTH}' is not a month {row_examples(frame, raw, pd.Series(bad))}; write it YYYY-MM (e.g. 2025-01) or as a date that exists (YYYY-MM-DD)"
        )
    bad = bad | blank
    if as_of is not None:
        late = ~bad & (months > as_of) & used
        if late.any():
            problems.append(
                f"'{MONTH}' is after the reference month {month_text(as_of)} {row_examples(frame, raw, pd.Series(late))}; "
                "a company's features may not see months after it: remove those rows or give a later --as-of"
            )
    return np.nan_to_num(months, nan=-1.0)


@dataclass(frozen=True)
class _Reading:
    """How :func:`read_history` decides the number format of a channel written as text (its arguments of these names)."""

    decimal_comma: tuple[str, ...] = ()
    decimal_point: tuple[str, ...] = ()
    formats: dict[str, dict] | None = None
    european: bool = True


def _read_as(names: Iterable[str], columns: list[str]) -> tuple[str, ...]:
    """``names`` as the readers name the columns (``column 3 (blank header)`` is ``Unnamed: 2``: :func:`~hotleads.schema.reader_name`)."""
    return tuple(reader_name(name, columns) for name in names)


def _require_marked_columns(
    marks: dict[str, tuple[str, ...]], channels: tuple[str, ...], companies: pd.DataFrame | None, source: str, companies_source: str
) -> None:
    """Refuse a --decimal-comma/--decimal-point name that is neither a channel nor a column of ``companies``, as the schema refuses one."""
    table = [] if companies is None else [str(c) for c in companies.columns]
    where, lacking = (source, "the history does not have") if companies is None else (companies_source, f"neither the table nor its history ({source}) has")
    for option, names in marks.items():
        for name in names:
            require_column(name, [*table, *channels], where, option, lacking=lacking)


def _channel_values(
    frame: pd.DataFrame, channels: tuple[str, ...], na_values: frozenset[str], reading: _Reading, problems: list[str], notes: list[str], source: str
) -> tuple[np.ndarray, dict[str, dict]]:
    """(values (n_rows, n_channels), the number format of each channel written as text, as :attr:`HistorySpec.formats` keeps it)."""
    columns, formats = [], {}
    for channel in channels:
        raw = frame[channel]
        typed = pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw)
        fmt = None if typed else _channel_format(frame, channel, na_values, reading, notes, source)
        if fmt is not None and fmt != NumberFormat():  # plain numbers: scoring's default (the saved spec stays short)
            formats[channel] = {"kind": "number", **fmt.to_dict()}
        columns.append(_numbers(frame, channel, problems, na_values, fmt, training=reading.formats is None))
    return np.column_stack(columns), formats


def _channel_format(frame: pd.DataFrame, channel: str, na_values: frozenset[str], reading: _Reading, notes: list[str], source: str) -> NumberFormat | None:
    """How a text channel writes its numbers, decided as for a company table's column (None: its values are not numbers); what to say of it goes to ``notes``."""
    if reading.formats is not None:  # scoring: the model's format, unless this file plainly writes the channel otherwise
        trained = stored_format(reading.formats[channel]) if channel in reading.formats else NumberFormat()
        with warnings.catch_warnings(record=True) as said:  # noted, so that a history refused for its rows says one line
            warnings.simplefilter("always")
            fmt = number_format_here(frame, channel, trained, na_values, source)
        notes.extend(str(warning.message) for warning in said if issubclass(warning.category, DataWarning))
        return fmt
    written = frame[channel].dropna().astype(str)
    decimal = "," if channel in reading.decimal_comma else "." if channel in reading.decimal_point else None
    european = reading.european and frame.attrs.get("delimiter") == ";"  # a European export, as the company table reads one
    fmt = infer_number_format(written[~is_missing(written, na_values)], prefer_decimal_comma=european, decimal=decimal)
    if fmt is None and decimal is not None:  # too few values read with the user's mark: read so all the same, for _numbers to name the others
        fmt = NumberFormat(decimal=decimal, thousands="." if decimal == "," else ",", given=True)
    if fmt is not None and reading.european:  # an old model's history is read as then, and then nothing was said
        notes.extend(f"{source}: {note}" for note in number_format_notes(channel, fmt))
    return fmt


def _numbers(
    frame: pd.DataFrame, channel: str, problems: list[str], na_values: frozenset[str], fmt: NumberFormat | None, *, training: bool = True
) -> np.ndarray:
    """A channel's values (n_rows,) under ``fmt`` (None: the values were not numbers); the unread cells go to ``problems``.

    ``training``: a mark ``fmt`` was given is the option just given, else the one the model was trained with.
    """
    raw = frame[channel]
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return _finite(frame, channel, raw.astype("float64").to_numpy(), problems)
    values, missing = parse_numbers_marked(raw, fmt or NumberFormat(), na_values=na_values)
    bad = ~missing & values.isna().to_numpy()
    if bad.any() and fmt is not None and fmt.given:  # the user's --decimal-comma/--decimal-point: the option is the thing to name
        problems.append(decimal_mark_problem(frame, channel, bad, fmt.decimal, training=training, na_values=na_values))
    elif bad.any() and bad.sum() == (~missing).sum():  # text throughout, such as the company's name: not a channel
        problems.append(
            f"'{channel}' is not a number {row_examples(frame, raw, pd.Series(bad))}; every column besides the id and '{MONTH}' is read as a "
            "monthly number: drop this one from the history"
        )
    elif bad.any():
        problems.append(
            f"'{channel}' is not a number {row_examples(frame, raw, pd.Series(bad))}; fix or blank those cells (or, if they mean unknown, name them with train --na-values)"
        )
    return _finite(frame, channel, values.to_numpy(), problems)


def _finite(frame: pd.DataFrame, channel: str, values: np.ndarray, problems: list[str]) -> np.ndarray:
    infinite = np.isinf(values)
    if infinite.any():
        problems.append(f"'{channel}' is infinite {row_examples(frame, None, pd.Series(infinite), show_value=False)}; give a number or blank the cell")
    huge = ~infinite & (np.abs(np.nan_to_num(values)) > LARGEST_VALUE)
    if huge.any():
        problems.append(
            f"'{channel}' is beyond +-{LARGEST_VALUE:.1e} {row_examples(frame, None, pd.Series(huge), show_value=False)}, "
            "which the monthly windows cannot hold; give a smaller number (another unit) or blank the cell"
        )
    return values


def _duplicates(frame: pd.DataFrame, ids: np.ndarray, months: np.ndarray, id_column: str, problems: list[str]) -> None:
    pairs = pd.DataFrame({"id": ids, "month": months})
    repeated = pairs.duplicated(keep=False) & pairs["id"].notna().to_numpy() & (months >= 0)
    if repeated.any():
        problems.append(
            f"({id_column}, {MONTH}) pairs repeat {row_examples(frame, None, repeated, show_value=False)}; keep one row per company and month (sum or average them first)"
        )


def months_since_observed(observed: np.ndarray) -> np.ndarray:
    """GRU-D's delta: per step, the months since the channel was last observed before it; (n, T, C) float32.

    Step 0 is 0; after an observed step it is 1; after an unobserved one it grows by 1.
    """
    since = np.zeros(observed.shape, dtype=np.float32)
    for t in range(1, observed.shape[1]):
        since[:, t] = np.where(observed[:, t - 1], 1.0, since[:, t - 1] + 1.0)
    return since


def aggregate(window: Window) -> pd.DataFrame:
    """The window summarised per company and channel: (n_companies, n_channels * len(STATS)) floats, NaN where undefined.

    ``last``: the last observed value; ``mean``; ``slope``: least-squares trend per month over the
    observed months; ``max_rise``: the largest rise between consecutive observed months;
    ``last3_vs_prior3``: the mean of the last 3 months over the mean of the 3 before (NaN when
    either has no observation or the earlier is 0); ``months_since_nonzero``: months from the
    last non-zero value to the reference month (the window's length when every observed value is 0,
    NaN when none is observed).
    """
    values, observed = window.values.astype(np.float64), window.observed
    n, months, _ = values.shape
    step = np.arange(months, dtype=np.float64)[None, :, None]
    count = observed.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: a company with no or one observation
        last_step = np.where(observed.any(axis=1), months - 1 - np.argmax(observed[:, ::-1], axis=1), -1)
        last = np.take_along_axis(values, np.maximum(last_step, 0)[:, None, :], axis=1)[:, 0]
        last = np.where(last_step >= 0, last, np.nan)
        mean = np.nansum(values, axis=1) / count
        t_mean = np.where(observed, step, 0.0).sum(axis=1) / count
        dt = np.where(observed, step - t_mean[:, None], 0.0)
        dv = np.where(observed, values - mean[:, None], 0.0)
        slope = np.where(count >= 2, (dt * dv).sum(axis=1) / (dt**2).sum(axis=1), np.nan)
        rise = _max_rise(values, observed)
        recent = np.nanmean(values[:, -3:], axis=1) if months >= 3 else np.full_like(mean, np.nan)
        prior = np.nanmean(values[:, -6:-3], axis=1) if months >= 6 else np.full_like(mean, np.nan)
        ratio = np.where(prior > 0, recent / prior, np.nan)
        nonzero = observed & (values != 0)
        since_nonzero = np.where(nonzero.any(axis=1), np.argmax(nonzero[:, ::-1], axis=1), months).astype(np.float64)
        since_nonzero[count == 0] = np.nan  # never observed: unknown, not "long ago"
    stats = {"last": last, "mean": mean, "slope": slope, "max_rise": rise, "last3_vs_prior3": ratio, "months_since_nonzero": since_nonzero}
    columns = {f"{channel}__{stat}": stats[stat][:, c] for c, channel in enumerate(window.channels) for stat in STATS}
    return pd.DataFrame(columns)


def _max_rise(values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Per company and channel, the largest rise from one observed month to the next observed one; NaN with fewer than 2."""
    filled = pd.DataFrame(values.transpose(0, 2, 1).reshape(-1, values.shape[1])).ffill(axis=1).to_numpy()
    previous = np.concatenate([np.full((filled.shape[0], 1), np.nan), filled[:, :-1]], axis=1)
    rises = np.where(observed.transpose(0, 2, 1).reshape(filled.shape), filled - previous, np.nan)
    return np.nanmax(rises, axis=1).reshape(values.shape[0], values.shape[2])


def with_history(
    frame: pd.DataFrame, history: History, spec: HistorySpec, *, source: str = "table", ends: np.ndarray | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """(``frame`` with the aggregate columns of each row's company joined on, each row's window values (n_rows, months, n_channels)).

    A row whose company has no history gets NaN aggregates and an all-NaN window. ``ends``: each
    row's own reference month (see :meth:`History.window`).

    Raises
    ------
    DataError
        ``frame`` lacks the id column, repeats an id in it, or already has a column named like an aggregate.
    """
    if spec.id_column not in frame.columns:
        other = next((str(c) for c in frame.columns if fold_name(c) == fold_name(spec.id_column)), None)
        hint = f" (it has '{other}': rename it '{spec.id_column}')" if other else ""
        raise DataError(f"{source}: the history is joined on '{spec.id_column}', which this table lacks{hint}; give the table its id column.")
    clash = [c for c in spec.aggregate_columns() if c in frame.columns]
    if clash:
        raise DataError(f"{source}: column '{clash[0]}' is named like a history aggregate; rename it (the '__' names are hotleads' own).")
    keys = id_text(frame[spec.id_column])
    blank = keys.isna() | (keys == "")
    repeated = keys.duplicated(keep=False) & ~blank
    if repeated.any():  # one company's history cannot go to two rows: which one is it?
        first = keys[repeated].iloc[0]
        raise DataError(
            f"{source}: the history is joined on '{spec.id_column}', which repeats {keys[repeated].nunique():,} value(s) in {int(repeated.sum()):,} rows, "
            f"e.g. '{first}' {row_examples(frame, None, keys == first, show_value=False)}; give each company one row with a unique id."
        )
    # a blank id has no history (a history's blank ids are refused); each its own key, so that the ids stay unique
    ids = keys.where(~blank, pd.Series([f"{_BLANK}{i}" for i in range(len(keys))], index=keys.index)).to_numpy(dtype=object)
    _warn_if_written_otherwise(ids, history, source)
    window = history.window(ids, spec.months, ends)
    return join_aggregates(frame, window), window.values


def _warn_if_written_otherwise(ids: np.ndarray, history: History, source: str) -> None:
    """Companies without history rows whose id the history writes in another case or spacing: most likely the same company."""
    lacking = pd.Series(ids[history.unique_ids.get_indexer(ids) < 0], dtype=object)
    lacking = lacking[~lacking.str.startswith(_BLANK)]
    there = fold_ids(lacking).map(history.folded_ids)
    if there.notna().any():  # one example is enough: the message (the same for every chunk of a file) is given once
        first = int(np.flatnonzero(there.notna().to_numpy())[0])
        warnings.warn(
            f"{source}: companies without history rows under their id have one under the same id written otherwise "
            f"(e.g. '{lacking.iloc[first]}' is '{there.iloc[first]}' in {history.source}); they are read from their own columns alone: "
            "write the ids alike in both files.",
            DataWarning,
            stacklevel=3,
        )


def join_aggregates(frame: pd.DataFrame, window: Window) -> pd.DataFrame:
    """``frame`` with :func:`aggregate` of ``window`` (one window per row, in order) as columns, its file lines kept."""
    summary = aggregate(window)
    summary.index = frame.index
    joined = pd.concat([frame, summary], axis=1)
    joined.attrs = frame.attrs  # the file lines of each row, for messages
    return joined


def attach(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    source: str = "table",
    id_column: str | None = None,
    as_of: str | None = None,
    months: int | None = None,
    ends: np.ndarray | None = None,
    na_values: Iterable[str] = (),
    dropped: Iterable[str] = (),
    decimal_comma: Iterable[str] = (),
    decimal_point: Iterable[str] = (),
) -> tuple[pd.DataFrame, HistorySpec, np.ndarray]:
    """Training: read the history at ``path`` and join its aggregates to ``frame``: (joined frame, the model's spec, windows (n_rows, months, n_channels)).

    The id column is ``id_column`` or the history's first column; every other column but
    ``month`` is a channel; each history id must be a company of ``frame``; the window is
    ``months`` (default 24) months up to ``as_of`` (default: the latest month), or up to each
    row's own month of ``ends`` (month numbers, -1 unknown) when that is earlier. ``na_values``:
    as for :func:`read_history` (the training table's ``--na-values``); ``dropped``: the table's ``--drop`` columns;
    ``decimal_comma``/``decimal_point``: the table's ``--decimal-comma``/``--decimal-point``, which
    may name channels (the schema then takes :func:`table_options`). The spec keeps each text
    channel's number format, so that scoring reads the history as training did.

    Raises
    ------
    DataError
        The history or the join fails a check (see :func:`read_history`, :func:`with_history`), or
        ``frame`` has a column named ``history`` (the service's field for the months).
    ParameterError
        ``as_of`` or ``months`` is not usable.
    """
    if months is not None:
        check_months(months)
    if SERVICE_FIELD in frame.columns and SERVICE_FIELD not in dropped:  # the service reads each company's months under that name
        raise DataError(
            f"{source}: column '{SERVICE_FIELD}' has the name the scoring service gives each company's monthly history; rename the column (or --drop it)."
        )
    marks = {"decimal_comma": decimal_comma, "decimal_point": decimal_point}
    history = read_history(path, id_column=id_column, companies=frame, companies_source=source, as_of=as_of, na_values=na_values, **marks)
    spec = HistorySpec(history.id_column, history.channels, months or DEFAULT_MONTHS, history.as_of_text, history.formats)
    joined, windows = with_history(frame, history, spec, source=source, ends=ends)
    if not np.isfinite(windows).any():
        known = np.asarray(ends)[np.asarray(ends) >= 0] if ends is not None else np.empty(0)
        if len(known) and known.max() < history.as_of:  # the rows' own months (--time-column) end the windows, not --as-of
            span = f"from {month_text(int(history.months.min()))} to {month_text(int(history.months.max()))}"
            raise DataError(
                f"{path}: no company has a month in its window: each row's window of {spec.months} months ends at its --time-column month "
                f"({month_text(int(known.min()))} to {month_text(int(known.max()))}), and the history runs {span}; check that column, "
                "or give the history of the months before those dates."
            )
        raise DataError(f"{path}: {no_month_in_window(history, spec)}; give an --as-of inside the history, or the history of these companies.")
    return joined, spec, windows


def table_options(schema_options: dict, columns: Iterable[str]) -> dict:
    """``schema_options`` with ``--decimal-comma``/``--decimal-point`` narrowed to the names among ``columns`` (the joined table's).

    :func:`attach` read the history by them and refused a name neither file has; the others name
    channels only, which the schema of the company table would refuse.
    """
    present = [str(c) for c in columns]
    return schema_options | {
        key: [name for name in schema_options[key] if reader_name(name, present) in present]
        for key in ("decimal_comma", "decimal_point")
        if key in schema_options
    }


def no_month_in_window(history: History, spec: HistorySpec) -> str:
    """Why every window is empty, in words (the history's months, the window's)."""
    span = f"from {month_text(int(history.months.min()))} to {month_text(int(history.months.max()))}" if len(history.months) else "empty"
    first = month_text(history.as_of - spec.months + 1)
    return f"no company scored has a month in its window ({spec.months} months, {first} to {month_text(history.as_of)}; the history runs {span})"


def warn_if_unused(observed: bool, rows: int, history: History, spec: HistorySpec, source: str) -> None:
    """Scoring: a history none of whose months reaches a scored company (``observed`` False) is most likely the wrong
    file, ids written otherwise or an --as-of past it; the companies are then scored from their own columns, with this warning."""
    if rows and not observed:
        warnings.warn(unused_message(rows, history, spec, source), DataWarning, stacklevel=2)


def unused_message(rows: int, history: History, spec: HistorySpec, source: str) -> str:
    companies = f"the {rows:,} companies" if rows > 1 else "the company"
    return (
        f"{history.source}: {no_month_in_window(history, spec)}: {companies} of {source} scored from their own columns alone; "
        "check the ids (written alike in both files?) and the reference month (as_of)."
    )


def for_scoring(
    spec: HistorySpec | None, path: str | Path | None, *, as_of: str | None = None, months: int | None = None, na_values: Iterable[str] = ()
) -> History | None:
    """Scoring: the history a model needs, read with its id column and channels (None for a model without one).

    ``as_of`` defaults to the latest month of this history. History rows of companies not being
    scored are not used: a weekly re-scoring often scores a subset of the CRM. ``na_values``: the
    model's tokens; the channels written as text are read by the model's formats (``spec.formats``),
    as a scored company table's columns are.

    Raises
    ------
    ParameterError
        A model trained with a history gets none, or one without gets one (or ``--as-of``,
        ``--months``), or ``months`` differs from the model's.
    DataError
        The history fails a check of :func:`read_history`.
    """
    if spec is None:
        given = [option for option, value in (("--history", path), ("--as-of", as_of), ("--months", months)) if value is not None]
        if given:
            raise ParameterError(f"{given[0]}: this model was trained without a monthly history; leave out {', '.join(given)}.")
        return None
    if path is None:
        raise ParameterError(
            f"--history: this model was trained with a monthly history ({', '.join(spec.channels)} over {spec.months} months); "
            "pass --history HISTORY.csv (companies without rows in it are scored from their own columns)."
        )
    if months is not None and months != spec.months:
        raise ParameterError(f"--months: the model reads {spec.months} months of history; leave out --months or give {spec.months}.")
    check_as_of(as_of)
    formats = {"formats": spec.formats, "european": spec.formats is not None}  # a model saved before formats were kept: read as then
    return read_history(path, id_column=spec.id_column, as_of=as_of, channels=spec.channels, na_values=na_values, **formats)
