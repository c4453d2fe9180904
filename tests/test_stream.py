"""Tests of chunked scoring (hotleads.stream, io.read_chunks, ``hotleads predict --chunk-rows``).

Scoring in chunks must give, byte for byte, what scoring the table in one piece gives
(:func:`hotleads.scoring.score` on :func:`hotleads.io.read_table`); a problem in a late chunk
must leave no output (nor temporary file) behind and name the file line.
"""

from __future__ import annotations

import csv
import io
import pickle
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from hotleads import cli, scoring, stream, synth
from hotleads.bundle import load_predictor
from hotleads.cli import app
from hotleads.exceptions import DataError, DataWarning, ParameterError
from hotleads.io import locate, read_chunks, read_table
from hotleads.schema import Schema, prepare

runner = CliRunner()
SMALL = 7  # rows per chunk: the 300-row holdout table becomes 43 chunks, the last one short
WHOLE = 1_000_000


def invoke(*args: object) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def assert_ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
    return result


def assert_user_error(result: Result, *fragments: str) -> str:
    """Exit 2, one stderr line ``error: ...`` holding every fragment (beside warnings), no traceback."""
    assert result.exit_code == 2, f"exit {result.exit_code}\nstderr: {result.stderr}\n{result.exception!r}"
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, hidden ones too (a temporary file left behind is a failure)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


@pytest.fixture(scope="module")
def holdout(dataset: Path) -> Path:
    return dataset / "holdout.csv"


@pytest.fixture(scope="module")
def one_piece(model_dir: Path, holdout: Path, tmp_path_factory: pytest.TempPathFactory):
    """(submission bytes, lead list bytes, ScoredTable) of scoring ``path`` in one piece, by the library (cached per argument)."""
    folder = tmp_path_factory.mktemp("one_piece")
    predictor = load_predictor(model_dir)
    done: dict = {}

    def scored(path: Path = holdout, top_k: int | None = None):
        if (path, top_k) not in done:
            with warnings.catch_warnings():  # an export written unlike training is read with a warning: the CLI tests check it once
                warnings.simplefilter("ignore", DataWarning)
                table = scoring.score(predictor, read_table(path), source=str(path), top_k=top_k, explain=True)
            out, leads = folder / f"s{len(done)}.csv", folder / f"l{len(done)}.csv"
            scoring.write_submission(table, out)
            scoring.write_lead_list(table, predictor.schema, leads)
            done[path, top_k] = (out.read_bytes(), leads.read_bytes(), table)
        return done[path, top_k]

    return scored


def predict(model_dir: Path, data: Path, folder: Path, *args: object, out: str = "s.csv", scores: str = "l.csv") -> Result:
    return assert_ok(invoke("predict", model_dir, data, "--out", folder / out, "--scores", folder / scores, "--quiet", *args))


# --- the same outputs as in one piece ---------------------------------------------------------


@pytest.mark.parametrize("top_k", [None, 25])
@pytest.mark.parametrize("chunk_rows", [SMALL, 300, WHOLE])
def test_csv_in_chunks_writes_the_one_piece_bytes(model_dir, holdout, one_piece, tmp_path, chunk_rows, top_k) -> None:
    predict(model_dir, holdout, tmp_path, "--chunk-rows", chunk_rows, *(["--top-k", top_k] if top_k else []))
    submission, leads, table = one_piece(holdout, top_k)
    assert (tmp_path / "s.csv").read_bytes() == submission
    assert (tmp_path / "l.csv").read_bytes() == leads
    if top_k:
        assert table.leads["prediction"].sum() == top_k
        assert pd.read_csv(tmp_path / "s.csv")["Prediction"].sum() == top_k
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.csv", "s.csv"]  # no spilled part left


def test_parquet_input_in_chunks_writes_the_one_piece_bytes(model_dir, holdout, one_piece, tmp_path) -> None:
    data = tmp_path / "in" / "holdout.parquet"
    data.parent.mkdir()
    pd.read_csv(holdout, dtype=str).to_parquet(data, row_group_size=40)  # row groups that do not line up with chunks
    predict(model_dir, data, tmp_path, "--chunk-rows", SMALL)
    submission, leads, _ = one_piece(data)
    assert (tmp_path / "s.csv").read_bytes() == submission
    assert (tmp_path / "l.csv").read_bytes() == leads
    assert submission == one_piece()[0]  # and the Parquet copy scores as the CSV does


