"""The naive CNN (the DigiFace report, Chung et al.): an encoder-decoder with dense layers at the bottleneck."""

from __future__ import annotations

import keras
from keras import layers


def build_naive_cnn(image_size: int = 128, width: float = 1.0, dense_units: int = 256) -> keras.Model:
    """Build the DigiFace report's "naive" CNN.

    Convolutions extract features from L (batch normalization between every two
    convolutions, as the report found against overfitting), fully connected layers at the
    1/16-resolution bottleneck (the report's change that "significantly boosted
    performance"), then transposed convolutions back to ab (tanh). The dense layers need
    a fixed ``image_size`` (a multiple of 16).

    Args:
        image_size: input height/width.
        width: multiplies every filter count.
        dense_units: units of the bottleneck's hidden dense layer.
    """
    if not image_size or image_size % 16:
        raise ValueError(f"image_size must be a fixed multiple of 16. Received: image_size={image_size}")
    filters = [max(2, int(round(f * width))) for f in (32, 64, 128, 128)]
    l_input = keras.Input((image_size, image_size, 1), name="l_input")
    x = l_input
    for index, count in enumerate(filters, start=1):
        x = layers.Conv2D(count, 3, padding="same", activation="relu", name=f"encoder{index}_conv1")(x)
        x = layers.Conv2D(count, 3, strides=2, padding="same", activation="relu", name=f"encoder{index}_conv2")(x)
        x = layers.BatchNormalization(name=f"encoder{index}_bn")(x)
    grid = image_size // 16
    x = layers.Flatten(name="bottleneck_flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="bottleneck_dense1")(x)
    x = layers.Dense(grid * grid * filters[-1], activation="relu", name="bottleneck_dense2")(x)
    x = layers.Reshape((grid, grid, filters[-1]), name="bottleneck_reshape")(x)
    for index, count in enumerate(reversed(filters), start=1):
        x = layers.Conv2DTranspose(count, 3, strides=2, padding="same", activation="relu", name=f"decoder{index}_up")(x)
        x = layers.Conv2D(count, 3, padding="same", activation="relu", name=f"decoder{index}_conv")(x)
        if index % 2 == 0:
            x = layers.BatchNormalization(name=f"decoder{index}_bn")(x)
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output", dtype="float32")(x)
    return keras.Model(l_input, outputs, name="naive_cnn")
