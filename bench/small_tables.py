"""Bench section "small tables": test F1 as a share of the Bayes F1 on every built-in family.

For each family of ``hotleads.synth.FAMILIES``, each training size and each seed, a training
table of that many rows (``make_companies(n, seed=seed, family=...)``) trains:

- ``old default``: the default before ``--models auto`` (one ``gbdt`` refitted on all rows, with
  its settings of then pinned: 200 trees of 15 leaves, learning rate 0.1, L2 1.0);
- ``new default``: ``TrainOptions()`` as it is now (``--models auto``, bagging, adaptive settings);
- each cheap model alone with today's settings (``gbdt``, ``logreg``): the members of one
  ``--models gbdt,logreg`` training, each scored at its own out-of-fold threshold (bagged, as
  ``train`` chooses it and ``hotleads evaluate`` reports members); their fit time is the member's.

Each is scored on a test table of ``TEST_ROWS`` fresh rows of the same family (seed
``TEST_SEED + seed``) at its own out-of-fold threshold; the share is its test F1 over the
Bayes F1 of that test table (the true probabilities, thresholded at their best). Fit time is the
wall time of ``train``. The challenge data's row: the new default's out-of-fold F1 on
``shared/data/hr-leads/train.csv`` (skipped when absent).

    .venv/bin/python bench/small_tables.py [--sizes 500,1200,3000,12000] [--seeds 0,1,2] [--families ...]

``make bench`` runs it as the section ``small-tables`` of ``bench/run_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "hr-leads"
SIZES = (500, 1_200, 3_000, 12_000)
SEEDS = (0, 1, 2)
TEST_ROWS = 20_000
TEST_SEED = 10_000
OLD_GBDT = {"num_leaves": 15, "n_estimators": 200, "learning_rate": 0.1, "reg_lambda": 1.0}
GOALS = {1_200: 0.95, 3_000: 0.97}  # the new default's share of the Bayes F1 from these sizes up (issue 16)
BEHIND_BEST = 0.005  # the new default may trail the best single model by at most this much test F1


def configs():
    from hotleads.training import TrainOptions

    return {
        "old default": TrainOptions(models=["gbdt"], bagging="off", model_params={"gbdt": OLD_GBDT}),
        "new default": TrainOptions(),
        "singles": TrainOptions(models=["gbdt", "logreg"]),
    }


def tables(family: str, rows: int, seed: int):
    """(training table of ``rows`` rows, test table of ``TEST_ROWS`` fresh rows, test labels, the test table's Bayes F1, target column):
    what every small-table bench scores (``bench/bagging.py``, ``gbdt_settings.py``, ``selection_rules.py`` too)."""
    from hotleads import synth

    frame, _ = synth.make_companies(rows, seed=seed, family=family)
    test, proba = synth.make_companies(TEST_ROWS, seed=TEST_SEED + seed, family=family)
    target = synth.target_column(family)
    y_test = test[target].to_numpy()
    return frame, test, y_test, synth.bayes_f1(y_test, proba)[0], target


def f1_of(y: np.ndarray, predicted: np.ndarray) -> float:
    """F1 of 0/1 predictions (n_rows,) against labels (n_rows,)."""
    return float(f1_score(y, predicted, zero_division=0.0))


def one_table(family: str, rows: int, seed: int) -> dict:
    """Every config trained on one table and scored on its family's test table."""
    from hotleads.scoring import score
    from hotleads.training import train

    frame, test, y_test, bayes, target = tables(family, rows, seed)
    result = {"family": family, "rows": rows, "seed": seed, "bayes_f1": bayes, "configs": {}}
    for name, options in configs().items():
        options.seed = seed
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = train(frame, options)
            seconds = time.perf_counter() - started
            scored = score(model.predictor, test.drop(columns=target))
        if name == "singles":
            board = {row["model"]: row for row in model.evidence.leaderboard if not row["final"]}
            for member, proba in scored.member_probas.items():
                f1 = f1_of(y_test, proba >= model.evidence.member_threshold(member))
                result["configs"][member] = _row(f1, bayes, board[member]["fit_seconds"], [member], None)
                _say(family, rows, seed, member, f1, bayes, board[member]["fit_seconds"])
            continue
        f1 = f1_of(y_test, scored.probability >= model.predictor.threshold.value)
        result["configs"][name] = _row(f1, bayes, seconds, list(model.predictor.members), (model.evidence.selection or {}).get("chosen"))
        _say(family, rows, seed, name, f1, bayes, seconds)
    return result


def _row(f1: float, bayes: float, seconds: float, members: list[str], chosen: str | None) -> dict:
    return {"test_f1": f1, "share": f1 / bayes, "fit_seconds": seconds, "members": members, "chosen": chosen}


def _say(family: str, rows: int, seed: int, name: str, f1: float, bayes: float, seconds: float) -> None:
    print(f"{family:18} {rows:>6} seed {seed}  {name:12} F1 {f1:.4f} ({f1 / bayes:.1%} of {bayes:.4f})  {seconds:6.1f} s", file=sys.stderr, flush=True)


def challenge_row() -> dict | None:
    """The new default's out-of-fold F1 on the challenge data (the ceiling goal: >= 0.948)."""
    path = SHARED / "train.csv"
    if not path.exists():
        return None
    from hotleads.training import TrainOptions, train_file

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = train_file(path, TrainOptions())
    return {
        "oof_f1": model.oof_metrics()["f1"],
        "fit_seconds": time.perf_counter() - started,
        "members": list(model.predictor.members),
        "chosen": (model.evidence.selection or {}).get("chosen"),
    }


def small_tables_section(sizes=SIZES, seeds=SEEDS, families=None) -> dict:
    from hotleads import synth

    runs = [one_table(family, rows, seed) for family in families or synth.FAMILIES for rows in sizes for seed in seeds]
    return {"runs": runs, "summary": summarise(runs), "challenge": challenge_row(), "test_rows": TEST_ROWS}


def summarise(runs: list[dict]) -> list[dict]:
    """Per family and size: each config's mean share and fit time over the seeds, and the new default against the best single model."""
    rows = []
    for family in dict.fromkeys(r["family"] for r in runs):
        for size in sorted({r["rows"] for r in runs if r["family"] == family}):
            group = [r for r in runs if r["family"] == family and r["rows"] == size]
            names = list(group[0]["configs"])
            row = {"family": family, "rows": size, "seeds": len(group), "bayes_f1": float(np.mean([r["bayes_f1"] for r in group]))}
            for name in names:
                row[name] = {key: float(np.mean([r["configs"][name][key] for r in group])) for key in ("share", "test_f1", "fit_seconds")}
            singles = [name for name in names if name not in ("old default", "new default")]
            best = max(singles, key=lambda name: row[name]["test_f1"])
            row["best_single"] = best
            row["behind_best"] = row[best]["test_f1"] - row["new default"]["test_f1"]
            row["chosen"] = [r["configs"]["new default"]["chosen"] for r in group]
            rows.append(row)
    return rows


def small_tables_markdown(section: dict, measured: dict | None = None) -> list[str]:
    when = f" (measured {measured['at']}, {measured['cores']} cores)" if measured else ""
    lines = [
        f"### Small tables{when}",
        "",
        "`.venv/bin/python bench/run_bench.py --only small-tables` (or `bench/small_tables.py`). Test F1 as a share of the Bayes F1, "
        f"mean of {len({r['seed'] for r in section['runs']})} seeds, on {section['test_rows']:,} fresh test rows per seed; "
        "fit seconds in brackets (2 cores; a single model's is its share of one `--models gbdt,logreg` training). `old default`: one gbdt refitted on all rows, settings of before; `new default`: `--models auto` "
        "with bagging and adaptive settings; `behind best`: the best single model's test F1 minus the new default's (goal <= 0.005).",
        "",
        "| family | train rows | old default | new default | gbdt | logreg | behind best | auto chose |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in section["summary"]:
        cells = [f"{row[name]['share']:.1%} ({row[name]['fit_seconds']:.1f} s)" for name in ("old default", "new default", "gbdt", "logreg")]
        chose = ", ".join(str(c) for c in row["chosen"])
        lines.append(f"| {row['family']} | {row['rows']:,} | " + " | ".join(cells) + f" | {row['behind_best']:+.4f} | {chose} |")
    lines += ["", *goal_lines(section)]
    return lines


def goal_lines(section: dict) -> list[str]:
    lines = []
    for size, goal in GOALS.items():
        rows = [r for r in section["summary"] if r["rows"] >= size]
        if rows:
            worst = min(rows, key=lambda r: r["new default"]["share"])
            met = worst["new default"]["share"] >= goal
            lines.append(
                f"- From {size:,} rows, goal >= {goal:.0%} of the Bayes F1: lowest {worst['new default']['share']:.1%} "
                f"({worst['family']}, {worst['rows']:,} rows): {'met' if met else 'NOT met'}."
            )
    if section["summary"]:
        worst = max(section["summary"], key=lambda r: r["behind_best"])
        met = worst["behind_best"] <= BEHIND_BEST
        lines.append(
            f"- Never more than {BEHIND_BEST} below the best single model: largest gap {worst['behind_best']:+.4f} "
            f"({worst['family']}, {worst['rows']:,} rows, best {worst['best_single']}): {'met' if met else 'NOT met'}."
        )
    challenge = section.get("challenge")
    if challenge:
        met = challenge["oof_f1"] >= 0.948
        lines.append(
            f"- Challenge data (`train.csv`), new default: out-of-fold F1 {challenge['oof_f1']:.4f} (goal >= 0.948: {'met' if met else 'NOT met'}), "
            f"members {', '.join(challenge['members'])}, {challenge['fit_seconds']:.0f} s."
        )
    else:
        lines.append(f"- Challenge data: skipped, not at {SHARED}.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--families", default=None, help="comma-separated (default: every family)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    families = args.families.split(",") if args.families else None
    section = small_tables_section(sizes, seeds, families)
    if args.json:
        args.json.write_text(json.dumps(section, indent=2))
    print("\n".join(small_tables_markdown(section)))


if __name__ == "__main__":
    main()
