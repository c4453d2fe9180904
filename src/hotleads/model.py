"""The trained model, split by what each part is for.

- :class:`Predictor`: exactly what scoring needs (schema, preprocessing, members, combiner,
  calibrator, threshold, explainer). A scoring service or a cluster worker loads only this
  (:func:`hotleads.bundle.load_predictor`).
- :class:`TrainingEvidence`: what training found out (held-out outputs, the leaderboard, the
  threshold each objective would choose, the calibration comparison, discovered features, the
  data profile, importance, warnings). Reports and the command line read it; scoring never does.
- :class:`LeadModel`: the two together, as :func:`hotleads.train` returns them and
  :func:`hotleads.bundle.save` writes them.

Each question has one answer in one place: *is it calibrated?* :attr:`Predictor.calibrated`;
*which threshold, chosen how, by which objective?* :class:`Threshold`; *which leaderboard row is
final?* the row flagged ``final`` in :attr:`TrainingEvidence.leaderboard` (built once, by
:func:`hotleads.metrics.leaderboard`). Both parts serialise field by field (:meth:`Predictor.to_dict`,
:meth:`TrainingEvidence.to_parts`), so a new field is added to its dataclass and nowhere else.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .base import positive_proba
from .calibration import Calibrator
from .ensemble import Ensemble
from .explain import Explainer
from .features import Preprocessor
from .history import HistorySpec
from .metrics import classification_metrics
from .schema import Schema

ENSEMBLE_NAME = "ensemble"


class ThresholdSource(enum.StrEnum):
    """Where a model's decision threshold came from.

    "oof" names the training data's held-out predictions: out of fold, or on the validation split
    when :attr:`Threshold.validation` is set (the values stay, so older model directories load).
    """

    OOF_F1 = "oof-f1"  # the highest F1 on the held-out predictions
    OOF_OBJECTIVE = "oof-objective"  # meets --objective (precision>=P or recall>=R) on the held-out predictions
    USER = "user"  # set by hand (--threshold)


def held_out_words(validation: float | None) -> str:
    """The training rows whose held-out predictions chose the threshold, calibration and weights, in words.

    Examples
    --------
    >>> held_out_words(None), held_out_words(0.1)
    ('the out-of-fold predictions of the training data', 'the validation split (10 % of the training rows)')
    """
    if validation is None:
        return "the out-of-fold predictions of the training data"
    return f"the validation split ({percent(validation)} of the training rows)"


def time_ordered_words(column: str) -> str:
    """The held-out predictions of ``train --time-column``, in words.

    Examples
    --------
    >>> time_ordered_words("created_date")
    "the time-ordered out-of-fold predictions (each period scored by models trained on the periods before it, by 'created_date')"
    """
    return f"the time-ordered out-of-fold predictions (each period scored by models trained on the periods before it, by '{column}')"


def percent(share: float) -> str:
    """``0.1`` -> ``"10 %"``, ``0.125`` -> ``"12.5 %"``."""
    return f"{share * 100:g} %"


@dataclass(frozen=True)
class Threshold:
    """The decision threshold (``probability >= value`` is a hot lead), its source and the objective that chose it.

    ``validation`` is the share of the training rows in the validation split it was chosen on
    (``train --validation``); None when it was chosen out of fold, or set by hand.

    Examples
    --------
    >>> t = Threshold(0.62, ThresholdSource.OOF_OBJECTIVE, "precision>=0.9")
    >>> t.reason(), t.chose("precision>=0.9"), t.chose("f1")
    ('it meets the training objective precision>=0.9 on the out-of-fold predictions of the training data', True, False)
    >>> Threshold(0.4, ThresholdSource.OOF_F1, "f1", validation=0.1).reason()
    'it gives the highest F1 on the validation split (10 % of the training rows)'
    """

    value: float
    source: ThresholdSource
    objective: str | None = "f1"  # None when set by hand
    validation: float | None = None
    time_column: str | None = None  # chosen on time-ordered out-of-fold predictions (train --time-column)

    def reason(self) -> str:
        """Why this threshold, in words (the command line, the report and the service say it the same way)."""
        if self.source is ThresholdSource.USER:
            return "it was set by hand when the model was trained (--threshold)"
        on = held_out_words(self.validation) if self.time_column is None else time_ordered_words(self.time_column)
        if self.source is ThresholdSource.OOF_OBJECTIVE:
            return f"it meets the training objective {self.objective} on {on}"
        return f"it gives the highest F1 on {on}"

    def chose(self, objective: str) -> bool:
        """Whether ``objective`` (e.g. ``"f1"``, ``"recall>=0.8"``) is the one that set this threshold."""
        return self.source is not ThresholdSource.USER and objective == self.objective

    def to_dict(self) -> dict:
        """JSON-able; ``validation`` only when set, so an out-of-fold threshold is saved as before."""
        data = {"value": float(self.value), "source": self.source.value, "objective": self.objective}
        if self.validation is not None:
            data["validation"] = float(self.validation)
        return data if self.time_column is None else data | {"time_column": self.time_column}

    @classmethod
    def from_dict(cls, data: dict) -> Threshold:
        return cls(float(data["value"]), ThresholdSource(data["source"]), data["objective"], data.get("validation"), data.get("time_column"))


@dataclass
class Predictor:
    """What scoring needs: roles, preprocessing, fitted members, how they combine, calibration, threshold.

    ``members`` maps each model name to its fitted estimator (read the same preprocessed matrix);
    ``combiner`` is None for a single member.
    """

    schema: Schema
    preprocessor: Preprocessor
    members: dict[str, Any]
    combiner: Ensemble | None
    calibrator: Calibrator
    threshold: Threshold
    explainer: Explainer | None = None
    history: HistorySpec | None = None  # set when trained with a monthly history: scoring needs one too

    @property
    def name(self) -> str:
        """``"ensemble"``, or the single member's model name."""
        return ENSEMBLE_NAME if self.combiner is not None else next(iter(self.members))

    @property
    def calibrated(self) -> bool:
        return self.calibrator.method != "none"

    @property
    def label(self) -> str:
        """The final predictor's leaderboard name: the ensemble, or the single member, ``(calibrated)`` when it is."""
        if self.combiner is not None or not self.calibrated:
            return self.name
        return f"{self.name} (calibrated)"

    def member_probas(self, X: np.ndarray, sequences: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Each member's hot-lead probability on the preprocessed matrix ``X`` (n_rows, n_features): (n_rows,) each.

        ``sequences (n_rows, T, C)``: the rows' monthly windows, for members that read them (a model trained with ``--history``).
        """
        return {name: positive_proba(estimator, X, sequences=sequences) for name, estimator in self.members.items()}

    def combine(self, member_probas: dict[str, np.ndarray]) -> np.ndarray:
        """The members' probabilities combined, before calibration, shape (n_rows,)."""
        if self.combiner is None:
            return next(iter(member_probas.values()))
        return self.combiner.combine(np.column_stack([member_probas[name] for name in self.combiner.members]))

    def to_dict(self) -> dict:
        """Every part but the members (which save files of their own) as JSON-able data."""
        return {f.name: None if (value := getattr(self, f.name)) is None else value.to_dict() for f in fields(self) if f.name != "members"}

    @classmethod
    def from_dict(cls, data: dict, members: dict[str, Any]) -> Predictor:
        """Inverse of :meth:`to_dict`, with the loaded ``members``; each part's class comes from the field's type."""
        hints = typing.get_type_hints(cls)
        parts = {name: None if value is None else _part_class(hints[name]).from_dict(value) for name, value in data.items()}
        return cls(members=members, **parts)


def _part_class(hint) -> type:
    """``Ensemble | None`` -> ``Ensemble``."""
    if isinstance(hint, types.UnionType):
        return next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint


@dataclass
class TrainingEvidence:
    """What training found out about the data and the models, from held-out (out-of-fold) predictions.

    Arrays have one entry per held-out training row, in the table's order: every row when the
    models were cross-fitted on ``folds`` folds; with a validation split (``validation``, the
    share of rows set aside by ``train --validation``) only the validation rows, whose positions
    in the training table are ``validation_rows`` (``folds`` then counts the folds of the nested
    ensemble and calibration over those rows). ``oof`` is the final predictor's held-out probability
    as it scores (the saved calibrator applied to ``oof_uncalibrated``, the held-out scores before
    calibration; its threshold was tuned on it), ``oof_nested`` the held-out probability calibrated
    out of fold (each fold by a calibrator fitted on the others: what the calibration figures show;
    None when uncalibrated).
    ``leaderboard`` has a row per member at its own held-out F1-optimal
    threshold and the final predictor at its threshold, flagged ``final`` (a single uncalibrated
    member is its own final row). ``thresholds`` holds what each objective of
    :data:`~hotleads.threshold.REPORTED_OBJECTIVES` (and the training one) would choose;
    ``calibration`` the Brier scores of each calibration tried. ``training`` holds the source
    table, its rows (all of them) and SHA-256, and :func:`~hotleads.diagnostics.training_checks`'
    findings (on the held-out rows); ``search`` the evidence of the ``hotleads tune`` run whose
    parameters were used, if any.
    """

    y: np.ndarray
    oof: np.ndarray
    oof_uncalibrated: np.ndarray
    member_oof: dict[str, np.ndarray]
    seed: int
    folds: int
    leaderboard: list[dict]
    thresholds: dict[str, dict]
    calibration: dict
    training: dict = field(default_factory=dict)
    discovery: dict | None = None
    profile: dict | None = None
    importance: dict | None = None
    search: dict | None = None  # {model: hotleads tune's trials, best so far, importance, set-aside comparison}
    validation: float | None = None  # share of the rows in the validation split; None: cross-fitted on ``folds`` folds
    validation_rows: np.ndarray | None = None  # the validation rows' positions in the training table (n_held_out,)
    bagged: bool = False  # the saved members are bags of their fold models (hotleads.bagging), not refits
    selection: dict | None = None  # --models auto: hotleads.selection.Selection.to_dict()
    oof_nested: np.ndarray | None = None  # calibrated out of fold; older model directories lack it

    @property
    def held_out(self) -> str:
        """What ``oof`` is, as titles and legends name it: ``"out-of-fold"`` or ``"validation split"``."""
        return "out-of-fold" if self.validation is None else "validation split"

    @property
    def held_out_title(self) -> str:
        """Where the figures come from, with the numbers, as the command line and the report title it.

        Examples
        --------
        >>> y = np.array([0, 1])
        >>> TrainingEvidence(y, y, y, {}, 0, 5, [], {}, {}, {"rows": 900}).held_out_title
        'out-of-fold, 5 folds, 900 rows'
        >>> TrainingEvidence(y, y, y, {}, 0, 5, [], {}, {}, {"rows": 20}, validation=0.1).held_out_title
        'validation split (10 %, 2 rows)'
        """
        if self.validation is None:
            return f"out-of-fold, {self.folds} folds, {self.training.get('rows', len(self.y))} rows"
        return f"validation split ({percent(self.validation)}, {len(self.y)} rows)"

    @property
    def final_row(self) -> dict:
        return next(row for row in self.leaderboard if row["final"])

    def member_threshold(self, name: str) -> float:
        """Member ``name``'s own held-out F1-optimal threshold (its leaderboard row's; the final one's when it is the final)."""
        row = next((row for row in self.leaderboard if row["model"] == name and not row["final"]), None)
        return (row or self.final_row)["threshold"]

    def to_parts(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able fields, arrays): arrays and dicts of arrays go to the second part as ``field`` / ``field.key``."""
        data, arrays = {}, {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                arrays[f.name] = value
            elif f.name == "member_oof":
                arrays.update({f"{f.name}.{name}": array for name, array in value.items()})
            else:
                data[f.name] = value
        return data, arrays

    @classmethod
    def from_parts(cls, data: dict, arrays: dict[str, np.ndarray]) -> TrainingEvidence:
        values = dict(data)
        for f in fields(cls):
            if f.name in arrays:
                values[f.name] = arrays[f.name]
            elif f.name == "member_oof":
                prefix = f"{f.name}."
                values[f.name] = {key[len(prefix) :]: array for key, array in arrays.items() if key.startswith(prefix)}
        return cls(**values)


@dataclass
class LeadModel:
    """A trained hot-lead model: the :class:`Predictor` that scores and the :class:`TrainingEvidence` behind it."""

    predictor: Predictor
    evidence: TrainingEvidence

    def oof_metrics(self) -> dict:
        """:func:`~hotleads.metrics.classification_metrics` of the final predictor's held-out output (OOF or validation split) at its threshold."""
        return classification_metrics(self.evidence.y, self.evidence.oof, self.predictor.threshold.value)
