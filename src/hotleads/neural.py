"""scikit-learn classifiers around the torch modules of :mod:`hotleads.nn`.

Like skorch: ``__init__`` only stores its arguments, ``fit`` builds
``module_`` from them and trains it with :func:`hotleads.train_loop.train`,
and fitted attributes end in ``_``. Binary classification only.

Input contract (shared with the tree models): ``X`` is a 2D float array.
Columns listed in ``categorical_features`` hold integer category codes
``0..K-1`` stored as floats, NaN = missing (a code not seen in ``fit`` counts
as unknown at predict time). Other columns are numeric, NaN allowed, never
inf. The estimator makes them network-ready itself: a
``QuantileTransformer(output_distribution="normal")`` fitted in ``fit``, and a
learned "missing" vector per numeric feature in place of NaN.

Saving writes one safetensors file plus a JSON-able dict (no pickle):
:meth:`NeuralClassifier.save` and :meth:`NeuralClassifier.load`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([rng.normal(size=300), rng.integers(0, 3, 300)])
>>> y = (X[:, 0] + (X[:, 1] == 2) > 0.5).astype(int)
>>> clf = CNNClassifier(categorical_features=[1], epochs=3, device="cpu",
...                     random_state=0, n_threads=1).fit(X, y)
>>> clf.predict_proba(X[:2]).shape
(2, 2)
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import safetensors.torch
import sklearn
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from hotleads import nn as hnn
from hotleads.exceptions import ParameterError
from hotleads.train_loop import (
    MAX_CUDA_BATCH,
    TrainConfig,
    cuda_problem,
    predict_logits,
    resolve_device,
    torch_session,
    train,
)

__all__ = [
    "CNNClassifier",
    "LSTMClassifier",
    "NEURAL_MODELS",
    "NeuralClassifier",
    "TransformerClassifier",
    "check_device",
]

FORMAT_VERSION = 1
_QUANTILE_NAME = "preprocess.quantiles"
_REFERENCE_NAME = "preprocess.references"
_SEEN_PREFIX = "preprocess.seen."
_MODULE_PREFIX = "module."


def _one_of(*options: object):
    return lambda v: v in options, " or ".join(repr(o) for o in options)


def _int_at_least(low: int, *, none_ok: bool = False):
    def ok(v: object) -> bool:
        if v is None:
            return none_ok
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low

    text = f"an int >= {low}" + (" or None" if none_ok else "")
    return ok, text


def _float_in(low: float, high: float, *, high_open: bool = True, none_ok: bool = False):
    def ok(v: object) -> bool:
        if v is None:
            return none_ok
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
            return False
        return low <= v < high if high_open else low <= v <= high

    text = f"a float in [{low}, {high}{')' if high_open else ']'}" + (" or None" if none_ok else "")
    return ok, text


def _device_ok(v: object) -> bool:
    return isinstance(v, str) and (v in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:(0|[1-9][0-9]*)", v) is not None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class NeuralClassifier(ClassifierMixin, BaseEstimator):
    """Base class: preprocessing, training, prediction and saving shared by
    :class:`LSTMClassifier`, :class:`CNNClassifier` and :class:`TransformerClassifier`.

    Subclasses add their architecture parameters and implement
    :meth:`_build_encoder`. Parameters are documented on the subclasses.
    """

    # Parameter -> (check, what it must be); subclasses extend it.
    _parameter_rules: ClassVar[dict[str, tuple[Any, str]]] = {
        "d_token": _int_at_least(1),
        "dropout": _float_in(0.0, 1.0),
        "head_hidden": _int_at_least(1, none_ok=True),
        "loss": _one_of("binary", "categorical"),
        "class_weight": (
            lambda v: v is None or v == "balanced" or isinstance(v, dict),
            "'balanced', a dict {class: weight} or None",
        ),
        "epochs": _int_at_least(1),
        "batch_size": _int_at_least(1),
        "lr": _float_in(0.0, np.inf),
        "weight_decay": _float_in(0.0, np.inf),
        "optimizer": _one_of("adam", "adamw"),
        "lr_schedule": _one_of("cosine", "onecycle", "constant"),
        "grad_clip": _float_in(0.0, np.inf, none_ok=True),
        "patience": _int_at_least(1, none_ok=True),
        "validation_fraction": _float_in(0.0, 1.0),
        "monitor": _one_of("loss", "average_precision"),
        "device": (_device_ok, "'auto', 'cpu', 'cuda' or 'cuda:N'"),
        "n_threads": _int_at_least(1, none_ok=True),
        "predict_batch_size": _int_at_least(1, none_ok=True),
        "verbose": _int_at_least(0),
    }

    def __init__(
        self,
        *,
        categorical_features: Sequence[int] = (),
        d_token: int = 32,
        dropout: float = 0.0,
        head_hidden: int | None = 32,
        loss: str = "binary",
        class_weight: str | dict | None = "balanced",
        epochs: int = 20,
        batch_size: int = 256,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        optimizer: str = "adamw",
        lr_schedule: str = "onecycle",
        grad_clip: float | None = 1.0,
        patience: int | None = 8,
        validation_fraction: float = 0.15,
        monitor: str = "loss",
        device: str = "auto",
        random_state: int | None = None,
        n_threads: int | None = None,
        predict_batch_size: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.categorical_features = categorical_features
        self.d_token = d_token
        self.dropout = dropout
        self.head_hidden = head_hidden
        self.loss = loss
        self.class_weight = class_weight
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.lr_schedule = lr_schedule
        self.grad_clip = grad_clip
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.monitor = monitor
        self.device = device
        self.random_state = random_state
        self.n_threads = n_threads
        self.predict_batch_size = predict_batch_size
        self.verbose = verbose

    # ------------------------------------------------------------------ sklearn glue

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self) -> None:
        """Raise one ValueError listing every bad parameter."""
        problems = []
        for name, (ok, expected) in self._parameter_rules.items():
            value = getattr(self, name)
            if not ok(value):
                problems.append(
                    f"The {name!r} parameter of {type(self).__name__} must be "
                    f"{expected}. Got {value!r} instead."
                )
        if problems:
            raise ValueError("\n".join(problems))

    def _check_categorical_features(self, n_features: int) -> np.ndarray:
        indices = np.asarray(list(self.categorical_features), dtype=object)
        bad = [
            i for i in indices
            if isinstance(i, bool) or not isinstance(i, (int, np.integer))
            or not -n_features <= i < n_features
        ]
        if bad:
            raise ValueError(
                f"The 'categorical_features' parameter of {type(self).__name__} must "
                f"hold column indices in [0, {n_features}) for X with {n_features} "
                f"columns. Got {list(self.categorical_features)!r} instead."
            )
        normalized = np.array([int(i) % n_features for i in indices], dtype=np.int64)
        if len(set(normalized)) != len(normalized):
            raise ValueError(
                "categorical_features lists a column twice: "
                f"{list(self.categorical_features)!r}; list each column once."
            )
        return np.sort(normalized)

    def _check_binary_target(self, y: np.ndarray) -> None:
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {y_type}."
            )
        if len(np.unique(y)) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of both classes, but y holds "
                f"1 class only ({np.unique(y)[0]!r})."
            )

    # ------------------------------------------------------------------ preprocessing

    def _fit_preprocessing(self, X: np.ndarray, seed: int) -> None:
        n_features = X.shape[1]
        self.categorical_features_ = self._check_categorical_features(n_features)
        self.numeric_features_ = np.setdiff1d(np.arange(n_features), self.categorical_features_)
        self.quantile_transformer_ = None  # stays None without numeric columns
        if len(self.numeric_features_):
            self.quantile_transformer_ = QuantileTransformer(
                output_distribution="normal",
                n_quantiles=max(1, min(1000, len(X))),
                subsample=10_000,
                random_state=seed,
            )
            with warnings.catch_warnings():
                # An all-NaN column has NaN quantiles: every value stays missing.
                warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
                self.quantile_transformer_.fit(X[:, self.numeric_features_])
        self.seen_categories_ = [
            self._seen_codes(X[:, j], j) for j in self.categorical_features_
        ]

    @staticmethod
    def _seen_codes(column: np.ndarray, index: int) -> np.ndarray:
        codes = column[~np.isnan(column)]
        if np.any(codes < 0) or np.any(codes != np.floor(codes)):
            bad = codes[(codes < 0) | (codes != np.floor(codes))][:5]
            raise ValueError(
                f"Column {index} is listed in categorical_features, so it must hold "
                f"integer category codes 0..K-1 (NaN = missing); found {bad.tolist()}. "
                "Encode the categories as codes first, or drop the column from "
                "categorical_features."
            )
        seen = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=bool)
        seen[codes.astype(np.int64)] = True
        return seen

    def _transform(self, X: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """X (n, d) -> x_num (n, n_numeric) float32 with NaN, x_cat (n, n_cat) int64."""
        numeric = X[:, self.numeric_features_]
        if self.quantile_transformer_ is not None:
            numeric = self.quantile_transformer_.transform(numeric)
        x_num = torch.tensor(numeric, dtype=torch.float32)
        x_cat = torch.zeros((len(X), len(self.categorical_features_)), dtype=torch.int64)
        for k, (j, seen) in enumerate(zip(self.categorical_features_, self.seen_categories_)):
            column = X[:, j]
            known = np.isfinite(column) & (column >= 0) & (column < len(seen))
            codes = np.where(known, column, 0).astype(np.int64)
            known &= (codes == column) & seen[codes] if len(seen) else False
            x_cat[:, k] = torch.from_numpy(np.where(known, codes + 1, 0))
        return x_num, x_cat

    # ------------------------------------------------------------------ the network

    def _build_encoder(self) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError(
            f"{type(self).__name__} is a base class; use LSTMClassifier, "
            "CNNClassifier or TransformerClassifier."
        )

    def _n_tokens(self) -> int:
        return len(self.numeric_features_) + len(self.categorical_features_)

    def _n_outputs(self) -> int:
        return 1 if self.loss == "binary" else 2

    def _build_module(self) -> hnn.TokenNet:
        tokenizer = hnn.FeatureTokenizer(
            n_numeric=len(self.numeric_features_),
            cat_cardinalities=[len(seen) for seen in self.seen_categories_],
            d_token=self.d_token,
        )
        encoder = self._build_encoder()
        head = hnn.Head(
            d_in=encoder.d_out,
            n_outputs=self._n_outputs(),
            d_hidden=self.head_hidden,
            dropout=self.dropout,
        )
        return hnn.TokenNet(tokenizer=tokenizer, encoder=encoder, head=head)

    def _encoded_class_weight(self) -> str | tuple[float, float] | None:
        if not isinstance(self.class_weight, dict):
            return self.class_weight
        unknown = set(self.class_weight) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(
                f"class_weight has weights for {sorted(unknown, key=str)!r}, which are "
                f"not classes of y ({self.classes_.tolist()!r}); key it by the classes."
            )
        return tuple(float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist())

    def _predict_batch_size(self, device: torch.device) -> int:
        if self.predict_batch_size is not None:
            return self.predict_batch_size
        # 1,024 rows keep a CPU forward pass in cache (measured faster than 8,192);
        # the GPU wants the largest batch it can take.
        return MAX_CUDA_BATCH if device.type == "cuda" else 1024

    def _train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            optimizer=self.optimizer,
            lr_schedule=self.lr_schedule,
            grad_clip=self.grad_clip,
            patience=self.patience,
            validation_fraction=self.validation_fraction,
            monitor=self.monitor,
            loss=self.loss,
            class_weight=self._encoded_class_weight(),
            device=self.device,
            seed=seed,
            n_threads=self.n_threads,
            predict_batch_size=self._predict_batch_size(resolve_device(self.device)),
            verbose=self.verbose,
        )

    # ------------------------------------------------------------------ public API

    def fit(self, X, y):
        """Fit preprocessing and network on ``X (n, d)`` and binary ``y (n,)``.

        A stratified ``validation_fraction`` of the rows is held out for early
        stopping; the weights of the best validation epoch are kept.
        """
        self._check_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        self._check_binary_target(y)
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self._fit_preprocessing(X, seed)
        inputs = self._transform(X)
        result = train(self._build_module, inputs, y_encoded, self._train_config(seed))
        self.module_ = result.module
        self.device_ = str(resolve_device(self.device))
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities ``(n, 2)``; column 1 is ``classes_[1]`` (the hot lead)."""
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        inputs = self._transform(X)
        device = torch.device(self.device_)
        with torch_session(seed=0, n_threads=self.n_threads, device=device):
            logits = predict_logits(
                self.module_, inputs, batch_size=self._predict_batch_size(device), device=device
            ).double()
        if self.loss == "binary":
            positive = torch.sigmoid(logits[:, 0])
            proba = torch.stack([1.0 - positive, positive], dim=1)
        else:
            proba = torch.softmax(logits, dim=1)
        return proba.numpy()

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where its probability exceeds 0.5. The product tunes
        its threshold outside the estimator, on ``predict_proba``."""
        positive = self.predict_proba(X)[:, 1] > 0.5
        return self.classes_[positive.astype(np.int64)]

    # ------------------------------------------------------------------ save / load

    def _architecture(self) -> dict[str, Any]:
        return {
            "n_numeric": len(self.numeric_features_),
            "cat_cardinalities": [len(seen) for seen in self.seen_categories_],
            "n_outputs": self._n_outputs(),
        }

    def save(self, directory: Path, stem: str) -> dict:
        """Write weights and fitted preprocessing to ``directory/f"{stem}.safetensors"``.

        Returns the JSON-able meta that :meth:`load` needs besides the file.
        """
        check_is_fitted(self, "module_")
        directory = Path(directory)
        filename = f"{stem}.safetensors"
        tensors = {
            _MODULE_PREFIX + name: value.detach().cpu().contiguous()
            for name, value in self.module_.state_dict().items()
        }
        if self.quantile_transformer_ is not None:
            transformer = self.quantile_transformer_
            tensors[_QUANTILE_NAME] = torch.from_numpy(transformer.quantiles_.copy())
            tensors[_REFERENCE_NAME] = torch.from_numpy(transformer.references_.copy())
        for k, seen in enumerate(self.seen_categories_):
            tensors[f"{_SEEN_PREFIX}{k}"] = torch.from_numpy(seen.astype(np.uint8))
        temporary = directory / f".{filename}.tmp"
        safetensors.torch.save_file(tensors, str(temporary))
        os.replace(temporary, directory / filename)
        meta = {
            "class": type(self).__name__,
            "format_version": FORMAT_VERSION,
            "params": _jsonable_params(self.get_params()),
            "files": [filename],
            "architecture": self._architecture(),
            "classes": _jsonable(self.classes_),
            "n_features_in": int(self.n_features_in_),
            "numeric_features": _jsonable(self.numeric_features_),
            "categorical_features": _jsonable(self.categorical_features_),
            "best_epoch": int(self.best_epoch_),
            "history": self.history_,
            "torch_version": torch.__version__,
            "sklearn_version": sklearn.__version__,
        }
        if hasattr(self, "feature_names_in_"):
            meta["feature_names_in"] = _jsonable(self.feature_names_in_)
        return meta

    @classmethod
    def load(cls, directory: Path, meta: dict, *, device: str = "auto") -> NeuralClassifier:
        """Rebuild a fitted estimator from :meth:`save`'s meta and file, on ``device``."""
        target = NEURAL_MODELS_BY_CLASS.get(meta.get("class"))
        if target is None or not issubclass(target, cls):
            raise ValueError(
                f"meta['class'] is {meta.get('class')!r}, which {cls.__name__}.load "
                f"cannot rebuild; expected one of {sorted(NEURAL_MODELS_BY_CLASS)}."
            )
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"meta['format_version'] is {meta.get('format_version')!r}; this "
                f"hotleads reads format {FORMAT_VERSION}. Retrain and save the model again."
            )
        resolved = resolve_device(device)
        tensors = safetensors.torch.load_file(
            str(Path(directory) / meta["files"][0]), device="cpu"
        )
        estimator = target(**_params_from_json(meta["params"]))
        estimator._restore(meta, tensors, resolved)
        return estimator

    def _restore(self, meta: dict, tensors: dict[str, torch.Tensor], device: torch.device) -> None:
        self.classes_ = np.asarray(meta["classes"])
        self.n_features_in_ = meta["n_features_in"]
        if "feature_names_in" in meta:
            self.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
        self.numeric_features_ = np.asarray(meta["numeric_features"], dtype=np.int64)
        self.categorical_features_ = np.asarray(meta["categorical_features"], dtype=np.int64)
        self.seen_categories_ = [
            tensors[f"{_SEEN_PREFIX}{k}"].numpy().astype(bool)
            for k in range(len(self.categorical_features_))
        ]
        self.quantile_transformer_ = None
        if _QUANTILE_NAME in tensors:
            self.quantile_transformer_ = _restore_quantile_transformer(
                tensors[_QUANTILE_NAME].numpy(), tensors[_REFERENCE_NAME].numpy()
            )
        module = self._build_module()
        state = {
            name[len(_MODULE_PREFIX) :]: value
            for name, value in tensors.items()
            if name.startswith(_MODULE_PREFIX)
        }
        module.load_state_dict(state)
        self.module_ = module.to(device).eval()
        self.device_ = str(device)
        self.history_ = meta.get("history", [])
        self.best_epoch_ = meta.get("best_epoch", 0)


