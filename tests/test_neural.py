"""The scikit-learn neural classifiers: fit, predict, determinism, save/load, CUDA."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from hotleads.neural import (
    NEURAL_MODELS,
    CNNClassifier,
    LSTMClassifier,
    NeuralClassifier,
    TransformerClassifier,
)
from hotleads.train_loop import MAX_CUDA_BATCH, TrainConfig, train

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# Small and fast: a few epochs of a narrow network on 1 thread.
TINY = dict(
    d_token=8, head_hidden=8, epochs=10, batch_size=32, lr=1e-2,
    device="cpu", n_jobs=1, random_state=0,
)  # fmt: skip
TINY_ARCH = {
    "lstm": dict(hidden_size=8),
    "cnn": dict(n_channels=8),
    "transformer": dict(n_heads=2, n_layers=1),
}
MODEL_NAMES = list(NEURAL_MODELS)


def make(name, **params):
    return NEURAL_MODELS[name](**(TINY | TINY_ARCH[name] | params))


@pytest.fixture(scope="module")
def data():
    """400 rows: 3 numeric columns (one with NaN) and a categorical column 3 with codes 0..3."""
    rng = np.random.default_rng(0)
    n = 400
    X = np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.exponential(size=n), rng.integers(0, 4, n)]).astype(float)
    y = ((X[:, 0] + (X[:, 3] == 2) * 1.5 + 0.3 * rng.normal(size=n)) > 0.8).astype(int)
    X[rng.random(n) < 0.1, 1] = np.nan
    X[rng.random(n) < 0.05, 3] = np.nan
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    """One fitted model per kind, shared by the tests of this module."""
    X, y = data
    return {name: make(name, categorical_features=[3]).fit(X, y) for name in MODEL_NAMES}


# ----------------------------------------------------------------------------- fit / predict


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fit_predict_shapes_and_learning(fitted, data, name):
    X, y = data
    model = fitted[name]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {0, 1}
    assert list(model.classes_) == [0, 1]
    assert model.n_features_in_ == 4
    assert (model.predict(X) == y).mean() > 0.8
    assert 1 <= model.best_epoch_ <= len(model.history_) <= TINY["epochs"]


def test_registry_names_the_three_models():
    assert NEURAL_MODELS == {
        "lstm": LSTMClassifier,
        "cnn": CNNClassifier,
        "transformer": TransformerClassifier,
    }


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_same_seed_same_probabilities(data, name):
    X, y = data
    first = make(name, categorical_features=[3], epochs=2).fit(X, y).predict_proba(X)
    second = make(name, categorical_features=[3], epochs=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_other_seed_other_probabilities(data):
    X, y = data
    first = make("cnn", epochs=2, random_state=0).fit(X, y).predict_proba(X)
    second = make("cnn", epochs=2, random_state=1).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_categorical_loss_gives_two_logits(data, name):
    X, y = data
    model = make(name, categorical_features=[3], loss="categorical", epochs=4).fit(X, y)
    assert model.module_.head.layers[-1].out_features == 2
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(X) == y).mean() > 0.7


def test_string_labels_keep_their_names(data):
    X, y = data
    labels = np.where(y == 1, "hot", "cold")
    model = make("cnn", epochs=2).fit(X, labels)
    assert list(model.classes_) == ["cold", "hot"]
    assert set(model.predict(X)) <= {"cold", "hot"}


def test_predict_uses_half_as_threshold(fitted, data):
    X, _ = data
    model = fitted["cnn"]
    expected = (model.predict_proba(X)[:, 1] >= 0.5).astype(int)
    np.testing.assert_array_equal(model.predict(X), expected)


# ----------------------------------------------------------------------------- input contract


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_nan_anywhere_gives_finite_probabilities(fitted, data, name):
    X, _ = data
    X = X[:20].copy()
    X[::2, :] = np.nan
    proba = fitted[name].predict_proba(X)
    assert np.isfinite(proba).all()


@pytest.mark.parametrize("unseen", [4.0, 7.0, -1.0, 1.5, 1e9])
def test_unseen_category_code_counts_as_missing(fitted, data, unseen):
    X, _ = data
    model = fitted["transformer"]
    rows = X[:10].copy()
    rows[:, 3] = unseen
    missing = X[:10].copy()
    missing[:, 3] = np.nan
    np.testing.assert_array_equal(model.predict_proba(rows), model.predict_proba(missing))


def test_code_inside_range_but_never_seen_counts_as_missing(data):
    X, y = data
    X = X.copy()
    X[X[:, 3] == 1, 3] = 0.0  # code 1 never seen in fit; 0, 2 and 3 are
    model = make("cnn", categorical_features=[3], epochs=1).fit(X, y)
    assert model.seen_categories_[0].tolist() == [True, False, True, True]
    rows, missing = X[:5].copy(), X[:5].copy()
    rows[:, 3], missing[:, 3] = 1.0, np.nan
    np.testing.assert_array_equal(model.predict_proba(rows), model.predict_proba(missing))


def test_negative_indices_name_the_same_column(data):
    X, y = data
    model = make("cnn", categorical_features=[-1], epochs=1).fit(X, y)
    assert model.categorical_features_.tolist() == [3]
    assert model.numeric_features_.tolist() == [0, 1, 2]


def test_non_integer_codes_in_fit_are_refused_with_a_fix(data):
    X, y = data
    X = X.copy()
    X[0, 3] = 0.5
    with pytest.raises(ValueError, match=r"Column 3 .* integer category codes .*\[0.5\]"):
        make("cnn", categorical_features=[3]).fit(X, y)


def test_out_of_range_categorical_index_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match=r"'categorical_features' parameter .* \[0, 4\)"):
        make("cnn", categorical_features=[4]).fit(X, y)


def test_inf_is_refused(data):
    X, y = data
    X = X.copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        make("cnn").fit(X, y)


def test_only_numeric_and_only_categorical_inputs_work(data):
    X, y = data
    make("cnn", epochs=1).fit(X[:, :3], y).predict_proba(X[:, :3])
    make("cnn", epochs=1, categorical_features=[0]).fit(X[:, 3:], y).predict_proba(X[:, 3:])


def test_multiclass_target_is_refused(data):
    X, _ = data
    y = np.arange(len(X)) % 3
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        make("cnn").fit(X, y)


def test_single_class_is_refused(data):
    X, _ = data
    with pytest.raises(ValueError, match="needs samples of both classes"):
        make("cnn").fit(X, np.zeros(len(X)))


def test_every_bad_parameter_is_reported_at_once(data):
    X, y = data
    model = make("lstm", epochs=0, loss="hinge", device="tpu")
    with pytest.raises(ValueError) as error:
        model.fit(X, y)
    message = str(error.value)
    assert "The 'epochs' parameter of LSTMClassifier must be an int in the range [1, inf). Got 0 instead." in message
    assert "'loss' parameter" in message and "'device' parameter" in message


def test_transformer_heads_must_divide_token_width(data):
    X, y = data
    with pytest.raises(ValueError, match="must divide d_token=8.*try n_heads=8"):
        make("transformer", n_heads=3).fit(X, y)


# ----------------------------------------------------------------------------- training


def test_balanced_class_weights_raise_the_minority_probability():
    """On noise features the weighted loss is minimised at p = 1/2, the plain one at the
    base rate (10 %)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2))
    y = (rng.random(600) < 0.1).astype(int)
    params = dict(epochs=15, validation_fraction=0.0, dropout=0.0)
    balanced = make("cnn", **params).fit(X, y).predict_proba(X)[:, 1].mean()
    plain = make("cnn", class_weight=None, **params).fit(X, y).predict_proba(X)[:, 1].mean()
    assert 0.35 < balanced < 0.65
    assert plain < 0.2


