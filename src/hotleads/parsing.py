"""Values as people export them: formatted numbers, dates in many layouts, missing markers.

A CRM or spreadsheet export writes ``$1,437,416``, ``1.437.416,00``, ``6,3 %``, ``(1,200)``,
``1.2M``, ``6/12/2023 1:00 PM`` or ``2023-06-12T13:00:00.000+0000`` where a database would hold
a number or an instant. Each text column's format is inferred once, from all its values
(:func:`infer_number_format`, :func:`infer_date_format`), saved with the model as a small dict,
and applied again to every table the model scores (:func:`parse_numbers`, :func:`parse_dates`),
so ``1,234`` means the same at ``predict`` as at ``train``.

Rules (in the spirit of readr's ``locale`` and pandas' ``thousands``/``decimal``/``dayfirst``):

- Missing: in numeric and date columns the usual markers (:data:`NA_MARKERS`, any case) and
  blank or whitespace-only cells are missing.
- Numbers: an optional sign, currency symbol or ISO code (before or after), accounting
  parentheses for negatives, a magnitude suffix (k, M, B/bn, T) and a percent sign wrap the
  digits. ``6.3%`` becomes 6.3 (percentage points, as written), not 0.063. The decimal mark and
  the thousands separator (``,`` ``.`` space ``'``; Indian grouping ``17,50,000`` too) are one
  choice per column, decided from the values that settle it (``6,3``, ``1.437.416``,
  ``1,437.5``); a column whose values never settle it (only ``1,234``-like values) is read with
  ``,`` as thousands separator and reported as ambiguous.
- Dates: ``YYYY-MM-DD`` (ISO 8601, with a time and a ``Z``/``±HH:MM`` offset or not),
  ``YYYY/MM/DD``, ``M/D/YYYY``, ``D.M.YYYY``, ``DD-MM-YYYY`` (two-digit years too), with an
  optional time (``13:00``, ``1:00:05 PM``). Day-first or month-first is decided by the values
  (a first part above 12 means day-first); when no value settles it, ``.`` and ``-`` mean
  day-first and ``/`` month-first, reported as ambiguous. Instants with an offset are converted to
  UTC; the typed column is UTC without a zone.
"""

from __future__ import annotations

import functools
import itertools
import re
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TYPED_SHARE = 0.95  # a text column is numeric/date when this share of its present values parse

NA_MARKERS = frozenset(
    {
        "",
        "na",
        "n/a",
        "#n/a",
        "null",
        "none",
        "nan",
        "-",
        "--",
        "?",
        "<na>",
        "nil",
        "#div/0!",
        "#value!",
        "#ref!",
        "#num!",
        "#null!",
        "#name?",  # Excel's error values
    }
)

CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₪"
CURRENCY_CODES = frozenset("USD EUR GBP JPY CNY INR CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF BRL MXN ZAR SGD HKD KRW RUB TRY AED SAR ILS".split())
_CODES = "|".join(sorted(CURRENCY_CODES))
_SPACES = "\u00a0\u202f\u2009"  # no-break, narrow no-break and thin spaces group digits in French/Swiss exports
_NUMBER = re.compile(
    rf"""^(?P<sign>[-+\u2212])?\s*(?P<open>\()?\s*(?P<sign2>[-+\u2212])?\s*
    (?P<cur1>[{CURRENCY_SYMBOLS}]|(?:{_CODES})(?=[\s\d.,(]))?\s*(?P<open2>\()?\s*(?P<sign3>[-\u2212])?\s*
    (?P<body>\d(?:[\d.,' ]*\d)?\.?|[.,]\d+)
    (?:[eE](?P<exp>[-+]?\d+))?\s*
    (?P<suffix>bn|mn|[kKmMbBtT](?![a-zA-Z]))?\s*(?P<pct>%)?\s*
    (?P<cur2>[{CURRENCY_SYMBOLS}]|(?:{_CODES}))?\s*(?P<close>\))?(?P<sign4>[-\u2212])?$""",
    re.VERBOSE,
)
SUFFIXES = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "mn": 1e6, "b": 1e9, "B": 1e9, "bn": 1e9, "t": 1e12, "T": 1e12}
_GROUPED = r"(?:\d{1,3}(?:T\d{3})+|\d{1,2}(?:T\d{2})+T\d{3})"  # 1,437,416 or Indian 17,50,000 (T: the separator)


