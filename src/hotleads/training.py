"""Training: cross-fit, ensemble, calibrate, choose the threshold, all on out-of-fold output.

Training cross-fits every model on the same stratified folds: each fold's model is fitted on the
other folds and predicts its own, which gives honest out-of-fold (OOF) probabilities for every
training row. Ensemble weights, calibration, thresholds and the leaderboard all come from those
OOF probabilities, never from rows that are scored later; where one choice is tuned on the output
of another (a threshold on calibrated ensemble output), the earlier one is cross-fitted on the
same folds, so the printed OOF F1 stays a fair estimate for unseen rows. The predictor that is saved is, per member,
either the bag of its k fold models (:mod:`hotleads.bagging`: the very models the OOF output
came from, averaged) or one model refitted on all rows (neural models for the number of epochs
early stopping chose in the folds), which scores k times faster. ``TrainOptions.bagging`` says
which; by default tables up to :data:`BAG_MAX_ROWS` rows are bagged.

``--models auto`` cross-fits the cheap models, then keeps the candidate (a model alone, or their
ensemble) with the highest nested out-of-fold F1 (:mod:`hotleads.selection`).

With a validation split (``TrainOptions.validation``, ``train --validation 0.1``) each model is
fitted once, on the fit rows, and that model is saved (no refit: on a big table this is the time
saved); ensemble weights, calibration, thresholds and the leaderboard come from the validation
rows alone, the ensemble and calibration nested on ``folds`` stratified folds of those rows.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from .bagging import BaggedClassifier
from .base import positive_proba
from .budget import NEURAL as BUDGET_NEURAL
from .budget import SEQUENCE_NEURAL, Budget, spend
from .calibration import CHOICES as CALIBRATION_CHOICES
from .calibration import choose_calibration
from .diagnostics import training_checks
from .discovery import discover, select_within, selection_sample
from .ensemble import METHODS, Ensemble, fit_ensemble, nested_oof
from .exceptions import DataError, DataWarning, HotleadsWarning, ParameterError
from .explain import IMPORTANCE_ROWS, column_references, fit_explainer, global_importance, importance_sample
from .features import Preprocessor
from .folds import Fold, expanding_folds, out_of_fold, stratified_folds, validation_split
from .history import attach, table_options
from .io import read_table, release_memory, sha256_file
from .metrics import classification_metrics, leaderboard, logit, sigmoid
from .model import LeadModel, Predictor, Threshold, ThresholdSource, TrainingEvidence, held_out_words, time_ordered_words
from .neural_params import check_device
from .parsing import infer_date_format, is_missing, parse_dates
from .profile import profile_table
from .registry import NEURAL, check_params, make_model, param_names, parse_model_names
from .schema import Prepared, Schema, infer_schema, prepare
from .selection import AUTO, CANDIDATE_MODELS, candidate_outputs, choose
from .threshold import REPORTED_OBJECTIVES, bagged_f1_threshold, f1_optimal_threshold, objective_threshold, parse_objective
from .timing import stage

Progress = Callable[[str, int, int], None]  # (what just finished, steps done, steps in all)
FEATURE_MODES = ("auto", "raw")
BAGGING = ("auto", "on", "off")
# Up to this many training rows, bagging="auto" saves the bag of the fold models (measured gain on
# small tables, README "Small tables"); above it one refitted model, k times cheaper to score.
BAG_MAX_ROWS = 100_000
BAG_MIN_FOLDS = 4  # with fewer folds each fold model sees under 3/4 of the rows: a refit on all of them scores better
# The command line's names of the neural parameters it sets; the messages use them.
NEURAL_OPTIONS = {"epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr", "loss": "--loss", "device": "--device"}


@dataclass
class TrainOptions:
    """What to train and how.

    ``neural_params`` go to every neural model (epochs, lr, device...); ``model_params`` to one
    model each (``{"gbdt": {"num_leaves": 31}}``, as ``hotleads tune`` writes them in ``best.json``)
    and win over ``neural_params``. ``validation`` (a share in (0, 0.5]) replaces the ``folds``
    cross-fitting and the refit by one stratified validation split; ``folds`` then splits the
    validation rows for the nested ensemble and calibration. ``models=["auto"]`` chooses among
    :data:`~hotleads.selection.CANDIDATE_MODELS` and their ensemble. ``bagging``: "on" saves each
    member as the bag of its fold models, "off" refits it on all rows, "auto" bags tables of up
    to :data:`BAG_MAX_ROWS` rows cross-fitted on at least :data:`BAG_MIN_FOLDS` folds (never with
    ``validation``). ``time_limit`` (seconds, from the start of :func:`train_file` or :func:`train`)
    spends the time the models leave on more seeds, a short tuning run and a neural model
    (:mod:`hotleads.budget`). ``time_column`` (a date or number column) adds time-ordered
    out-of-fold predictions (an expanding window over ``folds + 1`` periods), reported beside the
    stratified ones, and the threshold is chosen on them.
    """

    models: list[str] = field(default_factory=lambda: [AUTO])
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
    bagging: str = "auto"
    time_limit: float | None = None
    time_column: str | None = None

    @property
    def model_names(self) -> list[str]:
        """The models cross-fitted: ``models``, or with ``auto`` the candidates."""
        return list(CANDIDATE_MODELS) if self.models == [AUTO] else list(self.models)

    def bags(self, rows: int) -> bool:
        """Whether the saved members are bags of the fold models, for a table of ``rows`` labelled rows."""
        if self.validation is not None or self.bagging == "off":
            return False
        return self.bagging == "on" or (rows <= BAG_MAX_ROWS and self.folds >= BAG_MIN_FOLDS)

    def params(self, name: str) -> dict:
        """The parameters model ``name`` is built with (beyond ``categorical_features`` and ``random_state``)."""
        shared = self.neural_params if name in NEURAL else {}
        return {**shared, **self.model_params.get(name, {})}

    def check(self) -> None:
        """Raise :class:`~hotleads.exceptions.ParameterError` for the first bad option, before any work."""
        parse_model_names(",".join(self.models), allow_auto=True)
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
        if self.time_limit is not None and not 0 < self.time_limit < math.inf:  # inf: a tuning run without end
            raise ParameterError(f"--time-limit must be a positive, finite number of seconds; got {self.time_limit}.")
        if self.bagging not in BAGGING:
            raise ParameterError(f"--bagging must be one of {', '.join(BAGGING)}; got '{self.bagging}'.")
        if self.time_column is not None and self.validation is not None:
            raise ParameterError("--time-column validates by periods of time and --validation by one random split; give one of them.")
        if self.bagging == "on" and self.validation is not None:
            raise ParameterError("--bagging on needs the fold models of --folds cross-fitting, and --validation fits one model; give one of them.")
        if self.calibration not in CALIBRATION_CHOICES:
            raise ParameterError(f"--calibration must be one of {', '.join(CALIBRATION_CHOICES)}; got '{self.calibration}'.")
        if parse_objective(self.objective).metric != "f1" and self.threshold is not None:
            raise ParameterError(f"--threshold and --objective {self.objective} both set the threshold; give one of them.")
        self._check_neural_params()
        self._check_model_params()

    def _check_model_params(self) -> None:
        # --time-limit may add the cnn, and with a history the sequence models (whether there is one is known later: train_typed)
        budget = [BUDGET_NEURAL, *SEQUENCE_NEURAL] if self.time_limit is not None else []
        trained = list(dict.fromkeys(self.model_names + budget))
        for name in self.model_params:
            if name not in trained:
                raise ParameterError(f"--params has parameters for {name}, which --models does not train ({', '.join(trained)}).")
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
    history: dict | None = None,
    **schema_options,
) -> LeadModel:
    """Read a labelled table (``read_options`` go to :func:`~hotleads.io.read_table`) and :func:`train` on it.

    ``history``: ``{"path": HISTORY, "as_of": "YYYY-MM" or None, "months": int or None}``, a
    monthly history whose window aggregates join the table (:func:`hotleads.history.attach`);
    the model then keeps its :class:`~hotleads.history.HistorySpec` and needs a history to score.
    The files' paths and SHA-256 are recorded in ``evidence.training``.
    """
    options.check()
    started = time.perf_counter()
    with stage("read"):
        frame = read_table(path, **(read_options or {}))
    spec = windows = None
    if history is not None:
        ends = None if options.time_column is None else _reference_months(frame, options.time_column, str(path))
        with stage("history"):
            frame, spec, windows = attach(frame, history["path"], source=str(path), id_column=schema_options.get("id_column"), na_values=schema_options.get("na_values", ()), dropped=schema_options.get("drop", ()),
                                          as_of=history.get("as_of"), months=history.get("months"), ends=ends,
                                          decimal_comma=schema_options.get("decimal_comma", ()), decimal_point=schema_options.get("decimal_point", ()))  # fmt: skip
        schema_options = table_options(schema_options, frame.columns)  # the channels' marks were the history's
    typed = typed_table(frame, options, source=str(path), sequences=windows, consume=True, **schema_options)
    del frame, windows  # what typing left of the table as read (its ignored columns); this was its last reference
    release_memory()  # its text (Arrow's pool keeps freed memory for reuse, not handing it back)
    model = train_typed(typed, options, progress=progress, search=search, started=started)
    model.evidence.training.update(path=str(path), sha256=sha256_file(path))
    if spec is not None:
        model.predictor.history = spec
        model.evidence.training["history"] = spec.to_dict() | {"path": str(history["path"]), "sha256": sha256_file(history["path"])}
    return model


def train(
    frame: pd.DataFrame,
    options: TrainOptions,
    *,
    source: str = "table",
    progress: Progress | None = None,
    search: dict | None = None,
    started: float | None = None,
    sequences: np.ndarray | None = None,
    **schema_options,
) -> LeadModel:
    """Validate, preprocess, cross-fit every model, ensemble, calibrate and choose the threshold on OOF output.

    ``schema_options`` go to :func:`~hotleads.schema.infer_schema` (``target``, ``id_column``,
    ``drop``...). ``search`` is the evidence of the ``hotleads tune`` run that chose
    ``options.model_params`` (:func:`hotleads.tune.read_params`), kept for the report. A leak column, a small class or degenerate OOF scores are warned about
    (:class:`DataWarning`) and recorded in ``evidence.training["warnings"]``, with every column's
    single-column OOF ROC-AUC in ``evidence.training["column_auc"]`` (see :mod:`hotleads.diagnostics`).
    With ``options.validation`` the models are fitted once, on the fit rows, and everything after
    them (weights, calibration, threshold, leaderboard, warnings) comes from the validation rows.
    ``options.time_limit`` counts from ``started`` (a :func:`time.perf_counter` value; default:
    now); its steps are in ``evidence.training["time_limit"]``. ``sequences (len(frame), T, C)``:
    each row's monthly window (:func:`hotleads.history.attach`), read by the neural models.

    Raises
    ------
    DataError
        The table cannot be used (columns, values, too few rows of a class for the folds or the validation split).
    ParameterError
        An option is invalid (checked before any work).
    """
    options.check()
    started = started or time.perf_counter()
    typed = typed_table(frame, options, source=source, sequences=sequences, **schema_options)
    return train_typed(typed, options, progress=progress, search=search, started=started)


def train_typed(
    typed: TypedTable,
    options: TrainOptions,
    *,
    progress: Progress | None = None,
    search: dict | None = None,
    started: float | None = None,
) -> LeadModel:
    """:func:`train` on a table :func:`typed_table` validated and typed (the raw table may be gone)."""
    options.check()
    budget = None if options.time_limit is None else Budget(options.time_limit, started or time.perf_counter())
    if budget is not None and typed.sequences is None:
        _check_budget_params(options)  # before discovery: it can take a while
    with stage("profile"):  # before the matrix is built: the features and their temporaries are not held beside it
        profile = profile_table(typed.prepared.features, typed.schema, typed.prepared.y)
    with stage("explanations"):
        references = column_references(typed.prepared.features, typed.schema)
    inputs = fit_inputs(typed, options)
    schema, preprocessor = inputs.schema, inputs.preprocessor
    y, folds = inputs.y[inputs.held_out], inputs.held_out_folds  # every row out of fold, or the validation rows
    table = _held_for_later(typed, inputs, options)
    with stage("fitting"):
        tried = _cross_fit_all(inputs, options, progress)
        if budget is not None:
            tried = _spend(budget, tried, inputs, options)
        release_memory()  # the fits' datasets, before the calibration and diagnostics
    members, selection = tried, None
    if options.models == [AUTO]:
        months = [name for name in tried if name in NEURAL] if inputs.sequences is not None else []  # the members that read the months
        outputs = candidate_outputs({name: m.oof for name, m in tried.items()}, y, folds, ensemble=options.ensemble, seed=options.seed, groups=[months])
        selection = choose(outputs, y, folds, held_out=held_out_words(options.validation).removeprefix("the ").removesuffix(" of the training data"))
        members = {name: tried[name] for name in selection.members}
    with stage("calibration"):
        combiner, oof_uncalibrated = _combine(members, y, folds, options)
        calibrator, oof_nested, calibration = choose_calibration(options.calibration, y, oof_uncalibrated, folds)
        # The threshold is chosen on the saved calibrator's map of the raw held-out scores. That map is monotone, so the
        # cut is one of the raw scores' cuts; the nested calibrated scores, each fold by another calibrator, blur the order
        # (36 small tables: mean test F1 84.5 % of the Bayes F1 chosen on them, 85.1 % on the raw scores).
        oof = calibrator.transform(oof_uncalibrated)
        thresholds = threshold_table(y, oof, options.objective, seed=options.seed)
    timed = None
    if options.time_column is not None:
        with stage("time-ordered validation"):
            timed = time_ordered(inputs, members, combiner, calibrator, options)
    predictor = Predictor(
        schema=schema,
        preprocessor=preprocessor,
        members={name: m.estimator for name, m in members.items()},
        combiner=combiner,
        calibrator=calibrator,
        threshold=_decide_threshold(options, thresholds if timed is None else timed.pop("thresholds")),
    )
    with stage("diagnostics"):
        checks = training_checks(table.held_out, schema, y, oof, folds)
    for found in checks["warnings"]:
        warnings.warn(found["message"], DataWarning, stacklevel=2)
    with stage("explanations"):
        predictor.explainer = fit_explainer(predictor, references)
        importance = global_importance(predictor, table.importance_rows, seed=options.seed, sequences=table.importance_sequences)
    evidence = TrainingEvidence(
        y=y,
        oof=oof,
        oof_uncalibrated=oof_uncalibrated,
        oof_nested=None if calibrator.method == "none" else oof_nested,
        member_oof={name: m.oof for name, m in members.items()},
        seed=options.seed,
        folds=options.folds,
        leaderboard=_leaderboard(y, tried, predictor, oof, seed=options.seed),
        thresholds=thresholds,
        calibration={key: value for key, value in calibration.items() if key != "method"},
        training={"source": typed.source, "rows": int(len(inputs.y)), **checks}
        | ({} if budget is None else {"time_limit": budget.to_dict()})
        | ({} if timed is None else {"time_ordered": timed}),
        discovery=inputs.discovery,
        profile=profile,
        importance=importance,
        search=search,
        validation=options.validation,
        validation_rows=None if options.validation is None else inputs.held_out,
        bagged=inputs.fold_columns is not None,
        selection=None if selection is None else selection.to_dict(),
    )
    if budget is not None and (overrun := budget.overrun()):
        warnings.warn(overrun, HotleadsWarning, stacklevel=2)
    return LeadModel(predictor, evidence)


@dataclass
class _HeldForLater:
    """The typed features' rows that the diagnostics and explanations read after the fits."""

    held_out: pd.DataFrame  # the held-out rows, for the diagnostics
    importance_rows: pd.DataFrame  # explain.importance_sample
    importance_sequences: np.ndarray | None


