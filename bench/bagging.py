"""Bag of the fold models or one refit on all rows: which scores unseen rows better (``--bagging``).

For every built-in family, size and seed, each model is cross-fitted once on 5 folds (raw
features, so both predictors read the same matrix); the threshold is the out-of-fold F1-optimal
one; then the same fold models are scored as a bag (their mean log-odds) and a model refitted on
all rows is scored, both on ``small_tables.TEST_ROWS`` fresh rows at that threshold. Printed: test F1 as a
share of the Bayes F1, mean over the seeds, refit -> bag.

    .venv/bin/python bench/bagging.py [--sizes 500,1200,3000,12000] [--seeds 0,1,2] [--models gbdt,logreg]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from small_tables import f1_of, tables  # bench/small_tables.py, beside this file


def compare(family: str, rows: int, seed: int, model: str) -> tuple[float, float]:
    """(refit share, bag share) of the Bayes F1 on the family's test rows."""
    from hotleads.folds import out_of_fold
    from hotleads.metrics import logit, sigmoid
    from hotleads.schema import prepare
    from hotleads.threshold import f1_optimal_threshold
    from hotleads.training import TrainOptions, _refit, cross_fit_inputs

    frame, test, y_test, bayes, _ = tables(family, rows, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = cross_fit_inputs(frame, TrainOptions(models=[model], features="raw", seed=seed), bagging=False)
        fold_models = []

        def fit_predict(k, _train, _valid):
            estimator, held_out = inputs.fold_estimator(model, {}, k, seed=seed)
            fold_models.append(estimator)
            return held_out

        threshold = f1_optimal_threshold(inputs.y, out_of_fold(inputs.folds, fit_predict, len(inputs.y)))[0]
        X = inputs.preprocessor.transform(prepare(test, inputs.schema, labelled=True).features)
        refit = _refit(model, {}, inputs, seed).predict_proba(X)[:, 1]
        bag = sigmoid(np.mean([logit(m.predict_proba(X)[:, 1]) for m in fold_models], axis=0))
    return f1_of(y_test, refit >= threshold) / bayes, f1_of(y_test, bag >= threshold) / bayes


def main() -> None:
    from hotleads import synth

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,1200,3000,12000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="gbdt,logreg")
    parser.add_argument("--families", default=",".join(synth.FAMILIES))
    args = parser.parse_args()
    sizes, seeds, models = [int(s) for s in args.sizes.split(",")], [int(s) for s in args.seeds.split(",")], args.models.split(",")
    print("| family | train rows | " + " | ".join(f"{m}: refit -> bag" for m in models) + " |")
    print("|---|---:|" + "---|" * len(models))
    for family in args.families.split(","):
        for rows in sizes:
            cells = []
            for model in models:
                refit, bag = np.mean([compare(family, rows, seed, model) for seed in seeds], axis=0)
                cells.append(f"{refit:.1%} -> {bag:.1%} ({(bag - refit) * 100:+.1f})")
            print(f"| {family} | {rows:,} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
