"""Model directories: a JSON manifest plus model files in safe, non-pickle formats.

Layout::

    MODEL_DIR/manifest.json     versions, schema, preprocessing, members, ensemble, threshold,
                                OOF metrics, training-file SHA-256, seed, SHA-256 of every file
    MODEL_DIR/oof.safetensors   labels and out-of-fold probabilities (for reports)
    MODEL_DIR/models/...        LightGBM text files, JSON coefficients, safetensors weights

Saving writes a temporary directory and swaps it in, so a failed save leaves the old bundle.
Loading refuses foreign or corrupt bundles and bundles from another major version.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from safetensors.numpy import save as safetensors_bytes

from . import __version__
from .calibration import Calibrator
from .ensemble import Ensemble
from .exceptions import BundleError
from .explain import Explainer
from .features import Preprocessor
from .io import atomic_dir, write_json
from .pipeline import LeadModel, Member
from .registry import model_class
from .schema import Schema

FORMAT = "hotleads-model"
FORMAT_VERSION = 2  # 2: calibration, objective thresholds, data profile, explainer
MANIFEST = "manifest.json"
OOF_FILE = "oof.safetensors"


def save(model: LeadModel, directory: str | Path) -> Path:
    """Write ``model`` to ``directory`` (replaced atomically if it exists)."""
    directory = Path(directory)
    check_target(directory)
    with atomic_dir(directory) as tmp:
        (tmp / "models").mkdir()
        members = {name: _save_member(member, tmp) for name, member in model.members.items()}
        (tmp / OOF_FILE).write_bytes(safetensors_bytes(_oof_arrays(model)))  # save_file would make it 0600
        manifest = _manifest(model, members)
        manifest["files"] = {path: _sha256(tmp / path) for path in _listed_files(members)}
        write_json(manifest, tmp / MANIFEST)
    return directory


def check_target(directory: str | Path) -> None:
    """Refuse a ``directory`` that saving would destroy: a file, or a non-empty folder that is not a bundle."""
    directory = Path(directory)
    foreign_folder = directory.is_dir() and not (directory / MANIFEST).is_file() and any(directory.iterdir())
    if directory.is_file() or foreign_folder:
        raise BundleError(f"{directory}: exists and is not a hotleads model; saving replaces the whole folder, so choose a new --out or remove it.")


def _save_member(member: Member, directory: Path) -> dict:
    meta = member.estimator.save(directory / "models", member.name)
    meta["files"] = [f"models/{name}" for name in meta["files"]]
    return {"fit_seconds": member.fit_seconds, "estimator": meta}


def _oof_arrays(model: LeadModel) -> dict[str, np.ndarray]:
    arrays = {"y": model.y.astype(np.int64), "final": model.oof.astype(np.float64)}
    if model.oof_uncalibrated is not None:
        arrays["final_uncalibrated"] = model.oof_uncalibrated.astype(np.float64)
    arrays.update({f"member.{name}": member.oof.astype(np.float64) for name, member in model.members.items()})
    return arrays


def _manifest(model: LeadModel, members: dict) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "hotleads_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "seed": model.seed,
        "folds": model.folds,
        "training": model.training,
        "schema": model.schema.to_dict(),
        "preprocessing": model.preprocessor.to_dict(),
        "feature_discovery": model.discovery,
        "members": members,
        "ensemble": model.ensemble.to_dict() if model.ensemble else None,
        "final": model.final_name,
        "threshold": model.threshold,
        "threshold_source": model.threshold_source,
        "objective": model.objective,
        "thresholds": model.thresholds,
        "calibration": {**model.calibration, "calibrator": model.calibrator.to_dict()},
        "oof_metrics": model.oof_metrics(),
        "leaderboard": model.leaderboard(),
        "data_profile": model.profile,
        "explainer": model.explainer.to_dict() if model.explainer else None,
        "importance": model.importance,
    }


def _listed_files(members: dict) -> list[str]:
    files = [OOF_FILE]
    for member in members.values():
        files += member["estimator"]["files"]
    return files


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(directory: str | Path) -> dict:
    """The checked manifest of a bundle (format, version and file integrity)."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BundleError(f"{directory}: no such model directory; train one with `hotleads train DATA --out {directory}`.")
    if not path.is_file():
        raise BundleError(f"{directory}: not a hotleads model (no {MANIFEST}); pass the --out folder of `hotleads train`.")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: corrupt manifest ({exc.msg if hasattr(exc, 'msg') else exc}); retrain the model.") from None
    _check_format(manifest, path)
    _check_files(manifest, directory)
    return manifest


def _check_format(manifest: object, path: Path) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: not a hotleads model manifest; pass the --out folder of `hotleads train`.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path}: model format {manifest.get('format_version')} is not supported by hotleads {__version__} (reads format {FORMAT_VERSION}); retrain the model.")
    saved_major = str(manifest.get("hotleads_version", "?")).split(".")[0]
    if saved_major != __version__.split(".")[0]:
        raise BundleError(f"{path}: saved by hotleads {manifest.get('hotleads_version')}, incompatible with {__version__}; retrain the model or install that version.")


def _check_files(manifest: dict, directory: Path) -> None:
    for relative, expected in manifest.get("files", {}).items():
        path = directory / relative
        if not path.is_file():
            raise BundleError(f"{directory}: model file {relative} is missing; the bundle is incomplete, retrain or copy it again.")
        if _sha256(path) != expected:
            raise BundleError(f"{directory}: model file {relative} does not match its checksum (corrupt or edited); retrain or copy it again.")


def load(directory: str | Path, *, device: str = "auto") -> LeadModel:
    """Load a bundle written by :func:`save`; neural members go to ``device``."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    try:
        return _rebuild(manifest, directory, device)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{directory}: the manifest does not describe a loadable model ({type(exc).__name__}: {exc}); retrain the model.") from None


def _rebuild(manifest: dict, directory: Path, device: str) -> LeadModel:
    arrays = load_file(directory / OOF_FILE)
    members = {}
    for name, saved in manifest["members"].items():
        meta = saved["estimator"]
        estimator = model_class(meta["class"]).load(directory, meta, device=device)
        members[name] = Member(name, estimator, arrays[f"member.{name}"], saved["fit_seconds"])
    ensemble = Ensemble.from_dict(manifest["ensemble"]) if manifest["ensemble"] else None
    calibration = dict(manifest["calibration"])
    return LeadModel(
        schema=Schema.from_dict(manifest["schema"]),
        preprocessor=Preprocessor.from_dict(manifest["preprocessing"]),
        members=members, ensemble=ensemble,
        threshold=manifest["threshold"], threshold_source=manifest["threshold_source"],
        oof=arrays["final"], y=arrays["y"], seed=manifest["seed"], folds=manifest["folds"],
        training=manifest["training"], discovery=manifest["feature_discovery"],
        calibrator=Calibrator.from_dict(calibration.pop("calibrator")), calibration=calibration,
        oof_uncalibrated=arrays.get("final_uncalibrated"), objective=manifest["objective"], thresholds=manifest["thresholds"],
        profile=manifest["data_profile"], importance=manifest["importance"],
        explainer=Explainer.from_dict(manifest["explainer"]) if manifest["explainer"] else None,
    )
