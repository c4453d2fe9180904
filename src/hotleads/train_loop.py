"""The one training loop for every neural model.

:func:`train` reads top to bottom in phases: session (seed, threads,
device), build, split, class weights, optimiser and schedule, epochs with
early stopping, restore the best weights. :class:`TrainConfig` (declared in
the torch-free :mod:`hotleads.neural_params`) holds every setting with its
one default.

Inputs are a tuple of tensors sharing their first axis (one row per sample);
the module is called as ``module(*batch)`` and returns logits ``(B, 1)``
(loss "binary") or ``(B, 2)`` (loss "categorical").

Where the loop does not use torch's own piece, a measurement at the seed
configuration (batch 32, ``bench/train_loop_pieces.py``) says why: the
optimiser steps through torch's functional ``torch.optim.adam.adam`` along
a precomputed schedule (:class:`Adam`; ``torch.optim.AdamW`` with
``OneCycleLR`` costs 11-23 % more per step, and building it imports
torch's compiler, 1.2-2.0 s per process), on the CPU the parameters train
as flat tensors (:func:`_flatten`; 7-8 % per step), and gradients are
clipped by :func:`clip_grad_norm_` (3-6 %). No deterministic mode is
switched on (see :func:`torch_session`).

Examples
--------
>>> import torch
>>> from torch import nn
>>> x = torch.randn(200, 3)
>>> y = (x[:, 0] > 0).long().numpy()
>>> config = TrainConfig(epochs=5, batch_size=32, device="cpu", random_state=0, n_jobs=1)
>>> result = train(lambda: nn.Linear(3, 1), (x,), y, config)
>>> result.history[-1]["epoch"] <= 5
True
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from torch import Tensor, nn
from torch.optim.adam import adam

from .base import fit_seed, resolve_n_jobs
from .neural_params import TrainConfig

__all__ = [
    "MAX_CUDA_BATCH",
    "Adam",
    "TrainConfig",
    "TrainResult",
    "clip_grad_norm_",
    "cuda_problem",
    "decay_groups",
    "predict_logits",
    "resolve_device",
    "schedule",
    "torch_session",
    "train",
]

# nn.TransformerEncoder's efficient attention fails on CUDA for batches of
# 65,536 rows or more ("Efficient attention cannot produce valid seed and
# offset outputs when the batch size exceeds (65535)"); larger batches are
# processed in chunks of at most this many rows.
MAX_CUDA_BATCH = 32_768


@dataclass
class TrainResult:
    """The trained module (best weights restored) and what happened per epoch."""

    module: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0


# --------------------------------------------------------------------------- helpers


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> cuda when available, else cpu; ``"cpu"``/``"cuda"``/``"cuda:N"`` as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    problem = cuda_problem(device)
    if problem:
        raise ValueError(f"device={device!r} was asked for, but {problem}; use device='auto' or device='cpu'.")
    return torch.device(device)


def cuda_problem(device: str) -> str | None:
    """Why torch cannot use ``device`` (``"cuda"`` or ``"cuda:N"``) on this machine, or None (also for ``"cpu"``)."""
    kind, _, index = device.partition(":")
    if kind != "cuda":
        return None
    if not torch.cuda.is_available():
        return f"torch sees no CUDA device (torch {torch.__version__})"
    count = torch.cuda.device_count()
    if index.isdecimal() and int(index) >= count:  # read here: torch.device("cuda:200") wraps around to index -56
        names = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
        return f"torch sees {count} CUDA device{'s' if count > 1 else ''} ({names})"
    return None


@contextlib.contextmanager
def torch_session(*, seed: int, n_jobs: int | None, device: torch.device) -> Iterator[None]:
    """Seed torch, set its thread count (``n_jobs``, see :func:`hotleads.base.resolve_n_jobs`) and
    flush denormal floats to zero on the CPU; restore the caller's RNG state and thread count afterwards.

    No deterministic mode: on the CPU every op these models run is deterministic for a fixed
    thread count (fits with and without ``torch.use_deterministic_algorithms(True)`` are
    bit-identical, and the tests check that a seed gives the same model), while that function
    imports torch's compiler (1.2-1.8 s per process). On CUDA, cuDNN and cuBLAS choose their own
    kernels: CUDA runs are fast but not bit-reproducible.
    """
    threads_before = torch.get_num_threads()
    cuda_devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        try:
            torch.manual_seed(seed)
            torch.set_num_threads(resolve_n_jobs(n_jobs))
            # Denormal floats (below 1.2e-38: an LSTM's vanishing gradients, late in a fit) take the
            # CPU's slow path: the seed configuration's LSTM epochs slowed from 1.5 s to 3.4 s by the
            # 12th and its 20-epoch fit took 160 s, against a steady 2.0 s an epoch flushed to zero.
            torch.set_flush_denormal(True)
            yield
        finally:
            torch.set_flush_denormal(False)  # torch's default (it cannot be read back)
            torch.set_num_threads(threads_before)


def fit_threads(config: TrainConfig, device: torch.device, one_thread_below: int) -> int | None:
    """The ``n_jobs`` a fit runs with: ``config.n_jobs``, but one thread for a CPU batch of fewer
    than ``one_thread_below`` rows when ``n_jobs`` is None (left to hotleads).

    Why: OpenMP threads wait by sleeping here (``OMP_WAIT_POLICY=PASSIVE``, set in
    ``hotleads/__init__``), so each of a small step's many short parallel regions pays to wake the
    second thread. Measured in full fits at batch 32 on 2 cores: the LSTM's step took 4.37 ms on 2
    threads against 2.69 ms on 1, the CNN's 1.79 against 1.55, the transformer's 3.05 against 2.49
    (README, "Threads for small batches").
    """
    if config.n_jobs is None and device.type == "cpu" and config.batch_size < one_thread_below:
        return 1
    return config.n_jobs


def _batch_limit(device: torch.device) -> int:
    return MAX_CUDA_BATCH if device.type == "cuda" else 2**62


def weighted_loss_sum(logits: Tensor, y: Tensor, class_weights: Tensor, loss: str) -> Tensor:
    """``sum_i class_weights[y_i] * loss_i`` for ``logits (B, 1|2)``, ``y (B,)`` in {0, 1}.

    One library call each (the weights inside the loss, not a product and a sum
    after it): at batch 32 every op counts.
    """
    if loss == "binary":
        return F.binary_cross_entropy_with_logits(logits[:, 0], y.to(logits.dtype), weight=class_weights[y], reduction="sum")
    return F.cross_entropy(logits, y, weight=class_weights, reduction="sum")


@torch.inference_mode()
def predict_logits(module: nn.Module, inputs: Sequence[Tensor], *, batch_size: int | None, device: torch.device) -> Tensor:
    """Logits ``(n, n_outputs)`` on CPU, computed in eval mode, ``batch_size`` rows at a time.

    ``batch_size=None``: 1,024 rows on the CPU (a forward pass stays in cache; measured faster
    than 8,192), the largest batch CUDA takes (:data:`MAX_CUDA_BATCH`) on a GPU.
    """
    module.eval()
    n = inputs[0].shape[0]
    if batch_size is None:
        batch_size = MAX_CUDA_BATCH if device.type == "cuda" else 1024
    step = max(1, min(batch_size, _batch_limit(device)))
    chunks = [module(*(x[start : start + step].to(device) for x in inputs)).float().cpu() for start in range(0, n, step)]
    return torch.cat(chunks) if chunks else torch.empty(0, 1)


def _split(y: np.ndarray, config: TrainConfig, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Row indices for training and (stratified) validation; no validation
    when the fraction is 0 or the data is too small to stratify."""
    rows = np.arange(len(y))
    n_val = math.ceil(config.validation_fraction * len(y))
    too_small = np.bincount(y, minlength=2).min() < 2 or not 2 <= n_val <= len(y) - 2
    if config.validation_fraction <= 0 or too_small:
        return rows, None
    fit_rows, val_rows = train_test_split(rows, test_size=n_val, stratify=y, random_state=seed)
    if len(np.unique(y[val_rows])) < 2:  # too few of a class to validate on
        return rows, None
    return np.sort(fit_rows), np.sort(val_rows)


