"""Model directories: each part of a :class:`~hotleads.model.LeadModel` in one place, in safe formats.

Layout::

    MODEL_DIR/manifest.json           format, versions, creation time, SHA-256 of every other file
    MODEL_DIR/predictor.json          what scoring needs: schema, preprocessing, members' meta,
                                      combiner, calibrator, threshold, explainer
    MODEL_DIR/models/...              the members' files: LightGBM text, JSON, safetensors
    MODEL_DIR/evidence.json           what training found: leaderboard, thresholds per objective,
                                      calibration, discovery, profile, importance, warnings, ...
    MODEL_DIR/evidence.safetensors    labels and held-out probabilities (out of fold, or of the
                                      validation split with its rows' positions)

:func:`load_predictor` reads the manifest, ``predictor.json`` and ``models/`` only (what a scoring
service or a cluster worker needs); :func:`load` reads everything. Nothing is pickled. Saving
writes a temporary directory and swaps it in, so a failed save leaves the old bundle; it replaces
a folder only when that holds a bundle and nothing else (:func:`check_target`). Loading
refuses foreign or corrupt bundles, bundles from another format or major version, and any file
whose checksum does not match.
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from . import __version__
from .exceptions import BundleError
from .io import atomic_dir, holds_working_folder, sha256_file, write_json

FORMAT = "hotleads-model"
FORMAT_VERSION = 3  # 3: predictor and training evidence saved apart
MANIFEST = "manifest.json"
PREDICTOR = "predictor.json"
EVIDENCE = "evidence.json"
EVIDENCE_ARRAYS = "evidence.safetensors"
MODELS = "models"


def save(model, directory: str | Path) -> Path:
    """Write ``model`` (a :class:`~hotleads.model.LeadModel`) to ``directory``, replaced atomically if it exists.

    Raises
    ------
    BundleError
        ``directory`` is a file, or a non-empty folder that is not a model.
    """
    from safetensors.numpy import save as safetensors_bytes

    directory = Path(directory)
    check_target(directory)
    with atomic_dir(directory) as tmp:
        (tmp / MODELS).mkdir()
        predictor = model.predictor.to_dict() | {"members": _save_members(model.predictor.members, tmp / MODELS)}
        write_json(predictor, tmp / PREDICTOR)
        data, arrays = model.evidence.to_parts()
        write_json(data, tmp / EVIDENCE)
        (tmp / EVIDENCE_ARRAYS).write_bytes(safetensors_bytes({name: array for name, array in arrays.items()}))  # save_file would make it 0600
        files = [PREDICTOR, EVIDENCE, EVIDENCE_ARRAYS, *(f"{MODELS}/{name}" for meta in predictor["members"].values() for name in meta["files"])]
        write_json(_manifest({path: sha256_file(tmp / path) for path in files}), tmp / MANIFEST)
    return directory


def _save_members(members: dict, directory: Path) -> dict[str, dict]:
    return {name: estimator.save(directory, name) for name, estimator in members.items()}


def _manifest(files: dict[str, str]) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "hotleads_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "files": files,
    }


def check_target(directory: str | Path, option: str = "--out") -> None:
    """Refuse a ``directory`` that saving would destroy: the folder the command runs in (or one above it), a file, a
    non-empty folder that is not a bundle, or a bundle holding anything besides its own files (those its manifest lists,
    and the manifest): saving replaces the whole folder. ``option`` is how the user named it.

    Raises
    ------
    BundleError
        ``directory`` is one of those; the message names what is not the model's.
    """
    directory = Path(directory)
    if holds_working_folder(directory):
        raise BundleError(
            f"{option} {directory}: is the folder this command runs in, or one above it; saving replaces the whole folder, so name a new one (e.g. {option} model)."
        )
    if directory.is_file():
        raise BundleError(f"{option} {directory}: is a file, not a model folder; saving would replace it, so choose a new {option}.")
    if not directory.is_dir() or not any(not _os_litter(p.name) for p in directory.iterdir()):
        return
    manifest = _manifest_or_none(directory / MANIFEST)
    if manifest is None:
        raise BundleError(f"{option} {directory}: exists and is not a hotleads model; saving replaces the whole folder, so choose a new {option}.")
    theirs = not_the_models(directory, manifest)
    if theirs:
        shown = ", ".join(theirs[:5]) + (f" and {len(theirs) - 5} more" if len(theirs) > 5 else "")
        them = "them" if len(theirs) > 1 else "it"
        raise BundleError(
            f"{option} {directory}: holds {shown}, not part of the model there; saving replaces the whole folder, so move {them} out of it or choose a new {option}."
        )


def not_the_models(directory: Path, manifest: dict) -> list[str]:
    """What ``directory`` holds besides the files of its bundle (``manifest`` and those it lists): a foreign folder is named
    once, with a trailing ``/``, not file by file."""
    listed = manifest.get("files")
    own = {MANIFEST, MODELS, *(listed if isinstance(listed, dict) else ())}
    own |= {parent.as_posix() for name in own for parent in PurePosixPath(name).parents if parent.name}  # the folders on their way

    def walk(folder: Path, prefix: str):
        for entry in sorted(folder.iterdir()):
            relative, is_folder = prefix + entry.name, entry.is_dir() and not entry.is_symlink()
            if relative not in own and not _os_litter(entry.name):
                yield relative + "/" * is_folder
            elif is_folder:
                yield from walk(entry, relative + "/")

    return list(walk(directory, ""))


_OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # what file browsers leave in a folder opened in them


def _os_litter(name: str) -> bool:
    """Whether ``name`` is a file a file browser writes by itself (Finder's ``.DS_Store`` and ``._x``, Explorer's
    ``Thumbs.db``): nothing of the user's, so it does not keep a model folder from being replaced."""
    return name in _OS_LITTER or name.startswith("._")


