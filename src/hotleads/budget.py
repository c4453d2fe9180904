"""``train --time-limit``: spend a budget of seconds on more than the cheap models, and end in time.

After the cheap models (``--models``, by default auto's gbdt and logreg) are cross-fitted, the
time left goes, in this order, to what helps most per second on small tables:

1. more seeds of ``gbdt`` (bagged only): each seed's fold models join the gbdt bag, which lowers
   its variance (the bag of 5 becomes 10, then 15);
2. a short tuning run of ``gbdt`` (Optuna's TPE over :func:`hotleads.tune.gbdt_space`, on the
   training folds), kept as the member ``gbdt-tuned``;
3. the neural model :data:`NEURAL`.

With a monthly history (``train --history``) the models that read the months come first, best
first (:data:`SEQUENCE_NEURAL`), then the seeds and the tuning run: on the histories bench each
of them scores above gbdt on the window's aggregates, and together above each alone (README,
"Monthly histories"), gains larger than the extra seeds' or the tuning's.

A step starts only when its measured or projected cost fits in the time left, and a member whose
folds go too slowly for the deadline is abandoned after the fold that shows it (a neural one after
the epoch that passes it). A reserve for what follows the fitting is kept back: the larger of half
the cheap models' fitting time, ``TAIL_SECONDS`` and the measured cost of explaining with every
member fitted so far (occlusion predicts the importance sample once per column), so ``train`` ends within the
limit on tables where the cheap models fit well inside it. Every
step, fitted or not, is logged in ``evidence.training["time_limit"]`` and the members tried are
on the leaderboard; ``--models auto`` then chooses among all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

EXTRA_SEEDS = 2
SEED_STRIDE = 1_000  # seed k of the extra ones fits fold f with seed + k * SEED_STRIDE + f
TUNING_SHARE = 0.5  # of the time left after the seeds
TUNING_MIN_TRIALS = 3  # a tuning run that cannot afford this many trials is not started
NEURAL = "cnn"  # the fastest neural model per row on a CPU (README, "Neural models")
# With a monthly history: the sequence models, in the order of their test F1 on the histories bench
# (transformer 0.7235, cnn 0.7163, lstm 0.6950; gbdt on the aggregates 0.7083).
SEQUENCE_NEURAL = ("transformer", "cnn", "lstm")
NOT_BAGGED = "skipped: gbdt is refitted, not bagged (--validation or --bagging off), so more seeds have no bag to join"
NO_FOLDS = "skipped: a validation split has no folds to tune on"
NO_GBDT = "skipped: gbdt is not among the models trained (--models)"
# The reserve for what follows fitting: at least this share of the fitting time and TAIL_SECONDS.
TAIL_SHARE = 0.5
TAIL_SECONDS = 5.0


@dataclass
class Budget:
    """A time limit in seconds, counted from ``started`` (a :func:`time.perf_counter` value)."""

    limit: float
    started: float = field(default_factory=time.perf_counter)
    fitting: float = 0.0  # seconds the cheap models took to fit (sets the reserve; the extras' own seconds do not, or each would pull the deadline in)
    explaining: float = 0.0  # measured seconds explaining will take with the members fitted so far
    before_extras: float = 0.0  # seconds from the start to the first extra step: reading, checking, discovery, the cheap models
    log: list[dict] = field(default_factory=list)

    @property
    def deadline(self) -> float:
        """When fitting must end, as a :func:`time.perf_counter` value: the limit less the reserve."""
        return self.started + self.limit - max(TAIL_SECONDS, TAIL_SHARE * self.fitting, self.explaining)

    def left(self) -> float:
        """Seconds of fitting left before :attr:`deadline`."""
        return self.deadline - time.perf_counter()

    def record(self, step: str, status: str, seconds: float) -> None:
        self.log.append({"step": step, "status": status, "seconds": round(seconds, 3)})

    def to_dict(self) -> dict:
        return {"limit": self.limit, "spent": round(time.perf_counter() - self.started, 3), "steps": self.log}

    def overrun(self) -> str | None:
        """Why training ran past the limit, in a sentence; None when it did not."""
        spent = time.perf_counter() - self.started
        if spent <= self.limit:
            return None
        return (
            f"training took {spent:.1f} s, over --time-limit {self.limit:g}: reading, checking and fitting the models asked for took "
            f"{self.before_extras:.1f} s before anything extra was tried; raise --time-limit to spend time on more."
        )


# fit(model, params beyond its own, seed_offset, name, deadline) -> member or None (too slow); the member has .fit_seconds
Fit = Callable[[str, dict, int, str, float], object]


def neural_steps(months: bool) -> tuple[str, ...]:
    """The neural models the time left may buy: the sequence models when the rows have monthly windows (``months``), else :data:`NEURAL`."""
    return SEQUENCE_NEURAL if months else (NEURAL,)


def spend(
    budget: Budget,
    members: dict,
    *,
    fit: Fit,
    bagged: bool,
    tune: Callable[[Budget], object] | None,
    explaining: Callable[[object], float],
    months: bool = False,
) -> tuple[dict, dict]:
    """Spend what is left of ``budget`` after ``members`` (name -> member) were fitted.

    Returns (extra seeds: ``{"gbdt": [member, ...]}``, new members ``{name: member}``).
    ``tune(budget)`` runs the tuning step and returns the tuned member or None;
    ``explaining(member)`` measures the seconds a member adds to the explanations;
    ``months``: the rows have monthly windows, so the sequence models come first (:func:`neural_steps`).
    """
    budget.before_extras = time.perf_counter() - budget.started
    for member in members.values():
        budget.fitting += member.fit_seconds
        budget.explaining += explaining(member)
    seeds, extra = {}, {}

    def add(name: str, member) -> None:
        extra[name] = member
        budget.explaining += explaining(member)

    def more_seeds() -> None:
        if "gbdt" not in members:  # said, so that --models logreg --time-limit shows why the seeds --help names were not tried
            budget.record("gbdt seed 2", NO_GBDT, 0.0)
            return
        if not bagged:  # said, so that a user of --validation or --bagging off sees why no seed was tried
            budget.record("gbdt seed 2", NOT_BAGGED, 0.0)
            return
        seeds["gbdt"] = _seeds(budget, members["gbdt"].fit_seconds, fit)
        budget.explaining += sum(explaining(member) for member in seeds["gbdt"])

    def tuning() -> None:
        if "gbdt" not in members:
            budget.record("gbdt-tuned", NO_GBDT, 0.0)
            return
        if tune is None:
            budget.record("gbdt-tuned", NO_FOLDS, 0.0)
            return
        if budget.left() <= TUNING_MIN_TRIALS * members["gbdt"].fit_seconds:
            budget.record("gbdt-tuned", "skipped: too little time left", 0.0)
            return
        started = time.perf_counter()
        tuned = tune(budget)
        budget.record("gbdt-tuned", "fitted" if tuned is not None else "no trial finished in time", time.perf_counter() - started)
        if tuned is not None:
            add("gbdt-tuned", tuned)

    def neural() -> None:
        for name in (n for n in neural_steps(months) if n not in members):
            if budget.left() <= 0:
                budget.record(name, "skipped: too little time left", 0.0)
                continue
            started = time.perf_counter()
            member = fit(name, {}, 0, name, budget.deadline)
            budget.record(name, "fitted" if member is not None else "stopped: would not end in time", time.perf_counter() - started)
            if member is not None:
                add(name, member)

    for step in (neural, more_seeds, tuning) if months else (more_seeds, tuning, neural):
        step()
    return seeds, extra


def _seeds(budget: Budget, cost: float, fit: Fit) -> list:
    fitted = []
    for k in range(1, EXTRA_SEEDS + 1):
        step = f"gbdt seed {k + 1}"
        if budget.left() < cost:
            budget.record(step, "skipped: too little time left", 0.0)
            break
        started = time.perf_counter()
        member = fit("gbdt", {}, k * SEED_STRIDE, step, budget.deadline)
        budget.record(step, "fitted" if member is not None else "stopped: would not end in time", time.perf_counter() - started)
        if member is None:
            break
        fitted.append(member)
    return fitted
