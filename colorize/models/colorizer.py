"""The fusion colorizer: encoder + global feature extractor + fusion layer + decoder.

Iizuka et al. (2016)'s fusion of local and global features, with the VGGFace descriptor
as the global extractor as in Haque & Tokey's portrait paper.

    l_input (H, W, 1) --encoder--> (H/8, W/8, 256) --+
                                                       FusionLayer -> 1x1 conv 256 -> decoder -> ab (H, W, 2)
    l_input --ExtractorInput--> frozen extractor ----+   (vector tiled over the grid)

Tables I-III of Haque & Tokey give the layers; batch normalization follows every
convolution (its section F). With ``embedding_input=True`` the model takes the
extractor's vector as a second input, ``embedding``, instead of running the frozen
extractor at every step (a frozen extractor's output never changes, so it can be
computed once per image); :func:`fusion_inference_model` wires the extractor back in.

Example:
    >>> model = build_fusion_colorizer(extractor="vgg19", image_size=256)  # doctest: +SKIP
    >>> model.output_shape
    (None, 256, 256, 2)
"""

from __future__ import annotations

import keras
from keras import layers

from colorize.models import extractors
from colorize.models.layers import FusionLayer  # noqa: F401 - its home: colorize.models.layers

ENCODER = ((64, 2), (128, 2), (256, 2), (512, 1), (256, 1))  # (filters, stride), Table I
DECODER = ("up", 128, 64, "up", 32, 16)  # Table III, then 2 x (2x2) tanh and a last upsampling


def _scaled(filters: int, width: float) -> int:
    return max(2, int(round(filters * width)))


def _conv_bn_relu(x, filters, kernel, strides, name):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_encoder(l_input, width: float = 1.0):
    """The fusion colorizer's encoder: 3x3 convs 64/s2, 128/s2, 256/s2, 512, 256 -> (H/8, W/8, 256 * width)."""
    x = l_input
    for index, (filters, stride) in enumerate(ENCODER, start=1):
        x = _conv_bn_relu(x, _scaled(filters, width), 3, stride, f"encoder{index}")
    return x


def build_decoder(x, width: float = 1.0):
    """The fusion colorizer's decoder: up, 128, 64, up, 32, 16, 2 x (2x2) tanh, up -> ``ab_output``."""
    ups = 0
    convs = 0
    for item in DECODER:
        if item == "up":
            ups += 1
            x = layers.UpSampling2D(2, name=f"decoder_up{ups}")(x)
        else:
            convs += 1
            x = _conv_bn_relu(x, _scaled(item, width), 3, 1, f"decoder{convs}")
    x = layers.Conv2D(2, 2, padding="same", activation="tanh", name="decoder_ab", dtype="float32")(x)
    return layers.UpSampling2D(2, interpolation="bilinear", name="ab_output", dtype="float32")(x)


def build_fusion_colorizer(
    extractor: str = "vggface",
    image_size: int | None = 256,
    width: float = 1.0,
    embedding_input: bool = False,
    extractor_input_size: int | None = None,
    extractor_weights=None,
) -> keras.Model:
    """Build the fusion colorizer with a global feature extractor chosen by name.

    Args:
        extractor: "vggface", "vgg19", "inception_resnet_v2" or "none".
        image_size: the colorizer's input size (any multiple of 8; None for any size).
        width: multiplies every filter count of the encoder, fusion and decoder (1.0 =
            the paper's widths; smaller for quick experiments and tests).
        embedding_input: take the extractor's vector as a second input ``embedding``
            instead of running the frozen extractor (training on cached embeddings).
        extractor_input_size: override the extractor's own input size (tests only:
            the published weights need 224 / 299).
        extractor_weights: None, a weights file, or "imagenet" / "vggface" from the Keras
            cache, loaded after building (a separate step: it is not part of the config).

    Returns:
        A functional ``keras.Model`` named ``fusion_<extractor>``: ``l_input`` [+ ``embedding``]
        -> ``ab_output``.
    """
    spec = extractors.get_extractor(extractor)
    if image_size is not None and image_size % 8:
        raise ValueError(f"image_size must be a multiple of 8. Received: image_size={image_size}")
    l_input = keras.Input((image_size, image_size, 1), name="l_input")
    inputs = [l_input]
    x = build_encoder(l_input, width)
    if spec.build is not None:
        if embedding_input:
            vector = keras.Input((spec.output_size,), name="embedding")
            inputs.append(vector)
        else:
            vector = extractors.global_features(l_input, extractor, extractor_input_size)
        x = FusionLayer(name="fusion")([x, vector])
    x = _conv_bn_relu(x, _scaled(256, width), 1, 1, "fusion_1x1")
    outputs = build_decoder(x, width)
    model = keras.Model(inputs if len(inputs) > 1 else l_input, outputs, name=f"fusion_{spec.name}")
    if extractor_weights is not None and not embedding_input and spec.build is not None:
        extractors.load_extractor_weights(model, extractor, extractor_weights)
    return model


def build_extractor_model(extractor: str, image_size: int | None = None, input_size: int | None = None,
                          weights=None) -> keras.Model:  # fmt: skip
    """The frozen global branch alone: ``l_input`` -> the extractor's vector (for caching)."""
    l_input = keras.Input((image_size, image_size, 1), name="l_input")
    vector = extractors.global_features(l_input, extractor, input_size)
    model = keras.Model(l_input, vector, name=f"{extractor}_embedding")
    return extractors.load_extractor_weights(model, extractor, weights)


def fusion_inference_model(trained: keras.Model, extractor: str, weights=None, extractor_input_size=None):
    """Turn a model trained on cached embeddings into one that runs its extractor.

    Builds the same architecture with the extractor inside, copies every trained layer
    by name, and loads the extractor's weights (the same ones the embeddings came from).
    """
    image_size = trained.inputs[0].shape[1]
    width_probe = trained.get_layer("encoder1_conv").filters / ENCODER[0][0]
    full = build_fusion_colorizer(extractor, image_size, width_probe, False, extractor_input_size, weights)
    return copy_weights_by_name(trained, full)


def copy_weights_by_name(source: keras.Model, target: keras.Model) -> keras.Model:
    """Copy the weights of every layer of ``source`` into the layer of the same name in ``target``."""
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())
    return target
