"""The ResNet-50 colorizer (the DigiFace report, Chung et al.): a ResNet-50 encoder and a convolutional decoder."""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from colorize.errors import WeightsNotFoundError
from colorize.models import extractors

RESNET50_NOTOP = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"


def build_resnet50_colorizer(image_size: int = 128, decoder_width: float = 1.0, encoder_weights=None) -> keras.Model:
    """Build the ResNet-50 colorizer: ResNet-50 features (2048 x H/32 x W/32) decoded to ab.

    The gray image (L as sRGB gray, three channels, caffe preprocessing) feeds
    ``keras.applications.ResNet50`` without its classifier (2048 4x4 features at 128 px,
    as in the report); five upsample + conv stages bring it back to full resolution.

    Args:
        image_size: input height/width (a multiple of 32).
        decoder_width: multiplies the decoder's filters.
        encoder_weights: None, a weights file, or "imagenet" (the Keras cache file
            ``resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5``), loaded after building.
    """
    if not image_size or image_size % 32:
        raise ValueError(f"image_size must be a fixed multiple of 32. Received: image_size={image_size}")
    l_input = keras.Input((image_size, image_size, 1), name="l_input")
    x = extractors.ExtractorInput(image_size, "caffe", name="resnet50_preprocess")(l_input)
    encoder = keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(image_size, image_size, 3), name="resnet50_encoder"
    )
    x = encoder(x)
    for index, filters in enumerate((256, 128, 64, 32, 16), start=1):
        x = layers.UpSampling2D(2, name=f"decoder{index}_up")(x)
        x = layers.Conv2D(max(2, int(round(filters * decoder_width))), 3, padding="same", use_bias=False,
                          name=f"decoder{index}_conv")(x)  # fmt: skip
        x = layers.BatchNormalization(name=f"decoder{index}_bn")(x)
        x = layers.Activation("relu", name=f"decoder{index}_relu")(x)
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output", dtype="float32")(x)
    model = keras.Model(l_input, outputs, name="resnet50")
    if encoder_weights is not None:
        path = extractors.keras_cache_dir() / RESNET50_NOTOP if encoder_weights == "imagenet" else encoder_weights
        if not Path(path).is_file():
            raise WeightsNotFoundError(
                f"ResNet-50 weights not found: put {RESNET50_NOTOP} in {extractors.keras_cache_dir()} or pass a file"
            )
        encoder.load_weights(path)
    return model