def test_a_folder_of_files_scores_as_the_table_they_split(model_dir, holdout, one_piece, tmp_path) -> None:
    header, *body = rows_of(holdout)
    folder = tmp_path / "exports"
    folder.mkdir()
    write_rows(folder / "part-1.csv", [header, *body[:100]])
    pd.DataFrame(body[100:250], columns=header).to_parquet(folder / "part-2.parquet")
    write_rows(folder / "part-3.csv", [header, *body[250:]])
    (folder / "notes.md").write_text("not a table\n")
    predict(model_dir, folder, tmp_path, "--chunk-rows", SMALL)
    submission, leads, _ = one_piece()
    assert (tmp_path / "s.csv").read_bytes() == submission
    assert (tmp_path / "l.csv").read_bytes() == leads


def test_a_pattern_names_the_files(model_dir, holdout, one_piece, tmp_path) -> None:
    header, *body = rows_of(holdout)
    for k in range(3):
        write_rows(tmp_path / f"week-{k}.csv", [header, *body[100 * k : 100 * (k + 1)]])
    predict(model_dir, tmp_path / "week-*.csv", tmp_path, "--chunk-rows", 30)
    assert (tmp_path / "s.csv").read_bytes() == one_piece()[0]


@pytest.mark.parametrize("style", ["us-formatted", "european", "us-dates", "day-first-dates", "cp1252", "utf16-tab", "excel"])
def test_exports_read_in_chunks_as_in_one_piece(model_dir, holdout, one_piece, tmp_path, style) -> None:
    """Formats other than training's are decided by the first chunk, as one piece decides them; encodings are streamed."""
    data = synth.write_export(pd.read_csv(holdout, dtype=str, keep_default_na=False), tmp_path / f"export{synth.EXPORT_STYLES[style]}", style)
    predict(model_dir, data, tmp_path, "--chunk-rows", SMALL)
    submission, leads, _ = one_piece(data)
    assert (tmp_path / "s.csv").read_bytes() == submission
    assert (tmp_path / "l.csv").read_bytes() == leads


def test_parquet_outputs_hold_the_one_piece_tables(model_dir, holdout, one_piece, tmp_path) -> None:
    predict(model_dir, holdout, tmp_path, "--chunk-rows", SMALL, out="s.parquet", scores="l.parquet")
    _, _, table = one_piece()
    schema = load_predictor(model_dir).schema
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s.parquet"), table.submission(), check_dtype=False)
    expected = table.lead_list(schema).reset_index(drop=True)
    written = pd.read_parquet(tmp_path / "l.parquet")
    assert list(written.columns) == list(expected.columns)
    assert written["rank"].tolist() == list(range(1, len(expected) + 1))
    pd.testing.assert_frame_equal(written.astype(object).fillna(""), expected.astype(object).fillna(""))


def test_top_leads_are_the_whole_tables_best(model_dir, holdout, tmp_path) -> None:
    printed = [
        assert_ok(invoke("predict", model_dir, holdout, "--out", tmp_path / "s.csv", "--top", 5, "--chunk-rows", rows)).stdout for rows in (SMALL, WHOLE)
    ]
    assert printed[0] == printed[1]
    assert "Top 5 of 300 companies" in printed[0]
    assert "wrote" in printed[0]


def test_an_excel_lead_list_holds_the_one_piece_rows(model_dir, holdout, one_piece, tmp_path) -> None:
    predict(model_dir, holdout, tmp_path, "--chunk-rows", SMALL, scores="l.xlsx")
    text = {"company_id": str, "name": str, "reason_1": str, "reason_2": str, "reason_3": str}
    expected = pd.read_csv(io.BytesIO(one_piece()[1]), dtype=text).fillna("")
    pd.testing.assert_frame_equal(pd.read_excel(tmp_path / "l.xlsx", dtype=text).fillna(""), expected)


def test_progress_shows_rows_rate_and_time_left(model_dir, holdout, tmp_path, monkeypatch) -> None:
    shown = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=shown, force_terminal=True, width=120))
    assert_ok(invoke("predict", model_dir, holdout, "--out", tmp_path / "s.csv", "--chunk-rows", 100))
    assert "300 rows" in shown.getvalue() and "rows/s" in shown.getvalue()
    quiet = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=quiet, force_terminal=True, width=120))
    assert_ok(invoke("predict", model_dir, holdout, "--out", tmp_path / "s.csv", "--chunk-rows", 100, "--quiet"))
    assert quiet.getvalue() == ""


