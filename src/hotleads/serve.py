"""The scoring web service (``hotleads serve MODEL_DIR``): FastAPI, pydantic v2 and uvicorn, the ``serve`` extra.

Where a CRM asks about companies over HTTP. The service loads a model's predictor once
(:func:`hotleads.bundle.load_predictor`) and calls the library functions ``hotleads predict``
calls (:func:`hotleads.scoring.score`, :meth:`~hotleads.scoring.ScoredTable.lead_list`); it holds no
modelling. Endpoints:

- ``POST /v1/score``: a JSON list of 1 to ``max_rows`` companies -> per company its id, calibrated
  probability, lead score 0-100, rank in the list, label at the model's threshold, tier and (unless
  ``?reasons=false``) the top reasons as records (:func:`hotleads.explain.reason_records`).
  A model trained with a monthly history (``train --history``) takes each company's months as a
  ``history`` list (``[{"month": "2025-01", "job_postings": 12, ...}, ...]``); its window ends at
  ``?as_of=YYYY-MM`` (default: the latest month in the request).
- ``POST /v1/score.csv``: a CSV table -> the lead list CSV, byte for byte what ``predict --scores`` writes.
- ``GET /v1/model``: name, version, members, threshold and its source, training date, and the
  columns the model reads with their roles, types and example values (enough to build a form).
- ``GET /healthz`` (the process answers) and ``GET /readyz`` (the model is loaded and has scored).
- ``/docs`` and ``/openapi.json``, with request and response examples built from the model's schema.

A bad request gets a 4xx, never a 500, with every problem found in one body:
``{"detail": [{"loc": ["body", 3, "total_funding"], "msg": "...", "type": "..."}, ...]}`` (rows of
a JSON list count from 0). Around the app sit four plain ASGI middlewares, outermost first: the
access log (request id, method, path, rows, status, milliseconds; never bodies, queries or
headers), the API key (``X-API-Key``, compared in constant time; ``/healthz`` stays open), the
in-flight limit (503 with ``Retry-After`` instead of a growing queue) and the body limit (413 from
``Content-Length`` before reading, or as soon as a streamed body passes the limit).
"""

from __future__ import annotations

import errno
import gc
import hmac
import json
import logging
import logging.config
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from .exceptions import BundleError, DataError, HotleadsWarning, ParameterError

try:  # the serve extra; a plain install has none of these
    import uvicorn
    import uvicorn.supervisors
    from fastapi import FastAPI, Query, Request, Security
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from fastapi.security import APIKeyHeader
    from pydantic import (
        AfterValidator,
        AllowInfNan,
        BaseModel,
        BeforeValidator,
        ConfigDict,
        Field,
        Strict,
        TypeAdapter,
        ValidationError,
        WithJsonSchema,
        create_model,
    )
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError as exc:
    raise ParameterError(
        f"the web service needs FastAPI, pydantic and uvicorn ({exc.name} is missing); install them with: pip install 'hotleads[serve]'"
    ) from None

import numpy as np  # after the optional imports: a missing extra is reported before anything heavy loads
import pandas as pd

from . import __version__, bundle, scoring
from .explain import contributions, reason_records
from .history import LARGEST_VALUE, SERVICE_FIELD, History, HistorySpec, join_aggregates, late_reference_note, month_number, month_text, unused_message
from .io import RowLocations, read_table
from .model import Predictor
from .schema import Schema, is_name_column

__all__ = ["Settings", "app_from_environment", "create_app", "parse_size", "run"]

