"""What every hotleads classifier shares: one base class and one set of conventions.

Every registered model (gbdt, logreg, lstm, cnn, transformer) is a :class:`LeadClassifier`:

- ``__init__`` only stores its arguments; ``fit`` first checks them the scikit-learn way
  (``_parameter_constraints`` and ``_validate_params``, every bad one reported at once, each as
  *"The 'lr' parameter of LSTMClassifier must be ... Got ... instead."*), then the rules that tie
  parameters together (``_check_param_rules``);
- ``X`` is a float matrix, NaN allowed; ``y`` must have exactly two classes; ``classes_`` holds
  them and column 1 of ``predict_proba`` is ``classes_[1]``;
- ``predict`` is ``classes_[1]`` where its probability is at least 0.5 (the product's rule is
  ``probability >= threshold``), written once, here;
- ``random_state=None``, and a fit's int seed comes from :func:`fit_seed`; ``n_jobs=None`` (all
  the cores this process may use, :func:`default_n_jobs`);
- ``categorical_features`` lists column indices, checked by :func:`check_categorical_features`;
- ``save(directory, stem) -> meta`` writes files in safe formats and returns JSON-able meta with
  the library versions; ``load(directory, meta, *, device="auto")`` rebuilds the fitted model and
  refuses a meta whose parameters this version does not know.

This module imports neither torch nor LightGBM.

Examples
--------
>>> fit_seed(7), check_categorical_features([-1, 0], 4, owner="GBDTClassifier").tolist()
(7, [0, 3])
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import os
import sys

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, validate_parameter_constraints
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .io import jsonable

__all__ = [
    "LeadClassifier",
    "check_categorical_features",
    "check_parameters",
    "default_n_jobs",
    "fit_seed",
    "params_from_json",
    "params_to_json",
    "resolve_n_jobs",
]

# n_jobs as joblib reads it: a positive count, or -1 for every core, -2 for all but one...; None = every core.
N_JOBS_CONSTRAINT = [Interval(numbers.Integral, 1, None, closed="left"), Interval(numbers.Integral, None, -1, closed="right"), None]
# Parameters saved under another name by earlier versions: {old: new}.
RENAMED_PARAMS = {"n_threads": "n_jobs"}
# JSON object keys are strings, so a dict parameter keyed by class labels (which may be ints) is
# saved as [[key, value], ...]; these are the parameters that take a dict.
DICT_PARAMS = frozenset({"class_weight"})


# --------------------------------------------------------------------------- conventions


def default_n_jobs() -> int:
    """The cores this process may run on (CPU affinity and container limits where the OS says).

    Examples
    --------
    >>> default_n_jobs() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Threads for ``n_jobs``: None = :func:`default_n_jobs`, -1 = the same, -2 = one fewer...

    Examples
    --------
    >>> resolve_n_jobs(3), resolve_n_jobs(-1) == resolve_n_jobs(None) == default_n_jobs()
    (3, True)
    """
    if n_jobs is None:
        return default_n_jobs()
    return int(n_jobs) if n_jobs > 0 else max(1, default_n_jobs() + 1 + int(n_jobs))


def fit_seed(random_state) -> int:
    """The int seed of one fit: ``random_state`` itself when it is an int, else drawn from it.

    LightGBM's rule: an int seeds the libraries directly (so ``random_state=0`` fits as it always
    did); None draws a fresh seed per fit and a ``RandomState`` draws the next one.

    Examples
    --------
    >>> fit_seed(0), fit_seed(np.random.RandomState(0))
    (0, 209652396)
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def check_categorical_features(categorical_features, n_features: int, *, owner: str) -> np.ndarray:
    """Sorted column indices ``(n_categorical,)`` of ``categorical_features`` for ``X`` with ``n_features`` columns.

    Negative indices count from the end. A non-integer, an index outside ``X`` or a column listed
    twice raises ValueError saying which and how to fix it.

    Examples
    --------
    >>> check_categorical_features([5], 4, owner="CNNClassifier")
    Traceback (most recent call last):
    ...
    ValueError: The 'categorical_features' parameter of CNNClassifier must hold column indices in [0, 4) for X with 4 columns (negative ones count from the end). Got [5] instead; remove [5] or pass the X it was meant for.
    """
    listed = [] if categorical_features is None else list(categorical_features)
    bad = [i for i in listed if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not -n_features <= i < n_features]
    if bad:
        raise ValueError(
            f"The 'categorical_features' parameter of {owner} must hold column indices in [0, {n_features}) for X with "
            f"{n_features} columns (negative ones count from the end). Got {listed!r} instead; remove {bad!r} or pass "
            "the X it was meant for."
        )
    indices = sorted(int(i) % n_features for i in listed)
    if len(set(indices)) != len(indices):
        raise ValueError(f"The 'categorical_features' parameter of {owner} lists a column twice: {listed!r}; list each column once.")
    return np.asarray(indices, dtype=np.int64)


