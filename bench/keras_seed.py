"""The seed's own recipe in TensorFlow/Keras, timed on this machine: the reference for ``seed-config``.

    .venv-keras/bin/python bench/keras_seed.py lstm|cnn TRAIN_CSV

Prints one JSON line: ``model``, ``seconds`` (``model.fit`` only, as in the reference figures of
``../shared/MEASURED.md``) and ``peak_mb``. The recipe: the first 18,000 rows; numeric columns
standardised and categoricals one-hot (``seed_recipe.features``), read as a length-20 sequence of scalars; LSTM(64) or
Conv1D(64) -> Dense(32) -> 2-unit softmax; categorical cross-entropy with balanced class
weights; Adam; 20 epochs; batch 32. It runs in its own virtual environment (``make bench``
makes it from ``bench/keras-requirements.txt``) so TensorFlow never enters the package's.
Timing it in the same run as hotleads' own seed configuration makes their ratio immune to
the machine's speed on the day.
"""

import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from seed_recipe import table  # noqa: E402  (this script's folder is on sys.path)
from sklearn.utils.class_weight import compute_class_weight  # noqa: E402


def build(kind: str, length: int) -> keras.Model:
    layers = [keras.Input((length, 1))]
    if kind == "lstm":
        layers += [keras.layers.LSTM(64)]
    else:
        layers += [keras.layers.Conv1D(64, 3, activation="relu"), keras.layers.Flatten()]
    layers += [keras.layers.Dense(32, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    X, y = table(path)
    X = X[..., None]  # (n, 20, 1): a sequence of 20 scalars
    weights = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    keras.utils.set_random_seed(0)
    model = build(kind, X.shape[1])
    started = time.perf_counter()
    model.fit(X, keras.utils.to_categorical(y, 2), epochs=20, batch_size=32, class_weight={0: weights[0], 1: weights[1]}, verbose=0)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model": kind, "seconds": seconds, "peak_mb": peak_mb, "features": int(X.shape[1])}))


if __name__ == "__main__":
    main()
