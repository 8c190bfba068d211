"""colorize.models.widen: a trained model's weights in a wider model of the same layers, its output kept."""

import numpy as np
import pytest
from conftest import random_batch

from colorize import losses, models
from colorize.models.widen import WidenError, widen_into


def _trained(tmp_path, **options):
    x, ab = random_batch()
    model = models.build_model("unet_classification", image_size=32, depth=2, **options)
    model.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(), run_eagerly=True)
    model.fit(x, ab, epochs=1, verbose=0)  # trained: batch-norm statistics that are not the initial ones
    return model, x, ab


def test_a_wider_unet_classification_starts_with_the_trained_output_and_its_copies_grow_apart(tmp_path):
    from colorize.train.compile import load_initial_weights

    narrow, x, ab = _trained(tmp_path, base_filters=4, global_context=True)
    narrow.save(tmp_path / "narrow.keras")
    for width in (8, 6):  # twice as wide, and a factor that leaves some channels with one copy
        wide = models.build_model("unet_classification", image_size=32, depth=2, base_filters=width, global_context=True)
        load_initial_weights(wide, str(tmp_path / "narrow.keras"), seed=1)
        assert wide.get_layer("encoder1_conv1").kernel.shape == (3, 3, 1, width)
        np.testing.assert_allclose(np.asarray(wide(x, training=False)), np.asarray(narrow(x, training=False)),
                                   atol=2e-6)  # fmt: skip
    # copies of one trained channel read the same input but pass it on in different shares ...
    kernel = np.asarray(wide.get_layer("encoder1_conv2").kernel)  # (3, 3, 6 in, 6 out); channel 4 copies 0
    np.testing.assert_array_equal(np.asarray(wide.get_layer("encoder1_conv1").kernel)[..., 4],
                                  np.asarray(wide.get_layer("encoder1_conv1").kernel)[..., 0])  # fmt: skip
    np.testing.assert_allclose(kernel[:, :, 0] + kernel[:, :, 4], np.asarray(narrow.get_layer("encoder1_conv2").kernel)[:, :, 0][..., [0, 1, 2, 3, 0, 1]],
                               rtol=1e-5, atol=1e-7)  # fmt: skip
    assert not np.allclose(kernel[:, :, 0], kernel[:, :, 4])
    # ... so after a step of training the copies differ
    wide.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(), run_eagerly=True)
    wide.fit(x, ab, epochs=1, verbose=0)
    grown = np.asarray(wide.get_layer("encoder1_conv1").kernel)
    assert not np.allclose(grown[..., 4], grown[..., 0])


def test_narrower_or_other_layers_are_refused_with_the_layer_named(tmp_path):
    from colorize.errors import ColorizeError
    from colorize.train.compile import load_initial_weights

    wide, _, _ = _trained(tmp_path, base_filters=8)
    wide.save(tmp_path / "wide.keras")
    narrow = models.build_model("unet_classification", image_size=32, depth=2, base_filters=4)
    with pytest.raises(ColorizeError, match="encoder1_conv1.*narrower"):
        load_initial_weights(narrow, str(tmp_path / "wide.keras"))
    plain_unet = models.build_model("unet", image_size=32, depth=2, base_filters=4)
    with pytest.raises(WidenError, match="bins_logits|ab_output"):
        widen_into(plain_unet, models.build_model("unet_classification", image_size=32, depth=2, base_filters=8))
