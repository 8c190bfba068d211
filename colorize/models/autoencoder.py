"""The VGG16 auto-encoder (Nasrallah et al.): a CNN auto-encoder that also takes VGG16 features of the grayscale image."""

from __future__ import annotations

import keras
from keras import layers

from colorize.models import extractors
from colorize.models.colorizer import FusionLayer


def build_vgg16_autoencoder(
    image_size: int | None = 128,
    width: float = 1.0,
    extractor_input_size: int | None = None,
    extractor_weights=None,
) -> keras.Model:
    """Build the CNN auto-encoder with VGG16 features.

    A convolutional encoder (64, 128/s2, 256/s2, 512/s2) compresses L to 1/8 resolution;
    VGG16's convolutional features of the gray image (frozen, average-pooled to 512) are
    tiled over that grid and concatenated; a decoder of upsampling and convolutions
    restores full-resolution ab (tanh).

    Args:
        image_size: input height/width (a multiple of 8).
        width: multiplies the encoder/decoder filters.
        extractor_input_size: override VGG16's input size (tests only; weights need 224).
        extractor_weights: None, a file, or "imagenet" from the Keras cache
            (``vgg16_weights_tf_dim_ordering_tf_kernels.h5``), loaded after building.
    """

    def scaled(filters):
        return max(2, int(round(filters * width)))

    l_input = keras.Input((image_size, image_size, 1), name="l_input")
    x = l_input
    for index, (filters, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), start=1):
        x = layers.Conv2D(scaled(filters), 3, strides=stride, padding="same", activation="relu", name=f"encoder{index}")(x)
    vector = extractors.global_features(l_input, "vgg16", extractor_input_size, include_top=False)
    x = FusionLayer(name="fusion")([x, vector])
    x = layers.Conv2D(scaled(256), 1, activation="relu", name="fusion_1x1")(x)
    for index, filters in enumerate((128, 64, 32), start=1):
        x = layers.UpSampling2D(2, name=f"decoder{index}_up")(x)
        x = layers.Conv2D(scaled(filters), 3, padding="same", activation="relu", name=f"decoder{index}_conv")(x)
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output", dtype="float32")(x)
    model = keras.Model(l_input, outputs, name="vgg16_autoencoder")
    if extractor_weights is not None:
        extractors.load_extractor_weights(model, "vgg16", extractor_weights)
    return model
