"""Tests of saving and loading model directories (hotleads.bundle)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotleads import __version__, bundle, registry
from hotleads.bundle import FORMAT_VERSION, load, load_predictor, read_manifest, save
from hotleads.estimators import GBDTClassifier
from hotleads.exceptions import BundleError, DataWarning
from hotleads.io import read_table
from hotleads.model import LeadModel
from hotleads.scoring import evaluate, score
from hotleads.training import TrainOptions, train


@pytest.fixture(scope="module")
def holdout(dataset: Path) -> pd.DataFrame:
    return read_table(dataset / "holdout.csv")


def edit_manifest(directory: Path, **changes) -> None:
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def assert_same_scores(restored, original, frame: pd.DataFrame) -> None:
    """Two predictors (or models) score ``frame`` identically."""
    expected, actual = (score(getattr(m, "predictor", m), frame, explain=True) for m in (original, restored))
    pd.testing.assert_frame_equal(actual.leads, expected.leads)
    for name in expected.member_probas:
        np.testing.assert_array_equal(actual.member_probas[name], expected.member_probas[name])


def edit_json(directory: Path, name: str, edit) -> None:
    """Change ``name`` (a bundle file) with ``edit(data)`` and record its new checksum, so only the content is wrong."""
    path = directory / name
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    edit_manifest(directory, files=read_manifest(directory)["files"] | {name: hashlib.sha256(path.read_bytes()).hexdigest()})


def test_round_trip_gives_identical_predictions(trained: LeadModel, model_dir: Path, holdout: pd.DataFrame) -> None:
    restored = load(model_dir)
    assert_same_scores(restored, trained, holdout)
    predictor, original = restored.predictor, trained.predictor
    assert predictor.schema == original.schema
    assert predictor.preprocessor == original.preprocessor
    assert (predictor.threshold, predictor.calibrator, predictor.explainer) == (original.threshold, original.calibrator, original.explainer)
    for field in dataclasses.fields(restored.evidence):  # every field of the evidence, whatever is added later
        saved, kept = getattr(restored.evidence, field.name), getattr(trained.evidence, field.name)
        if isinstance(kept, np.ndarray):
            np.testing.assert_array_equal(saved, kept)
        elif field.name == "member_oof":
            assert saved.keys() == kept.keys() and all(np.array_equal(saved[k], kept[k]) for k in kept)
        else:
            assert saved == kept, field.name


def test_the_predictor_loads_alone_from_its_own_files(trained: LeadModel, copy_bundle, holdout: pd.DataFrame) -> None:
    target = copy_bundle()
    (target / "evidence.json").unlink()  # a scoring service needs none of the evidence
    (target / "evidence.safetensors").unlink()
    assert_same_scores(load_predictor(target), trained.predictor, holdout)
    with pytest.raises(BundleError, match="model file evidence.json is missing"):
        load(target)


def test_ensemble_round_trip(dataset: Path, holdout: pd.DataFrame, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(registry.MODELS, "gbdt", functools.partial(GBDTClassifier, n_estimators=30))
    model = train(read_table(dataset / "train.csv"), TrainOptions(models=["logreg", "gbdt"], folds=2, ensemble="stack"))
    restored = load(save(model, tmp_path / "model"))
    assert restored.predictor.combiner == model.predictor.combiner
    assert restored.predictor.name == "ensemble"
    assert_same_scores(restored, model, holdout)


def test_a_model_saved_before_target_values_were_kept_evaluates_as_before(dataset: Path, tmp_path: Path) -> None:
    def hot_cold(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(is_hot_lead=frame["is_hot_lead"].map({"1": "Hot", "0": "Cold"}))

    model = train(hot_cold(read_table(dataset / "train.csv")), TrainOptions(models=["logreg"], folds=2), positive=["Hot"])
    directory = save(model, tmp_path / "model")
    edit_json(directory, "predictor.json", lambda data: data["schema"].pop("labels"))  # as saved before labels were kept
    test = hot_cold(read_table(dataset / "test.csv"))
    test.loc[:2, "is_hot_lead"] = "Warm"
    restored = load(directory)
    assert restored.predictor.schema.labels == []
    before = evaluate(restored, score(restored.predictor, test, labelled=True))  # no warning: it would fail the test
    with pytest.warns(DataWarning, match=r"has value\(s\) the training table did not have: 'Warm' \(3 rows\)"):
        now = evaluate(model, score(model.predictor, test, labelled=True))
    assert before["metrics"] == now["metrics"]


def test_manifest_describes_the_model(trained: LeadModel, model_dir: Path) -> None:
    manifest = read_manifest(model_dir)
    assert manifest["format"] == "hotleads-model"
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["hotleads_version"] == __version__
    predictor = json.loads((model_dir / "predictor.json").read_text())
    assert predictor["threshold"] == {"value": trained.predictor.threshold.value, "source": "oof-f1", "objective": "f1"}
    assert list(predictor["members"]) == ["gbdt"] and predictor["combiner"] is None
    assert predictor["schema"]["target"] == "is_hot_lead"
    evidence = json.loads((model_dir / "evidence.json").read_text())
    assert evidence["training"]["sha256"] == trained.evidence.training["sha256"]
    assert evidence["leaderboard"] == trained.evidence.leaderboard


def test_every_file_is_listed_with_its_sha256(model_dir: Path) -> None:
    manifest = read_manifest(model_dir)
    on_disk = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {"manifest.json"}
    assert {"predictor.json", "evidence.json", "evidence.safetensors"} <= set(manifest["files"])
    assert any(name.startswith("models/") for name in manifest["files"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((model_dir / name).read_bytes()).hexdigest() == digest


def test_bundle_files_are_readable_by_others(model_dir: Path) -> None:
    for path in model_dir.rglob("*"):
        assert path.stat().st_mode & 0o044 == 0o044, f"{path.name} is not group/other readable"


def test_saving_over_a_bundle_replaces_it(trained: LeadModel, copy_bundle, holdout: pd.DataFrame) -> None:
    target = copy_bundle()
    (target / "evidence.json").unlink()  # an incomplete bundle is still only a model
    edit_manifest(target, format_version=FORMAT_VERSION - 1)  # and so is one of an older format
    save(trained, target)
    assert_same_scores(load(target), trained, holdout)
    assert sorted(p.name for p in target.parent.iterdir()) == ["model"]


def test_saving_never_replaces_a_bundle_holding_the_users_files(trained: LeadModel, copy_bundle) -> None:
    """Saving replaces the whole folder: a file or folder the model's manifest does not list is the user's, and is named."""
    target = copy_bundle()
    (target / "notes.txt").write_text("mine")
    (target / "plots").mkdir()
    (target / "plots" / "roc.png").write_bytes(b"png")
    (target / "models" / "my-tweaks.json").write_text("{}")
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    message = r"model: holds models/my-tweaks\.json, notes\.txt, plots/, not part of the model there; saving replaces the whole folder, so move them out of it or choose a new --out\.$"
    with pytest.raises(BundleError, match=message):
        save(trained, target)
    assert {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["model"]


def test_saving_replaces_a_bundle_a_file_browser_wrote_into(trained: LeadModel, copy_bundle) -> None:
    """Opening a model folder in Finder or Explorer leaves .DS_Store, ._x or Thumbs.db there: not the user's, replaced."""
    target = copy_bundle()
    for name in (".DS_Store", "._predictor.json", "Thumbs.db"):
        (target / name).write_bytes(b"x")
    (target / "models" / ".DS_Store").write_bytes(b"x")
    save(trained, target)
    assert not any(p.name in {".DS_Store", "._predictor.json", "Thumbs.db"} for p in target.rglob("*"))


