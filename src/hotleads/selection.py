"""``--models auto``: choose the models to save by out-of-fold F1, and score the choosing nested.

Every candidate model is cross-fitted on the same folds; the candidates are each model alone and
the ensemble of all of them (its weights nested, :func:`hotleads.ensemble.nested_oof`). A
candidate's score is its out-of-fold F1 at its F1-optimal threshold, the figure its saved
threshold is chosen by. Scoring each candidate at a *nested* threshold instead (fold k's rows at
the threshold best on the other folds) sounds more honest but chose worse: on 48 generated
tables (``bench/selection_rules.py``) it left the choice more than 0.005 test F1 behind the best
single model on 19 % of them, against 8 % for the plain score, because the nested threshold adds
noise of its own on small folds.

Picking the best of several scores is itself optimistic, so :func:`choose` scores the choosing:
fold k's rows go to the candidate that wins on the other folds, classified at that candidate's
threshold from the other folds. That figure (``Selection.nested_f1``) is what ``auto`` can be
expected to reach on unseen rows of the same kind; AutoGluon and auto-sklearn report the
un-nested best instead (Cawley & Talbot, 2010, "On over-fitting in model selection", JMLR 11).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import f1_score

from .ensemble import nested_oof
from .folds import Fold, out_of_fold
from .threshold import f1_optimal_threshold

AUTO = "auto"
# The cheap models auto always tries: together they fit in seconds on tens of thousands of rows.
CANDIDATE_MODELS = ("gbdt", "logreg")


@dataclass
class Selection:
    """What ``auto`` tried and chose: each candidate's out-of-fold F1, the winner and the choosing's own nested F1.

    ``candidates`` maps a candidate's name (``"gbdt"``, ``"gbdt+logreg"``) to its members and
    score; ``chosen`` is the winner's name; ``nested_f1`` the out-of-fold F1 of choosing (see the
    module docstring).
    """

    candidates: dict[str, dict] = field(default_factory=dict)  # name -> {"members": [...], "f1": float}
    chosen: str = ""
    nested_f1: float = 0.0
    held_out: str = "out-of-fold predictions"  # what the scores come from, in words

    @property
    def members(self) -> list[str]:
        """The models the chosen candidate combines."""
        return self.candidates[self.chosen]["members"]

    def reason(self) -> str:
        """Why, in one sentence (the command line and the report say it the same way).

        Examples
        --------
        >>> s = Selection({"gbdt": {"members": ["gbdt"], "f1": 0.7}, "logreg": {"members": ["logreg"], "f1": 0.75}}, "logreg", 0.74)
        >>> s.reason()
        '--models auto chose logreg: the highest F1 on the out-of-fold predictions, 0.7500 (gbdt 0.7000); choosing this way scores 0.7400, nested.'
        """
        others = ", ".join(f"{name} {c['f1']:.4f}" for name, c in self.candidates.items() if name != self.chosen)
        return (
            f"--models auto chose {self.chosen}: the highest F1 on the {self.held_out}, {self.candidates[self.chosen]['f1']:.4f}"
            f"{f' ({others})' if others else ''}; choosing this way scores {self.nested_f1:.4f}, nested."
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Selection:
        return cls(**data)


def candidate_outputs(
    member_oof: dict[str, np.ndarray], y: np.ndarray, folds: list[Fold], *, ensemble: str, seed: int, groups: list[list[str]] = ()
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each candidate's out-of-fold probabilities: ``{name: (members, oof (n_rows,))}``, each model alone, then (2+ models) their ensemble.

    ``groups``: more ensembles to try, each of some of the models (with a history, the models that
    read its months, so that their mean is weighed without the aggregate models beside them); a
    group of fewer than 2 models, or of all of them, adds nothing.
    """
    outputs = {name: ([name], oof) for name, oof in member_oof.items()}
    for names in [list(member_oof), *(list(g) for g in groups if 1 < len(g) < len(member_oof))]:
        if len(names) > 1:
            matrix = np.column_stack([member_oof[name] for name in names])
            outputs["+".join(names)] = (names, nested_oof(ensemble, names, matrix, y, folds, seed=seed))
    return outputs


def choose(outputs: dict[str, tuple[list[str], np.ndarray]], y: np.ndarray, folds: list[Fold], *, held_out: str = "out-of-fold predictions") -> Selection:
    """The candidate of ``outputs`` (:func:`candidate_outputs`) with the highest out-of-fold F1 at its F1-optimal threshold; earlier ones win ties.

    ``held_out`` names the rows of ``y`` in the reason (the validation split's, with ``train --validation``).

    Raises
    ------
    ValueError
        ``outputs`` is empty.
    """
    if not outputs:
        raise ValueError("auto needs at least one candidate to choose from.")
    scores = {name: f1_optimal_threshold(y, proba)[1] for name, (_, proba) in outputs.items()}
    chosen = max(scores, key=scores.get)  # the first of equal scores: a model alone before the ensemble
    candidates = {name: {"members": list(members), "f1": scores[name]} for name, (members, _) in outputs.items()}
    return Selection(candidates, chosen, _choosing_f1(outputs, y, folds), held_out)


def _choosing_f1(outputs: dict[str, tuple[list[str], np.ndarray]], y: np.ndarray, folds: list[Fold]) -> float:
    """Out-of-fold F1 of choosing: fold k's rows from the candidate with the highest F1 on the other folds, at its threshold from them."""

    def fold_predictions(_k, train, valid):
        winner = max(outputs, key=lambda name: f1_optimal_threshold(y[train], outputs[name][1][train])[1])
        proba = outputs[winner][1]
        return proba[valid] >= f1_optimal_threshold(y[train], proba[train])[0]

    return _f1(y, out_of_fold(folds, fold_predictions, len(y)))


def _f1(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(f1_score(y, predicted.astype(bool), zero_division=0.0))