def test_class_weight_dict_is_keyed_by_class(data):
    X, y = data
    labels = np.where(y == 1, "hot", "cold")
    model = make("cnn", epochs=2, class_weight={"hot": 3.0}).fit(X, labels)
    assert model._encoded_class_weight() == {0: 1.0, 1: 3.0}
    with pytest.raises(ValueError, match="not classes of y"):
        make("cnn", class_weight={"warm": 2.0}).fit(X, labels)


def test_early_stopping_keeps_the_best_epoch(data):
    X, y = data
    model = make("cnn", epochs=60, patience=2, lr_schedule="constant", lr=0.03).fit(X, y)
    epochs = [h["epoch"] for h in model.history_]
    assert len(epochs) < 60
    losses = [h["val_loss"] for h in model.history_]
    assert model.best_epoch_ == 1 + int(np.argmin(losses))
    assert len(epochs) == model.best_epoch_ + 2


@pytest.mark.parametrize("monitor", ["loss", "average_precision"])
def test_monitor_picks_the_best_epoch_by_its_metric(data, monitor):
    X, y = data
    model = make("cnn", epochs=5, patience=None, monitor=monitor).fit(X, y)
    key = "val_loss" if monitor == "loss" else "val_average_precision"
    values = np.array([h[key] for h in model.history_])
    best = np.argmin(values) if monitor == "loss" else np.argmax(values)
    assert model.best_epoch_ == best + 1
    assert len(model.history_) == 5


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "constant"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_schedules_and_optimizers_train(data, schedule, optimizer):
    X, y = data
    make("cnn", epochs=2, lr_schedule=schedule, optimizer=optimizer).fit(X, y)


