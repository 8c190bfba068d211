"""Colorization metrics from the papers the models come from.

* Keras metrics (registered, for ``model.compile``) on scaled ab tensors:
  :class:`AbMAE`, :class:`ThresholdAccuracy`, :class:`AbAuC`.
* NumPy functions on one image, used by :mod:`colorize.evaluation`: RGB MSE / MAE
  (0-255), ab MSE / MAE, PSNR, SSIM, colourfulness (Hasler and Suesstrunk),
  threshold accuracy, the AuC of the pixel-accuracy curve, and the ab distribution.
"""

from __future__ import annotations

import keras
import numpy as np
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
# NumPy metrics on single images, used by colorize.evaluation.
# rgb arrays are float in [0, 1] (H, W, 3); ab arrays are Lab units (H, W, 2).
# ---------------------------------------------------------------------------

THRESHOLD = 10.0
AUC_MAX_THRESHOLD = 150


def rgb_mse(predicted, truth) -> float:
    """Mean squared error on RGB in 0-255 (the VGGFace fusion paper, Tables V-VI)."""
    difference = (np.asarray(predicted, np.float64) - np.asarray(truth, np.float64)) * 255.0
    return float(np.mean(difference**2))


def rgb_mae(predicted, truth) -> float:
    """Mean absolute error on RGB in 0-255."""
    return float(np.mean(np.abs((np.asarray(predicted, np.float64) - np.asarray(truth, np.float64)) * 255.0)))


def ab_mse(predicted_ab, truth_ab) -> float:
    """Mean squared error on a*b* (Lab units)."""
    return float(np.mean((np.asarray(predicted_ab, np.float64) - np.asarray(truth_ab, np.float64)) ** 2))


def ab_mae(predicted_ab, truth_ab) -> float:
    """Mean absolute error on a*b* (Lab units)."""
    return float(np.mean(np.abs(np.asarray(predicted_ab, np.float64) - np.asarray(truth_ab, np.float64))))


def psnr(predicted, truth) -> float:
    """Peak signal-to-noise ratio on RGB (dB); infinite for identical images."""
    import skimage.metrics

    if np.array_equal(predicted, truth):
        return float("inf")
    return float(skimage.metrics.peak_signal_noise_ratio(truth, predicted, data_range=1.0))


def ssim(predicted, truth) -> float:
    """Structural similarity on RGB (scikit-image, channel axis last)."""
    import skimage.metrics

    window = min(7, *np.asarray(truth).shape[:2])
    window -= 1 - window % 2  # odd
    return float(
        skimage.metrics.structural_similarity(truth, predicted, data_range=1.0, channel_axis=-1, win_size=max(window, 3))
    )


def colourfulness(rgb) -> float:
    """Hasler and Suesstrunk's colourfulness M of an RGB image (the VGGFace fusion paper, Table IV).

    ``rg = R - G``, ``yb = (R + G) / 2 - B`` on 0-255 values;
    ``M = sqrt(std_rg^2 + std_yb^2) + 0.3 * sqrt(mean_rg^2 + mean_yb^2)``.
    A gray image scores 0; "moderately colourful" is about 33, "highly" about 45.
    """
    rgb = np.asarray(rgb, np.float64) * 255.0
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = red - green
    yb = 0.5 * (red + green) - blue
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def ab_distances(predicted_ab, truth_ab) -> np.ndarray:
    """Per-pixel Euclidean distance in the (a*, b*) plane."""
    difference = np.asarray(predicted_ab, np.float64) - np.asarray(truth_ab, np.float64)
    return np.sqrt(np.sum(difference**2, axis=-1))


def threshold_accuracy(predicted_ab, truth_ab, threshold: float = THRESHOLD) -> float:
    """Share of pixels whose predicted ab is within ``threshold`` of the truth (the DigiFace report)."""
    return float(np.mean(ab_distances(predicted_ab, truth_ab) <= threshold))


def accuracy_curve(predicted_ab, truth_ab, max_threshold: int = AUC_MAX_THRESHOLD) -> np.ndarray:
    """Share of pixels within t, for t = 0, 1, ..., ``max_threshold``."""
    distances = np.sort(ab_distances(predicted_ab, truth_ab).ravel())
    thresholds = np.arange(max_threshold + 1)
    return np.searchsorted(distances, thresholds, side="right") / max(distances.size, 1)


