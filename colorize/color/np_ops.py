"""CIELAB conversion in NumPy (no TensorFlow), for data loading on any Keras backend.

The same formula as :mod:`colorize.color.tf_ops` and :mod:`colorize.color.keras_ops`
(:func:`colorize.color.rgb_to_lab_with`); float32 in and out.

Example:
    >>> import numpy as np
    >>> l_scaled, ab_scaled = rgb_to_model_io(np.ones((2, 8, 8, 3), np.float32))
    >>> l_scaled.shape, ab_scaled.shape
    ((2, 8, 8, 1), (2, 8, 8, 2))
"""

import numpy as np

from colorize import color


def rgb_to_lab(rgb) -> np.ndarray:
    """sRGB in [0, 1] (last axis 3) -> CIELAB float32 (L in [0, 100], a*b* about [-128, 127])."""
    return color.rgb_to_lab_with(np, np.asarray(rgb, np.float32))


def lab_to_rgb(lab) -> np.ndarray:
    """CIELAB (last axis 3) -> sRGB float32 in [0, 1], clipping colours outside the gamut."""
    return color.lab_to_rgb_with(np, np.asarray(lab, np.float32))


def rgb_to_model_io(rgb) -> tuple[np.ndarray, np.ndarray]:
    """sRGB in [0, 1] -> ``(l_scaled (..., 1), ab_scaled (..., 2))``, the model's input and target."""
    lab = rgb_to_lab(rgb)
    return color.scale_l(lab[..., :1]), color.scale_ab(lab[..., 1:])


def model_io_to_rgb(l_scaled, ab_scaled) -> np.ndarray:
    """Join scaled L and ab into sRGB float32 in [0, 1]."""
    l_scaled = np.asarray(l_scaled, np.float32)
    ab_scaled = np.asarray(ab_scaled, np.float32)
    return lab_to_rgb(np.concatenate([color.unscale_l(l_scaled), color.unscale_ab(ab_scaled)], axis=-1))
