"""The models on the other Keras backends (JAX, PyTorch), each in its own Python process.

The backend is fixed when Keras is first imported, so each backend runs
``tests/backend_check.py`` in a subprocess: build, fit two steps, predict, save and load.
The fast suite checks the default family (unet), the planned default
(unet_classification with the rebalanced cross-entropy + L1) and the GAN on JAX, and
loads the JAX-saved files here, under this process's backend, to the same predictions;
``--run-slow`` checks every registered model on JAX and PyTorch.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FAST_MODELS = ["unet", "unet_classification", "gan"]


def _run_check(backend, out_dir, names=()):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (pip install -e .[{backend}])")
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    environment.setdefault("JAX_PLATFORMS", "cpu")
    process = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "backend_check.py"), str(out_dir), *names],
        capture_output=True, text=True, env=environment, cwd=ROOT, timeout=1800,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    report = json.loads(process.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    return report


def _assert_all_worked(report, names):
    assert [result["name"] for result in report["results"]] == names
    for result in report["results"]:
        assert result["fit_changed_weights"], result
        assert result["finite"], result
        assert result["shape"] == [4, 32, 32, 2], result
        assert result["reload_max_diff"] < 1e-4, result


def test_models_train_save_and_load_on_jax_and_load_here(tmp_path):
    import keras

    from colorize import models

    report = _run_check("jax", tmp_path, FAST_MODELS)
    _assert_all_worked(report, FAST_MODELS)
    for name in FAST_MODELS:  # a .keras written under JAX predicts the same under this backend
        model = models.as_inference_model(keras.saving.load_model(tmp_path / f"{name}.keras"))
        with np.load(tmp_path / f"{name}.npz") as saved:
            here = keras.ops.convert_to_numpy(model(saved["x"], training=False))
            np.testing.assert_allclose(here, saved["predicted"], atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_every_registered_model_on_backend(backend, tmp_path):
    from colorize import models

    report = _run_check(backend, tmp_path)
    _assert_all_worked(report, sorted(models.MODELS))
