"""How wide the neural models should be for the rows they have: the measurements behind their widths="auto".

For each family, training size and seed, ``cnn`` (the neural model ``--time-limit`` adds) is
trained with each width of ``GRID`` (token width, convolution channels and head width scaled
together) on the same table, bagged over its 5 fold models as the default saves it, and scored on
fresh test rows (``small_tables.TEST_ROWS``) at its out-of-fold threshold. Printed: the mean test
F1 as a share of the Bayes F1, the mean fit seconds, and the rows of the smaller class per fold
model.

    .venv/bin/python bench/neural_widths.py [--sizes 500,1200,3000] [--seeds 0,1] [--families hr-leads,trial-signups]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from small_tables import f1_of, tables  # bench/small_tables.py, beside this file

GRID = {
    "tokens 8": {"d_token": 8, "n_channels": 16, "head_hidden": 8},
    "tokens 16": {"d_token": 16, "n_channels": 32, "head_hidden": 16},
    "tokens 32 (fixed default)": {"d_token": 32, "n_channels": 64, "head_hidden": 32},
}


def share(family: str, rows: int, seed: int, params: dict) -> tuple[float, float, int]:
    """(test F1 / Bayes F1, fit seconds, rows of the smaller class per fold model)."""
    from hotleads.scoring import score
    from hotleads.training import TrainOptions, train

    frame, test, y, bayes, target = tables(family, rows, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model = train(frame, TrainOptions(models=["cnn"], bagging="on", seed=seed, model_params={"cnn": params}))
        seconds = time.perf_counter() - start
        predicted = score(model.predictor, test.drop(columns=target)).probability >= model.predictor.threshold.value
    smaller = int(min(frame[target].sum(), len(frame) - frame[target].sum()) * 0.8)
    return f1_of(y, predicted) / bayes, seconds, smaller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,1200,3000")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--families", default="hr-leads,trial-signups")
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
                runs = [share(family, rows, seed, params) for seed in seeds]
                smaller = int(np.mean([r[2] for r in runs]))
                cells.append(f"{np.mean([r[0] for r in runs]):.1%} ({np.mean([r[1] for r in runs]):.0f} s)")
            print(f"| {family} | {rows:,} | {smaller:,} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
