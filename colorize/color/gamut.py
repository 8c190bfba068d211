"""The one Lab -> output RGB: lightness kept, out-of-gamut colours desaturated towards the gray of the same luminance.

Every picture colorize makes goes through :func:`lab_to_rgb`: ``colorize predict``'s
full-resolution photos, what ``colorize evaluate`` scores and saves, and the training
samples. A model can predict a*b* outside the sRGB gamut; clipping each channel to [0, 1]
(:func:`colorize.color.np_ops.lab_to_rgb`, the plain maths) changes the colour's
lightness, so instead such a colour moves along the line from the gray of the same
luminance Y to the colour, in linear RGB, until it fits: Y is linear in RGB, so the whole
line has the same Y (hence the same L), and the gray end is inside the gamut. a*b* = 0 is
exactly that gray (R = G = B), so a gray prediction has no tint after 8-bit rounding.

Example:
    >>> import numpy as np
    >>> rgb = lab_to_rgb(np.full((1, 1), 60.0, np.float32), np.array([[[90.0, -80.0]]], np.float32))
    >>> round(float(np_ops.lightness(rgb)[0, 0]), 1)  # a per-channel clip gives about 57.8
    60.0
"""

import numpy as np

from colorize import color
from colorize.color import np_ops

# Linear RGB of XYZ divided by the white: colorize.color's matrix, rows normalised so that
# X = Y = Z (a*b* = 0) is R = G = B.
_XYZ_FROM_RGB = np.array(color.XYZ_FROM_RGB, np.float64)
_RGB_FROM_XYZ_WHITE = (np.linalg.inv(_XYZ_FROM_RGB) * _XYZ_FROM_RGB.sum(axis=1)[None, :]).astype(np.float32)


def lab_to_rgb(lightness: np.ndarray, ab: np.ndarray, fast: bool = False) -> np.ndarray:
    """CIELAB (L (...), a*b* (..., 2)) -> sRGB float32 (..., 3) in [0, 1]; L is kept.

    Args:
        lightness: L in [0, 100], any shape (finite with ``fast``).
        ab: a*b*, the shape of ``lightness`` plus 2.
        fast: convert through OpenCV's SIMD conversion and redo in NumPy only the pixels
            it clipped (faster on a photo; within 1e-4 of the NumPy path), as
            ``colorize predict`` does at full resolution.

    Returns:
        sRGB in [0, 1]; out-of-gamut colours are desaturated at constant L (see the
        module), a*b* = 0 gives exactly R = G = B, and so does a non-finite a*b* (never NaN).

    Example:
        >>> lab_to_rgb(np.array([50.0], np.float32), np.zeros((1, 2), np.float32)).round(3)
        array([[0.466, 0.466, 0.466]], dtype=float32)
    """
    lightness = np.asarray(lightness, np.float32)
    ab = np.asarray(ab, np.float32)
    if fast:
        rgb = _opencv(lightness.reshape(-1, lightness.shape[-1] if lightness.ndim > 1 else lightness.size), ab)
        return rgb.reshape(lightness.shape + (3,))
    return _numpy(lightness, ab)


def model_io_to_rgb(l_scaled, ab_scaled, fast: bool = False) -> np.ndarray:
    """:func:`lab_to_rgb` of the model's scaled L (..., 1) and scaled a*b* (..., 2): sRGB (..., 3).

    Example:
        >>> model_io_to_rgb(np.zeros((4, 4, 1), np.float32), np.zeros((4, 4, 2), np.float32)).shape
        (4, 4, 3)
    """
    lightness = color.unscale_l(np.asarray(l_scaled, np.float32)[..., 0])
    return lab_to_rgb(lightness, color.unscale_ab(np.asarray(ab_scaled, np.float32)), fast=fast)


def _numpy(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """:func:`lab_to_rgb` in float32 NumPy, every pixel at once."""
    finite = np.isfinite(ab).all(axis=-1, keepdims=True)
    if not finite.all():  # a diverged model's NaN: the gray of L
        ab = np.where(finite, ab, np.float32(0))
    if not np.isfinite(lightness).all():
        lightness = np.nan_to_num(lightness, nan=0.0, posinf=100.0, neginf=0.0)
    fy = (lightness + np.float32(16)) / np.float32(116)
    f = np.stack([fy + ab[..., 0] / np.float32(500), fy, fy - ab[..., 1] / np.float32(200)], axis=-1)
    linear = color._lab_f_inverse(np, f) @ _RGB_FROM_XYZ_WHITE.T
    luminance = color._lab_f_inverse(np, fy)
    # The largest step towards the colour that stays in [0, 1]: set by the highest channel
    # where one is above 1, by the lowest where one is below 0 (every pixel at once: no
    # gathering of the outside ones, 2-4x faster when most are outside, as a vivid model's).
    high = np.maximum(np.maximum(linear[..., 0], linear[..., 1]), linear[..., 2])
    low = np.minimum(np.minimum(linear[..., 0], linear[..., 1]), linear[..., 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(high > 1, (1 - luminance) / (high - luminance), np.float32(1))
        scale = np.where(low < 0, np.minimum(scale, luminance / (luminance - low)), scale)
    luminance = luminance[..., None]
    linear -= luminance
    linear *= scale[..., None]
    linear += luminance
    rgb = np_ops.linear_to_srgb(linear)
    neutral = (ab[..., 0] == 0) & (ab[..., 1] == 0)
    if neutral.any():  # float32 leaves ~1e-7 between the channels of a gray
        rgb[neutral] = np_ops.gray_srgb(lightness[neutral])[:, None]
    return rgb


def _opencv(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """:func:`lab_to_rgb` of (H, W) and (H, W, 2) through OpenCV's conversion, fixed up where it clipped.

    OpenCV clips out-of-gamut colours per channel (which changes L); every pixel it
    left at 0 or at 1 (out of gamut, or at the very edge of it) is redone by the NumPy
    path, and every a*b* = 0 pixel is made exactly gray.
    """
    import cv2

    ab = np.ascontiguousarray(ab, np.float32).reshape(lightness.shape + (2,))
    out = cv2.cvtColor(cv2.merge([np.ascontiguousarray(lightness), ab]), cv2.COLOR_Lab2RGB)
    inside = cv2.inRange(out, (1e-30, 1e-30, 1e-30), (1 - 1e-5, 1 - 1e-5, 1 - 1e-5))
    flat, flat_lightness = out.reshape(-1, 3), lightness.reshape(-1)
    if cv2.countNonZero(inside) < inside.size:
        index = np.flatnonzero(inside.reshape(-1) == 0)
        # L = 0 and L = 100 (black and white in 8-bit scans, often many) keep only their gray.
        extreme = (flat_lightness[index] <= 0) | (flat_lightness[index] >= 100)
        flat[index[extreme]] = (flat_lightness[index[extreme]] >= 100)[:, None]
        index = index[~extreme]
        if index.size:
            flat[index] = _numpy(flat_lightness[index], ab.reshape(-1, 2)[index])
    neutral = cv2.inRange(ab, (0, 0), (0, 0))
    if cv2.countNonZero(neutral):
        index = np.flatnonzero(neutral.reshape(-1))
        flat[index] = np_ops.gray_srgb(flat_lightness[index])[:, None]
    return out
