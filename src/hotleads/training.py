"""Training: cross-fit, ensemble, calibrate, choose the threshold, all on out-of-fold output.

Training cross-fits every model on the same stratified folds: each fold's model is fitted on the
other folds and predicts its own, which gives honest out-of-fold (OOF) probabilities for every
training row. Ensemble weights, calibration, thresholds and the leaderboard all come from those
OOF probabilities, never from rows that are scored later; where one choice is tuned on the output
of another (a threshold on calibrated ensemble output), the earlier one is cross-fitted on the
same folds, so the printed OOF F1 stays a fair estimate for unseen rows. The predictor that is saved is then refitted
on all rows (neural models for the number of epochs early stopping chose in the folds), so
scoring costs one model per member.

With a validation split (``TrainOptions.validation``, ``train --validation 0.1``) each model is
fitted once, on the fit rows, and that model is saved (no refit: on a big table this is the time
saved); ensemble weights, calibration, thresholds and the leaderboard come from the validation
rows alone, the ensemble and calibration nested on ``folds`` stratified folds of those rows.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration import CHOICES as CALIBRATION_CHOICES
from .calibration import choose_calibration
from .diagnostics import training_checks
from .discovery import discover, select_within
from .ensemble import METHODS, Ensemble, fit_ensemble, nested_oof
from .exceptions import DataError, DataWarning, HotleadsWarning, ParameterError
from .explain import fit_explainer, global_importance
from .features import Preprocessor
from .folds import Fold, out_of_fold, stratified_folds, validation_split
from .io import read_table, sha256_file
from .metrics import leaderboard
from .model import LeadModel, Predictor, Threshold, ThresholdSource, TrainingEvidence, held_out_words
from .neural_params import check_device
from .profile import profile_table
from .registry import NEURAL, check_params, make_model, param_names, parse_model_names
from .schema import Prepared, Schema, infer_schema, prepare
from .threshold import REPORTED_OBJECTIVES, f1_optimal_threshold, objective_threshold, parse_objective
from .timing import stage

Progress = Callable[[str, int, int], None]  # (what just finished, steps done, steps in all)
FEATURE_MODES = ("auto", "raw")
# The command line's names of the neural parameters it sets; the messages use them.
NEURAL_OPTIONS = {"epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr", "loss": "--loss", "device": "--device"}


@dataclass
class TrainOptions:
    """What to train and how.

    ``neural_params`` go to every neural model (epochs, lr, device...); ``model_params`` to one
    model each (``{"gbdt": {"num_leaves": 31}}``, as ``hotleads tune`` writes them in ``best.json``)
    and win over ``neural_params``. ``validation`` (a share in (0, 0.5]) replaces the ``folds``
    cross-fitting and the refit by one stratified validation split; ``folds`` then splits the
    validation rows for the nested ensemble and calibration.
    """

    models: list[str] = field(default_factory=lambda: ["gbdt"])
    folds: int = 5
    seed: int = 0
    threshold: float | None = None
    ensemble: str = "mean"
    features: str = "auto"
    objective: str = "f1"
    calibration: str = "auto"
    neural_params: dict = field(default_factory=dict)
    model_params: dict[str, dict] = field(default_factory=dict)
    validation: float | None = None

    def params(self, name: str) -> dict:
        """The parameters model ``name`` is built with (beyond ``categorical_features`` and ``random_state``)."""
        shared = self.neural_params if name in NEURAL else {}
        return {**shared, **self.model_params.get(name, {})}

    def check(self) -> None:
        """Raise :class:`~hotleads.exceptions.ParameterError` for the first bad option, before any work."""
        parse_model_names(",".join(self.models))
        if self.folds < 2:
            raise ParameterError(f"--folds must be an integer >= 2; got {self.folds}.")
        if not 0 <= self.seed <= 2**32 - self.folds:  # fold k seeds its models with seed + k, and numpy takes < 2**32
            raise ParameterError(f"--seed must be an integer from 0 to {2**32 - self.folds} with {self.folds} folds; got {self.seed}.")
        if self.validation is not None and not 0.0 < self.validation <= 0.5:
            raise ParameterError(f"--validation must be a share of the rows above 0 and at most 0.5 (e.g. 0.1); got {self.validation}.")
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
        self._check_model_params()

    def _check_model_params(self) -> None:
        for name in self.model_params:
            if name not in self.models:
                raise ParameterError(f"--params has parameters for {name}, which --models does not train ({', '.join(self.models)}).")
            try:
                check_params(name, self.params(name))
            except ValueError as exc:
                raise ParameterError(f"--params, {name}: " + " ".join(str(exc).splitlines())) from None

    def _check_neural_params(self) -> None:
        """``neural_params`` by the neural estimators' own rules, also when no neural model is chosen
        (``--epochs 0`` is a mistake either way), without importing torch; the messages use the
        command line's option names."""
        known = {name: model for model in sorted(NEURAL) for name in param_names(model)}
        for name, value in self.neural_params.items():
            option = NEURAL_OPTIONS.get(name, f"neural parameter {name!r}")
            if name not in known:
                raise ParameterError(f"{option} is unknown to the neural models; choose from {', '.join(sorted(known))}.")
            if name == "device":
                check_device(value, name=option)
                continue
            try:
                check_params(known[name], {name: value})
            except ValueError as exc:  # "The 'lr' parameter of CNNClassifier must be X. Got Y instead." -> "--lr must be X; got Y."
                rule = re.match(r"The '\w+' parameter of \w+ must be (.*)\. Got .* instead\.", str(exc), re.S)
                raise ParameterError(f"{option} must be {_plain_rule(rule.group(1))}; got {value!r}." if rule else str(exc)) from None
        for model in (name for name in self.models if name in NEURAL):
            try:  # the rules of one model (e.g. the transformer's n_heads must divide d_token), in its own words
                check_params(model, {name: value for name, value in self.neural_params.items() if name in param_names(model)})
            except ValueError as exc:
                raise ParameterError(" ".join(str(exc).splitlines())) from None


