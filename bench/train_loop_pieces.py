"""Does each hand-made piece of the old training loop pay for itself? Per-step time at the seed configuration.

    .venv/bin/python bench/train_loop_pieces.py [--models lstm,cnn] [--epochs 2]

The old ``train_loop.py`` replaced four pieces of torch with its own: Adam through the functional
``torch.optim.adam.adam`` with a precomputed one-cycle schedule, a gradient-norm clip, and all
parameters flattened into one tensor; and it switched deterministic algorithms on through a
private function. This script trains the seed configuration (batch 32, two-logit softmax loss,
balanced class weights, the product's LSTM/CNN architectures, 2 threads) on 18,000 rows of the
challenge table with each piece swapped, one at a time, for the torch original, and with all of
them swapped. The variants train side by side, block by block (each block of 25 steps runs on
every variant in turn), so a change in the machine's speed hits all of them alike; it prints
each variant's median milliseconds per step and its median ratio to the old loop over paired
blocks. It also prints the one-off cost of the first ``torch.optim.AdamW`` of a fresh process,
which imports torch's compiler.

The input is the table's raw columns (9 numeric, the funding date as a day number, industry and
hiring role as category codes): 12 feature tokens, as ``--features raw`` gives.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from torch.optim.adam import adam

from hotleads import nn as hnn

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hr-leads" / "train.csv"
BLOCK = 25  # steps timed together
WEIGHT_DECAY = 1e-4
ROWS, BATCH, THREADS, LR = 18_000, 32, 2, {"lstm": 2e-2, "cnn": 1e-2}
NUMERIC = [
    "funding_rounds", "total_funding", "job_postings_30d", "employee_growth_pct", "industry_growth_rate",
    "regional_employment_trend", "funding_per_employee", "days_since_last_funding", "growth_momentum",
]  # fmt: skip
CATEGORICAL = ["industry", "hiring_roles"]


def load() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_num (n, 10) float32, x_cat (n, 2) int64 with 0 = missing, y (n,) int64) from the first ROWS rows."""
    frame = pd.read_csv(DATA, nrows=ROWS)
    numeric = frame[NUMERIC].astype(float)
    numeric["funding_day"] = (pd.to_datetime(frame["last_funding_date"]) - pd.Timestamp("2000-01-01")).dt.days
    numeric = numeric.replace([np.inf, -np.inf], np.nan)  # a few rows divide by zero employees; NaN = missing
    x_num = QuantileTransformer(output_distribution="normal", random_state=0).fit_transform(numeric.to_numpy())
    x_cat = np.column_stack([pd.factorize(frame[c])[0] + 1 for c in CATEGORICAL])
    return torch.tensor(x_num, dtype=torch.float32), torch.tensor(x_cat), torch.tensor(frame["is_hot_lead"].to_numpy())


def build(model: str, x_cat: torch.Tensor) -> nn.Module:
    """The product's default architecture of ``model`` (d_token 32, head 32, two logits)."""
    n_tokens = 10 + x_cat.shape[1]
    tokenizer = hnn.FeatureTokenizer(n_numeric=10, cat_cardinalities=[int(c.max()) for c in x_cat.T], d_token=32)
    if model == "lstm":
        encoder = hnn.LSTMEncoder(d_in=32, hidden_size=32, n_layers=1, bidirectional=True, dropout=0.0, pooling="flatten", seq_len=n_tokens)
    else:
        encoder = hnn.CNNEncoder(d_in=32, n_channels=64, kernel_size=3, n_layers=1, dropout=0.0, pooling="flatten", seq_len=n_tokens)
    head = hnn.Head(d_in=encoder.d_out, n_outputs=2, d_hidden=32, dropout=0.0)
    return hnn.TokenNet(tokenizer=tokenizer, encoder=encoder, head=head)


# --------------------------------------------------------------------------- the old loop's own pieces


def one_cycle(total: int, lr: float) -> tuple[list[float], list[float]]:
    """torch's OneCycleLR (defaults) as per-step lists of learning rate and beta1."""
    step = np.arange(total, dtype=np.float64)
    peak = 0.3 * total - 1
    warming = step <= peak
    pct = np.where(warming, step / peak, (step - peak) / (total - 1 - peak))
    cosine = (np.cos(np.pi * pct) + 1) / 2
    start, peak_lr, end = lr / 25, lr, lr / 25e4
    lrs = np.where(warming, peak_lr + (start - peak_lr) * cosine, end + (peak_lr - end) * cosine)
    beta1 = np.where(warming, 0.85 + 0.1 * cosine, 0.95 - 0.1 * cosine)
    return lrs.tolist(), beta1.tolist()