def check_parameters(constraints: dict, params: dict, *, owner: str) -> None:
    """Raise one :class:`~sklearn.utils._param_validation.InvalidParameterError` naming every
    parameter in ``params`` that breaks its rule in ``constraints``, in scikit-learn's words.

    scikit-learn stops at the first bad parameter; this reports them all, one per line.

    Examples
    --------
    >>> from sklearn.utils._param_validation import Interval
    >>> check_parameters({"epochs": [Interval(numbers.Integral, 1, None, closed="left")]}, {"epochs": 0}, owner="CNNClassifier")
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: The 'epochs' parameter of CNNClassifier must be an int in the range [1, inf). Got 0 instead.
    """
    problems = []
    for name, value in params.items():
        try:
            validate_parameter_constraints({name: constraints[name]}, {name: value}, caller_name=owner)
        except InvalidParameterError as error:
            problems.append(str(error))
    if problems:
        raise InvalidParameterError("\n".join(problems))


def check_param_names(names, known, *, owner: str) -> None:
    """Raise ValueError for a name in ``names`` that is not in ``known``, suggesting the nearest one."""
    for name in names:
        if name not in known:
            guess = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise ValueError(f"{owner} has no parameter {name!r}; {hint}its parameters are {', '.join(sorted(known))}.")


# --------------------------------------------------------------------------- JSON


def params_to_json(params: dict) -> dict:
    """``get_params()`` as JSON; a dict parameter becomes ``[[key, value], ...]`` (see ``DICT_PARAMS``)."""
    saved = {}
    for name, value in params.items():
        is_pairs = name in DICT_PARAMS and isinstance(value, dict)
        saved[name] = [[jsonable(k), jsonable(v)] for k, v in value.items()] if is_pairs else jsonable(value)
    return saved


def params_from_json(cls: type, saved: dict) -> dict:
    """Inverse of :func:`params_to_json` for estimator class ``cls``.

    A list comes back a tuple where the parameter's default is a tuple; a name ``cls`` does not
    take raises ValueError (a bundle from another version).
    """
    defaults = {name: p.default for name, p in _init_parameters(cls).items()}
    params = {RENAMED_PARAMS.get(name, name): value for name, value in saved.items()}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"the saved {cls.__name__} has parameters {unknown} that this version of hotleads does not know; retrain the model with it.")
    for name, value in params.items():
        if name in DICT_PARAMS and isinstance(value, list):
            params[name] = {key: weight for key, weight in value}
        elif isinstance(value, list) and isinstance(defaults[name], tuple):
            params[name] = tuple(value)
    return params


def _init_parameters(cls: type) -> dict:
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}


def library_versions(*extra: str) -> dict[str, str]:
    """Versions of hotleads, numpy, scikit-learn and the ``extra`` modules already imported (e.g. "torch")."""
    from . import __version__  # the package's own __init__ sets it before importing anything

    versions = {"hotleads": __version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__}
    return versions | {name: sys.modules[name].__version__ for name in extra}


# --------------------------------------------------------------------------- the base class


def positive_proba(estimator, X: np.ndarray, *, sequences: np.ndarray | None = None) -> np.ndarray:
    """``estimator``'s hot-lead probability on ``X (n, d)``, shape (n,); ``sequences (n, T, C)`` go only to a model that reads them.

    A neural model fitted with monthly windows (``reads_sequences``) needs them; the others read X alone.
    """
    if getattr(estimator, "reads_sequences", False):
        return estimator.predict_proba(X, sequences=sequences)[:, 1]
    return estimator.predict_proba(X)[:, 1]