def _torch_schedule(optimizer, config, total_steps):
    """torch's own scheduler for ``config.lr_schedule``, the reference for ours."""
    if config.lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps)
    if config.lr_schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    warmup = max(1, int(config.warmup_fraction * total_steps))

    def cosine(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / (total_steps - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[needs_cuda, pytest.mark.cuda])])
@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "constant"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_adam_steps_like_torch_optim(schedule, optimizer, device):
    """The functional Adam with its per-step schedule (one-cycle also cycles beta1)
    lands on the weights torch.optim's optimiser and scheduler give."""
    from hotleads.train_loop import Adam

    config = TrainConfig(lr=0.05, optimizer=optimizer, lr_schedule=schedule, weight_decay=0.01)
    torch.manual_seed(0)
    ours, reference = torch.nn.Linear(5, 1).to(device), torch.nn.Linear(5, 1).to(device)
    reference.load_state_dict(ours.state_dict())
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer]
    # two groups, the bias not decayed: the groups keep their own weight decay
    groups = [{"params": [reference.weight], "weight_decay": config.weight_decay}, {"params": [reference.bias], "weight_decay": 0.0}]
    torch_optimizer = kind(groups, lr=config.lr)
    torch_schedule = _torch_schedule(torch_optimizer, config, total_steps=37)
    our_optimizer = Adam([([ours.weight], config.weight_decay), ([ours.bias], 0.0)], config, total_steps=37)
    x, target = torch.randn(64, 5, device=device), torch.randn(64, 1, device=device)
    for _ in range(37):
        torch_optimizer.zero_grad()
        ((reference(x) - target) ** 2).mean().backward()
        torch_optimizer.step()
        torch_schedule.step()
        our_optimizer.zero_grad()
        ((ours(x) - target) ** 2).mean().backward()
        our_optimizer.step()
    for a, b in zip(ours.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("shapes", [[(300,)], [(4, 5), (7,), (2, 3, 2)]])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_clip_grad_norm_matches_torch(shapes, max_norm):
    """Clipped when the joint norm is above max_norm, untouched below, as torch's own."""
    from hotleads.train_loop import clip_grad_norm_

    generator = torch.Generator().manual_seed(0)
    grads = [torch.randn(shape, generator=generator) for shape in shapes]
    params = [torch.nn.Parameter(torch.zeros(shape)) for shape in shapes]
    for param, grad in zip(params, grads, strict=True):
        param.grad = grad.clone()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    clip_grad_norm_(grads, max_norm)
    for param, grad in zip(params, grads, strict=True):
        torch.testing.assert_close(grad, param.grad)
    joint = torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads]))
    assert joint <= max_norm * (1 + 1e-5)


def test_fit_does_not_load_the_compiler():
    """torch.optim's optimiser classes import torch._dynamo (1 s per process); a fit must not."""
    code = (
        "import sys, numpy as np\n"
        "from hotleads.neural import CNNClassifier\n"
        "X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)\n"
        "CNNClassifier(epochs=1, d_token=4, device='cpu').fit(X, y)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_fit_restores_threads_and_the_random_state(data):
    X, y = data
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    make("cnn", epochs=1, n_jobs=max(1, threads - 1) if threads > 1 else 2).fit(X, y)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), state)


