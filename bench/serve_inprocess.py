"""In-process latency of the scoring service's JSON path, without HTTP: one company per call.

    .venv/bin/python bench/serve_inprocess.py MODEL_DIR TABLE.csv [--calls 200]

Calls ``ScoringService.score_json`` (what ``POST /v1/score`` runs after the middlewares) with one
company at a time, taken from the table's rows, with and without reasons; prints p50 and p99 in
milliseconds over the calls after the first 20. ``bench/serve_load.py`` measures the same over HTTP.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from hotleads import serve
from hotleads.bundle import load_predictor

WARMUP = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir")
    parser.add_argument("table")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    service = serve.ScoringService(load_predictor(args.model_dir), serve.Settings())
    rows = json.loads(pd.read_csv(args.table).head(args.calls).to_json(orient="records"))
    for reasons in (True, False):
        seconds = []
        for row in rows:
            body = json.dumps([row]).encode()
            started = time.perf_counter()
            service.score_json(body, reasons=reasons)
            seconds.append(time.perf_counter() - started)
        ms = np.array(seconds[WARMUP:]) * 1000
        print(f"reasons={str(reasons).lower()}: p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms over {len(ms)} calls")


if __name__ == "__main__":
    main()