def _manifest_or_none(path: Path) -> dict | None:
    """The manifest at ``path`` when it is a hotleads model's (any format version), else None: a folder with another
    ``manifest.json``, or a corrupt one, cannot say which of its files are the model's."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def read_manifest(directory: str | Path) -> dict:
    """The checked manifest of a bundle (format and version); file checksums are checked as each part loads."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BundleError(f"{directory}: no such model directory; train one with `hotleads train DATA --out {directory}`.")
    if not path.is_file():
        raise BundleError(f"{directory}: not a hotleads model (no {MANIFEST}); pass the --out folder of `hotleads train`.")
    manifest = _read_json(path)
    _check_format(manifest, path)
    return manifest


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: corrupt JSON ({exc.msg if hasattr(exc, 'msg') else exc}); retrain the model.") from None


def _check_format(manifest: object, path: Path) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: not a hotleads model manifest; pass the --out folder of `hotleads train`.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{path}: model format {manifest.get('format_version')} is not supported by hotleads {__version__} (reads format {FORMAT_VERSION}); retrain the model."
        )
    saved_major = str(manifest.get("hotleads_version", "?")).split(".")[0]
    if saved_major != __version__.split(".")[0]:
        raise BundleError(
            f"{path}: saved by hotleads {manifest.get('hotleads_version')}, incompatible with {__version__}; retrain the model or install that version."
        )


def _check_files(manifest: dict, directory: Path, wanted) -> None:
    """Every manifest file that ``wanted(path)`` selects exists and matches its checksum."""
    for relative, expected in manifest.get("files", {}).items():
        if not wanted(relative):
            continue
        path = directory / relative
        if not path.is_file():
            raise BundleError(f"{directory}: model file {relative} is missing; the bundle is incomplete, retrain or copy it again.")
        if sha256_file(path) != expected:
            raise BundleError(f"{directory}: model file {relative} does not match its checksum (corrupt or edited); retrain or copy it again.")


def load_predictor(directory: str | Path, *, device: str = "auto"):
    """The :class:`~hotleads.model.Predictor` of a bundle (what scoring needs); neural members go to ``device``.

    Reads and checks only the manifest, ``predictor.json`` and the members' files.

    Raises
    ------
    BundleError
        The directory is missing, foreign, corrupt, incomplete or of another format or major version.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    _check_files(manifest, directory, is_predictor_file)
    return _loading(directory, lambda: _predictor(_read_json(directory / PREDICTOR), directory / MODELS, device))


def is_predictor_file(path: str) -> bool:
    """Whether a bundle file (a path relative to the directory, as the manifest lists it) is one :func:`load_predictor` reads."""
    return path == PREDICTOR or path.startswith(f"{MODELS}/")


def load(directory: str | Path, *, device: str = "auto"):
    """Load a :class:`~hotleads.model.LeadModel` written by :func:`save`; neural members go to ``device``.

    Raises
    ------
    BundleError
        As :func:`load_predictor`, for any of the bundle's files.
    """
    from safetensors.numpy import load_file

    from .model import LeadModel, TrainingEvidence

    directory = Path(directory)
    manifest = read_manifest(directory)
    _check_files(manifest, directory, lambda path: True)

    def rebuild():
        predictor = _predictor(_read_json(directory / PREDICTOR), directory / MODELS, device)
        evidence = TrainingEvidence.from_parts(_read_json(directory / EVIDENCE), load_file(directory / EVIDENCE_ARRAYS))
        return LeadModel(predictor, evidence)

    return _loading(directory, rebuild)


def _loading(directory: Path, rebuild):
    try:
        return rebuild()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(f"{directory}: the bundle does not describe a loadable model ({type(exc).__name__}: {exc}); retrain the model.") from None


def _predictor(data: dict, models: Path, device: str):
    from .model import Predictor
    from .registry import model_class

    members = {name: model_class(meta["class"]).load(models, meta, device=device) for name, meta in data.pop("members").items()}
    return Predictor.from_dict(data, members)
