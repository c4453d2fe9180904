"""The neural models' settings, each declared once: its name, its default, its rule and its text.

Torch-free on purpose: the command line checks ``--epochs 0`` also for gbdt-only runs, and
:mod:`hotleads.registry` answers "is this a valid parameter of lstm?" without paying torch's 2.3 s
import.

- :class:`TrainConfig` declares the training settings (epochs, lr, early stopping, device,
  seed...). The training loop reads it; every neural estimator takes each of its fields as a
  parameter.
- :class:`TokenSettings` declares the architecture settings every model shares (the feature
  tokens and the head), and :class:`LSTMSettings`, :class:`CNNSettings` and
  :class:`TransformerSettings` add each encoder's own. The plain modules of :mod:`hotleads.nn`
  take these as required keyword arguments, so they cannot default differently.
- :data:`MODELS` is the one table of per-model departures from the shared training defaults,
  each the measured best on the challenge data (the README's figures use them).

Each setting is a dataclass field whose metadata holds its scikit-learn constraint and its
numpydoc text (:func:`setting`). :mod:`hotleads.neural` builds every estimator's ``__init__``
signature, ``_parameter_constraints`` and Parameters section from them. Why a generated
signature: writing the ``__init__`` of each estimator out repeats every default in three
signatures (the old way, which let the defaults drift apart); skorch's ``module__*`` prefixes
would rename the parameters that users and the command line know (``lr``, ``epochs``); LightGBM's
``**kwargs`` hides settings from ``get_params`` unless it is overridden. scikit-learn reads
parameters with ``inspect.signature(cls.__init__)``, which honours ``__signature__``, so a
generated signature keeps ``get_params``, ``clone``, ``set_params``, ``GridSearchCV`` and
``parametrize_with_checks`` working with plain names and one default each.

Examples
--------
>>> defaults("lstm")["lr"], defaults("cnn")["lr"], TrainConfig().lr
(0.02, 0.01, 0.01)
>>> check_params("cnn", {"epochs": 0})
Traceback (most recent call last):
...
sklearn.utils._param_validation.InvalidParameterError: The 'epochs' parameter of CNNClassifier must be an int in the range [1, inf). Got 0 instead.
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from typing import Literal, NamedTuple

from sklearn.utils._param_validation import Interval, StrOptions

from .base import N_JOBS_CONSTRAINT, LeadClassifier, check_param_names, check_parameters
from .exceptions import ParameterError

__all__ = [
    "MODELS",
    "CNNSettings",
    "LSTMSettings",
    "TokenSettings",
    "TrainConfig",
    "TransformerSettings",
    "check_device",
    "check_param_rules",
    "check_params",
    "constraints",
    "defaults",
    "parameters_doc",
    "signature",
]


def setting(default, rule: list, doc: str):
    """A dataclass field with its ``default``, its scikit-learn constraint list ``rule`` and its numpydoc ``doc``."""
    return field(default=default, metadata={"rule": rule, "doc": doc})


def _at_least(low: int) -> Interval:
    return Interval(Integral, low, None, closed="left")


def _one_of(*options: str) -> StrOptions:
    # A dict's keys: a set that keeps its order, so a message lists the options the same way every run.
    return StrOptions(dict.fromkeys(options).keys())


class _Devices(StrOptions):
    """'auto', 'cpu', 'cuda' or 'cuda:N'. A StrOptions because scikit-learn's validation takes only its own constraint types."""

    def __init__(self) -> None:
        super().__init__({"auto", "cpu", "cuda"})

    def is_satisfied_by(self, val) -> bool:
        return isinstance(val, str) and (val in self.options or re.fullmatch(r"cuda:(0|[1-9][0-9]*)", val) is not None)

    def __str__(self) -> str:
        return "'auto', 'cpu', 'cuda' or 'cuda:N'"


