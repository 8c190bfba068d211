import numpy as np
import pytest
import skimage.color

from colorize import color
from colorize.color import tf_ops


@pytest.fixture(scope="module")
def rgb_grid():
    levels = np.linspace(0.0, 1.0, 33, dtype=np.float32)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    return grid.reshape(33 * 33, 33, 3)  # an "image" of every colour on the grid


def test_rgb_to_lab_matches_skimage(rgb_grid):
    ours = tf_ops.rgb_to_lab(rgb_grid).numpy()
    reference = skimage.color.rgb2lab(rgb_grid.astype(np.float64))
    np.testing.assert_allclose(ours, reference, atol=0.01)


def test_lab_to_rgb_matches_skimage(rgb_grid):
    lab = skimage.color.rgb2lab(rgb_grid.astype(np.float64))
    ours = tf_ops.lab_to_rgb(lab.astype(np.float32)).numpy()
    np.testing.assert_allclose(ours, skimage.color.lab2rgb(lab), atol=0.01)


def test_round_trip_within_one_level(rgb_grid):
    back = tf_ops.lab_to_rgb(tf_ops.rgb_to_lab(rgb_grid)).numpy()
    assert np.abs(back - rgb_grid).max() < 1.0 / 255.0


def test_batched_and_single_agree(rgb_grid):
    single = tf_ops.rgb_to_lab(rgb_grid[:8]).numpy()
    batched = tf_ops.rgb_to_lab(np.stack([rgb_grid[:8], rgb_grid[:8]])).numpy()
    assert batched.shape == (2,) + single.shape
    np.testing.assert_allclose(batched[1], single, atol=1e-5)


def test_known_colours():
    lab = tf_ops.rgb_to_lab(np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0]], np.float32)).numpy()
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.01)


def test_out_of_gamut_is_clipped_never_nan():
    lab = np.array([[0, 300, -300], [100, -300, 300], [-20, 0, 0], [130, 90, 90], [50, 0, -500]], np.float32)
    rgb = tf_ops.lab_to_rgb(lab).numpy()
    assert np.isfinite(rgb).all()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_scaling_round_trip_and_ranges():
    lightness = np.array([0.0, 50.0, 100.0], np.float32)
    np.testing.assert_allclose(color.scale_l(lightness), [-1, 0, 1])
    np.testing.assert_allclose(color.unscale_l(color.scale_l(lightness)), lightness)
    ab = np.array([-128.0, 0.0, 127.0], np.float32)
    np.testing.assert_allclose(color.unscale_ab(color.scale_ab(ab)), ab)
    assert np.abs(color.scale_ab(ab)).max() <= 1.0


def test_model_io_round_trip(rgb_grid):
    l_scaled, ab_scaled = tf_ops.rgb_to_model_io(rgb_grid)
    assert l_scaled.shape[-1] == 1 and ab_scaled.shape[-1] == 2
    assert float(np.abs(l_scaled).max()) <= 1.0 + 1e-5
    rgb = tf_ops.model_io_to_rgb(l_scaled, ab_scaled).numpy()
    assert np.abs(rgb - rgb_grid).max() < 1.0 / 255.0


def test_gradients_are_finite():
    import tensorflow as tf

    lab = tf.Variable([[[0.0, 0.0, 0.0], [50.0, 120.0, -120.0], [100.0, 0.0, 0.0]]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf_ops.lab_to_rgb(lab)) + tf.reduce_sum(tf_ops.rgb_to_lab(tf.sigmoid(lab)))
    gradient = tape.gradient(loss, lab)
    assert np.isfinite(gradient.numpy()).all()


def test_rgb_to_lab_gradient_matches_finite_differences():
    import tensorflow as tf

    rgb = tf.constant([[0.2, 0.5, 0.9], [0.6, 0.3, 0.1], [0.03, 0.8, 0.45]], tf.float64)
    theoretical, numerical = tf.test.compute_gradient(lambda x: tf_ops.rgb_to_lab(tf.cast(x, tf.float32)), [rgb])
    np.testing.assert_allclose(theoretical[0], numerical[0], rtol=0.02, atol=0.5)


def test_numpy_and_keras_ops_agree_with_the_tensorflow_conversion(rgb_grid):
    import keras

    from colorize.color import keras_ops, np_ops

    reference = tf_ops.rgb_to_lab(rgb_grid).numpy()
    np.testing.assert_allclose(np_ops.rgb_to_lab(rgb_grid), reference, atol=2e-3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_ops.rgb_to_lab(rgb_grid)), reference, atol=2e-3)
    lab = np.array([[50, 200, -200], [60, 20, 30], [-5, 0, 0]], np.float32)
    expected = tf_ops.lab_to_rgb(lab).numpy()
    np.testing.assert_allclose(np_ops.lab_to_rgb(lab), expected, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_ops.lab_to_rgb(lab)), expected, atol=1e-5)
    l_scaled, ab_scaled = np_ops.rgb_to_model_io(rgb_grid)
    np.testing.assert_allclose(np_ops.model_io_to_rgb(l_scaled, ab_scaled), rgb_grid, atol=1.0 / 255.0)


