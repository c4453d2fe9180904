"""Tests of scoring on a Dask cluster (hotleads.cluster, hotleads.pieces, ``predict/evaluate --engine dask``).

One real cluster serves the module: two worker processes of one thread each, on the loopback.
What it writes must be, byte for byte, what the local streaming path writes (itself tested
against scoring in one piece in test_stream.py); a problem in a late partition must leave no
output behind and name the file line.
"""

from __future__ import annotations

import importlib
import json
import logging
import socket
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from hotleads import bundle, cluster, pieces, scoring, stream, synth
from hotleads.cli import app
from hotleads.exceptions import DataWarning, ParameterError
from hotleads.io import locate, read_chunks, read_table
from hotleads.training import TrainOptions, train

runner = CliRunner()
ROWS = 2000
CHUNK = 400  # rows per partition: the Parquet folder's 4 files become 8 partitions, the CSV about 5 byte ranges


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


@pytest.fixture(scope="module")
def client():
    """A client of a real two-worker cluster (processes, one thread each, loopback, no dashboard), closed after the module."""
    options = {"threads_per_worker": 1, "processes": True, "host": "127.0.0.1", "dashboard_address": None, "silence_logs": logging.ERROR}
    with cluster.LocalCluster(n_workers=2, env=cluster.WORKER_ENV, **options) as local, cluster.Client(local) as client:
        yield client


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same generated companies (ROWS, no target) as one CSV and as a folder of 4 Parquet files of text columns; and labelled, as a CSV."""
    folder = tmp_path_factory.mktemp("tables")
    labelled, _ = synth.make_companies(ROWS, seed=7, clean_counts=True)
    labelled["company_id"] = [f"COMP_{i:06d}" for i in range(ROWS)]
    labelled.to_csv(folder / "labelled.csv", index=False)
    companies = labelled.drop(columns=synth.TARGET)
    companies.to_csv(folder / "companies.csv", index=False)
    (folder / "parquet").mkdir()
    text = companies.astype(str).where(companies.notna(), None)  # as an export holds it
    for k, rows in enumerate(np.array_split(np.arange(ROWS), 4)):
        text.iloc[rows].to_parquet(folder / "parquet" / f"part-{k}.parquet", index=False)
    return {"csv": folder / "companies.csv", "parquet": folder / "parquet", "labelled": folder / "labelled.csv"}


@pytest.fixture(scope="module")
def local(model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """(submission bytes, lead list bytes) of the local streaming path, by output suffix and --top-k (cached)."""
    folder = tmp_path_factory.mktemp("local")
    predictor = bundle.load_predictor(model_dir)
    done: dict = {}

    def written(data: Path, suffix: str = ".csv", top_k: int | None = None) -> tuple[bytes, bytes]:
        if (data, suffix, top_k) not in done:
            out, leads = folder / f"s{len(done)}{suffix}", folder / f"l{len(done)}{suffix}"
            stream.score_file(predictor, data, out, scores=leads, top_k=top_k, chunk_rows=CHUNK)
            done[data, suffix, top_k] = (out.read_bytes(), leads.read_bytes())
        return done[data, suffix, top_k]

    return written


# --- the local path's outputs, byte for byte ------------------------------------------------


@pytest.mark.parametrize(("kind", "suffix", "top_k"), [("parquet", ".csv", None), ("csv", ".parquet", 50)])
def test_partitions_write_the_local_bytes(model_dir, tables, local, client, tmp_path, kind, suffix, top_k) -> None:
    data = tables[kind]
    out, leads = tmp_path / f"s{suffix}", tmp_path / f"l{suffix}"
    result = cluster.score_file(model_dir, data, out, scores=leads, top=3, top_k=top_k, chunk_rows=CHUNK, client=client)
    assert (out.read_bytes(), leads.read_bytes()) == local(data, suffix, top_k)
    assert result.rows == ROWS and result.partitions == (8 if kind == "parquet" else len(pieces.plan(data, rows=CHUNK)))
    assert result.partitions > 3  # several partitions, so ranks and labels had to be global
    written = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert result.hot == written["Prediction"].sum() == (top_k or result.hot)
    assert result.top["rank"].tolist() == [1, 2, 3] and result.top["reason_1"].str.len().gt(0).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, leads.name])  # no staging folder left


def test_without_ids_rows_of_separators_keep_their_row_numbers_across_partitions(model_dir, tables, local, client, tmp_path) -> None:
    """A table without ids numbers its rows as its file does: rows of bare separators (a piece made only of them included) keep
    their numbers, on the cluster as on this machine."""
    lines = tables["csv"].read_text().splitlines(keepends=True)
    header, rows = lines[0].split(",", 1)[1], [line.split(",", 1)[1] for line in lines[1:]]
    empty = "," * header.count(",") + "\n"
    data = tmp_path / "noid.csv"
    data.write_text(header + "".join(rows[:10]) + empty + "".join(rows[10:700]) + empty * 600 + "".join(rows[700:]) + empty * 2)
    out, leads = tmp_path / "s.csv", tmp_path / "l.csv"
    with pytest.warns(DataWarning, match="no id column 'company_id'"):
        cluster.score_file(model_dir, data, out, scores=leads, chunk_rows=CHUNK, client=client)
    assert pd.read_csv(out)["Id"].tolist() == [*range(10), *range(11, 701), *range(1301, ROWS + 601)]
    with pytest.warns(DataWarning, match="no id column 'company_id'"):
        expected = local(data)
    assert out.read_text().splitlines() == expected[0].decode().splitlines()
    assert leads.read_bytes() == expected[1]


def test_the_command_line_scores_on_a_running_cluster(model_dir, tables, local, client, tmp_path) -> None:
    out, leads, parts = tmp_path / "s.csv", tmp_path / "l.csv", tmp_path / "parts"
    result = assert_ok(
        invoke("predict", model_dir, tables["parquet"], "--out", out, "--scores", leads, "--chunk-rows", CHUNK, "--top", 2,
               "--engine", "dask", "--scheduler", client.scheduler.address, "--partitioned", parts)
    )  # fmt: skip
    assert (out.read_bytes(), leads.read_bytes()) == local(tables["parquet"])
    assert f"Top 2 of {ROWS} companies" in result.stdout and f"8 partitions in {parts}/" in " ".join(result.stdout.split())
    submission = [pd.read_parquet(p) for p in sorted((parts / "submission").iterdir())]
    assert [p.name for p in sorted((parts / "submission").iterdir())] == [f"part-{k:05d}.parquet" for k in range(8)]
    pd.testing.assert_frame_equal(pd.concat(submission, ignore_index=True), pd.read_csv(out, dtype={"Id": str}), check_dtype=False)
    ranked = pd.concat([pd.read_parquet(p) for p in sorted((parts / "leads").iterdir())], ignore_index=True)
    assert len(list((parts / "leads").iterdir())) == ROWS // CHUNK and ranked["rank"].tolist() == list(range(1, ROWS + 1))
    assert ranked["company_id"].tolist() == pd.read_csv(leads)["company_id"].tolist()


def test_above_the_single_file_limit_only_the_parts_are_written(model_dir, tables, client, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(cluster, "SINGLE_FILE_MAX_ROWS", ROWS - 1)
    result = cluster.score_file(model_dir, tables["parquet"], tmp_path / "s.csv", chunk_rows=1000, partitioned=tmp_path / "parts", client=client)
    assert not result.single_files and result.partitions == 4
    assert sorted(files_in(tmp_path)) == [f"parts/submission/part-{k:05d}.parquet" for k in range(4)]


def test_evaluate_gives_the_local_metrics(model_dir, tables, client) -> None:
    data, model = tables["labelled"], bundle.load(model_dir)
    expected = scoring.evaluate(model, scoring.score(model.predictor, read_table(data), source=str(data), labelled=True))
    assert cluster.evaluate_file(model_dir, data, chunk_rows=CHUNK, client=client) == expected
    result = assert_ok(invoke("evaluate", model_dir, data, "--json", "--engine", "dask", "--scheduler", client.scheduler.address))
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))


def test_the_model_travels_as_bytes_and_loads_once_per_worker(model_dir, tables, client, tmp_path) -> None:
    shipped = cluster.model_files(model_dir)
    assert set(shipped["files"]) == {"manifest.json", "predictor.json", *(f"models/{p.name}" for p in (model_dir / "models").iterdir())}
    cluster.score_file(model_dir, tables["parquet"], tmp_path / "s.csv", chunk_rows=1000, client=client)
    loaded = [keys for keys in client.run(lambda: [key for key, _ in cluster._PREDICTORS]).values() if keys]
    assert loaded and all(keys == [shipped["key"]] for keys in loaded), loaded  # loaded once, kept for the next partitions


@pytest.mark.parametrize("negative", [[], ["Cold"]], ids=["unseen-labels", "left-out"])
def test_a_warning_counting_rows_is_given_once_with_the_whole_tables_counts(negative, dataset, tables, client, tmp_path) -> None:
    """evaluate: a warning that counts rows ('Warm' (6 rows)) comes once, with the counts of the table read whole, not once per
    partition with that partition's counts (nor again for the first chunk, read on the client to settle the formats)."""
    hot_cold = {"1": "Hot", "0": "Cold"}
    training = read_table(dataset / "train.csv")
    training["is_hot_lead"] = training["is_hot_lead"].map(hot_cold)
    model = bundle.save(train(training, TrainOptions(models=["logreg"], folds=2), positive=["Hot"], negative=negative), tmp_path / "model")
    frame = pd.read_csv(tables["labelled"], dtype=str, keep_default_na=False)
    frame["is_hot_lead"] = frame["is_hot_lead"].map(hot_cold)
    frame.loc[[0, 1, 2, 3, 4, ROWS - 300], "is_hot_lead"] = "Warm"  # five in the first partition, one in a late one
    frame.loc[ROWS - 1, "is_hot_lead"] = "Open"
    data = tmp_path / "labelled.csv"
    frame.to_csv(data, index=False)
    assert len(pieces.plan(data, rows=CHUNK)) > 2
    with warnings.catch_warnings(record=True) as local:
        warnings.simplefilter("always")
        loaded = bundle.load(model)
        expected = scoring.evaluate(loaded, scoring.score(loaded.predictor, read_table(data), source=str(data), labelled=True))
    with warnings.catch_warnings(record=True) as dask:
        warnings.simplefilter("always")
        assert cluster.evaluate_file(model, data, chunk_rows=CHUNK, client=client) == expected
    [message] = [str(w.message) for w in local]
    assert "left out 7 row(s)" in message if negative else "did not have: 'Warm' (6 rows), 'Open' (1 row);" in message, message
    assert [str(w.message) for w in dask] == [message]


