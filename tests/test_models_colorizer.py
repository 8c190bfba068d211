"""colorize.models.colorizer: the fusion colorizer (Iizuka et al. 2016), its fusion layer and embedding input."""

import keras
import numpy as np
import pytest

from colorize import models
from colorize.models import colorizer


def _l_batch(size=32, batch=2):
    return np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 1)).astype("float32")


def test_fusion_layer_tiles_the_vector():
    features = np.zeros((2, 3, 4, 5), "float32")
    vector = np.arange(14, dtype="float32").reshape(2, 7)
    fused = np.asarray(colorizer.FusionLayer()([features, vector]))
    assert fused.shape == (2, 3, 4, 12)
    np.testing.assert_array_equal(fused[1, 2, 3, 5:], vector[1])
    np.testing.assert_array_equal(fused[..., :5], 0)


def test_embedding_input_and_inference_model():
    trained = models.build_model("fusion", image_size=32, extractor="vggface", width=0.125, embedding_input=True)
    assert [tensor.name for tensor in trained.inputs] == ["l_input", "embedding"]
    full = models.as_inference_model(trained, extractor_input_size=32)
    assert full.name == "fusion_vggface" and full.output_shape == (None, 32, 32, 2)
    assert len(full.inputs) == 1
    np.testing.assert_array_equal(full.get_layer("decoder_ab").get_weights()[0], trained.get_layer("decoder_ab").get_weights()[0])
    # the same vector gives the same colours through both models
    l_batch = _l_batch()
    branch = keras.Model(full.inputs, full.get_layer("fusion").input[1])  # the full model's own extractor
    vector = np.asarray(branch(l_batch))
    assert vector.shape == (2, 2622)
    assert colorizer.build_extractor_model("vggface", 32, 32).output_shape == (None, 2622)
    np.testing.assert_allclose(
        np.asarray(full(l_batch)), np.asarray(trained({"l_input": l_batch, "embedding": vector})), atol=1e-5
    )


@pytest.mark.slow
@pytest.mark.parametrize("extractor, size", [("vggface", 224), ("vgg19", 224), ("inception_resnet_v2", 299)])
def test_full_size_fusion_models(extractor, size):
    model = models.build_model("fusion", image_size=256, extractor=extractor)
    assert model.get_layer(f"{extractor}_extractor").inputs[0].shape[1] == size
    assert model(np.zeros((1, 256, 256, 1), "float32")).shape == (1, 256, 256, 2)
