"""hotleads: predict which companies are about to need HR services (hot leads).

The command line (``hotleads``) is a thin layer over these calls::

    from hotleads import TrainOptions, train_file, save, load, score
    model = train_file("train.csv", TrainOptions(models=["gbdt"]))
    save(model, "model/")
    scored, _, _ = score(load("model/"), frame)
"""

__version__ = "0.1.0"

from .bundle import load, save  # noqa: E402
from .pipeline import LeadModel, TrainOptions, evaluate, score, train, train_file  # noqa: E402

__all__ = ["LeadModel", "TrainOptions", "__version__", "evaluate", "load", "save", "score", "train", "train_file"]
