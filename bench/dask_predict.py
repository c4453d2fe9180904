"""Scoring on a Dask cluster (``hotleads predict --engine dask``) against the streaming path: rows per second.

    .venv/bin/python bench/dask_predict.py [--rows 1000000] [--files 10] [--workers 1,2] [--lead-list] [--model DIR] [--work DIR]

Generates ``--rows`` unlabelled companies with :mod:`hotleads.synth` as a folder of ``--files``
Parquet files of text columns (as an export holds them, ids unique across files), trains a gbdt
model on 20,000 generated rows unless ``--model`` is given (``bench/stream_predict.py``'s
``train``), then runs ``hotleads predict`` as a subprocess on the folder: once with the default
local engine (streaming, one process) and once per ``--workers`` count with ``--engine dask
--dask-workers N`` (a local cluster of N one-thread worker processes, started and closed by the
command). Every run writes ``submission.csv`` (``--lead-list``: also the explained lead list,
whose TreeSHAP reasons cost most) with ``--chunk-rows`` rows per chunk or partition; each dask
run's submission is checked to equal the local run's byte for byte. Prints wall seconds end to
end (start-up, model load, the cluster's start and stop, reading, scoring, writing) and rows/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pa_parquet
from stream_predict import HOTLEADS, train  # bench/ is on sys.path when this script runs

from hotleads import synth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="companies to score")
    parser.add_argument("--files", type=int, default=10, help="Parquet files the rows are split over")
    parser.add_argument("--workers", default="1,2", help="comma-separated --dask-workers counts to run")
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="hotleads predict --chunk-rows (rows per chunk or partition)")
    parser.add_argument("--lead-list", action="store_true", help="also write the explained lead list (--scores)")
    parser.add_argument("--model", type=Path, help="model directory to use (default: train gbdt on 20,000 generated rows)")
    parser.add_argument("--work", type=Path, help="folder for the data, model and outputs (default: a temporary folder, removed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dask-bench-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        data = write_folder(work / "companies", args.rows, args.files)
        model = args.model or train(work)
        runs = [("local", None), *(("dask", int(n)) for n in args.workers.split(","))]
        results = [predict(model, data, work, engine, workers, lead_list=args.lead_list, chunk_rows=args.chunk_rows) for engine, workers in runs]
        same = [(work / f"submission-{r['name']}.csv").read_bytes() == (work / "submission-local.csv").read_bytes() for r in results]
    print_table(results, same, args)


def write_folder(folder: Path, rows: int, files: int) -> Path:
    """``files`` Parquet files of text columns holding ``rows`` generated companies in all, ids unique across them."""
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    for k in range(files):
        count = rows // files + (k < rows % files)
        table, _ = synth.make_companies(count, seed=k, clean_counts=True)
        table = table.drop(columns=synth.TARGET)
        table["company_id"] = [f"COMP_{start + i:09d}" for i in range(count)]
        arrow = pa.Table.from_pandas(table.astype(str).where(table.notna(), None), preserve_index=False)
        pa_parquet.write_table(arrow, folder / f"part-{k:03d}.parquet")
        start += count
    return folder


def predict(model: Path, data: Path, work: Path, engine: str, workers: int | None, *, lead_list: bool, chunk_rows: int) -> dict:
    """Run ``hotleads predict`` once, end to end: wall seconds."""
    name = engine if workers is None else f"{engine}-{workers}"
    command = [str(HOTLEADS), "predict", str(model), str(data), "--out", str(work / f"submission-{name}.csv"), "--chunk-rows", str(chunk_rows), "--quiet"]
    if lead_list:
        command += ["--scores", str(work / f"leads-{name}.csv")]
    if engine == "dask":
        command += ["--engine", "dask", "--dask-workers", str(workers)]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    return {"name": name, "engine": engine, "workers": workers, "seconds": time.perf_counter() - start}


def print_table(results: list[dict], same: list[bool], args: argparse.Namespace) -> None:
    outputs = "submission + lead list" if args.lead_list else "submission"
    print(
        f"\n`hotleads predict` on {args.rows:,} generated companies in {args.files} Parquet files, {outputs}, "
        f"--chunk-rows {args.chunk_rows:,}, {os.cpu_count()} cores (end to end, one command each)\n"
    )
    print("| engine | worker processes | seconds | rows/s | vs local | output = local's |")
    print("|---|---:|---:|---:|---:|---|")
    local = results[0]["seconds"]
    for r, equal in zip(results, same, strict=True):
        workers = "1 (this process)" if r["workers"] is None else str(r["workers"])
        print(
            f"| {r['engine']} | {workers} | {r['seconds']:.1f} | {args.rows / r['seconds']:,.0f} | {local / r['seconds']:.2f}x | {'yes' if equal else 'NO'} |"
        )


if __name__ == "__main__":
    sys.exit(main())
