"""scikit-learn classifiers around the torch modules of :mod:`hotleads.nn`.

Like skorch: ``__init__`` only stores its arguments, ``fit`` builds ``module_`` from them and
trains it with :func:`hotleads.train_loop.train`, and fitted attributes end in ``_``. The
conventions shared with the tree and linear models (binary targets, NaN allowed, ``predict`` at
``>= 0.5``, ``random_state``, ``n_jobs``, ``categorical_features``, save/load) come from
:class:`hotleads.base.LeadClassifier`.

Every parameter is declared once, in :mod:`hotleads.neural_params` (torch-free): a subclass names
its model (``class LSTMClassifier(NeuralClassifier, model="lstm")``) and gets from there its
``__init__`` signature, its ``_parameter_constraints`` and its Parameters documentation.

Input contract (shared with the tree models): ``X`` is a 2D float array. Columns listed in
``categorical_features`` hold integer category codes ``0..K-1`` stored as floats, NaN = missing
(a code not seen in ``fit`` counts as missing at predict time). Other columns are numeric, NaN
allowed, never inf. The estimator makes them network-ready itself: a
``QuantileTransformer(output_distribution="normal")`` fitted in ``fit``, and a learned "missing"
vector per numeric feature in place of NaN.

Monthly histories (one model, two inputs): ``fit(X, y, sequences=W)`` with ``W`` of shape
``(n, T, C)`` (each company's last ``T`` months of ``C`` channels, NaN where unobserved, as
:meth:`hotleads.history.History.window` aligns them) adds an encoder of the same kind over the
months; ``predict_proba`` then needs ``sequences`` too. Each month step reads, per channel, the
value (signed log1p, standardised on the observed training values, 0 where unobserved), whether it
was observed and the months since it was last observed (GRU-D's inputs, Che et al. 2018), and
its change since the last observed month (signed log1p, so a relative change for counts; scaled
by the training changes' spread, 0 where there is none). Standardised values alone bury a
company's month-on-month growth (a few hundredths in log headcount) under the spread between
companies (about one); the change shows it at its own scale, as log returns do in forecasting.
Then, per channel, the months since it was last non-zero (for funding: since the latest round, at
every step), so that a model can place a rise after an event; and each month's place against the
channel's latest non-zero month in the window (months after it, negative before it: for funding,
before or after the latest round), to set the months after an event against those before it.

Saving writes one safetensors file plus a JSON-able dict (no pickle):
:meth:`NeuralClassifier.save` and :meth:`NeuralClassifier.load`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([rng.normal(size=300), rng.integers(0, 3, 300)])
>>> y = (X[:, 0] + (X[:, 1] == 2) > 0.5).astype(int)
>>> clf = CNNClassifier(categorical_features=[1], epochs=3, device="cpu",
...                     random_state=0, n_jobs=1).fit(X, y)
>>> clf.predict_proba(X[:2]).shape
(2, 2)
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import ClassVar

import numpy as np
import safetensors.torch
import torch
from sklearn.preprocessing import QuantileTransformer
from torch import nn

from hotleads import neural_params
from hotleads import nn as hnn
from hotleads.base import LeadClassifier
from hotleads.history import months_since_observed
from hotleads.neural_params import TrainConfig, check_device
from hotleads.train_loop import predict_logits, resolve_device, torch_session, train

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
_SEQUENCE_CENTER, _SEQUENCE_SCALE, _CHANGE_SCALE = "sequence.center", "sequence.scale", "sequence.change_scale"
# What each month step reads per channel, in this order (_sequence_steps); a saved model records them.
MONTH_INPUTS = ("value", "observed", "months_since_observed", "change", "months_since_nonzero", "months_from_latest_nonzero")


_ATTRIBUTES_DOC = """Attributes
----------
classes_ : ndarray of shape (2,)
    The two classes; column 1 of ``predict_proba`` is ``classes_[1]``.
module_ : hotleads.nn.TokenNet
    The trained network, with the weights of its best validation epoch, in eval mode on ``device_``.
