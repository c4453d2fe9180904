"""Train / score / evaluate orchestration: the library calls behind every interface.

Training cross-fits every model on the same stratified folds: each fold's model is fitted on the
other folds and predicts its own, which gives honest out-of-fold (OOF) probabilities for every
training row. Ensemble weights, calibration, thresholds and the leaderboard all come from those
OOF probabilities, never from rows that are scored later; where one choice is tuned on the output
of another (a threshold on calibrated ensemble output), the earlier one is cross-fitted on the
same folds, so the printed OOF F1 stays a fair estimate for unseen rows. The predictor that is saved is then refitted
on all rows (neural models for the number of epochs early stopping chose in the folds), so
scoring costs one model per member.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from .calibration import CHOICES as CALIBRATION_CHOICES
from .calibration import Calibrator, choose_calibration
from .discovery import discover, select_within
from .ensemble import METHODS, Ensemble, fit_ensemble, nested_oof
from .diagnostics import training_checks
from .exceptions import DataError, DataWarning, HotleadsWarning, ParameterError
from .explain import fit_explainer, global_importance, reasons
from .features import Preprocessor
from .io import read_table
from .metrics import classification_metrics
from .profile import profile_table
from .neural import NEURAL_MODELS, NeuralClassifier, check_device
from .registry import make_model, parse_model_names
from .schema import Schema, infer_schema, is_name_column, prepare
from .threshold import REPORTED_OBJECTIVES, f1_optimal_threshold, objective_threshold, parse_objective

Progress = Callable[[str, int, int], None]  # (what just finished, steps done, steps in all)
ENSEMBLE_NAME = "ensemble"
FEATURE_MODES = ("auto", "raw")
# The command line's names of the neural parameters it sets; the messages use them.
NEURAL_OPTIONS = {"epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr", "loss": "--loss", "device": "--device"}


@dataclass
class TrainOptions:
    """What to train and how; ``neural_params`` go to the neural models only (epochs, lr, device...)."""

    models: list[str] = field(default_factory=lambda: ["gbdt"])
    folds: int = 5
    seed: int = 0
    threshold: float | None = None
    ensemble: str = "mean"
    features: str = "auto"
    objective: str = "f1"
    calibration: str = "auto"
    neural_params: dict = field(default_factory=dict)

    def check(self) -> None:
        """Raise :class:`~hotleads.exceptions.ParameterError` for the first bad option, before any work."""
        parse_model_names(",".join(self.models))
        if self.folds < 2:
            raise ParameterError(f"--folds must be an integer >= 2; got {self.folds}.")
        if not 0 <= self.seed <= 2**32 - self.folds:  # fold k seeds its models with seed + k, and numpy takes < 2**32
            raise ParameterError(f"--seed must be an integer from 0 to {2**32 - self.folds} with {self.folds} folds; got {self.seed}.")
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise ParameterError(f"--threshold must be between 0 and 1 (exclusive); got {self.threshold}.")
        if self.features not in FEATURE_MODES:
            raise ParameterError(f"--features must be one of {', '.join(FEATURE_MODES)}; got '{self.features}'.")
        if self.ensemble not in METHODS:
            raise ParameterError(f"--ensemble must be one of {', '.join(METHODS)}; got '{self.ensemble}'.")
        if self.calibration not in CALIBRATION_CHOICES:
            raise ParameterError(f"--calibration must be one of {', '.join(CALIBRATION_CHOICES)}; got '{self.calibration}'.")
        if parse_objective(self.objective).metric != "f1" and self.threshold is not None:
            raise ParameterError(f"--threshold and --objective {self.objective} both set the threshold; give one of them.")
        self._check_neural_params()

    def _check_neural_params(self) -> None:
        """``neural_params`` by the neural estimators' own rules, also when no neural model is chosen
        (``--epochs 0`` is a mistake either way); the messages use the command line's option names."""
        base_rules = NeuralClassifier._parameter_rules
        known = {name for model in NEURAL_MODELS.values() for name in model._parameter_rules}
        for name, value in self.neural_params.items():
            option = NEURAL_OPTIONS.get(name, f"neural parameter {name!r}")
            if name not in known:
                raise ParameterError(f"{option} is unknown to the neural models; choose from {', '.join(sorted(known))}.")
            if name == "device":
                check_device(value, name=option)
            elif name in base_rules and not base_rules[name][0](value):
                raise ParameterError(f"{option} must be {base_rules[name][1]}; got {value!r}.")
        for name in (name for name in self.models if name in NEURAL_MODELS):
            try:  # the rules of one model (e.g. the transformer's n_heads must divide d_token), in its own words
                make_model(name, categorical_features=[], random_state=self.seed, **self.neural_params)._check_params()
            except ValueError as exc:
                raise ParameterError(" ".join(str(exc).splitlines())) from None