def _plain_rule(rule: str) -> str:
    """scikit-learn's wording of a constraint, as a command-line user reads it.

    Examples
    --------
    >>> _plain_rule("an int in the range [1, inf)"), _plain_rule("a float in the range (0.0, inf)")
    ('an int >= 1', 'a float > 0.0')
    >>> _plain_rule("a str among {'categorical', 'binary'}")  # scikit-learn lists a set: in any order
    "'binary' or 'categorical'"
    """
    if options := re.fullmatch(r"a str among \{(.*)\}", rule):
        return " or ".join(sorted(part.strip() for part in options.group(1).split(",")))
    if bound := re.fullmatch(r"(an? \w+) in the range ([\[(])(.+?), inf\)", rule):
        kind, bracket, low = bound.groups()
        return f"{kind} {'>=' if bracket == '[' else '>'} {low}"
    return rule


@dataclass
class _Member:
    """One model during training: the estimator to save, its held-out probabilities and fit time.

    With k folds the estimator is refitted on all rows and ``oof`` covers every row; with a
    validation split it is the one fitted on the fit rows and ``oof`` covers the validation rows.
    """

    estimator: object
    oof: np.ndarray
    fit_seconds: float


def train_file(
    path: str | Path,
    options: TrainOptions,
    *,
    progress: Progress | None = None,
    read_options: dict | None = None,
    search: dict | None = None,
    **schema_options,
) -> LeadModel:
    """Read a labelled table (``read_options`` go to :func:`~hotleads.io.read_table`) and :func:`train` on it.

    The file's path and SHA-256 are recorded in ``evidence.training``.
    """
    options.check()
    with stage("read"):
        frame = read_table(path, **(read_options or {}))
    model = train(frame, options, source=str(path), progress=progress, search=search, **schema_options)
    model.evidence.training.update(path=str(path), sha256=sha256_file(path))
    return model