def _check_budget_params(options: TrainOptions) -> None:
    """Refuse ``--params`` for a sequence model that ``--time-limit`` would add only with a history, on a table without one."""
    unused = [name for name in options.model_params if name in SEQUENCE_NEURAL and name != BUDGET_NEURAL and name not in options.model_names]
    if unused:
        raise ParameterError(
            f"--params has parameters for {unused[0]}, which --time-limit trains only with --history (without one it adds {BUDGET_NEURAL}); "
            f"add {unused[0]} to --models or drop its parameters."
        )


def _held_for_later(typed: TypedTable, inputs: CrossFitInputs, options: TrainOptions) -> _HeldForLater:
    """Take the rows read after the fits and, with a validation split, let the typed features go:
    the fits read ``inputs.X`` alone, and at 5,000,000 rows the typed table (530 MiB) would
    otherwise be held beside the matrix and LightGBM's binned copy of it. Leaves
    ``typed.prepared.features`` None then (the profile and explanation references are taken before)."""
    features = inputs.prepared.features
    sample = importance_sample(features, seed=options.seed)
    windows = None if inputs.sequences is None else inputs.sequences[sample.index]  # the typed table's index is 0..n-1
    if options.validation is None:
        return _HeldForLater(features, sample, windows)
    held = _HeldForLater(features.iloc[inputs.held_out], sample.copy(), windows)  # a small table's sample is the table
    typed.prepared = inputs.prepared = replace(inputs.prepared, features=None)
    del features
    release_memory()  # columns read from Parquet as they were live in Arrow's pool
    return held


