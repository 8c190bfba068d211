"""NumPy measures of one colorized image against its truth, or of its colours alone (no Keras).

* Errors and agreement: RGB MSE / MAE (0-255), a*b* MSE / MAE, PSNR, SSIM, threshold
  accuracy and the AuC of the pixel-accuracy curve (Zhang et al.).
* Colour alone: colourfulness (Hasler and Suesstrunk), the a*b* histogram, hue entropy and
  the warm share (:class:`HueTally` pools them over a data set).
* :func:`blotchiness`: how often colour changes where the lightness has no edge, the red and
  green patches and smears on one wall that blind judges reject. Checked against judges'
  verdicts (docs/studies.md): it must pick the judged winner of agreed pairs.
* :func:`rebalanced_auc`: Zhang et al.'s class-rebalanced AuC, each pixel weighted by the
  inverse frequency of its true colour, so vivid right colours count and a gray guess
  does not win by matching the common near-gray pixels.

Nothing here imports Keras or TensorFlow (``colorize.metrics`` holds the Keras metrics).
"""

from __future__ import annotations

import numpy as np

# ----------------------------------------------------------- errors, colour, distributions

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


# ------------------------------------------------------------- blotches, rebalanced AuC

#: Long side (px) images are measured at, so a number means the same at any photo size.
MEASURE_SIZE = 256
#: Distance (px at :data:`MEASURE_SIZE`) between the two pixels of a compared pair.
PAIR_STEP = 4
#: A pair is flat when its lightness differs by less than this (L units) and neither pixel
#: lies on an edge (smoothed gradient below :data:`EDGE_GRADIENT` L per px).
FLAT_L = 3.0
EDGE_GRADIENT = 4.0
#: A colour jump: a*b* differing by more than this (Lab units) between the pair's pixels.
#: Small, because a network's patches have soft borders: their a*b* climb a few units per
#: pair, rarely 10 at once (at 10 nearly every judged blotch of the stage-7 models scored 0). Chosen
#: against the blind judges' verdicts (docs/studies.md): 2 agrees with them where 10 does not;
#: a gentle colour gradient (under 2 units per 4 px) still scores 0.
JUMP_AB = 2.0


