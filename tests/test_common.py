"""scikit-learn's estimator conformance suite over every registered model, and the conventions they share."""

from __future__ import annotations

import inspect
from dataclasses import fields

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from hotleads import neural_params, registry
from hotleads import nn as hnn
from hotleads.neural_params import TrainConfig

# Small and fast: one thread, few trees, tiny networks; the neural lr is high enough to pass
# check_classifiers_train's accuracy bar (0.83 on blobs) in a few epochs.
TINY = {
    "gbdt": dict(n_estimators=20, n_jobs=1),
    "logreg": dict(n_jobs=1),
    "lstm": dict(hidden_size=8),
    "cnn": dict(n_channels=8),
    "transformer": dict(n_heads=2, n_layers=1),
}
TINY_NEURAL = dict(d_token=4, head_hidden=8, epochs=10, batch_size=32, lr=1e-2, lr_schedule="constant", device="cpu", n_jobs=1)


def tiny(name: str):
    params = TINY[name] | (TINY_NEURAL if name in registry.NEURAL else {})
    return registry.make_model(name, categorical_features=[], random_state=0, **params)


ESTIMATORS = [tiny(name) for name in registry.MODELS]

# Every check passes, so no model expects a failure. One that must: {"check_name": "why it cannot apply"}.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda estimator: type(estimator).__name__)
def test_every_parameter_has_a_constraint_and_a_bad_one_is_refused_in_sklearns_words(estimator):
    """scikit-learn's own check (not part of parametrize_with_checks): a constraint for every parameter, an
    InvalidParameterError saying "The 'x' parameter of Y must be ... Got ... instead." for each bad one."""
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize("name", list(registry.MODELS))
@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_predict_before_fit_is_not_fitted_error(name, method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(tiny(name), method)(np.zeros((3, 2)))


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_predict_is_the_positive_class_at_probability_half_or_more(name, monkeypatch):
    model = tiny(name).fit(*_blobs())
    monkeypatch.setattr(type(model), "_predict_proba", lambda self, X: np.array([[0.5, 0.5], [0.51, 0.49], [0.2, 0.8]]))
    assert model.predict(np.zeros((3, 2))).tolist() == [1, 0, 1]


@pytest.mark.parametrize("name", sorted(registry.NEURAL))
def test_neural_get_params_lists_every_setting(name):
    params = registry.model_class(neural_params.MODELS[name].class_name)().get_params()
    architecture = neural_params.MODELS[name].architecture
    assert {f.name for f in fields(TrainConfig)} <= set(params)
    assert {f.name for f in fields(architecture)} <= set(params)
    assert set(params) == {"categorical_features"} | {f.name for f in (*fields(TrainConfig), *fields(architecture))}
    assert "n_threads" not in params and "seed" not in params


@pytest.mark.parametrize("name", sorted(registry.NEURAL))
def test_each_neural_default_is_its_single_declaration(name):
    """A default instance's get_params() holds TrainConfig's and the architecture's defaults, except where the
    per-model table departs; nn.py's modules have no defaults of their own for these settings."""
    model = neural_params.MODELS[name]
    params = registry.model_class(model.class_name)().get_params()
    for declared in (*fields(TrainConfig), *fields(model.architecture)):
        assert params[declared.name] == model.departures.get(declared.name, declared.default), declared.name
    assert set(model.departures) <= {f.name for f in fields(TrainConfig)}
    for module in (hnn.LSTMEncoder, hnn.CNNEncoder, hnn.TransformerEncoder, hnn.Head):
        defaulted = {p.name for p in inspect.signature(module).parameters.values() if p.default is not inspect.Parameter.empty}
        assert defaulted <= {"seq_len"}, module.__name__


def test_the_measured_departures_stay_as_the_readme_reports():
    picked = {name: {key: neural_params.defaults(name)[key] for key in ("lr", "epochs", "pooling", "n_layers")} for name in registry.NEURAL}
    assert picked == {
        "lstm": {"lr": 2e-2, "epochs": 16, "pooling": "flatten", "n_layers": 1},
        "cnn": {"lr": 1e-2, "epochs": 20, "pooling": "flatten", "n_layers": 1},
        "transformer": {"lr": 3e-3, "epochs": 15, "pooling": "cls", "n_layers": 1},
    }


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_shared_conventions(name):
    """One set of names and defaults for every model: random_state=None, n_jobs=None, categorical_features=None."""
    params = registry.model_class(type(tiny(name)).__name__)().get_params()
    assert (params["random_state"], params["n_jobs"], params["categorical_features"]) == (None, None, None)
    assert clone(tiny(name)).get_params() == tiny(name).get_params()


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    return X, (X[:, 0] > 0).astype(int)