LOG = logging.getLogger("hotleads.serve")
SETTINGS_ENV = "HOTLEADS_SERVE_SETTINGS"  # how --workers processes get their settings (JSON; never the API key itself)
API_KEY_HEADER = "X-API-Key"
OPEN_PATHS = frozenset({"/healthz"})  # answered without the API key (a liveness probe has none)
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})  # probes answer even when the scoring slots are full
KNOWN_PATHS = frozenset({"/v1/score", "/v1/score.csv", "/v1/model", "/healthz", "/readyz", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
MAX_PROBLEMS = 1000  # a 10,000-row list of empty objects has 130,000 problems; the first thousand say what is wrong
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")  # a client's id is logged only when it cannot forge a log line
_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(b|kb?|kib|mb?|mib|gb?|gib)?\s*")
_SIZE_UNITS = {"b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20, "g": 10**9, "gb": 10**9, "gib": 2**30}
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},  # the access log is ours (no client addresses, with rows)
        "hotleads.serve": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


# -------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """How the service runs: the ``serve`` command's options.

    ``api_key_env`` names the environment variable that holds the API key; the key itself is read
    when the app is made and is never part of the settings, so settings can travel to worker
    processes (as JSON in :data:`SETTINGS_ENV`) and be shown without it.
    """

    model_dir: str | None = None
    device: str = "auto"
    max_rows: int = 10_000
    max_body: int = 10_000_000
    api_key_env: str | None = None
    limit_concurrency: int = 16

    def check(self) -> None:
        """Raise :class:`~hotleads.exceptions.ParameterError` for an option no service can run with."""
        for option, value in (("--max-rows", self.max_rows), ("--max-body", self.max_body), ("--limit-concurrency", self.limit_concurrency)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ParameterError(f"{option} must be a positive integer; got {value!r}.")

    def api_key(self) -> str | None:
        """The key clients must send, from the environment variable ``api_key_env`` (None: no key needed).

        Raises
        ------
        ParameterError
            The variable is not set, or is empty.
        """
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env, "")
        if not key:
            state = "is empty" if self.api_key_env in os.environ else "is not set"
            raise ParameterError(
                f"--api-key-env {self.api_key_env}: the environment variable {self.api_key_env} {state}; set it to the key clients send in {API_KEY_HEADER}."
            )
        return key


def parse_size(text: str | int) -> int:
    """Bytes in a size such as ``10MB``, ``512KB``, ``2MiB`` or ``1048576`` (KB/MB/GB are powers of 1000).

    Raises
    ------
    ParameterError
        ``text`` is not such a size, or is zero.

    Examples
    --------
    >>> parse_size("10MB"), parse_size("512 kib"), parse_size(2048)
    (10000000, 524288, 2048)
    """
    match = _SIZE.fullmatch(str(text))
    if match is None or float(match.group(1)) <= 0:
        raise ParameterError(f"--max-body must be a size such as 10MB, 512KB or 1048576 (bytes); got {text!r}.")
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])


# ----------------------------------------------------------------------------- the model's columns


@dataclass(frozen=True)
class Column:
    """One field of a company as the service reads it: a feature, the id or the company name."""

    name: str
    role: str  # numeric, categorical, date, id or name
    parse: str  # how values are read, in words (Schema.parse_text)
    required: bool
    missing: float | None  # share missing in the training table
    example: float | str | None

    @property
    def json_type(self) -> str:
        return {"numeric": "number", "id": "string|integer"}.get(self.role, "string")

    def description(self) -> str:
        what = {
            "numeric": "a number, or null when unknown",
            "categorical": "text (a category), or null when unknown",
            "date": f"a date as text ({self.parse}), or null when unknown",
            "id": "the company's id, echoed in the result; optional (without it, results carry the row number from 0)",
            "name": "the company's name, shown with the result; optional, not used by the model",
        }[self.role]
        return f"{self.role}: {what}."


def model_columns(predictor: Predictor) -> list[Column]:
    """The fields a request gives per company: every feature (required, may be null), then the id and name (optional)."""
    schema, reference = predictor.schema, (predictor.explainer.reference if predictor.explainer else {})
    aggregates = set(predictor.history.aggregate_columns()) if predictor.history else set()  # computed from the history list
    columns = [
        Column(name, schema.role(name), schema.parse_text(name), True, schema.missing.get(name), _example(schema, name, reference.get(name)))
        for name in schema.features
        if name not in aggregates
    ]
    if schema.id is not None:
        columns.append(Column(schema.id, "id", "text", False, schema.missing.get(schema.id), "example-1"))
    name = _name_column(schema)
    if name is not None:
        columns.append(Column(name, "name", "text", False, schema.missing.get(name), "Example Ltd"))
    return columns


def _name_column(schema: Schema) -> str | None:
    """The training table's company-name column, which the lead list shows (never a feature)."""
    return next((c for c in schema.columns if is_name_column(c) and schema.role(c) == "ignored"), None)


def _example(schema: Schema, column: str, typical) -> float | str | None:
    """A typical value (training median, most frequent category, median date) written as the model reads it."""
    role = schema.role(column)
    if role == "numeric":
        return float(f"{typical:.6g}") if isinstance(typical, int | float) else 0.0
    if role == "date":
        return _written_date(date.fromisoformat(typical) if typical else date(2024, 1, 31), schema.formats.get(column))
    return str(typical) if typical is not None else "unknown"


def _written_date(day: date, fmt: dict | None) -> str:
    """``day`` in a date column's training layout (``2024-01-31``, ``31.01.2024``, ``31-Jan-2024``...)."""
    if not fmt:
        return day.isoformat()
    if fmt.get("month_names"):
        return day.strftime("%d-%b-%Y")
    parts = {"y": f"{day.year:04d}", "m": f"{day.month:02d}", "d": f"{day.day:02d}"}
    return fmt.get("separator", "-").join(parts[letter] for letter in fmt.get("order", "ymd"))


# ------------------------------------------------------------------------------- request models

FiniteNumber = Annotated[float, Strict(), AllowInfNan(False)]  # strict: true, "12" and NaN are not numbers
MonthValue = Annotated[FiniteNumber, Field(ge=-LARGEST_VALUE, le=LARGEST_VALUE)]  # as read_history: the windows are float32


def _int_as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


CompanyId = Annotated[str, BeforeValidator(_int_as_text), WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]})]
_FIELD_TYPES = {"numeric": FiniteNumber | None, "categorical": str | None, "date": str | None, "id": CompanyId | None, "name": str | None}


def _month(value: str) -> str:
    if month_number(value) is None:  # as the command line reads a history file: YYYY-MM, or a date of that month
        raise ValueError("a month is written YYYY-MM, e.g. 2025-01")
    return value.strip()


Month = Annotated[str, Strict(), AfterValidator(_month)]


def history_month_model(spec: HistorySpec) -> type[BaseModel]:
    """A pydantic model of one month of a company's history: ``month`` and each channel (a number or null); other fields are refused."""
    fields: dict[str, Any] = {"month": (Month, Field(..., description="YYYY-MM", examples=[spec.as_of]))}
    for i, channel in enumerate(spec.channels):
        fields[f"channel_{i}"] = (
            MonthValue | None,
            Field(None, alias=channel, title=channel, description=f"{channel} in that month; null or absent when unknown."),
        )
    return create_model("HistoryMonth", __config__=ConfigDict(extra="forbid", populate_by_name=False, title="HistoryMonth"), **fields)


def company_model(columns: list[Column], history: HistorySpec | None = None) -> type[BaseModel]:
    """A pydantic model of one company: a field per column under its table name (any string), extra fields allowed.

    Python field names are ``field_<i>`` (a column may be called ``Revenue ($)`` or ``model_config``);
    errors and the OpenAPI schema use the column names. A model trained with a monthly history
    adds ``history``, a list of :func:`history_month_model` months (optional: without it the
    company is scored from its own fields).
    """
    fields: dict[str, Any] = {}
    for i, column in enumerate(columns):
        info = Field(
            ... if column.required else None,
            alias=column.name,
            title=column.name,
            description=column.description(),
            examples=[column.example],
        )
        fields[f"field_{i}"] = (_FIELD_TYPES[column.role], info)
    if history is not None:
        months = f"up to {history.months} months are read, ending at the request's as_of"
        fields["history_"] = (
            list[history_month_model(history)] | None,
            Field(None, alias=SERVICE_FIELD, description=f"The company's monthly history; {months}."),
        )
    config = ConfigDict(extra="allow", populate_by_name=False, title="Company")
    return create_model("Company", __config__=config, **fields)


