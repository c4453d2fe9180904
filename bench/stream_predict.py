"""Chunked scoring of a large table (``hotleads predict --chunk-rows``): issue 14's figure.

    .venv/bin/python bench/stream_predict.py --rows 5000000 [--chunk-rows 100000] [--model DIR] [--work DIR]

Generates ``--rows`` unlabelled companies with :mod:`hotleads.synth` (holdout style, ids made
unique across generation blocks) as one CSV and one Parquet file, written block by block so the
generator itself stays small; trains a gbdt model on 20,000 generated rows unless ``--model`` is
given; then runs ``hotleads predict`` as a subprocess on each file, once writing only
``submission.csv`` and once with the explained lead list (``--scores``; skipped with
``--no-lead-list``: TreeSHAP reasons score about 2,000 rows/s on one core), and prints for each run
the wall seconds end to end (start-up, model load, reading, scoring, writing), rows per second
and the subprocess's peak resident memory (``ru_maxrss`` from ``wait4``). The issue's target:
5,000,000 rows under 1.5 GiB.
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

from hotleads import synth

BLOCK_ROWS = 250_000
HOTLEADS = Path(sys.executable).with_name("hotleads")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="companies to score")
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="hotleads predict --chunk-rows")
    parser.add_argument("--model", type=Path, help="model directory to use (default: train gbdt on 20,000 generated rows)")
    parser.add_argument("--work", type=Path, help="folder for the data, model and outputs (default: a temporary folder, removed)")
    parser.add_argument("--no-lead-list", action="store_true", help="time only the submission (the lead list's reasons cost most)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stream-bench-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        csv_path, parquet_path = write_data(work, args.rows)
        model = args.model or train(work)
        runs = [(data, scores) for data in (csv_path, parquet_path) for scores in ((False,) if args.no_lead_list else (False, True))]
        results = [predict(model, data, work, scores=scores, chunk_rows=args.chunk_rows) for data, scores in runs]
    print_table(results, args.rows, args.chunk_rows)


def write_data(work: Path, rows: int) -> tuple[Path, Path]:
    """``companies.csv`` and ``companies.parquet`` with ``rows`` rows, generated and written a block at a time."""
    csv_path, parquet_path = work / "companies.csv", work / "companies.parquet"
    writer = None
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
            table, _ = synth.make_companies(min(BLOCK_ROWS, rows - start), seed=block, clean_counts=True)
            table = table.drop(columns=synth.TARGET)
            table["company_id"] = [f"COMP_{start + i:09d}" for i in range(len(table))]  # unique across blocks
            table.to_csv(handle, header=start == 0, index=False, lineterminator="\n")
            arrow = pa.Table.from_pandas(table.astype(str).where(table.notna(), None), preserve_index=False)  # text, as an export holds it
            writer = writer or pa_parquet.ParquetWriter(parquet_path, arrow.schema)
            writer.write_table(arrow)
    writer.close()
    return csv_path, parquet_path


def train(work: Path) -> Path:
    data, model = work / "train", work / "model"
    synth.write_dataset(data, rows=20_000, seed=0)
    run([str(HOTLEADS), "train", str(data / "train.csv"), "--out", str(model), "--models", "gbdt", "--folds", "3", "--quiet"])
    return model


def predict(model: Path, data: Path, work: Path, *, scores: bool, chunk_rows: int) -> dict:
    """Run ``hotleads predict`` once: wall seconds, peak RSS (MiB) of that process alone, output sizes."""
    out = work / f"submission-{data.suffix[1:]}.csv"
    command = [str(HOTLEADS), "predict", str(model), str(data), "--out", str(out), "--chunk-rows", str(chunk_rows), "--quiet"]
    if scores:
        command += ["--scores", str(work / f"leads-{data.suffix[1:]}.csv")]
    start = time.perf_counter()
    peak_kib = run(command)
    seconds = time.perf_counter() - start
    return {"input": data.suffix[1:], "outputs": "submission + lead list" if scores else "submission", "seconds": seconds, "peak_mib": peak_kib / 1024}


def run(command: list[str]) -> int:
    """Run a command to the end; its own peak RSS in KiB (``wait4``, not the maximum over every child so far)."""
    process = subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit status {process.returncode}")
    return usage.ru_maxrss


def print_table(results: list[dict], rows: int, chunk_rows: int) -> None:
    print(f"\n`hotleads predict` on {rows:,} generated companies, --chunk-rows {chunk_rows:,} (end to end, one process each)\n")
    print("| input | outputs | seconds | rows/s | peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['input']} | {r['outputs']} | {r['seconds']:.1f} | {rows / r['seconds']:,.0f} | {r['peak_mib']:,.0f} |")


if __name__ == "__main__":
    main()
