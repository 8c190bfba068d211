"""Global feature extractors (of the fusion colorizer): a registry of frozen image classifiers.

Each entry knows its input size, its own preprocessing, its output vector and the
official weight file. The extractor sees the grayscale L of the colorizer's input,
turned into sRGB gray, repeated to three channels and resized *inside the model*, so
the colorizer's image size and the extractor's are independent.

Weights are loaded as a separate step (:func:`load_extractor_weights`), never by the
architecture, and never downloaded: ``"imagenet"`` / ``"vggface"`` are looked up in
the Keras cache (``~/.keras/models/<file>``) and a missing file raises
:class:`~colorize.errors.WeightsNotFoundError` saying which file and where to put it.

VGGFace (Parkhi et al.) is built here as the VGG16 topology with 2622 identities and
the layer names of the published ``rcmalli_vggface_tf_vgg16.h5`` files (``conv1_1`` ...
``conv5_3``, ``fc6``, ``fc7``, ``fc8``), so those files load by name.

Example:
    >>> from colorize.models import extractors
    >>> sorted(extractors.EXTRACTORS)
    ['inception_resnet_v2', 'none', 'vgg19', 'vggface']
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
        path = keras_cache_dir() / spec.weight_files[str(weights)]
        if not path.is_file():
            raise WeightsNotFoundError(
                f"{spec.name} weights {weights!r} not found: put the official file "
                f"{spec.weight_files[str(weights)]} in {keras_cache_dir()} (nothing is downloaded), "
                "or pass the path of a weights file"
            )
        _check_weights_file(path)
        return path
    path = Path(weights)
    if path.suffix in (".h5", ".hdf5", ".keras") or path.exists() or os.sep in str(weights):
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

    if path.suffix == ".keras":
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
        if path.suffix == ".keras":
            target.set_weights(keras.saving.load_model(path, compile=False).get_weights())
        else:
            target.load_weights(path, by_name=True, skip_mismatch="notop" in path.name)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"could not load {spec.name} weights from {path}: {errors.one_line(error)}") from None
    return model


def _find_submodel(model: keras.Model, name: str):
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            found = _find_submodel(layer, name)
            if found is not None:
                return found
    return None