def train(
    frame: pd.DataFrame, options: TrainOptions, *, source: str = "table", progress: Progress | None = None, search: dict | None = None, **schema_options
) -> LeadModel:
    """Validate, preprocess, cross-fit every model, ensemble, calibrate and choose the threshold on OOF output.

    ``schema_options`` go to :func:`~hotleads.schema.infer_schema` (``target``, ``id_column``,
    ``drop``...). ``search`` is the evidence of the ``hotleads tune`` run that chose
    ``options.model_params`` (:func:`hotleads.tune.read_params`), kept for the report. A leak column, a small class or degenerate OOF scores are warned about
    (:class:`DataWarning`) and recorded in ``evidence.training["warnings"]``, with every column's
    single-column OOF ROC-AUC in ``evidence.training["column_auc"]`` (see :mod:`hotleads.diagnostics`).
    With ``options.validation`` the models are fitted once, on the fit rows, and everything after
    them (weights, calibration, threshold, leaderboard, warnings) comes from the validation rows.

    Raises
    ------
    DataError
        The table cannot be used (columns, values, too few rows of a class for the folds or the validation split).
    ParameterError
        An option is invalid (checked before any work).
    """
    options.check()
    inputs = cross_fit_inputs(frame, options, source=source, **schema_options)
    schema, prepared, preprocessor = inputs.schema, inputs.prepared, inputs.preprocessor
    y, folds = inputs.y[inputs.held_out], inputs.held_out_folds  # every row out of fold, or the validation rows
    with stage("fitting"):
        members = _cross_fit_all(inputs, options, progress)
    with stage("calibration"):
        combiner, oof_uncalibrated = _combine(members, y, folds, options)
        calibrator, oof, calibration = choose_calibration(options.calibration, y, oof_uncalibrated, folds)
        thresholds = threshold_table(y, oof, options.objective)
    predictor = Predictor(
        schema=schema,
        preprocessor=preprocessor,
        members={name: m.estimator for name, m in members.items()},
        combiner=combiner,
        calibrator=calibrator,
        threshold=_decide_threshold(options, thresholds),
    )
    with stage("diagnostics"):
        checks = training_checks(prepared.features.iloc[inputs.held_out], schema, y, oof, folds)
    for found in checks["warnings"]:
        warnings.warn(found["message"], DataWarning, stacklevel=2)
    with stage("explanations"):
        predictor.explainer = fit_explainer(predictor, prepared.features)
        importance = global_importance(predictor, prepared.features, seed=options.seed)
    with stage("profile"):
        profile = profile_table(prepared.features, schema, inputs.y)
    evidence = TrainingEvidence(
        y=y,
        oof=oof,
        oof_uncalibrated=oof_uncalibrated,
        member_oof={name: m.oof for name, m in members.items()},
        seed=options.seed,
        folds=options.folds,
        leaderboard=_leaderboard(y, members, predictor, oof),
        thresholds=thresholds,
        calibration={key: value for key, value in calibration.items() if key != "method"},
        training={"source": source, "rows": int(len(inputs.y)), **checks},
        discovery=inputs.discovery,
        profile=profile,
        importance=importance,
        search=search,
        validation=options.validation,
        validation_rows=None if options.validation is None else inputs.held_out,
    )
    return LeadModel(predictor, evidence)


def _leaderboard(y: np.ndarray, members: dict[str, _Member], predictor: Predictor, oof: np.ndarray) -> list[dict]:
    """Each member at its own OOF F1-optimal threshold, and the final predictor at its threshold (one builder: metrics.leaderboard)."""
    rows = {name: (m.oof, f1_optimal_threshold(y, m.oof)[0]) for name, m in members.items()}
    seconds = {name: m.fit_seconds for name, m in members.items()}
    keys = ("model", "final", "f1", "threshold", "precision", "recall", "pr_auc", "roc_auc", "f1_at_0_5", "fit_seconds")
    board = leaderboard(y, rows, (predictor.label, oof, predictor.threshold.value), fit_seconds=seconds)
    return [{key: row[key] for key in keys} for row in board]


def threshold_table(y: np.ndarray, oof: np.ndarray, objective: str = "f1") -> dict[str, dict]:
    """What each reported objective (and ``objective``) would choose on the OOF probabilities."""
    names = dict.fromkeys([*REPORTED_OBJECTIVES, parse_objective(objective).name])
    return {name: objective_threshold(y, oof, parse_objective(name)) for name in names}


def _decide_threshold(options: TrainOptions, thresholds: dict[str, dict]) -> Threshold:
    if options.threshold is not None:
        return Threshold(options.threshold, ThresholdSource.USER, None)
    objective = parse_objective(options.objective)
    chosen = thresholds[objective.name]
    if not chosen["attainable"]:
        best = thresholds["f1"]
        on = held_out_words(options.validation).removesuffix(" of the training data")
        warnings.warn(
            f"--objective {objective.name}: no threshold reaches it on {on} "
            f"(at the F1-optimal threshold precision is {best['precision']:.3f} and recall {best['recall']:.3f}); "
            "the model uses the F1-optimal threshold instead; retrain with a lower target to change it.",
            ObjectiveWarning,
            stacklevel=3,
        )
        return Threshold(best["threshold"], ThresholdSource.OOF_F1, "f1", options.validation)
    if objective.metric == "f1":
        return Threshold(chosen["threshold"], ThresholdSource.OOF_F1, "f1", options.validation)
    return Threshold(chosen["threshold"], ThresholdSource.OOF_OBJECTIVE, objective.name, options.validation)


class ObjectiveWarning(HotleadsWarning):
    """The requested threshold objective cannot be met; the F1-optimal threshold is used."""


