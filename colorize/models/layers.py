"""Every custom Keras layer of the model families, registered so that saved models load after ``import colorize.models``.

* :class:`AnnealedMean`: bin probabilities -> a*b* (Zhang et al. 2016's annealed mean).
* :class:`BilinearUpsampling`: bilinear up-sampling that traces for any input size.
* :class:`FusionLayer`: a global vector tiled over a feature grid (Iizuka et al. 2016's fusion).
* :class:`ExtractorInput`: scaled L -> a pretrained extractor's preprocessed RGB input.
* :class:`SelfAttention2D`: every location of a feature grid attends to every other (SAGAN's block, zero start).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from colorize.color.bins import GRID, TEMPERATURE, gamut_bins
from colorize.color.keras_ops import annealed_mean

VGGFACE_MEANS_BGR = (93.5940, 104.7624, 129.1863)
CAFFE_MEANS_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="colorize")
class AnnealedMean(layers.Layer):
    """Bin probabilities (..., Q) -> scaled a*b* (..., 2) by the annealed mean (Zhang et al. 2016).

    ``f_T(z) = exp(log z / T) / sum(exp(log z / T))``, then the mean of the bin centres
    under ``f_T``. T = 1 gives the mean, T -> 0 the mode; 0.38 is Zhang et al.'s choice.
    ``log_prior`` (Q floats or None) shifts the distribution first (:func:`rebalancing_prior`).
    """

    def __init__(self, temperature: float = TEMPERATURE, grid: int = GRID, log_prior=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.temperature = float(temperature)
        self.grid = int(grid)
        self.centres = gamut_bins(self.grid)
        self.log_prior = None if log_prior is None else [float(value) for value in log_prior]
        if self.log_prior is not None and len(self.log_prior) != len(self.centres):
            raise ValueError(f"log_prior needs one value per bin ({len(self.centres)}). Received: {len(self.log_prior)}")

    def call(self, probabilities):
        return annealed_mean(probabilities, self.centres, self.temperature, self.log_prior)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (2,)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "grid": self.grid, "log_prior": self.log_prior}


@keras.saving.register_keras_serializable(package="colorize")
class BilinearUpsampling(layers.Layer):
    """Bilinear up-sampling by an integer ``factor`` that traces for any input size.

    ``layers.UpSampling2D(interpolation="bilinear")`` cannot be traced by ``tf.function``
    for unknown sizes (Keras checks the target size in Python), so a model ending with it
    would run eagerly, per photo shape, in ``colorize predict``. The same resize
    (``tf.image.resize``, half-pixel centres, no antialias) with the size taken from
    the tensor's dynamic shape; ``keras.ops`` on the other backends, whose shapes are
    concrete when traced.
    """

    def __init__(self, factor: int = 2, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, inputs):
        if self.factor == 1:
            return inputs
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            return tf.image.resize(inputs, tf.shape(inputs)[1:3] * self.factor, method="bilinear")
        shape = ops.shape(inputs)
        return ops.image.resize(inputs, (shape[1] * self.factor, shape[2] * self.factor), interpolation="bilinear")

    def compute_output_shape(self, input_shape):
        def scaled(value):
            return None if value is None else value * self.factor

        return (input_shape[0], scaled(input_shape[1]), scaled(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="colorize")
class FusionLayer(layers.Layer):
    """Tile a global vector over a feature grid and concatenate it (Haque & Tokey, Table II; Iizuka et al.'s fusion layer).

    Inputs ``[features (B, h, w, C), vector (B, D)]`` -> ``(B, h, w, C + D)``.
    """

    def call(self, inputs):
        features, vector = inputs
        vector = ops.cast(vector, features.dtype)
        shape = ops.shape(features)
        tiled = ops.broadcast_to(vector[:, None, None, :], (shape[0], shape[1], shape[2], ops.shape(vector)[-1]))
        return ops.concatenate([features, tiled], axis=-1)

    def compute_output_shape(self, input_shapes):
        features, vector = input_shapes
        channels = None if features[-1] is None or vector[-1] is None else features[-1] + vector[-1]
        return tuple(features[:-1]) + (channels,)


@keras.saving.register_keras_serializable(package="colorize")
class ExtractorInput(layers.Layer):
    """Scaled L (H, W, 1) -> an extractor's input: sRGB gray, 3 channels, resized, preprocessed.

    Args:
        size: the extractor's input size; 0 keeps the input's own size.
        mode: "vggface" (BGR minus VGGFace means), "caffe" (BGR minus ImageNet means)
            or "tf" (scaled to [-1, 1]).
    """

    def __init__(self, size: int, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("vggface", "caffe", "tf"):
            raise ValueError(f"mode must be 'vggface', 'caffe' or 'tf'. Received: mode={mode!r}")
        self.size = int(size)
        self.mode = mode

    def call(self, l_scaled):
        lightness = (ops.cast(l_scaled, "float32") + 1.0) * 50.0
        fy = (lightness + 16.0) / 116.0
        luminance = ops.where(fy > 6.0 / 29.0, fy * fy * fy, (fy - 16.0 / 116.0) / 7.787)
        luminance = ops.clip(luminance, 0.0, 1.0)
        gray = ops.where(
            luminance > 0.0031308,
            1.055 * ops.power(ops.maximum(luminance, 0.0031308), 1.0 / 2.4) - 0.055,
            12.92 * luminance,
        )
        gray = gray * 255.0
        if self.size:
            gray = ops.image.resize(gray, (self.size, self.size), interpolation="bilinear")
        rgb = ops.concatenate([gray, gray, gray], axis=-1)
        if self.mode == "tf":
            return rgb / 127.5 - 1.0
        means = VGGFACE_MEANS_BGR if self.mode == "vggface" else CAFFE_MEANS_BGR
        return rgb - ops.convert_to_tensor(means, dtype="float32")  # gray: BGR == RGB

    def compute_output_shape(self, input_shape):
        if not self.size:
            return (*input_shape[:-1], 3)
        return (input_shape[0], self.size, self.size, 3)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "mode": self.mode}


@keras.saving.register_keras_serializable(package="colorize")
class SelfAttention2D(layers.Layer):
    """Self-attention over the locations of a feature grid, added to it from zero (as SAGAN's block, Zhang et al. 2019).

    ``(B, h, w, C) -> (B, h, w, C)``: each location's query meets every location's key
    (``key_channels``, C / 8 by default), the softmax of the scaled products averages the
    features of the locations it picks, and that average times ``projection`` (C x C: SAGAN's
    value map and its scale gamma folded into one matrix) is added to the input.
    ``projection`` starts at zero, so the layer starts as the identity: a trained model
    gains it without changing its output (``--init-weights``), and from the first step
    every entry of it learns (SAGAN's single zero-start gamma barely moves in a short
    fine-tuning) which distant locations should share a colour: what a convolution's
    window cannot see. The grid may have any size (the products are (h w)^2: meant for a
    coarse level).

    Example:
        >>> layer = SelfAttention2D()
        >>> x = np.ones((1, 4, 6, 16), "float32")
        >>> bool((np.asarray(layer(x)) == x).all())
        True
    """

    def __init__(self, key_channels: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.key_channels = None if key_channels is None else int(key_channels)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        keys = self.key_channels or max(1, channels // 8)
        self.query = self.add_weight((channels, keys), initializer="glorot_uniform", name="query")
        self.key = self.add_weight((channels, keys), initializer="glorot_uniform", name="key")
        self.projection = self.add_weight((channels, channels), initializer="zeros", name="projection")
        self.scale = 1.0 / float(keys) ** 0.5

    def call(self, inputs):
        shape = ops.shape(inputs)
        flat = ops.reshape(inputs, (shape[0], -1, self.projection.shape[0]))
        scores = ops.matmul(ops.matmul(flat, self.query), ops.transpose(ops.matmul(flat, self.key), (0, 2, 1)))
        weights = ops.softmax(scores * ops.cast(self.scale, scores.dtype), axis=-1)
        attended = ops.matmul(ops.matmul(weights, flat), self.projection)
        return inputs + ops.reshape(attended, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "key_channels": self.key_channels}