def _jsonable_params(params: dict) -> dict:
    """get_params() as JSON; a class_weight dict becomes [[class, weight], ...]
    because JSON object keys would turn integer classes into strings."""
    params = {name: _jsonable(value) for name, value in params.items()}
    if isinstance(params.get("class_weight"), dict):
        params["class_weight"] = [[_jsonable(c), w] for c, w in params["class_weight"].items()]
    return params


def _params_from_json(params: dict) -> dict:
    params = dict(params)
    if isinstance(params.get("class_weight"), list):
        params["class_weight"] = {c: w for c, w in params["class_weight"]}
    return params


def _restore_quantile_transformer(quantiles: np.ndarray, references: np.ndarray):
    """A fitted QuantileTransformer from its documented fitted attributes."""
    transformer = QuantileTransformer(
        output_distribution="normal", n_quantiles=len(references)
    )
    transformer.quantiles_ = quantiles
    transformer.references_ = references
    transformer.n_quantiles_ = len(references)
    transformer.n_features_in_ = quantiles.shape[1]
    return transformer


_COMMON_DOC = """\
    categorical_features : sequence of int, default=()
        Indices of the columns of ``X`` that hold category codes.
    d_token : int, default=32
        Width of each feature token.
    dropout : float, default=0.0
        Dropout inside the encoder and the head. The company table is
        underfitted, not overfitted, in the epochs a fit can afford.
    head_hidden : int or None, default=32
        Hidden width of the head; None = a linear head.
    loss : {"binary", "categorical"}, default="binary"
        "binary": one logit, BCE-with-logits; "categorical": two logits,
        softmax and cross-entropy (the seed's formulation).
    class_weight : "balanced", dict or None, default="balanced"
        Per-sample loss weights: "balanced" = ``compute_class_weight("balanced")``
        on the training rows, a dict maps classes to weights, None = 1.
    epochs, batch_size, lr, weight_decay, optimizer, lr_schedule, grad_clip, \
patience, validation_fraction, monitor
        Training, see :class:`hotleads.train_loop.TrainConfig`. The defaults
        are the fastest to a good F1 measured on 2 CPU cores; the seed's
        recipe is ``epochs=20, batch_size=32, loss="categorical"``.
    device : {"auto", "cpu", "cuda"}, default="auto"
        "auto" = CUDA when available.
    random_state : int or None, default=None
        Seed for the split, initial weights, shuffling and dropout; fits on
        CPU with the same seed and ``n_threads`` are identical.
    n_threads : int or None, default=None
        torch threads during fit and predict; None = the cores available.
    predict_batch_size : int or None, default=None
        Rows per forward pass at predict time; None = 1,024 on CPU,
        32,768 on CUDA.
    verbose : int, default=0
        Print one line per epoch when > 0.
"""