def _folds(y: np.ndarray, options: TrainOptions, source: str) -> list[Fold]:
    smallest = int(np.bincount(y).min())
    if smallest < options.folds:
        raise DataError(f"{source}: the smaller class has {smallest} row(s), fewer than --folds {options.folds}; add labelled rows or lower --folds.")
    return stratified_folds(y, options.folds, seed=options.seed)


def _split(y: np.ndarray, options: TrainOptions, source: str) -> tuple[list[Fold], np.ndarray, list[Fold]]:
    """(the folds the members are fitted on, the rows their held-out output covers, folds over those rows for the nested choices).

    With k folds: the folds, every row, the same folds. With a validation split: the split as
    one fold, its validation rows, and ``options.folds`` stratified folds of the validation rows,
    which need that many rows of each class there.
    """
    if options.validation is None:
        folds = _folds(y, options, source)
        return folds, np.arange(len(y)), folds
    held = 0  # rows of the smaller class in the validation split
    if np.bincount(y).min() >= 2 and len(y) * options.validation > 1:  # else no stratified split exists
        split = validation_split(y, options.validation, seed=options.seed)
        held = int(np.bincount(y[split[1]], minlength=2).min())
    if held < options.folds:
        raise DataError(
            f"{source}: --validation {options.validation} sets aside {held} row(s) of the smaller class, fewer than --folds {options.folds} "
            "(the folds of the nested calibration and ensemble on those rows); raise --validation, add labelled rows or lower --folds."
        )
    return [split], split[1], stratified_folds(y[split[1]], options.folds, seed=options.seed)


def _discover_nested(
    preprocessor: Preprocessor, features: pd.DataFrame, X: np.ndarray, y: np.ndarray, folds, seed: int
) -> tuple[Preprocessor, list[np.ndarray], dict]:
    """Feature discovery for the saved predictor (all rows) and, nested, for each fold (k folds).

    Fold *k*'s models read the features chosen without fold *k*'s labels, so their OOF output
    stays a fair estimate for unseen rows. Returns (the preprocessor with the all-rows choice, one
    matrix per fold, the all-rows evidence); ``preprocessor`` itself is not changed.
    """
    base, categorical = preprocessor.base_frame(features), preprocessor.categorical_indices
    found = discover(base, X, y, categorical=categorical, seed=seed)
    matrices = []
    for train_rows, _ in folds:
        kept = select_within(train_rows, found, base, X, y, categorical=categorical, seed=seed)
        matrices.append(preprocessor.with_derived(kept).transform(features))
    evidence = found.to_dict() | {"kept_per_fold": [m.shape[1] - X.shape[1] for m in matrices]}
    return preprocessor.with_derived(found.kept), matrices, evidence


def _discover_in_split(
    preprocessor: Preprocessor, features: pd.DataFrame, X: np.ndarray, y: np.ndarray, folds, seed: int
) -> tuple[Preprocessor, list[np.ndarray], dict]:
    """Feature discovery on the fit rows of a validation split (``folds`` is that one split), as :func:`_discover_nested` returns it.

    The saved members are the ones fitted on the fit rows, so the features they read are chosen
    there once: no all-rows choice, and the validation rows' labels choose nothing.
    """
    (fit_rows, _), categorical = folds[0], preprocessor.categorical_indices
    found = discover(preprocessor.base_frame(features).iloc[fit_rows], X[fit_rows], y[fit_rows], categorical=categorical, seed=seed)
    chosen = preprocessor.with_derived(found.kept)
    matrix = chosen.transform(features)
    return chosen, [matrix], found.to_dict() | {"kept_per_fold": [matrix.shape[1] - X.shape[1]]}


@dataclass
class CrossFitInputs:
    """What every model's cross-fitting reads: typed table, fitted preprocessing, the folds and one matrix per fold.

    ``fold_matrices[k]`` holds the features fold ``k``'s models read (discovered without fold
    ``k``'s labels); ``X`` the all-rows matrix the saved predictor reads (refitted on it with k
    folds). ``held_out`` are the rows the members' held-out output covers and ``held_out_folds``
    folds over those rows (positions in ``held_out``) for the nested ensemble and calibration:
    every row and ``folds`` itself, or with a validation split (``folds`` is then that one
    split) its validation rows and folds of them. Built once per training run, and once per
    ``hotleads tune`` worker for all its trials.
    """

    schema: Schema
    prepared: Prepared
    preprocessor: Preprocessor
    X: np.ndarray
    y: np.ndarray
    folds: list[Fold]
    fold_matrices: list[np.ndarray]
    discovery: dict | None
    held_out: np.ndarray
    held_out_folds: list[Fold]

    def fold_estimator(self, name: str, params: dict, k: int, *, seed: int, **fit_params):
        """Model ``name`` fitted on fold ``k``'s training rows (``fit_params`` go to its ``fit``), and its probabilities on fold ``k``'s held-out rows."""
        train_rows, valid_rows = self.folds[k]
        matrix = self.fold_matrices[k]
        estimator = make_model(name, categorical_features=self.preprocessor.categorical_indices, random_state=seed + k, **params)
        estimator.fit(matrix[train_rows], self.y[train_rows], **fit_params)
        return estimator, estimator.predict_proba(matrix[valid_rows])[:, 1]


