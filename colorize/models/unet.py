"""Seed 000: U-Net, and uVGG-net (U-Net with a frozen VGG19 branch at the bottleneck)."""

from __future__ import annotations

import keras
from keras import layers


def conv_block(x, filters: int, name: str, batch_norm: bool = True):
    """Two 3x3 convolutions with ReLU (seed 000's convolutional block), optional batch norm."""
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
    """Build seed 000's U-Net: L (scaled) -> ab (scaled, tanh).

    Encoder blocks of two 3x3 conv + ReLU with ``base_filters * 2**level`` filters and
    2x2 max pooling, a bottleneck block, and a decoder of 2x2 transposed convolutions
    whose output is concatenated with the encoder block of the same level (found by
    name, ``encoder{level}_relu2``). The seed leaves widths open: ``base_filters=32``
    and ``depth=4`` (16x downsampling) are our defaults, sized for CPU training at
    128 px; batch normalization after each convolution is on by default (it trains
    faster and more stably; ``batch_norm=False`` gives the poster's plain blocks).

    Args:
        image_size: input height/width (None for any size divisible by ``2**depth``).
        base_filters: filters of the first level.
        depth: number of down-sampling levels.
        batch_norm: batch normalization after every convolution.
        bottleneck_features: optional callable ``(l_input, bottleneck) -> tensor`` whose
            output is concatenated at the bottleneck (used by uVGG-net).
        name: model name.

    Returns:
        A functional ``keras.Model`` with input ``l_input`` and output ``ab_output``.

    Example:
        >>> model = build_unet(image_size=128, base_filters=16)
        >>> model.output_shape
        (None, 128, 128, 2)
    """
    if image_size is not None and image_size % (2**depth):
        raise ValueError(f"image_size must be divisible by 2**depth={2**depth}. Received: image_size={image_size}")
    inputs = keras.Input((image_size, image_size, 1), name="l_input")
    x = inputs
    for level in range(depth):
        x = conv_block(x, base_filters * 2**level, f"encoder{level + 1}", batch_norm)
        x = layers.MaxPooling2D(name=f"encoder{level + 1}_pool")(x)
    x = conv_block(x, base_filters * 2**depth, "bottleneck", batch_norm)
    if bottleneck_features is not None:
        x = layers.Concatenate(name="bottleneck_fusion")([x, bottleneck_features(inputs, x)])
    model_layers = {}
    for level in reversed(range(depth)):
        filters = base_filters * 2**level
        x = layers.Conv2DTranspose(filters, 2, strides=2, name=f"decoder{level + 1}_up")(x)
        model_layers[level] = x
        skip = _find(inputs, x, f"encoder{level + 1}_relu2")
        x = layers.Concatenate(name=f"decoder{level + 1}_concat")([x, skip])
        x = conv_block(x, filters, f"decoder{level + 1}", batch_norm)
    outputs = layers.Conv2D(2, 1, activation="tanh", dtype="float32", name="ab_output")(x)
    return keras.Model(inputs, outputs, name=name)


def _find(inputs, tensor, layer_name):
    """The output of the layer called ``layer_name`` upstream of ``tensor`` (skips by name)."""
    stack, seen = [tensor], set()
    while stack:
        current = stack.pop()
        history = getattr(current, "_keras_history", None)
        if history is None:
            continue
        operation = history.operation
        if id(operation) in seen:
            continue
        seen.add(id(operation))
        if operation.name == layer_name:
            return operation.output
        for node in operation._inbound_nodes:
            stack.extend(node.input_tensors)
    raise ValueError(f"no layer named {layer_name!r} upstream")
