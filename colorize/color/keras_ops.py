"""CIELAB conversion in ``keras.ops``: inside models, losses and metrics on any backend.

The same formula as :mod:`colorize.color.np_ops` and :mod:`colorize.color.tf_ops`
(:func:`colorize.color.rgb_to_lab_with`); it is differentiable, so a loss can compare
colours in RGB.

Example:
    >>> import numpy as np
    >>> rgb = model_io_to_rgb(np.zeros((1, 4, 4, 1), "float32"), np.zeros((1, 4, 4, 2), "float32"))
    >>> tuple(rgb.shape)
    (1, 4, 4, 3)
"""

import numpy as np
from keras import ops

from colorize import color
from colorize.color import AB_SCALE
from colorize.color.bins import GRID, TEMPERATURE, gamut_bins


def rgb_to_lab(rgb):
    """sRGB in [0, 1] (last axis 3) -> CIELAB float32 tensor."""
    return color.rgb_to_lab_with(ops, ops.cast(rgb, "float32"))


def lab_to_rgb(lab):
    """CIELAB (last axis 3) -> sRGB float32 tensor in [0, 1], clipping colours outside the gamut."""
    return color.lab_to_rgb_with(ops, ops.cast(lab, "float32"))


def rgb_to_model_io(rgb):
    """sRGB in [0, 1] -> ``(l_scaled (..., 1), ab_scaled (..., 2))``."""
    lab = rgb_to_lab(rgb)
    return color.scale_l(lab[..., :1]), color.scale_ab(lab[..., 1:])


def model_io_to_rgb(l_scaled, ab_scaled):
    """Join scaled L and ab tensors into sRGB float32 in [0, 1]."""
    lab = ops.concatenate(
        [color.unscale_l(ops.cast(l_scaled, "float32")), color.unscale_ab(ops.cast(ab_scaled, "float32"))], axis=-1
    )
    return lab_to_rgb(lab)


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
