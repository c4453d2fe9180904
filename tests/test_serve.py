"""Tests of the scoring web service (hotleads.serve).

In-process (``TestClient``, and the ASGI middlewares called directly) for the many small cases;
a real ``hotleads serve`` in a subprocess on a free loopback port for HTTP, ``--workers``, the API
key in the log, overload and SIGTERM; schemathesis against the served OpenAPI document for the
rest. Every refused request must be a 4xx whose ``detail`` lists each problem with its location.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'hotleads[serve]'")
httpx = pytest.importorskip("httpx")
schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hotleads.bundle import read_manifest  # noqa: E402
from hotleads.cli import app as cli  # noqa: E402
from hotleads.exceptions import ParameterError  # noqa: E402
from hotleads.scoring import tiers  # noqa: E402
from hotleads.serve import BodyLimit, InFlightLimit, Settings, create_app, parse_size  # noqa: E402

KEY = "test-key-8d1f0c"  # the subprocess server's API key (never to be seen in its log)
KEY_VARIABLE = "HOTLEADS_TEST_API_KEY"
MAX_ROWS = 60
MAX_BODY = 60_000
runner = CliRunner()

schemathesis.serializer.alias("text/csv", "text/plain")  # schemathesis sends a generated string as the CSV body


# --- shared pieces --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(model_dir: Path):
    """The service on the session's gbdt bundle, with small limits to reach them cheaply."""
    return create_app(model_dir, Settings(max_rows=MAX_ROWS, max_body=MAX_BODY, limit_concurrency=4))


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture(scope="module")
def holdout_text(dataset: Path) -> list[str]:
    """holdout.csv's lines (header first)."""
    return (dataset / "holdout.csv").read_text().splitlines(keepends=True)


def csv_bytes(lines: list[str], rows: int) -> bytes:
    return "".join(lines[: rows + 1]).encode()


def as_json(lines: list[str], rows: int, numeric: list[str]) -> list[dict]:
    """The first ``rows`` companies as a JSON client sends them: numbers as numbers, empty cells as null."""
    records = csv.DictReader(io.StringIO("".join(lines[: rows + 1])))
    return [{k: (float(v) if k in numeric else v) if v != "" else None for k, v in record.items()} for record in records]


@pytest.fixture(scope="module")
def companies(app, holdout_text: list[str]) -> list[dict]:
    """holdout.csv's first 40 companies as JSON objects."""
    return as_json(holdout_text, 40, app.state.service.predictor.schema.numeric)


def post_json(client, body, path: str = "/v1/score", **kwargs):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, content=content, headers={"content-type": "application/json", **kwargs.pop("headers", {})}, **kwargs)