def _measured(lightness: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L (h, w) and a*b* (h, w, 2) resized to :data:`MEASURE_SIZE` on the long side (:func:`_at_measure_size`)."""
    return _at_measure_size(lightness), _at_measure_size(ab)


def _at_measure_size(array) -> np.ndarray:
    """An (h, w[, c]) array resized to :data:`MEASURE_SIZE` on the long side (area-averaged when
    shrinking, bilinear when enlarging), as float32."""
    import cv2

    height, width = np.shape(array)[:2]
    scale = MEASURE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(np.asarray(array, np.float32), size, interpolation=method)


def flat_pair_steps(lightness, ab) -> np.ndarray:
    """The a*b* step (Lab units) across each flat pixel pair of :func:`blotchiness`, as one array.

    Pairs :data:`PAIR_STEP` apart, across and down, at :data:`MEASURE_SIZE`, whose lightness is
    flat: neither pixel on an edge (smoothed gradient below :data:`EDGE_GRADIENT`) and L within
    :data:`FLAT_L`. Empty when the photo has no flat pairs.
    """
    import cv2

    lightness, ab = _measured(lightness, ab)
    smooth = cv2.GaussianBlur(lightness, (0, 0), 1.0)
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)) / 8
    calm = gradient < EDGE_GRADIENT
    steps = []
    for first, second in (((slice(None), slice(None, -PAIR_STEP)), (slice(None), slice(PAIR_STEP, None))),
                          ((slice(None, -PAIR_STEP), slice(None)), (slice(PAIR_STEP, None), slice(None)))):  # fmt: skip
        pair_flat = calm[first] & calm[second] & (np.abs(lightness[first] - lightness[second]) < FLAT_L)
        steps.append(np.linalg.norm(ab[first] - ab[second], axis=-1)[pair_flat])
    return np.concatenate(steps)


def blotchiness(lightness, ab) -> float:
    """Colour jumps without a lightness edge, as a percentage of the flat pixel pairs.

    Of the flat pixel pairs (:func:`flat_pair_steps`: :data:`PAIR_STEP` apart at
    :data:`MEASURE_SIZE`, neither pixel on an edge, L within :data:`FLAT_L`), the share whose
    a*b* differ by more than :data:`JUMP_AB`. A real photo's colour changes mostly where its
    lightness does; a blotchy colorization paints red and green patches across one flat wall.
    A gray image scores 0: read it beside a measure of colour (colourfulness, rebalanced AuC).

    Args:
        lightness: L (H, W) in [0, 100].
        ab: a*b* (H, W, 2) in Lab units.

    Example:
        >>> flat = np.full((64, 64), 50.0)
        >>> patches = np.zeros((64, 64, 2)); patches[:, 32:, 0] = 40.0  # red right half, same L
        >>> blotchiness(flat, np.zeros((64, 64, 2))), round(blotchiness(flat, patches), 1) > 0
        (0.0, True)
    """
    steps = flat_pair_steps(lightness, ab)
    return 100.0 * float(np.mean(steps > JUMP_AB)) if steps.size else 0.0


def colour_difference(first_ab, second_ab) -> float:
    """How far apart two colorizations of one photo are: the mean a*b* distance (Lab units)
    between them, both at :data:`MEASURE_SIZE` (the second then fitted to the first's shape).

    About 1 is near-identical to the eye; a blind study's judges agree on a pair, and a
    number can pick their winner, mostly where it is several units (docs/studies.md).

    Example:
        >>> red = np.zeros((64, 64, 2)); red[..., 0] = 10.0
        >>> colour_difference(red, np.zeros((128, 128, 2)))
        10.0
    """
    import cv2

    first, second = _at_measure_size(first_ab), _at_measure_size(second_ab)
    if second.shape != first.shape:
        second = cv2.resize(second, first.shape[1::-1], interpolation=cv2.INTER_AREA)
    return float(np.mean(ab_distances(first, second)))


def class_weights(histogram, edges) -> np.ndarray:
    """Inverse frequency (Q,) of each a*b* bin in a data set's histogram (``ab_distribution.npz``).

    Zhang et al.'s rebalanced AuC weights pixels by ``1 / p(bin)`` of their true colour
    (rebalancing lambda 0), with ``p`` the Gaussian-smoothed bin distribution the
    rebalancing loss uses; bins the data never holds are capped at the rarest seen one.
    Normalized so the data set's own pixels average weight 1.
    """
    from colorize.color import bins

    probability = bins.bin_distribution(histogram, edges)
    seen = probability[probability > 0]
    floor = float(seen.min()) if seen.size else 1.0
    weights = 1.0 / np.maximum(probability, floor)
    return weights / float(np.sum(probability * weights))


def _bin_index(ab: np.ndarray) -> np.ndarray:
    """The nearest in-gamut bin of each a*b* (..., 2)."""
    from colorize.color import bins

    centres = bins.gamut_bins()
    grid = bins.GRID
    span = int(np.abs(centres).max() // grid) + 2
    cells = np.arange(-span, span + 1) * grid
    lattice = np.stack(np.meshgrid(cells, cells, indexing="ij"), axis=-1)
    nearest = np.argmin(((lattice[..., None, :] - centres) ** 2).sum(-1), axis=-1)
    index = np.clip(np.round(np.asarray(ab, np.float32) / grid).astype(np.int64) + span, 0, 2 * span)
    return nearest[index[..., 0], index[..., 1]]


def rebalanced_auc(predicted_ab, truth_ab, weights: np.ndarray, max_threshold: int = 150) -> float:
    """Class-rebalanced AuC (Zhang et al. 2016): the pixel-accuracy curve's area, t = 0..150, as a
    percentage, each pixel weighted by ``weights`` (:func:`class_weights`) of its true colour's bin.

    Example:
        >>> weights = np.ones(261)
        >>> rebalanced_auc(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), weights)
        100.0
    """
    truth_ab = np.asarray(truth_ab, np.float32)
    distances = np.linalg.norm(np.asarray(predicted_ab, np.float64) - truth_ab, axis=-1).ravel()
    pixel_weights = np.asarray(weights, np.float64)[_bin_index(truth_ab)].ravel()
    order = np.argsort(distances)
    cumulative = np.concatenate([[0.0], np.cumsum(pixel_weights[order])])
    within = cumulative[np.searchsorted(distances[order], np.arange(max_threshold + 1), side="right")]
    return float(np.mean(within / max(cumulative[-1], 1e-12)) * 100.0)