@dataclass
class Member:
    """One registered model: the estimator fitted on all rows, and the OOF probabilities of its folds."""

    name: str
    estimator: object
    oof: np.ndarray
    fit_seconds: float

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Positive-class probability, shape (n_rows,)."""
        return self.estimator.predict_proba(X)[:, 1]


@dataclass
class LeadModel:
    """A trained hot-lead predictor: schema, preprocessing, members, ensemble, calibration and threshold.

    ``oof`` is the final predictor's calibrated out-of-fold probability (the threshold is tuned on
    it); ``oof_uncalibrated`` the same before calibration. ``thresholds`` holds the threshold each
    objective in :data:`~hotleads.threshold.REPORTED_OBJECTIVES` (and the training one) would pick.
    """

    schema: Schema
    preprocessor: Preprocessor
    members: dict[str, Member]
    ensemble: Ensemble | None
    threshold: float
    threshold_source: str
    oof: np.ndarray
    y: np.ndarray
    seed: int
    folds: int
    training: dict = field(default_factory=dict)
    discovery: dict | None = None
    calibrator: Calibrator = field(default_factory=Calibrator)
    calibration: dict = field(default_factory=dict)
    oof_uncalibrated: np.ndarray | None = None
    objective: str = "f1"
    thresholds: dict = field(default_factory=dict)
    profile: dict | None = None
    explainer: object | None = None  # hotleads.explain.Explainer
    importance: dict | None = None

    @property
    def final_name(self) -> str:
        return ENSEMBLE_NAME if self.ensemble else next(iter(self.members))

    @property
    def final_label(self) -> str:
        """The final predictor's leaderboard name: the ensemble, or the single member as calibrated."""
        if self.ensemble is not None or self.calibrator.method == "none":
            return self.final_name
        return f"{self.final_name} (calibrated)"

    def member_probas(self, X: np.ndarray) -> dict[str, np.ndarray]:
        return {name: member.predict_proba(X) for name, member in self.members.items()}

    def final_proba(self, member_probas: dict[str, np.ndarray]) -> np.ndarray:
        """The members combined, before calibration (shape (n_rows,))."""
        if self.ensemble is None:
            return next(iter(member_probas.values()))
        return self.ensemble.combine(np.column_stack([member_probas[name] for name in self.ensemble.members]))

    def leaderboard(self) -> list[dict]:
        """One row per member at its own OOF F1-optimal threshold, then the final predictor at its threshold."""
        rows = [_board_row(name, self.y, m.oof, f1_optimal_threshold(self.y, m.oof)[0], m.fit_seconds) for name, m in self.members.items()]
        fit_seconds = sum(m.fit_seconds for m in self.members.values())
        final = _board_row(self.final_label, self.y, self.oof, self.threshold, fit_seconds)
        if self.ensemble is None and self.final_label == self.final_name:
            if self.threshold_source != "oof-f1":
                rows[0] = final
            return rows
        return [*rows, final]

    def oof_metrics(self) -> dict:
        return classification_metrics(self.y, self.oof, self.threshold)