def _class_weights(y: np.ndarray, class_weight: str | dict | None) -> Tensor:
    """Weights ``(2,)`` for the classes 0 and 1: "balanced", ``{0: w0, 1: w1}`` (a missing class weighs 1) or None (all 1)."""
    if class_weight is None:
        return torch.ones(2)
    if isinstance(class_weight, str):  # "balanced", the one string TrainConfig allows
        balanced = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
        return torch.as_tensor(balanced, dtype=torch.float32)
    return torch.tensor([class_weight.get(0, 1.0), class_weight.get(1, 1.0)], dtype=torch.float32)


def _one_cycle(step: np.ndarray, total_steps: int, lr: float) -> tuple[np.ndarray, np.ndarray]:
    """Learning rate and beta1 at each ``step`` of torch's ``OneCycleLR`` with its defaults.

    Warm-up over the first 30 % of the steps from ``lr / 25`` to ``lr`` while beta1
    falls from 0.95 to 0.85, then cosine annealing to ``lr / 25e4`` while beta1
    rises back.
    """
    peak = 0.3 * total_steps - 1
    warming = step <= peak
    pct = np.where(warming, step / peak, (step - peak) / (total_steps - 1 - peak))
    cosine = (np.cos(np.pi * pct) + 1) / 2  # 1 -> 0 within each phase

    def anneal(start: np.ndarray | float, end: np.ndarray | float) -> np.ndarray:
        return end + (start - end) * cosine

    start_lr, max_lr, min_lr = lr / 25, lr, lr / 25 / 1e4
    lrs = np.where(warming, anneal(start_lr, max_lr), anneal(max_lr, min_lr))
    beta1 = np.where(warming, anneal(0.95, 0.85), anneal(0.85, 0.95))
    return lrs, beta1