# ------------------------------------------------------------------------------ response models


class Reason(BaseModel):
    """One reason for a lead score, as the lead list's ``reason_i`` says it in ``words``."""

    column: str
    value: float | str | None = Field(description="The value as the model read it: a number, a category or an ISO date; null when missing.")
    direction: Literal["raises", "lowers"]
    words: str = Field(examples=["Job postings (last 30 days): 21, top 10 % — raises the score"])


class Lead(BaseModel):
    """One company's score, in the order of the request."""

    id: str | int = Field(description="The company's id, or its row number (from 0) when the request has no ids.")
    name: str | None = Field(None, description="The company's name, when the request gives one.")
    probability: float = Field(ge=0, le=1, description="Calibrated hot-lead probability.")
    lead_score: int = Field(ge=0, le=100, description="The probability x 100, rounded.")
    rank: int = Field(ge=1, description="1 = the best-scored company of this request.")
    label: Literal[0, 1] = Field(description="1: a hot lead at the model's threshold.")
    tier: Literal["hot", "warm", "cold"] = Field(description=scoring.TIER_HELP)
    reasons: list[Reason] | None = Field(None, description="The strongest reasons, strongest first; null with ?reasons=false.")


class Scores(BaseModel):
    """``POST /v1/score``'s answer."""

    model: str
    threshold: float
    rows: int
    hot: int = Field(description="How many companies are labelled 1.")
    results: list[Lead]
    ignored_fields: list[str] = Field(description="Fields of the request the model does not read (ignored).")
    warnings: list[str] = Field(description="What was handled rather than refused, e.g. categories unseen in training.")


class Problem(BaseModel):
    loc: list[str | int] = Field(description='Where: ["body", row, field], ["query", name], ["header", name] or ["body"].')
    msg: str
    type: str


class Problems(BaseModel):
    """Every problem of a refused request."""

    detail: list[Problem]


class ColumnInfo(BaseModel):
    name: str
    role: Literal["numeric", "categorical", "date", "id", "name"]
    type: str = Field(description="JSON type: number, string, or string|integer (the id).")
    parse: str = Field(description="How the values are read, in words.")
    required: bool
    nullable: bool
    missing_in_training: float | None
    example: float | str | None


class ThresholdInfo(BaseModel):
    value: float
    source: str
    objective: str | None
    reason: str


class Member(BaseModel):
    name: str
    estimator: str


class HistoryInfo(BaseModel):
    channels: list[str] = Field(description="The numbers each month of a company's history may give.")
    months: int = Field(description="How many months, ending at the request's as_of, the model reads.")
    trained_as_of: str = Field(description="The reference month of the training history.")


class ModelInfo(BaseModel):
    """``GET /v1/model``: what the service scores with and what it reads."""

    name: str
    label: str
    version: str | None = Field(description="First 12 hex digits of the SHA-256 of the model's predictor.json (null for an unsaved model).")
    hotleads_version: str | None
    trained: str | None = Field(description="When the model was saved (ISO 8601, UTC).")
    members: list[Member]
    ensemble: str | None
    calibration: str
    threshold: ThresholdInfo
    id_column: str | None
    name_column: str | None
    columns: list[ColumnInfo]
    ignored_columns: dict[str, str] = Field(description="Training columns the model does not read, and why.")
    history: HistoryInfo | None = Field(None, description="Set when the model reads a monthly history per company (the `history` field).")
    max_rows: int


class Status(BaseModel):
    status: str
    model: str | None = None


# --------------------------------------------------------------------------------------- scoring


class RequestProblem(Exception):
    """A request the service refuses: HTTP ``status`` and every problem, each ``{"loc", "msg", "type"}``."""

    def __init__(self, status: int, problems: list[dict], *, rows: int | None = None, headers: dict | None = None) -> None:
        super().__init__(problems[0]["msg"] if problems else str(status))
        self.status, self.problems, self.rows, self.headers = status, problems, rows, headers


def problem(loc: list, msg: str, kind: str) -> dict:
    return {"loc": loc, "msg": msg, "type": kind}


