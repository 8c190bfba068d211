"""Losses as registered ``keras.losses.Loss`` subclasses (they save and load with a model).

All regression losses compare scaled a*b* (see :mod:`colorize.color`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from colorize.color import AB_SCALE


class _PixelLoss(keras.losses.Loss):
    """Per-pixel ``error(y_true - y_pred)`` averaged over a*b*, in float32 (mixed precision safe)."""

    error = None  # the element-wise error of the difference, set by each subclass

    def call(self, y_true, y_pred):
        return ops.mean(type(self).error(ops.cast(y_true, "float32") - ops.cast(y_pred, "float32")), axis=-1)


@keras.saving.register_keras_serializable(package="colorize")
class L1(_PixelLoss):
    """Mean absolute error on scaled ab (the U-Net / uVGG-net loss).

    Example:
        >>> model.compile(optimizer="adam", loss=L1())  # doctest: +SKIP
    """

    error = ops.abs

    def __init__(self, name="l1", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@keras.saving.register_keras_serializable(package="colorize")
class MSE(_PixelLoss):
    """Mean squared error on scaled ab (the fusion colorizer, the classification trunk's L2 baseline, the naive CNN, ResNet-50 and GAN)."""

    error = ops.square

    def __init__(self, name="mse", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@keras.saving.register_keras_serializable(package="colorize")
class RebalancedCrossEntropy(keras.losses.Loss):
    """Zhang et al. (2016)'s class-rebalanced multinomial cross-entropy.

    ``y_true`` is scaled a*b* (B, H, W, 2), as the pipeline yields it; it is averaged
    down to the prediction's resolution, soft-encoded over the bins (Gaussian, sigma 5,
    5 nearest) and each pixel is weighted by the rebalancing weight of its closest bin.
    ``y_pred`` is the bin distribution (B, h, w, Q).

    With ``l1_weight > 0`` the distribution is also decoded by the annealed mean (the
    decoding used at inference, temperature ``temperature``) and ``l1_weight`` times the
    L1 distance of that a*b* (scaled) to the truth is added: the cross-entropy keeps the
    colours vivid, the L1 term ties the decoded colour to the truth where the
    distribution is spread.

    Args:
        weights: the Q class-rebalancing weights (``classification.rebalancing_weights``);
            None for no rebalancing.
        sigma: soft-encoding width in a*b* units.
        l1_weight: weight of the L1 term on the decoded a*b* (0: Zhang et al.'s loss alone).
        temperature: annealed-mean temperature of that decoding.
    """

    def __init__(self, weights=None, sigma=5.0, l1_weight=0.0, temperature=0.38, name="rebalanced_crossentropy",
                 reduction="sum_over_batch_size", dtype=None):  # fmt: skip
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.weights = None if weights is None else [float(w) for w in np.asarray(weights).ravel()]
        self.sigma = float(sigma)
        self.l1_weight = float(l1_weight)
        self.temperature = float(temperature)
        from colorize.color.keras_ops import AbQuantizer

        self.quantizer = AbQuantizer(sigma=self.sigma)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        y_true = ops.cast(y_true, "float32")
        factor = y_true.shape[1] // y_pred.shape[1] if y_true.shape[1] and y_pred.shape[1] else 1
        if factor > 1:
            y_true = ops.average_pool(y_true, factor, strides=factor, padding="valid")
        target = self.quantizer.soft_encode(y_true * AB_SCALE)
        loss = -ops.sum(target * ops.log(ops.maximum(y_pred, 1e-8)), axis=-1)
        if self.weights is not None:
            table = ops.convert_to_tensor(np.asarray(self.weights, np.float32))
            loss = loss * ops.take(table, ops.argmax(target, axis=-1))
        if self.l1_weight:
            from colorize.color.keras_ops import annealed_mean

            ab = annealed_mean(y_pred, self.quantizer.centres, self.temperature)
            loss = loss + self.l1_weight * ops.mean(ops.abs(ab - y_true), axis=-1)
        return ops.mean(loss, axis=(1, 2))

    def get_config(self):
        return {**super().get_config(), "weights": self.weights, "sigma": self.sigma, "l1_weight": self.l1_weight,
                "temperature": self.temperature}  # fmt: skip


@keras.saving.register_keras_serializable(package="colorize")
class ColourWeightedLoss(keras.losses.Loss):
    """L1 (power 1) or L2 (power 2) on scaled ab, each pixel weighted by its colour's rarity.

    The U-Net / uVGG-net poster proposes it to bring out rare colours: the weight of a pixel is the
    rebalancing weight (lambda 0.5, expectation 1 over the training set) of the a*b*
    cell its true colour falls in, from the data set's ``ab_distribution.npz``.
    """

    def __init__(self, histogram=None, edges=None, power=1, lambda_=0.5, name="colour_weighted",
                 reduction="sum_over_batch_size", dtype=None):  # fmt: skip
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.power = int(power)
        self.lambda_ = float(lambda_)
        self.edges = [float(e) for e in (np.arange(-110, 111, 10) if edges is None else np.asarray(edges))]
        if histogram is None:
            histogram = np.ones((len(self.edges) - 1,) * 2)
        histogram = np.asarray(histogram, np.float64)
        self.histogram = histogram.tolist()
        probability = histogram / max(histogram.sum(), 1e-12)
        weights = 1.0 / ((1.0 - self.lambda_) * probability + self.lambda_ / probability.size)
        self._table = (weights / np.sum(probability * weights)).astype(np.float32)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        difference = ops.cast(y_pred, "float32") - y_true
        error = ops.mean(ops.abs(difference) if self.power == 1 else ops.square(difference), axis=-1)
        ab = y_true * AB_SCALE
        step, start, cells = self.edges[1] - self.edges[0], self.edges[0], len(self.edges) - 1
        index = ops.cast(ops.clip(ops.floor((ab - start) / step), 0, cells - 1), "int32")
        flat = index[..., 0] * cells + index[..., 1]
        weight = ops.take(ops.convert_to_tensor(self._table.ravel()), flat)
        return error * weight

    def get_config(self):
        return {**super().get_config(), "histogram": self.histogram, "edges": self.edges, "power": self.power,
                "lambda_": self.lambda_}  # fmt: skip
