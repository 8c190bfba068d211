"""Losses as registered ``keras.losses.Loss`` subclasses (they save and load with a model).

All regression losses compare scaled a*b* (see :mod:`colorize.color`).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="colorize")
class L1(keras.losses.Loss):
    """Mean absolute error on scaled ab (seed 000's U-Net / uVGG-net loss).

    Example:
        >>> model.compile(optimizer="adam", loss=L1())  # doctest: +SKIP
    """

    def __init__(self, name="l1", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        return ops.mean(ops.abs(ops.cast(y_true, "float32") - y_pred), axis=-1)


@keras.saving.register_keras_serializable(package="colorize")
class MSE(keras.losses.Loss):
    """Mean squared error on scaled ab (seed 001, 002's L2 baseline, 004)."""

    def __init__(self, name="mse", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        return ops.mean(ops.square(ops.cast(y_true, "float32") - y_pred), axis=-1)
