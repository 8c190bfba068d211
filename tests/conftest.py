"""Shared fixtures: seeding, tiny images, and the --run-slow switch."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Seed every test and clear Keras' global state after it (only if Keras is in use)."""
    import sys

    np.random.seed(0)
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(0)
    yield
    if "keras" in sys.modules:
        import keras

        keras.backend.clear_session()


def make_portrait_like(size=64, seed=0):
    """A deterministic colourful test image (uint8 RGB): gradients, a disc, a square."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    image = np.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.8 - 0.6 * x * y], axis=-1)
    cy, cx = rng.uniform(0.35, 0.65, size=2)
    disc = (y - cy) ** 2 + (x - cx) ** 2 < 0.06
    image[disc] = (0.85, 0.6, 0.45)  # a skin-like tone
    image[: size // 5, : size // 5] = (0.1, 0.2, 0.7)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


@pytest.fixture
def image_folder(tmp_path):
    """A folder of six small colourful PNG/JPEG images."""
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(6):
        array = make_portrait_like(64, seed=index)
        suffix = ".png" if index % 2 else ".jpg"
        Image.fromarray(array).save(folder / f"face_{index}{suffix}")
    return folder


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny fully convolutional colorizer l_input -> ab_output, saved as .keras."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 1), name="l_input")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(2, 3, padding="same", activation="tanh")(x)
    outputs = layers.Rescaling(0.3, dtype="float32", name="ab_output")(x)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    keras.Model(inputs, outputs).save(path)
    return path