@pytest.mark.parametrize("manifest", ['{"name": "my web app", "files": {"notes.txt": "x"}}', "{not json"], ids=["another-tools", "corrupt"])
def test_saving_never_replaces_a_folder_whose_manifest_is_not_a_models(manifest: str, trained: LeadModel, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "manifest.json").write_text(manifest)
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match=r"site: exists and is not a hotleads model"):
        save(trained, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "notes.txt"]


def test_saving_never_replaces_the_working_folder_or_a_hidden_old_folder(trained: LeadModel, tmp_path: Path, monkeypatch) -> None:
    """``--out .`` was a traceback after the whole training (a path with no name); a folder above the working one would be
    swapped from under the user's shell. And the old model was moved to a fixed ``.model.old``, removing one of the user's."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for target in (".", "..", work):
        with pytest.raises(BundleError, match=r"is the folder this command runs in, or one above it; saving replaces the whole folder"):
            save(trained, target)
    save(trained, "model")
    (work / ".model.old").mkdir()
    (work / ".model.old" / "notes.txt").write_text("my backup")
    save(trained, "model")
    assert (work / ".model.old" / "notes.txt").read_text() == "my backup"
    assert sorted(p.name for p in work.iterdir()) == [".model.old", "model"]


def test_a_folder_of_file_browser_litter_alone_is_saved_into(trained: LeadModel, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / ".DS_Store").write_bytes(b"x")
    save(trained, tmp_path / "model")
    assert (tmp_path / "model" / "manifest.json").is_file()


def test_saving_never_replaces_what_is_not_a_bundle(trained: LeadModel, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(BundleError, match=r"results: exists and is not a hotleads model; saving replaces the whole folder, so choose a new --out\.$"):
        save(trained, folder)
    with pytest.raises(BundleError, match=r"data\.csv: is a file, not a model folder; saving would replace it, so choose a new --out\.$"):
        save(trained, tmp_path / "data.csv")
    assert (folder / "notes.txt").read_text() == "mine"
    assert (tmp_path / "data.csv").read_text() == "a,b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "results"]


def test_saving_into_an_empty_folder(trained: LeadModel, tmp_path: Path, holdout: pd.DataFrame) -> None:
    (tmp_path / "model").mkdir()
    assert_same_scores(load(save(trained, tmp_path / "model")), trained, holdout)


def test_a_failed_save_keeps_the_old_bundle(trained: LeadModel, copy_bundle, monkeypatch) -> None:
    target = copy_bundle()
    before = (target / "manifest.json").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bundle, "_manifest", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save(trained, target)
    assert (target / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["model"]
    read_manifest(target)


def test_an_edited_model_file_fails_its_checksum(copy_bundle) -> None:
    target = copy_bundle()
    name = next(name for name in read_manifest(target)["files"] if name.startswith("models/"))
    with (target / name).open("a") as handle:
        handle.write("\n")
    with pytest.raises(BundleError, match=rf"model file {name} does not match its checksum \(corrupt or edited\)"):
        load(target)


def test_a_missing_model_file_is_named(copy_bundle) -> None:
    target = copy_bundle()
    (target / "evidence.safetensors").unlink()
    with pytest.raises(BundleError, match="model file evidence.safetensors is missing"):
        load(target)


def test_another_format_version_is_refused(copy_bundle) -> None:
    target = copy_bundle()
    edit_manifest(target, format_version=FORMAT_VERSION + 1)
    with pytest.raises(
        BundleError, match=rf"model format {FORMAT_VERSION + 1} is not supported by hotleads {__version__} \(reads format {FORMAT_VERSION}\); retrain"
    ):
        load(target)


def test_another_major_version_is_refused(copy_bundle) -> None:
    target = copy_bundle()
    edit_manifest(target, hotleads_version="99.0.0")
    with pytest.raises(BundleError, match=rf"saved by hotleads 99\.0\.0, incompatible with {__version__}"):
        load(target)


def test_a_foreign_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\x00")
    with pytest.raises(BundleError, match=r"not a hotleads model \(no manifest\.json\); pass the --out folder of `hotleads train`"):
        load(tmp_path)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"no such model directory; train one with `hotleads train DATA --out"):
        load(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", r"manifest\.json: corrupt JSON"),
        ('{"format": "something-else", "format_version": 1}', r"not a hotleads model manifest"),
        ("[1, 2, 3]", r"not a hotleads model manifest"),
    ],
)
def test_a_foreign_or_broken_manifest_is_refused(copy_bundle, content: str, match: str) -> None:
    target = copy_bundle()
    (target / "manifest.json").write_text(content)
    with pytest.raises(BundleError, match=match):
        load(target)


def test_a_predictor_missing_entries_is_refused(copy_bundle) -> None:
    target = copy_bundle()
    edit_json(target, "predictor.json", lambda data: data.pop("schema"))
    with pytest.raises(BundleError, match=r"the bundle does not describe a loadable model \(TypeError: .*'schema'\); retrain"):
        load_predictor(target)


def test_a_bundle_saved_before_validation_splits_loads_as_out_of_fold(copy_bundle) -> None:
    """Model directories from before ``train --validation`` have no validation fields."""
    target = copy_bundle()
    assert "validation" not in json.loads((target / "predictor.json").read_text())["threshold"]  # an out-of-fold threshold is saved as before
    edit_json(target, "evidence.json", lambda data: [data.pop(key) for key in ("validation", "validation_rows")])
    loaded = load(target)
    assert (loaded.evidence.validation, loaded.evidence.validation_rows, loaded.predictor.threshold.validation) == (None, None, None)
    assert loaded.evidence.held_out_title == "out-of-fold, 3 folds, 900 rows"


def test_an_edited_predictor_fails_its_checksum(copy_bundle) -> None:
    target = copy_bundle()
    path = target / "predictor.json"
    path.write_text(path.read_text().replace('"oof-f1"', '"user"'))
    with pytest.raises(BundleError, match=r"model file predictor\.json does not match its checksum"):
        load_predictor(target)