def test_a_model_with_a_history_scores_on_the_cluster_as_on_this_machine(client, tmp_path) -> None:
    """`predict --history --engine dask`: the history goes once to every worker and joins each partition there; the
    bytes are the local path's, with a cnn reading the months (windows, bagged fold models, explanations)."""
    from test_history import _tables  # tests/test_history.py: companies whose label is a rise over the months

    companies, history = _tables(tmp_path, n=300)
    model = tmp_path / "model"
    args = ["--history", str(history)]
    assert_ok(invoke("train", companies, "--out", model, "--models", "gbdt,cnn", "--epochs", 2, "--folds", 2, *args, "--quiet"))
    assert_ok(invoke("predict", model, companies, "--out", tmp_path / "local.csv", "--scores", tmp_path / "local-leads.csv", *args))
    assert_ok(invoke("predict", model, companies, "--out", tmp_path / "dask.csv", "--scores", tmp_path / "dask-leads.csv", "--chunk-rows", 70,
                     "--engine", "dask", "--scheduler", client.scheduler.address, *args))  # fmt: skip
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert (tmp_path / "dask-leads.csv").read_bytes() == (tmp_path / "local-leads.csv").read_bytes()
    metrics = invoke("evaluate", model, companies, "--json", "--engine", "dask", "--scheduler", client.scheduler.address, *args)
    assert json.loads(assert_ok(metrics).stdout) == json.loads(assert_ok(invoke("evaluate", model, companies, "--json", *args)).stdout)
    missing = invoke("predict", model, companies, "--out", tmp_path / "x.csv", "--engine", "dask", "--scheduler", client.scheduler.address)
    assert_user_error(missing, "--history: this model was trained with a monthly history")
    dask = ["--engine", "dask", "--scheduler", client.scheduler.address]
    for command in (["predict", model, companies, "--out", tmp_path / "late.csv"], ["evaluate", model, companies]):  # as the local path says it
        late = assert_ok(invoke(*command, *args, "--as-of", "2030-01", *dask))
        assert "no company scored has a month in its window" in late.stderr and "scored from their own columns alone" in " ".join(late.stderr.split())