DEVICE = _Devices()


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainConfig:
    """Everything the training loop needs besides the module and the data; each field's default is
    the default of the neural estimators' parameter of that name (unless :data:`MODELS` departs)."""

    epochs: int = setting(20, [_at_least(1)], "Passes over the training rows (the most, with early stopping).")
    batch_size: int = setting(256, [_at_least(1)], "Rows per optimiser step.")
    lr: float = setting(1e-2, [Interval(Real, 0, None, closed="left")], "Peak learning rate of the schedule.")
    weight_decay: float = setting(
        1e-4, [Interval(Real, 0, None, closed="left")],
        "Weight decay of every parameter (hotleads.train_loop.decay_groups says why not only the "
        "weight matrices): decoupled under 'adamw', added to the gradient under 'adam'.",
    )  # fmt: skip
    optimizer: Literal["adam", "adamw"] = setting("adamw", [_one_of("adam", "adamw")], "torch.optim.Adam or torch.optim.AdamW.")
    lr_schedule: Literal["onecycle", "cosine", "constant"] = setting(
        "onecycle", [_one_of("onecycle", "cosine", "constant")],
        "Stepped per batch over all epochs. 'onecycle' is torch's OneCycleLR (warm-up for 30 % of the "
        "steps from lr / 25 to lr, then cosine annealing to lr / 25e4, Adam's beta1 cycled from 0.95 "
        "to 0.85 and back); 'cosine' warms up linearly for warmup_fraction of the steps, then anneals "
        "to 0; 'constant' keeps lr.",
    )  # fmt: skip
    warmup_fraction: float = setting(0.05, [Interval(Real, 0, 1, closed="both")], "Share of the steps the 'cosine' schedule warms up for.")
    grad_clip: float | None = setting(1.0, [Interval(Real, 0, None, closed="neither"), None], "Largest gradient norm, clipped above it; None = no clipping.")
    patience: int | None = setting(
        8, [_at_least(1), None], "Epochs without improvement of the monitored metric before training stops; None = no early stopping."
    )
    validation_fraction: float = setting(
        0.15, [Interval(Real, 0, 1, closed="left")],
        "Share of the rows held out (stratified) to choose the best epoch and stop early; 0 = train on "
        "all rows for all epochs.",
    )  # fmt: skip
    monitor: Literal["loss", "average_precision"] = setting(
        "loss", [_one_of("loss", "average_precision")], "The validation metric that chooses the best epoch."
    )
    loss: Literal["binary", "categorical"] = setting(
        "binary", [_one_of("binary", "categorical")],
        "'binary': one logit, BCE-with-logits; 'categorical': two logits, softmax and cross-entropy "
        "(the seed's formulation).",
    )  # fmt: skip
    class_weight: Literal["balanced"] | dict | None = setting(
        "balanced", [_one_of("balanced"), dict, None],
        "Per-row loss weights: 'balanced' = compute_class_weight('balanced') on the training rows, a "
        "dict maps classes to weights (a class it lacks weighs 1), None = all 1.",
    )  # fmt: skip
    device: str = setting("auto", [DEVICE], "'auto' = CUDA when torch sees a GPU, else the CPU; 'cpu', 'cuda' or 'cuda:N'.")
    random_state: int | None = setting(
        None, ["random_state"],
        "Seed of the validation split, the initial weights, the shuffling and dropout "
        "(hotleads.base.fit_seed); fits on the CPU with the same int and n_jobs are identical.",
    )  # fmt: skip
    n_jobs: int | None = setting(
        None,
        N_JOBS_CONSTRAINT,
        "torch threads in fit and predict; -1 = every core this process may use; None = the same, but one "
        "thread for small CPU batches (under 128 rows; the LSTM's under 512), where a second thread costs more than it saves.",
    )
    predict_batch_size: int | None = setting(
        None, [_at_least(1), None],
        "Rows per forward pass when validating and predicting; None = 1,024 on the CPU (it stays in "
        "cache: faster than 8,192), 32,768 on CUDA.",
    )  # fmt: skip
    verbose: int = setting(0, ["verbose"], "Print one line per epoch when > 0.")


# --------------------------------------------------------------------------- architecture


@dataclass(frozen=True)
class TokenSettings:
    """Architecture settings of every neural model: the feature tokens and the classification head."""

    d_token: int = setting(32, [_at_least(1)], "Width of each feature token.")
    dropout: float = setting(
        0.0, [Interval(Real, 0, 1, closed="left")],
        "Dropout inside the encoder and the head. The company table is underfitted, not overfitted, in "
        "the epochs a fit can afford.",
    )  # fmt: skip
    head_hidden: int | None = setting(32, [_at_least(1), None], "Hidden width of the head (Linear-ReLU-Dropout-Linear); None = one linear layer.")