class LSTMClassifier(NeuralClassifier):
    """Feature tokens read by a bidirectional LSTM.

    Parameters
    ----------
    hidden_size : int, default=32
        LSTM hidden units per direction.
    n_layers : int, default=1
        Stacked LSTM layers.
    bidirectional : bool, default=True
        Read the tokens in both directions.
    pooling : {"flatten", "last", "mean", "max"}, default="flatten"
        How the LSTM outputs become one vector, see
        :class:`hotleads.nn.LSTMEncoder`.
    """

    __doc__ += _COMMON_DOC
    _parameter_rules = NeuralClassifier._parameter_rules | {
        "hidden_size": _int_at_least(1),
        "n_layers": _int_at_least(1),
        "bidirectional": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
        "pooling": _one_of("flatten", "last", "mean", "max"),
    }

    def __init__(
        self,
        *,
        categorical_features: Sequence[int] = (),
        d_token: int = 32,
        hidden_size: int = 32,
        n_layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "flatten",
        dropout: float = 0.0,
        head_hidden: int | None = 32,
        loss: str = "binary",
        class_weight: str | dict | None = "balanced",
        epochs: int = 16,
        batch_size: int = 256,
        lr: float = 2e-2,
        weight_decay: float = 1e-4,
        optimizer: str = "adamw",
        lr_schedule: str = "onecycle",
        grad_clip: float | None = 1.0,
        patience: int | None = 8,
        validation_fraction: float = 0.15,
        monitor: str = "loss",
        device: str = "auto",
        random_state: int | None = None,
        n_threads: int | None = None,
        predict_batch_size: int | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            categorical_features=categorical_features, d_token=d_token,
            dropout=dropout, head_hidden=head_hidden, loss=loss,
            class_weight=class_weight, epochs=epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, optimizer=optimizer, lr_schedule=lr_schedule,
            grad_clip=grad_clip, patience=patience,
            validation_fraction=validation_fraction, monitor=monitor, device=device,
            random_state=random_state, n_threads=n_threads,
            predict_batch_size=predict_batch_size, verbose=verbose,
        )  # fmt: skip
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.bidirectional = bidirectional
        self.pooling = pooling

    def _build_encoder(self) -> nn.Module:
        return hnn.LSTMEncoder(
            d_in=self.d_token,
            hidden_size=self.hidden_size,
            n_layers=self.n_layers,
            bidirectional=bool(self.bidirectional),
            dropout=self.dropout,
            pooling=self.pooling,
            seq_len=self._n_tokens(),
        )