def _spend(budget: Budget, members: dict[str, _Member], inputs: CrossFitInputs, options: TrainOptions) -> dict[str, _Member]:
    """``members`` and what the time left buys (:func:`hotleads.budget.spend`): gbdt's extra seeds join its bag."""

    def fit(model, params, offset, name, deadline):
        seed = (options.seed + offset) % (2**32 - options.folds)
        return cross_fit_member(inputs, model, {**options.params(model), **params}, seed=seed, name=name, deadline=deadline)

    bagged = inputs.fold_columns is not None
    tune = (lambda b: _tune_gbdt(b, inputs, options)) if options.validation is None else None
    months = inputs.sequences is not None
    sample = inputs.matrix(slice(0, min(IMPORTANCE_ROWS, len(inputs.y))))
    copies = len(inputs.schema.features) + 1  # occlusion predicts the sample once as it is and once per column

    def explaining(member: _Member) -> float:
        started = time.perf_counter()
        positive_proba(member.estimator, sample, sequences=inputs.rows_sequences(slice(0, len(sample))))
        return (time.perf_counter() - started) * copies

    seeds, extra = spend(budget, members, fit=fit, bagged=bagged, tune=tune, explaining=explaining, months=months)
    members = dict(members)
    for name, more in seeds.items():
        if more:
            members[name] = _merge_seeds([members[name], *more], name, inputs)
    return members | extra


