"""Model names -> estimator classes: the one place a new model is added.

Every class here is a :class:`hotleads.base.LeadClassifier`: it takes ``categorical_features``,
``random_state`` and ``n_jobs`` and implements ``fit``/``predict_proba`` plus
``save(directory, stem) -> meta`` and ``load(directory, meta, *, device)``.

The classes are named as ``"module:Class"`` strings and imported on first use, so importing this
module (or loading a gbdt bundle) imports neither torch nor LightGBM; :func:`check_params` and
:func:`param_names` answer for the neural models from :mod:`hotleads.neural_params`, without torch.

Examples
--------
>>> parse_model_names("gbdt, lstm")
['gbdt', 'lstm']
>>> sorted(NEURAL), "epochs" in param_names("cnn")
(['cnn', 'lstm', 'transformer'], True)
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable

from . import neural_params
from .base import check_param_names
from .exceptions import ParameterError

__all__ = ["MODELS", "NEURAL", "check_params", "make_model", "model_class", "param_names", "parse_model_names"]

# name -> "module:Class" (or, in tests, any callable that makes an estimator)
MODELS: dict[str, str | Callable] = {
    "gbdt": "hotleads.estimators:GBDTClassifier",
    "logreg": "hotleads.estimators:LogRegClassifier",
    **{name: f"hotleads.neural:{model.class_name}" for name, model in neural_params.MODELS.items()},
}
NEURAL: frozenset[str] = frozenset(neural_params.MODELS)
# saved class name -> "module:Class": the registered models, and the bag of one model's fold models
_CLASSES: dict[str, str] = {path.rpartition(":")[2]: path for path in MODELS.values()} | {"BaggedClassifier": "hotleads.bagging:BaggedClassifier"}


def _resolve(entry: str | Callable) -> Callable:
    if not isinstance(entry, str):
        return entry
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def parse_model_names(text: str, *, allow_auto: bool = False) -> list[str]:
    """``"gbdt, lstm"`` -> ``["gbdt", "lstm"]``; unknown or repeated names raise with a suggestion.

    With ``allow_auto``, ``"auto"`` alone (``--models auto``, :mod:`hotleads.selection`) is ``["auto"]``.

    Examples
    --------
    >>> parse_model_names("gbdt,logreg")
    ['gbdt', 'logreg']
    """
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    choices = ", ".join(["auto", *MODELS] if allow_auto else MODELS)
    if not names:
        raise ParameterError(f"--models is empty; choose from {choices}.")
    if "auto" in names:
        if allow_auto and names == ["auto"]:
            return names
        why = "chooses among the models by itself; give it alone" if allow_auto else "is for train; name the models"
        raise ParameterError(f"--models auto {why}, or list models from {', '.join(MODELS)}.")
    for name in names:
        if name not in MODELS:
            guess = difflib.get_close_matches(name, MODELS, n=1)
            hint = f"did you mean '{guess[0]}'? " if guess else ""
            raise ParameterError(f"--models: unknown model '{name}'; {hint}choose from {choices}.")
    if len(set(names)) != len(names):
        raise ParameterError(f"--models names a model twice: {text}.")
    return names


def make_model(name: str, *, categorical_features: list[int], random_state, **params):
    """A fresh, unfitted estimator of the registered model ``name``."""
    return _resolve(MODELS[name])(categorical_features=list(categorical_features), random_state=random_state, **params)


def model_class(class_name: str) -> type:
    """The estimator class saved under ``class_name`` in a bundle manifest (imported on first use)."""
    if class_name not in _CLASSES:
        raise ValueError(f"no registered model is saved as {class_name!r}; the registered ones are {', '.join(sorted(_CLASSES))}.")
    return _resolve(_CLASSES[class_name])


def param_names(name: str) -> set[str]:
    """Every parameter the estimator of model ``name`` takes (the neural ones without importing torch)."""
    if name in NEURAL:
        return set(neural_params.defaults(name))
    return set(_resolve(MODELS[name])().get_params(deep=False))


def check_params(name: str, params: dict) -> None:
    """Raise ValueError, in scikit-learn's words, if the estimator of model ``name`` would refuse ``params``.

    Unknown names (with the nearest known one), every value that breaks its constraint (all at
    once, as :class:`~sklearn.utils._param_validation.InvalidParameterError`), then the rules
    between parameters; nothing is fitted, and the neural models are checked without torch.

    Examples
    --------
    >>> check_params("lstm", {"epochs": 5, "lr": 0.01})
    >>> check_params("transformer", {"d_token": 8, "n_heads": 3})
    Traceback (most recent call last):
    ...
    ValueError: The 'n_heads' parameter of TransformerClassifier must divide d_token=8. Got 3 instead; try n_heads=8, or a d_token that 3 divides.
    """
    if name in NEURAL:
        neural_params.check_params(name, params)
        return
    cls = _resolve(MODELS[name])
    check_param_names(params, param_names(name), owner=getattr(cls, "__name__", name))
    cls(**params)._check_params()
