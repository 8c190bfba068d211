"""CIELAB conversion as TensorFlow ops, for the ``tf.data`` pipeline (see :mod:`colorize.color`).

Every function accepts a single image ``(H, W, 3)`` or a batch ``(..., H, W, 3)``, runs
inside ``tf.data`` (whatever the Keras backend) and returns float32 tensors.

Example:
    >>> import numpy as np
    >>> from colorize.color import tf_ops
    >>> lab = tf_ops.rgb_to_lab(np.ones((4, 4, 3), "float32"))  # white: L=100, a=b=0
"""

import types

import tensorflow as tf

from colorize import color

# TensorFlow ops under the NumPy names the shared conversion uses.
_TF = types.SimpleNamespace(
    clip=tf.clip_by_value, where=tf.where, maximum=tf.maximum, exp=tf.exp, log=tf.math.log, stack=tf.stack
)


def rgb_to_lab(rgb):
    """Convert sRGB in [0, 1] to CIELAB (L in [0, 100], a*b* about [-128, 127]).

    Args:
        rgb: float tensor or array, last axis 3, values in [0, 1].

    Returns:
        float32 tensor of the same shape: L, a*, b*.
    """
    return color.rgb_to_lab_with(_TF, tf.convert_to_tensor(rgb, tf.float32))


def lab_to_rgb(lab):
    """Convert CIELAB to sRGB in [0, 1], clipping colours outside the gamut (never NaN).

    Example:
        >>> rgb = lab_to_rgb(tf.constant([[50.0, 200.0, -200.0]]))  # out of gamut
        >>> bool(tf.reduce_all((rgb >= 0) & (rgb <= 1)))
        True
    """
    return color.lab_to_rgb_with(_TF, tf.convert_to_tensor(lab, tf.float32))


def rgb_to_model_io(rgb):
    """Split sRGB in [0, 1] into the model's input and target.

    Returns:
        ``(l_scaled, ab_scaled)``: shapes ``(..., 1)`` and ``(..., 2)``.
    """
    lab = rgb_to_lab(rgb)
    return color.scale_l(lab[..., :1]), color.scale_ab(lab[..., 1:])


def model_io_to_rgb(l_scaled, ab_scaled):
    """Join a model's input L and predicted ab (both scaled) into sRGB in [0, 1]."""
    l_scaled = tf.cast(l_scaled, tf.float32)
    ab_scaled = tf.cast(ab_scaled, tf.float32)
    return lab_to_rgb(tf.concat([color.unscale_l(l_scaled), color.unscale_ab(ab_scaled)], axis=-1))