def cross_fit_inputs(frame: pd.DataFrame, options: TrainOptions, *, source: str = "table", **schema_options) -> CrossFitInputs:
    """Validate and type ``frame``, fit the preprocessing, make the folds (or the validation split) and (``features="auto"``) discover features, nested."""
    with stage("typing"):
        schema = infer_schema(frame, source=source, **schema_options)
        prepared = prepare(frame, schema, source=source, labelled=True, training=True)
    with stage("preprocessing"):
        preprocessor = Preprocessor().fit(prepared.features, schema)
        X, y = preprocessor.transform(prepared.features), prepared.y
    folds, held_out, held_out_folds = _split(y, options, source)
    fold_matrices, discovery = [X] * len(folds), None
    if options.features == "auto":
        discover_features = _discover_nested if options.validation is None else _discover_in_split
        with stage("discovery"):
            preprocessor, fold_matrices, discovery = discover_features(preprocessor, prepared.features, X, y, folds, options.seed)
            X = preprocessor.transform(prepared.features) if options.validation is None else fold_matrices[0]
    return CrossFitInputs(schema, prepared, preprocessor, X, y, folds, fold_matrices, discovery, held_out, held_out_folds)


def _cross_fit_all(inputs: CrossFitInputs, options: TrainOptions, progress: Progress | None) -> dict[str, _Member]:
    """Fit each model on every fold (fold k reads ``inputs.fold_matrices[k]``) for held-out output, then (k folds) on all of ``inputs.X``.

    With a validation split the model fitted on the fit rows is the one saved: skipping the refit
    is the time the option saves (neural models keep the epoch their own early stopping chose).
    """
    refit = options.validation is None
    steps = len(inputs.folds) + refit
    members = {}
    for m, name in enumerate(options.models):
        params = options.params(name)
        fold_estimators, started = [], time.perf_counter()

        def fit_predict(k, _train_rows, _valid_rows, name=name, params=params, fold_estimators=fold_estimators, m=m):
            estimator, proba = inputs.fold_estimator(name, params, k, seed=options.seed)
            fold_estimators.append(estimator)
            done = f"fold {k + 1}/{len(inputs.folds)}" if refit else "fitted on the rows outside the validation split"
            _report(progress, f"{name}: {done}", m * steps + k + 1, len(options.models) * steps)
            return proba

        oof = out_of_fold(inputs.folds, fit_predict, len(inputs.y))[inputs.held_out]
        final = fold_estimators[0]
        if refit:
            final = _refit(name, {**params, **refit_params(fold_estimators)}, inputs, options.seed)
            _report(progress, f"{name}: refit on all rows", (m + 1) * steps, len(options.models) * steps)
        members[name] = _Member(final, oof, time.perf_counter() - started)
    return members


def _refit(name: str, params: dict, inputs: CrossFitInputs, seed: int):
    """Model ``name`` fitted on every row of ``inputs.X``: the one k-fold training saves."""
    categorical = inputs.preprocessor.categorical_indices
    return make_model(name, categorical_features=categorical, random_state=seed, **params).fit(inputs.X, inputs.y)


def refit_params(fold_estimators: list) -> dict:
    """Parameters for the all-rows refit: neural models train for the median early-stopped epoch count."""
    epochs = [getattr(estimator, "best_epoch_", None) for estimator in fold_estimators]
    if None in epochs:
        return {}
    return {"epochs": max(1, int(np.median(epochs))), "patience": None, "validation_fraction": 0.0}


def _report(progress: Progress | None, label: str, done: int, total: int) -> None:
    if progress:
        progress(label, done, total)


def _combine(members: dict[str, _Member], y, folds, options: TrainOptions) -> tuple[Ensemble | None, np.ndarray]:
    if len(members) == 1:
        return None, next(iter(members.values())).oof
    names = list(members)
    oof_matrix = np.column_stack([members[name].oof for name in names])
    ensemble = fit_ensemble(options.ensemble, names, oof_matrix, y, seed=options.seed)
    return ensemble, nested_oof(options.ensemble, names, oof_matrix, y, folds, seed=options.seed)
