"""Colorization as classification (Zhang et al. 2016) over quantized a*b* bins.

* :func:`gamut_bins` computes the in-gamut bins of the a*b* plane on a grid of 10
  (bin centres at multiples of 10 that are the nearest centre of some displayable
  sRGB colour): 261 bins, computed rather than hard-coded (Zhang et al. used 313).
* :class:`~colorize.color.keras_ops.AbQuantizer` soft-encodes a*b* to the 5 nearest bins with a
  Gaussian (sigma 5) (``keras.ops``, in ``colorize.color.keras_ops``, as the loss uses it).
* :func:`rebalancing_weights` turns the training set's a*b* histogram into class weights
  (Gaussian smoothing sigma 5, mixed with a uniform distribution by lambda 0.5,
  inverted, normalized to expectation 1).
* :class:`~colorize.models.layers.AnnealedMean` decodes a bin distribution into a*b* with temperature T (0.38):
  T -> 0 approaches the mode, T = 1 is the mean.
* :func:`build_classification_colorizer` (softmax over the bins, layer ``ab_bins``) and
  :func:`build_regression_colorizer` (the same trunk with a 2-channel tanh head: the
  report's L2 baseline).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from colorize.color import bins
from colorize.color.keras_ops import AbQuantizer, annealed_mean  # noqa: F401 - their home: colorize.color.keras_ops
from colorize.models.layers import AnnealedMean, BilinearUpsampling  # noqa: F401 - their home: colorize.models.layers

GRID, AB_RANGE, TEMPERATURE = bins.GRID, bins.AB_RANGE, bins.TEMPERATURE
gamut_bins = bins.gamut_bins
bin_distribution = bins.bin_distribution
rebalancing_weights = bins.rebalancing_weights
rebalancing_prior = bins.rebalancing_prior


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