class ScoringService:
    """The loaded model and the library calls the endpoints make.

    Scoring is serialised per process: hotleads' warnings are captured with the process-wide
    :func:`warnings.catch_warnings`, which is safe only when one call runs at a time, and with one
    numeric thread per worker two calls in one process would share a core anyway (``--workers``
    adds processes). JSON decoding and validation run outside the lock.
    """

    def __init__(self, predictor: Predictor, settings: Settings, manifest: dict | None = None) -> None:
        self.predictor, self.settings = predictor, settings
        self.columns = model_columns(predictor)
        self.company = company_model(self.columns, predictor.history)
        self._companies = TypeAdapter(list[self.company])
        self._fields = {f"field_{i}": column for i, column in enumerate(self.columns)}
        self._lock = threading.Lock()
        self.info = _model_info(predictor, self.columns, manifest, settings)
        self.example, self.example_scores = self._warm_up()

    # JSON ----------------------------------------------------------------------------------------

    def score_json(self, body: bytes, *, reasons: bool = True, as_of: str | None = None) -> dict:
        """``POST /v1/score``: JSON text -> the :class:`Scores` dict.

        Raises
        ------
        RequestProblem
            400 malformed JSON; 413 more than ``max_rows`` companies; 422 not a non-empty list of
            companies, fields of the wrong type or missing, values the model cannot read, or a
            history with a repeated month or a month after ``as_of``, or ``as_of`` for a model without a history.
        """
        if as_of is not None and self.predictor.history is None:  # as predict refuses --as-of for such a model
            raise RequestProblem(422, [problem(["query", "as_of"], "this model was trained without a monthly history; leave out as_of", "value_error")])
        rows = _json(body)
        if not isinstance(rows, list):
            raise RequestProblem(422, [problem(["body"], f"expected a JSON list of companies (objects); got {_json_kind(rows)}", "list_type")])
        self._check_count(len(rows), "companies")
        try:
            companies = self._companies.validate_python(rows)
        except ValidationError as exc:
            raise RequestProblem(422, _validation_problems(exc.errors(include_url=False), "body"), rows=len(rows)) from None
        frame, ignored = self._frame(companies)
        windows, notes = None, []
        if self.predictor.history is not None:
            frame, windows, notes = self._with_history(frame, companies, as_of)
        return self._score_frame(frame, ignored, reasons=reasons, sequences=windows, notes=notes)

    def _with_history(self, frame: pd.DataFrame, companies: list[BaseModel], as_of: str | None) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
        """``frame`` with each company's history aggregates, its window (n, months, channels), and warnings for the response."""
        spec, problems = self.predictor.history, []
        if as_of is not None and month_number(as_of) is None:
            raise RequestProblem(422, [problem(["query", "as_of"], f"'{as_of}' is not a month; write it YYYY-MM, e.g. 2025-01", "value_error")])
        keys, items, months, values = [], [], [], []
        for i, company in enumerate(companies):
            seen: dict[int, int] = {}
            for j, record in enumerate(company.history_ or []):
                month = month_number(record.month)
                if month in seen:
                    where, what = ["body", i, "history", j, "month"], f"{record.month} is given twice (items {seen[month]} and {j}); give each month once"
                    problems.append(problem(where, what, "value_error"))
                seen[month] = j
                keys.append(str(i))
                items.append((i, j))
                months.append(month)
                values.append([np.nan if (v := getattr(record, f"channel_{c}")) is None else v for c in range(len(spec.channels))])
        end = month_number(as_of) if as_of is not None else max(months, default=month_number(spec.as_of))
        for (i, j), month in zip(items, months, strict=True):
            if month > end:
                what = f"{month_text(month)} is after as_of {month_text(end)}; leave it out or ask with a later as_of"
                problems.append(problem(["body", i, "history", j, "month"], what, "value_error"))
        if problems:
            raise RequestProblem(422, problems[:MAX_PROBLEMS], rows=len(companies))
        matrix = np.asarray(values, dtype=np.float64).reshape(len(values), len(spec.channels))
        history = History("row", np.asarray(keys, dtype=object), np.asarray(months, dtype=np.int64), matrix, spec.channels, end, "body")
        window = history.window(np.array([str(i) for i in range(len(companies))], dtype=object), spec.months)
        joined = join_aggregates(frame, window)
        outside = bool(months) and not any(end - spec.months < month <= end for month in months)  # an as_of past every month given
        if outside:
            return joined, window.values, [unused_message(len(companies), history, spec, "the request")]
        late = None if as_of is not None or not months else late_reference_note(history.ids, history.months, end, "the request", "as_of")
        return joined, window.values, [late] if late else []

    def _frame(self, companies: list[BaseModel]) -> tuple[pd.DataFrame, list[str]]:
        """The table predict would read (numbers as float64, the rest as text) and the extra fields ignored."""
        columns: dict[str, np.ndarray] = {}
        for field, column in self._fields.items():
            values = [getattr(company, field) for company in companies]
            if column.role == "numeric":
                columns[column.name] = np.array(values, dtype=np.float64)  # None -> NaN, as an empty CSV cell
            elif column.required or any(value is not None for value in values):
                columns[column.name] = _objects(values)
        extras = [company.model_extra or {} for company in companies]
        ignored = sorted({key for extra in extras for key in extra})
        for key in [key for key in ignored if is_name_column(key) and key not in columns]:  # an account_name the training table did not have
            values = [extra.get(key) for extra in extras]
            if all(value is None or isinstance(value, str) for value in values):
                columns[key] = _objects(values)
                ignored.remove(key)
        frame = pd.DataFrame(columns)
        frame.attrs["rows"] = RowLocations("item", first=0)  # messages say "item 3": the fourth company of the list, as in loc
        return frame, ignored

    def _score_frame(self, frame: pd.DataFrame, ignored: list[str], *, reasons: bool, sequences: np.ndarray | None = None, notes: list[str] = ()) -> dict:
        with self._lock, _captured() as caught:
            try:
                scored = scoring.score(self.predictor, frame, source="body", explain=False, sequences=sequences)
                contrib = contributions(self.predictor, scored.features, matrix=scored.matrix, sequences=sequences) if reasons else None
                records = reason_records(self.predictor, scored.features, contrib) if reasons else None
            except (DataError, ParameterError) as exc:
                raise RequestProblem(422, [problem(["body"], str(exc), "data_error")], rows=len(frame)) from None
        return {
            "model": self.predictor.label,
            "threshold": float(self.predictor.threshold.value),
            "rows": len(frame),
            "hot": int(scored.leads["prediction"].sum()),
            "results": _results(scored.leads, records),
            "ignored_fields": ignored,
            "warnings": [*notes, *_messages(caught)],
        }

    # CSV -----------------------------------------------------------------------------------------

    def score_csv(self, body: bytes, *, reasons: bool = True) -> tuple[str, int]:
        """``POST /v1/score.csv``: a table's bytes -> (the lead list as CSV text, rows), as ``predict --scores`` writes it.

        The body is read by :func:`hotleads.io.read_table` from a temporary file, exactly as
        ``predict`` reads a file (delimiter, encoding and number formats found the same way).

        Raises
        ------
        RequestProblem
            413 more than ``max_rows`` rows; 422 a body that is no readable table or values the model cannot read.
        """
        if self.predictor.history is not None:
            raise RequestProblem(
                422,
                [
                    problem(
                        ["body"],
                        "this model reads each company's monthly history, which a CSV table cannot carry; POST the companies as JSON to /v1/score, each with its history list",
                        "history_needed",
                    )
                ],
            )
        with tempfile.TemporaryDirectory(prefix="hotleads-serve-") as folder:
            path = Path(folder) / "body.csv"
            path.write_bytes(body)
            with self._lock, _captured():
                try:
                    frame = read_table(path)
                    self._check_count(len(frame), "rows")
                    scored = scoring.score(self.predictor, frame, source="body", explain=reasons)
                except (DataError, ParameterError) as exc:
                    raise RequestProblem(422, [problem(["body"], str(exc).replace(str(path), "body"), "data_error")]) from None
        return scored.lead_list(self.predictor.schema).to_csv(index=False, lineterminator="\n"), len(frame)

    def _check_count(self, rows: int, what: str) -> None:
        if rows == 0:
            raise RequestProblem(422, [problem(["body"], f"the list is empty; send 1 to {self.settings.max_rows:,} companies", "too_short")], rows=0)
        if rows > self.settings.max_rows:
            raise RequestProblem(
                413,
                [
                    problem(
                        ["body"],
                        f"{rows:,} {what} in one request; this service takes at most {self.settings.max_rows:,} (--max-rows): split them",
                        "too_many_rows",
                    )
                ],
                rows=rows,
            )

    # start-up ------------------------------------------------------------------------------------

    def _warm_up(self) -> tuple[dict, dict]:
        """Score a typical company once (it becomes the documentation's example), so that a model which cannot
        score fails at start-up, not at the first request. When the typical values do not read back (a date
        layout the example writer does not know), a company with every value missing is the example."""
        typical = {column.name: column.example for column in self.columns}
        if self.predictor.history is not None:  # the documentation shows the field; a month with unknown values scores like none
            typical["history"] = [{"month": self.predictor.history.as_of}]
        unknown = {column.name: (column.example if column.role == "id" else None) for column in self.columns if column.required or column.role == "id"}
        problems = []
        for example in (typical, unknown):
            try:
                return example, self.score_json(json.dumps([example]).encode())
            except RequestProblem as exc:
                problems.append(exc.problems[0]["msg"])
        raise BundleError(f"{self.settings.model_dir or 'the model'}: loads but cannot score a company ({problems[-1]}); retrain the model.")