def _board_row(name: str, y: np.ndarray, oof: np.ndarray, threshold: float, fit_seconds: float) -> dict:
    metrics = classification_metrics(y, oof, threshold)
    keys = ("f1", "threshold", "precision", "recall", "pr_auc", "roc_auc", "f1_at_0_5")
    return {"model": name, **{key: metrics[key] for key in keys}, "fit_seconds": round(fit_seconds, 2)}


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train_file(
    path: str | Path, options: TrainOptions, *, progress: Progress | None = None, read_options: dict | None = None, **schema_options,
) -> LeadModel:
    """Read a labelled table (``read_options`` go to :func:`~hotleads.io.read_table`) and :func:`train` on it.

    The file's SHA-256 is recorded in the model.
    """
    options.check()
    frame = read_table(path, **(read_options or {}))
    model = train(frame, options, source=str(path), progress=progress, **schema_options)
    model.training.update(path=str(path), sha256=file_sha256(path))
    return model


def train(frame: pd.DataFrame, options: TrainOptions, *, source: str = "table", progress: Progress | None = None, **schema_options) -> LeadModel:
    """Validate, preprocess, cross-fit every model, ensemble, and choose the threshold on OOF output.

    A leak column, a small class or degenerate OOF scores are warned about (:class:`DataWarning`) and
    recorded in ``training["warnings"]``, with every column's single-column OOF ROC-AUC in
    ``training["column_auc"]`` (see :mod:`hotleads.diagnostics`).
    """
    options.check()
    schema = infer_schema(frame, source=source, **schema_options)
    prepared = prepare(frame, schema, source=source, labelled=True, training=True)
    preprocessor = Preprocessor().fit(prepared.features, schema)
    X, y = preprocessor.transform(prepared.features), prepared.y
    folds = _folds(y, options, source)
    fold_matrices, discovery = [X] * len(folds), None
    if options.features == "auto":
        fold_matrices, discovery = _discover_nested(preprocessor, prepared.features, X, y, folds, options.seed)
        X = preprocessor.transform(prepared.features)
    members = _cross_fit_all(X, fold_matrices, y, folds, preprocessor.categorical_indices, options, progress)
    ensemble, raw_oof = _combine(members, y, folds, options)
    calibrator, oof, calibration = choose_calibration(options.calibration, y, raw_oof, folds)
    thresholds = threshold_table(y, oof, options.objective)
    threshold, source_of_threshold = _decide_threshold(options, thresholds)
    objective = parse_objective(options.objective).name if source_of_threshold == "oof-objective" else "f1"
    checks = training_checks(prepared.features, schema, y, oof, folds)
    for found in checks["warnings"]:
        warnings.warn(found["message"], DataWarning, stacklevel=2)
    model = LeadModel(
        schema=schema, preprocessor=preprocessor, members=members, ensemble=ensemble,
        threshold=threshold, threshold_source=source_of_threshold, oof=oof, y=y,
        seed=options.seed, folds=options.folds, training={"source": source, "rows": int(len(y)), **checks}, discovery=discovery,
        calibrator=calibrator, calibration=calibration, oof_uncalibrated=raw_oof, objective=objective,
        thresholds=thresholds,
    )
    model.profile = profile_table(prepared.features, schema, y)
    model.explainer = fit_explainer(model, prepared.features)
    model.importance = global_importance(model, prepared.features)
    return model


def threshold_table(y: np.ndarray, oof: np.ndarray, objective: str = "f1") -> dict[str, dict]:
    """What each reported objective (and ``objective``) would choose on the OOF probabilities."""
    names = dict.fromkeys([*REPORTED_OBJECTIVES, parse_objective(objective).name])
    return {name: objective_threshold(y, oof, parse_objective(name)) for name in names}


def _decide_threshold(options: TrainOptions, thresholds: dict[str, dict]) -> tuple[float, str]:
    if options.threshold is not None:
        return options.threshold, "user"
    objective = parse_objective(options.objective)
    chosen = thresholds[objective.name]
    if not chosen["attainable"]:
        best = thresholds["f1"]
        warnings.warn(
            f"--objective {objective.name}: no threshold reaches it on the out-of-fold predictions "
            f"(at the F1-optimal threshold precision is {best['precision']:.3f} and recall {best['recall']:.3f}); "
            "the model uses the F1-optimal threshold instead; retrain with a lower target to change it.",
            ObjectiveWarning, stacklevel=3,
        )
        return best["threshold"], "oof-f1"
    return chosen["threshold"], "oof-f1" if objective.metric == "f1" else "oof-objective"