def is_missing(text: pd.Series, extra: frozenset[str] = frozenset()) -> pd.Series:
    """True where a stripped text value is a missing marker (any case) or None.

    Examples
    --------
    >>> is_missing(pd.Series(["N/A", " ", "7", None, "--"])).tolist()
    [True, True, False, True, True]
    """
    missing = _missing(pc.utf8_trim_whitespace(arrow_text(text)), extra)
    return pd.Series(missing.to_numpy(zero_copy_only=False), index=text.index, dtype=bool)


def _missing(stripped: pa.Array, extra: frozenset[str]) -> pa.Array:
    """:func:`is_missing` of stripped Arrow text, as an Arrow boolean array."""
    return pc.or_kleene(is_any_case(stripped, NA_MARKERS | {t.strip().lower() for t in extra}), pc.is_null(stripped))


def is_any_case(text: pa.Array | pa.ChunkedArray, words: frozenset[str]) -> pa.Array | pa.ChunkedArray:
    """Where Arrow ``text`` lowered (Arrow's ``utf8_lower``) is one of the lower-case ``words``; false where ``text`` is null.

    ASCII words are looked up with every way of writing them (:func:`_case_variants`), which
    spares lowering the column: half the cost on a million rows.
    """
    variants = _case_variants(frozenset(words))
    if variants is None:
        return pc.is_in(pc.utf8_lower(text), value_set=pa.array(sorted(words), type=text.type), skip_nulls=True)
    return pc.is_in(text, value_set=pa.array(variants, type=text.type), skip_nulls=True)


_LOWERING_TO = {"i": "I\u0130", "k": "K\u212a"}  # besides ASCII's capitals, the code points Arrow lowers to i and k
MAX_CASE_VARIANTS = 4096


@functools.lru_cache(maxsize=64)
def _case_variants(words: frozenset[str]) -> list[str] | None:
    """Every string Arrow's ``utf8_lower`` maps to one of the ASCII lower-case ``words``; None for other words, or too many."""
    variants: list[str] = []
    for word in sorted(words):
        if not word.isascii() or word != word.lower():
            return None
        options = [c + _LOWERING_TO.get(c, c.upper() if c.isalpha() else "") for c in word]
        if np.prod([len(o) for o in options], dtype=float) + len(variants) > MAX_CASE_VARIANTS:
            return None
        variants.extend("".join(chars) for chars in itertools.product(*options))
    return variants


def arrow_text(values: pd.Series, *, chunked: bool = False) -> pa.Array | pa.ChunkedArray:
    """A text column as an Arrow string array (null where missing), without a copy where pandas holds Arrow already.

    ``chunked``: keep the chunks a CSV column was read in (Arrow's compute functions take them)
    instead of joining them into one array, a copy of the column.
    """
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array(values.astype("string"), from_pandas=True)
    if isinstance(array, pa.ChunkedArray) and not chunked:
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pa.array(values.astype("string"), from_pandas=True)
    return array


# ---------------------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class NumberFormat:
    """How one column writes its numbers; saved with the model as :meth:`to_dict`."""

    decimal: str = "."
    thousands: str = ""
    currency: tuple[str, ...] = ()
    percent: bool = False
    suffixes: bool = False
    accounting: bool = False
    ambiguous: bool = False  # the values did not settle the decimal mark (reported, not saved as a problem)
    given: bool = False  # the decimal mark was set by the user (--decimal-comma/--decimal-point): never re-guessed

    @property
    def plain(self) -> bool:
        return (self.decimal, self.thousands, self.currency, self.percent, self.suffixes, self.accounting) == (".", "", (), False, False, False)

    def describe(self) -> str:
        """Words for ``hotleads schema``, e.g. ``"currency '$', thousands ','"``."""
        parts = []
        if self.currency:
            parts.append("currency " + "/".join(f"'{c}'" for c in self.currency))
        if self.thousands:
            parts.append(f"thousands '{_show(self.thousands)}'")
        if self.decimal != ".":
            parts.append(f"decimal '{self.decimal}'")
        if self.percent:
            parts.append("percent (6.3% -> 6.3)")
        if self.suffixes:
            parts.append("suffixes k/M/B")
        if self.accounting:
            parts.append("(negatives) in parentheses")
        return ", ".join(parts) or "number"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["currency"] = list(self.currency)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> NumberFormat:
        return cls(**{**data, "currency": tuple(data.get("currency", ()))})


def _show(separator: str) -> str:
    return "space" if separator == " " else separator