def schedule(config: TrainConfig, total_steps: int) -> tuple[list[float], list[float]]:
    """Learning rate and Adam's beta1 for each of ``total_steps`` optimiser steps.

    ``onecycle`` is torch's ``OneCycleLR`` (it cycles beta1 as well), ``cosine``
    warms up linearly for ``warmup_fraction`` of the steps then anneals to 0,
    ``constant`` keeps ``lr``; beta1 is 0.9 but under ``onecycle``.
    """
    total_steps = max(total_steps, 2)
    step = np.arange(total_steps, dtype=np.float64)
    beta1 = np.full(total_steps, 0.9)
    if config.lr_schedule == "onecycle":
        lrs, beta1 = _one_cycle(step, total_steps, config.lr)
    elif config.lr_schedule == "constant":
        lrs = np.full(total_steps, config.lr)
    else:
        warmup = max(1, int(config.warmup_fraction * total_steps))
        progress = np.clip((step - warmup) / max(1, total_steps - warmup), 0.0, 1.0)
        annealed = 0.5 * (1.0 + np.cos(np.pi * progress))
        lrs = config.lr * np.where(step < warmup, (step + 1) / warmup, annealed)
    return lrs.tolist(), beta1.tolist()


def decay_groups(module: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """``(decayed, not decayed)``: the trainable parameters of ``module`` that weight decay pulls
    towards 0, and the others. Every one is decayed.

    nanoGPT decays only the weight matrices (not biases, norms, embeddings or, in rtdl, the
    feature tokens). On the challenge data that rule scored lower for the LSTM in each of 6 seeds
    (best F1 on unseen rows 0.9063 against 0.9100, PR-AUC 0.8961 against 0.8983) and the same for
    the CNN (0.9323 against 0.9319), so it is not used; ``bench/weight_decay.py`` carries it, to
    measure again.
    """
    return [p for p in module.parameters() if p.requires_grad], []


@dataclass
class _Group:
    """Parameters that share a weight decay, with their gradients and Adam's moment estimates."""

    params: list[Tensor]
    weight_decay: float
    grads: list[Tensor] = field(init=False)
    exp_avgs: list[Tensor] = field(init=False)
    exp_avg_sqs: list[Tensor] = field(init=False)
    steps: list[Tensor] = field(init=False)

    def __post_init__(self) -> None:
        for p in self.params:
            if p.grad is None:  # backward accumulates into it from the first step
                p.grad = torch.zeros_like(p)
        self.grads = [p.grad for p in self.params]
        self.exp_avgs = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in self.params]
        self.steps = [torch.zeros((), device=p.device) for p in self.params]


class Adam:
    """Adam (``weight_decay`` added to the gradient) or AdamW (decoupled), stepped along a
    per-step learning-rate and beta1 :func:`schedule`, over groups of parameters that each
    have their own weight decay (see :func:`decay_groups`).

    The arithmetic of ``torch.optim.Adam``/``AdamW`` with fused kernels, through their
    functional form :func:`torch.optim.adam.adam`: ``torch.optim.AdamW`` with ``OneCycleLR``
    costs 11 % (LSTM) to 23 % (CNN) more per step at batch 32, and building it imports torch's
    compiler (1.2-2.0 s per process on 2 cores although nothing is compiled).
    """

    def __init__(self, groups: Sequence[tuple[Sequence[Tensor], float]], config: TrainConfig, total_steps: int) -> None:
        self.groups = [_Group(list(params), weight_decay) for params, weight_decay in groups if len(params)]
        self.grads = [grad for group in self.groups for grad in group.grads]
        self.lrs, self.beta1s = schedule(config, total_steps)
        self.decoupled = config.optimizer == "adamw"
        self.n_steps = 0

    @property
    def lr(self) -> float:
        """The learning rate of the latest step."""
        return self.lrs[max(0, self.n_steps - 1)]

    def zero_grad(self) -> None:
        for grad in self.grads:  # in place: backward accumulates into these tensors (views on the CPU)
            grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        at = min(self.n_steps, len(self.lrs) - 1)
        for group in self.groups:
            adam(
                group.params, group.grads, group.exp_avgs, group.exp_avg_sqs, [], group.steps,
                fused=True, decoupled_weight_decay=self.decoupled, amsgrad=False,
                beta1=self.beta1s[at], beta2=0.999, lr=self.lrs[at],
                weight_decay=group.weight_decay, eps=1e-8, maximize=False,
            )  # fmt: skip
        self.n_steps += 1