class CNNClassifier(NeuralClassifier):
    """Feature tokens read by 1D convolutions along the token axis.

    Parameters
    ----------
    n_channels : int, default=64
        Channels of every convolution.
    kernel_size : int, default=3
        Tokens each convolution sees.
    n_layers : int, default=1
        Stacked convolutions. One, as in the seed's ``Conv1D(64) -> Dense(32)``:
        a second 64-channel layer costs twice the time per step for no gain in
        OOF F1 on the challenge data.
    pooling : {"flatten", "mean", "max"}, default="flatten"
        How the convolution outputs become one vector, see
        :class:`hotleads.nn.CNNEncoder`.
    """

    __doc__ += _COMMON_DOC
    _parameter_rules = NeuralClassifier._parameter_rules | {
        "n_channels": _int_at_least(1),
        "kernel_size": _int_at_least(1),
        "n_layers": _int_at_least(1),
        "pooling": _one_of("flatten", "mean", "max"),
    }

    def __init__(
        self,
        *,
        categorical_features: Sequence[int] = (),
        d_token: int = 32,
        n_channels: int = 64,
        kernel_size: int = 3,
        n_layers: int = 1,
        pooling: str = "flatten",
        dropout: float = 0.0,
        head_hidden: int | None = 32,
        loss: str = "binary",
        class_weight: str | dict | None = "balanced",
        epochs: int = 20,
        batch_size: int = 256,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        optimizer: str = "adamw",
        lr_schedule: str = "onecycle",
        grad_clip: float | None = 1.0,
        patience: int | None = 8,
        validation_fraction: float = 0.15,
        monitor: str = "loss",
        device: str = "auto",
        random_state: int | None = None,
        n_threads: int | None = None,
        predict_batch_size: int | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            categorical_features=categorical_features, d_token=d_token,
            dropout=dropout, head_hidden=head_hidden, loss=loss,
            class_weight=class_weight, epochs=epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, optimizer=optimizer, lr_schedule=lr_schedule,
            grad_clip=grad_clip, patience=patience,
            validation_fraction=validation_fraction, monitor=monitor, device=device,
            random_state=random_state, n_threads=n_threads,
            predict_batch_size=predict_batch_size, verbose=verbose,
        )  # fmt: skip
        self.n_channels = n_channels
        self.kernel_size = kernel_size
        self.n_layers = n_layers
        self.pooling = pooling

    def _build_encoder(self) -> nn.Module:
        return hnn.CNNEncoder(
            d_in=self.d_token,
            n_channels=self.n_channels,
            kernel_size=self.kernel_size,
            n_layers=self.n_layers,
            dropout=self.dropout,
            pooling=self.pooling,
            seq_len=self._n_tokens(),
        )