def assert_problems(response, status: int, loc: list, kind: str, *fragments: str) -> list[dict]:
    """``status``, and a problem at ``loc`` of type ``kind`` whose message holds every fragment."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail and all(set(p) == {"loc", "msg", "type"} for p in detail), detail
    found = [p for p in detail if p["loc"] == loc and p["type"] == kind]
    assert found, f"no {kind} at {loc} in {detail}"
    for fragment in fragments:
        assert fragment in found[0]["msg"], f"{fragment!r} not in {found[0]['msg']!r}"
    return detail


# --- the endpoints, in-process --------------------------------------------------------------


def test_model_describes_the_columns_a_form_needs(client, app, model_dir: Path) -> None:
    info = client.get("/v1/model").json()
    predictor = app.state.service.predictor
    assert (info["name"], info["label"]) == ("gbdt", predictor.label)
    assert info["members"] == [{"name": "gbdt", "estimator": "GBDTClassifier"}]
    assert info["threshold"]["value"] == predictor.threshold.value and info["threshold"]["source"] == predictor.threshold.source.value
    manifest = read_manifest(model_dir)
    assert info["trained"] == manifest["created"] and info["version"] == manifest["files"]["predictor.json"][:12]
    columns = {c["name"]: c for c in info["columns"]}
    schema = predictor.schema
    assert [name for name in columns if columns[name]["required"]] == schema.features
    assert all(columns[name]["type"] == "number" and columns[name]["role"] == "numeric" for name in schema.numeric)
    assert all(columns[name]["type"] == "string" for name in schema.categorical + schema.date)
    assert columns["company_id"]["role"] == "id" and not columns["company_id"]["required"]
    assert columns["company_name"]["role"] == "name" and info["max_rows"] == MAX_ROWS


def test_each_member_uses_one_thread(app) -> None:
    assert all(member.get_params()["n_jobs"] == 1 for member in app.state.service.predictor.members.values())


def test_health_and_readiness(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_docs_show_examples_taken_from_the_model(client, app) -> None:
    assert client.get("/docs").status_code == 200
    document = client.get("/openapi.json").json()
    body = document["paths"]["/v1/score"]["post"]["requestBody"]["content"]["application/json"]
    example = body["examples"]["typical"]["value"]
    schema = app.state.service.predictor.schema
    assert set(schema.features) <= set(example[0]) and set(body["schema"]["items"]["required"]) == set(schema.features)
    assert example[0]["industry"] == app.state.service.predictor.explainer.reference["industry"]  # the most frequent category
    assert post_json(client, example).status_code == 200
    csv_example = document["paths"]["/v1/score.csv"]["post"]["requestBody"]["content"]["text/csv"]["example"]
    assert client.post("/v1/score.csv", content=csv_example, headers={"content-type": "text/csv"}).status_code == 200


def test_score_answers_per_company_in_the_request_order(client, app, companies: list[dict]) -> None:
    sent = [{**company, "crm_owner": "Ann"} for company in companies[:5]]
    answer = post_json(client, sent).json()
    threshold = app.state.service.predictor.threshold.value
    assert [r["id"] for r in answer["results"]] == [c["company_id"] for c in sent]
    assert [r["name"] for r in answer["results"]] == [c["company_name"] for c in sent]
    assert sorted(r["rank"] for r in answer["results"]) == [1, 2, 3, 4, 5]
    for r in answer["results"]:
        assert r["lead_score"] == round(r["probability"] * 100) and r["label"] == int(r["probability"] >= threshold)
        assert r["tier"] == tiers(np.array([r["probability"]]), threshold)[0] and len(r["reasons"]) == 3
        assert {"column", "value", "direction", "words"} == set(r["reasons"][0]) and r["reasons"][0]["words"].endswith(" the score")
    assert answer["ignored_fields"] == ["crm_owner"] and answer["rows"] == 5 and answer["threshold"] == threshold
    quick = post_json(client, sent, params={"reasons": "false"}).json()
    assert all(r["reasons"] is None for r in quick["results"])
    assert [r["probability"] for r in quick["results"]] == [r["probability"] for r in answer["results"]]


def test_as_of_for_a_model_without_a_history_is_a_422(client, companies: list[dict]) -> None:
    response = post_json(client, companies[:2], params={"as_of": "2025-01"})
    assert_problems(response, 422, ["query", "as_of"], "value_error", "trained without a monthly history; leave out as_of")


def test_unseen_categories_and_missing_ids_are_warnings_not_errors(client, companies: list[dict]) -> None:
    sent = [{k: v for k, v in company.items() if k != "company_id"} | {"industry": "Space mining"} for company in companies[:3]]
    answer = post_json(client, sent).json()
    assert [r["id"] for r in answer["results"]] == [0, 1, 2]
    assert any("Space mining" in w for w in answer["warnings"]) and any("row numbers" in w for w in answer["warnings"])


def test_the_service_answers_what_predict_writes(client, model_dir: Path, holdout_text: list[str], companies: list[dict], tmp_path: Path) -> None:
    table = tmp_path / "companies.csv"
    table.write_bytes(csv_bytes(holdout_text, len(companies)))
    result = runner.invoke(cli, ["predict", str(model_dir), str(table), "--out", str(tmp_path / "sub.csv"), "--scores", str(tmp_path / "leads.csv"), "-q"])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "leads.csv").read_bytes()
    served = client.post("/v1/score.csv", content=table.read_bytes(), headers={"content-type": "text/csv"})
    assert served.headers["content-type"].startswith("text/csv") and served.content == written
    leads = {row["company_id"]: row for row in csv.DictReader(io.StringIO(written.decode()))}
    for r in post_json(client, companies).json()["results"]:  # the JSON numbers read as predict reads the CSV text
        row = leads[r["id"]]
        assert r["probability"] == float(row["probability"]) and (r["lead_score"], r["rank"], r["label"]) == tuple(
            int(row[k]) for k in ("lead_score", "rank", "prediction")
        )
        assert (r["tier"], r["name"]) == (row["tier"], row["name"])
        assert [reason["words"] for reason in r["reasons"]] == [row[f"reason_{i}"] for i in (1, 2, 3) if row[f"reason_{i}"]]


# --- bad requests ---------------------------------------------------------------------------


def test_every_problem_is_reported_with_its_row_and_field(client, companies: list[dict]) -> None:
    first, second = dict(companies[0]), dict(companies[1])
    first["total_funding"] = "a lot"  # text in a number field
    first["industry"] = 7  # a number in a text field
    second["job_postings_30d"] = True  # a boolean is not a number
    del second["hiring_roles"]
    detail = assert_problems(post_json(client, [companies[2], first, second]), 422, ["body", 1, "total_funding"], "float_type")
    assert {(tuple(p["loc"]), p["type"]) for p in detail} == {
        (("body", 1, "total_funding"), "float_type"),
        (("body", 1, "industry"), "string_type"),
        (("body", 2, "job_postings_30d"), "float_type"),
        (("body", 2, "hiring_roles"), "missing"),
    }


@pytest.mark.parametrize(
    ("case", "status", "loc", "kind", "fragments"),
    [
        ("malformed JSON", 400, ["body"], "json_invalid", ["line 1, column"]),
        ("empty body", 400, ["body"], "json_invalid", ["empty"]),
        ("not a list", 422, ["body"], "list_type", ["a JSON list", "an object"]),
        ("empty list", 422, ["body"], "too_short", ["empty", f"1 to {MAX_ROWS}"]),
        ("not an object", 422, ["body", 0], "model_type", []),
        ("NaN", 422, ["body", 0, "total_funding"], "finite_number", []),
        ("too many rows", 413, ["body"], "too_many_rows", [f"{MAX_ROWS + 1} companies", "--max-rows"]),
        ("bad date", 422, ["body"], "data_error", ["'last_funding_date'", "'soon'", "item 1"]),
        ("duplicate ids", 422, ["body"], "data_error", ["'company_id'", "repeats"]),
        ("wrong content type", 415, ["header", "Content-Type"], "unsupported_media_type", ["text/plain", "application/json"]),
        ("no content type", 415, ["header", "Content-Type"], "unsupported_media_type", ["(none)"]),
        ("bad query", 422, ["query", "reasons"], "bool_parsing", []),
        ("body over the limit", 413, ["body"], "body_too_large", ["--max-body", f"{MAX_BODY:,}"]),
        ("number of 5,000 digits", 400, ["body"], "json_invalid", ["more than 4,300 digits"]),
        ("lone surrogate", 422, ["body", 1, "industry"], "string_unicode", ["lone UTF-16 surrogate"]),
        ("lone surrogate in a field name", 422, ["body", 0], "string_unicode", ["field name 'x\\udc00'"]),
    ],
)
def test_bad_json_requests_get_4xx_with_locations(client, companies: list[dict], case: str, status: int, loc: list, kind: str, fragments: list[str]) -> None:
    good = json.dumps(companies[:2]).encode()
    headers = {"content-type": "application/json"}
    request = {
        "malformed JSON": {"content": b'[{"a": 1,}]'},
        "empty body": {"content": b""},
        "not a list": {"content": json.dumps(companies[0]).encode()},
        "empty list": {"content": b"[]"},
        "not an object": {"content": b'[3, {"a": 1}]'},
        "NaN": {"content": json.dumps([{**companies[0], "total_funding": float("nan")}]).encode()},
        "too many rows": {"content": json.dumps(companies[:1] * (MAX_ROWS + 1)).encode()},
        "bad date": {"content": json.dumps([companies[0], {**companies[1], "last_funding_date": "soon"}]).encode()},
        "duplicate ids": {"content": json.dumps([companies[0], {**companies[1], "company_id": companies[0]["company_id"]}]).encode()},
        "wrong content type": {"content": good, "headers": {"content-type": "text/plain"}},
        "no content type": {"content": good, "headers": {}},
        "bad query": {"content": good, "params": {"reasons": "perhaps"}},
        "body over the limit": {"content": b"[" + b" " * MAX_BODY + b"]"},
        "number of 5,000 digits": {
            "content": json.dumps([{**companies[0], "crm_owner": 0}]).encode().replace(b'"crm_owner": 0', b'"crm_owner": ' + b"9" * 5000)
        },
        "lone surrogate": {"content": json.dumps([companies[0], {**companies[1], "industry": "Tech\ud800"}]).encode()},  # ensure_ascii: escaped
        "lone surrogate in a field name": {"content": json.dumps([{**companies[0], "x\udc00": 1}]).encode()},
    }[case]
    response = client.post("/v1/score", **{"headers": headers, **request})
    assert_problems(response, status, loc, kind, *fragments)


@pytest.mark.parametrize(
    ("case", "status", "kind", "fragments"),
    [
        ("ragged", 422, "data_error", ["ragged", "line 3 has"]),
        ("missing column", 422, "data_error", ["missing column", "'industry'"]),
        ("text in a number column", 422, "data_error", ["'funding_rounds'", "'three'", "line 2"]),
        ("header only", 422, "data_error", ["no rows"]),
        ("too many rows", 413, "too_many_rows", ["--max-rows"]),
        ("wrong content type", 415, "unsupported_media_type", ["application/json", "text/csv"]),
    ],
)
def test_bad_csv_requests_get_4xx_with_locations(client, holdout_text: list[str], case: str, status: int, kind: str, fragments: list[str]) -> None:
    header, rows = holdout_text[0], holdout_text[1:4]
    body = {
        "ragged": header + rows[0] + rows[1].rstrip("\n") + ",extra\n",
        "missing column": header.replace(",industry,", ",sector,") + "".join(rows),
        "text in a number column": header + with_cell(header, rows[0], "funding_rounds", "three") + rows[1],
        "header only": header,
        "too many rows": "".join(holdout_text[: MAX_ROWS + 2]),
        "wrong content type": header + "".join(rows),
    }[case]
    media = "application/json" if case == "wrong content type" else "text/csv"
    response = client.post("/v1/score.csv", content=body.encode(), headers={"content-type": media})
    loc = ["header", "Content-Type"] if status == 415 else ["body"]
    detail = assert_problems(response, status, loc, kind, *fragments)
    assert "/tmp" not in json.dumps(detail)  # the temporary file's path is the service's business


def with_cell(header: str, line: str, column: str, value: str) -> str:
    names, cells = next(csv.reader([header])), next(csv.reader([line]))
    cells[names.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def test_the_body_limit_answers_before_reading_a_declared_length() -> None:
    def never_read():
        raise AssertionError("the body was read")

    scope = {"type": "http", "method": "POST", "path": "/v1/score", "headers": [(b"content-length", b"1000000000")]}
    status, _ = asyncio.run(call_asgi(BodyLimit(never_called, limit=1000), scope, never_read))
    assert status == 413


def test_the_body_limit_stops_a_streamed_body_at_the_limit() -> None:
    chunks = 0

    async def endless():
        nonlocal chunks
        chunks += 1
        return {"type": "http.request", "body": b"x" * 400, "more_body": True}

    scope = {"type": "http", "method": "POST", "path": "/v1/score", "headers": [(b"transfer-encoding", b"chunked")]}
    status, body = asyncio.run(call_asgi(BodyLimit(never_called, limit=1000), scope, endless))
    assert status == 413 and chunks == 3 and b"--max-body" in body


def test_requests_over_the_in_flight_limit_get_503_with_retry_after() -> None:
    release = asyncio.Event()

    async def slow_app(scope, receive, send) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    async def scenario():
        limited = InFlightLimit(slow_app, limit=1)
        scope = {"type": "http", "method": "POST", "path": "/v1/score", "headers": []}
        first = asyncio.create_task(call_asgi(limited, scope, no_body))
        await asyncio.sleep(0.01)
        second = await call_asgi(limited, scope, no_body, headers=True)
        probe = asyncio.create_task(call_asgi(limited, {**scope, "method": "GET", "path": "/healthz"}, no_body))  # probes pass
        await asyncio.sleep(0.01)
        release.set()
        return await first, second, await probe

    (first, _), (status, body, headers), (probe, _) = asyncio.run(scenario())
    assert (first, status, probe) == (200, 503, 200)
    assert headers[b"retry-after"] == b"1" and json.loads(body)["detail"][0]["type"] == "overloaded"


async def never_called(scope, receive, send) -> None:
    raise AssertionError("the app was called")


async def no_body():
    return {"type": "http.request", "body": b"", "more_body": False}


async def call_asgi(app, scope: dict, receive, *, headers: bool = False):
    """(status, body[, headers]) of one ASGI call."""
    sent: list[dict] = []

    async def send(message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (start["status"], body, dict(start["headers"])) if headers else (start["status"], body)


# --- API key and the access log -------------------------------------------------------------


def test_api_key(model_dir: Path, companies: list[dict], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    keyed = TestClient(create_app(model_dir, Settings(api_key_env=KEY_VARIABLE)))
    with caplog.at_level(logging.INFO, logger="hotleads.serve"):
        assert_problems(post_json(keyed, companies[:2]), 401, ["header", "X-API-Key"], "unauthorized", "X-API-Key")
        assert_problems(post_json(keyed, companies[:2], headers={"X-API-Key": KEY + "x"}), 401, ["header", "X-API-Key"], "unauthorized", "wrong")
        assert post_json(keyed, companies[:2], headers={"X-API-Key": KEY}).status_code == 200
        assert keyed.get("/v1/model").status_code == 401 and keyed.get("/v1/model", headers={"X-API-Key": KEY}).status_code == 200
        assert keyed.get("/healthz").status_code == 200  # a liveness probe has no key
    assert KEY not in caplog.text and "status=401" in caplog.text
    assert "X-API-Key" in keyed.get("/openapi.json", headers={"X-API-Key": KEY}).json()["components"]["securitySchemes"]["APIKeyHeader"]["name"]
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(ParameterError, match=f"--api-key-env {KEY_VARIABLE}: the environment variable {KEY_VARIABLE} is not set"):
        create_app(model_dir, Settings(api_key_env=KEY_VARIABLE))


def test_access_log_has_request_id_rows_status_and_time_but_no_company_data(client, companies: list[dict], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hotleads.serve"):
        given = post_json(client, companies[:3], headers={"X-Request-ID": "crm-42"})
        made = post_json(client, [{**companies[0], "total_funding": "a lot"}])
        client.get("/v1/model?secret=1")
    lines = [r.getMessage() for r in caplog.records if r.name == "hotleads.serve"]
    assert given.headers["x-request-id"] == "crm-42" and len(made.headers["x-request-id"]) == 32
    assert lines[0].startswith("request_id=crm-42 method=POST path=/v1/score rows=3 status=200 ms=")
    assert f"request_id={made.headers['x-request-id']} method=POST path=/v1/score rows=1 status=422" in lines[1]
    assert "path=/v1/model rows=- status=200" in lines[2] and len(lines) == 3
    for company in companies[:3]:
        assert company["company_id"] not in caplog.text and company["company_name"] not in caplog.text and "secret" not in caplog.text


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def quiet_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` sets OMP_NUM_THREADS & co. for its process; undo that here, in the test process."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if variable in os.environ:
            monkeypatch.setenv(variable, os.environ[variable])  # recorded, so restored after the test
        else:
            monkeypatch.delenv(variable, raising=False)


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


@pytest.mark.usefixtures("quiet_threads")
@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["MISSING"], ["no such model directory"]),
        (["MODEL", "--api-key-env", "HOTLEADS_NO_SUCH_VARIABLE"], ["--api-key-env HOTLEADS_NO_SUCH_VARIABLE", "is not set", "X-API-Key"]),
        (["MODEL", "--port", "PORT_IN_USE"], ["--port", "already in use"]),
        (["MODEL", "--max-body", "lots"], ["--max-body", "10MB"]),
        (["MODEL", "--max-rows", "0"], ["--max-rows must be a positive integer"]),
        (["MODEL", "--workers", "0"], ["--workers must be a positive integer"]),
        (["MODEL", "--port", "70000"], ["--port must be 1 to 65535"]),
        (["MODEL", "--host", ""], ["--host is empty", "every interface", "127.0.0.1"]),
        (["MODEL", "--host", " "], ["--host is empty"]),
    ],
)
def test_serve_mistakes_are_one_error_line(model_dir: Path, tmp_path: Path, options: list[str], fragments: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        values = {"MISSING": str(tmp_path / "nope"), "MODEL": str(model_dir), "PORT_IN_USE": str(taken.getsockname()[1])}
        port = [] if "--port" in options else ["--port", free_port()]
        result = runner.invoke(cli, ["serve", *(values.get(option, option) for option in options), *port])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.usefixtures("quiet_threads")
def test_serve_without_the_extra_says_how_to_install_it(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hotleads

    monkeypatch.setitem(sys.modules, "fastapi", None)  # import fastapi now fails
    monkeypatch.delitem(sys.modules, "hotleads.serve")
    monkeypatch.delattr(hotleads, "serve")  # else `from . import serve` takes the attribute without importing
    result = runner.invoke(cli, ["serve", str(model_dir)])
    assert result.exit_code == 2 and result.stderr.startswith("error: the web service needs FastAPI") and "pip install 'hotleads[serve]'" in result.stderr


def test_sizes() -> None:
    assert parse_size("1.5MB") == 1_500_000 and parse_size("64k") == 64_000 and parse_size("1GiB") == 2**30
    with pytest.raises(ParameterError, match="--max-body must be a size"):
        parse_size("0")


# --- a real server --------------------------------------------------------------------------


class Server:
    """``hotleads serve`` in a subprocess on a free loopback port; its log goes to a file."""

    def __init__(self, model_dir: Path, log: Path, *options: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url, self.log = f"http://127.0.0.1:{self.port}", log
        command = [sys.executable, "-c", "from hotleads.cli import app; app()", "serve", str(model_dir), "--port", str(self.port), *options]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, KEY_VARIABLE: KEY})

    def wait_ready(self, timeout: float = 90, **headers: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", headers=headers, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the server was not ready in {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Two workers, an API key, the default limits."""
    running = Server(model_dir, tmp_path_factory.mktemp("server") / "log.txt", "--workers", "2", "--api-key-env", KEY_VARIABLE)
    try:
        running.wait_ready(**{"X-API-Key": KEY})
        yield running
    finally:
        assert running.stop() == 0, running.log.read_text()


