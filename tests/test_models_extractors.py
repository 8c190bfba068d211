"""colorize.models.extractors: frozen global extractors and their weight files."""

import h5py
import numpy as np
import pytest

from colorize import models
from colorize.errors import WeightsNotFoundError
from colorize.models import extractors


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