class ObjectiveWarning(HotleadsWarning):
    """The requested threshold objective cannot be met; the F1-optimal threshold is used."""


def _folds(y: np.ndarray, options: TrainOptions, source: str) -> list[tuple[np.ndarray, np.ndarray]]:
    smallest = int(np.bincount(y).min())
    if smallest < options.folds:
        raise DataError(f"{source}: the smaller class has {smallest} row(s), fewer than --folds {options.folds}; add labelled rows or lower --folds.")
    splitter = StratifiedKFold(n_splits=options.folds, shuffle=True, random_state=options.seed)
    return list(splitter.split(np.zeros(len(y)), y))


def _discover_nested(preprocessor: Preprocessor, features: pd.DataFrame, X: np.ndarray, y: np.ndarray, folds, seed: int) -> tuple[list[np.ndarray], dict]:
    """Feature discovery for the saved predictor (all rows, added to ``preprocessor``) and, nested, for each fold.

    Fold *k*'s models read the features chosen without fold *k*'s labels, so their OOF output
    stays a fair estimate for unseen rows. Returns (one matrix per fold, the all-rows evidence).
    """
    base, categorical = preprocessor.base_frame(features), preprocessor.categorical_indices
    found = discover(base, X, y, categorical=categorical, seed=seed)
    matrices = []
    for train_rows, _ in folds:
        kept = select_within(train_rows, found, base, X, y, categorical=categorical, seed=seed)
        fold_preprocessor = Preprocessor.from_dict(preprocessor.to_dict()).add_derived(kept)
        matrices.append(fold_preprocessor.transform(features))
    preprocessor.add_derived(found.kept)
    return matrices, found.to_dict() | {"kept_per_fold": [m.shape[1] - X.shape[1] for m in matrices]}


def _cross_fit_all(X, fold_matrices, y, folds, categorical, options: TrainOptions, progress: Progress | None) -> dict[str, Member]:
    """Fit each model on every fold (fold k reads ``fold_matrices[k]``) for OOF output, then on all of ``X``."""
    steps = len(folds) + 1
    members = {}
    for m, name in enumerate(options.models):
        params = options.neural_params if name in NEURAL_MODELS else {}
        oof, fold_estimators, started = np.empty(len(y)), [], time.perf_counter()
        for k, (train_rows, valid_rows) in enumerate(folds):
            estimator = make_model(name, categorical_features=categorical, random_state=options.seed + k, **params)
            estimator.fit(fold_matrices[k][train_rows], y[train_rows])
            oof[valid_rows] = estimator.predict_proba(fold_matrices[k][valid_rows])[:, 1]
            fold_estimators.append(estimator)
            _report(progress, f"{name}: fold {k + 1}/{len(folds)}", m * steps + k + 1, len(options.models) * steps)
        params = {**params, **refit_params(fold_estimators)}
        final = make_model(name, categorical_features=categorical, random_state=options.seed, **params).fit(X, y)
        _report(progress, f"{name}: refit on all rows", (m + 1) * steps, len(options.models) * steps)
        members[name] = Member(name, final, oof, time.perf_counter() - started)
    return members


def refit_params(fold_estimators: list) -> dict:
    """Parameters for the all-rows refit: neural models train for the median early-stopped epoch count."""
    epochs = [getattr(estimator, "best_epoch_", None) for estimator in fold_estimators]
    if None in epochs:
        return {}
    return {"epochs": max(1, int(np.median(epochs))), "patience": None, "validation_fraction": 0.0}


def _report(progress: Progress | None, label: str, done: int, total: int) -> None:
    if progress:
        progress(label, done, total)