def test_real_server_scores_like_predict_over_http(server: Server, model_dir: Path, holdout_text: list[str], companies: list[dict], tmp_path: Path) -> None:
    table = tmp_path / "companies.csv"
    table.write_bytes(csv_bytes(holdout_text, 25))
    assert (
        runner.invoke(cli, ["predict", str(model_dir), str(table), "--out", str(tmp_path / "s.csv"), "--scores", str(tmp_path / "leads.csv"), "-q"]).exit_code
        == 0
    )
    with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=60) as http:
        served = http.post("/v1/score.csv", content=table.read_bytes(), headers={"content-type": "text/csv"})
        assert served.status_code == 200 and served.content == (tmp_path / "leads.csv").read_bytes()
        scored = http.post("/v1/score", json=companies[:25], headers={"X-Request-ID": "over-http"})
        assert scored.status_code == 200 and scored.headers["x-request-id"] == "over-http" and len(scored.json()["results"]) == 25
        assert http.get("/v1/model").json()["name"] == "gbdt" and http.get("/docs").status_code == 200
        too_big = http.post("/v1/score", content=b"[" + b" " * 10_000_001 + b"]", headers={"content-type": "application/json"})
        assert too_big.status_code == 413 and "--max-body" in too_big.text
    assert httpx.post(f"{server.url}/v1/score", json=companies[:1]).status_code == 401
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    log = server.log.read_text()
    assert "request_id=over-http method=POST path=/v1/score rows=25 status=200" in log and "status=401" in log
    assert KEY not in log and companies[0]["company_name"] not in log