history_ : list of dict
    One record per epoch: train_loss, lr, seconds and (with validation rows) val_loss, val_average_precision.
best_epoch_ : int
    The epoch whose weights were kept (the last one without validation rows).
categorical_features_, numeric_features_ : ndarray of int
    The column indices of each kind.
sequence_shape_ : tuple of int or None
    ``(months, channels)`` of the ``sequences`` fit read; None when it read none."""


def _stored_parameters(signature: inspect.Signature):
    """An ``__init__`` that only stores its keyword arguments, read by scikit-learn through ``signature``."""

    def __init__(self, **params) -> None:
        bound = signature.bind(self, **params)  # TypeError for a name it lacks, as a written signature
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


class NeuralClassifier(LeadClassifier):
    """Base class: preprocessing, training, prediction and saving shared by
    :class:`LSTMClassifier`, :class:`CNNClassifier` and :class:`TransformerClassifier`.

    A subclass passes ``model=`` (a key of :data:`hotleads.neural_params.MODELS`) and implements
    :meth:`_build_encoder`.
    """

    _model: ClassVar[str]
    # With n_jobs=None a CPU fit of smaller batches runs on one thread (train_loop.fit_threads):
    # where full fits on 2 cores were measured faster on one (README, "Threads for small batches").
    _one_thread_below: ClassVar[int] = 128

    def __init_subclass__(cls, *, model: str | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if model is None:  # a subclass of a model keeps its parameters
            return
        cls._model = model
        cls.__init__ = _stored_parameters(neural_params.signature(model))
        cls._parameter_constraints = neural_params.constraints(model)
        cls.__doc__ = f"{inspect.cleandoc(cls.__doc__ or '')}\n\n{neural_params.parameters_doc(model)}\n\n{_ATTRIBUTES_DOC}"

    def _check_param_rules(self) -> None:
        neural_params.check_param_rules(self._model, self.get_params())

    # ------------------------------------------------------------------ preprocessing

    def _fit_preprocessing(self, X: np.ndarray, seed: int) -> None:
        self.numeric_features_ = np.setdiff1d(np.arange(X.shape[1]), self.categorical_features_)
        self.quantile_transformer_ = None  # stays None without numeric columns
        if len(self.numeric_features_):
            self.quantile_transformer_ = QuantileTransformer(
                output_distribution="normal", n_quantiles=max(1, min(1000, len(X))), subsample=10_000, random_state=seed
            )
            with warnings.catch_warnings():
                # An all-NaN column has NaN quantiles: every value stays missing.
                warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
                self.quantile_transformer_.fit(X[:, self.numeric_features_])
        self.seen_categories_ = [self._seen_codes(X[:, j], j) for j in self.categorical_features_]

    @staticmethod
    def _seen_codes(column: np.ndarray, index: int) -> np.ndarray:
        """Which codes ``0..max`` occur in ``column``, shape ``(max + 1,)`` bool."""
        codes = column[~np.isnan(column)]
        if np.any(codes < 0) or np.any(codes != np.floor(codes)):
            bad = codes[(codes < 0) | (codes != np.floor(codes))][:5]
            raise ValueError(
                f"Column {index} is listed in categorical_features, so it must hold integer category codes 0..K-1 "
                f"(NaN = missing); found {bad.tolist()}. Encode the categories as codes first, or drop the column "
                "from categorical_features."
            )
        seen = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=bool)
        seen[codes.astype(np.int64)] = True
        return seen

    def _fit_sequences(self, sequences: np.ndarray | None) -> None:
        """Per channel, the centre and scale of the observed signed-log1p values and the scale of their changes (float32, (C,) each)."""
        self.sequence_shape_ = None if sequences is None else tuple(int(n) for n in sequences.shape[1:])
        if sequences is None:
            return
        logged = _signed_log1p(sequences)
        change = _change_since_observed(logged)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a channel never observed: centre 0, scale 1
            center, scale = np.nanmean(logged, axis=(0, 1)), np.nanstd(logged, axis=(0, 1))
            change_scale = np.sqrt(np.nanmean(change**2, axis=(0, 1)))  # around 0: no change stays 0
            # a constant channel's float32 spread is rounding (~1e-5), not 0: dividing by it would blow any other value up
            constant = np.nanmax(logged, axis=(0, 1)) == np.nanmin(logged, axis=(0, 1))
        self.sequence_center_ = np.nan_to_num(center).astype(np.float32)
        self.sequence_scale_ = _usable_scale(np.where(constant, 0.0, scale))
        self.sequence_change_scale_ = _usable_scale(change_scale)

    def _sequence_steps(self, sequences: np.ndarray) -> torch.Tensor:
        """Windows (n, T, C), NaN unobserved -> steps (n, T, len(MONTH_INPUTS) * C), each input's C channels together, in
        the order of :data:`MONTH_INPUTS`: standardised values (0 unobserved), observed mask, months since observed / T, change since the
        last observed month / its training scale (0 where none), months since non-zero / T (1 before the first), months
        from the window's latest non-zero month / T (in [-1, 1); in [1, 2) for a channel never non-zero in the window, as
        if it had been T months before its first month)."""
        months, channels = self.sequence_shape_
        if sequences is None:
            raise ValueError(
                f"This {type(self).__name__} was fitted with sequences of {months} months x {channels} channels; pass sequences= to predict_proba."
            )
        sequences = np.asarray(sequences, dtype=np.float32)
        if sequences.shape[1:] != (months, channels):
            raise ValueError(f"sequences must have shape (n, {months}, {channels}) as in fit; got {sequences.shape}.")
        observed = ~np.isnan(sequences)
        logged = _signed_log1p(sequences)
        nonzero = observed & (sequences != 0)
        inputs = {
            "value": np.where(observed, (logged - self.sequence_center_) / self.sequence_scale_, 0.0),
            "observed": observed,
            "months_since_observed": months_since_observed(observed) / months,
            "change": np.nan_to_num(_change_since_observed(logged) / self.sequence_change_scale_),
            "months_since_nonzero": _months_since_nonzero(nonzero) / months,
            "months_from_latest_nonzero": _months_from_latest_nonzero(nonzero) / months,
        }
        return torch.from_numpy(np.concatenate([inputs[name] for name in MONTH_INPUTS], axis=2).astype(np.float32))

    def _transform(self, X: np.ndarray) -> tuple[torch.Tensor, ...]:
        """X (n, d) -> x_num (n, n_numeric) float32 with NaN, x_cat (n, n_cat) int64 (0 = missing or unseen)
        and, for a model fitted with sequences, x_seq (n, T, len(MONTH_INPUTS) * C) from the ``sequences`` being read."""
        inputs = self._token_inputs(X)
        return inputs if self.sequence_shape_ is None else (*inputs, self._sequence_steps(self._sequences))

    def _token_inputs(self, X: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        numeric = X[:, self.numeric_features_]
        if self.quantile_transformer_ is not None:
            numeric = self.quantile_transformer_.transform(numeric)
        x_num = torch.tensor(numeric, dtype=torch.float32)
        x_cat = torch.zeros((len(X), len(self.categorical_features_)), dtype=torch.int64)
        for k, (j, seen) in enumerate(zip(self.categorical_features_, self.seen_categories_, strict=True)):
            column = X[:, j]
            known = np.isfinite(column) & (column >= 0) & (column < len(seen))
            codes = np.where(known, column, 0).astype(np.int64)
            known &= (codes == column) & seen[codes] if len(seen) else False
            x_cat[:, k] = torch.from_numpy(np.where(known, codes + 1, 0))
        return x_num, x_cat

    # ------------------------------------------------------------------ the network

    def _build_encoder(self, n_tokens: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _n_outputs(self) -> int:
        return 1 if self.loss == "binary" else 2

    def _build_sequence_encoder(self, d_step: int, n_steps: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _build_module(self) -> hnn.TokenNet:
        tokenizer = hnn.FeatureTokenizer(
            n_numeric=len(self.numeric_features_), cat_cardinalities=[len(seen) for seen in self.seen_categories_], d_token=self.d_token
        )
        encoder = self._build_encoder(tokenizer.n_tokens)
        sequence_encoder = None
        if self.sequence_shape_ is not None:
            months, channels = self.sequence_shape_
            sequence_encoder = self._build_sequence_encoder(len(MONTH_INPUTS) * channels, months)
        d_in = encoder.d_out + (0 if sequence_encoder is None else sequence_encoder.d_out)
        head = hnn.Head(d_in=d_in, n_outputs=self._n_outputs(), d_hidden=self.head_hidden, dropout=self.dropout)
        return hnn.TokenNet(tokenizer=tokenizer, encoder=encoder, head=head, sequence_encoder=sequence_encoder)

    def _encoded_class_weight(self) -> str | dict[int, float] | None:
        """``class_weight`` keyed by the encoded classes 0 and 1, as the training loop reads it."""
        if not isinstance(self.class_weight, dict):
            return self.class_weight
        unknown = set(self.class_weight) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(
                f"class_weight has weights for {sorted(unknown, key=str)!r}, which are not classes of y ({self.classes_.tolist()!r}); key it by the classes."
            )
        return {k: float(self.class_weight.get(c, 1.0)) for k, c in enumerate(self.classes_.tolist())}

    def _train_config(self, seed: int) -> TrainConfig:
        """This estimator's training settings, with the fit's seed and the class weights keyed 0/1."""
        settings = {field.name: getattr(self, field.name) for field in fields(TrainConfig)}
        return TrainConfig(**settings | {"random_state": seed, "class_weight": self._encoded_class_weight()})

    # ------------------------------------------------------------------ fit / predict

    @property
    def reads_sequences(self) -> bool:
        """Whether ``predict_proba`` needs ``sequences`` (the fit read some)."""
        return getattr(self, "sequence_shape_", None) is not None

    def fit(self, X, y, *, sequences: np.ndarray | None = None, on_epoch: Callable[[dict[str, float]], None] | None = None):
        """Fit on ``X (n, d)`` (floats, NaN = missing; ``categorical_features`` columns hold codes) and binary ``y (n,)``.

        ``sequences``, if given, are each row's monthly window ``(n, T, C)`` (NaN = unobserved),
        read by a second encoder (see the module docstring). ``on_epoch``, if given, is called
        with each epoch's ``history_`` record as the epoch ends (see
        :func:`hotleads.train_loop.train`); an exception it raises stops the fit and propagates.

        Raises
        ------
        ValueError
            ``sequences`` is not 3-dimensional with one window per row of ``X``.
        """
        if sequences is not None:
            sequences = np.asarray(sequences, dtype=np.float32)
            if sequences.ndim != 3 or len(sequences) != len(X) or 0 in sequences.shape[1:]:
                raise ValueError(f"sequences must have shape (n_rows, months, channels) with n_rows = {len(X)}; got {sequences.shape}.")
        self._on_epoch, self._sequences = on_epoch, sequences
        try:
            return super().fit(X, y)
        finally:
            del self._on_epoch, self._sequences

    def predict_proba(self, X, *, sequences: np.ndarray | None = None) -> np.ndarray:
        """Probabilities ``(n, 2)``; column 1 is ``classes_[1]``. ``sequences (n, T, C)``: as in fit, when fit read some.

        Raises
        ------
        ValueError
            A model fitted with sequences gets none (or of another shape), or one fitted without gets some.
        """
        if sequences is not None and getattr(self, "sequence_shape_", "unfitted") is None:
            raise ValueError(f"This {type(self).__name__} was fitted without sequences; call predict_proba without them.")
        self._sequences = sequences
        try:
            return super().predict_proba(X)
        finally:
            del self._sequences

    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        """Fit preprocessing and network; a stratified ``validation_fraction`` of the rows chooses
        the best epoch (its weights are kept) and stops training early."""
        self._fit_preprocessing(X, seed)
        self._fit_sequences(self._sequences)
        result = train(self._build_module, self._transform(X), y, self._train_config(seed), on_epoch=self._on_epoch, one_thread_below=self._one_thread_below)
        self.module_ = result.module
        self.device_ = str(resolve_device(self.device))
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        device = torch.device(self.device_)
        with torch_session(seed=0, n_jobs=self.n_jobs, device=device):
            logits = predict_logits(self.module_, self._transform(X), batch_size=self.predict_batch_size, device=device).double()
        if self.loss == "binary":
            positive = torch.sigmoid(logits[:, 0])
            return torch.stack([1.0 - positive, positive], dim=1).numpy()
        return torch.softmax(logits, dim=1).numpy()

    # ------------------------------------------------------------------ save / load

    def save(self, directory: Path, stem: str) -> dict:
        """Write weights and fitted preprocessing to ``directory/f"{stem}.safetensors"``.

        Returns the JSON-able meta that :meth:`load` needs besides the file.
        """
        directory = Path(directory)
        filename = f"{stem}.safetensors"
        tensors = {_MODULE_PREFIX + name: value.detach().cpu().contiguous() for name, value in self.module_.state_dict().items()}
        if self.quantile_transformer_ is not None:
            tensors[_QUANTILE_NAME] = torch.from_numpy(self.quantile_transformer_.quantiles_.copy())
            tensors[_REFERENCE_NAME] = torch.from_numpy(self.quantile_transformer_.references_.copy())
        for k, seen in enumerate(self.seen_categories_):
            tensors[f"{_SEEN_PREFIX}{k}"] = torch.from_numpy(seen.astype(np.uint8))
        if self.sequence_shape_ is not None:
            tensors[_SEQUENCE_CENTER], tensors[_SEQUENCE_SCALE] = torch.from_numpy(self.sequence_center_), torch.from_numpy(self.sequence_scale_)
            tensors[_CHANGE_SCALE] = torch.from_numpy(self.sequence_change_scale_)
        temporary = directory / f".{filename}.tmp"
        safetensors.torch.save_file(tensors, str(temporary))
        os.replace(temporary, directory / filename)
        return self._meta(
            [filename], libraries=("torch",), format_version=FORMAT_VERSION,
            numeric_features=self.numeric_features_.tolist(), best_epoch=int(self.best_epoch_), history=self.history_,
            sequence_shape=None if self.sequence_shape_ is None else list(self.sequence_shape_),
            month_inputs=None if self.sequence_shape_ is None else list(MONTH_INPUTS),
        )  # fmt: skip

    @classmethod
    def load(cls, directory: Path, meta: dict, *, device: str = "auto") -> NeuralClassifier:
        """Rebuild a fitted estimator from :meth:`save`'s meta and file, on ``device``.

        ``NeuralClassifier.load`` rebuilds any of the three; a subclass only its own.
        """
        target = NEURAL_MODELS_BY_CLASS.get(meta.get("class"))
        if target is None or not issubclass(target, cls):
            raise ValueError(
                f"meta['class'] is {meta.get('class')!r}, which {cls.__name__}.load cannot rebuild; expected one of "
                f"{sorted(name for name, model in NEURAL_MODELS_BY_CLASS.items() if issubclass(model, cls))}."
            )
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"meta['format_version'] is {meta.get('format_version')!r}; this hotleads reads format {FORMAT_VERSION}. Retrain and save the model again."
            )
        tensors = safetensors.torch.load_file(str(Path(directory) / meta["files"][0]), device="cpu")
        estimator = target._from_meta(meta)
        estimator._restore(meta, tensors, resolve_device(device))
        return estimator

    def _restore(self, meta: dict, tensors: dict[str, torch.Tensor], device: torch.device) -> None:
        self.numeric_features_ = np.asarray(meta["numeric_features"], dtype=np.int64)
        self.seen_categories_ = [tensors[f"{_SEEN_PREFIX}{k}"].numpy().astype(bool) for k in range(len(self.categorical_features_))]
        self.quantile_transformer_ = None
        if _QUANTILE_NAME in tensors:
            self.quantile_transformer_ = _restore_quantile_transformer(tensors[_QUANTILE_NAME].numpy(), tensors[_REFERENCE_NAME].numpy())
        shape = meta.get("sequence_shape")
        self.sequence_shape_ = None if shape is None else tuple(shape)
        if shape is not None:
            saved = meta.get("month_inputs")  # absent in models saved before it was written, which read fewer
            if saved != list(MONTH_INPUTS):
                was = "before hotleads recorded its monthly inputs" if saved is None else f"reading the monthly inputs {saved!r}"
                raise ValueError(f"This {type(self).__name__} was saved {was}; this hotleads reads {list(MONTH_INPUTS)!r}. Retrain and save the model again.")
            self.sequence_center_, self.sequence_scale_ = tensors[_SEQUENCE_CENTER].numpy(), tensors[_SEQUENCE_SCALE].numpy()
            self.sequence_change_scale_ = tensors[_CHANGE_SCALE].numpy()
        module = self._build_module()
        module.load_state_dict({name.removeprefix(_MODULE_PREFIX): value for name, value in tensors.items() if name.startswith(_MODULE_PREFIX)})
        self.module_ = module.to(device).eval()
        self.device_ = str(device)
        self.history_ = meta.get("history", [])
        self.best_epoch_ = meta.get("best_epoch", 0)


def _restore_quantile_transformer(quantiles: np.ndarray, references: np.ndarray) -> QuantileTransformer:
    """A fitted QuantileTransformer from its documented fitted attributes."""
    transformer = QuantileTransformer(output_distribution="normal", n_quantiles=len(references))
    transformer.quantiles_ = quantiles
    transformer.references_ = references
    transformer.n_quantiles_ = len(references)
    transformer.n_features_in_ = quantiles.shape[1]
    return transformer


class LSTMClassifier(NeuralClassifier, model="lstm"):
    """Feature tokens read by a bidirectional LSTM (:class:`hotleads.nn.LSTMEncoder`)."""

    _one_thread_below = 512  # the recurrence's many small steps: one thread was faster up to batch 256

    def _build_encoder(self, n_tokens: int) -> nn.Module:
        return hnn.LSTMEncoder(
            d_in=self.d_token, hidden_size=self.hidden_size, n_layers=self.n_layers, bidirectional=bool(self.bidirectional),
            dropout=self.dropout, pooling=self.pooling, seq_len=n_tokens,
        )  # fmt: skip

    def _build_sequence_encoder(self, d_step: int, n_steps: int) -> nn.Module:
        # forward in time only, its final state: the latest months weigh as the recurrence carries them
        return hnn.LSTMEncoder(d_in=d_step, hidden_size=self.hidden_size, n_layers=1, bidirectional=False, dropout=0.0, pooling="last")


class CNNClassifier(NeuralClassifier, model="cnn"):
    """Feature tokens read by 1D convolutions along the token axis (:class:`hotleads.nn.CNNEncoder`)."""

    def _build_encoder(self, n_tokens: int) -> nn.Module:
        return hnn.CNNEncoder(
            d_in=self.d_token, n_channels=self.n_channels, kernel_size=self.kernel_size, n_layers=self.n_layers,
            dropout=self.dropout, pooling=self.pooling, seq_len=n_tokens,
        )  # fmt: skip

    def _build_sequence_encoder(self, d_step: int, n_steps: int) -> nn.Module:
        # flattened, so that the head knows which months a pattern sits in (a recent freeze, a rise since a round)
        channels = max(8, self.n_channels // 4)
        return hnn.CNNEncoder(d_in=d_step, n_channels=channels, kernel_size=3, n_layers=2, dropout=self.dropout, pooling="flatten", seq_len=n_steps)


class TransformerClassifier(NeuralClassifier, model="transformer"):
    """FT-Transformer: feature tokens read by pre-norm self-attention (:class:`hotleads.nn.TransformerEncoder`)."""

    def _build_encoder(self, n_tokens: int) -> nn.Module:
        return hnn.TransformerEncoder(
            d_model=self.d_token, n_heads=self.n_heads, n_layers=self.n_layers, d_ffn=self.d_ffn, dropout=self.dropout,
            pooling=self.pooling,
        )  # fmt: skip

    @classmethod
    def _from_meta(cls, meta: dict) -> TransformerClassifier:
        if "month_patch" not in meta["params"]:  # saved before the setting existed: a token per month
            meta = {**meta, "params": {**meta["params"], "month_patch": 1}}
        return super()._from_meta(meta)

    def _build_sequence_encoder(self, d_step: int, n_steps: int) -> nn.Module:
        encoder = hnn.TransformerEncoder(d_model=self.d_token, n_heads=self.n_heads, n_layers=1, d_ffn=self.d_ffn, dropout=self.dropout, pooling="cls")
        return _Sequential(hnn.MonthEmbedding(d_in=d_step, d_model=self.d_token, n_steps=n_steps, patch=self.month_patch), encoder)


class _Sequential(nn.Sequential):
    """``nn.Sequential`` whose ``d_out`` is its last module's."""

    @property
    def d_out(self) -> int:
        return self[-1].d_out