def _merge_seeds(seeds: list[_Member], model: str, inputs: CrossFitInputs) -> _Member:
    """One bag of every seed's fold models; its held-out output averages theirs in log-odds, as the bag does."""
    estimators = [estimator for member in seeds for estimator in member.estimator.estimators_]
    columns = [c for member in seeds for c in member.estimator.columns_]
    bag = BaggedClassifier.from_folds(model, estimators, columns, n_features=inputs.X.shape[1], categorical_features=inputs.preprocessor.categorical_indices)
    oof = sigmoid(np.mean([logit(member.oof) for member in seeds], axis=0))
    return _Member(bag, oof, sum(member.fit_seconds for member in seeds))


def _tune_gbdt(budget: Budget, inputs: CrossFitInputs, options: TrainOptions) -> _Member | None:
    """The best of a short Optuna TPE search of gbdt on the training folds (half the time left), or None if no trial ended in time.

    Its out-of-fold F1 is the best of several, so somewhat optimistic; ``--models auto`` weighs it as any other candidate.
    """
    from .budget import TUNING_SHARE
    from .tune import _optuna, gbdt_space

    optuna = _optuna()
    y, best = inputs.y[inputs.held_out], {}

    def objective(trial):
        member = cross_fit_member(
            inputs, "gbdt", {**options.params("gbdt"), **gbdt_space(trial)}, seed=options.seed, name="gbdt-tuned", deadline=budget.deadline
        )
        if member is None:
            raise optuna.TrialPruned()
        f1 = f1_optimal_threshold(y, member.oof)[1]
        if f1 > best.get("f1", -1.0):
            best.update(f1=f1, member=member)
        return f1

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=options.seed))
    study.optimize(objective, timeout=max(budget.left() * TUNING_SHARE, 1e-3), gc_after_trial=False)
    return best.get("member")


def _leaderboard(y: np.ndarray, members: dict[str, _Member], predictor: Predictor, oof: np.ndarray, *, seed: int) -> list[dict]:
    """Each model tried at its own OOF F1 threshold (bagged, as the final one), and the final predictor at its threshold (one builder: metrics.leaderboard)."""
    rows = {name: (m.oof, bagged_f1_threshold(y, m.oof, seed=seed)) for name, m in members.items()}
    seconds = {name: m.fit_seconds for name, m in members.items()}
    keys = ("model", "final", "f1", "threshold", "precision", "recall", "pr_auc", "roc_auc", "f1_at_0_5", "fit_seconds")
    board = leaderboard(y, rows, (predictor.label, oof, predictor.threshold.value), fit_seconds=seconds)
    return [{key: row[key] for key in keys} for row in board]


def threshold_table(y: np.ndarray, oof: np.ndarray, objective: str = "f1", *, seed: int | None = None) -> dict[str, dict]:
    """What each reported objective (and ``objective``) would choose on the OOF probabilities; ``f1`` bagged when a ``seed`` is given (:func:`~hotleads.threshold.objective_threshold`)."""
    names = dict.fromkeys([*REPORTED_OBJECTIVES, parse_objective(objective).name])
    return {name: objective_threshold(y, oof, parse_objective(name), seed=seed) for name in names}


