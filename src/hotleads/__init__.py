"""hotleads: predict which companies are about to need HR services (hot leads).

The command line (``hotleads``) is a thin layer over these calls::

    from hotleads import TrainOptions, evaluate, load, read_table, save, score, train_file
    model = train_file("train.csv", TrainOptions(models=["gbdt"]))
    save(model, "model/")
    scored = score(load("model/").predictor, read_table("holdout.csv"))

The names below are imported on first use (PEP 562), so ``import hotleads`` and the command
line's ``--version`` and ``--help`` stay fast: the numerical libraries load only when a call
needs them.
"""

import importlib
import os

__version__ = "0.1.0"

# OpenMP threads (LightGBM's, PyTorch's) that wait by sleeping, not spinning, unless the user says
# otherwise. Read once, when the OpenMP runtime loads, so it is set before any numerical library is
# imported. Spinning threads that share cores with another busy process wait on each other for
# whole time slices: a 2,000-row LightGBM fit on 2 threads took 50 s instead of 0.13 s while a
# second process ran (README, "Threads for small batches", under "Seed configuration").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_EXPORTS = {
    "LeadModel": "model",
    "Predictor": "model",
    "TrainingEvidence": "model",
    "Threshold": "model",
    "TrainOptions": "training",
    "train": "training",
    "train_file": "training",
    "ScoredTable": "scoring",
    "score": "scoring",
    "evaluate": "scoring",
    "write_submission": "scoring",
    "write_lead_list": "scoring",
    "load": "bundle",
    "load_predictor": "bundle",
    "save": "bundle",
    "read_table": "io",
    "run": "workflow",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'hotleads' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
