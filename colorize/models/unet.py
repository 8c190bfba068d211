"""U-Net, and uVGG-net (U-Net with a frozen VGG19 branch at the bottleneck)."""

from __future__ import annotations

import keras
from keras import layers


def conv_block(x, filters: int, name: str, batch_norm: bool = True):
    """Two 3x3 convolutions with ReLU (the U-Net / uVGG-net poster's convolutional block), optional batch norm."""
    for index in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv{index}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn{index}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{index}")(x)
    return x


def build_unet(
    image_size: int | None = 128,
    base_filters: int = 32,
    depth: int = 4,
    batch_norm: bool = True,
    bottleneck_features=None,
    name: str = "unet",
) -> keras.Model:
    """Build the U-Net: L (scaled) -> ab (scaled, tanh).

    Encoder blocks of two 3x3 conv + ReLU with ``base_filters * 2**level`` filters and
    2x2 max pooling, a bottleneck block, and a decoder of 2x2 transposed convolutions
    whose output is concatenated with the encoder block of the same level (found by
    name, ``encoder{level}_relu2``). The poster leaves widths open: ``base_filters=32``
    and ``depth=4`` (16x downsampling) are our defaults, sized for CPU training at
    128 px; batch normalization after each convolution is on by default (it trains
    faster and more stably; ``batch_norm=False`` gives the poster's plain blocks).

    Args:
        image_size: input height/width (None for any size divisible by ``2**depth``).
        base_filters: filters of the first level.
        depth: number of down-sampling levels.
        batch_norm: batch normalization after every convolution.
        bottleneck_features: optional callable ``(l_input, bottleneck) -> tensor`` that
            replaces the bottleneck's output, e.g. with global features concatenated
            (used by uVGG-net).
        name: model name.

    Returns:
        A functional ``keras.Model`` with input ``l_input`` and output ``ab_output``.

    Example:
        >>> model = build_unet(image_size=128, base_filters=16)
        >>> model.output_shape
        (None, 128, 128, 2)
    """
    head = [layers.Conv2D(2, 1, activation="tanh", dtype="float32", name="ab_output")]
    return _with_head(unet_trunk(image_size, base_filters, depth, batch_norm, bottleneck_features), head, name)


def _with_head(trunk, head: list, name: str) -> keras.Model:
    """The model of a ``unet_trunk`` output ``(inputs, features)`` followed by the ``head`` layers."""
    inputs, x = trunk
    for layer in head:
        x = layer(x)
    return keras.Model(inputs, x, name=name)


def add_global_context(bottleneck, name: str = "global"):
    """Add an image-level summary to every bottleneck location (Iizuka et al. 2016's global fusion, zero start).

    The bottleneck is average-pooled over the image (``global_pool``), passed through
    ``global_dense1`` (ReLU) and ``global_dense2``, whose kernel and bias start at zero,
    and the resulting vector is broadcast-added to every location (``global_fusion``).
    At initialisation the branch adds exactly zero, so a model built with it and loaded
    with the weights of one built without it (by layer name) gives the same output; the
    branch learns from there. Unlike Iizuka et al. it uses no separate image-size-fixed
    network: the pooled vector comes from the trunk itself, at any input size.

    Args:
        bottleneck: a ``(batch, height, width, channels)`` tensor.
        name: prefix of the branch's layer names.

    Returns:
        A tensor of the bottleneck's shape.

    Example:
        >>> model = build_unet_classification(image_size=None, base_filters=8, global_context=True)
        >>> model.get_layer("global_fusion").output.shape
        (None, None, None, 128)
    """
    vector = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_pool")(bottleneck)
    return add_from_zero(bottleneck, vector, name)


