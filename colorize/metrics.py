"""Colorization metrics from the papers the models come from.

* Keras metrics (registered, for ``model.compile``) on scaled ab tensors:
  :class:`AbMAE`, :class:`ThresholdAccuracy`, :class:`AbAuC`.

The NumPy measures of one image (RGB and a*b* errors, PSNR, SSIM, colourfulness, the AuC,
the a*b* and hue distributions) live in :mod:`colorize.measures`, which imports no Keras;
their names stay importable from here for Keras users' scripts.
"""

from __future__ import annotations

import keras
from keras import ops

from colorize.color import AB_SCALE
from colorize.measures import (  # noqa: F401  (re-exported: the NumPy measures' home is colorize.measures)
    THRESHOLD,
    AUC_MAX_THRESHOLD,
    rgb_mse,
    rgb_mae,
    ab_mse,
    ab_mae,
    psnr,
    ssim,
    colourfulness,
    ab_distances,
    threshold_accuracy,
    accuracy_curve,
    auc,
    delta_m,
    AB_EDGES,
    ab_histogram,
    log_histogram,
    distribution_summary,
    CHROMA_THRESHOLD,
    HUE_BINS,
    WARM_SECTOR,
    hue_angles,
    hue_histogram,
    entropy_bits,
    hue_entropy,
    warm_counts,
    warm_share,
    histogram_intersection,
    HueTally,
)


@keras.saving.register_keras_serializable(package="colorize")
class AbMAE(keras.metrics.Mean):
    """Mean absolute a*b* error in Lab units (targets and predictions are scaled ab)."""

    def __init__(self, name="ab_mae", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = ops.abs(ops.cast(y_true, "float32") - ops.cast(y_pred, "float32")) * AB_SCALE
        return super().update_state(ops.mean(error, axis=(1, 2, 3)), sample_weight=sample_weight)


def _ab_distance(y_true, y_pred):
    """Per-pixel Euclidean a*b* distance (Lab units) of two scaled a*b* tensors (``keras.ops``)."""
    difference = (ops.cast(y_true, "float32") - ops.cast(y_pred, "float32")) * AB_SCALE
    return ops.sqrt(ops.sum(ops.square(difference), axis=-1))


@keras.saving.register_keras_serializable(package="colorize")
class ThresholdAccuracy(keras.metrics.Mean):
    """Share of pixels whose predicted ab lies within ``threshold`` Lab units of the truth (the DigiFace report's threshold accuracy).

    The distance is Euclidean in the (a*, b*) plane.
    """

    def __init__(self, threshold=10.0, name="threshold_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        distance = _ab_distance(y_true, y_pred)
        within = ops.cast(distance <= self.threshold, "float32")
        return super().update_state(ops.mean(within, axis=(1, 2)), sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="colorize")
class AbAuC(keras.metrics.Mean):
    """Area under the curve of "share of pixels within t" for t = 0..``max_threshold`` (percent).

    The same measure as :func:`auc`, on scaled ab tensors, usable in ``model.compile``.
    """

    def __init__(self, max_threshold=150, name="auc", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.max_threshold = int(max_threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        distance = _ab_distance(y_true, y_pred)
        # A pixel at distance d is within t for the integer thresholds t = ceil(d)..max_threshold,
        # so the mean over thresholds needs no (pixels x thresholds) tensor.
        count = ops.clip(self.max_threshold + 1.0 - ops.ceil(distance), 0.0, self.max_threshold + 1.0)
        per_image = ops.mean(count, axis=(1, 2)) * (100.0 / (self.max_threshold + 1))
        return super().update_state(per_image, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "max_threshold": self.max_threshold}


# ---------------------------------------------------------------------------
# NumPy metrics on single images, used by colorize.evaluate.
# rgb arrays are float in [0, 1] (H, W, 3); ab arrays are Lab units (H, W, 2).
# ---------------------------------------------------------------------------