class TransformerClassifier(NeuralClassifier):
    """FT-Transformer: feature tokens read by pre-norm self-attention.

    Parameters
    ----------
    n_layers : int, default=1
        Transformer blocks. On the challenge data one block scored OOF F1
        0.9482 in 58 s against two blocks' 0.9466 in 105 s.
    n_heads : int, default=2
        Attention heads; must divide ``d_token``.
    d_ffn : int or None, default=None
        Feed-forward width; None = ``d_token``.
    pooling : {"cls", "mean"}, default="cls"
        A learned CLS token, or the mean of the tokens.
    """

    __doc__ += _COMMON_DOC
    _parameter_rules = NeuralClassifier._parameter_rules | {
        "n_layers": _int_at_least(1),
        "n_heads": _int_at_least(1),
        "d_ffn": _int_at_least(1, none_ok=True),
        "pooling": _one_of("cls", "mean"),
    }

    def __init__(
        self,
        *,
        categorical_features: Sequence[int] = (),
        d_token: int = 32,
        n_layers: int = 1,
        n_heads: int = 2,
        d_ffn: int | None = None,
        pooling: str = "cls",
        dropout: float = 0.0,
        head_hidden: int | None = 32,
        loss: str = "binary",
        class_weight: str | dict | None = "balanced",
        epochs: int = 15,
        batch_size: int = 256,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        optimizer: str = "adamw",
        lr_schedule: str = "onecycle",
        grad_clip: float | None = 1.0,
        patience: int | None = 8,
        validation_fraction: float = 0.15,
        monitor: str = "loss",
        device: str = "auto",
        random_state: int | None = None,
        n_threads: int | None = None,
        predict_batch_size: int | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            categorical_features=categorical_features, d_token=d_token,
            dropout=dropout, head_hidden=head_hidden, loss=loss,
            class_weight=class_weight, epochs=epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, optimizer=optimizer, lr_schedule=lr_schedule,
            grad_clip=grad_clip, patience=patience,
            validation_fraction=validation_fraction, monitor=monitor, device=device,
            random_state=random_state, n_threads=n_threads,
            predict_batch_size=predict_batch_size, verbose=verbose,
        )  # fmt: skip
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_ffn = d_ffn
        self.pooling = pooling

    def _check_params(self) -> None:
        super()._check_params()
        if self.d_token % self.n_heads:
            raise ValueError(
                f"The 'n_heads' parameter of {type(self).__name__} must divide "
                f"d_token={self.d_token}. Got {self.n_heads!r} instead; try n_heads="
                f"{max(h for h in (1, 2, 4, 8) if self.d_token % h == 0)}."
            )

    def _build_encoder(self) -> nn.Module:
        return hnn.TransformerEncoder(
            d_model=self.d_token,
            n_heads=self.n_heads,
            n_layers=self.n_layers,
            d_ffn=self.d_token if self.d_ffn is None else self.d_ffn,
            dropout=self.dropout,
            pooling=self.pooling,
        )