def _combine(members: dict[str, Member], y, folds, options: TrainOptions) -> tuple[Ensemble | None, np.ndarray]:
    if len(members) == 1:
        return None, next(iter(members.values())).oof
    names = list(members)
    oof_matrix = np.column_stack([members[name].oof for name in names])
    ensemble = fit_ensemble(options.ensemble, names, oof_matrix, y, seed=options.seed)
    return ensemble, nested_oof(options.ensemble, names, oof_matrix, y, folds, seed=options.seed)


def score(
    model: LeadModel, frame: pd.DataFrame, *, source: str = "table", labelled: bool = False, top_k: int | None = None,
    explain: bool | int = False,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray | None]:
    """Score a table: (one row per company; member probabilities; labels).

    The frame has ``Id``, ``name`` (when the table has a name column), the calibrated
    ``probability``, ``lead_score`` 0-100, ``rank`` (1 = best; ties broken by the uncalibrated
    score), ``tier`` and ``prediction``: 1 at or above the threshold, or for the ``top_k``
    best-ranked rows when ``top_k`` is given (a team's calling capacity). ``explain=True`` adds
    ``reason_1..3`` (see :mod:`hotleads.explain`) to every row; ``explain=N`` only to the N
    best-ranked (explaining costs about one prediction per column).
    """
    if top_k is not None and top_k < 1:
        raise ParameterError(f"--top-k must be a positive number of companies; got {top_k}.")
    prepared = prepare(frame, model.schema, source=source, labelled=labelled)
    X = model.preprocessor.transform(prepared.features)
    member_probas = model.member_probas(X)
    raw = model.final_proba(member_probas)
    proba = model.calibrator.transform(raw)
    rank = _rank(proba, raw)
    columns = {"Id": prepared.ids.to_numpy()}
    name = find_name_column(frame, model.schema)
    if name:
        names = frame[name].to_numpy()
        columns["name"] = names if prepared.rows is None else names[prepared.rows]
    scored = pd.DataFrame({
        **columns,
        "probability": proba,
        "lead_score": np.rint(proba * 100).astype(int),
        "rank": rank,
        "tier": tiers(proba, model.threshold),
        "prediction": (rank <= top_k if top_k is not None else proba >= model.threshold).astype(int),
    })
    if explain is True:
        scored = pd.concat([scored, reasons(model, prepared.features).reset_index(drop=True)], axis=1)
    elif explain:
        best = np.flatnonzero(rank <= explain)
        explained = reasons(model, prepared.features.iloc[best]).set_axis(best)
        scored = scored.join(explained).fillna({column: "" for column in explained.columns})
    return scored, member_probas, prepared.y


TIER_HELP = "hot: at or above the decision threshold; warm: at least half of it; cold: below that."


def tiers(proba: np.ndarray, threshold: float) -> np.ndarray:
    """hot / warm / cold by calibrated probability (cut-offs in :data:`TIER_HELP`)."""
    return np.select([proba >= threshold, proba >= threshold / 2], ["hot", "warm"], "cold")


def _rank(proba: np.ndarray, raw: np.ndarray) -> np.ndarray:
    order = np.lexsort((-raw, -proba))  # calibration makes steps; the raw score orders within one
    rank = np.empty(len(proba), dtype=np.int64)
    rank[order] = np.arange(1, len(proba) + 1)
    return rank


def find_name_column(frame: pd.DataFrame, schema: Schema) -> str | None:
    """A company-name column the schema does not use as a feature (e.g. ``company_name``), if any."""
    for column in frame.columns:
        if is_name_column(column) and column not in (*schema.features, schema.id, schema.target):
            return column
    return None


def evaluate(model: LeadModel, frame: pd.DataFrame, *, source: str = "table") -> dict:
    """Metrics of the final predictor at its threshold, and of each member at its own OOF threshold."""
    scored, member_probas, y = score(model, frame, source=source, labelled=True)
    result = {"final": model.final_name, "metrics": classification_metrics(y, scored["probability"], model.threshold), "members": {}}
    for name, proba in member_probas.items():
        threshold = f1_optimal_threshold(model.y, model.members[name].oof)[0]
        result["members"][name] = classification_metrics(y, proba, threshold)
    return result