def parse_numbers(text: pd.Series, fmt: NumberFormat = NumberFormat(), *, na_values: frozenset[str] = frozenset()) -> pd.Series:
    """Text -> float64 under ``fmt``; NaN where missing *or* not a number of that format.

    Callers tell the two apart with :func:`is_missing`. Parsing runs once per distinct value.

    Examples
    --------
    >>> fmt = NumberFormat(thousands=",", currency=("$",), accounting=True)
    >>> parse_numbers(pd.Series(["$1,437,416", "(1,200)", "n/a", "7.5", "abc"]), fmt).tolist()
    [1437416.0, -1200.0, nan, 7.5, nan]
    """
    return parse_numbers_marked(text, fmt, na_values=na_values)[0]


def parse_numbers_marked(text: pd.Series, fmt: NumberFormat = NumberFormat(), *, na_values: frozenset[str] = frozenset()) -> tuple[pd.Series, np.ndarray]:
    """(:func:`parse_numbers`' values, :func:`is_missing`'s mask as a bool array): one pass over the text for both.

    Examples
    --------
    >>> values, missing = parse_numbers_marked(pd.Series(["7", "n/a", "abc"]))
    >>> values.tolist(), missing.tolist()
    ([7.0, nan, nan], [False, True, False])
    """
    return parse_numbers_read(text, fmt, na_values=na_values)[:2]


def parse_numbers_read(text: pd.Series, fmt: NumberFormat = NumberFormat(), *, na_values: frozenset[str] = frozenset()) -> tuple[pd.Series, np.ndarray, bool]:
    """:func:`parse_numbers_marked`'s values and mask, and whether every cell was a plain number or empty as written (Arrow's cast alone read them)."""
    if fmt.plain:
        chunks = arrow_text(text, chunked=True)  # read in place: joining a 5,000,000-row column's chunks copies ~90 MiB
        if (as_written := _floats_as_written(chunks, na_values)) is not None:
            return pd.Series(as_written, index=text.index, dtype="float64"), pc.is_null(chunks).to_numpy(zero_copy_only=False), True
    written = arrow_text(text)
    stripped = pc.utf8_trim_whitespace(written)  # Arrow throughout: pandas' .where and .str cost a pass each
    missing = _missing(stripped, na_values)
    present = pc.if_else(missing, pa.scalar(None, stripped.type), stripped)
    marked = missing.to_numpy(zero_copy_only=False)
    if fmt.plain and (plain := _plain_floats(present)) is not None:
        return pd.Series(plain, index=text.index, dtype="float64"), marked, False
    encoded = present.dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    parsed = np.array([_parse_one(u, fmt) for u in encoded.dictionary.to_pylist()], dtype="float64")
    out = np.where(codes >= 0, parsed[np.maximum(codes, 0)] if len(parsed) else np.nan, np.nan)
    return pd.Series(out, index=text.index, dtype="float64"), marked, False


def _floats_as_written(text: pa.Array | pa.ChunkedArray, na_values: frozenset[str]) -> np.ndarray | None:
    """Plain numbers with no spaces and every missing cell null, as a CSV export writes them: Arrow's cast alone.

    None when a cell needs more (spaces, a missing marker such as ``n/a`` or ``nan``) or a
    ``--na-values`` token reads as a number: the careful path then trims and looks for markers,
    which costs three times the cast on a million rows.
    """
    if any(_plain_floats(pa.array([token.strip()])) is not None for token in na_values):
        return None
    parsed = _plain_floats(text)
    if parsed is None or np.isnan(parsed[~pc.is_null(text).to_numpy(zero_copy_only=False)]).any():  # 'nan' cells are missing markers
        return None
    return parsed


