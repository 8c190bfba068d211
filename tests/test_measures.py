"""colorize.measures: blotchiness and the class-rebalanced AuC."""

import numpy as np

from colorize import measures, metrics


def test_blotchiness_sees_patches_on_a_flat_wall_but_not_colour_that_follows_an_edge():
    lightness = np.full((128, 128), 60.0)
    patches = np.zeros((128, 128, 2))
    patches[:, 64:, 0] = 40.0  # red right half on a wall of one lightness
    assert measures.blotchiness(lightness, np.zeros((128, 128, 2))) == 0.0
    assert measures.blotchiness(lightness, patches) > 0.5
    edge = lightness.copy()
    edge[:, 64:] = 30.0  # the same colour change where the lightness changes too
    assert measures.blotchiness(edge, patches) == 0.0
    smooth = np.zeros((128, 128, 2))
    smooth[..., 0] = np.linspace(-20, 20, 128)[None, :]  # a gentle gradient is no blotch
    assert measures.blotchiness(lightness, smooth) == 0.0


def test_blotchiness_is_measured_at_one_size_whatever_the_photo_size():
    small = np.zeros((64, 64, 2))
    small[16:48, 16:48] = (30.0, -30.0)
    large = np.kron(small, np.ones((8, 8, 1)))
    flat = np.full((64, 64), 50.0)
    assert abs(measures.blotchiness(flat, small) - measures.blotchiness(np.full((512, 512), 50.0), large)) < 1.0


def test_rebalanced_auc_weights_pixels_by_the_rarity_of_their_true_colour():
    truth = np.zeros((10, 10, 2))
    truth[0, :] = (60.0, 60.0)  # a rare saturated colour on one row
    gray = np.zeros_like(truth)
    uniform = np.ones(261)
    assert abs(measures.rebalanced_auc(gray, truth, uniform) - metrics.auc(gray, truth)) < 1e-9
    edges = np.arange(-110, 111, 10)
    histogram = np.zeros((22, 22))
    histogram[11, 11] = 90.0  # the data are mostly gray
    histogram[17, 17] = 10.0
    weights = measures.class_weights(histogram, edges)
    assert measures.rebalanced_auc(gray, truth, weights) < metrics.auc(gray, truth) - 10
    assert measures.rebalanced_auc(truth, truth, weights) == 100.0