def test_a_torch_session_flushes_denormal_floats_and_stops_on_leaving():
    """Denormals take the CPU's slow path: an LSTM fit's late epochs ran twice as slow without this."""
    from hotleads.train_loop import torch_session

    tiny = torch.tensor([1e-39])  # below float32's smallest normal, 1.2e-38
    with torch_session(seed=0, n_jobs=1, device=torch.device("cpu")):
        assert (tiny * 2).item() == 0.0
    assert (tiny * 2).item() == pytest.approx(2e-39, rel=1e-5)


@pytest.mark.parametrize(
    ("name", "batch_size", "n_jobs", "expected"),
    [
        ("lstm", 32, None, 1), ("lstm", 256, None, 1), ("lstm", 512, None, "all"),
        ("cnn", 64, None, 1), ("cnn", 128, None, "all"), ("transformer", 32, None, 1),
        ("cnn", 32, 2, 2), ("lstm", 32, -1, "all"),
    ],
)  # fmt: skip
def test_small_cpu_batches_train_on_one_thread_unless_n_jobs_says(data, monkeypatch, name, batch_size, n_jobs, expected):
    """n_jobs=None trains a small CPU batch on one thread (measured faster on 2 cores with OpenMP
    threads that sleep between regions); an explicit n_jobs, -1 included, is obeyed."""
    monkeypatch.setattr("hotleads.base.default_n_jobs", lambda: 2)  # as on the 2-core CI machine
    X, y = data
    seen = []
    make(name, epochs=1, batch_size=batch_size, n_jobs=n_jobs).fit(X, y, on_epoch=lambda record: seen.append(torch.get_num_threads()))
    assert seen == [2 if expected == "all" else expected]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_deterministic_algorithms_change_nothing_on_the_cpu(data, name):
    """Why the loop does not switch torch's deterministic mode on (its function imports torch's
    compiler, 1.2-1.8 s a process): on the CPU every op of these models already is deterministic,
    so a fit with it on is bit-identical to one without, on 2 threads, categorical codes included."""
    X, y = data
    params = dict(categorical_features=[3], epochs=2, n_jobs=2)
    plain = make(name, **params).fit(X, y).predict_proba(X)
    torch.use_deterministic_algorithms(True)
    try:
        deterministic = make(name, **params).fit(X, y).predict_proba(X)
    finally:
        torch.use_deterministic_algorithms(False)
    np.testing.assert_array_equal(plain, deterministic)


def test_trained_parameters_own_their_storage_and_have_no_gradients():
    """On CPU the loop trains one flat tensor that the parameters are views of;
    afterwards each parameter is a tensor of its own again, as before training."""
    x = torch.randn(64, 3)
    y = (x[:, 0] > 0).long().numpy()
    config = TrainConfig(epochs=2, batch_size=16, device="cpu", random_state=0, n_jobs=1)
    module = train(lambda: torch.nn.Linear(3, 2), (x,), y, config).module
    storages = {p.untyped_storage().data_ptr() for p in module.parameters()}
    assert len(storages) == 2
    assert all(p.grad is None and p.is_contiguous() for p in module.parameters())


def test_flat_training_matches_per_parameter_training(monkeypatch):
    """The flat tensor changes how parameters are stored, not what they learn."""
    from hotleads import train_loop

    x = torch.randn(64, 3)
    y = (x[:, 0] > 0).long().numpy()
    config = TrainConfig(epochs=2, batch_size=16, device="cpu", random_state=0, n_jobs=1)
    flat = train(lambda: torch.nn.Linear(3, 1), (x,), y, config).module
    monkeypatch.setattr(train_loop, "_flatten", list)
    separate = train(lambda: torch.nn.Linear(3, 1), (x,), y, config).module
    for a, b in zip(flat.parameters(), separate.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_weight_decay_reaches_every_parameter(fitted):
    from hotleads.train_loop import decay_groups

    module = fitted["transformer"].module_
    decayed, kept = decay_groups(module)
    assert [id(p) for p in decayed] == [id(p) for p in module.parameters()] and kept == []


def test_seed_configuration_is_reachable(data):
    X, y = data
    model = make("lstm", epochs=1, batch_size=32, loss="categorical", patience=None, validation_fraction=0.0).fit(X, y)
    assert len(model.history_) == 1 and "val_loss" not in model.history_[0]


def test_train_loop_chunks_batches_without_changing_gradients():
    """A batch is processed in chunks of at most MAX_CUDA_BATCH rows on CUDA; the loss
    is the batch mean either way. On CPU there is one chunk; check the loop runs with a
    batch larger than the data and that the loss is the weighted batch mean."""
    x = torch.randn(100, 3)
    y = (x[:, 0] > 0).long().numpy()
    config = TrainConfig(
        epochs=1, batch_size=1000, device="cpu", random_state=0, n_jobs=1, validation_fraction=0.0,
        lr=0.0, class_weight=None,
    )  # fmt: skip
    result = train(lambda: torch.nn.Linear(3, 1), (x,), y, config)
    with torch.no_grad():
        logits = result.module(x)[:, 0]
        expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.as_tensor(y, dtype=torch.float32))
    assert result.history[0]["train_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert MAX_CUDA_BATCH < 65_536


# ----------------------------------------------------------------------------- save / load


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_save_load_round_trip_is_identical(fitted, data, name, tmp_path):
    X, _ = data
    model = fitted[name]
    meta = json.loads(json.dumps(model.save(tmp_path, "fold0")))
    assert meta["class"] == type(model).__name__
    assert meta["files"] == ["fold0.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold0.safetensors"]
    loaded = NeuralClassifier.load(tmp_path, meta, device="cpu")
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params() | {"categorical_features": [3]}
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, model.classes_)