class FunctionalAdamW:
    """The old ``train_loop.Adam``: fused functional AdamW stepped along a precomputed schedule, over
    groups ``[(params, weight_decay), ...]``; with ``sliced`` the first ``sliced`` numbers of the one
    flat tensor are decayed by hand (AdamW's ``p *= 1 - lr * wd``) and the rest not."""

    def __init__(self, groups: list[tuple[list[torch.Tensor], float]], lr: float, total: int, sliced: int | None = None) -> None:
        self.groups = []
        for params, weight_decay in groups:
            for p in params:
                p.grad = torch.zeros_like(p) if p.grad is None else p.grad
            state = ([p.grad for p in params], [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params])
            self.groups.append((params, *state, [torch.zeros(()) for _ in params], weight_decay))
        self.grads = [g for group in self.groups for g in group[1]]
        self.lrs, self.beta1s = one_cycle(total, lr)
        self.sliced = sliced
        self.n = 0

    def zero_grad(self) -> None:
        for g in self.grads:
            g.zero_()

    @torch.no_grad()
    def step(self) -> None:
        at = min(self.n, len(self.lrs) - 1)
        if self.sliced:
            self.groups[0][0][0][: self.sliced].mul_(1 - self.lrs[at] * WEIGHT_DECAY)
        for params, grads, m, v, steps, weight_decay in self.groups:
            adam(params, grads, m, v, [], steps, fused=True, decoupled_weight_decay=True, amsgrad=False,
                 beta1=self.beta1s[at], beta2=0.999, lr=self.lrs[at], weight_decay=weight_decay, eps=1e-8,
                 maximize=False)  # fmt: skip
        self.n += 1


class TorchAdamW:
    """``torch.optim.AdamW`` and ``OneCycleLR`` (it cycles beta1 too), stepped together."""

    def __init__(self, params: list[torch.Tensor], lr: float, total: int, *, set_to_none: bool, **options) -> None:
        self.set_to_none = set_to_none  # False for a flat tensor: its parameters' gradients are views of its gradient
        self.optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=WEIGHT_DECAY, **options)
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(self.optimizer, max_lr=lr, total_steps=total)
        self.grads = None

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=self.set_to_none)

    def step(self) -> None:
        self.optimizer.step()
        self.schedule.step()


def own_clip(params: list[nn.Parameter], max_norm: float) -> None:
    """The old ``train_loop.clip_grad_norm_``: no grouping by device and dtype."""
    grads = [p.grad for p in params]
    norms = [torch.linalg.vector_norm(g) for g in grads]
    total = norms[0] if len(norms) == 1 else torch.linalg.vector_norm(torch.stack(norms))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)


def matrices_and_rest(module: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """``hotleads.train_loop.decay_groups``' rule: the weight matrices of linear, convolution, LSTM and
    attention layers (decayed), and the rest (biases, norms, embeddings, feature tokens)."""
    matrices = set()
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d)):
            matrices.add(id(layer.weight))
        elif isinstance(layer, nn.LSTM):
            matrices.update(id(p) for name, p in layer.named_parameters(recurse=False) if name.startswith("weight_"))
    params = list(module.parameters())
    return [p for p in params if id(p) in matrices], [p for p in params if id(p) not in matrices]


def flatten(params: list[nn.Parameter]) -> list[nn.Parameter]:
    """The old ``train_loop._flatten_parameters``: ``params`` become views of one flat tensor."""
    flat = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
    flat.grad = torch.zeros_like(flat)
    offset = 0
    for p in params:
        p.data = flat.data[offset : offset + p.numel()].view_as(p)
        p.grad = flat.grad[offset : offset + p.numel()].view_as(p)
        offset += p.numel()
    return [flat]


# name -> (flatten, optimiser, clip, deterministic); flatten "two": decayed and not decayed
# parameters in two flat tensors, "sliced": in one, the decayed ones first.
VARIANTS = {
    "old loop (all four pieces)": (True, "functional", "own", True),
    "no flattening": (False, "functional", "own", True),
    "torch AdamW + OneCycleLR": (True, "torch", "own", True),
    "torch AdamW(fused=True) + OneCycleLR": (True, "torch-fused", "own", True),
    "torch clip_grad_norm_": (True, "functional", "torch", True),
    "no deterministic mode": (True, "functional", "own", False),
    "all torch (AdamW, OneCycleLR, clip, no flattening, no det.)": (False, "torch", "torch", False),
    "all torch, AdamW(fused=True)": (False, "torch-fused", "torch", False),
    "all torch, AdamW(fused=True), flattened": (True, "torch-fused", "torch", False),
    "decay on matrices only, two flat tensors": ("two", "functional", "own", False),
    "decay on matrices only, one flat tensor, decayed slice": ("sliced", "functional", "own", False),
}


