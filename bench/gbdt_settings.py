"""How big gbdt's trees should be for the rows it has: the measurements behind ``num_leaves="auto"``.

For every built-in family, training size and seed, the bag of 5 fold models of ``gbdt`` (raw
features, so that only the trees change) is trained with each setting of ``GRID`` and scored on
fresh test rows (``small_tables.TEST_ROWS``) at its out-of-fold threshold. Printed: the mean test F1 as a
share of the Bayes F1 per family, size and setting, and the rows of the smaller class per fold
model.

    .venv/bin/python bench/gbdt_settings.py [--sizes 1200,3000,12000] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
from small_tables import f1_of, tables  # bench/small_tables.py, beside this file

GRID = {
    "4 leaves, L2 5": {"num_leaves": 4, "reg_lambda": 5.0},
    "7 leaves, L2 5": {"num_leaves": 7, "reg_lambda": 5.0},
    "15 leaves, L2 1": {"num_leaves": 15, "reg_lambda": 1.0},
    "31 leaves, L2 1": {"num_leaves": 31, "reg_lambda": 1.0},
    "auto": {"num_leaves": "auto", "reg_lambda": "auto"},
}


def share(family: str, rows: int, seed: int, params: dict) -> tuple[float, int]:
    """(test F1 / Bayes F1, rows of the smaller class per fold model)."""
    from hotleads.scoring import score
    from hotleads.training import TrainOptions, train

    frame, test, y, bayes, target = tables(family, rows, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = train(frame, TrainOptions(models=["gbdt"], features="raw", bagging="on", seed=seed, model_params={"gbdt": params}))
        predicted = score(model.predictor, test.drop(columns=target)).probability >= model.predictor.threshold.value
    smaller = int(min(frame[target].sum(), len(frame) - frame[target].sum()) * 0.8)
    return f1_of(y, predicted) / bayes, smaller


def main() -> None:
    from hotleads import synth

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1200,3000,12000")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--families", default=",".join(synth.FAMILIES))
    parser.add_argument("--settings", default=";".join(GRID), help="semicolon-separated names of GRID")
    args = parser.parse_args()
    sizes, seeds = [int(s) for s in args.sizes.split(",")], [int(s) for s in args.seeds.split(",")]
    grid = {name: GRID[name] for name in args.settings.split(";")}
    print("| family | train rows | smaller class per fold | " + " | ".join(grid) + " |")
    print("|---|---:|---:|" + "---:|" * len(grid))
    for family in args.families.split(","):
        for rows in sizes:
            cells, smaller = [], 0
            for params in grid.values():
                results = [share(family, rows, seed, params) for seed in seeds]
                smaller = int(np.mean([s for _, s in results]))
                cells.append(f"{np.mean([r for r, _ in results]):.1%}")
            print(f"| {family} | {rows:,} | {smaller} | " + " | ".join(cells) + " |", flush=True)
            print(f"done {family} {rows}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
