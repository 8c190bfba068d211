"""Colorization as classification (Zhang et al. 2016) over quantized a*b* bins.

* :func:`gamut_bins` computes the in-gamut bins of the a*b* plane on a grid of 10
  (bin centres at multiples of 10 that are the nearest centre of some displayable
  sRGB colour): 261 bins, computed rather than hard-coded (Zhang et al. used 313).
* :class:`AbQuantizer` soft-encodes a*b* to the 5 nearest bins with a Gaussian (sigma 5).
* :func:`rebalancing_weights` turns the training set's a*b* histogram into class weights
  (Gaussian smoothing sigma 5, mixed with a uniform distribution by lambda 0.5,
  inverted, normalized to expectation 1).
* :class:`AnnealedMean` decodes a bin distribution into a*b* with temperature T (0.38):
  T -> 0 approaches the mode, T = 1 is the mean.
* :func:`build_classification_colorizer` (softmax over the bins, layer ``ab_bins``) and
  :func:`build_regression_colorizer` (the same trunk with a 2-channel tanh head: the
  report's L2 baseline).
"""

from __future__ import annotations

import functools

import keras
import numpy as np
from keras import layers, ops

from colorize.color import AB_SCALE, bins

GRID, AB_RANGE, TEMPERATURE = bins.GRID, bins.AB_RANGE, bins.TEMPERATURE
gamut_bins = bins.gamut_bins
bin_distribution = bins.bin_distribution
rebalancing_weights = bins.rebalancing_weights
rebalancing_prior = bins.rebalancing_prior


class AbQuantizer:
    """Bin centres and Gaussian soft-encoding of a*b* (Lab units) over the nearest bins.

    Example:
        >>> quantizer = AbQuantizer()
        >>> quantizer.num_bins
        261
        >>> encoded = quantizer.soft_encode(np.array([[0.0, 0.0]]))  # sums to 1
    """

    def __init__(self, sigma: float = 5.0, neighbours: int = 5, grid: int = GRID):
        self.centres = gamut_bins(grid)
        self.sigma = float(sigma)
        self.neighbours = int(neighbours)

    @property
    def num_bins(self) -> int:
        return len(self.centres)

    def soft_encode(self, ab):
        """(..., 2) a*b* -> (..., Q) weights on the nearest bins, Gaussian in distance, summing to 1."""
        ab = ops.cast(ab, "float32")
        centres = ops.convert_to_tensor(self.centres)
        distances = ops.sum(ops.square(ab[..., None, :] - centres), axis=-1)
        nearest_negative, indices = ops.top_k(-distances, k=self.neighbours)
        weights = ops.exp(nearest_negative / (2.0 * self.sigma**2))
        weights = weights / ops.sum(weights, axis=-1, keepdims=True)
        return ops.sum(ops.one_hot(indices, self.num_bins) * weights[..., None], axis=-2)


def annealed_mean(probabilities, centres, temperature: float = TEMPERATURE, log_prior=None):
    """Scaled a*b* (..., 2) of bin probabilities (..., Q) by the annealed mean (``keras.ops``).

    ``f_T(z) = exp(log z / T) / sum(exp(log z / T))``, then the mean of the bin ``centres``
    (Q, 2, a*b* units) under ``f_T``: used by :class:`AnnealedMean` at inference and by
    ``RebalancedCrossEntropy``'s L1 term in training. ``log_prior`` (Q,), if given, is added
    to ``log z`` first: a prior shift of the distribution (see :func:`rebalancing_prior`).
    """
    logits = ops.log(ops.maximum(ops.cast(probabilities, "float32"), 1e-12))
    if log_prior is not None:
        logits = logits + ops.convert_to_tensor(np.asarray(log_prior, np.float32))
    logits = logits / temperature
    ab = ops.matmul(ops.softmax(logits, axis=-1), ops.convert_to_tensor(centres))
    return ab / AB_SCALE


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


def _trunk(l_input, width: float, dropout: float):
    """Conv blocks (2-3 conv + ReLU, then batch norm and dropout), down to 1/4 resolution."""
    x = l_input
    plan = ((64, 2, 2), (128, 2, 2), (256, 3, 1), (256, 3, 1), (128, 2, 1))  # filters, convs, last stride
    for block, (filters, convs, stride) in enumerate(plan, start=1):
        filters = max(2, int(round(filters * width)))
        dilation = 2 if block == 4 else 1
        for index in range(1, convs + 1):
            last = index == convs
            x = layers.Conv2D(
                filters, 3, strides=stride if last else 1, dilation_rate=1 if (last and stride > 1) else dilation,
                padding="same", activation="relu", name=f"block{block}_conv{index}",
            )(x)  # fmt: skip
        x = layers.BatchNormalization(name=f"block{block}_bn")(x)
        x = layers.Dropout(dropout, name=f"block{block}_dropout")(x)
    return x


def build_classification_colorizer(
    image_size: int | None = 128, width: float = 1.0, dropout: float = 0.1, grid: int = GRID
) -> keras.Model:
    """The classification network (Zhang et al. 2016): L -> softmax over the in-gamut ab bins at 1/4 resolution.

    The output layer is ``ab_bins`` (float32). Train with
    ``colorize.losses.RebalancedCrossEntropy``; for inference,
    :func:`with_annealed_mean` (or ``colorize.models.as_inference_model``) decodes it to ab.
    """
    num_bins = len(gamut_bins(grid))
    l_input = keras.Input((image_size, image_size, 1), name="l_input")
    x = _trunk(l_input, width, dropout)
    x = layers.Conv2D(num_bins, 1, name="bins_logits")(x)
    outputs = layers.Softmax(name="ab_bins", dtype="float32")(x)
    return keras.Model(l_input, outputs, name="classification")


def build_regression_colorizer(image_size: int | None = 128, width: float = 1.0, dropout: float = 0.1) -> keras.Model:
    """The L2 regression baseline: the classification trunk with a 2-channel tanh head."""
    l_input = keras.Input((image_size, image_size, 1), name="l_input")
    x = _trunk(l_input, width, dropout)
    x = layers.Conv2D(2, 1, activation="tanh", name="ab_quarter", dtype="float32")(x)
    outputs = BilinearUpsampling(4, name="ab_output")(x)
    return keras.Model(l_input, outputs, name="regression")


def with_annealed_mean(model: keras.Model, temperature: float = TEMPERATURE, log_prior=None) -> keras.Model:
    """Inference model: the classification network followed by annealed-mean decoding to ab
    (``log_prior``: an optional prior shift of the bin distribution, :func:`rebalancing_prior`)."""
    probabilities = model.get_layer("ab_bins").output
    ab = AnnealedMean(temperature, log_prior=log_prior, name="annealed_mean")(probabilities)
    input_size, output_size = model.inputs[0].shape[1], probabilities.shape[1]
    if input_size and output_size:
        factor = input_size // output_size
    else:  # a size-free model: measure its output stride on a probe
        probe = np.zeros((1, 64, 64, 1), np.float32)
        factor = 64 // int(keras.Model(model.inputs[0], probabilities)(probe).shape[1])
    ab = BilinearUpsampling(factor, name="ab_output")(ab)
    # A single input tensor, not a list of one: the model is then called with a plain array.
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, ab, name=f"{model.name}_annealed_mean")