def test_full_resolution_conversion_agrees_with_the_tensorflow_one(rgb_grid):
    from colorize.color import gamut, np_ops

    lab = tf_ops.rgb_to_lab(rgb_grid).numpy()
    np.testing.assert_allclose(np_ops.lightness(rgb_grid), lab[..., 0], atol=2e-3)
    expected = tf_ops.lab_to_rgb(lab).numpy()  # every grid colour is in the gamut: nothing clipped
    np.testing.assert_allclose(gamut.lab_to_rgb(lab[..., 0], lab[..., 1:]), expected, atol=1e-3)
    np.testing.assert_allclose(gamut.lab_to_rgb(lab[..., 0], lab[..., 1:], fast=True), expected, atol=1e-3)
    l_scaled, ab_scaled = tf_ops.rgb_to_model_io(rgb_grid)
    np.testing.assert_allclose(
        gamut.model_io_to_rgb(l_scaled, ab_scaled), tf_ops.model_io_to_rgb(l_scaled, ab_scaled).numpy(), atol=1e-3
    )


def test_gray_levels_are_the_nearest_8_bit_gray_in_lightness(rgb_grid):
    from colorize.color import np_ops

    eight_bit = np.rint(rgb_grid * 255).astype(np.uint8)
    lightness = np_ops.lightness(eight_bit / np.float32(255), levels=255)
    gray = np_ops.gray_levels(eight_bit)
    table = np_ops.lightness_table(255)
    error = np.abs(table[gray] - lightness)
    for neighbour in (np.maximum(gray.astype(int) - 1, 0), np.minimum(gray.astype(int) + 1, 255)):
        assert (error <= np.abs(table[neighbour] - lightness) + 1e-5).all()
    assert error.max() <= np.diff(table).max() / 2 + 1e-5  # at most half a step between 8-bit grays
    neutral = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=-1)
    np.testing.assert_array_equal(np_ops.gray_levels(neutral)[0], np.arange(256))  # a gray stays itself


def test_constants_import_without_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from colorize import color; from colorize.color import np_ops; "
            "np_ops.rgb_to_lab([[0.5, 0.2, 0.1]]); assert color.AB_SCALE == 128.0; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")  # fmt: skip
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_output_conversion_makes_gray_exactly_gray_on_both_paths():
    from colorize.color import gamut

    lightness = np.linspace(0, 100, 4001, dtype=np.float32).reshape(1, -1)
    for fast in (False, True):
        rgb = gamut.lab_to_rgb(lightness, np.zeros(lightness.shape + (2,), np.float32), fast=fast)
        assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all(), fast
    diverged = gamut.lab_to_rgb(np.full((1, 2), 50.0, np.float32), np.array([[[np.nan, 0.0], [0.0, 0.0]]], np.float32))
    np.testing.assert_array_equal(diverged[0, 0], diverged[0, 1])  # a NaN colour: the gray of L, never NaN
    batch = gamut.model_io_to_rgb(np.zeros((2, 4, 4, 1), np.float32), np.full((2, 4, 4, 2), 0.5, np.float32), fast=True)
    np.testing.assert_allclose(batch, gamut.model_io_to_rgb(np.zeros((2, 4, 4, 1)), np.full((2, 4, 4, 2), 0.5)), atol=1e-4)
