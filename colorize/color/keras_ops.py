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

from keras import ops

from colorize import color


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
