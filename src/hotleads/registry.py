"""Model names -> estimator classes: the one place a new model is added.

Every class here takes ``categorical_features`` and ``random_state`` and implements
``fit``/``predict_proba`` plus ``save(directory, stem) -> meta`` and ``load(directory, meta)``.
"""

from __future__ import annotations

import difflib

from .estimators import GBDTClassifier, LogRegClassifier
from .exceptions import ParameterError
from .neural import NEURAL_MODELS

MODELS: dict[str, type] = {"gbdt": GBDTClassifier, "logreg": LogRegClassifier, **NEURAL_MODELS}
CLASSES_BY_NAME: dict[str, type] = {cls.__name__: cls for cls in MODELS.values()}


def parse_model_names(text: str) -> list[str]:
    """``"gbdt, lstm"`` -> ``["gbdt", "lstm"]``; unknown or repeated names raise with a suggestion.

    Examples
    --------
    >>> parse_model_names("gbdt,logreg")
    ['gbdt', 'logreg']
    """
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise ParameterError(f"--models is empty; choose from {', '.join(MODELS)}.")
    for name in names:
        if name not in MODELS:
            guess = difflib.get_close_matches(name, MODELS, n=1)
            hint = f"did you mean '{guess[0]}'? " if guess else ""
            raise ParameterError(f"--models: unknown model '{name}'; {hint}choose from {', '.join(MODELS)}.")
    if len(set(names)) != len(names):
        raise ParameterError(f"--models names a model twice: {text}.")
    return names


def make_model(name: str, *, categorical_features: list[int], random_state: int, **params):
    """A fresh, unfitted estimator of the registered model ``name``."""
    return MODELS[name](categorical_features=list(categorical_features), random_state=random_state, **params)


def model_class(class_name: str) -> type:
    """The estimator class saved under ``class_name`` in a bundle manifest."""
    return CLASSES_BY_NAME[class_name]
