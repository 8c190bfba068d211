import hashlib

import numpy as np
import pytest
import skimage.color
from click.testing import CliRunner
from PIL import Image

from colorize import inference
from colorize.cli import main


@pytest.fixture(scope="module")
def tiny_model_path(tmp_path_factory):
    """A small fully convolutional colorizer with fixed 32x32 input, saved as .keras."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 1), name="l_input")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(2, 3, padding="same", activation="tanh")(x)
    outputs = layers.Rescaling(0.2, dtype="float32", name="ab_output")(x)  # modest colours
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.fixture(scope="module")
def tiny_model(tiny_model_path):
    return inference.load_model(tiny_model_path)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_full_resolution_output_keeps_size_and_lightness(tmp_path, tiny_model):
    rng = np.random.default_rng(0)
    gray = (rng.random((20, 30)) * 200 + 30).astype(np.uint8)
    gray = np.kron(gray, np.ones((100, 100), np.uint8))  # 2000 x 3000, blocky detail
    source = tmp_path / "big.jpg"
    Image.fromarray(gray).save(source, quality=95)
    before = _digest(source)
    colour = inference.colorize_image(source, model=tiny_model, render_size=64)
    assert colour.shape == (2000, 3000, 3) and colour.dtype == np.uint8
    assert colour.std(axis=-1).mean() > 0.5  # it is not gray
    decoded = np.asarray(Image.open(source), np.float64) / 255.0
    input_l = skimage.color.rgb2lab(np.repeat(decoded[::10, ::10, None], 3, axis=-1))[..., 0]
    output_l = skimage.color.rgb2lab(colour[::10, ::10] / 255.0)[..., 0]
    # 8-bit rounding of the output moves L by at most about 0.4; gamut clipping of strong
    # colours can move it a little more on a few pixels.
    assert np.abs(output_l - input_l).mean() < 0.5
    assert np.percentile(np.abs(output_l - input_l), 99) < 2.0
    assert _digest(source) == before


def test_array_inputs_rgba_and_16bit(tiny_model):
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., :3] = 120
    rgba[..., 3] = np.arange(50, dtype=np.uint8)[None, :]
    out = inference.colorize_image(rgba, model=tiny_model)
    assert out.shape == (40, 50, 4)
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    deep = np.full((33, 47), 30000, np.uint16)
    out16 = inference.colorize_image(deep, model=tiny_model)
    assert out16.dtype == np.uint16 and out16.shape == (33, 47, 3)
    floats = inference.colorize_image(np.full((16, 16, 3), 0.5, np.float32), model=tiny_model)
    assert floats.dtype == np.float32 and floats.max() <= 1.0


def test_folder_with_a_corrupt_file(tmp_path, tiny_model_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(np.full((40, 60), 100, np.uint8)).save(folder / "a.jpg")
    Image.fromarray(np.full((50, 30, 3), 90, np.uint8)).convert("P").save(folder / "sub" / "b.png")
    exif_image = Image.fromarray(np.full((20, 40), 140, np.uint8))
    exif = exif_image.getexif()
    exif[0x0112] = 6
    exif_image.save(folder / "c.jpg", exif=exif)
    (folder / "broken.jpg").write_bytes(b"not really a jpeg")
    digests = {p: _digest(p) for p in folder.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["predict", str(folder), "-o", str(out), "--model", str(tiny_model_path), "--compare"])
    assert result.exit_code == 1
    assert "broken.jpg" in result.output
    assert (out / "a_colorized.png").exists() and (out / "sub" / "b_colorized.png").exists()
    assert (out / "a_compare.png").exists()
    assert Image.open(out / "c_colorized.png").size == (20, 40)  # EXIF rotation applied
    assert Image.open(out / "a_colorized.png").size == (60, 40)
    assert {p: _digest(p) for p in folder.rglob("*") if p.is_file()} == digests


def test_outputs_beside_inputs_are_kept_unless_overwrite(tmp_path, tiny_model_path):
    source = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 32), 80, np.uint8)).save(source)
    args = ["colorize", str(source), "--model", str(tiny_model_path)]
    assert CliRunner().invoke(main, args).exit_code == 0
    target = tmp_path / "photo_colorized.png"
    target.write_bytes(b"mine")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "Kept 1 existing" in result.output
    assert target.read_bytes() == b"mine"
    assert CliRunner().invoke(main, args + ["--overwrite"]).exit_code == 0
    assert Image.open(target).size == (32, 32)


def test_output_never_replaces_an_input(tmp_path, tiny_model_path):
    source = tmp_path / "x.png"
    Image.fromarray(np.full((32, 32), 80, np.uint8)).save(source)
    before = _digest(source)
    result = CliRunner().invoke(main, ["predict", str(source), "-o", str(source), "--model", str(tiny_model_path)])
    assert result.exit_code == 1 and "would overwrite an input" in result.output
    assert _digest(source) == before


@pytest.mark.parametrize("content", [None, b"garbage, not a zip"])
def test_missing_or_corrupt_model_is_one_line(tmp_path, content):
    model_path = tmp_path / "m.keras"
    if content is not None:
        model_path.write_bytes(content)
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    result = CliRunner().invoke(main, ["predict", str(image), "--model", str(model_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    assert "m.keras" in result.output