def _plain_floats(present: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Arrow's fast parser for plain numbers (stripped text, null where missing); None when any present value is not one."""
    try:
        parsed = pc.cast(present, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return parsed.to_numpy(zero_copy_only=False)


def _parse_one(value: str, fmt: NumberFormat) -> float:
    parts = _split(value)
    if parts is None:
        return np.nan
    if parts["body"] is None:
        return -np.inf if parts["negative"] else np.inf
    body = _normalise_body(parts["body"], fmt)
    if body is None:
        return np.nan
    number = float(body + (f"e{parts['exp']}" if parts["exp"] else ""))
    if parts["suffix"]:
        number *= SUFFIXES[parts["suffix"]]
    return -number if parts["negative"] else number


def _split(value: str) -> dict | None:
    """The parts of one formatted number, or None when it is not one (``body`` None: infinite)."""
    if value.strip().lower().lstrip("+-\u2212") in _INFINITIES:
        return {"body": None, "negative": value.strip()[0] in "-\u2212", "currency": None, "percent": False, "suffix": None, "accounting": False, "exp": None}
    match = _NUMBER.match(value.translate(_SEPARATOR_TABLE))
    if match is None:
        return None
    opened = bool(match["open"]) + bool(match["open2"])  # ($1,200), or $(1,200) as Excel's accounting format writes it
    if opened > 1 or bool(opened) != bool(match["close"]):
        return None
    if (match["cur1"] and match["cur2"]) or (match["exp"] and match["suffix"]):
        return None
    signs = [s for s in (match["sign"], match["sign2"], match["sign3"], match["sign4"]) if s]  # sign4: SAP's trailing minus, 1.200,00-
    if len(signs) > 1:
        return None
    return {
        "body": match["body"],
        "exp": match["exp"],
        "suffix": match["suffix"],
        "percent": bool(match["pct"]),
        "currency": match["cur1"] or match["cur2"],
        "accounting": bool(opened),
        "negative": bool(opened) or (bool(signs) and signs[0] in "-\u2212"),
    }


_INFINITIES = frozenset({"inf", "infinity", "\u221e"})  # numpy/pandas write inf; Excel users the sign
# Windows' Swiss locale groups digits with a typographic apostrophe (1’437’416.50)
_SEPARATOR_TABLE = str.maketrans({**{c: " " for c in _SPACES}, "\u2019": "'"})


def _normalise_body(body: str, fmt: NumberFormat) -> str | None:
    """``"1.437.416,5"`` -> ``"1437416.5"`` under the column's separators; None if it does not fit."""
    decimal, thousands = fmt.decimal, fmt.thousands
    integer, _, fraction = body.rpartition(decimal) if decimal in body else (body, "", "")
    if body.count(decimal) > 1 or (decimal in body and fraction and not fraction.isdigit()):
        return None
    if integer == "" and decimal in body:
        integer = "0"
    if not integer.isdigit():
        if not thousands or re.fullmatch(_GROUPED.replace("T", re.escape(thousands)), integer) is None:
            return None
        integer = integer.replace(thousands, "")
    return integer + ("." + fraction if fraction else "")


def infer_number_format(text: pd.Series, *, prefer_decimal_comma: bool = False, decimal: str | None = None) -> NumberFormat | None:
    """The format most of a text column's present values share, or None when fewer than 95 % are numbers.

    ``decimal`` forces the decimal mark (``--decimal-comma``/``--decimal-point``);
    ``prefer_decimal_comma`` settles an ambiguous column the European way (the file was ``;``-separated).

    Examples
    --------
    >>> infer_number_format(pd.Series(["1.437.416,00", "6,3", "12"])).describe()
    "thousands '.', decimal ','"
    >>> infer_number_format(pd.Series(["6.3%", "-1.2%", "n/a"])).describe()
    'percent (6.3% -> 6.3)'
    >>> infer_number_format(pd.Series(["Tech", "Retail"])) is None
    True
    """
    present = text[~is_missing(text)].astype(str).str.strip()
    if present.empty:
        return None
    if decimal is None and not prefer_decimal_comma and _plain_floats(arrow_text(present)) is not None:
        return NumberFormat()  # Arrow read every value: plain numbers, the common case, without a Python pass
    uniques, counts = np.unique(present.to_numpy(dtype=str), return_counts=True)
    if not _mostly(uniques, lambda u: _split(u) is not None):
        return None
    parts = [_split(u) for u in uniques]
    matched = np.array([p is not None for p in parts])
    if counts[matched].sum() < TYPED_SHARE * counts.sum():
        return None
    bodies = [p["body"] for p in parts if p is not None and p["body"] is not None]
    decided_decimal, thousands, ambiguous = _separators(bodies, prefer_decimal_comma)
    fmt = NumberFormat(
        decimal=decimal or decided_decimal,
        thousands=_thousands_for(decimal, thousands, bodies) if decimal else thousands,
        currency=tuple(sorted({p["currency"] for p in parts if p is not None and p["currency"]})),
        percent=any(p["percent"] for p in parts if p is not None),
        suffixes=any(p["suffix"] for p in parts if p is not None),
        accounting=any(p["accounting"] for p in parts if p is not None),
        ambiguous=ambiguous and decimal is None,
        given=decimal is not None,
    )
    parsed = parse_numbers(pd.Series(uniques), fmt)
    if counts[parsed.notna().to_numpy()].sum() < TYPED_SHARE * counts.sum():
        return None
    return fmt


def _mostly(uniques, test, sample: int = 200) -> bool:
    """Whether at least half of an evenly spread sample of ``uniques`` passes ``test``: a cheap first look."""
    picked = uniques[:: max(1, len(uniques) // sample)][:sample]
    return sum(bool(test(u)) for u in picked) >= 0.5 * len(picked)


def _separators(bodies: list[str], prefer_decimal_comma: bool) -> tuple[str, str, bool]:
    """(decimal mark, thousands separator, ambiguous) from the digit groups of a column's numbers."""
    votes = {"decimal .": 0, "decimal ,": 0, "thousands ,": 0, "thousands .": 0, "thousands  ": 0, "thousands '": 0}
    ambiguous_comma = ambiguous_dot = 0
    plain_large = plain_small = False
    for body in bodies:
        kind = _body_kind(body)
        if kind == "ambiguous ,":
            ambiguous_comma += 1
        elif kind == "ambiguous .":
            ambiguous_dot += 1
        elif kind == "plain large":
            plain_large = True
        elif kind == "plain":
            plain_small = True
        else:
            for vote in kind.split("+"):
                if vote in votes:
                    votes[vote] += 1
    comma_decimal = votes["decimal ,"] + votes["thousands ."]
    dot_decimal = votes["decimal ."] + votes["thousands ,"]
    ambiguous = False
    if comma_decimal > dot_decimal:
        decimal = ","
    elif dot_decimal > comma_decimal:
        decimal = "."
    elif ambiguous_comma and plain_large:
        decimal = ","  # 4-digit numbers written without grouping: a lone comma is not a thousands separator
    elif ambiguous_comma and plain_small:
        decimal = "."  # only values of 1,000 and more carry the comma: it groups thousands
    elif ambiguous_comma:
        decimal, ambiguous = ("," if prefer_decimal_comma else "."), True
    elif ambiguous_dot and prefer_decimal_comma:
        decimal, ambiguous = ",", not plain_small  # European export: a lone '.' before 3 digits groups thousands
    else:
        decimal = "."
    thousands = _thousands_from_votes(decimal, votes, ambiguous_comma, ambiguous_dot)
    return decimal, thousands, ambiguous


def _body_kind(body: str) -> str:
    """What one run of digits and separators says about the column's separators."""
    if body.isdigit():
        return "plain large" if len(body) >= 4 and body[0] != "0" else "plain"
    for sep in (" ", "'"):
        if sep in body:
            rest = body.replace(sep, "")
            tail = "+decimal ," if "," in rest else "+decimal ." if "." in rest else ""
            return f"thousands {sep}{tail}"
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        return "thousands ,+decimal ." if body.rfind(".") > body.rfind(",") else "thousands .+decimal ,"
    sep = "," if commas else "."
    other = "." if sep == "," else ","
    if body.count(sep) > 1:
        return f"thousands {sep}"
    integer, fraction = body.split(sep)
    if len(fraction) == 3 and 1 <= len(integer) <= 3 and integer[0] != "0":
        return f"ambiguous {sep}"
    return f"decimal {sep}" if len(fraction) != 3 or len(integer) > 3 or integer in ("", "0") else f"thousands {sep}+decimal {other}"


def _thousands_from_votes(decimal: str, votes: dict[str, int], ambiguous_comma: int, ambiguous_dot: int) -> str:
    other = "," if decimal == "." else "."
    if votes[f"thousands {other}"] or (other == "," and ambiguous_comma) or (other == "." and ambiguous_dot):
        return other
    for sep in (" ", "'"):
        if votes[f"thousands {sep}"]:
            return sep
    return ""


def _thousands_for(decimal: str, thousands: str, bodies: list[str]) -> str:
    """The thousands separator once the user fixed the decimal mark."""
    if thousands and thousands != decimal:
        return thousands
    other = "," if decimal == "." else "."
    return other if any(other in b for b in bodies) else ""


def unread_with_mark(text: pd.Series, decimal: str, *, na_values: frozenset[str] = frozenset()) -> np.ndarray:
    """Where a present value of ``text`` is no number with ``decimal`` as its decimal mark, whatever its thousands separator.

    Missing markers, blank cells and the ``na_values`` tokens are never flagged. Lenient on
    purpose: it tests a value against the mark a user set, not against the column's one format.

    Examples
    --------
    >>> unread_with_mark(pd.Series(["1.234,5", "7,25", "", "n/a", "unknown", "1,234.5"]), ",").tolist()
    [False, False, False, False, True, True]
    """
    other = "," if decimal == "." else "."
    unread = np.zeros(len(text), dtype=bool)
    left = np.ones(len(text), dtype=bool)
    for thousands in (other, " ", "'"):  # each pass reads only what the ones before left unread
        values, missing = parse_numbers_marked(text[left], NumberFormat(decimal=decimal, thousands=thousands), na_values=na_values)
        unread[left] = ~missing & values.isna().to_numpy()
        left = unread.copy()
        if not left.any():
            break
    return unread


def has_leading_zero_codes(text: pd.Series) -> bool:
    """True when a column's present values are digit codes and some start with 0 (``000123``, ``02134``).

    Such values are identifiers or postal codes, not quantities: reading them as numbers would
    lose the zeros and invent an order.

    Examples
    --------
    >>> has_leading_zero_codes(pd.Series(["000123", "000124", "100200"]))
    True
    >>> has_leading_zero_codes(pd.Series(["0.5", "12"]))
    False
    """
    present = text[~is_missing(text)].astype(str).str.strip()
    if present.empty or not present.str.fullmatch(r"\d+").all():
        return False
    return bool(present.str.match(r"0\d").any())


# ------------------------------------------------------------------------------------------ dates

_DATE = re.compile(
    r"""^(?P<a>\d{1,4})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})\.?
    (?:(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
    \s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?
    \s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$""",
    re.VERBOSE,
)
DATE_LAYOUTS = {"ymd": "YYYY-MM-DD", "mdy": "M/D/YYYY", "dmy": "D/M/YYYY"}
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        ),
        start=1,
    )
    for name in names.split()
}
_NAMED_DATE = re.compile(
    r"""^(?:(?P<d>\d{1,2})[-\s./]+(?P<m>[A-Za-z]{3,9})\.?[-\s./,]+(?P<y>\d{2,4})
    |(?P<m2>[A-Za-z]{3,9})\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{4}))
    (?P<rest>(?:,?(?:T|\s+)\d.*)?)$""",
    re.VERBOSE,
)


def with_month_numbers(values: pd.Series) -> pd.Series:
    """``28-Feb-2022 1:00 PM`` and ``Feb 28, 2022`` -> ``28/2/2022 1:00 PM``; other values unchanged.

    Examples
    --------
    >>> with_month_numbers(pd.Series(["28-Feb-2022", "March 3rd, 2021 13:05", "soon"])).tolist()
    ['28/2/2022', '3/3/2021 13:05', 'soon']
    """

    def numeric(match: re.Match) -> str:
        month = MONTHS.get((match["m"] or match["m2"]).lower())
        if month is None:
            return match.group()
        rest = match["rest"].lstrip(",")
        return f"{match['d'] or match['d2']}/{month}/{match['y'] or match['y2']}{rest}"

    return values.astype(str).str.replace(_NAMED_DATE, numeric, regex=True)


@dataclass(frozen=True)
class DateFormat:
    """How one column writes its dates; saved with the model as :meth:`to_dict`."""

    order: str = "ymd"  # ymd, mdy or dmy
    separator: str = "-"
    zoned: bool = False
    ambiguous: bool = False  # no value settled day-first against month-first
    month_names: bool = False  # 28-Feb-2022, Feb 28, 2022 (English month names)

    def describe(self) -> str:
        layout = DATE_LAYOUTS[self.order].replace("/", self.separator).replace("-", self.separator)
        words = "ISO 8601" if (self.order, self.separator) == ("ymd", "-") else layout
        if self.month_names:
            words = "with month names (28-Feb-2022, Feb 28, 2022)"
        return f"date {words}" + (", offsets converted to UTC" if self.zoned else "")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DateFormat:
        return cls(**data)


def infer_date_format(text: pd.Series, *, dayfirst: bool | None = None, force: bool = False) -> DateFormat | None:
    """The layout of a text column's dates, or None when fewer than 95 % of present values are dates.

    ``dayfirst`` settles D/M against M/D when the values do not; ``force`` (``--date``) keeps
    the layout most values share even when fewer than 95 % parse (the rest are reported).

    Examples
    --------
    >>> infer_date_format(pd.Series(["6/12/2023", "6/30/2023 1:00 PM"])).describe()
    'date M/D/YYYY'
    >>> infer_date_format(pd.Series(["2023-06-12T13:00:00.000+0000", "2023-06-12T09:00:00Z"])).describe()
    'date ISO 8601, offsets converted to UTC'
    """
    present = text[~is_missing(text)].astype(str).str.strip()
    if present.empty:
        return None
    if not _mostly(present.unique(), _DATE.match) and _mostly(present.unique(), _NAMED_DATE.match):
        fmt = infer_date_format(with_month_numbers(present), force=force)
        return None if fmt is None else DateFormat(order="dmy", separator="/", zoned=fmt.zoned, month_names=True)
    if not (force or _mostly(present.unique(), _DATE.match)):
        return None
    counts = present.value_counts()
    if len(counts) > _LAYOUT_SAMPLE:  # the layout shows in any large sample; every value is parsed below
        counts = counts.iloc[np.linspace(0, len(counts) - 1, _LAYOUT_SAMPLE).astype(int)]
    parts = counts.index.to_series().str.extract(_DATE)
    matched = parts["a"].notna().to_numpy()
    if counts[matched].sum() < (0.5 if force else TYPED_SHARE) * counts.sum():
        return None
    parts = parts[matched]
    separator = parts["sep"].mode().iloc[0]
    order, ambiguous = _date_order(parts, separator, dayfirst, counts[matched])
    if order is None:
        return None
    fmt = DateFormat(order=order, separator=separator, zoned=bool(parts["zone"].notna().any()), ambiguous=ambiguous)
    if not force and parse_dates(present, fmt).notna().mean() < TYPED_SHARE:
        return None
    return fmt


_LAYOUT_SAMPLE = 20_000


def _date_order(parts: pd.DataFrame, separator: str, dayfirst: bool | None, counts: pd.Series) -> tuple[str | None, bool]:
    a, b = parts["a"], parts["b"]
    if (a.str.len() == 4).mean() >= 0.5:
        return "ymd", False
    a, b = a.astype(int), b.astype(int)
    # the layout most settling values share: one typo (13/13/2023) must not unseat 99 good dates
    day_first, month_first = int(counts[(a > 12) & (b <= 12)].sum()), int(counts[(b > 12) & (a <= 12)].sum())
    if day_first and day_first == month_first:
        return None, False  # as many D/M as M/D: not one date layout
    if day_first or month_first:
        return ("dmy" if day_first > month_first else "mdy"), False
    if dayfirst is not None:
        return ("dmy" if dayfirst else "mdy"), False
    return ("mdy" if separator == "/" else "dmy"), True


def parse_dates(text: pd.Series, fmt: DateFormat, *, na_values: frozenset[str] = frozenset()) -> pd.Series:
    """Text -> datetime64[ns] (UTC, no zone) under ``fmt``; NaT where missing or not such a date.

    Examples
    --------
    >>> parse_dates(pd.Series(["2023-03-12T01:30:00-05:00", "2023-03-12 09:00-04:00", "n/a"]), DateFormat(zoned=True)).tolist()
    [Timestamp('2023-03-12 06:30:00'), Timestamp('2023-03-12 13:00:00'), NaT]
    """
    # Arrow strips, marks and factorizes in one pass each: pandas' per-call cost dominated one-company requests
    stripped = pc.utf8_trim_whitespace(arrow_text(text))
    encoded = pc.if_else(_missing(stripped, na_values), pa.scalar(None, stripped.type), stripped).dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    uniques = pd.Series(encoded.dictionary.to_pylist(), dtype=object)
    parsed = _parse_unique_dates(with_month_numbers(uniques) if fmt.month_names else uniques, fmt)
    values = parsed.to_numpy(dtype="datetime64[ns]")
    out = np.where(codes >= 0, values[np.maximum(codes, 0)] if len(values) else np.datetime64("NaT"), np.datetime64("NaT"))
    return pd.Series(out.astype("datetime64[ns]"), index=text.index)


def _parse_unique_dates(values: pd.Series, fmt: DateFormat) -> pd.Series:
    if (fmt.order, fmt.separator) == ("ymd", "-"):
        iso = _iso_dates(values)
        if iso is not None:
            return iso
    return _parse_by_parts(values, fmt)


_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")


def _iso_dates(values: pd.Series) -> pd.Series | None:
    """pandas' vectorised ISO 8601 parser, offsets to UTC; None when any value needs the careful path."""
    if not all(_ISO_START.match(str(value)) for value in values):  # plain re: .str costs more per call than a few values
        return None  # ISO's basic forms (20230612, 2023) are numbers here, not dates
    if all(_ISO_DAY.fullmatch(value) for value in values):
        return _iso_days(values)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamps = pd.to_datetime(values, format="ISO8601", utc=True, errors="raise").dt.tz_convert(None)
    except (ValueError, TypeError, OverflowError):
        return None
    if stamps.notna().any() and not (_FIRST_NS <= stamps.min() and stamps.max() <= _LAST_NS):
        return None  # beyond datetime64[ns] (9999-12-31 for "never"): the careful path makes them NaT
    return stamps


_FIRST_NS, _LAST_NS = pd.Timestamp.min, pd.Timestamp.max
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAY_RANGE = (np.datetime64(_FIRST_NS.ceil("D").date(), "D"), np.datetime64(_LAST_NS.floor("D").date(), "D"))


def _iso_days(values: pd.Series) -> pd.Series | None:
    """Plain ``YYYY-MM-DD`` dates by numpy's parser: a fifth of pandas' per-call cost on a one-company request."""
    try:
        days = np.array(values.to_numpy(dtype=object), dtype="datetime64[D]")
    except ValueError:  # 2023-02-30: the careful path makes it NaT
        return None
    if len(days) and not (_DAY_RANGE[0] <= days.min() and days.max() <= _DAY_RANGE[1]):
        return None  # beyond datetime64[ns], as above
    return pd.Series(days.astype("datetime64[ns]"), index=values.index)


def _parse_by_parts(values: pd.Series, fmt: DateFormat) -> pd.Series:
    if values.empty:
        return pd.Series([], dtype="datetime64[ns]")
    parts = values.astype(str).str.extract(_DATE)
    year, month, day = _ymd(parts, fmt.order)
    hour = parts["hour"].fillna("0").astype(int)
    ampm = parts["ampm"].fillna("").str.lower().str[0]
    hour = np.where((ampm == "p") & (hour < 12), hour + 12, np.where((ampm == "a") & (hour == 12), 0, hour))
    components = pd.DataFrame(
        {
            "year": year,
            "month": month,
            "day": day,
            "hour": hour,
            "minute": parts["minute"].fillna("0").astype(int),
            "second": parts["second"].fillna("0").astype(int),
        }
    )
    bad = parts["a"].isna() | _impossible(components)
    stamps = pd.to_datetime(components.where(~bad, 1970).astype(int), errors="coerce")
    fraction = pd.to_timedelta(parts["fraction"].fillna("0").str.ljust(9, "0").astype(np.int64), unit="ns")
    stamps = stamps + fraction - pd.to_timedelta(_offset_minutes(parts["zone"]), unit="m")
    return stamps.where(~bad)


def _impossible(components: pd.DataFrame) -> pd.Series:
    """Times past 23:59:59, and years datetime64[ns] cannot hold (1678-2261; CRMs write 9999-12-31 for "never")."""
    late = (components["hour"] > 23) | (components["minute"] > 59) | (components["second"] > 59)
    return late | ~components["year"].between(1678, 2261)


def _ymd(parts: pd.DataFrame, order: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    a, b, c = (parts[k].fillna("1") for k in ("a", "b", "c"))
    year, month, day = {"ymd": (a, b, c), "mdy": (c, a, b), "dmy": (c, b, a)}[order]
    digits = year.str.len()  # as written: 0001 is the year 1, and 1.2.3 (a version) has no year
    year = year.astype(int)
    year = year.mask(digits == 2, np.where(year < 70, 2000 + year, 1900 + year)).where(digits.isin([2, 4]), 0)
    return year.astype(int), month.astype(int), day.astype(int)


def _offset_minutes(zone: pd.Series) -> np.ndarray:
    """``"-05:00"`` -> -300; ``Z``/``UTC``/missing -> 0."""
    parts = zone.fillna("").str.extract(r"^(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$")
    minutes = parts["h"].fillna("0").astype(int) * 60 + parts["m"].fillna("0").astype(int)
    return np.where(parts["sign"] == "-", -minutes, minutes)


def to_utc_naive(values: pd.Series) -> pd.Series:
    """A datetime column (zoned or not) as UTC instants without a zone; naive values stay as they are."""
    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps
