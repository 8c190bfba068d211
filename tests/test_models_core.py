"""Builders of the U-Net family and the fusion colorizer: U-Net, uVGG-net, the fusion colorizer and its extractors."""

import h5py
import keras
import numpy as np
import pytest

from colorize import models
from colorize.errors import WeightsNotFoundError
from colorize.models import colorizer, extractors


def _l_batch(size=32, batch=2):
    return np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 1)).astype("float32")


def _round_trip(model, inputs, tmp_path):
    outputs = np.asarray(model(inputs, training=False))
    clone = model.__class__.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(inputs, training=False)), outputs, atol=1e-6)
    return outputs


@pytest.mark.parametrize(
    "name, options",
    [
        ("unet", {"base_filters": 4}),
        ("uvgg", {"base_filters": 4, "extractor_input_size": 32}),
        ("fusion", {"extractor": "vggface", "width": 0.125, "extractor_input_size": 32}),
        ("fusion", {"extractor": "none", "width": 0.125}),
    ],
)
def test_builder_shape_range_and_round_trip(name, options, tmp_path):
    model = models.build_model(name, image_size=32, **options)
    assert model.output_shape == (None, 32, 32, 2)
    assert model.get_layer("ab_output").dtype_policy.compute_dtype == "float32"
    outputs = _round_trip(model, _l_batch(), tmp_path)
    assert outputs.shape == (2, 32, 32, 2) and np.abs(outputs).max() <= 1.0
    assert models.as_inference_model(model) is model


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match=r"Received: model='nope'") as error:
        models.build_model("nope")
    assert "unet" in str(error.value) and "fusion" in str(error.value)
    with pytest.raises(ValueError, match=r"Received: extractor='resnet'"):
        models.build_model("fusion", image_size=32, extractor="resnet")


def test_skip_connections_are_found_by_name():
    model = models.build_model("unet", image_size=32, base_filters=2, depth=2)
    concat = model.get_layer("decoder1_concat")
    sources = {node.operation.name for tensor in concat.input for node in [tensor._keras_history]}
    assert "encoder1_relu2" in sources


def test_fusion_layer_tiles_the_vector():
    features = np.zeros((2, 3, 4, 5), "float32")
    vector = np.arange(14, dtype="float32").reshape(2, 7)
    fused = np.asarray(colorizer.FusionLayer()([features, vector]))
    assert fused.shape == (2, 3, 4, 12)
    np.testing.assert_array_equal(fused[1, 2, 3, 5:], vector[1])
    np.testing.assert_array_equal(fused[..., :5], 0)


def test_extractor_is_frozen_and_sees_gray():
    model = models.build_model("fusion", image_size=32, extractor="vggface", width=0.125, extractor_input_size=32)
    network = model.get_layer("vggface_extractor")
    assert not network.trainable and network.output_shape == (None, 2622)
    trainable = {id(w) for w in model.trainable_weights}
    assert not any(id(w) in trainable for w in network.weights)
    white = extractors.ExtractorInput(8, "tf")(np.ones((1, 4, 4, 1), "float32"))  # L = 100 -> white
    np.testing.assert_allclose(np.asarray(white), 1.0, atol=1e-3)
    black = extractors.ExtractorInput(8, "vggface")(-np.ones((1, 4, 4, 1), "float32"))
    np.testing.assert_allclose(np.asarray(black)[0, 0, 0], [-93.5940, -104.7624, -129.1863], atol=1e-3)


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


def _write_legacy_h5(path, network):
    """A weights file in the Keras 2 `save_weights` layout keras-vggface shipped (layer names, by name)."""
    with h5py.File(path, "w") as handle:
        names = [layer.name for layer in network.layers if layer.weights]
        handle.attrs["layer_names"] = [name.encode() for name in names + ["fc8_extra"]]
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["keras_version"] = b"2.1.5"
        values = {}
        for name in names:
            group = handle.create_group(name)
            weight_names = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group.attrs["weight_names"] = weight_names
            kernel, bias = network.get_layer(name).get_weights()
            kernel = np.full_like(kernel, 0.01 * (len(values) + 1))
            group.create_dataset(weight_names[0].decode(), data=kernel)
            group.create_dataset(weight_names[1].decode(), data=np.zeros_like(bias))
            values[name] = kernel
        handle.create_group("fc8_extra").attrs["weight_names"] = []
    return values


def test_vggface_weights_load_by_name(tmp_path, monkeypatch):
    reference = extractors.build_vggface(input_size=32)
    expected = {"conv1_1", "conv5_3", "fc6", "fc7", "fc8"}
    assert expected <= {layer.name for layer in reference.layers}
    values = _write_legacy_h5(tmp_path / "rcmalli_vggface_tf_vgg16.h5", reference)
    model = models.build_model("fusion", image_size=32, extractor="vggface", width=0.125, extractor_input_size=32)
    extractors.load_extractor_weights(model, "vggface", tmp_path / "rcmalli_vggface_tf_vgg16.h5")
    network = model.get_layer("vggface_extractor")
    for name in ("conv1_1", "conv4_2", "fc8"):
        np.testing.assert_array_equal(network.get_layer(name).get_weights()[0], values[name])
    # the official name is looked up in the Keras cache, never downloaded
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "rcmalli_vggface_tf_vgg16.h5").rename(tmp_path / "models" / "rcmalli_vggface_tf_vgg16.h5")
    assert extractors.resolve_weights("vggface", "vggface") == tmp_path / "models" / "rcmalli_vggface_tf_vgg16.h5"


def test_missing_weights_say_which_file_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(WeightsNotFoundError, match=r"rcmalli_vggface_tf_vgg16\.h5.*" + str(tmp_path / "models")):
        extractors.resolve_weights("vggface", "vggface")
    with pytest.raises(WeightsNotFoundError, match="vgg19_weights_tf_dim_ordering_tf_kernels.h5"):
        extractors.resolve_weights("vgg19", "imagenet")
    with pytest.raises(WeightsNotFoundError, match="missing.h5"):
        extractors.resolve_weights("vgg19", tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="Expected None, a file path"):
        extractors.resolve_weights("vgg19", "vggface")


def test_builders_run_under_mixed_bfloat16():
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = models.build_model("fusion", image_size=32, extractor="none", width=0.125)
        assert model.get_layer("encoder1_conv").compute_dtype == "bfloat16"
        outputs = model(_l_batch())
        assert "float32" in str(outputs.dtype) and outputs.shape == (2, 32, 32, 2)
        classifier = models.build_model("classification", image_size=32, width=0.0625)
        assert "float32" in str(models.as_inference_model(classifier)(_l_batch()).dtype)
        assert "float32" in str(classifier(_l_batch()).dtype)
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.mark.slow
@pytest.mark.parametrize("extractor, size", [("vggface", 224), ("vgg19", 224), ("inception_resnet_v2", 299)])
def test_full_size_fusion_models(extractor, size):
    model = models.build_model("fusion", image_size=256, extractor=extractor)
    assert model.get_layer(f"{extractor}_extractor").inputs[0].shape[1] == size
    assert model(np.zeros((1, 256, 256, 1), "float32")).shape == (1, 256, 256, 2)
