"""The model registry: names, lazy classes, parameter checks without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sklearn.utils._param_validation import InvalidParameterError

from hotleads import registry
from hotleads.exceptions import ParameterError
from hotleads.neural_params import MODELS as NEURAL_SETTINGS


def test_models_and_neural_names():
    assert list(registry.MODELS) == ["gbdt", "logreg", "lstm", "cnn", "transformer"]
    assert registry.NEURAL == {"lstm", "cnn", "transformer"}


@pytest.mark.parametrize("name", ["gbdt", "logreg", "lstm", "cnn", "transformer"])
def test_make_model_and_model_class_agree(name):
    model = registry.make_model(name, categorical_features=[2, 0], random_state=3)
    assert model.get_params()["categorical_features"] == [2, 0]
    assert model.get_params()["random_state"] == 3
    assert registry.model_class(type(model).__name__) is type(model)
    assert registry.param_names(name) == set(model.get_params())


def test_model_class_refuses_an_unknown_class():
    with pytest.raises(ValueError, match=r"no registered model is saved as 'RandomForest'.*GBDTClassifier"):
        registry.model_class("RandomForest")


def test_parse_model_names_suggests_and_refuses_repeats():
    assert registry.parse_model_names(" GBDT , lstm ") == ["gbdt", "lstm"]
    with pytest.raises(ParameterError, match="unknown model 'lsmt'; did you mean 'lstm'"):
        registry.parse_model_names("lsmt")
    with pytest.raises(ParameterError, match="names a model twice"):
        registry.parse_model_names("gbdt,gbdt")
    with pytest.raises(ParameterError, match="--models is empty"):
        registry.parse_model_names(" , ")


@pytest.mark.parametrize("name", ["gbdt", "logreg", "lstm", "cnn", "transformer"])
def test_check_params_accepts_the_defaults_and_refuses_a_bad_value(name):
    registry.check_params(name, {})
    registry.check_params(name, {"random_state": 0, "n_jobs": 1})
    with pytest.raises(InvalidParameterError, match=r"^The 'n_jobs' parameter of \w+Classifier must be .* Got 0 instead\.$"):
        registry.check_params(name, {"n_jobs": 0})


def test_check_params_reports_every_bad_value_at_once():
    with pytest.raises(ValueError) as error:
        registry.check_params("lstm", {"epochs": 0, "loss": "hinge", "device": "tpu"})
    lines = str(error.value).splitlines()
    assert lines == [
        "The 'epochs' parameter of LSTMClassifier must be an int in the range [1, inf). Got 0 instead.",
        "The 'loss' parameter of LSTMClassifier must be a str among {'binary', 'categorical'}. Got 'hinge' instead.",
        "The 'device' parameter of LSTMClassifier must be 'auto', 'cpu', 'cuda' or 'cuda:N'. Got 'tpu' instead.",
    ]


def test_check_params_names_the_nearest_parameter():
    with pytest.raises(ValueError, match=r"LSTMClassifier has no parameter 'epoch'; did you mean 'epochs'\?"):
        registry.check_params("lstm", {"epoch": 3})
    with pytest.raises(ValueError, match=r"GBDTClassifier has no parameter 'n_estimator'; did you mean 'n_estimators'\?"):
        registry.check_params("gbdt", {"n_estimator": 3})


def test_check_params_applies_the_rules_between_parameters():
    registry.check_params("transformer", {"d_token": 12, "n_heads": 3})
    with pytest.raises(ValueError, match=r"The 'n_heads' parameter of TransformerClassifier must divide d_token=32\. Got 3 instead; try n_heads=8"):
        registry.check_params("transformer", {"n_heads": 3})


def test_param_names_of_the_neural_models_are_their_settings():
    for name, model in NEURAL_SETTINGS.items():
        names = registry.param_names(name)
        assert {"epochs", "lr", "n_jobs", "random_state", "categorical_features", "d_token"} <= names
        assert "n_threads" not in names
        assert model.class_name in registry.MODELS[name]


def test_a_callable_registered_in_a_test_is_used_as_given(monkeypatch):
    from hotleads.estimators import GBDTClassifier

    monkeypatch.setitem(registry.MODELS, "gbdt", lambda **params: GBDTClassifier(n_estimators=7, **params))
    assert registry.make_model("gbdt", categorical_features=[], random_state=0).n_estimators == 7
    assert registry.model_class("GBDTClassifier") is GBDTClassifier


def _modules_after(code: str) -> set[str]:
    """Top-level modules that ``code`` leaves imported in a fresh interpreter."""
    script = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_registry_imports_neither_torch_nor_lightgbm():
    modules = _modules_after(
        "import hotleads.registry as r\nr.check_params('lstm', {'epochs': 3}); r.param_names('cnn')\nr.check_params('lstm', {'device': 'cpu'})"
    )
    assert "torch" not in modules and "lightgbm" not in modules


def test_a_gbdt_model_does_not_import_torch():
    modules = _modules_after(
        "import numpy as np, hotleads.registry as r\n"
        "X = np.random.default_rng(0).normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)\n"
        "r.make_model('gbdt', categorical_features=[], random_state=0, n_estimators=5).fit(X, y)\n"
        "r.model_class('GBDTClassifier'); r.check_params('gbdt', {'n_estimators': 5})"
    )
    assert "torch" not in modules and "lightgbm" in modules
