"""colorize.models.unet: the U-Net's skip connections and the U-Net trunk with the classification head."""

import keras
import numpy as np
import pytest

from colorize import losses, models
from colorize.models import classification
from conftest import random_batch, save_load_same


def test_skip_connections_are_found_by_name():
    model = models.build_model("unet", image_size=32, base_filters=2, depth=2)
    concat = model.get_layer("decoder1_concat")
    sources = {node.operation.name for tensor in concat.input for node in [tensor._keras_history]}
    assert "encoder1_relu2" in sources


def test_unet_classification_bins_at_half_resolution_and_size_free_inference(tmp_path):
    x, ab = random_batch()
    q = classification.AbQuantizer().num_bins
    model = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    assert model.output_shape == (None, 16, 16, q)
    assert model.get_layer("ab_bins").dtype_policy.compute_dtype == "float32"
    full = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, output_level=0)
    assert full.output_shape == (None, 32, 32, q)
    model.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(l1_weight=10.0))
    model.fit(x, ab, epochs=1, verbose=0)
    save_load_same(model, x, tmp_path)
    inference = models.as_inference_model(model)
    assert inference.output_shape == (None, 32, 32, 2)
    # Built without a size, the decoding still upsamples by the measured stride (2), not a guess.
    free = models.build_model("unet_classification", image_size=None, base_filters=4, depth=2)
    free_inference = models.as_inference_model(free)
    assert tuple(free_inference(np.zeros((1, 48, 64, 1), "float32")).shape) == (1, 48, 64, 2)
    # ... and traces once for any size (predict's shape-relaxed graph), unlike bilinear UpSampling2D.
    import tensorflow as tf

    graph = tf.function(lambda batch: free_inference(batch), input_signature=[tf.TensorSpec((None, None, None, 1))])
    for shape in ((1, 48, 64, 1), (2, 32, 96, 1)):
        probe = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
        np.testing.assert_allclose(np.asarray(graph(probe)), np.asarray(free_inference(probe)), atol=1e-5)
    path = tmp_path / "inference.keras"
    free_inference.save(path)
    assert keras.saving.load_model(path, compile=False).get_layer("ab_output").factor == 2
    with pytest.raises(ValueError, match="output_level"):
        models.build_model("unet_classification", image_size=32, depth=2, output_level=2)
