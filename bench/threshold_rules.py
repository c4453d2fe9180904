"""Which F1 threshold keeps more F1 on new rows: the out-of-fold predictions' single best cut, or the bagged one?

For every built-in family, size (500-12,000 rows) and seed (0-2), one ``--models gbdt,logreg``
training gives out-of-fold and test probabilities (20,000 fresh rows) of gbdt, logreg and their
mean. Each rule picks a threshold from the out-of-fold probabilities alone:

- ``best cut``: :func:`hotleads.threshold.f1_optimal_threshold`, the rows' own F1-maximising cut;
- ``bagged``: :func:`hotleads.threshold.bagged_f1_threshold`, the median of the best cuts of 50
  bootstrap resamples (what ``train`` uses).

Printed: the mean test F1 per size and candidate under each rule, and, choosing the candidate by
its best out-of-fold F1 as ``--models auto`` does, how far the chosen one falls behind the best
single model per (family, size) row, mean of the seeds (issue 16's bound: 0.005), each single
scored under the same rule.

    .venv/bin/python bench/threshold_rules.py [--sizes 500,1200,3000,12000] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import warnings
from collections import defaultdict

import numpy as np
from small_tables import BEHIND_BEST, SEEDS, SIZES, f1_of, tables  # bench/small_tables.py, beside this file

RULES = ("best cut", "bagged")
CANDIDATES = ("gbdt", "logreg", "mean")


def one_table(family: str, rows: int, seed: int) -> dict:
    """{rule: {candidate: (out-of-fold F1 at its best cut, test F1 at the rule's threshold)}} and the test table's Bayes F1."""
    from hotleads.scoring import score
    from hotleads.threshold import bagged_f1_threshold, f1_optimal_threshold
    from hotleads.training import TrainOptions, train

    frame, test, y_test, bayes, target = tables(family, rows, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = train(frame, TrainOptions(models=["gbdt", "logreg"], seed=seed))
        scored = score(model.predictor, test.drop(columns=target))
    y, oof = model.evidence.y, model.evidence.member_oof
    held_out = {**oof, "mean": (oof["gbdt"] + oof["logreg"]) / 2}
    new_rows = {**scored.member_probas, "mean": (scored.member_probas["gbdt"] + scored.member_probas["logreg"]) / 2}
    choose = {"best cut": lambda p: f1_optimal_threshold(y, p)[0], "bagged": lambda p: bagged_f1_threshold(y, p, seed=seed)}
    result = {
        rule: {name: (f1_optimal_threshold(y, held_out[name])[1], f1_of(y_test, new_rows[name] >= pick(held_out[name]))) for name in CANDIDATES}
        for rule, pick in choose.items()
    }
    return {"bayes": bayes, "rules": result}


def main() -> None:
    from hotleads import synth

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    args = parser.parse_args()
    sizes, seeds = [int(s) for s in args.sizes.split(",")], [int(s) for s in args.seeds.split(",")]
    runs = {(family, rows, seed): one_table(family, rows, seed) for family in synth.FAMILIES for rows in sizes for seed in seeds}

    print("Mean test F1 over families and seeds:\n")
    print("| candidate | rule | " + " | ".join(f"{rows:,} rows" for rows in sizes) + " |")
    print("|---|---|" + "---:|" * len(sizes))
    for name in CANDIDATES:
        for rule in RULES:
            means = [np.mean([run["rules"][rule][name][1] for (_, r, _), run in runs.items() if r == rows]) for rows in sizes]
            print(f"| {name} | {rule} | " + " | ".join(f"{m:.4f}" for m in means) + " |")

    print("\nChoosing by the best out-of-fold F1, behind the best single model (mean of the seeds per family and size):\n")
    print(f"| rule | mean behind | rows more than {BEHIND_BEST} behind | largest | mean share of the Bayes F1 |")
    print("|---|---:|---:|---|---:|")
    for rule in RULES:
        behind, shares = defaultdict(list), []
        for (family, rows, _), run in runs.items():
            figures = run["rules"][rule]
            chosen = max(CANDIDATES, key=lambda name: figures[name][0])  # a single before the mean on a tie, as auto does
            behind[(family, rows)].append(max(figures["gbdt"][1], figures["logreg"][1]) - figures[chosen][1])
            shares.append(figures[chosen][1] / run["bayes"])
        row_means = {key: float(np.mean(values)) for key, values in behind.items()}
        worst = max(row_means, key=row_means.get)
        over = sum(value > BEHIND_BEST for value in row_means.values())
        print(
            f"| {rule} | {np.mean(list(row_means.values())):+.4f} | {over} of {len(row_means)} | "
            f"{worst[0]} at {worst[1]:,} rows, {row_means[worst]:+.4f} | {np.mean(shares):.2%} |"
        )


if __name__ == "__main__":
    main()
