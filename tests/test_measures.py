"""colorize.measures: blotchiness and the class-rebalanced AuC."""

import numpy as np
import pytest

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


def test_blotchiness_sees_a_patch_with_soft_borders_as_a_network_paints_it():
    import cv2

    lightness = np.full((128, 128), 60.0)
    patch = np.zeros((128, 128, 2), np.float32)
    patch[32:96, 32:96, 0] = 40.0
    patch = cv2.GaussianBlur(patch, (0, 0), 6.0)  # its a*b* climb ~5 units per 4 px, never 10
    assert measures.blotchiness(lightness, patch) > 1.0


def test_blotchiness_is_measured_at_one_size_whatever_the_photo_size():
    photo = np.zeros((512, 512, 2))
    photo[128:384, 128:384] = (30.0, -30.0)
    larger = np.kron(photo, np.ones((4, 4, 1)))  # the same photo at 2048 px
    first = measures.blotchiness(np.full((512, 512), 50.0), photo)
    assert first > 0.5 and abs(first - measures.blotchiness(np.full((2048, 2048), 50.0), larger)) < 0.1


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


def test_colour_difference_is_the_mean_ab_distance_at_one_size_whatever_the_sizes():
    rows, cols = np.mgrid[0:96, 0:128]
    first = np.stack([rows / 96 * 40 - 20, cols / 128 * 30], axis=-1)  # a smooth photo-like field
    assert measures.colour_difference(first, first) == 0.0
    shifted = first + np.array([3.0, 4.0])  # 5 units apart everywhere
    assert measures.colour_difference(first, shifted) == pytest.approx(5.0, abs=1e-3)
    rows, cols = np.mgrid[0:384, 0:512]  # the same colours at 4x the size
    big = np.stack([rows / 384 * 40 - 20, cols / 512 * 30], axis=-1) + np.array([3.0, 4.0])
    assert measures.colour_difference(first, big) == pytest.approx(5.0, abs=0.2)