def auc(predicted_ab, truth_ab, max_threshold: int = AUC_MAX_THRESHOLD) -> float:
    """Area under the pixel-accuracy curve, t from 0 to 150, as a percentage (Zhang et al. 2016).

    The mean of :func:`accuracy_curve` over the integer thresholds, so a perfect
    prediction scores 100 and a constant error of 10 scores 141 / 151 (Zhang et al.'s AuC).

    Example:
        >>> auc(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
        100.0
    """
    return float(np.mean(accuracy_curve(predicted_ab, truth_ab, max_threshold)) * 100.0)


def delta_m(predicted_rgb, truth_rgb) -> float:
    """Colourfulness difference M(prediction) - M(truth) (the VGGFace fusion paper, eq. 4; its mean is ΔM)."""
    return colourfulness(predicted_rgb) - colourfulness(truth_rgb)


AB_EDGES = np.arange(-110, 111, 10, dtype=np.float64)


def ab_histogram(ab, edges=AB_EDGES) -> np.ndarray:
    """Pixel counts of a*b* on the 10-unit grid (values outside are clipped into the edge bins)."""
    ab = np.asarray(ab, np.float64).reshape(-1, 2)
    ab = np.clip(ab, edges[0], edges[-1] - 1e-6)
    histogram, _, _ = np.histogram2d(ab[:, 0], ab[:, 1], bins=[edges, edges])
    return histogram


def log_histogram(histogram) -> np.ndarray:
    """``log(1 + counts)``: the image of the distribution shown in the U-Net / uVGG-net poster, figure 6."""
    return np.log1p(np.asarray(histogram, np.float64))


def distribution_summary(histogram) -> dict:
    """Share of empty buckets and the largest bucket's share (the U-Net / uVGG-net poster, figure 6)."""
    histogram = np.asarray(histogram, np.float64)
    total = histogram.sum()
    return {
        "empty_buckets": float(np.mean(histogram == 0)),
        "largest_bucket": float(histogram.max() / total) if total else 0.0,
    }


# ---------------------------------------------------------------------------
# Colour measures that need no truth (hue spread, warm cast) and the overlap of two
# a*b* distributions. ab arrays are Lab units, any shape (..., 2).
# ---------------------------------------------------------------------------

CHROMA_THRESHOLD = 10.0  # pixels at or below this chroma are "neutral" and carry no hue
HUE_BINS = 18  # 20 degrees each
WARM_SECTOR = (0.0, 90.0)  # hue angles of reds, oranges, yellows: skin, sepia, brown


def hue_angles(ab, chroma_threshold: float = CHROMA_THRESHOLD) -> np.ndarray:
    """Hue angles in degrees, [0, 360), of the pixels whose chroma exceeds ``chroma_threshold``.

    The hue is ``atan2(b*, a*)`` (0 = red/magenta axis a* > 0, 90 = yellow b* > 0,
    180 = green, 270 = blue); the chroma is ``sqrt(a*^2 + b*^2)``.

    Example:
        >>> hue_angles(np.array([[20.0, 0.0], [0.0, 20.0], [3.0, 3.0]])).tolist()
        [0.0, 90.0]
    """
    ab = np.asarray(ab, np.float64).reshape(-1, 2)
    chromatic = ab[np.hypot(ab[:, 0], ab[:, 1]) > chroma_threshold]
    return np.mod(np.degrees(np.arctan2(chromatic[:, 1], chromatic[:, 0])), 360.0)


def hue_histogram(ab, num_bins: int = HUE_BINS, chroma_threshold: float = CHROMA_THRESHOLD) -> np.ndarray:
    """Counts of chromatic pixels in ``num_bins`` equal hue sectors starting at 0 degrees.

    Histograms of several images add up to the pooled histogram of the set.

    Example:
        >>> hue_histogram(np.array([[20.0, 0.0], [0.0, 20.0]]))[[0, 4]].tolist()
        [1.0, 1.0]
    """
    angles = hue_angles(ab, chroma_threshold)
    bins = np.minimum((angles * (num_bins / 360.0)).astype(np.int64), num_bins - 1)
    return np.bincount(bins, minlength=num_bins).astype(np.float64)


def entropy_bits(counts) -> float:
    """Shannon entropy in bits of a histogram of counts; 0 for an empty histogram.

    Example:
        >>> entropy_bits([5, 5, 0])
        1.0
    """
    counts = np.asarray(counts, np.float64).ravel()
    total = counts.sum()
    if total <= 0:
        return 0.0
    shares = counts[counts > 0] / total
    return float(max(0.0, -np.sum(shares * np.log2(shares))))