def test_save_load_keeps_string_classes_and_class_weight_dict(data, tmp_path):
    X, y = data
    labels = np.where(y == 1, "hot", "cold")
    model = make("cnn", epochs=1, class_weight={"cold": 1.0, "hot": 2.0}).fit(X, labels)
    meta = json.loads(json.dumps(model.save(tmp_path, "m")))
    loaded = CNNClassifier.load(tmp_path, meta, device="cpu")
    assert loaded.class_weight == {"cold": 1.0, "hot": 2.0}
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_load_refuses_another_class(fitted, tmp_path):
    meta = fitted["cnn"].save(tmp_path, "m")
    with pytest.raises(ValueError, match="'CNNClassifier', which LSTMClassifier.load cannot"):
        LSTMClassifier.load(tmp_path, meta, device="cpu")


def test_safetensors_file_holds_no_pickle(fitted, tmp_path):
    fitted["lstm"].save(tmp_path, "m")
    raw = (tmp_path / "m.safetensors").read_bytes()
    header_size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_size])
    assert "preprocess.quantiles" in header and "preprocess.seen.0" in header


# ----------------------------------------------------------------------------- CUDA


@needs_cuda
@pytest.mark.cuda
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_cuda_fit_predict_and_bundles_move_between_devices(data, name, tmp_path):
    X, y = data
    on_cuda = make(name, categorical_features=[3], device="cuda").fit(X, y)
    assert next(on_cuda.module_.parameters()).is_cuda
    assert all(p.grad is None for p in on_cuda.module_.parameters())
    assert (on_cuda.predict(X) == y).mean() > 0.8

    on_cpu = make(name, categorical_features=[3]).fit(X, y)
    meta = on_cpu.save(tmp_path, "cpu")
    moved = NeuralClassifier.load(tmp_path, meta, device="cuda")
    assert next(moved.module_.parameters()).is_cuda
    # Same weights, other kernels: cuDNN's LSTM and convolutions use TF32 by
    # default, so CPU and CUDA probabilities differ by ~1e-4 (H200, torch 2.11).
    np.testing.assert_allclose(moved.predict_proba(X), on_cpu.predict_proba(X), atol=1e-3)
    again = NeuralClassifier.load(tmp_path, meta, device="cuda")
    np.testing.assert_array_equal(again.predict_proba(X), moved.predict_proba(X))

    meta = on_cuda.save(tmp_path, "cuda")
    back = NeuralClassifier.load(tmp_path, meta, device="cpu")
    np.testing.assert_allclose(back.predict_proba(X), on_cuda.predict_proba(X), atol=1e-3)


@needs_cuda
@pytest.mark.cuda
def test_cuda_batches_above_65535_rows_are_chunked(data):
    X, y = data
    model = make("transformer", device="cuda", epochs=1, batch_size=70_000,
                 predict_batch_size=100_000).fit(np.tile(X, (200, 1)), np.tile(y, 200))  # fmt: skip
    assert model.predict_proba(np.tile(X, (200, 1))).shape == (80_000, 2)