def add_from_zero(bottleneck, features, name: str):
    """Broadcast-add an image-level ``(batch, 1, 1, k)`` vector to every location (or add a
    ``(batch, h, w, k)`` map of the bottleneck's grid location by location), through
    ``{name}_dense1`` (ReLU) and ``{name}_dense2`` (kernel and bias zero: the branch adds
    exactly zero until it learns), joined by ``{name}_fusion``."""
    channels = bottleneck.shape[-1]
    features = layers.Dense(channels, activation="relu", name=f"{name}_dense1")(features)
    features = layers.Dense(channels, kernel_initializer="zeros", bias_initializer="zeros", name=f"{name}_dense2")(features)
    return layers.Add(name=f"{name}_fusion")([bottleneck, features])


def unet_trunk(image_size: int | None = 128, base_filters: int = 32, depth: int = 4, batch_norm: bool = True,
               bottleneck_features=None, output_level: int = 0):  # fmt: skip
    """The U-Net's encoder and decoder without a head: ``(l_input, features)``.

    Skip connections are kept by layer name while the encoder is wired
    (``encoder{level}_relu2``) and joined to the decoder block of the same level.

    Args:
        image_size, base_filters, depth, batch_norm, bottleneck_features: as :func:`build_unet`.
        output_level: stop the decoder this many levels early: the features are at
            ``1 / 2**output_level`` of the input resolution (0: full resolution).
    """
    if image_size is not None and image_size % (2**depth):
        raise ValueError(f"image_size must be divisible by 2**depth={2**depth}. Received: image_size={image_size}")
    if not 0 <= output_level < depth:
        raise ValueError(f"output_level must be in [0, {depth - 1}]. Received: output_level={output_level}")
    inputs = keras.Input((image_size, image_size, 1), name="l_input")
    x = inputs
    skips = {}
    for level in range(depth):
        x = conv_block(x, base_filters * 2**level, f"encoder{level + 1}", batch_norm)
        skips[f"encoder{level + 1}_relu2"] = x
        x = layers.MaxPooling2D(name=f"encoder{level + 1}_pool")(x)
    x = conv_block(x, base_filters * 2**depth, "bottleneck", batch_norm)
    if bottleneck_features is not None:
        x = bottleneck_features(inputs, x)
    for level in reversed(range(output_level, depth)):
        filters = base_filters * 2**level
        x = layers.Conv2DTranspose(filters, 2, strides=2, name=f"decoder{level + 1}_up")(x)
        x = layers.Concatenate(name=f"decoder{level + 1}_concat")([x, skips[f"encoder{level + 1}_relu2"]])
        x = conv_block(x, filters, f"decoder{level + 1}", batch_norm)
    return inputs, x