def hue_entropy(ab, num_bins: int = HUE_BINS, chroma_threshold: float = CHROMA_THRESHOLD) -> float:
    """Hue entropy in bits: how many different hues an image uses (issue 10).

    The entropy of :func:`hue_histogram` (18 sectors of 20 degrees over the pixels with
    chroma > 10). One hue everywhere scores 0, two hues in equal shares 1 bit, all 18
    sectors equally ``log2(18)`` = 4.17 bits. A gray image (no chromatic pixel) scores 0.

    Example:
        >>> hue_entropy(np.array([[20.0, 0.0], [-20.0, 0.0]]))  # red and green, one pixel each
        1.0
    """
    return entropy_bits(hue_histogram(ab, num_bins, chroma_threshold))


def warm_counts(ab, chroma_threshold: float = CHROMA_THRESHOLD) -> tuple[int, int]:
    """(pixels with a hue in :data:`WARM_SECTOR`, chromatic pixels): the parts of :func:`warm_share`.

    Example:
        >>> warm_counts(np.array([[20.0, 5.0], [-20.0, 0.0], [1.0, 1.0]]))
        (1, 2)
    """
    angles = hue_angles(ab, chroma_threshold)
    warm = (angles >= WARM_SECTOR[0]) & (angles < WARM_SECTOR[1])
    return int(np.count_nonzero(warm)), int(angles.size)


def warm_share(ab, chroma_threshold: float = CHROMA_THRESHOLD) -> float:
    """Share of the chromatic pixels (chroma > 10) whose hue lies in [0, 90) degrees.

    Skin, sepia and brown live there; a model that paints everything skin-coloured
    scores near 1. An image without chromatic pixels scores 0.

    Example:
        >>> warm_share(np.array([[20.0, 5.0], [-20.0, 0.0], [0.0, -30.0], [10.0, 30.0]]))
        0.5
    """
    warm, chromatic = warm_counts(ab, chroma_threshold)
    return warm / chromatic if chromatic else 0.0


def histogram_intersection(first, second) -> float:
    """Overlap of two distributions: the sum of the bin-wise minimum of the normalized histograms.

    1 for the same distribution, 0 for disjoint ones (the U-Net / uVGG-net poster compares the predicted and
    true a*b* distributions; pass two :func:`ab_histogram` results). 0 if either is empty.

    Example:
        >>> histogram_intersection([2, 2, 0], [0, 1, 1])
        0.5
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if first.shape != second.shape:
        raise ValueError(f"histograms of different shapes: {first.shape} and {second.shape}")
    total_first, total_second = first.sum(), second.sum()
    if total_first <= 0 or total_second <= 0:
        return 0.0
    return float(np.minimum(first / total_first, second / total_second).sum())


class HueTally:
    """Pooled hue statistics of a set of images: add each image's a*b*, read the measures.

    Example:
        >>> tally = HueTally()
        >>> tally.add(np.array([[20.0, 5.0]]))
        >>> tally.add(np.array([[-20.0, 0.0], [0.0, 0.0]]))
        >>> tally.hue_entropy, tally.warm_share, tally.chromatic_share
        (1.0, 0.5, 0.6666666666666666)
    """

    def __init__(self, num_bins: int = HUE_BINS, chroma_threshold: float = CHROMA_THRESHOLD):
        self.num_bins = num_bins
        self.chroma_threshold = chroma_threshold
        self.histogram = np.zeros(num_bins)
        self.warm = 0
        self.pixels = 0

    def add(self, ab) -> None:
        """Count one image's (or batch's) a*b* pixels."""
        ab = np.asarray(ab, np.float64).reshape(-1, 2)
        self.histogram += hue_histogram(ab, self.num_bins, self.chroma_threshold)
        self.warm += warm_counts(ab, self.chroma_threshold)[0]
        self.pixels += len(ab)

    @property
    def hue_entropy(self) -> float:
        """:func:`hue_entropy` of all pixels added."""
        return entropy_bits(self.histogram)

    @property
    def warm_share(self) -> float:
        """:func:`warm_share` of all pixels added."""
        chromatic = self.histogram.sum()
        return float(self.warm / chromatic) if chromatic else 0.0

    @property
    def chromatic_share(self) -> float:
        """Share of all pixels added whose chroma exceeds the threshold."""
        return float(self.histogram.sum() / self.pixels) if self.pixels else 0.0