def test_warnings_are_given_once_not_per_chunk(model_dir, holdout, tmp_path) -> None:
    rows = rows_of(holdout)
    for k, row in enumerate(rows):
        row.append("note" if k == 0 else f"x{k}")
    data = write_rows(tmp_path / "extra.csv", rows)
    result = assert_ok(invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--chunk-rows", SMALL, "--quiet"))
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and warned[0].endswith("does not use: note"), result.stderr


def test_categories_not_seen_in_training_are_counted_once_over_the_chunks(model_dir, holdout, tmp_path) -> None:
    """Unseen categories in several chunks: the one warning of the table in one piece, their rows added up, not one per chunk."""
    rows = rows_of(holdout)
    column = rows[0].index("industry")
    for k, value in [(1, "Mining"), (2, "Biotech"), (150, "Mining"), (300, "Aerospace")]:  # in the first, a middle and the last chunk
        rows[k][column] = value
    data = write_rows(tmp_path / "unseen.csv", rows)
    warned = {}
    for chunk_rows in (SMALL, WHOLE):
        result = predict(model_dir, data, tmp_path, "--chunk-rows", chunk_rows, out=f"s{chunk_rows}.csv", scores=f"l{chunk_rows}.csv")
        warned[chunk_rows] = [line for line in result.stderr.splitlines() if "not seen in training" in line]
    assert (
        warned[SMALL]
        == warned[WHOLE]
        == [f"warning: {data}: column 'industry': 4 row(s) have categories not seen in training (['Aerospace', 'Biotech', 'Mining']); scored as unknown"]
    )


def test_a_warning_counting_rows_is_given_once_with_every_parts_counts_added() -> None:
    """Each part of a table (a chunk; a Dask partition, pickled on its way to the client) counts its own rows in a
    CountedWarning: the table gets the one warning it gets in one piece, not one per part with each part's counts."""
    values = ["Hot", "Warm", "Cold", "Warm", "Open", "Warm", "Hot", "Cold"]
    frame = pd.DataFrame({"company_id": [f"C{i}" for i in range(8)], "funding_rounds": ["1"] * 8, "is_hot_lead": values})
    schema = Schema(target="is_hot_lead", id="company_id", numeric=["funding_rounds"], positive=["Hot"], labels=["Cold", "Hot"])
    with pytest.warns(DataWarning) as whole:
        prepare(frame, schema, source="t.csv", labelled=True)
    with pytest.warns(DataWarning) as parts, stream.warnings_once():
        prepare(frame.iloc[:2], schema, source="t.csv", labelled=True)  # 'Warm' (1 row)
        warnings.warn("t.csv: a warning without counts", DataWarning, stacklevel=1)
        with warnings.catch_warnings(record=True) as worker:
            warnings.simplefilter("always")
            prepare(frame.iloc[2:], schema, source="t.csv", labelled=True)  # 'Warm' (2 rows), 'Open' (1 row)
        warnings.warn(pickle.loads(pickle.dumps(worker[0].message)), stacklevel=1)  # as a Dask worker's warning reaches the client
        warnings.warn("t.csv: a warning without counts", DataWarning, stacklevel=1)
    assert "'Warm' (3 rows), 'Open' (1 row);" in str(whole[0].message)
    assert [str(w.message) for w in parts] == [str(whole[0].message), "t.csv: a warning without counts"]


def test_the_first_chunk_settles_number_formats_for_the_file(model_dir, holdout, tmp_path, monkeypatch) -> None:
    """Later chunks read numbers as the first one decided, without sampling each chunk to guess again."""
    from hotleads import schema as schema_module

    guesses = []
    original = schema_module.number_format_here
    monkeypatch.setattr(stream, "number_format_here", lambda frame, name, *a, **k: guesses.append(name) or original(frame, name, *a, **k))
    monkeypatch.setattr(schema_module, "number_format_here", lambda frame, name, *a, **k: guesses.append(name) or original(frame, name, *a, **k))
    predict(model_dir, holdout, tmp_path, "--chunk-rows", SMALL)
    numeric = load_predictor(model_dir).schema.numeric
    assert len(rows_of(holdout)) - 1 > 3 * SMALL  # several chunks
    assert Counter(guesses) == dict.fromkeys(numeric, 2)  # by the first chunk only: settling it, then scoring it as one piece would


def test_percent_signs_first_seen_in_a_later_chunk_are_warned_about_as_in_one_piece(model_dir, holdout, tmp_path) -> None:
    rows = rows_of(holdout)
    column = rows[0].index("employee_growth_pct")
    rows[200][column] += "%"
    data = write_rows(tmp_path / "percent.csv", rows)
    warned = {}
    for chunk_rows in (SMALL, WHOLE):
        result = assert_ok(invoke("predict", model_dir, data, "--out", tmp_path / f"s{chunk_rows}.csv", "--chunk-rows", chunk_rows, "--quiet"))
        warned[chunk_rows] = [line for line in result.stderr.splitlines() if "percent signs here but without them in training" in line]
    assert len(warned[SMALL]) == 1 and warned[SMALL] == warned[WHOLE]


def test_tables_without_id_number_rows_across_chunks(model_dir, holdout, tmp_path) -> None:
    data = tmp_path / "no_id.csv"
    pd.read_csv(holdout, dtype=str).drop(columns="company_id").to_csv(data, index=False)
    result = predict(model_dir, data, tmp_path, "--chunk-rows", SMALL)
    assert pd.read_csv(tmp_path / "s.csv")["Id"].tolist() == list(range(300))
    assert result.stderr.count("using 0-based row numbers") == 1


# --- errors in a late chunk leave nothing behind ----------------------------------------------


def test_an_id_repeated_in_a_later_chunk_names_both_lines(model_dir, holdout, tmp_path) -> None:
    rows = rows_of(holdout)
    rows[-1][0] = rows[1][0]  # the last row (line 301) repeats the first one's id (line 2)
    data = write_rows(tmp_path / "dup.csv", rows)
    before = files_in(tmp_path)
    result = invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--scores", tmp_path / "l.csv", "--chunk-rows", SMALL)
    assert_user_error(result, "dup.csv", "company_id", f"'{rows[1][0]}'", "(line 2, line 301)", "ids must be unique")
    assert files_in(tmp_path) == before


def test_an_id_repeated_in_another_file_names_that_file(model_dir, holdout, tmp_path) -> None:
    header, *body = rows_of(holdout)
    folder = tmp_path / "exports"
    folder.mkdir()
    write_rows(folder / "a.csv", [header, *body[:10]])
    write_rows(folder / "b.csv", [header, *body[10:20], body[3]])
    result = invoke("predict", model_dir, folder, "--out", tmp_path / "s.csv", "--chunk-rows", SMALL)
    assert_user_error(result, "b.csv", f"'{body[3][0]}'", f"{folder / 'a.csv'} line 5", "line 12")
    assert not (tmp_path / "s.csv").exists()


def test_a_bad_value_in_the_last_chunk_names_its_line_and_writes_nothing(model_dir, holdout, tmp_path) -> None:
    rows = rows_of(holdout)
    rows[-1][rows[0].index("job_postings_30d")] = "lots"
    data = write_rows(tmp_path / "late.csv", rows)
    out = tmp_path / "s.csv"
    out.write_text("Id,Prediction\nkept,1\n")  # an earlier good output is not overwritten
    before = files_in(tmp_path)
    result = invoke("predict", model_dir, data, "--out", out, "--scores", tmp_path / "l.parquet", "--chunk-rows", SMALL)
    assert_user_error(result, "late.csv", "'job_postings_30d'", "'lots' at line 301")
    assert files_in(tmp_path) == before


def test_a_bad_value_in_a_later_chunk_is_worded_as_in_one_piece(model_dir, holdout, tmp_path) -> None:
    """The format the first chunk settles is no --decimal-point the user gave: a word in a later chunk is text in a numeric
    column, as scoring the table in one piece says, not a value of a decimal option the model was never trained with."""
    rows = rows_of(holdout)
    rows[-1][rows[0].index("funding_rounds")] = "abc"
    data = write_rows(tmp_path / "late.csv", rows)
    said = {
        n: assert_user_error(invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--chunk-rows", n), "'abc' at line 301") for n in (SMALL, WHOLE)
    }
    assert said[SMALL] == said[WHOLE]
    assert "column 'funding_rounds' is numeric but has text" in said[SMALL] and "--decimal" not in said[SMALL]


def test_file_lines_count_quoted_line_breaks_and_blank_lines(model_dir, holdout, tmp_path) -> None:
    rows = rows_of(holdout)
    name = rows[0].index("company_name")
    rows[2][name] = "Smith\nand Sons"  # record 2 spans lines 3-4
    rows[-1][rows[0].index("job_postings_30d")] = "lots"
    data = write_rows(tmp_path / "multi.csv", rows)
    data.write_text(data.read_text().replace("\nCOMP_000100,", "\n\nCOMP_000100,"))  # and a blank line before line 103
    result = invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--chunk-rows", SMALL)
    assert_user_error(result, "'lots' at line 303")
    assert not (tmp_path / "s.csv").exists()


def test_a_ragged_row_in_a_later_chunk_is_refused(model_dir, holdout, tmp_path) -> None:
    rows = rows_of(holdout)
    rows[200] = rows[200][:-2]
    data = write_rows(tmp_path / "ragged.csv", rows)
    result = invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--chunk-rows", SMALL)
    assert_user_error(result, "ragged.csv", "line 201 has 12 fields", "the header has 14")
    assert not (tmp_path / "s.csv").exists()


def test_dates_a_later_chunk_reads_another_way_are_refused_not_read_two_ways(model_dir, holdout, tmp_path) -> None:
    """D/M/YYYY dates whose first chunk has days of 12 or less only: that chunk reads them month first."""
    frame = pd.read_csv(holdout, dtype=str, keep_default_na=False)
    dates = pd.to_datetime(frame["last_funding_date"])
    dates.iloc[:SMALL] = dates.iloc[:SMALL].map(lambda d: d.replace(day=min(d.day, 12)))
    frame["last_funding_date"] = [f"{d.day}/{d.month}/{d.year}" for d in dates]
    data = tmp_path / "dmy.csv"
    frame.to_csv(data, index=False)
    result = invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--chunk-rows", SMALL)
    assert_user_error(result, "column 'last_funding_date'", "M/D/YYYY", "from line 9 on read only as D/M/YYYY", "--chunk-rows")
    assert not (tmp_path / "s.csv").exists()
    predict(model_dir, data, tmp_path, "--chunk-rows", WHOLE)  # in one chunk the whole column settles it


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_chunk_rows_must_be_a_positive_integer(model_dir, holdout, tmp_path, value) -> None:
    result = invoke("predict", model_dir, holdout, "--out", tmp_path / "s.csv", "--chunk-rows", value)
    assert_user_error(result, "--chunk-rows")
    assert not (tmp_path / "s.csv").exists()


# --- the library ------------------------------------------------------------------------------


def test_chunks_are_the_frame_read_table_gives(holdout, tmp_path) -> None:
    whole = read_table(holdout)
    chunks = list(read_chunks(holdout, chunk_rows=SMALL))
    assert [len(c) for c in chunks] == [SMALL] * 42 + [300 - 42 * SMALL]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
    assert locate(chunks[-1], 0) == locate(whole, 42 * SMALL) == f"line {42 * SMALL + 2}"
    assert {c.attrs["source"] for c in chunks} == {str(holdout)}
    assert chunks[-1].attrs["read"] == 1.0


def test_score_file_refuses_bad_counts(model_dir, holdout, tmp_path) -> None:
    predictor = load_predictor(model_dir)
    with pytest.raises(ParameterError, match=r"--chunk-rows must be a positive number of rows; got 0\."):
        stream.score_file(predictor, holdout, tmp_path / "s.csv", chunk_rows=0)
    with pytest.raises(ParameterError, match="--top-k must be a positive"):
        stream.score_file(predictor, holdout, tmp_path / "s.csv", top_k=0)
    with pytest.raises(DataError, match="no such file"):
        stream.score_file(predictor, tmp_path / "nope.csv", tmp_path / "s.csv")
    assert list(tmp_path.iterdir()) == []


def test_score_file_reports_progress_and_the_best_rows(model_dir, holdout, one_piece, tmp_path) -> None:
    seen: list[tuple[int, float]] = []
    result = stream.score_file(load_predictor(model_dir), holdout, tmp_path / "s.csv", top=3, chunk_rows=100, progress=lambda *a: seen.append(a))
    assert [rows for rows, _ in seen] == [100, 200, 300]
    assert all(0 < share <= 1 for _, share in seen) and seen[-1][1] == 1.0
    table = one_piece()[2]
    expected = table.leads.nsmallest(3, "rank")
    assert result.rows == 300 and result.hot == int(table.leads["prediction"].sum())
    assert result.top["Id"].tolist() == expected["Id"].tolist()
    assert result.top["rank"].tolist() == [1, 2, 3]
    assert np.array_equal(result.top["probability"].to_numpy(), expected["probability"].to_numpy())