NEURAL_MODELS: dict[str, type[NeuralClassifier]] = {
    "lstm": LSTMClassifier,
    "cnn": CNNClassifier,
    "transformer": TransformerClassifier,
}
NEURAL_MODELS_BY_CLASS = {model.__name__: model for model in NEURAL_MODELS.values()}


def check_device(device: object, *, name: str = "device") -> None:
    """Raise :class:`~hotleads.exceptions.ParameterError` unless the neural models can use ``device`` here.

    The value must pass the estimators' own ``device`` rule, and ``"cuda"`` or ``"cuda:N"`` need
    that CUDA device on this machine. ``name`` is what the message calls the parameter (the
    command line passes ``"--device"``).

    Examples
    --------
    >>> check_device("cpu")
    >>> check_device("gpu", name="--device")
    Traceback (most recent call last):
    ...
    hotleads.exceptions.ParameterError: --device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'gpu'; did you mean 'cuda'?
    """
    ok, expected = NeuralClassifier._parameter_rules["device"]
    if not ok(device):
        raise ParameterError(f"{name} must be {expected}; got {device!r}{_device_hint(device)}")
    problem = cuda_problem(device)
    if problem and torch.cuda.is_available():
        raise ParameterError(f"{name} {device}: {problem}; use {name} cuda (the first), cpu or auto.")
    if problem:
        raise ParameterError(f"{name} {device}: {problem}; use {name} cpu, or {name} auto to use a GPU only when there is one.")


def _device_hint(device: object) -> str:
    text = str(device).strip().lower()
    # "gpu" is the usual slip, and difflib would offer "cpu" for it.
    guesses = ["cuda" + text[3:]] if text.startswith("gpu") else difflib.get_close_matches(text, ["auto", "cpu", "cuda"], n=1)
    return f"; did you mean {guesses[0]!r}?" if guesses and _device_ok(guesses[0]) else "."
