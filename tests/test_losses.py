"""Losses: hand-computed cases, soft-encoding inside the rebalanced cross-entropy, serialization."""

import keras
import numpy as np
import pytest

from colorize import losses
from colorize.models import classification


def test_l1_and_mse_by_hand():
    y_true = np.zeros((1, 1, 2, 2), "float32")
    y_pred = np.array([[[[0.1, -0.3], [0.2, 0.0]]]], "float32")
    assert float(losses.L1()(y_true, y_pred)) == pytest.approx((0.1 + 0.3 + 0.2) / 4)
    assert float(losses.MSE()(y_true, y_pred)) == pytest.approx((0.01 + 0.09 + 0.04) / 4)
    for loss in (losses.L1(), losses.MSE()):
        assert keras.losses.deserialize(keras.losses.serialize(loss)).__class__ is loss.__class__


def test_rebalanced_crossentropy_soft_encodes_and_resizes_targets():
    quantizer = classification.AbQuantizer()
    centre = quantizer.centres[np.argmin(np.abs(quantizer.centres).sum(axis=1))]  # (0, 0)
    y_true = np.broadcast_to(centre / 128.0, (1, 4, 4, 2)).astype("float32")  # full resolution
    target = np.asarray(quantizer.soft_encode(centre[None]))[0]
    perfect = np.broadcast_to(target, (1, 2, 2, quantizer.num_bins)).astype("float32")  # half resolution
    uniform = np.full_like(perfect, 1.0 / quantizer.num_bins)
    loss = losses.RebalancedCrossEntropy()
    entropy = -np.sum(target * np.log(target + 1e-12))
    assert float(loss(y_true, perfect)) == pytest.approx(entropy, rel=1e-3)
    assert float(loss(y_true, uniform)) == pytest.approx(np.log(quantizer.num_bins), rel=1e-4)
    weights = np.full(quantizer.num_bins, 2.0, "float32")
    weighted = losses.RebalancedCrossEntropy(weights=weights)
    assert float(weighted(y_true, uniform)) == pytest.approx(2 * np.log(quantizer.num_bins), rel=1e-4)
    restored = losses.RebalancedCrossEntropy.from_config(weighted.get_config())
    assert float(restored(y_true, uniform)) == pytest.approx(float(weighted(y_true, uniform)))


def test_colour_weighted_loss_weighs_rare_colours_more():
    histogram = np.zeros((22, 22))
    histogram[11, 11] = 100.0  # the [0, 10) x [0, 10) cell is common
    histogram[2, 2] = 1.0
    prediction = np.full((1, 2, 2, 2), 0.1, "float32")
    for power in (1, 2):
        loss = losses.ColourWeightedLoss(histogram=histogram, edges=np.arange(-110, 111, 10), power=power)
        common = float(loss(np.zeros((1, 2, 2, 2), "float32"), prediction))
        rare = float(loss(np.full((1, 2, 2, 2), 0.2, "float32"), prediction))  # ab = 25.6: an empty cell
        assert rare > common * 1.5
        restored = losses.ColourWeightedLoss.from_config(loss.get_config())
        assert restored.power == power and float(restored(np.zeros((1, 2, 2, 2), "float32"), prediction)) == pytest.approx(common)
    uniform = losses.ColourWeightedLoss(power=2)  # no histogram: every colour weighs 1, plain MSE
    assert float(uniform(np.zeros((1, 2, 2, 2), "float32"), prediction)) == pytest.approx(0.01)


def test_rebalanced_crossentropy_l1_term_adds_the_decoded_error():
    quantizer = classification.AbQuantizer()
    q = quantizer.num_bins
    one_bin = np.zeros((1, 2, 2, q), "float32")
    index = int(np.argmin(np.abs(quantizer.centres - [20.0, -30.0]).sum(axis=1)))
    one_bin[..., index] = 1.0  # a certain prediction decodes to that bin's centre at any temperature
    y_true = np.zeros((1, 2, 2, 2), "float32")  # truth: neutral
    plain = losses.RebalancedCrossEntropy()
    with_l1 = losses.RebalancedCrossEntropy(l1_weight=2.0)
    decoded_error = np.mean(np.abs(quantizer.centres[index])) / 128.0  # mean |ab| / AB_SCALE
    assert float(with_l1(y_true, one_bin)) == pytest.approx(float(plain(y_true, one_bin)) + 2.0 * decoded_error, rel=1e-4)
    restored = losses.RebalancedCrossEntropy.from_config(with_l1.get_config())
    assert restored.l1_weight == 2.0 and restored.temperature == pytest.approx(0.38)
