"""Which rule should ``--models auto`` choose its candidate by? Measured against the test F1 each choice gets.

For every built-in family, size (500-12,000 rows) and seed (0-2), one ``--models gbdt,logreg``
training gives the candidates' out-of-fold output (gbdt, logreg, their nested mean ensemble) and
each candidate's test F1 on 20,000 fresh rows (members at their own out-of-fold threshold, the
ensemble at the final one). Each rule then picks a candidate from the out-of-fold output alone:

- ``nested_f1``: the F1 at a nested threshold (fold k at the threshold best on the other folds),
  what ``--models auto`` uses (:func:`hotleads.selection.choose`);
- ``oof_f1``: the F1 at the threshold best on all the out-of-fold rows;
- ``pr_auc`` / ``roc_auc``: threshold-free ranking measures;
- ``ensemble``: always the ensemble.

Printed per rule: how far the chosen candidate's test F1 falls behind the best single model's
(mean, largest, share of tables more than 0.005 behind).

    .venv/bin/python bench/selection_rules.py
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from small_tables import f1_of, tables  # bench/small_tables.py, beside this file

SIZES = (500, 1_200, 3_000, 12_000)
SEEDS = (0, 1, 2)


def one_table(family: str, rows: int, seed: int) -> dict:
    from hotleads.folds import stratified_folds
    from hotleads.scoring import score
    from hotleads.selection import candidate_outputs, choose
    from hotleads.threshold import f1_optimal_threshold
    from hotleads.training import TrainOptions, train

    frame, test, y_test, _, target = tables(family, rows, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = train(frame, TrainOptions(models=["gbdt", "logreg"], seed=seed))
        scored = score(model.predictor, test.drop(columns=target))
    evidence, y = model.evidence, model.evidence.y
    test_f1 = {name: f1_of(y_test, scored.member_probas[name] >= evidence.member_threshold(name)) for name in ("gbdt", "logreg")}
    test_f1["gbdt+logreg"] = f1_of(y_test, scored.probability >= model.predictor.threshold.value)
    folds = stratified_folds(y, 5, seed=seed)
    outputs = candidate_outputs(evidence.member_oof, y, folds, ensemble="mean", seed=seed)
    rules = {
        "nested_f1": choose(outputs, y, folds).chosen,
        "oof_f1": max(outputs, key=lambda name: f1_optimal_threshold(y, outputs[name][1])[1]),
        "pr_auc": max(outputs, key=lambda name: average_precision_score(y, outputs[name][1])),
        "roc_auc": max(outputs, key=lambda name: roc_auc_score(y, outputs[name][1])),
        "ensemble": "gbdt+logreg",
    }
    best_single = max(test_f1["gbdt"], test_f1["logreg"])
    return {rule: best_single - test_f1[chosen] for rule, chosen in rules.items()}


def main() -> None:
    from hotleads import synth

    gaps = [one_table(family, rows, seed) for family in synth.FAMILIES for rows in SIZES for seed in SEEDS]
    print("| rule | mean behind best single | largest | tables > 0.005 behind |")
    print("|---|---:|---:|---:|")
    for rule in gaps[0]:
        values = np.array([g[rule] for g in gaps])
        print(f"| {rule} | {values.mean():+.4f} | {values.max():+.4f} | {np.mean(values > 0.005):.0%} of {len(values)} |")


if __name__ == "__main__":
    main()
