"""The models on the other Keras backends (JAX, PyTorch), each in its own Python process.

The backend is fixed when Keras is first imported, so each backend runs
``tests/backend_check.py`` in a subprocess: build, fit two steps, predict, save and load.
Each of these starts a fresh JAX or PyTorch process (most of a minute apiece), so all of them run
with ``--run-slow`` (`make test-slow`): the default family trained on JAX from the CLI and
predicted here, the planned default and the GAN on JAX with their saved files loaded here to the
same predictions, every registered model on JAX and PyTorch, and the CLI on PyTorch. The fast
suite checks that a backend that is not installed is refused in one line.
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
FAST_MODELS = ["unet_classification", "gan"]  # unet: by test_train_on_jax_from_the_cli_then_predict_here


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


@pytest.mark.slow  # a minute in a JAX subprocess
def test_models_train_save_and_load_on_jax_and_load_here(tmp_path):
    import keras

    from colorize import models, saving

    report = _run_check("jax", tmp_path, FAST_MODELS)
    _assert_all_worked(report, FAST_MODELS)
    for name in FAST_MODELS:  # a .keras written under JAX predicts the same under this backend
        model = models.as_inference_model(saving.load_saved_model(tmp_path / f"{name}.keras"))
        with np.load(tmp_path / f"{name}.npz") as saved:
            here = keras.ops.convert_to_numpy(model(saved["x"], training=False))
            np.testing.assert_allclose(here, saved["predicted"], atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_every_registered_model_on_backend(backend, tmp_path):
    from colorize import models

    report = _run_check(backend, tmp_path)
    _assert_all_worked(report, sorted(models.MODELS))


def _finished_imports(stderr: str) -> list[str]:
    """Module names in the order their imports finished (``python -X importtime``)."""
    return [line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")]


def _train_from_the_cli_then_predict_here(backend, image_folder, tmp_path):
    import keras
    from click.testing import CliRunner
    from PIL import Image

    import colorize.models  # noqa: F401 - registers the custom objects for keras.saving.load_model
    from colorize.cli import main
    from colorize.data import prepare

    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (pip install -e .[{backend}])")
    data = tmp_path / "prepared"
    prepare.prepare([image_folder], data, image_size=32, split=(0.5, 0.5, 0), workers=1, progress=False)
    run = tmp_path / "run"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    environment.pop("KERAS_BACKEND", None)
    command = [sys.executable, "-X", "importtime", "-m", "colorize", "train", str(data), "--backend", backend,
               "--model", "unet", "--option", "base_filters=4", "--option", "depth=2", "--image-size", "32",
               "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "2", "-o", str(run)]  # fmt: skip
    process = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=1800)
    messages = "\n".join(line for line in process.stderr.splitlines() if not line.startswith("import time:"))
    assert process.returncode == 0, messages[-3000:]
    finished = _finished_imports(process.stderr)
    assert backend in finished
    if "tensorflow" in finished:  # where Keras (or the data path) wants it: only after the backend
        assert finished.index(backend) < finished.index("tensorflow"), messages[-3000:]
    assert {"best.keras", "last.keras", "history.csv", "config.json", "backup"} <= {p.name for p in run.iterdir()}
    assert (run / "samples" / "epoch_001.png").is_file()
    # Keras' own loader reads the file here, on this process's backend (compile=False: the
    # optimizer of a PyTorch-trained file is PyTorch's own class; see docs/backends.md).
    loaded = keras.saving.load_model(run / "best.keras", compile=False)
    assert loaded.get_layer("ab_output") is not None
    photo = sorted(image_folder.glob("*.png"))[0]
    result = CliRunner().invoke(main, ["predict", str(photo), "--model", str(run), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "out" / f"{photo.stem}_colorized.png") as colorized, Image.open(photo) as original:
        assert colorized.size == original.size


@pytest.mark.slow  # a minute: JAX's import and compilation in a fresh process
def test_train_on_jax_from_the_cli_then_predict_here(image_folder, tmp_path):
    _train_from_the_cli_then_predict_here("jax", image_folder, tmp_path)


@pytest.mark.slow
def test_train_on_torch_from_the_cli_then_predict_here(image_folder, tmp_path):
    # Needs `pip install -e .[torch]` (the package index's torch wheel is a CUDA build of
    # several GB; the CPU wheel: pip install torch --index-url https://download.pytorch.org/whl/cpu).
    _train_from_the_cli_then_predict_here("torch", image_folder, tmp_path)


def test_backend_option_refuses_a_backend_that_is_not_installed(monkeypatch):
    from click.testing import CliRunner

    from colorize.cli import _common, main

    monkeypatch.setattr(_common.importlib.util, "find_spec", lambda name: None)
    result = CliRunner().invoke(main, ["train", "--backend", "torch", "x"])
    assert result.exit_code == 2 and "torch is not installed" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
