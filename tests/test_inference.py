"""colorize.infer: full-resolution colour, lightness kept, files and folders, model loading."""

import hashlib

import numpy as np
import pytest
import skimage.color
from PIL import Image

from colorize import infer, saving
from colorize.color import gamut, np_ops
from colorize.infer import lightness, render, runtime
from colorize.io.encode import encode_image
from colorize.saving import loading as saving_loading


def _save_tiny_model(path, image_size=None, strength=0.6, fully_convolutional=True):
    """A tiny colorizer l_input -> ab_output, saved as .keras (strong colours: gamut tests)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((image_size, image_size, 1), name="l_input")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    if not fully_convolutional:  # a Dense bottleneck: only works at image_size
        x = layers.Flatten()(layers.AveragePooling2D(4)(x))
        x = layers.Dense((image_size // 4) ** 2 * 2)(x)
        x = layers.Reshape((image_size // 4, image_size // 4, 2))(x)
        x = layers.UpSampling2D(4)(x)
    x = layers.Conv2D(2, 3, padding="same", activation="tanh")(x)
    outputs = layers.Rescaling(strength, dtype="float32", name="ab_output")(x)
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.fixture(scope="module")
def tiny_model_path(tmp_path_factory):
    return _save_tiny_model(tmp_path_factory.mktemp("model") / "tiny.keras", image_size=32)


@pytest.fixture(scope="module")
def tiny_model(tiny_model_path):
    return saving.load_model(tiny_model_path)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lightness_of(rgb01):
    return skimage.color.rgb2lab(np.asarray(rgb01, np.float64))[..., 0]


def test_3000x2000_gray_jpeg_keeps_size_and_lightness(tmp_path, tiny_model):
    rng = np.random.default_rng(0)
    gray = np.kron((rng.random((20, 30)) * 235 + 10).astype(np.uint8), np.ones((100, 100), np.uint8))
    gray = np.clip(gray.astype(int) + np.arange(3000)[None, :] % 7, 0, 255).astype(np.uint8)  # fine detail
    source = tmp_path / "big.jpg"
    Image.fromarray(gray).save(source, quality=90)
    before = _digest(source)
    colour = infer.colorize_image(source, model=tiny_model, render_size=64)
    assert colour.shape == (2000, 3000, 3) and colour.dtype == np.uint8
    assert np.abs(colour.astype(int) - colour.mean(axis=-1, keepdims=True)).mean() > 2  # not gray
    decoded = np.asarray(Image.open(source), np.float64)[::4, ::4] / 255.0
    input_l = _lightness_of(np.repeat(decoded[..., None], 3, axis=-1))
    output_l = _lightness_of(colour[::4, ::4] / 255.0)
    # Out-of-gamut colours are desaturated at constant L, so the only difference is the
    # output's 8-bit rounding: half a step moves L by at most ~0.25 (steepest near
    # sRGB 0.2, dL/dv ~ 123 per unit), well within 0.5.
    assert np.abs(output_l - input_l).max() < 0.5
    assert _digest(source) == before


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB")
def test_out_of_gamut_colours_keep_lightness_and_in_gamut_ones_match_skimage():
    lightness = np.repeat(np.linspace(0, 100, 21, dtype=np.float32)[:, None], 25, axis=1)
    a, b = np.meshgrid(np.linspace(-120, 120, 5), np.linspace(-120, 120, 5))
    ab = np.broadcast_to(np.stack([a.ravel(), b.ravel()], -1)[None], (21, 25, 2)).astype(np.float32)
    rgb = gamut.lab_to_rgb(lightness, ab)
    assert rgb.min() >= 0 and rgb.max() <= 1 and np.isfinite(rgb).all()
    np.testing.assert_allclose(_lightness_of(rgb), lightness, atol=2e-3)
    lab = np.stack([lightness, ab[..., 0], ab[..., 1]], -1).astype(np.float64)
    reference = skimage.color.lab2rgb(lab)
    in_gamut = np.all(np.abs(skimage.color.rgb2lab(reference) - lab) < 0.01, axis=-1)
    assert in_gamut.sum() > 30
    np.testing.assert_allclose(rgb[in_gamut], reference[in_gamut], atol=1e-3)
    np.testing.assert_allclose(np_ops.lightness(rgb), _lightness_of(rgb), atol=2e-3)
    eight_bit = np.arange(256 * 3, dtype=np.uint8).reshape(16, 16, 3)[::-1] / np.float32(255)
    np.testing.assert_array_equal(np_ops.lightness(eight_bit, levels=255), np_ops.lightness(eight_bit))


def test_colour_input_is_turned_gray_first(tiny_model):
    from conftest import make_portrait_like

    colour = make_portrait_like(64)
    gray = np_ops.gray_srgb(np_ops.lightness(colour / 255.0))
    from_colour = infer.colorize_image(colour.astype(np.float32) / 255.0, model=tiny_model)
    from_gray = infer.colorize_image(gray, model=tiny_model)
    np.testing.assert_allclose(from_colour, from_gray, atol=2e-3)


def test_arrays_rgba_keeps_alpha_16bit_and_float(tiny_model):
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., :3] = np.linspace(30, 220, 50, dtype=np.uint8)[None, :, None]
    rgba[..., 3] = np.arange(50, dtype=np.uint8)[None, :] * 5
    out = infer.colorize_image(rgba, model=tiny_model)
    assert out.shape == (40, 50, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    deep = np.full((33, 47), 30000, np.uint16)
    out16 = infer.colorize_image(deep, model=tiny_model)
    assert out16.dtype == np.uint16 and out16.shape == (33, 47, 3)
    np.testing.assert_allclose(_lightness_of(out16 / 65535.0), _lightness_of(np.full((1, 1, 3), 30000 / 65535.0))[0, 0], atol=0.01)
    floats = infer.colorize_image(np.full((16, 16, 3), 0.5, np.float32), model=tiny_model)
    assert floats.dtype == np.float32 and floats.shape == (16, 16, 3) and floats.max() <= 1.0
    with pytest.raises(ValueError, match="shape"):
        infer.colorize_image(np.zeros((4, 4, 2), np.uint8), model=tiny_model)


def test_fixed_size_model_works_at_its_size(tmp_path):
    path = _save_tiny_model(tmp_path / "dense.keras", image_size=32, fully_convolutional=False)
    runner = runtime.Runner.create(saving.load_model(path))
    assert runner.fixed_size == 32 and runner.working_shape(300, 200, render_size=512) == (32, 32)
    out = infer.colorize_image(np.full((70, 45), 128, np.uint8), model=runner)
    assert out.shape == (70, 45, 3)
    Image.fromarray(np.full((70, 45), 128, np.uint8)).save(tmp_path / "x.png")
    result = infer.colorize_files([tmp_path / "x.png"], model=path, precision="bfloat16")
    assert result.ok and Image.open(tmp_path / "x_colorized.png").size == (45, 70)


def test_working_shape_keeps_aspect_ratio(tiny_model):
    runner = runtime.Runner.create(tiny_model)
    assert runner.fixed_size is None and runner.trained_size == 32
    assert runner.working_shape(2000, 3000) == (128, 192)
    assert runner.working_shape(2000, 3000, render_size=64) == (32, 64)


def test_files_16bit_palette_exif_and_collisions(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    deep = (np.linspace(1000, 60000, 30 * 40).reshape(30, 40)).astype(np.uint16)
    Image.fromarray(deep).save(folder / "deep.png")
    Image.fromarray(np.full((30, 20, 3), 90, np.uint8)).convert("P").save(folder / "pal.png")
    rotated = Image.fromarray(np.full((20, 40), 140, np.uint8))
    exif = rotated.getexif()
    exif[0x0112] = 6  # rotate 90 degrees: displayed 20 wide, 40 tall
    rotated.save(folder / "rot.jpg", exif=exif)
    Image.fromarray(np.full((16, 16), 60, np.uint8)).save(folder / "same.jpg")
    Image.fromarray(np.full((16, 16), 200, np.uint8)).save(folder / "same.png")
    digests = {p: _digest(p) for p in folder.iterdir()}
    result = infer.colorize_files([folder], model=tiny_model, compare=True)
    assert result.ok and len(result.written) == 5
    import cv2

    deep_out = cv2.imread(str(folder / "deep_colorized.png"), cv2.IMREAD_UNCHANGED)
    assert deep_out.dtype == np.uint16 and deep_out.shape == (30, 40, 3)
    assert Image.open(folder / "pal_colorized.png").size == (20, 30)
    assert Image.open(folder / "rot_colorized.png").size == (20, 40)
    assert (folder / "same_jpg_colorized.png").exists() and (folder / "same_png_colorized.png").exists()
    assert Image.open(folder / "rot_compare.png").size[1] == 40
    assert all(_digest(p) == d for p, d in digests.items())
    # A second run neither colorizes its own outputs nor replaces them.
    again = infer.colorize_files([folder], model=tiny_model, compare=True)
    assert again.ok and not again.written and len(again.skipped) == 5


def test_output_never_replaces_an_input(tmp_path, tiny_model):
    source = tmp_path / "x.png"
    Image.fromarray(np.full((16, 16), 80, np.uint8)).save(source)
    before = _digest(source)
    result = infer.colorize_files([source], source, model=tiny_model, overwrite=True)
    assert not result.written and "replace the input" in result.failed[0][1]
    assert _digest(source) == before


def test_model_loading_errors_name_the_file(tmp_path, tiny_model_path, monkeypatch):
    with pytest.raises(saving.ModelLoadError, match="missing.keras not found"):
        saving.load_model(tmp_path / "missing.keras")
    (tmp_path / "corrupt.keras").write_bytes(b"not a zip file")
    with pytest.raises(saving.ModelLoadError, match="not a valid .keras file: .*corrupt.keras"):
        saving.load_model(tmp_path / "corrupt.keras")
    with pytest.raises(saving.ModelLoadError, match="without best.keras"):
        saving.load_model(tmp_path)
    monkeypatch.setattr(saving_loading, "default_model_path", lambda: tmp_path / "assets" / "default.keras")
    with pytest.raises(saving.ModelLoadError, match="default model .*default.keras is missing"):
        saving.load_model("default")
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.keras").write_bytes(tiny_model_path.read_bytes())
    assert saving.resolve_model_path(run) == run / "last.keras"
    assert saving.load_model(run).output_shape[-1] == 2


def test_a_model_named_by_path_is_loaded_once(tiny_model_path):
    runtime._cached_runner.cache_clear()
    first = infer.colorize_image(np.full((8, 8), 100, np.uint8), model=tiny_model_path)
    second = infer.colorize_image(np.full((8, 8), 100, np.uint8), model=str(tiny_model_path))
    np.testing.assert_array_equal(first, second)
    assert runtime._cached_runner.cache_info().hits == 1


# ------------------------------------------------------------ issue 13: the fast path


def _photo_gray(size=96):
    import cv2
    from skimage import data

    return cv2.resize(data.camera(), (size + 32, size), interpolation=cv2.INTER_AREA)


def test_fast_colour_step_stays_within_one_level_of_the_float32_reference(tiny_model):
    runner = runtime.Runner.create(tiny_model)
    for values in (_photo_gray(), (np.arange(64 * 80 * 3) % 251).astype(np.uint8).reshape(64, 80, 3)):
        decoded, dtype = lightness.from_array(values)
        image = lightness.prepare(decoded, dtype)
        small = lightness.small_l(image, runner.working_shape(*image.shape))
        ab = render.predict_grouped(runner, [small])[0] * 2.5  # strong colours: many out of gamut
        fast = render.compose(image, ab).astype(int)
        reference = render.compose(image, ab, reference=True).astype(int)
        assert np.abs(fast - reference).mean() < 1.0  # within 1/255 on average
        assert np.abs(fast - reference).max() <= 2
        # Lightness kept by both (out-of-gamut pixels included).
        np.testing.assert_allclose(
            _lightness_of(fast / 255.0), _lightness_of(reference / 255.0), atol=0.6
        )


def test_model_input_is_the_area_average_of_l(tiny_model):
    import cv2

    image = lightness.prepare(*lightness.from_array(_photo_gray(300)))
    small = lightness.small_l(image, (96, 128))
    direct = cv2.resize(image.lightness, (128, 96), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(small, direct, atol=1e-3)


@pytest.mark.parametrize("side", [40, 700])  # enlarged and shrunk; the window spans several strips
def test_a_window_of_l_is_that_part_of_the_photo_resized(monkeypatch, side):
    import cv2

    monkeypatch.setattr(lightness.np_ops, "STRIP_ROWS", 64)
    image = lightness.prepare(*lightness.from_array(_photo_gray(900)))
    window = lightness.small_l(image, (64, 64), window=(30, 50, side, side))
    part = image.lightness[30 : 30 + side, 50 : 50 + side]
    direct = cv2.resize(part, (64, 64), interpolation=cv2.INTER_AREA if side > 64 else cv2.INTER_LINEAR)
    np.testing.assert_allclose(window, direct, atol=0.05)


@pytest.mark.parametrize("deflate", ["isal", "zlib"])
@pytest.mark.parametrize("dtype,channels", [(np.uint8, 3), (np.uint8, 4), (np.uint16, 3)])
def test_png_strips_decode_to_the_same_pixels(tmp_path, monkeypatch, dtype, channels, deflate):
    import sys

    import cv2

    if deflate == "zlib":
        monkeypatch.setitem(sys.modules, "isal", None)  # import fails: the zlib fallback
    peak = np.iinfo(dtype).max
    array = (np.random.default_rng(0).random((37, 53, channels)) * peak).astype(dtype)
    path = tmp_path / "x.png"
    path.write_bytes(encode_image(array, path))
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(back[..., [2, 1, 0, 3][:channels]], array)


def test_precision_follows_the_cpu_flags(tmp_path, monkeypatch):
    flags = tmp_path / "cpuinfo"
    flags.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert not runtime.cpu_has_fast_bfloat16(str(flags))
    flags.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\n")
    assert runtime.cpu_has_fast_bfloat16(str(flags))
    flags.write_text("flags\t\t: fpu amx_bf16 amx_tile\n")
    assert runtime.cpu_has_fast_bfloat16(str(flags))
    assert not runtime.cpu_has_fast_bfloat16(str(tmp_path / "missing"))
    monkeypatch.setattr(runtime, "cpu_has_fast_bfloat16", lambda: False)
    assert runtime.resolve_precision("auto") == "float32"
    monkeypatch.setattr(runtime, "cpu_has_fast_bfloat16", lambda: True)
    assert runtime.resolve_precision("auto") == "bfloat16"
    assert runtime.resolve_precision("float32") == "float32"
    with pytest.raises(ValueError, match="precision='half'"):
        runtime.resolve_precision("half")


def test_bfloat16_output_stays_within_one_level_of_float32(tiny_model):
    from skimage import data

    full = runtime.Runner.create(tiny_model, precision="float32")
    half = runtime.Runner.create(tiny_model, precision="bfloat16")
    assert half.precision == "bfloat16" and half.fixed_size is None
    for photo in (data.astronaut(), _photo_gray(128)):
        a = infer.colorize_image(photo, model=full).astype(int)
        b = infer.colorize_image(photo, model=half).astype(int)
        assert a.shape == b.shape and np.abs(a - b).mean() < 1.0


def test_importing_the_library_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, colorize, colorize.inference, colorize.cli.predict; print('tensorflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_mixed_shapes_share_one_traced_graph(tiny_model):
    runner = runtime.Runner.create(tiny_model)
    for shape in ((32, 64), (64, 32), (96, 64), (32, 32)):
        assert runner.predict(np.zeros((2, *shape, 1), np.float32)).shape == (2, *shape, 2)
    if hasattr(runner._call, "experimental_get_tracing_count"):
        assert runner._call.experimental_get_tracing_count() == 1


def test_comparing_models_is_not_reported_as_retracing(tiny_model):
    # One graph per model, each traced once: evaluating several models side by side must
    # not print TensorFlow's "triggered tf.function retracing" warning.
    import logging

    import tensorflow as tf

    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    tf.get_logger().addHandler(handler)
    try:
        for _ in range(7):
            runtime.Runner.create(tiny_model).predict(np.zeros((1, 32, 32, 1), np.float32))
    finally:
        tf.get_logger().removeHandler(handler)
    assert [message for message in seen if "retracing" in message] == []


def test_a_folder_of_mixed_shapes_is_batched_by_shape_and_reported_in_input_order(tmp_path, tiny_model):
    # Alternating portrait / landscape photos, two to a batch: ordered by shape, every model
    # call gets two photos of one working shape (four calls, not eight of one photo).
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(8):
        size = (48, 80) if index % 2 else (80, 48)
        Image.fromarray(np.random.default_rng(index).integers(0, 255, size, np.uint8)).save(folder / f"p{index}.png")
    runner = runtime.Runner.create(tiny_model)
    calls, predict = [], runner.network
    runner.network = lambda batch: calls.append(batch.shape[:3]) or predict(batch)
    result = infer.colorize_files([folder], tmp_path / "out", model=runner, batch_size=2)
    assert [source.name for source, _ in result.written] == [f"p{index}.png" for index in range(8)]
    shapes = {runner.working_shape(80, 48), runner.working_shape(48, 80)}
    photo_calls = [shape for shape in calls if shape[1:] in shapes]  # not the start-up probe
    assert photo_calls == [(2, *shape) for shape in sorted(shapes, key=lambda hw: hw[0] / hw[1])
                           for _ in range(2)], calls  # fmt: skip


def test_a_runner_calling_photo_by_photo_hands_each_photo_to_a_writer_at_once(tmp_path, tiny_model, monkeypatch):
    # ONNX Runtime runs one photo per call (shares_calls False): the first photo's writer
    # starts while the network runs on the second, not after the whole batch. The second
    # call waits (at most 10 s) for the first write to begin.
    import threading

    from colorize.infer import batch

    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(3):
        Image.fromarray(np.random.default_rng(index).integers(0, 255, (48, 64), np.uint8)).save(folder / f"p{index}.png")
    runner = runtime.Runner.create(tiny_model)
    runner.shares_calls = False
    writing, seen, predict = threading.Event(), [], runner.network
    shape = runner.working_shape(48, 64)

    def network(l_batch):
        if l_batch.shape[1:3] == shape:  # not the start-up probe
            seen.append((len(l_batch), writing.wait(10) if seen else None))
        return predict(l_batch)

    write = batch.colour_and_write
    monkeypatch.setattr(batch, "colour_and_write", lambda *args: writing.set() or write(*args))
    runner.network = network
    result = infer.colorize_files([folder], tmp_path / "out", model=runner, batch_size=8)
    assert len(result.written) == 3 and not result.failed
    assert seen == [(1, None), (1, True), (1, True)]


def test_decoding_left_to_the_writer_gives_the_same_colours():
    # The folder pipeline runs the network in the main thread and each photo's decoding (the
    # bundled bins model's pooling and annealed mean) in a writer thread: the colours are those
    # of one predict call.
    runner = runtime.load_runner("default", "float32", 0.25)
    assert runner.decoding is not None
    smalls = [np.random.default_rng(index).uniform(0, 100, shape).astype(np.float32)
              for index, shape in enumerate([(64, 96), (96, 64), (64, 96)])]  # fmt: skip
    pending = render.predict_grouped(runner, smalls, finish=False)
    for later, now in zip(pending, render.predict_grouped(runner, smalls)):
        np.testing.assert_array_equal(later(), now)