# --- errors: one line, nothing written ------------------------------------------------------


def test_a_bad_value_in_a_later_csv_partition_names_its_line_and_writes_nothing(model_dir, tables, client, tmp_path) -> None:
    frame = pd.read_csv(tables["csv"], dtype=str, keep_default_na=False)
    frame.loc[ROWS - 1, "job_postings_30d"] = "lots"
    data = tmp_path / "late.csv"
    frame.to_csv(data, index=False)
    (tmp_path / "s.csv").write_text("Id,Prediction\nkept,1\n")  # an earlier good output is not overwritten
    before = files_in(tmp_path)
    result = invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--scores", tmp_path / "l.csv", "--partitioned", tmp_path / "parts",
                    "--chunk-rows", CHUNK, "--engine", "dask", "--scheduler", client.scheduler.address)  # fmt: skip
    said = assert_user_error(result, "late.csv", "column 'job_postings_30d' is numeric but has text", f"'lots' at line {ROWS + 1}")
    assert "--decimal" not in said  # the first chunk's settled format is no option the model was trained with
    assert files_in(tmp_path) == before


def test_a_warning_of_reading_a_piece_is_the_clients_one_line_on_stderr(model_dir, tables, tmp_path) -> None:
    """A footer is found where the last piece is read, on a worker: its warning was printed there raw (Python's
    ``file:line: ReadingWarning: ...`` and the source line) besides the client's ``warning:`` line."""
    import subprocess

    text = Path(tables["csv"]).read_text()
    (tmp_path / "foot.csv").write_text(text + "\nConfidential Information - Do Not Distribute\n")
    command = [
        sys.executable,
        "-c",
        "from hotleads.cli import app; app()",
        "predict",
        str(model_dir),
        str(tmp_path / "foot.csv"),
        "--out",
        str(tmp_path / "s.csv"),
    ]
    done = subprocess.run([*command, "--engine", "dask", "--dask-workers", "1", "--chunk-rows", str(CHUNK), "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "a report's footer" in lines[0], done.stderr


def test_a_user_error_on_the_local_cluster_is_one_line_on_stderr(model_dir, tables, tmp_path) -> None:
    """The workers of hotleads' own cluster write to the terminal: a partition's DataError is the client's one line, no worker log."""
    import subprocess

    frame = pd.read_csv(tables["csv"], dtype=str, keep_default_na=False)
    frame.loc[ROWS - 1, "job_postings_30d"] = "lots"
    frame.to_csv(tmp_path / "late.csv", index=False)
    command = [
        sys.executable,
        "-c",
        "from hotleads.cli import app; app()",
        "predict",
        str(model_dir),
        str(tmp_path / "late.csv"),
        "--out",
        str(tmp_path / "s.csv"),
    ]
    done = subprocess.run([*command, "--engine", "dask", "--dask-workers", "1", "--chunk-rows", str(CHUNK), "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and f"'lots' at line {ROWS + 1}" in done.stderr, done.stderr


def test_an_id_repeated_in_another_partition_names_both_rows(model_dir, tables, client, tmp_path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for source in sorted(tables["parquet"].iterdir()):
        frame = pd.read_parquet(source)
        if source.name == "part-3.parquet":
            frame.loc[frame.index[-1], "company_id"] = "COMP_000004"  # the first file's fifth row
        frame.to_parquet(folder / source.name, index=False)
    result = invoke(
        "predict", model_dir, folder, "--out", tmp_path / "s.csv", "--chunk-rows", CHUNK, "--engine", "dask", "--scheduler", client.scheduler.address
    )
    assert_user_error(result, "part-3.parquet", "'COMP_000004'", f"({folder / 'part-0.parquet'} row 5, row {ROWS // 4})", "ids must be unique")
    assert not (tmp_path / "s.csv").exists()


def test_scheduler_needs_the_dask_engine(model_dir, tables, tmp_path) -> None:
    result = invoke("predict", model_dir, tables["csv"], "--out", tmp_path / "s.csv", "--scheduler", "tcp://127.0.0.1:8786")
    assert_user_error(result, "--scheduler applies to --engine dask", "add --engine dask")
    assert_user_error(invoke("evaluate", model_dir, tables["labelled"], "--dask-workers", 2), "--dask-workers applies to --engine dask")
    assert_user_error(invoke("predict", model_dir, tables["csv"], "--engine", "spark"), "--engine must be local or dask; got 'spark'")


def test_an_unreachable_scheduler_is_named_with_the_fix(model_dir, tables, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    result = invoke("predict", model_dir, tables["csv"], "--out", tmp_path / "s.csv", "--engine", "dask", "--scheduler", address)
    assert_user_error(result, f"--scheduler {address}: no Dask scheduler answered within 1 s", "`dask scheduler`", "leave out --scheduler")
    assert list(tmp_path.iterdir()) == []


def test_a_partitioned_folder_that_is_not_ours_is_refused(model_dir, tables, tmp_path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "keep.csv").write_text("a\n1\n")
    result = invoke("predict", model_dir, tables["csv"], "--out", tmp_path / "s.csv", "--engine", "dask", "--partitioned", tmp_path / "data")
    assert_user_error(result, f"--partitioned {tmp_path / 'data'}: exists and is not a hotleads partitioned output")
    assert_user_error(invoke("predict", model_dir, tables["csv"], "--partitioned", tmp_path / "p"), "--partitioned applies to --engine dask")


def test_urls_are_refused_with_the_fix(model_dir, tmp_path) -> None:
    with pytest.raises(ParameterError, match=r"s3:/bucket/exports: hotleads reads tables from a file system, not from URLs; copy the files"):
        cluster.score_file(model_dir, Path("s3://bucket/exports"), tmp_path / "s.csv")
    assert list(tmp_path.iterdir()) == []


def test_without_dask_the_error_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # an import of it fails, as when the extra is missing
    monkeypatch.delitem(sys.modules, "hotleads.cluster")
    with pytest.raises(ParameterError, match=r"install them with: pip install 'hotleads\[dask\]'"):
        importlib.import_module("hotleads.cluster")


# --- a cluster of its own, and the pieces -----------------------------------------------------


def test_without_a_scheduler_a_local_cluster_is_started_and_closed(model_dir, dataset, tmp_path) -> None:
    data = dataset / "holdout.csv"
    assert_ok(invoke("predict", model_dir, data, "--out", tmp_path / "s.csv", "--engine", "dask", "--dask-workers", 1, "--quiet"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = scoring.score(bundle.load_predictor(model_dir), read_table(data), source=str(data)).submission()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "s.csv", dtype={"Id": str}), expected, check_dtype=False)


@pytest.mark.parametrize("style", sorted(synth.EXPORT_STYLES))
def test_pieces_of_every_export_style_read_as_read_chunks_reads(tables, tmp_path, style) -> None:
    text = pd.read_csv(tables["csv"], dtype=str, keep_default_na=False)
    data = synth.write_export(text, tmp_path / f"export{synth.EXPORT_STYLES[style]}", style)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # cp1252 is read with a warning (test_io checks it)
        planned = pieces.plan(data, rows=CHUNK)
        frames = [piece.read() for piece in planned]
        chunks = list(read_chunks(data, chunk_rows=CHUNK))
    assert len(planned) > 1 or style in ("utf16-tab", "excel")  # byte ranges, but for UTF-16 and workbooks: read whole
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), pd.concat(chunks, ignore_index=True))
    assert locate(frames[-1], len(frames[-1]) - 1) == locate(chunks[-1], len(chunks[-1]) - 1)


def test_pieces_read_the_rows_read_chunks_reads(tables) -> None:
    for data in (tables["csv"], tables["parquet"]):
        planned = pieces.plan(data, rows=CHUNK)
        frames = [piece.read() for piece in planned]
        pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), pd.concat(read_chunks(data, chunk_rows=CHUNK), ignore_index=True))
        assert locate(frames[-1], len(frames[-1]) - 1) == (f"line {ROWS + 1}" if data.suffix == ".csv" else f"row {ROWS // 4}")
        partition = cluster.as_dataframe(planned, frames[0].iloc[:0]).partitions[1].compute(scheduler="sync")
        pd.testing.assert_frame_equal(partition, frames[1])  # Dask keeps the text as read (no string[pyarrow] with pd.NA)
        assert partition.attrs.keys() == frames[1].attrs.keys()


def test_a_partitioned_folder_holding_the_table_being_scored_is_refused(tmp_path) -> None:
    (tmp_path / "p" / "submission").mkdir(parents=True)
    (tmp_path / "p" / "submission" / "part-00000.parquet").write_bytes(b"")  # as a previous --partitioned run left it
    for data in (tmp_path / "p" / "submission", tmp_path / "p" / "submission" / "*.parquet"):
        with pytest.raises(ParameterError, match=r"holds the table being scored .*, which replacing the folder would remove; choose another folder"):
            cluster.check_partitioned(tmp_path / "p", tmp_path / "out.csv", None, data)
    cluster.check_partitioned(tmp_path / "p", tmp_path / "out.csv", None, tmp_path / "elsewhere.csv")  # a table outside it: fine
