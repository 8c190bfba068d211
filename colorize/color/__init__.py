"""CIELAB colour maths: the constants and scaling the models use, and the conversion itself.

Ranges (sRGB, D65 white, 2 degree observer, the same conventions as
``skimage.color.rgb2lab``):

* RGB: float in [0, 1].
* L (lightness): [0, 100].
* a*, b*: about [-128, 127]; the sRGB gamut spans roughly a* in [-86, 98] and
  b* in [-108, 94].

What the networks see (one place for it, used by data, models and inference):

* model input  ``l_scaled  = L / 50 - 1``  in [-1, 1]  (:func:`scale_l`)
* model target ``ab_scaled = ab / 128``    in about [-1, 1], matching a tanh output
  (:func:`scale_ab`)

The conversion is written once (:func:`rgb_to_lab_with`, :func:`lab_to_rgb_with`) over
a small array namespace and offered for three kinds of arrays, each in its own module:

* :mod:`colorize.color.np_ops`: NumPy, for data loading without TensorFlow;
* :mod:`colorize.color.keras_ops`: ``keras.ops``, inside models and losses on any backend;
* :mod:`colorize.color.tf_ops`: TensorFlow ops, for the ``tf.data`` pipeline.

Importing this package does not import TensorFlow; import the module of the arrays you
have (``from colorize.color import np_ops``).

All conversions accept a single image ``(H, W, 3)`` or a batch ``(..., H, W, 3)`` and
return float32. Lab colours outside the sRGB gamut (which a model can predict) convert to
valid RGB by clipping, never NaN. A picture for a user is made by
:func:`colorize.color.gamut.lab_to_rgb` instead, which keeps L (out-of-gamut colours are
desaturated); :mod:`colorize.color.bins` holds the quantized a*b* bins.

Example:
    >>> import numpy as np
    >>> from colorize.color import np_ops
    >>> lab = np_ops.rgb_to_lab(np.array([[[1.0, 0.0, 0.0]]], "float32"))
    >>> [round(float(v), 1) for v in lab[0, 0]]
    [53.2, 80.1, 67.2]
"""

import numpy as np

L_MAX = 100.0
L_HALF = 50.0
AB_SCALE = 128.0

# sRGB (D65) <-> XYZ, as in scikit-image.
XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
# The D65 white as the matrix maps RGB white (1, 1, 1): within 1e-4 of (0.95047, 1, 1.08883),
# and it makes a* = b* = 0 exactly neutral (R = G = B), so gray stays gray.
D65 = tuple(sum(row) for row in XYZ_FROM_RGB)
RGB_FROM_XYZ = tuple(tuple(float(v) for v in row) for row in np.linalg.inv(np.array(XYZ_FROM_RGB, np.float64)))
EPSILON = 0.008856  # (6/29)^3
KAPPA = 7.787  # (29/6)^2 / 3
OFFSET = 16.0 / 116.0
_F_EPSILON = 0.2068966  # 6/29: f(EPSILON)


def scale_l(lightness):
    """Map L in [0, 100] to the networks' input range [-1, 1]."""
    return lightness / L_HALF - 1.0


def unscale_l(l_scaled):
    """Inverse of :func:`scale_l`: [-1, 1] back to L in [0, 100]."""
    return (l_scaled + 1.0) * L_HALF


def scale_ab(ab):
    """Map a*b* (about [-128, 127]) to the networks' target range (about [-1, 1])."""
    return ab / AB_SCALE


def unscale_ab(ab_scaled):
    """Inverse of :func:`scale_ab`."""
    return ab_scaled * AB_SCALE


# -- The conversion, once, over an array namespace ---------------------------------------------
# ``xp`` provides clip, where, maximum, exp, log and stack with NumPy's meaning (NumPy itself,
# keras.ops, or TensorFlow ops under those names). Channels are computed one by one with
# elementwise ops only: XLA fuses the whole conversion into one loop.


def _power(xp, positive, exponent):
    """``x ** exponent`` for x > 0 via exp/log (~4x faster than tf.pow on CPU)."""
    return xp.exp(exponent * xp.log(positive))


def _lab_f(xp, t):
    """CIELAB's f(t): the cube root above (6/29)^3, a line below."""
    return xp.where(t > EPSILON, _power(xp, xp.maximum(t, EPSILON), 1.0 / 3.0), KAPPA * t + OFFSET)


def _lab_f_inverse(xp, f):
    return xp.where(f > _F_EPSILON, f * f * f, (f - OFFSET) / KAPPA)


def rgb_to_lab_with(xp, rgb):
    """sRGB in [0, 1] (float32, last axis 3) -> CIELAB, with the array namespace ``xp``."""
    rgb = xp.clip(rgb, 0.0, 1.0)
    linear = xp.where(rgb <= 0.04045, rgb / 12.92, _power(xp, (xp.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4))
    red, green, blue = linear[..., 0], linear[..., 1], linear[..., 2]
    fx, fy, fz = (
        _lab_f(xp, (row[0] * red + row[1] * green + row[2] * blue) / white) for row, white in zip(XYZ_FROM_RGB, D65)
    )
    return xp.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb_with(xp, lab):
    """CIELAB (float32, last axis 3) -> sRGB in [0, 1], clipped, with the array namespace ``xp``."""
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (lightness + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = xp.maximum(fy - b / 200.0, 0.0)
    x, y, z = (_lab_f_inverse(xp, f) * white for f, white in zip((fx, fy, fz), D65))
    channels = [linear_to_srgb_with(xp, row[0] * x + row[1] * y + row[2] * z) for row in RGB_FROM_XYZ]
    return xp.clip(xp.stack(channels, axis=-1), 0.0, 1.0)


def linear_to_srgb_with(xp, linear):
    """The sRGB encoding curve of linear RGB values (not clipped), with the array namespace ``xp``."""
    return xp.where(
        linear > 0.0031308,
        1.055 * _power(xp, xp.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
        12.92 * linear,
    )
