"""Colorization metrics: Keras metrics for training on scaled ab tensors."""

from __future__ import annotations

import keras
from keras import ops

from colorize.color import AB_SCALE


@keras.saving.register_keras_serializable(package="colorize")
class AbMAE(keras.metrics.Mean):
    """Mean absolute a*b* error in Lab units (targets and predictions are scaled ab)."""

    def __init__(self, name="ab_mae", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = ops.abs(ops.cast(y_true, "float32") - ops.cast(y_pred, "float32")) * AB_SCALE
        return super().update_state(ops.mean(error, axis=(1, 2, 3)), sample_weight=sample_weight)


@keras.saving.register_keras_serializable(package="colorize")
class ThresholdAccuracy(keras.metrics.Mean):
    """Share of pixels whose predicted ab lies within ``threshold`` Lab units of the truth (seed 004).

    The distance is Euclidean in the (a*, b*) plane.
    """

    def __init__(self, threshold=10.0, name="threshold_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        difference = (ops.cast(y_true, "float32") - ops.cast(y_pred, "float32")) * AB_SCALE
        distance = ops.sqrt(ops.sum(ops.square(difference), axis=-1))
        within = ops.cast(distance <= self.threshold, "float32")
        return super().update_state(ops.mean(within, axis=(1, 2)), sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}