def _change_since_observed(logged: np.ndarray) -> np.ndarray:
    """(n, T, C) with NaN unobserved -> each observed value minus the channel's last observed one before it; NaN where either is missing."""
    previous = np.full_like(logged, np.nan)
    last = np.full((logged.shape[0], logged.shape[2]), np.nan, dtype=logged.dtype)
    for t in range(logged.shape[1]):
        previous[:, t] = last
        last = np.where(np.isnan(logged[:, t]), last, logged[:, t])
    return logged - previous


def _months_since_nonzero(nonzero: np.ndarray) -> np.ndarray:
    """(n, T, C) bool -> per step, the months since the channel was last non-zero at or before it (0 in that month); T where never yet."""
    months = nonzero.shape[1]
    since = np.empty(nonzero.shape, dtype=np.float32)
    last = np.full((nonzero.shape[0], nonzero.shape[2]), float(months), dtype=np.float32)
    for t in range(months):
        last = np.where(nonzero[:, t], 0.0, np.minimum(last + 1.0, months))
        since[:, t] = last
    return since


def _months_from_latest_nonzero(nonzero: np.ndarray) -> np.ndarray:
    """(n, T, C) bool -> per step, its month minus the channel's latest non-zero month in the window (0 there, negative before).

    A channel never non-zero in the window counts as non-zero T months before its first month, so
    its steps read T..2T-1: later than any step of a channel that has an event.
    """
    months = nonzero.shape[1]
    latest = np.where(nonzero.any(axis=1), months - 1 - np.argmax(nonzero[:, ::-1], axis=1), -months)  # (n, C)
    return (np.arange(months, dtype=np.float32)[None, :, None] - latest[:, None, :]).astype(np.float32)


def _usable_scale(scale: np.ndarray) -> np.ndarray:
    """A per-channel scale with 1 where it is undefined or 0 (a channel never observed, or constant in training)."""
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0).astype(np.float32)


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """sign(v) * log1p(|v|): counts and amounts of money on a scale a network can read (NaN stays NaN)."""
    return np.sign(values) * np.log1p(np.abs(values))


NEURAL_MODELS: dict[str, type[NeuralClassifier]] = {"lstm": LSTMClassifier, "cnn": CNNClassifier, "transformer": TransformerClassifier}
NEURAL_MODELS_BY_CLASS = {model.__name__: model for model in NEURAL_MODELS.values()}
