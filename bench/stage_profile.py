"""Where `train` and `predict` spend time and memory on big tables, stage by stage: issue 14's profile.

    .venv/bin/python bench/stage_profile.py [--rows 100000,1000000,5000000] [--formats csv,parquet] [--work DIR]

Generates labelled built-in companies (:mod:`hotleads.synth`, written block by block, ids unique)
as one CSV and one Parquet file per size, then in a fresh process each:

- ``train`` (gbdt): :func:`hotleads.training.train_file` and :func:`hotleads.bundle.save`, with 5
  folds up to 100,000 rows and ``--validation 0.1`` above (5 folds and a refit of a 5,000,000-row
  table take hours on 2 cores; the split fits once);
- ``predict``: :func:`hotleads.bundle.load_predictor` and :func:`hotleads.stream.score_file`
  writing ``submission.csv`` (no lead list), with the model of the run's first `train` (the smallest table);

each inside :func:`hotleads.timing.record`, so every stage the library marks (read, typing,
profile, preprocessing, discovery, fitting, calibration, diagnostics, explanations, scoring,
writing) reports its exclusive seconds and its peak resident memory. Also printed: read and
typing together in rows per second (issue 14's targets: 1 M rows/s from Parquet, 300 k from CSV),
and the training peak against the typed table's size (``prepare(...).features``, deep; target:
at most about 3x), whole and over the process's memory before it read anything (its libraries). Prints markdown; ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import json
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
FOLDS_UP_TO = 100_000  # larger tables train with --validation 0.1
VALIDATION = 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000,5000000", help="comma-separated table sizes")
    parser.add_argument("--formats", default="csv,parquet", help="comma-separated input formats")
    parser.add_argument("--commands", default="train,predict", help="comma-separated: train, predict")
    parser.add_argument("--work", type=Path, help="folder for data, models and outputs (default: a temporary one, removed)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", nargs=4, metavar=("COMMAND", "DATA", "MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    sizes, formats, commands = [int(r) for r in args.rows.split(",")], args.formats.split(","), args.commands.split(",")
    with tempfile.TemporaryDirectory(prefix="stage-profile-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        runs = profile(work, sizes, formats, commands)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    print(markdown(runs))


def profile(work: Path, sizes: list[int], formats: list[str], commands: list[str]) -> list[dict]:
    runs = []
    reference = None
    for rows in sorted(sizes):
        files = write_data(work, rows)
        for fmt in formats:
            data = files[fmt]
            if "train" in commands:
                runs.append(run_child("train", data, work / f"model-{rows}-{fmt}", work / "unused"))
                reference = reference or work / f"model-{rows}-{fmt}"
            if "predict" in commands:
                model = reference or train_reference(work)
                runs.append(run_child("predict", data, model, work / f"submission-{rows}-{fmt}.csv"))
        for path in files.values():
            path.unlink()
    return runs


def train_reference(work: Path) -> Path:
    """A gbdt model on 100,000 generated rows, for predict-only runs."""
    files = write_data(work / "reference", FOLDS_UP_TO)
    model = work / "reference-model"
    run_child("train", files["parquet"], model, work / "unused")
    return model


def write_data(work: Path, rows: int) -> dict[str, Path]:
    """``companies-<rows>.csv`` and ``.parquet``: labelled generated companies, numbers typed in Parquet as an export would."""
    work.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = work / f"companies-{rows}.csv", work / f"companies-{rows}.parquet"
    writer = None
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
            table, _ = synth.make_companies(min(BLOCK_ROWS, rows - start), seed=block, clean_counts=True)
            table["company_id"] = [f"COMP_{start + i:09d}" for i in range(len(table))]
            table.to_csv(handle, header=start == 0, index=False, lineterminator="\n")
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            writer = writer or pa_parquet.ParquetWriter(parquet_path, arrow.schema)
            writer.write_table(arrow)
    writer.close()
    os.sync()  # the files' pages on disk before any run: writing them back would compete with the runs' reading
    return {"csv": csv_path, "parquet": parquet_path}


def run_child(command: str, data: Path, model: Path, out: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", command, str(data), str(model), str(out)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command} on {data} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"process_seconds": time.perf_counter() - started}


def child(command: str, data: str, model: str, out: str) -> dict:
    """One measured run in this process (fresh memory): the stage rows and what they are about."""
    import os
    import warnings

    os.environ.setdefault("OMP_NUM_THREADS", "2")
    warnings.simplefilter("ignore")  # the predict tables carry the target column: a warning, not news
    from hotleads import bundle, stream, training
    from hotleads.io import read_table
    from hotleads.schema import prepare
    from hotleads.timing import record, stage

    rows = pa_parquet.ParquetFile(data).metadata.num_rows if data.endswith(".parquet") else sum(1 for _ in open(data, "rb")) - 1
    start = _rss()  # the interpreter and its libraries, before any table: the same for 10 rows or 10 million
    with record() as timings:
        if command == "train":
            options = training.TrainOptions(models=["gbdt"], **({"validation": VALIDATION} if rows > FOLDS_UP_TO else {}))
            trained = training.train_file(data, options)
            with stage("writing"):
                bundle.save(trained, model)
        else:
            with stage("loading"):
                predictor = bundle.load_predictor(model)
            stream.score_file(predictor, data, out)
    result = {"command": command, "format": Path(data).suffix[1:], "rows": rows, "wall": timings.wall, "stages": timings.rows(), "start_mib": start / 2**20}
    if command == "train":
        result["folds"] = "validation 0.1" if rows > FOLDS_UP_TO else "5 folds"
        features = prepare(read_table(data), trained.predictor.schema, labelled=True, training=True).features
        result["typed_mib"] = float(features.memory_usage(deep=True).sum()) / 2**20
    return result


def _rss() -> int:
    """Resident memory of this process now, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def markdown(runs: list[dict]) -> str:
    lines = []
    for command in ("train", "predict"):
        chosen = [r for r in runs if r["command"] == command]
        if not chosen:
            continue
        stages = list(dict.fromkeys(s["stage"] for r in chosen for s in r["stages"]))
        lines += [f"\n`{command}`: seconds (peak RSS MiB) per stage\n", "| rows | input | " + " | ".join(stages) + " | wall s | read+typing rows/s |"]
        lines.append("|---|---|" + "---:|" * (len(stages) + 2))
        for r in chosen:
            by = {s["stage"]: s for s in r["stages"]}
            cells = [f"{by[s]['seconds']:.1f} ({by[s]['peak_mib']:,.0f})" if s in by else "" for s in stages]
            read_type = sum(by[s]["seconds"] for s in ("read", "typing") if s in by)
            lines.append(f"| {r['rows']:,} | {r['format']} | " + " | ".join(cells) + f" | {r['wall']:.1f} | {r['rows'] / read_type:,.0f} |")
        if command == "train":
            lines.append(
                "\n| rows | input | split | typed table MiB | peak RSS MiB | peak / typed | RSS at start MiB | (peak - start) / typed |"
                "\n|---|---|---|---:|---:|---:|---:|---:|"
            )
            for r in chosen:
                peak, typed, start = max(s["peak_mib"] for s in r["stages"]), r["typed_mib"], r["start_mib"]
                lines.append(
                    f"| {r['rows']:,} | {r['format']} | {r['folds']} | {typed:,.0f} | {peak:,.0f} | {peak / typed:.1f}x | {start:,.0f} | {(peak - start) / typed:.1f}x |"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
