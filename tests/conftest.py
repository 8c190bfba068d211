"""Shared fixtures: seeding, tiny images, and the --run-slow switch."""

import collections
import os
import pickle
import struct
import sys
import types
from pathlib import Path

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

        # Keras' global state only: its default full gc.collect() took ~0.3 s after every test
        # (about a minute of the suite); Python's own collector still runs.
        keras.backend.clear_session(free_memory=False)


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



@pytest.fixture(scope="module")
def unet_path(tmp_path_factory):
    """A tiny U-Net, saved as .keras (fixed 32 px input: served at any size like predict does)."""
    import keras

    from colorize import models

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    models.build_model("unet", image_size=32, base_filters=4).save(path)
    return path

# Helpers shared by the test modules (import them: `from conftest import one_line_error`).

REPO = Path(__file__).resolve().parents[1]


def noise_folder(folder, count, size=32, start=0):
    """``count`` distinct, colourful noise images (each passes prepare's colour filters)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for index in range(start, start + count):
        pixels = np.random.default_rng(index).integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"n{index:04d}.png")
    return folder


def prepared_set(tmp_path, count=5, size=32, name="ds"):
    """A tiny prepared set of ``count`` noise images under ``tmp_path / name``."""
    from colorize.data.prepare import prepare

    source = noise_folder(tmp_path / f"src_{name}", count, size=size)
    prepare([source], tmp_path / name, image_size=size, split=(0.6, 0.2, 0.2), workers=1, progress=False)
    return tmp_path / name


def one_line_error(result, code=1):
    """Exit ``code``, no traceback, one message line naming what is wrong."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    return result.output


def tiny_train_args(data, run_dir, *extra):
    """`colorize train` arguments for a one-step run of a 4-filter, 1-level U-Net at 32 px."""
    return ["train", str(data), "-o", str(run_dir), "--image-size", "32", "--batch-size", "2", "--epochs", "1",
            "--steps-per-epoch", "1", "--validation-steps", "1", "--option", "base_filters=4", "--option", "depth=1",
            "--option", "batch_norm=false", *extra]  # fmt: skip


def save_load_same(model, x, tmp_path):
    """A model's ``.keras`` round trip predicts what the model does."""
    import keras

    path = tmp_path / "m.keras"
    model.save(path)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path)(x)), np.asarray(model(x)), atol=1e-6)


def random_batch(size=32):
    """A fixed batch of two (scaled L, scaled a*b*) images of ``size`` pixels."""
    rng = np.random.default_rng(0)
    return (rng.uniform(-1, 1, (2, size, size, 1)).astype("float32"),
            rng.uniform(-0.3, 0.3, (2, size, size, 2)).astype("float32"))  # fmt: skip



def asgi_client(app):
    """Starlette's test client of an ASGI ``app`` (use it as a context manager to run its lifespan)."""
    import warnings

    with warnings.catch_warnings():  # newer Starlette prefers httpx2 over httpx; both work
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient(app)


def encoded_image(array, image_format="PNG") -> bytes:
    """``array`` as the bytes of a PNG (or ``image_format``) file."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=image_format)
    return buffer.getvalue()


def post_photo(client, data, name="photo.png", **fields):
    """POST ``data`` to the photo API as the file field ``image`` (``fields``: render_size, strength ...)."""
    return client.post("/api/colorize", files={"image": (name, data, "application/octet-stream")}, data=fields)
def save_tiny_model(path, size=32, zero_output=False):
    """A tiny l_input -> ab model; ``zero_output``: it predicts ab = 0 (the gray baseline's colours)."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 1), name="l_input")
    hidden = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    initializer = "zeros" if zero_output else "glorot_uniform"
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", kernel_initializer=initializer,
                            name="ab_output")(hidden)  # fmt: skip
    keras.Model(inputs, outputs).save(path)
    return path


def save_constant_model(path, a, b):
    """A model painting every pixel a*b* = (a, b), whatever the input: measures known by hand."""
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 1), name="l_input")
    outputs = layers.Conv2D(2, 1, kernel_initializer="zeros", name="ab_output")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("ab_output").set_weights([np.zeros((1, 1, 1, 2)), np.array([a, b]) / 128.0])
    model.save(path)
    return path


@pytest.fixture
def gray_photos(tmp_path):
    """Three small black-and-white photos (mid grays: every constant colour is in gamut) and a broken file."""
    from PIL import Image

    folder = tmp_path / "bw"
    folder.mkdir()
    y, x = np.mgrid[0:48, 0:64]
    for index in range(3):
        gray = 90 + (x + index * y) % 80
        Image.fromarray(gray.astype(np.uint8), mode="L").save(folder / f"old_{index}.png")
    (folder / "torn.jpg").write_bytes(b"not an image")
    return folder


@pytest.fixture(scope="module")
def client(unet_path):
    """A test client of the page's app serving the tiny U-Net (uploads up to 1.5 MB), lifespan running."""
    from colorize import serve

    with asgi_client(serve.create_app(unet_path, max_upload_mb=1.5)) as test_client:
        yield test_client


def write_legacy_checkpoint(file, arrays: dict) -> None:
    """Write ``arrays`` as torch.save's legacy format would (fake ``torch`` classes stand in for pickling)."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:  # pickled by name as torch.FloatStorage
        pass

    def _rebuild_tensor_v2(*args):  # pickled by name as torch._utils._rebuild_tensor_v2
        raise AssertionError("never called here")

    FloatStorage.__module__, _rebuild_tensor_v2.__module__ = "torch", "torch._utils"
    FloatStorage.__qualname__, _rebuild_tensor_v2.__qualname__ = "FloatStorage", "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2, torch._utils = FloatStorage, _rebuild_tensor_v2, utils

    class Tensor:
        def __init__(self, key, array):
            self.key, self.array = key, array

        def __reduce__(self):
            strides = tuple(s // self.array.itemsize for s in self.array.strides)
            return _rebuild_tensor_v2, (("storage", self.key), 0, self.array.shape, strides, False, collections.OrderedDict())

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "storage":
                return ("storage", FloatStorage, obj[1], "cpu", int(arrays[obj[1]].size))
            return None

    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(header, file, protocol=2)
        state = collections.OrderedDict((name, Tensor(name, np.ascontiguousarray(a, "float32"))) for name, a in arrays.items())
        Pickler(file, protocol=2).dump(state)
        pickle.dump(list(arrays), file, protocol=2)
        for name in arrays:
            data = np.ascontiguousarray(arrays[name], "float32")
            file.write(struct.pack("<q", data.size) + data.tobytes())
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