def build_unet_classification(
    image_size: int | None = 128,
    base_filters: int = 16,
    depth: int = 4,
    batch_norm: bool = True,
    output_level: int = 1,
    grid: int = 10,
    global_context: bool = False,
    attention: bool = False,
    extractor: str = "none",
    extractor_weights=None,
    extractor_input_size: int | None = None,
    extractor_map: bool = False,
    name: str = "unet_classification",
) -> keras.Model:
    """The U-Net trunk with the classification head (Zhang et al. 2016): a softmax over the in-gamut a*b* bins.

    Zhang et al. (2016) cure the brown average of L1/L2 regression by predicting
    a distribution over quantized a*b* and decoding it by the annealed mean; here that
    head sits on the U-Net, which is fast on a CPU and keeps edges through its
    skips. The bins are predicted at ``1 / 2**output_level`` of the input resolution
    (half by default: the a*b* of a photo varies slowly, and the loss is 4x cheaper),
    the output layer is ``ab_bins`` (float32). Train with
    ``colorize.losses.RebalancedCrossEntropy`` (optionally with its ``l1_weight``);
    ``colorize.models.as_inference_model`` adds the annealed-mean decoding.

    With ``global_context=True`` every bottleneck location also sees the whole image
    (:func:`add_global_context`: pooled, two dense layers, broadcast-added). The branch starts
    at zero, so ``colorize train --option global_context=true --init-weights default``
    starts from exactly the default's output and learns the image-level context on top.
    ``attention=True`` adds self-attention over the bottleneck's locations after it
    (:class:`~colorize.models.layers.SelfAttention2D`, ``bottleneck_attention``, also from
    zero; DeOldify's generator has such a block): distant parts of one wall or one dress can
    agree on a colour.

    ``extractor`` (``colorize train --extractor efficientnet_lite0``) adds what a frozen
    ImageNet classifier sees in the whole photo (seed 001's fusion; Iizuka et al. 2016,
    Baldassarre et al. 2017): its pooled features through ``semantic_dense1`` (ReLU) and
    ``semantic_dense2`` (zero start), broadcast-added at the bottleneck (``semantic_fusion``);
    ``extractor_weights`` as in :func:`colorize.models.extractors.load_extractor_weights`.
    ``extractor_map=True`` (``--option extractor_map=true``) adds its feature map instead,
    location by location (:func:`colorize.models.extractors.feature_map` at the bottleneck's
    stride, the photo at its own size): where the grass, the sky and the skin are, not only
    that they are there.

    Example:
        >>> model = build_unet_classification(image_size=64, base_filters=8)
        >>> model.output_shape
        (None, 32, 32, 261)
    """
    from colorize.models import extractors
    from colorize.models.classification import gamut_bins
    from colorize.models.layers import SelfAttention2D

    if extractor == "none":
        extractor = None
    if extractor_map and extractor is None:
        raise ValueError("extractor_map=True needs an extractor (--extractor efficientnet_lite0). Received: extractor='none'")

    def bottleneck_features(l_input, bottleneck):
        if global_context:
            bottleneck = add_global_context(bottleneck)
        if extractor is not None and extractor_map:
            bottleneck = add_from_zero(bottleneck, extractors.feature_map(l_input, extractor, 2**depth), "semantic")
        elif extractor is not None:
            vector = extractors.global_features(l_input, extractor, extractor_input_size, include_top=False)
            vector = layers.Reshape((1, 1, vector.shape[-1]), name="semantic_vector")(vector)
            bottleneck = add_from_zero(bottleneck, vector, "semantic")
        if attention:
            bottleneck = SelfAttention2D(name="bottleneck_attention")(bottleneck)
        return bottleneck

    trunk = unet_trunk(image_size, base_filters, depth, batch_norm, bottleneck_features, output_level)
    head = [layers.Conv2D(len(gamut_bins(grid)), 1, name="bins_logits"), layers.Softmax(name="ab_bins", dtype="float32")]
    model = _with_head(trunk, head, name)
    if extractor is not None and extractor_weights is not None:
        extractors.load_extractor_weights(model, extractor, extractor_weights)
    return model


def build_uvgg(
    image_size: int | None = 128,
    base_filters: int = 32,
    depth: int = 4,
    batch_norm: bool = True,
    extractor_input_size: int | None = None,
    extractor_weights=None,
    name: str = "uvgg",
) -> keras.Model:
    """Build the uVGG-net: the U-Net with a frozen VGG19 branch at the bottleneck.

    VGG19 (without its classifier) sees the gray image at 224 x 224; its last
    convolutional features are average-pooled to a 512-vector that is tiled over the
    bottleneck grid and concatenated there (the poster's "concatenate spatial
    information in bottleneck"), then the decoder proceeds as in the U-Net.

    Args:
        image_size, base_filters, depth, batch_norm: as :func:`build_unet`.
        extractor_input_size: override VGG19's input size (tests only).
        extractor_weights: None, a VGG19 weights file, or "imagenet" from the Keras cache.
        name: model name.
    """
    from colorize.models import extractors
    from colorize.models.colorizer import FusionLayer

    def vgg_features(l_input, bottleneck):
        vector = extractors.global_features(l_input, "vgg19", extractor_input_size, include_top=False)
        return FusionLayer(name="bottleneck_vgg19")([bottleneck, vector])

    model = build_unet(image_size, base_filters, depth, batch_norm, bottleneck_features=vgg_features, name=name)
    if extractor_weights is not None:
        extractors.load_extractor_weights(model, "vgg19", extractor_weights)
    return model