def clip_grad_norm_(grads: Sequence[Tensor], max_norm: float) -> None:
    """Scale ``grads`` in place so that their joint norm is at most ``max_norm``.

    The arithmetic of ``torch.nn.utils.clip_grad_norm_``, without its grouping of the tensors by
    device and dtype, which at batch 32 costs 3 % (LSTM) to 6 % (CNN) of a CPU step on the one
    flat gradient (``bench/train_loop_pieces.py``).
    """
    norms = [torch.linalg.vector_norm(grad) for grad in grads]
    total = norms[0] if len(norms) == 1 else torch.linalg.vector_norm(torch.stack(norms))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for grad in grads:
        grad.mul_(scale)


def _flatten(params: Sequence[nn.Parameter]) -> list[nn.Parameter]:
    """Store ``params`` in one tensor; return ``[it]`` (``[]`` for no parameters).

    The parameters become views of the flat tensor and their gradients views of
    its gradient, which backward accumulates into. At batch 32 on the CPU the
    optimiser step, the gradient clipping and the zeroing cost a fixed time per
    tensor; on one tensor they cost a few ops. Undone by :func:`_unflatten_parameters`.
    """
    if not params:
        return []
    flat = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
    flat.grad = torch.zeros_like(flat)
    offset = 0
    for p in params:
        end = offset + p.numel()
        p.data = flat.data[offset:end].view_as(p)
        p.grad = flat.grad[offset:end].view_as(p)
        offset = end
    return [flat]


def _unflatten_parameters(module: nn.Module) -> None:
    """Give each parameter its own storage again (safetensors refuses shared ones)."""
    for p in module.parameters():
        p.grad = None
        p.data = p.data.clone()


def _evaluate(
    module: nn.Module,
    inputs: Sequence[Tensor],
    y: np.ndarray,
    weights: Tensor,
    config: TrainConfig,
    device: torch.device,
) -> dict[str, float]:
    logits = predict_logits(module, inputs, batch_size=config.predict_batch_size, device=device)
    loss_sum = weighted_loss_sum(logits, torch.as_tensor(y), weights, config.loss)
    score = logits[:, 0] if config.loss == "binary" else logits[:, 1] - logits[:, 0]
    return {
        "val_loss": loss_sum.item() / len(y),
        "val_average_precision": float(average_precision_score(y, score.numpy())),
    }


def _improved(metrics: dict[str, float], best: float, monitor: str) -> tuple[bool, float]:
    if monitor == "loss":
        value = metrics["val_loss"]
        return value < best, value
    value = -metrics["val_average_precision"]  # lower is better, like the loss
    return value < best, value


def _run_epoch(
    module: nn.Module,
    optimizer: Adam,
    inputs: Sequence[Tensor],
    y: Tensor,
    class_weights: Tensor,
    order: Tensor,
    config: TrainConfig,
) -> float:
    """One pass over the rows in ``order``; returns the mean weighted loss.

    ``class_weights (2,)`` weigh each row's loss by its class.
    """
    module.train()
    # One gather per epoch, then each batch is a slice (a view): cheaper than
    # gathering every batch's rows from every input.
    inputs = [x[order] for x in inputs]
    y = y[order]
    chunk = _batch_limit(y.device)
    batch_losses = []  # (share of the batch-mean loss, batch rows); no .item(): no sync per step
    for start in range(0, len(order), config.batch_size):
        stop = min(start + config.batch_size, len(order))
        # In place: flattened parameters keep their gradients as views.
        optimizer.zero_grad()
        # Chunks only matter on CUDA (MAX_CUDA_BATCH); each chunk adds its
        # share of the batch-mean loss, so the gradient is the same.
        for low in range(start, stop, chunk):
            rows = slice(low, min(low + chunk, stop))
            logits = module(*(x[rows] for x in inputs))  # (b, n_outputs)
            loss = weighted_loss_sum(logits, y[rows], class_weights, config.loss) / (stop - start)
            loss.backward()
            batch_losses.append((loss.detach(), stop - start))
        if config.grad_clip is not None:
            clip_grad_norm_(optimizer.grads, config.grad_clip)
        optimizer.step()
    losses, sizes = zip(*batch_losses, strict=True)
    return float(torch.stack(losses).cpu() @ torch.tensor(sizes, dtype=torch.float32)) / len(order)