class Run:
    """One variant's module, parameters and optimiser, trained block by block."""

    def __init__(self, model: str, variant: str, data, total_steps: int) -> None:
        self.flat, optimizer_kind, self.clip, self.deterministic = VARIANTS[variant]
        torch.manual_seed(0)
        self.module = build(model, data[1]).train()
        decayed, kept = matrices_and_rest(self.module)
        sliced = None
        if self.flat == "two":
            groups = [(flatten(decayed), WEIGHT_DECAY), (flatten(kept), 0.0)]
        elif self.flat == "sliced":
            groups, sliced = [(flatten(decayed + kept), 0.0)], sum(p.numel() for p in decayed)
        else:
            params = list(self.module.parameters())
            groups = [(flatten(params) if self.flat else params, WEIGHT_DECAY)]
        self.params = [p for params, _ in groups for p in params]
        if optimizer_kind == "functional":
            self.optimizer = FunctionalAdamW(groups, LR[model], total_steps, sliced)
        else:
            fused = {"fused": True} if optimizer_kind == "torch-fused" else {}
            self.optimizer = TorchAdamW(self.params, LR[model], total_steps, set_to_none=not self.flat, **fused)
        self.weights = torch.as_tensor(compute_class_weight("balanced", classes=np.array([0, 1]), y=data[2].numpy()), dtype=torch.float32)

    def steps(self, x_num: torch.Tensor, x_cat: torch.Tensor, y: torch.Tensor, starts: range) -> float:
        """Train on the batches beginning at ``starts``; seconds per step."""
        torch._C._set_deterministic_algorithms(self.deterministic)  # the old loop's call, measured here only
        started = time.perf_counter()
        for start in starts:
            rows = slice(start, start + BATCH)
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.module(x_num[rows], x_cat[rows]), y[rows], weight=self.weights, reduction="sum") / len(y[rows])
            loss.backward()
            if self.clip == "own":
                own_clip(self.params, 1.0)
            else:
                torch.nn.utils.clip_grad_norm_(self.params, 1.0)
            self.optimizer.step()
        return (time.perf_counter() - started) / len(starts)


def interleaved(model: str, data, epochs: int) -> dict[str, list[float]]:
    """Milliseconds per step of every variant, block by block: each block of BLOCK steps runs on
    every variant in turn, so a change of the machine's speed (other processes, a noisy virtual
    machine) hits all variants alike. The first block of each variant (warm-up) is left out."""
    x_num, x_cat, y = data
    total = epochs * math.ceil(len(y) / BATCH)
    runs = {variant: Run(model, variant, data, total) for variant in VARIANTS}
    blocks: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        xn, xc, yy = x_num[order], x_cat[order], y[order]
        starts = range(0, len(y), BATCH)
        for b in range(0, len(starts), BLOCK):
            for variant, run in runs.items():
                blocks[variant].append(1000 * run.steps(xn, xc, yy, starts[b : b + BLOCK]))
    torch._C._set_deterministic_algorithms(False)
    return {variant: times[1:] for variant, times in blocks.items()}


def first_adamw_seconds() -> float:
    """Seconds the first ``torch.optim.AdamW(...)`` of a fresh process takes (torch already imported)."""
    code = ("import time, torch\np = [torch.nn.Parameter(torch.zeros(3))]\nt = time.perf_counter()\n"
            "torch.optim.AdamW(p)\nprint(time.perf_counter() - t)")  # fmt: skip
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lstm,cnn")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    data = load()
    torch.set_num_threads(THREADS)
    torch.utils.deterministic.fill_uninitialized_memory = False  # as the old loop did
    steps = math.ceil(ROWS / BATCH)
    print(f"Seed configuration: {ROWS:,} rows of train.csv, batch {BATCH}, {steps} steps an epoch, {THREADS} threads, "
          f"{args.epochs} epochs, every variant trained side by side in blocks of {BLOCK} steps.\n")  # fmt: skip
    print("| model | variant | ms/step (median of blocks) | vs old loop (median of paired blocks) | s per 20 epochs |")
    print("| --- | --- | --- | --- | --- |")
    for model in args.models.split(","):
        blocks = interleaved(model, data, args.epochs)
        old = np.asarray(blocks[next(iter(VARIANTS))])
        for variant, times in blocks.items():
            median = statistics.median(times)
            ratio = float(np.median(np.asarray(times) / old))
            print(f"| {model} | {variant} | {median:.2f} | {100 * (ratio - 1):+.1f} % | {20 * steps * median / 1000:.1f} |", flush=True)
    firsts = sorted(first_adamw_seconds() for _ in range(3))
    print(f"\nFirst torch.optim.AdamW(...) in a fresh process (it imports torch._dynamo): {', '.join(f'{s:.2f}' for s in firsts)} s")


if __name__ == "__main__":
    main()
