"""Measures of colour that agree with people: blotchiness and the class-rebalanced AuC (NumPy).

* :func:`blotchiness`: how often colour jumps where the lightness has no edge, the red and
  green patches on one wall that blind judges reject. Checked against judges'
  verdicts (docs/studies.md): it must pick the judged winner of agreed pairs.
* :func:`rebalanced_auc`: Zhang et al.'s class-rebalanced AuC, each pixel weighted by the
  inverse frequency of its true colour, so vivid right colours count and a gray guess
  does not win by matching the common near-gray pixels.

Neither imports Keras or TensorFlow.
"""

from __future__ import annotations

import numpy as np

#: Long side (px) images are measured at, so a number means the same at any photo size.
MEASURE_SIZE = 256
#: Distance (px at :data:`MEASURE_SIZE`) between the two pixels of a compared pair.
PAIR_STEP = 4
#: A pair is flat when its lightness differs by less than this (L units) and neither pixel
#: lies on an edge (smoothed gradient below :data:`EDGE_GRADIENT` L per px).
FLAT_L = 3.0
EDGE_GRADIENT = 4.0
#: A colour jump: a*b* differing by more than this (Lab units).
JUMP_AB = 10.0


def _measured(lightness: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L (h, w) and a*b* (h, w, 2) resized to :data:`MEASURE_SIZE` on the long side (area-averaged
    when shrinking, bilinear when enlarging)."""
    import cv2

    height, width = lightness.shape
    scale = MEASURE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    lightness = cv2.resize(np.asarray(lightness, np.float32), size, interpolation=method)
    ab = cv2.resize(np.asarray(ab, np.float32), size, interpolation=method)
    return lightness, ab


def blotchiness(lightness, ab) -> float:
    """Colour jumps without a lightness edge, as a percentage of the flat pixel pairs.

    Pixel pairs :data:`PAIR_STEP` apart (across and down, at :data:`MEASURE_SIZE`) whose
    lightness is flat (neither pixel on an edge, L within :data:`FLAT_L`) are counted; the
    measure is the share of them whose a*b* differ by more than :data:`JUMP_AB`. A real
    photo's colour changes mostly where its lightness does; a blotchy colorization paints
    red and green patches across one flat wall. A gray image scores 0: read it beside a
    measure of colour (colourfulness, rebalanced AuC).

    Args:
        lightness: L (H, W) in [0, 100].
        ab: a*b* (H, W, 2) in Lab units.

    Example:
        >>> flat = np.full((64, 64), 50.0)
        >>> patches = np.zeros((64, 64, 2)); patches[:, 32:, 0] = 40.0  # red right half, same L
        >>> blotchiness(flat, np.zeros((64, 64, 2))), round(blotchiness(flat, patches), 1) > 0
        (0.0, True)
    """
    import cv2

    lightness, ab = _measured(lightness, ab)
    smooth = cv2.GaussianBlur(lightness, (0, 0), 1.0)
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)) / 8
    calm = gradient < EDGE_GRADIENT
    flat = jumps = 0
    for first, second in (((slice(None), slice(None, -PAIR_STEP)), (slice(None), slice(PAIR_STEP, None))),
                          ((slice(None, -PAIR_STEP), slice(None)), (slice(PAIR_STEP, None), slice(None)))):  # fmt: skip
        pair_flat = calm[first] & calm[second] & (np.abs(lightness[first] - lightness[second]) < FLAT_L)
        jump = np.linalg.norm(ab[first] - ab[second], axis=-1) > JUMP_AB
        flat += int(pair_flat.sum())
        jumps += int((pair_flat & jump).sum())
    return 100.0 * jumps / flat if flat else 0.0


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