# --------------------------------------------------------------------------- the loop


def train(
    build_module: Callable[[], nn.Module],
    inputs: Sequence[Tensor],
    y: np.ndarray,
    config: TrainConfig,
    *,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    one_thread_below: int = 0,
) -> TrainResult:
    """Build a module and train it on ``inputs`` (tensors of ``n`` rows) and
    binary labels ``y (n,)`` in {0, 1}.

    ``on_epoch`` is called with each epoch's record (the ``history`` entry: epoch, train_loss,
    lr, seconds and, with validation rows, val_loss and val_average_precision) as the epoch
    ends; an exception it raises stops training and propagates (``hotleads tune`` prunes a
    trial this way). ``one_thread_below``: see :func:`fit_threads`.

    The module is built inside the seeded session, so its initial weights
    depend on the seed only (``config.random_state``, an int as it is, see
    :func:`hotleads.base.fit_seed`). Returns the module in eval mode, on
    ``config.device``, with the weights of its best validation epoch.
    """
    device = resolve_device(config.device)
    seed = fit_seed(config.random_state)
    y = np.asarray(y, dtype=np.int64)
    with torch_session(seed=seed, n_jobs=fit_threads(config, device, one_thread_below), device=device):
        # -- build: initial weights from the seed
        module = build_module().to(device)

        # -- split: early-stopping rows carved out of the training rows
        fit_rows, val_rows = _split(y, config, seed)
        fit_inputs = [x[fit_rows].to(device) for x in inputs]
        fit_y = torch.as_tensor(y[fit_rows], device=device)
        if val_rows is not None:
            val_inputs = [x[val_rows] for x in inputs]

        # -- class weights ("balanced" by default), applied per sample in the loss
        weights = _class_weights(y[fit_rows], config.class_weight)

        # -- optimiser and learning-rate schedule (stepped once per batch); on the CPU each
        #    weight-decay group is one flat tensor (cuDNN's LSTM wants its own weight layout)
        n_fit = len(fit_rows)
        steps_per_epoch = math.ceil(n_fit / config.batch_size)
        on_cpu = device.type == "cpu"
        decayed, kept = decay_groups(module)
        if on_cpu:
            decayed, kept = _flatten(decayed), _flatten(kept)
        optimizer = Adam([(decayed, config.weight_decay), (kept, 0.0)], config, config.epochs * steps_per_epoch)
        shuffler = torch.Generator().manual_seed(seed)

        # -- epochs, with early stopping on the validation rows
        history: list[dict[str, float]] = []
        best_value, best_epoch, best_state = math.inf, 0, None
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            order = torch.randperm(n_fit, generator=shuffler).to(device)
            train_loss = _run_epoch(module, optimizer, fit_inputs, fit_y, weights.to(device), order, config)
            record = {
                "epoch": epoch,
                "train_loss": train_loss,
                "lr": optimizer.lr,
            }
            stop = False
            if val_rows is not None:
                record |= _evaluate(module, val_inputs, y[val_rows], weights, config, device)
                better, value = _improved(record, best_value, config.monitor)
                if better:
                    best_value, best_epoch = value, epoch
                    # Tensor copies only: deepcopy also copies the state dict's metadata,
                    # 20 ms per epoch at 13 tensors.
                    best_state = {k: v.clone() for k, v in module.state_dict().items()}
                stop = config.patience is not None and epoch - best_epoch >= config.patience
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            if on_epoch is not None:
                on_epoch(record)
            if config.verbose:
                print(" ".join(f"{k}={v:.4g}" for k, v in record.items()), flush=True)
            if stop:
                break

        # -- restore the best weights (the last ones when there was no validation)
        if on_cpu:
            _unflatten_parameters(module)
        else:
            module.zero_grad(set_to_none=True)  # a trained model keeps no gradients
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
    return TrainResult(module=module, history=history, best_epoch=best_epoch or len(history))