class LeadClassifier(ClassifierMixin, BaseEstimator):
    """Base class of the hotleads classifiers: binary, NaN-tolerant, saved without pickle.

    Subclasses declare ``__init__`` and ``_parameter_constraints`` and implement
    ``_fit(X, y, seed)`` (``y`` encoded as 0/1), ``_predict_proba(X) -> (n, 2)``, ``save`` and
    ``load``; ``_check_param_rules`` holds the rules that tie parameters together.
    """

    _parameter_constraints: dict = {
        "categorical_features": ["array-like", None],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y):
        """Fit on ``X (n, d)`` (floats, NaN = missing; ``categorical_features`` columns hold codes) and binary ``y (n,)``."""
        self._check_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        self.classes_, y_encoded = self._binary_classes(y)
        self.categorical_features_ = check_categorical_features(self.categorical_features, X.shape[1], owner=type(self).__name__)
        self._fit(X, y_encoded, fit_seed(self.random_state))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities ``(n, 2)``; column 1 is ``classes_[1]`` (the hot lead)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return self._predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where its probability is at least 0.5, else ``classes_[0]``, shape ``(n,)``.

        The product tunes its threshold on ``predict_proba`` outside the estimator, with the same ``>=``.
        """
        positive = self.predict_proba(X)[:, 1] >= 0.5  # first: it raises NotFittedError before fit
        return self.classes_[positive.astype(np.int64)]

    # ------------------------------------------------------------------ checks

    def _check_params(self) -> None:
        """Every parameter by its constraint (all problems at once), then the cross-parameter rules."""
        check_parameters(self._parameter_constraints, self.get_params(deep=False), owner=type(self).__name__)
        self._check_param_rules()

    def _check_param_rules(self) -> None:
        """Rules that tie parameters together; none by default."""

    def _binary_classes(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(``classes_ (2,)``, ``y`` encoded as 0/1); ValueError unless ``y`` holds exactly two classes."""
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        classes, encoded = np.unique(y, return_inverse=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}: y has {len(classes)} "
                f"classes ({classes[:5].tolist()}{'...' if len(classes) > 5 else ''}); {type(self).__name__} tells one "
                "class from another, so give it a target with two."
            )
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of both classes, but y holds 1 class only ({classes[0]!r}).")
        return classes, encoded

    # ------------------------------------------------------------------ for subclasses

    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _meta(self, files: list[str], *, libraries: tuple[str, ...] = (), **extra) -> dict:
        """The JSON-able meta every ``save`` returns: class, parameters, what fit learnt about X and y, versions."""
        meta = {
            "class": type(self).__name__,
            "params": params_to_json(self.get_params()),
            "classes": jsonable(self.classes_),
            "n_features_in": int(self.n_features_in_),
            "categorical_features": jsonable(self.categorical_features_),
            "versions": library_versions(*libraries),
            "files": files,
        }
        if hasattr(self, "feature_names_in_"):
            meta["feature_names_in"] = jsonable(self.feature_names_in_)
        return meta | extra

    @classmethod
    def _from_meta(cls, meta: dict):
        """An estimator with ``meta``'s parameters and the attributes :meth:`_meta` recorded."""
        if meta.get("class") != cls.__name__:
            raise ValueError(f"meta['class'] is {meta.get('class')!r}, which {cls.__name__}.load cannot rebuild; load it with that class.")
        model = cls(**params_from_json(cls, meta["params"]))
        model.classes_ = np.asarray(meta["classes"])
        model.n_features_in_ = int(meta["n_features_in"])
        if "feature_names_in" in meta:
            model.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
        if "categorical_features" in meta:
            model.categorical_features_ = np.asarray(meta["categorical_features"], dtype=np.int64)
        else:  # saved before the attribute existed
            model.categorical_features_ = check_categorical_features(model.categorical_features, model.n_features_in_, owner=cls.__name__)
        return model