@dataclass(frozen=True)
class LSTMSettings(TokenSettings):
    """A bidirectional LSTM over the feature tokens (:class:`hotleads.nn.LSTMEncoder`)."""

    hidden_size: int = setting(32, [_at_least(1)], "LSTM hidden units per direction.")
    n_layers: int = setting(1, [_at_least(1)], "Stacked LSTM layers.")
    bidirectional: bool = setting(True, ["boolean"], "Read the tokens in both directions.")
    pooling: Literal["flatten", "last", "mean", "max"] = setting(
        "flatten", [_one_of("flatten", "last", "mean", "max")],
        "How the LSTM outputs become one vector. 'flatten' keeps every token's output apart, so the "
        "head sees each feature directly: on the company table it learns in far fewer epochs than "
        "'last' (the final hidden states), 'mean' or 'max'.",
    )  # fmt: skip


@dataclass(frozen=True)
class CNNSettings(TokenSettings):
    """1D convolutions along the token axis (:class:`hotleads.nn.CNNEncoder`)."""

    n_channels: int = setting(64, [_at_least(1)], "Channels of every convolution.")
    kernel_size: int = setting(3, [_at_least(1)], "Tokens each convolution sees.")
    n_layers: int = setting(
        1, [_at_least(1)],
        "Stacked convolutions. One, as in the seed's Conv1D(64) -> Dense(32): a second 64-channel "
        "layer costs twice the time per step for no gain in OOF F1 on the challenge data.",
    )  # fmt: skip
    pooling: Literal["flatten", "mean", "max"] = setting(
        "flatten", [_one_of("flatten", "mean", "max")], "How the convolution outputs become one vector: kept apart per token, or pooled."
    )


@dataclass(frozen=True)
class TransformerSettings(TokenSettings):
    """FT-Transformer: pre-norm self-attention over the feature tokens (:class:`hotleads.nn.TransformerEncoder`)."""

    n_layers: int = setting(
        1, [_at_least(1)], "Transformer blocks. On the challenge data one block scored OOF F1 0.9482 in 58 s against two blocks' 0.9466 in 105 s."
    )
    n_heads: int = setting(2, [_at_least(1)], "Attention heads; must divide d_token.")
    d_ffn: int | None = setting(None, [_at_least(1), None], "Feed-forward width; None = d_token.")
    pooling: Literal["cls", "mean"] = setting("cls", [_one_of("cls", "mean")], "A learned CLS token's final state, or the mean of the tokens.")
    month_patch: int = setting(
        2, [_at_least(1)],
        "Months per token of a monthly history (PatchTST's patches); 1 = a token per month. Two per "
        "token scored test F1 0.7283 against 0.7238 for one (bench/histories.py, temporal data, seed 0); "
        "before the months' change inputs, 0.7112 in 101 s against 0.7132 in 120 s (a quarter: 85 s, 0.7049).",
    )  # fmt: skip


# --------------------------------------------------------------------------- the models


class Model(NamedTuple):
    class_name: str
    architecture: type[TokenSettings]
    departures: dict  # from TrainConfig's defaults


# Each model's measured best where it departs from TrainConfig (the README's figures use these).
MODELS: dict[str, Model] = {
    "lstm": Model("LSTMClassifier", LSTMSettings, {"lr": 2e-2, "epochs": 16}),
    "cnn": Model("CNNClassifier", CNNSettings, {}),
    "transformer": Model("TransformerClassifier", TransformerSettings, {"lr": 3e-3, "epochs": 15}),
}


def _settings(name: str) -> list[tuple[str, object, list, str, str]]:
    """(parameter, default, constraint, numpydoc type, doc) of every parameter of model ``name``, in signature order."""
    model = MODELS[name]
    rows = [(
        "categorical_features", None, LeadClassifier._parameter_constraints["categorical_features"], "sequence of int or None",
        "Indices of the columns of X that hold category codes 0..K-1 (NaN = missing; a code not seen in fit counts as missing); None = none.",
    )]  # fmt: skip
    for declared in (*fields(model.architecture), *fields(TrainConfig)):
        default = model.departures.get(declared.name, declared.default)
        rows.append((declared.name, default, declared.metadata["rule"], _numpydoc_type(declared.type), declared.metadata["doc"]))
    return rows


