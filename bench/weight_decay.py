"""Weight decay on every parameter, or only on the weight matrices (nanoGPT)? F1 on unseen rows.

    .venv/bin/python bench/weight_decay.py [--models cnn,lstm] [--seeds 0,1,2,3,4,5]

Each model with its default settings is fitted on a stratified 80 % of the challenge table's
``train.csv`` (its raw columns: 9 numeric, the funding date as a day number, industry and hiring
role as category codes) and scored on the other 20 %, once with the loop's rule (weight decay on
every parameter, :func:`hotleads.train_loop.decay_groups`) and once with nanoGPT's (only the
weight matrices of linear, convolution, LSTM and attention layers; not biases, norms, embeddings
or the feature tokens). Prints PR-AUC and the best F1 over thresholds on the 20 %.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve
from sklearn.model_selection import train_test_split
from torch import nn

from hotleads import train_loop
from hotleads.registry import make_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hr-leads" / "train.csv"
NUMERIC = [
    "funding_rounds", "total_funding", "job_postings_30d", "employee_growth_pct", "industry_growth_rate",
    "regional_employment_trend", "funding_per_employee", "days_since_last_funding", "growth_momentum",
]  # fmt: skip
CATEGORICAL = ["industry", "hiring_roles"]


def load() -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(X (n, 12) floats with NaN, y (n,), the category-code columns)."""
    frame = pd.read_csv(DATA)
    numeric = frame[NUMERIC].astype(float).replace([np.inf, -np.inf], np.nan)
    numeric["funding_day"] = (pd.to_datetime(frame["last_funding_date"]) - pd.Timestamp("2000-01-01")).dt.days
    codes = [pd.factorize(frame[c])[0].astype(float) for c in CATEGORICAL]
    X = np.column_stack([numeric.to_numpy(), *codes])
    X[X == -1] = np.nan  # pd.factorize's code for missing
    return X, frame["is_hot_lead"].to_numpy(), [numeric.shape[1] + k for k in range(len(CATEGORICAL))]


def weight_matrices_only(module: nn.Module) -> tuple[list, list]:
    """nanoGPT's rule: (the weight matrices of the layers that mix features, the rest)."""
    matrices = set()  # ids: tensors compare element-wise
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d)):
            matrices.add(id(layer.weight))
        elif isinstance(layer, nn.LSTM):
            matrices.update(id(p) for name, p in layer.named_parameters(recurse=False) if name.startswith("weight_"))
        elif isinstance(layer, nn.MultiheadAttention) and layer.in_proj_weight is not None:
            matrices.add(id(layer.in_proj_weight))
    params = [p for p in module.parameters() if p.requires_grad]
    return [p for p in params if id(p) in matrices], [p for p in params if id(p) not in matrices]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,lstm")
    parser.add_argument("--seeds", default="0,1,2,3,4,5")
    args = parser.parse_args()
    X, y, categorical = load()
    fit_rows, test_rows = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    rules = {"every parameter (the loop's rule)": train_loop.decay_groups, "weight matrices only (nanoGPT)": weight_matrices_only}
    rows = []
    for model in args.models.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            for rule, groups in rules.items():
                train_loop.decay_groups = groups
                started = time.perf_counter()
                estimator = make_model(model, categorical_features=categorical, random_state=seed).fit(X[fit_rows], y[fit_rows])
                seconds = time.perf_counter() - started
                proba = estimator.predict_proba(X[test_rows])[:, 1]
                precision, recall, _ = precision_recall_curve(y[test_rows], proba)
                f1 = np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12))
                rows.append((model, seed, rule, average_precision_score(y[test_rows], proba), f1, seconds))
                print(*rows[-1], flush=True)
    print(f"\n{len(fit_rows):,} training rows, {len(test_rows):,} unseen rows; default settings of each model.\n")
    print("| model | weight decay on | seeds | PR-AUC (each seed) | best F1 (each seed) | mean best F1 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model in args.models.split(","):
        for rule in rules:
            mine = [r for r in rows if r[0] == model and r[2] == rule]
            aps, f1s = " / ".join(f"{r[3]:.4f}" for r in mine), " / ".join(f"{r[4]:.4f}" for r in mine)
            print(f"| {model} | {rule} | {args.seeds} | {aps} | {f1s} | {statistics.mean(r[4] for r in mine):.4f} |")


if __name__ == "__main__":
    main()