def _decide_threshold(options: TrainOptions, thresholds: dict[str, dict]) -> Threshold:
    """The threshold ``options`` ask for, from ``thresholds`` (:func:`threshold_table` of the held-out or, with ``--time-column``, the time-ordered predictions)."""
    if options.threshold is not None:
        return Threshold(options.threshold, ThresholdSource.USER, None)
    objective = parse_objective(options.objective)
    chosen = thresholds[objective.name]
    where = {"validation": options.validation, "time_column": options.time_column}
    if not chosen["attainable"]:
        best = thresholds["f1"]
        on = (
            held_out_words(options.validation).removesuffix(" of the training data") if options.time_column is None else time_ordered_words(options.time_column)
        )
        warnings.warn(
            f"--objective {objective.name}: no threshold reaches it on {on} "
            f"(at the F1-optimal threshold precision is {best['precision']:.3f} and recall {best['recall']:.3f}); "
            "the model uses the F1-optimal threshold instead; retrain with a lower target to change it.",
            ObjectiveWarning,
            stacklevel=3,
        )
        return Threshold(best["threshold"], ThresholdSource.OOF_F1, "f1", **where)
    if objective.metric == "f1":
        return Threshold(chosen["threshold"], ThresholdSource.OOF_F1, "f1", **where)
    return Threshold(chosen["threshold"], ThresholdSource.OOF_OBJECTIVE, objective.name, **where)


def time_ordered(inputs: CrossFitInputs, members: dict[str, _Member], combiner, calibrator, options: TrainOptions) -> dict:
    """Out-of-fold predictions of the saved predictor's recipe over time: each period scored by fresh copies of the members
    fitted on the periods before it (:func:`hotleads.folds.expanding_folds`, ``options.folds`` held-out periods), combined
    and calibrated as the predictor does. Returns their metrics beside the stratified ones, each member's F1, the periods,
    and (key ``thresholds``) what each objective would choose on them.

    Raises
    ------
    DataError
        Too few distinct times for the periods, or a training period with one class only.
    """
    column, y = options.time_column, inputs.y
    try:
        folds = expanding_folds(inputs.times, options.folds)
    except ValueError as exc:
        raise DataError(f"--time-column '{column}': {exc} Give fewer --folds or a finer time column.") from None
    for train_rows, _ in folds:
        if len(np.unique(y[train_rows])) < 2:
            raise DataError(f"--time-column '{column}': the earliest period has only one class; give fewer --folds so that it holds both.")
    rows = np.concatenate([valid for _, valid in folds])
    member_oof = {}
    for name, member in members.items():

        def fit_predict(k, train_rows, valid_rows, member=member):
            recipe = _fold_model(member.estimator)
            estimator = clone(recipe).set_params(random_state=options.seed + k)
            reads = {"sequences": inputs.sequences[train_rows]} if getattr(recipe, "reads_sequences", False) else {}
            estimator.fit(inputs.matrix(train_rows), y[train_rows], **reads)
            return positive_proba(estimator, inputs.matrix(valid_rows), sequences=inputs.rows_sequences(valid_rows))

        member_oof[name] = out_of_fold(folds, fit_predict, len(y))[rows]
    raw = member_oof[next(iter(member_oof))] if combiner is None else combiner.combine(np.column_stack([member_oof[name] for name in combiner.members]))
    proba, labels = calibrator.transform(raw), y[rows]
    thresholds = threshold_table(labels, proba, options.objective, seed=options.seed)
    chosen = thresholds[parse_objective(options.objective).name] if thresholds[parse_objective(options.objective).name]["attainable"] else thresholds["f1"]
    times = inputs.times
    return {
        "column": column,
        "rows": int(len(rows)),
        "periods": [{"from": _when(times[valid].min()), "to": _when(times[valid].max()), "rows": int(len(valid))} for _, valid in folds],
        "metrics": classification_metrics(labels, proba, chosen["threshold"]),
        "members": {name: f1_optimal_threshold(labels, oof)[1] for name, oof in member_oof.items()},
        "thresholds": thresholds,
    }


def _fold_model(estimator):
    """The fitted model a member's recipe is cloned from: a bag's first fold model, or the estimator itself."""
    return estimator.estimators_[0] if isinstance(estimator, BaggedClassifier) else estimator


def _when(value) -> str | float:
    """A period's edge as JSON: an ISO date, or the number."""
    return str(np.datetime_as_string(value, unit="D")) if isinstance(value, np.datetime64) else float(value)


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
    preprocessor: Preprocessor, features: pd.DataFrame, X: np.ndarray, y: np.ndarray, folds, seed: int, *, bagged: bool
) -> tuple[Preprocessor, list[np.ndarray], dict, list[np.ndarray] | None]:
    """Feature discovery for the saved predictor (all rows) and, nested, for each fold (k folds).

    Fold *k*'s models read the features chosen without fold *k*'s labels, so their OOF output
    stays a fair estimate for unseen rows. Returns (the saved predictor's preprocessor, one matrix
    per fold, the all-rows evidence, the columns of the saved matrix each fold model reads or
    None); ``preprocessor`` itself is not changed. A refitted predictor reads the all-rows choice;
    a bag (``bagged``) the union of the folds' choices, each fold model its own columns of it.
    """
    base, categorical = preprocessor.base_frame(features), preprocessor.categorical_indices
    found = discover(base, X, y, categorical=categorical, seed=seed)
    kept_per_fold = [select_within(train_rows, found, base, X, y, categorical=categorical, seed=seed) for train_rows, _ in folds]
    matrices = [preprocessor.with_derived(kept).transform(features) for kept in kept_per_fold]
    evidence = found.to_dict() | {"kept_per_fold": [len(kept) for kept in kept_per_fold]}
    if not bagged:
        return preprocessor.with_derived(found.kept), matrices, evidence, None
    union = list({feature.name: feature for kept in kept_per_fold for feature in kept}.values())
    position = {feature.name: X.shape[1] + i for i, feature in enumerate(union)}
    columns = [np.r_[np.arange(X.shape[1]), [position[feature.name] for feature in kept]].astype(np.int64) for kept in kept_per_fold]
    evidence["saved"] = [feature.name for feature in union]
    return preprocessor.with_derived(union), matrices, evidence, columns