def _numpydoc_type(annotation: str) -> str:
    """``"Literal['a', 'b'] | None"`` -> ``"{'a', 'b'} or None"``."""
    text = re.sub(r"Literal\[(.*?)\]", r"{\1}", annotation)
    return " or ".join(part.strip() for part in text.split("|"))


def defaults(name: str) -> dict:
    """Every parameter of the neural model ``name`` with its default."""
    return {parameter: default for parameter, default, *_ in _settings(name)}


def constraints(name: str) -> dict:
    """Every parameter of the neural model ``name`` with its scikit-learn constraint list."""
    return {parameter: rule for parameter, _, rule, *_ in _settings(name)}


def signature(name: str) -> inspect.Signature:
    """``(self, *, categorical_features=None, d_token=32, ...)``: the estimator's ``__init__`` signature."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter(parameter, keyword, default=default) for parameter, default, *_ in _settings(name)]
    return inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *parameters])


def parameters_doc(name: str) -> str:
    """The numpydoc Parameters section of the estimator of model ``name``."""
    lines = ["Parameters", "----------"]
    for parameter, default, _, kind, doc in _settings(name):
        lines += [f"{parameter} : {kind}, default={default!r}", f"    {doc}"]
    return "\n".join(lines)


def check_params(name: str, params: dict) -> None:
    """Raise ValueError, in scikit-learn's words, for a parameter ``name``'s estimator would refuse.

    An unknown name, every value that breaks its constraint (all at once), then the rules that tie
    parameters together, as the estimator's ``fit`` would, without building it (or importing torch).
    """
    owner = MODELS[name].class_name
    check_param_names(params, defaults(name), owner=owner)
    check_parameters(constraints(name), params, owner=owner)
    check_param_rules(name, defaults(name) | params)


def check_param_rules(name: str, params: dict) -> None:
    """The rules between parameters of model ``name``: the transformer's ``n_heads`` must divide ``d_token``."""
    if name != "transformer" or params["d_token"] % params["n_heads"] == 0:
        return
    d_token, n_heads = params["d_token"], params["n_heads"]
    fits = max(h for h in (1, 2, 4, 8) if d_token % h == 0)
    raise ValueError(
        f"The 'n_heads' parameter of {MODELS[name].class_name} must divide d_token={d_token}. Got {n_heads!r} "
        f"instead; try n_heads={fits}, or a d_token that {n_heads} divides."
    )


def check_device(device: object, *, name: str = "device") -> None:
    """Raise :class:`~hotleads.exceptions.ParameterError` unless the neural models can use ``device`` here.

    The value must pass the estimators' ``device`` rule, and ``"cuda"`` or ``"cuda:N"`` need that
    CUDA device on this machine (torch is imported for those only). ``name`` is what the message
    calls the parameter (the command line passes ``"--device"``).

    Examples
    --------
    >>> check_device("cpu")
    >>> check_device("gpu", name="--device")
    Traceback (most recent call last):
    ...
    hotleads.exceptions.ParameterError: --device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'gpu'; did you mean 'cuda'?
    """
    if not DEVICE.is_satisfied_by(device):
        raise ParameterError(f"{name} must be {DEVICE}; got {device!r}{_device_hint(device)}")
    if not device.startswith("cuda"):
        return
    import torch

    from .train_loop import cuda_problem

    problem = cuda_problem(device)
    if problem and torch.cuda.is_available():
        raise ParameterError(f"{name} {device}: {problem}; use {name} cuda (the first), cpu or auto.")
    if problem:
        raise ParameterError(f"{name} {device}: {problem}; use {name} cpu, or {name} auto to use a GPU only when there is one.")


def _device_hint(device: object) -> str:
    text = str(device).strip().lower()
    # "gpu" is the usual slip, and difflib would offer "cpu" for it.
    guesses = ["cuda" + text[3:]] if text.startswith("gpu") else difflib.get_close_matches(text, ["auto", "cpu", "cuda"], n=1)
    return f"; did you mean {guesses[0]!r}?" if guesses and DEVICE.is_satisfied_by(guesses[0]) else "."
