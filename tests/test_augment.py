"""colorize.data.augment: the old-photo look on the input L."""

import numpy as np
import pytest
from conftest import make_portrait_like

from colorize.color import np_ops
from colorize.data import augment


def _l_batch(count=4, size=32):
    rgb = (
        np.stack(
            [make_portrait_like(size, seed=index) for index in range(count)]
        ).astype(np.float32)
        / 255.0
    )
    return np_ops.rgb_to_model_io(rgb)[0]


def test_degrade_keeps_shape_dtype_range_and_is_seeded():
    l_scaled = _l_batch()
    assert augment.degrade_l(l_scaled, 0, probability=0.0) is l_scaled
    degraded = augment.degrade_l(l_scaled, (0, 5), probability=1.0)
    assert degraded.shape == l_scaled.shape and degraded.dtype == np.float32
    assert -1.0 <= degraded.min() and degraded.max() <= 1.0
    changed = np.abs(degraded - l_scaled).reshape(len(l_scaled), -1).max(axis=1)
    assert np.all(changed > 0.01)  # every example chosen at probability 1
    np.testing.assert_array_equal(augment.degrade_l(l_scaled, (0, 5), 1.0), degraded)
    assert not np.array_equal(augment.degrade_l(l_scaled, (0, 6), 1.0), degraded)
    np.testing.assert_array_equal(l_scaled, _l_batch())  # the input is left alone


def test_degrade_probability_chooses_a_share_of_examples():
    l_scaled = _l_batch(count=16, size=8)
    changed = np.any(
        augment.degrade_l(l_scaled, 3, probability=0.5) != l_scaled, axis=(1, 2, 3)
    )
    assert 0 < changed.sum() < 16


@pytest.mark.parametrize("step", range(len(augment._CHANCES)))
def test_each_step_alone_stays_in_range(step, monkeypatch):
    monkeypatch.setattr(
        augment,
        "_CHANCES",
        tuple(float(i == step) for i in range(len(augment._CHANCES))),
    )
    l_scaled = _l_batch(count=2)
    degraded = augment.degrade_l(l_scaled, 1, probability=1.0)
    assert (
        -1.0 <= degraded.min()
        and degraded.max() <= 1.0
        and not np.array_equal(degraded, l_scaled)
    )
    if step in (2, 3):  # fading and levels lower the contrast
        assert np.ptp(degraded) < np.ptp(l_scaled)


def test_degrade_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"\(B, H, W, 1\)"):
        augment.degrade_l(np.zeros((8, 8, 1), np.float32), 0)
    with pytest.raises(ValueError, match="probability must be a number in"):
        augment.degrade_l(np.zeros((1, 8, 8, 1), np.float32), 0, probability=1.5)


def _solid(rgb, count=32, size=8):
    batch = np.broadcast_to(np.asarray(rgb, np.float32), (count, size, size, 3)).copy()
    return np_ops.rgb_to_model_io(batch)[0], batch


def test_film_keeps_neutral_gray_and_moves_colours_both_ways():
    gray_l, gray = _solid((0.45, 0.45, 0.45))
    np.testing.assert_allclose(augment.film_l(gray_l, gray, 0), gray_l, atol=1e-5)
    red_l, red = _solid((0.8, 0.1, 0.1))
    toned = augment.film_l(red_l, red, 0)
    shift = (toned - red_l)[:, 0, 0, 0] * 50  # L units, one film per example
    assert shift.min() < -10  # an orthochromatic film prints red dark
    assert shift.max() > 1  # a panchromatic one more red-sensitive than the eye
    blue_l, blue = _solid((0.2, 0.3, 0.9))
    assert ((augment.film_l(blue_l, blue, 0) - blue_l) * 50).max() > 10  # and a blue sky light
    assert -1.0 <= toned.min() and toned.max() <= 1.0 and toned.dtype == np.float32


def test_film_is_seeded_and_chooses_a_share():
    red_l, red = _solid((0.8, 0.2, 0.1), count=16)
    assert augment.film_l(red_l, red, 0, probability=0.0) is red_l
    np.testing.assert_array_equal(augment.film_l(red_l, red, (1, 2)), augment.film_l(red_l, red, (1, 2)))
    assert not np.array_equal(augment.film_l(red_l, red, (1, 2)), augment.film_l(red_l, red, (1, 3)))
    changed = np.any(augment.film_l(red_l, red, 3, probability=0.5) != red_l, axis=(1, 2, 3))
    assert 0 < changed.sum() < 16


def test_film_refuses_bad_arguments():
    l_scaled, rgb = _solid((0.5, 0.2, 0.1), count=2)
    with pytest.raises(ValueError, match=r"\(B, H, W, 1\) and \(B, H, W, 3\)"):
        augment.film_l(l_scaled, rgb[:1], 0)
    with pytest.raises(ValueError, match="probability must be a number in"):
        augment.film_l(l_scaled, rgb, 0, probability=-1)