def _discover_in_split(preprocessor: Preprocessor, features: pd.DataFrame, y: np.ndarray, fit_rows: np.ndarray, seed: int) -> tuple[Preprocessor, dict]:
    """Feature discovery on the fit rows of a validation split: (the preprocessor with the features kept, the evidence).

    The saved members are the ones fitted on the fit rows, so the features they read are chosen
    there once: no all-rows choice, and the validation rows' labels choose nothing. Discovery
    reads the sample of the fit rows its selection judges on (:func:`~hotleads.discovery.selection_sample`),
    so a big table's matrix is not built for it.
    """
    rows = fit_rows[selection_sample(len(fit_rows), seed)]
    X = preprocessor.transform(features, rows)
    found = discover(preprocessor.base_frame(features, rows), X, y[rows], categorical=preprocessor.categorical_indices, seed=seed)
    return preprocessor.with_derived(found.kept), found.to_dict() | {"kept_per_fold": [len(found.kept)]}


@dataclass
class CrossFitInputs:
    """What every model's cross-fitting reads: typed table, fitted preprocessing, the folds and one matrix per fold.

    ``fold_matrices[k]`` holds the features fold ``k``'s models read (discovered without fold
    ``k``'s labels); ``X`` the all-rows matrix the saved predictor reads (refitted on it with k
    folds, unless bagged). ``fold_columns[k]`` are the columns of ``X`` fold ``k``'s model reads
    when the saved members are bags of the fold models, else None. ``held_out`` are the rows the members' held-out output covers and ``held_out_folds``
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
    fold_columns: list[np.ndarray | None] | None = None
    sequences: np.ndarray | None = None  # (n_rows, T, C) monthly windows, read by the neural models
    times: np.ndarray | None = None  # (n_rows,) the --time-column values (datetime64 or float, NaT/NaN unknown)
    # A validation split's X holds the fit rows, then the validation rows (these positions): the
    # parts a fit reads are views of it, where taking the fit rows of a 5,000,000-row matrix
    # would copy nine tenths of it. None: X's rows are the table's, in order.
    split_order: np.ndarray | None = None

    def fold_estimator(self, name: str, params: dict, k: int, *, seed: int, **fit_params):
        """Model ``name`` fitted on fold ``k``'s training rows (``fit_params`` go to its ``fit``), and its probabilities on fold ``k``'s held-out rows."""
        train_rows, valid_rows = self.folds[k]
        fit_matrix, held_out_matrix = self.fold_data(k)
        estimator = make_model(name, categorical_features=self.preprocessor.categorical_indices, random_state=seed + k, **params)
        estimator.fit(fit_matrix, self.y[train_rows], **fit_params, **self.sequence_params(name, train_rows))
        return estimator, positive_proba(estimator, held_out_matrix, sequences=self.rows_sequences(valid_rows))

    def fold_data(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(fold ``k``'s training matrix, its held-out matrix): copies of its rows, or a validation split's views."""
        train_rows, valid_rows = self.folds[k]
        if self.split_order is not None:
            return self.X[: len(train_rows)], self.X[len(train_rows) :]
        matrix = self.fold_matrices[k]
        return matrix[train_rows], matrix[valid_rows]

    def matrix(self, rows: np.ndarray | slice) -> np.ndarray:
        """The saved predictor's features of the table's ``rows`` (positions), shape (n, n_features)."""
        if self.split_order is None:
            return self.X[rows]
        position = np.empty_like(self.split_order)
        position[self.split_order] = np.arange(len(self.split_order))
        return self.X[position[rows]]

    def sequence_params(self, name: str, rows: np.ndarray | slice = slice(None)) -> dict:
        """``{"sequences": ...}`` of ``rows`` for a neural model when there are monthly windows, else nothing."""
        return {"sequences": self.sequences[rows]} if self.sequences is not None and name in NEURAL else {}

    def rows_sequences(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray | None:
        return None if self.sequences is None else self.sequences[rows]


def cross_fit_inputs(
    frame: pd.DataFrame, options: TrainOptions, *, source: str = "table", bagging: bool = True, sequences: np.ndarray | None = None, **schema_options
) -> CrossFitInputs:
    """Validate and type ``frame``, fit the preprocessing, make the folds (or the validation split) and (``features="auto"``) discover features, nested.

    ``bagging=False`` ignores ``options.bagging`` (``hotleads tune`` judges fold models only).
    ``sequences (len(frame), T, C)``: each row's monthly window, kept for the rows training keeps.
    """
    return fit_inputs(typed_table(frame, options, source=source, sequences=sequences, **schema_options), options, bagging=bagging)


@dataclass
class TypedTable:
    """A training table validated and typed (:func:`typed_table`): all that training reads of it."""

    schema: Schema
    prepared: Prepared
    source: str  # the table's name in messages
    sequences: np.ndarray | None = None  # (n_kept, T, C): the monthly windows of the rows training keeps
    times: np.ndarray | None = None  # (n_kept,): the --time-column values (datetime64 or float, NaT/NaN unknown)


def typed_table(
    frame: pd.DataFrame, options: TrainOptions, *, source: str = "table", sequences: np.ndarray | None = None, consume: bool = False, **schema_options
) -> TypedTable:
    """Infer ``frame``'s schema (``schema_options`` go to :func:`~hotleads.schema.infer_schema`), validate and type it.

    ``consume``: delete each column from ``frame`` once typed (:func:`~hotleads.schema.prepare`),
    for a caller that read the table itself and needs nothing more of it.

    Raises
    ------
    DataError
        The table cannot be used (columns, values, ids, target).
    ParameterError
        ``options.time_column`` names no usable column.
    """
    with stage("typing"):
        schema = infer_schema(frame, source=source, **schema_options)
        release_memory()  # inference's whole-column checks (~190 MiB of text at 5,000,000 CSV rows)
        columns = list(frame.columns)  # as read: typing may consume them
        prepared = prepare(frame, schema, source=source, labelled=True, training=True, consume=consume)
        if options.time_column is not None:  # after the table's own problems, which say more
            _check_time_column(columns, options.time_column, source)
        prepared = replace(prepared, ids=None)  # checked unique and filled; never read again (105 MiB at 5M rows)
        release_memory()  # the typing's temporaries
    if sequences is not None and prepared.rows is not None:
        sequences = sequences[prepared.rows]
    times = None if options.time_column is None else time_values(frame, prepared, options.time_column, source, schema)
    return TypedTable(schema, prepared, source, sequences, times)


def fit_inputs(typed: TypedTable, options: TrainOptions, *, bagging: bool = True) -> CrossFitInputs:
    """Fit the preprocessing on a typed table, make the folds (or the validation split) and (``features="auto"``) discover features, nested."""
    schema, prepared, source = typed.schema, typed.prepared, typed.source
    features, y = prepared.features, prepared.y
    with stage("preprocessing"):
        preprocessor = Preprocessor().fit(features, schema)
    folds, held_out, held_out_folds = _split(y, options, source)
    if options.validation is not None:
        discovery = None
        if options.features == "auto":
            with stage("discovery"):
                preprocessor, discovery = _discover_in_split(preprocessor, features, y, folds[0][0], options.seed)
                release_memory()  # its sample's matrices and fits: given back before the matrix of every row is built
        with stage("preprocessing"):
            order = np.concatenate(folds[0])
            X = _matrix_of(preprocessor, features, order)
        return CrossFitInputs(schema, prepared, preprocessor, X, y, folds, [X], discovery, held_out, held_out_folds, None, typed.sequences, typed.times, order)
    with stage("preprocessing"):
        X = preprocessor.transform(features)
    bagged = bagging and options.bags(len(y))
    fold_matrices, discovery, fold_columns = [X] * len(folds), None, [None] * len(folds) if bagged else None
    if options.features == "auto":
        with stage("discovery"):
            preprocessor, fold_matrices, discovery, columns = _discover_nested(preprocessor, features, X, y, folds, options.seed, bagged=bagged)
            X = preprocessor.transform(features)
            fold_columns = columns or fold_columns
    return CrossFitInputs(
        schema, prepared, preprocessor, X, y, folds, fold_matrices, discovery, held_out, held_out_folds, fold_columns, typed.sequences, typed.times
    )


MATRIX_BLOCK_ROWS = 100_000


def _matrix_of(preprocessor: Preprocessor, features: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``preprocessor.transform(features, rows)``, :data:`MATRIX_BLOCK_ROWS` rows at a time.

    A column's temporaries (clipping, logs, date ages) then take a block's memory, not the
    table's: at 5,000,000 rows they added ~400 MiB on top of the matrix.
    """
    X = np.empty((len(rows), len(preprocessor.feature_names_)))
    for start in range(0, len(rows), MATRIX_BLOCK_ROWS):
        X[start : start + MATRIX_BLOCK_ROWS] = preprocessor.transform(features, rows[start : start + MATRIX_BLOCK_ROWS])
    return X


def time_values(frame: pd.DataFrame, prepared: Prepared, column: str, source: str, schema: Schema) -> np.ndarray:
    """The ``--time-column`` of the rows training keeps: datetime64[ns] (NaT unknown) or float (NaN unknown).

    ``column`` is one of the table's (:func:`_check_time_column`); a feature is taken as typed,
    another column from ``frame``.

    Raises
    ------
    ParameterError
        The column is the target or the id, or holds neither dates nor numbers.
    """
    for role, name in (("the target", schema.target), ("the id column", schema.id)):
        if column == name:
            raise ParameterError(f"--time-column '{column}' is {role}; name a column of dates, e.g. when each lead was created.")
    values = prepared.features[column] if column in prepared.features.columns else _parsed_time(frame[column], column, source)
    if prepared.rows is not None and column not in prepared.features.columns:
        values = values.iloc[prepared.rows]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy(dtype="datetime64[ns]")
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    raise ParameterError(
        f"--time-column '{column}' is read as {prepared.features[column].dtype} text, not dates or numbers; pass --date {column} if it holds dates."
    )


def _reference_months(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """Each row's month of ``--time-column`` as a month number (year * 12 + month - 1): no later month of its history
    reaches its features. A row without a date (or a numeric column) keeps the history's reference month."""
    _check_time_column(list(frame.columns), column, source)
    values = _parsed_time(frame[column], column, source)
    if not pd.api.types.is_datetime64_any_dtype(values):
        raise ParameterError(
            f"--time-column '{column}' holds numbers; with --history it must hold dates (each company's window ends at its month), "
            "e.g. when the lead was created."
        )
    stamps = pd.DatetimeIndex(values)
    return np.where(stamps.isna(), np.iinfo(np.int64).max, stamps.year * 12 + stamps.month - 1).astype(np.int64)


def _check_time_column(columns: list, column: str, source: str) -> None:
    if column not in columns:
        raise ParameterError(f"--time-column '{column}' is not a column of {source}; its columns are {', '.join(map(str, columns))}.")


def _parsed_time(raw: pd.Series, column: str, source: str) -> pd.Series:
    """A column as read (text from CSV): its dates or numbers, parsed here."""
    if pd.api.types.is_datetime64_any_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        return raw
    text = raw.astype(object).where(raw.notna(), None)
    present = text[~is_missing(text)]
    if present.empty:
        raise ParameterError(f"--time-column '{column}' of {source} is empty; name a column of dates, e.g. when each lead was created.")
    fmt = infer_date_format(text)
    if fmt is not None:
        return parse_dates(text, fmt)
    if pd.to_numeric(present.astype(str).str.strip(), errors="coerce").notna().all():
        return pd.to_numeric(text, errors="coerce")
    raise ParameterError(f"--time-column '{column}' of {source} holds neither dates nor numbers (e.g. '{present.iloc[0]}'); name a column of dates.")


def _cross_fit_all(inputs: CrossFitInputs, options: TrainOptions, progress: Progress | None) -> dict[str, _Member]:
    """Every model of ``options.model_names`` cross-fitted (:func:`cross_fit_member`), in order."""
    names = options.model_names
    steps = len(inputs.folds) + (options.validation is None and inputs.fold_columns is None)

    def report(m: int):
        return lambda label, done: _report(progress, label, m * steps + done, len(names) * steps)

    return {name: cross_fit_member(inputs, name, options.params(name), seed=options.seed, report=report(m)) for m, name in enumerate(names)}


def cross_fit_member(
    inputs: CrossFitInputs,
    model: str,
    params: dict,
    *,
    seed: int,
    name: str | None = None,
    deadline: float | None = None,
    report: Callable[[str, int], None] | None = None,
) -> _Member | None:
    """Fit ``model`` on every fold (fold k reads ``inputs.fold_matrices[k]``) for held-out output, then the member to save.

    With k folds the member is the bag of the fold models (``inputs.fold_columns`` set) or one
    model refitted on all of ``inputs.X``. With a validation split the model fitted on the fit
    rows is the one saved: skipping the refit is the time the option saves (neural models keep
    the epoch their own early stopping chose). Fold k's model gets the seed ``seed + k``.
    ``deadline`` (a :func:`time.perf_counter` value): None is returned as soon as the folds'
    pace shows the member would end after it. ``report(label, steps done)`` follows the folds.
    """
    name, n_folds = name or model, len(inputs.folds)
    refit = inputs.fold_columns is None and n_folds > 1
    fold_estimators, started = [], time.perf_counter()

    # a neural model checks the deadline after every epoch: one of its folds can outlast a whole gbdt
    fit_params = {"on_epoch": _past(deadline)} if deadline is not None and model in NEURAL else {}

    def fit_predict(k, _train_rows, _valid_rows):
        estimator, proba = inputs.fold_estimator(model, params, k, seed=seed, **fit_params)
        fold_estimators.append(estimator)
        if report:
            report(f"{name}: fold {k + 1}/{n_folds}" if n_folds > 1 else f"{name}: fitted on the rows outside the validation split", k + 1)
        pace = (time.perf_counter() - started) / (k + 1)
        if deadline is not None and time.perf_counter() + pace * (n_folds - k - 1 + refit) > deadline:
            raise _PastDeadline
        return proba

    try:
        oof = out_of_fold(inputs.folds, fit_predict, len(inputs.y))
    except _PastDeadline:
        return None
    final = fold_estimators[0]
    if inputs.fold_columns is not None:
        categorical = inputs.preprocessor.categorical_indices
        final = BaggedClassifier.from_folds(model, fold_estimators, inputs.fold_columns, n_features=inputs.X.shape[1], categorical_features=categorical)
    elif refit:
        final = _refit(model, {**params, **refit_params(fold_estimators)}, inputs, seed)
        if report:
            report(f"{name}: refit on all rows", len(inputs.folds) + 1)
    return _Member(final, oof[inputs.held_out], time.perf_counter() - started)


class _PastDeadline(Exception):
    """A member's folds go too slowly to end before its deadline."""


def _past(deadline: float) -> Callable[[dict], None]:
    """An ``on_epoch`` callback that stops a neural fit once ``deadline`` (a :func:`time.perf_counter` value) has passed."""

    def check(_record: dict) -> None:
        if time.perf_counter() > deadline:
            raise _PastDeadline

    return check


def _refit(name: str, params: dict, inputs: CrossFitInputs, seed: int):
    """Model ``name`` fitted on every row of ``inputs.X``: the one k-fold training saves."""
    categorical = inputs.preprocessor.categorical_indices
    return make_model(name, categorical_features=categorical, random_state=seed, **params).fit(inputs.X, inputs.y, **inputs.sequence_params(name))


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