def test_two_workers_answer_a_kept_open_connection_without_waiting_for_the_delayed_ack(server: Server) -> None:
    # uvicorn's shared socket lacked IPPROTO_TCP, so asyncio never set TCP_NODELAY: each answer waited ~40 ms for the client's ACK.
    with httpx.Client(base_url=server.url) as http:
        for _ in range(5):
            http.get("/healthz")
        seconds = []
        for _ in range(30):
            started = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            seconds.append(time.perf_counter() - started)
    assert sorted(seconds)[len(seconds) // 2] < 0.02, f"median {sorted(seconds)[15] * 1000:.1f} ms on a kept-open connection"


def test_sigterm_lets_requests_in_flight_finish(model_dir: Path, holdout_text: list[str], app, tmp_path: Path) -> None:
    server = Server(model_dir, tmp_path / "log.txt", "--limit-concurrency", "1")
    try:
        server.wait_ready()
        rows = as_json(holdout_text, 300, app.state.service.predictor.schema.numeric)
        batch = [{**row, "company_id": f"{row['company_id']}-{copy}"} for copy in range(10) for row in rows]  # 3,000 companies, explained
        answer: dict = {}
        slow = threading.Thread(target=lambda: answer.update(response=post_until_accepted(f"{server.url}/v1/score", batch)))
        slow.start()
        busy = wait_for_503(server)
        assert busy.headers["retry-after"] == "1" and busy.json()["detail"][0]["type"] == "overloaded"
        server.process.send_signal(signal.SIGTERM)
        slow.join(timeout=120)
        assert answer["response"].status_code == 200 and len(answer["response"].json()["results"]) == 3000
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()
    assert "rows=3000 status=200" in server.log.read_text()


def post_until_accepted(url: str, body: list[dict]):
    """A client that honours Retry-After (a probe may hold the one slot for a moment)."""
    while (response := httpx.post(url, json=body, timeout=120)).status_code == 503:
        time.sleep(0.05)
    return response


def wait_for_503(server: Server, timeout: float = 60):
    """The answer to a probe once the slow request holds the only slot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = httpx.get(f"{server.url}/v1/model", timeout=10)
        if probe.status_code == 503:
            return probe
        time.sleep(0.02)
    pytest.fail("the slow request was never seen in flight")


# --- the schema, property-based --------------------------------------------------------------


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# schemathesis's own pytest plugin (schemathesis.pytest.from_fixture) fails under pytest 9 ("'Function' object has no
# attribute '_nodeid'"); each operation's strategy under hypothesis' @given is the same test without it.
@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/score"), ("POST", "/v1/score.csv"), ("GET", "/v1/model"), ("GET", "/readyz"), ("GET", "/healthz")])
def test_no_generated_request_gets_a_server_error(api_schema, method: str, path: str) -> None:
    operation = api_schema[path][method]
    requests = st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode))  # valid requests and every kind of invalid one

    @given(case=requests)
    @settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    def answers_without_a_server_error(case) -> None:
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    answers_without_a_server_error()
