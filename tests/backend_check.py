"""Every registered model on the current Keras backend: build, fit two steps, predict, save, load.

Run in a subprocess per backend by ``tests/test_backends.py`` (the backend is fixed when
Keras is imported)::

    KERAS_BACKEND=jax PYTHONPATH=. python tests/backend_check.py OUT_DIR [MODEL ...]

For each model it writes ``OUT_DIR/<name>.keras`` and ``OUT_DIR/<name>.npz`` (the probe
input and the inference model's output on it), and prints one JSON line of results.
"""

import json
import os
import sys

import numpy as np

# Tiny options for every registered model (a model missing here fails the check).
TINY = {
    "unet": {"base_filters": 4, "depth": 2},
    "uvgg": {"base_filters": 4, "extractor_input_size": 32},
    "fusion": {"extractor": "none", "width": 0.125},
    "classification": {"width": 0.0625},
    "unet_classification": {"base_filters": 4, "depth": 2},
    "regression": {"width": 0.0625},
    "vgg16_autoencoder": {"width": 0.125, "extractor_input_size": 32},
    "naive_cnn": {"width": 0.125, "dense_units": 8},
    "resnet50": {"decoder_width": 0.125},
    "gan": {"generator": "unet", "base_filters": 2, "depth": 2, "discriminator_width": 0.0625, "alternate_every": 1},
}
SIZE = 32


def check(name: str, out_dir: str) -> dict:
    import keras

    from colorize import losses, metrics, models

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, SIZE, SIZE, 1)).astype("float32")
    ab = rng.uniform(-0.3, 0.3, (4, SIZE, SIZE, 2)).astype("float32")
    model = models.build_model(name, image_size=SIZE, **TINY[name])
    if name == "gan":
        model.compile(alternate=True)
    elif models.MODELS[name].bins:
        model.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(l1_weight=10.0))
    else:
        model.compile(optimizer="adam", loss=losses.L1(), metrics=[metrics.AbMAE(), metrics.ThresholdAccuracy()])
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    history = model.fit(x, ab, batch_size=2, epochs=1, verbose=0)
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    changed = any(not np.array_equal(a, b) for a, b in zip(before, after))
    losses_seen = [float(v) for values in history.history.values() for v in values]
    inference = models.as_inference_model(model)
    predicted = np.asarray(inference.predict(x, verbose=0))
    path = os.path.join(out_dir, f"{name}.keras")
    model.save(path)
    loaded = models.as_inference_model(keras.saving.load_model(path))
    reloaded = keras.ops.convert_to_numpy(loaded(x, training=False))
    np.savez(os.path.join(out_dir, f"{name}.npz"), x=x, predicted=predicted)
    return {
        "name": name,
        "fit_changed_weights": bool(changed),
        "finite": bool(np.all(np.isfinite(losses_seen)) and np.all(np.isfinite(predicted))),
        "shape": list(predicted.shape),
        "reload_max_diff": float(np.abs(reloaded - predicted).max()),
    }


def main(out_dir: str, names: list[str]) -> None:
    import keras

    from colorize import models

    missing = sorted(set(models.MODELS) - set(TINY))
    if missing:
        raise SystemExit(f"tests/backend_check.py: no tiny options for {missing}")
    results = [check(name, out_dir) for name in (names or sorted(models.MODELS))]
    print(json.dumps({"backend": keras.backend.backend(), "tensorflow_imported": "tensorflow" in sys.modules,
                      "results": results}))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
