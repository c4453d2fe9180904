"""CUDA check of the neural models: train, score and cross-device bundles on the challenge data.

    python bench/gpu_check.py PATH/TO/train.csv [--models lstm,cnn,transformer]

For each model: 5-fold OOF F1 and fit seconds with ``device="cuda"`` (default features), model-only
predict rows/s on 1,000,000 rows, and the largest probability difference when the CUDA-trained
bundle is loaded on the CPU (and a CPU-trained one on CUDA). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from hotleads import bundle, training
from hotleads.io import read_table
from hotleads.schema import prepare


def measure(model_name: str, frame: pd.DataFrame, workdir: Path) -> dict:
    started = time.perf_counter()
    trained = training.train(frame, training.TrainOptions(models=[model_name], neural_params={"device": "cuda"}))
    fit_seconds = time.perf_counter() - started
    board = trained.evidence.leaderboard[0]
    big = pd.concat([frame] * (1_000_000 // len(frame)), ignore_index=True)
    big["company_id"] = [f"C{i}" for i in range(len(big))]
    predictor = trained.predictor
    X = predictor.preprocessor.transform(prepare(big, predictor.schema, labelled=False).features)
    estimator = predictor.members[model_name]
    estimator.predict_proba(X[:10_000])  # warm-up
    torch.cuda.synchronize()
    started = time.perf_counter()
    estimator.predict_proba(X)
    torch.cuda.synchronize()
    rows_s = len(X) / (time.perf_counter() - started)
    bundle.save(trained, workdir / model_name)
    sample = X[:20_000]
    on_cuda = estimator.predict_proba(sample)[:, 1]
    on_cpu = bundle.load_predictor(workdir / model_name, device="cpu").members[model_name].predict_proba(sample)[:, 1]
    return {
        "model": model_name,
        "oof_f1": board["f1"],
        "threshold": board["threshold"],
        "fit_s": fit_seconds,
        "predict_rows_s": rows_s,
        "cuda_vs_cpu_max_diff": float(np.abs(on_cuda - on_cpu).max()),
    }


def cpu_bundle_on_cuda(frame: pd.DataFrame, workdir: Path) -> float:
    small = frame.iloc[:3000].reset_index(drop=True)
    trained = training.train(small, training.TrainOptions(models=["transformer"], folds=2, features="raw", neural_params={"device": "cpu", "epochs": 2}))
    bundle.save(trained, workdir / "cpu-model")
    X = trained.predictor.preprocessor.transform(prepare(small, trained.predictor.schema, labelled=False).features)
    on_cpu = trained.predictor.members["transformer"].predict_proba(X)[:, 1]
    on_cuda = bundle.load_predictor(workdir / "cpu-model", device="cuda").members["transformer"].predict_proba(X)[:, 1]
    return float(np.abs(on_cpu - on_cuda).max())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--models", default="lstm,cnn,transformer")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device")
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    frame = read_table(args.data)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"CPU-trained bundle on CUDA, max |p_cpu - p_cuda|: {cpu_bundle_on_cuda(frame, Path(tmp)):.2e}", flush=True)
        for name in args.models.split(","):
            rows.append(measure(name, frame, Path(tmp)))
            print(rows[-1], flush=True)
    print("| model | OOF F1 | threshold | fit s (5 folds + refit) | predict rows/s | CUDA->CPU max diff |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['model']} | {r['oof_f1']:.4f} | {r['threshold']:.3f} | {r['fit_s']:.1f} | {r['predict_rows_s']:,.0f} | {r['cuda_vs_cpu_max_diff']:.1e} |")


if __name__ == "__main__":
    main()
