"""Shared fixtures: a small generated dataset, a small trained gbdt bundle, and the test seed.

The expensive pieces (the dataset and the bundle) are session-scoped; tests must not modify
them in place. A test that needs to damage a bundle copies it first (``copy_bundle``).
"""

from __future__ import annotations

import os

# LightGBM and torch run OpenMP threads that busy-wait by default; with two test workers on two
# cores each fit gets many times slower. The setting is read when the libraries load, so it
# comes before any import of hotleads. (Not set in the package: on dedicated cores, waiting
# threads that sleep make small torch batches 2x slower.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import random  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from hotleads import synth, training  # noqa: E402
from hotleads.bundle import save  # noqa: E402
from hotleads.io import read_table  # noqa: E402
from hotleads.model import LeadModel  # noqa: E402

SEED = 0
TRAIN_ROWS = 1500  # 900 train, 300 test, 300 holdout rows
BUNDLE_FOLDS = 3


@pytest.fixture
def seed() -> int:
    """The seed tests pass on (``random_state``, ``--seed``); numpy's and torch's global RNGs are reset to it."""
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    return SEED


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with train.csv (900 rows), test.csv, holdout.csv (300 each) and bayes.json."""
    out = tmp_path_factory.mktemp("dataset")
    synth.write_dataset(out, rows=TRAIN_ROWS, seed=SEED)
    return out


@pytest.fixture(scope="session")
def test_frame(dataset: Path):
    """The dataset's labelled test.csv as read by hotleads (do not modify)."""
    return read_table(dataset / "test.csv")


@pytest.fixture(scope="session")
def holdout_frame(dataset: Path):
    """The dataset's unlabelled holdout.csv as read by hotleads (do not modify)."""
    return read_table(dataset / "holdout.csv")


@pytest.fixture(scope="session")
def trained(dataset: Path) -> LeadModel:
    """A gbdt model trained on the dataset's train.csv (3 folds); do not modify it."""
    options = training.TrainOptions(models=["gbdt"], folds=BUNDLE_FOLDS, seed=SEED)
    return training.train_file(dataset / "train.csv", options)


@pytest.fixture(scope="session")
def model_dir(trained: LeadModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle of ``trained``, saved once; copy it (``copy_bundle``) before changing anything."""
    return save(trained, tmp_path_factory.mktemp("bundle") / "model")


@pytest.fixture
def copy_bundle(model_dir: Path, tmp_path: Path):
    """A private copy of the session bundle, which a test may damage."""

    def copy(name: str = "model") -> Path:
        return Path(shutil.copytree(model_dir, tmp_path / name))

    return copy