def _objects(values: list) -> np.ndarray:
    """A 1-D object array of ``values`` (``np.array`` would make a 2-D one from equal-length lists)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class _captured:
    """hotleads' warnings raised inside the block, to return with the answer (others are dropped, as the CLI does)."""

    def __enter__(self) -> list:
        self._context = warnings.catch_warnings(record=True)
        caught = self._context.__enter__()
        warnings.simplefilter("always")
        return caught

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)


def _messages(caught: list) -> list[str]:
    return list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, HotleadsWarning)))


def _results(leads: pd.DataFrame, records: list[list[dict]] | None) -> list[dict]:
    columns = {name: leads[name].tolist() for name in leads.columns}
    names = columns.get("name")
    results = []
    for i, (company, proba, lead_score, rank, tier, label) in enumerate(
        zip(columns["Id"], columns["probability"], columns["lead_score"], columns["rank"], columns["tier"], columns["prediction"], strict=True)
    ):
        result = {"id": company, "probability": proba, "lead_score": lead_score, "rank": rank, "label": label, "tier": tier}
        if names is not None:
            result["name"] = None if pd.isna(names[i]) else names[i]
        result["reasons"] = None if records is None else records[i]
        results.append(result)
    return results


def _json(body: bytes) -> object:
    """The parsed JSON ``body``.

    Raises
    ------
    RequestProblem
        400 an empty body, malformed JSON, not UTF-8, nested too deeply or a number of over 4,300 digits (Python's
        bound on converting one); 422 a string or field name with a lone UTF-16 surrogate (:func:`_lone_surrogates`).
    """
    if not body.strip():
        raise RequestProblem(400, [problem(["body"], "the body is empty; send a JSON list of companies", "json_invalid")])
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as exc:
        raise RequestProblem(400, [problem(["body"], f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", "json_invalid")]) from None
    except UnicodeDecodeError as exc:
        raise RequestProblem(400, [problem(["body"], f"the body is not UTF-8 text (byte {exc.start}); send JSON in UTF-8", "json_invalid")]) from None
    except RecursionError:
        raise RequestProblem(400, [problem(["body"], "the JSON is nested too deeply; send a list of flat objects", "json_invalid")]) from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise RequestProblem(
            400, [problem(["body"], "a number has more than 4,300 digits; send numbers as JSON numbers of float range", "json_invalid")]
        ) from None
    if _SURROGATE_ESCAPE.search(body):  # only an escape can put a lone surrogate in valid UTF-8 JSON
        if found := _lone_surrogates(parsed):
            raise RequestProblem(422, found[:MAX_PROBLEMS])
    return parsed


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins a pair into one character: what is left is alone


def _lone_surrogates(parsed: object) -> list[dict]:
    """A problem for each string or field name of ``parsed`` holding a lone UTF-16 surrogate (``"\\ud800"``): valid JSON,
    but no character, which no table or answer can hold (Arrow refused it with a 500). Walked without recursion, as
    deep as ``json.loads`` allows."""
    found, stack = [], [(["body"], parsed)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str) and _LONE_SURROGATE.search(value):
            found.append(problem(where, "the text holds a lone UTF-16 surrogate escape, which is no character; send the text as written", "string_unicode"))
        elif isinstance(value, dict):
            for key, item in value.items():
                if _LONE_SURROGATE.search(key):
                    found.append(problem(where, f"field name {key!r} holds a lone UTF-16 surrogate escape, which is no character", "string_unicode"))
                stack.append(([*where, key], item))
        elif isinstance(value, list):
            stack.extend(([*where, i], item) for i, item in enumerate(value))
    return sorted(found, key=lambda p: [(isinstance(part, str), part) for part in p["loc"]])  # in the body's order


def _json_kind(value: object) -> str:
    return {dict: "an object", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _validation_problems(errors: list[dict], where: str) -> list[dict]:
    """pydantic's errors as problems located from ``where`` (``body`` or ``query``), the first :data:`MAX_PROBLEMS` of them."""
    problems = [problem([where, *error["loc"]] if error["loc"][:1] != (where,) else list(error["loc"]), error["msg"], error["type"]) for error in errors]
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + [problem([where], f"... and {more:,} more problems; fix these and send again", "too_many_problems")]
    return problems


def _model_info(predictor: Predictor, columns: list[Column], manifest: dict | None, settings: Settings) -> dict:
    schema, threshold = predictor.schema, predictor.threshold
    checksum = (manifest or {}).get("files", {}).get(bundle.PREDICTOR)
    return {
        "name": predictor.name,
        "label": predictor.label,
        "version": checksum[:12] if checksum else None,
        "hotleads_version": (manifest or {}).get("hotleads_version"),
        "trained": (manifest or {}).get("created"),
        "members": [{"name": name, "estimator": type(estimator).__name__} for name, estimator in predictor.members.items()],
        "ensemble": predictor.combiner.method if predictor.combiner is not None else None,
        "calibration": predictor.calibrator.method,
        "threshold": {"value": float(threshold.value), "source": threshold.source.value, "objective": threshold.objective, "reason": threshold.reason()},
        "id_column": schema.id,
        "name_column": _name_column(schema),
        "columns": [
            {
                "name": c.name,
                "role": c.role,
                "type": c.json_type,
                "parse": c.parse,
                "required": c.required,
                "nullable": True,
                "missing_in_training": c.missing,
                "example": c.example,
            }
            for c in columns
        ],
        "ignored_columns": {name: why for name, why in schema.ignored.items()},
        "history": None
        if predictor.history is None
        else {
            "channels": list(predictor.history.channels),
            "months": predictor.history.months,
            "trained_as_of": predictor.history.as_of,
        },
        "max_rows": settings.max_rows,
    }


# ----------------------------------------------------------------------------------- middlewares


class JSONText(JSONResponse):
    """JSON with non-ASCII escaped: a lone surrogate in a company name (valid JSON, invalid UTF-8) cannot break an answer."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _problem_response(status: int, problems: list[dict], headers: dict | None = None) -> JSONText:
    return JSONText({"detail": problems}, status_code=status, headers=headers)


def _header(scope: dict, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", []) if key.lower() == name), None)


class AccessLog:
    """One log line per request: request id, method, path, rows, status, milliseconds; the id goes back in ``X-Request-ID``.

    The id is the client's ``X-Request-ID`` when it is a plain token, else a new one. Bodies,
    query strings, headers and client addresses are never logged (company data and the API key stay
    out); a path the service does not serve is logged as ``<other>``.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = (_header(scope, b"x-request-id") or b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})  # Request.state reads this dict: endpoints put the row count there
        started, status = time.perf_counter(), None

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode("ascii"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500  # Starlette's error middleware, outside this one, answers 500
            raise
        finally:
            path = scope["path"] if scope["path"] in KNOWN_PATHS else "<other>"
            LOG.info(
                "request_id=%s method=%s path=%s rows=%s status=%s ms=%.1f",
                request_id,
                scope["method"],
                path,
                state.get("rows", "-"),
                status if status is not None else "499",  # the client left before an answer
                (time.perf_counter() - started) * 1000,
            )


class APIKeyCheck:
    """401 unless ``X-API-Key`` holds the key (compared in constant time); :data:`OPEN_PATHS` need none."""

    def __init__(self, app, key: str) -> None:
        self.app, self.key = app, key.encode("utf-8")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            given = _header(scope, b"x-api-key")
            if given is None or not hmac.compare_digest(given, self.key):
                what = "no" if given is None else "a wrong"
                msg = f"{what} API key; send the service's key in the {API_KEY_HEADER} header"
                return await _problem_response(401, [problem(["header", API_KEY_HEADER], msg, "unauthorized")])(scope, receive, send)
        await self.app(scope, receive, send)


class InFlightLimit:
    """At most ``limit`` requests in flight (health probes aside); the next gets 503 with ``Retry-After: 1``.

    A bounded number of requests in memory rather than a queue that grows until memory runs out;
    a client or load balancer retries, or another worker answers.
    """

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit, self.in_flight = app, limit, 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            return await self.app(scope, receive, send)
        if self.in_flight >= self.limit:
            msg = f"the service is busy ({self.limit} requests in flight, --limit-concurrency); retry in a second"
            return await _problem_response(503, [problem(["request"], msg, "overloaded")], headers={"Retry-After": "1"})(scope, receive, send)
        self.in_flight += 1  # one event loop: no lock needed
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimit:
    """413 for a body over ``limit`` bytes: from ``Content-Length`` before reading anything, or while a chunked
    body streams in, as soon as it passes the limit. A body within the limit is handed on whole."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        length = _header(scope, b"content-length")
        if length is not None and not length.strip().isdigit():
            return await _problem_response(400, [problem(["header", "Content-Length"], "Content-Length is not a number", "invalid_header")])(
                scope, receive, send
            )
        if length is not None and int(length) > self.limit:
            return await self._too_large(int(length), scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await self._too_large(None, scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, length: int | None, scope, receive, send) -> None:
        size = f"{length:,} bytes" if length is not None else f"more than {self.limit:,} bytes"
        msg = f"the body is {size}; this service takes at most {self.limit:,} bytes (--max-body): send fewer companies per request"
        await _problem_response(413, [problem(["body"], msg, "body_too_large")])(scope, receive, send)


def _replay(body: bytes, receive):
    sent = False

    async def replayed():
        nonlocal sent
        if sent:
            return await receive()  # after the body: a disconnect, when it comes
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


# --------------------------------------------------------------------------------------- the app


ReasonsQuery = Annotated[bool, Query(description="false: skip the explanations (faster).")]
AsOfQuery = Annotated[
    str | None, Query(description="A model with a monthly history: the month each window ends at, YYYY-MM (default: the latest in the request).")
]
ERRORS = {
    400: {"model": Problems, "description": "Malformed JSON, or a bad header."},
    401: {"model": Problems, "description": f"No or a wrong key in {API_KEY_HEADER} (when the service has one)."},
    413: {"model": Problems, "description": "Body over --max-body, or more rows than --max-rows."},
    415: {"model": Problems, "description": "Wrong Content-Type."},
    422: {"model": Problems, "description": "Every problem of the request, each with its location."},
    503: {"model": Problems, "description": "Too many requests in flight (--limit-concurrency); retry after Retry-After seconds."},
}


def create_app(model: str | Path | Predictor, settings: Settings | None = None) -> FastAPI:
    """The service's ASGI app for a model directory (or a loaded :class:`~hotleads.model.Predictor`).

    Loads the predictor once, sets its members to one thread each, scores an example company (a
    model that cannot score fails here), and builds the request model and the OpenAPI examples from
    the model's schema.

    Raises
    ------
    BundleError
        ``model`` is not a loadable model directory, or the model cannot score a company.
    ParameterError
        A setting is out of range, or ``settings.api_key_env`` names an unset variable.
    """
    settings = settings or Settings()
    if not isinstance(model, Predictor):
        settings = Settings(**{**asdict(settings), "model_dir": str(model)})
    settings.check()
    key = settings.api_key()
    manifest = None if isinstance(model, Predictor) else bundle.read_manifest(model)
    predictor = model if isinstance(model, Predictor) else bundle.load_predictor(model, device=settings.device)
    _one_thread_each(predictor)
    service = ScoringService(predictor, settings, manifest)
    app = FastAPI(
        title="hotleads scoring service",
        version=__version__,
        description=(
            f"Scores companies with the model **{predictor.label}** (threshold {predictor.threshold.value:.4f}: {predictor.threshold.reason()}). "
            f"Up to {settings.max_rows:,} companies and {settings.max_body:,} bytes per request. A refused request gets a 4xx whose "
            "`detail` lists every problem with its location."
        ),
        default_response_class=JSONText,
    )
    app.state.service = service
    _add_routes(app, service, secured=key is not None)
    _add_error_handlers(app)
    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(BodyLimit, limit=settings.max_body)
    app.add_middleware(InFlightLimit, limit=settings.limit_concurrency)
    if key is not None:
        app.add_middleware(APIKeyCheck, key=key)
    app.add_middleware(AccessLog)
    return app


def _one_thread_each(predictor: Predictor) -> None:
    """One numeric thread per member (a worker is one core's worth of work; --workers adds cores)."""
    for estimator in predictor.members.values():
        if "n_jobs" in estimator.get_params(deep=False):
            estimator.set_params(n_jobs=1)


def _add_routes(app: FastAPI, service: ScoringService, *, secured: bool) -> None:
    documented_key = [Security(APIKeyHeader(name=API_KEY_HEADER, auto_error=False))] if secured else []  # the middleware checks it
    _add_scoring_routes(app, service, documented_key)
    _add_model_routes(app, service, documented_key)


def _add_scoring_routes(app: FastAPI, service: ScoringService, documented_key: list) -> None:
    company_schema = TypeAdapter(service.company).json_schema(by_alias=True)
    example_csv = pd.DataFrame([service.example]).to_csv(index=False, lineterminator="\n")
    try:
        example_leads = service.score_csv(example_csv.encode())[0]
    except RequestProblem:  # a layout the example cannot write as CSV: the documentation goes without this example
        example_leads = ""

    @app.post(
        "/v1/score",
        response_model=Scores,
        responses={**ERRORS, 200: {"content": {"application/json": {"example": service.example_scores}}}},
        dependencies=documented_key,
        summary="Score companies (JSON)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": f"A list of 1 to {service.settings.max_rows:,} companies; extra fields are ignored and reported.",
                "content": {
                    "application/json": {
                        "schema": {"type": "array", "items": company_schema, "minItems": 1, "maxItems": service.settings.max_rows},
                        "examples": {"typical": {"summary": "A typical company of the training data", "value": [service.example]}},
                    }
                },
            }
        },
    )
    async def score(request: Request, reasons: ReasonsQuery = True, as_of: AsOfQuery = None) -> Response:
        """Per company: id, calibrated probability, lead score 0-100, rank, label at the threshold, tier, and reasons."""
        _require_type(request, JSON_TYPES, "a JSON list of companies")
        result = await run_in_threadpool(service.score_json, await request.body(), reasons=reasons, as_of=as_of)
        request.state.rows = result["rows"]
        return JSONText(result)

    @app.post(
        "/v1/score.csv",
        response_class=Response,
        responses={**ERRORS, 200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": example_leads}}, "description": "The lead list."}},
        dependencies=documented_key,
        summary="Score a CSV table into the lead list",
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": f"A company table as CSV (up to {service.settings.max_rows:,} rows); read like `hotleads predict` reads a file.",
                "content": {"text/csv": {"schema": {"type": "string"}, "example": example_csv}},
            }
        },
    )
    async def score_csv(request: Request, reasons: ReasonsQuery = True) -> Response:
        """The ranked lead list, the columns and values of `hotleads predict --scores`."""
        _require_type(request, CSV_TYPES, "a CSV table")
        text, rows = await run_in_threadpool(service.score_csv, await request.body(), reasons=reasons)
        request.state.rows = rows
        return Response(text.encode("utf-8", errors="replace"), media_type="text/csv; charset=utf-8")


def _add_model_routes(app: FastAPI, service: ScoringService, documented_key: list) -> None:
    @app.get(
        "/v1/model", response_model=ModelInfo, dependencies=documented_key, responses={401: ERRORS[401], 503: ERRORS[503]}, summary="The model and its columns"
    )
    async def model_info() -> dict:
        return service.info

    @app.get("/healthz", response_model=Status, response_model_exclude_none=True, summary="The process answers")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", response_model=Status, dependencies=documented_key, responses={401: ERRORS[401]}, summary="The model is loaded and scores")
    async def readyz() -> dict:
        return {"status": "ready", "model": service.predictor.label}  # the app exists only once its model has scored an example


def _require_type(request: Request, accepted: tuple[str, ...], what: str) -> None:
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given in accepted or (accepted == JSON_TYPES and given.endswith("+json")):
        return
    msg = f"Content-Type {given or '(none)'} is not accepted here; send {what} as {accepted[0]}"
    raise RequestProblem(415, [problem(["header", "Content-Type"], msg, "unsupported_media_type")])


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestProblem)
    async def refused(request: Request, exc: RequestProblem) -> JSONText:
        if exc.rows is not None:
            request.state.rows = exc.rows
        return _problem_response(exc.status, exc.problems, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONText:
        return _problem_response(422, [problem(list(e["loc"]), e["msg"], e["type"]) for e in exc.errors()][: MAX_PROBLEMS + 1])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONText:
        return _problem_response(exc.status_code, [problem(["request"], str(exc.detail), "http_error")], exc.headers)


# --------------------------------------------------------------------------------------- running


def app_from_environment() -> FastAPI:
    """The app each ``--workers`` process makes (uvicorn ``factory=True``), from the JSON settings in :data:`SETTINGS_ENV`."""
    settings = Settings(**json.loads(os.environ[SETTINGS_ENV]))
    app = create_app(settings.model_dir, settings)
    one_numeric_thread()
    _freeze_heap()
    return app


def one_numeric_thread() -> None:
    """Limit this process's numeric libraries to one thread (the CLI also sets OMP_NUM_THREADS and the like before they load)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if "torch" in sys.modules:  # loaded by neural members only
        sys.modules["torch"].set_num_threads(1)


def run(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until SIGTERM or Ctrl-C; requests in flight then finish before the process exits (status 0).

    The model is loaded (and the API key read) here first, so a mistake is one error before
    anything listens. ``workers`` > 1 runs that many processes (uvicorn's supervisor), each loading
    the model from ``settings``.

    Raises
    ------
    ParameterError
        A bad option, the port is in use, or the API key variable is unset.
    BundleError
        The model directory cannot be loaded or cannot score.
    """
    if not 1 <= port <= 65535:
        raise ParameterError(f"--port must be 1 to 65535; got {port}.")
    if workers < 1:
        raise ParameterError(f"--workers must be a positive integer; got {workers}.")
    if not host.strip():  # the sockets layer reads "" as every interface: the service would be open to the network unasked
        raise ParameterError(
            "--host is empty, which would listen on every interface; give 127.0.0.1 (this machine only, the default) or 0.0.0.0 (every interface)."
        )
    _check_port(host, port)
    app = create_app(settings.model_dir, settings)
    one_numeric_thread()
    logging.config.dictConfig(LOG_CONFIG)  # uvicorn sets the same when it starts; this first line comes before
    predictor = app.state.service.predictor
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address is bracketed in a URL
    LOG.info("%s from %s, threshold %.4f; docs at http://%s:%d/docs", predictor.label, settings.model_dir, predictor.threshold.value, shown, port)
    options = {"host": host, "port": port, "log_config": LOG_CONFIG, "access_log": False, "server_header": False, "timeout_graceful_shutdown": None}
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, _stopped)
    if workers == 1:
        _freeze_heap()  # only where this process serves: with --workers the model below is let go
        uvicorn.Server(uvicorn.Config(app, **options)).run()
        return
    del app, predictor  # each worker loads its own
    os.environ[SETTINGS_ENV] = json.dumps(asdict(settings))
    config = uvicorn.Config(f"{__name__}:app_from_environment", factory=True, workers=workers, **options)
    uvicorn.supervisors.Multiprocess(config, sockets=[_tcp_socket(config.bind_socket())]).run()


def _freeze_heap() -> None:
    """Move everything loaded so far (libraries, the model) out of the cyclic garbage collector's reach.

    They live as long as the process; without this every full collection walks them again, inside
    whichever request triggered it (Python's ``gc.freeze``, made for long-running servers).
    """
    gc.collect()
    gc.freeze()


def _tcp_socket(sock: socket.socket) -> socket.socket:
    """``sock`` reopened with its protocol read back from the kernel (IPPROTO_TCP).

    uvicorn's shared socket for ``--workers`` is made with protocol 0, and asyncio sets TCP_NODELAY
    only on connections accepted from a socket whose protocol is IPPROTO_TCP: without it every
    response on a kept-open connection waited for the client's delayed ACK, 40 ms (uvicorn issue 3149).
    """
    tcp = socket.socket(fileno=sock.detach())
    tcp.set_inheritable(True)
    return tcp


def _stopped(signum, frame) -> None:
    # uvicorn handles SIGTERM and SIGINT itself (it stops accepting, lets requests in flight finish), then restores
    # this handler and raises the signal again: by then the shutdown was clean, so exit 0 rather than die of it.
    raise SystemExit(0)


def _check_port(host: str, port: int) -> None:
    """Refuse, with one clear error, an address this machine cannot listen on (uvicorn would log and exit 1)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a port in TIME_WAIT is free
        try:
            probe.bind((host, port))
        except socket.gaierror:
            raise ParameterError(f"--host {host}: not an address of this machine; use e.g. 127.0.0.1 or 0.0.0.0 (every interface).") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ParameterError(f"--port {port}: {host}:{port} is already in use; choose another --port or stop the program using it.") from None
            raise ParameterError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}).") from None
