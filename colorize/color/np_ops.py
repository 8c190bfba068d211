"""CIELAB conversion in NumPy (no TensorFlow): for data loading on any Keras backend, and
for photos at full resolution.

:func:`rgb_to_lab`, :func:`lab_to_rgb` and the model I/O helpers are the same formula as
:mod:`colorize.color.tf_ops` and :mod:`colorize.color.keras_ops`
(:func:`colorize.color.rgb_to_lab_with`); float32 in and out: the plain maths, which
clips out-of-gamut colours per channel. Pictures a user sees are made by
:func:`colorize.color.gamut.lab_to_rgb` instead (L kept). The helpers below them read a
photo's lightness at full resolution in strips (:func:`lightness`, :func:`gray_levels`, ...).

Example:
    >>> import numpy as np
    >>> l_scaled, ab_scaled = rgb_to_model_io(np.ones((2, 8, 8, 3), np.float32))
    >>> l_scaled.shape, ab_scaled.shape
    ((2, 8, 8, 1), (2, 8, 8, 2))
"""

import functools

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
    """Join scaled L and ab into sRGB float32 in [0, 1], clipped per channel (the plain maths;
    a picture for a user: :func:`colorize.color.gamut.model_io_to_rgb`)."""
    l_scaled = np.asarray(l_scaled, np.float32)
    ab_scaled = np.asarray(ab_scaled, np.float32)
    return lab_to_rgb(np.concatenate([color.unscale_l(l_scaled), color.unscale_ab(ab_scaled)], axis=-1))


# -- Photos at full resolution ------------------------------------------------------------------
# ``colorize predict`` joins a photo's own lightness with predicted a*b* (colorize.color.gamut):
# the lightness is read here, on strips of rows, so a large photo needs little memory.

STRIP_ROWS = 256  # rows converted at a time at full resolution
L_CODE_SCALE = 655.35  # L in [0, 100] stored as uint16 codes L * 655.35 (steps of 0.0015)

# sRGB (D65) -> XYZ, colorize.color's matrix, and the white it maps (1, 1, 1) to.
_XYZ_FROM_RGB = np.array(color.XYZ_FROM_RGB, np.float64)
_WHITE = _XYZ_FROM_RGB.sum(axis=1)
LUMA = (_XYZ_FROM_RGB[1] / _WHITE[1]).astype(np.float32)  # Y of linear RGB


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] -> linear RGB, float32 (values outside [0, 1] are clipped)."""
    import cv2  # cv2.pow: ~2.5x faster than NumPy's ** on float32

    values = np.clip(values, 0.0, 1.0, dtype=np.float32)
    curve = cv2.pow((values + np.float32(0.055)) / np.float32(1.055), 2.4)
    return np.where(values <= 0.04045, values / np.float32(12.92), curve)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> sRGB in [0, 1], float32 (values outside [0, 1] are clipped).

    Through a table of the sRGB curve at 2^20 evenly spaced linear values (at most 7e-6
    from the formula, under a tenth of a 16-bit step): one look-up per value instead of a
    power, 8x faster on the colours ``colorize predict`` has to bring into the gamut.
    """
    scaled = np.clip(linear, 0.0, 1.0, dtype=np.float32)
    scaled *= np.float32(_SRGB_TABLE_SIZE - 1)
    scaled += np.float32(0.5)
    return np.take(_srgb_table(), scaled.astype(np.int32))


_SRGB_TABLE_SIZE = 1 << 20


@functools.lru_cache(maxsize=1)
def _srgb_table() -> np.ndarray:
    return color.linear_to_srgb_with(np, np.linspace(0.0, 1.0, _SRGB_TABLE_SIZE)).astype(np.float32)


def _lab_f(t: np.ndarray) -> np.ndarray:
    """CIELAB's f(t) with NumPy's cube root (faster and closer than exp/log at full size)."""
    return np.where(t > color.EPSILON, np.cbrt(np.maximum(t, color.EPSILON)), t * color.KAPPA + color.OFFSET)


def _lightness_of_luminance(luminance: np.ndarray) -> np.ndarray:
    return np.float32(116) * _lab_f(luminance) - np.float32(16)


def lightness(rgb: np.ndarray, levels: int | None = None) -> np.ndarray:
    """CIELAB L (H, W) float32 of sRGB (H, W, 3) in [0, 1], in strips of rows.

    L depends only on the luminance Y, so this is also the L of the photo turned gray.
    With ``levels=255`` (values that are exactly k / 255, as from 8-bit files) the
    sRGB -> linear step is a table lookup.
    """
    table = srgb_to_linear(np.arange(levels + 1, dtype=np.float32) / np.float32(levels)) if levels else None
    result = np.empty(rgb.shape[:2], np.float32)
    for top in range(0, rgb.shape[0], STRIP_ROWS):
        strip = rgb[top : top + STRIP_ROWS]
        if table is not None:
            linear = table[np.rint(strip * np.float32(levels)).astype(np.uint16)]
        else:
            linear = srgb_to_linear(strip)
        result[top : top + STRIP_ROWS] = _lightness_of_luminance(linear @ LUMA)
    return result


def gray_srgb(lightness: np.ndarray) -> np.ndarray:
    """sRGB gray value (H, W) in [0, 1] of CIELAB lightness L."""
    return linear_to_srgb(color._lab_f_inverse(np, (lightness + np.float32(16)) / np.float32(116)))


@functools.lru_cache(maxsize=4)
def lightness_table(levels: int | None) -> np.ndarray:
    """float32 L of every code: gray k / levels (8- or 16-bit gray samples), or k / L_CODE_SCALE."""
    if levels is None:
        return np.arange(65536, dtype=np.float32) / np.float32(L_CODE_SCALE)
    return _lightness_of_luminance(srgb_to_linear(np.arange(levels + 1, dtype=np.float32) / np.float32(levels)))


def lightness_codes(values: np.ndarray) -> np.ndarray:
    """uint16 L codes (H, W) (``L * L_CODE_SCALE``, see :func:`lightness_table`) of colour
    (H, W, 3) or float gray (H, W) samples (uint8, uint16 or float in [0, 1]), in strips."""
    peak = float(np.iinfo(values.dtype).max) if values.dtype in (np.uint8, np.uint16) else 1.0
    table = srgb_to_linear(np.arange(256, dtype=np.float32) / np.float32(255)) if values.dtype == np.uint8 else None
    codes = np.empty(values.shape[:2], np.uint16)
    for top in range(0, values.shape[0], STRIP_ROWS):
        strip = values[top : top + STRIP_ROWS]
        linear = table[strip] if table is not None else srgb_to_linear(strip.astype(np.float32) / np.float32(peak))
        luminance = linear @ LUMA if linear.ndim == 3 else linear
        codes[top : top + STRIP_ROWS] = np.rint(np.clip(_lightness_of_luminance(luminance), 0, 100) * np.float32(L_CODE_SCALE))
    return codes


def gray_levels(rgb: np.ndarray) -> np.ndarray:
    """The 8-bit gray (H, W) uint8 nearest in CIELAB L to each 8-bit sRGB colour (H, W, 3) uint8.

    An 8-bit photo turned gray in 8 bits: its L is the colour's up to 8-bit rounding, in a
    third of the colour's memory (the L of gray k is ``lightness_table(255)[k]``). In strips.
    """
    import cv2

    linear, gray_of_bin, upper = _gray_level_tables()
    gray = np.empty(rgb.shape[:2], np.uint8)
    for top in range(0, rgb.shape[0], STRIP_ROWS):
        strip = np.ascontiguousarray(rgb[top : top + STRIP_ROWS])
        luminance = cv2.transform(cv2.LUT(strip, linear), LUMA.reshape(1, 3)).reshape(strip.shape[:2])
        level = gray_of_bin[(luminance * np.float32(65535)).astype(np.uint16)]
        level += luminance > upper[level]  # at most one gray boundary lies within a bin
        gray[top : top + STRIP_ROWS] = level
    return gray


@functools.lru_cache(maxsize=1)
def _gray_level_tables():
    """For :func:`gray_levels`: linear RGB of each 8-bit value (as an OpenCV 3-channel LUT), the
    gray of each of 65536 luminance bins (at its lower end), and the luminance at which each
    gray gives way to the next (halfway in L)."""
    linear = srgb_to_linear(np.arange(256, dtype=np.float32) / np.float32(255))
    levels = lightness_table(255)
    middle = (levels[:-1] + levels[1:]) / np.float32(2)
    upper = np.append(color._lab_f_inverse(np, (middle + np.float32(16)) / np.float32(116)), np.float32(np.inf))
    gray_of_bin = np.searchsorted(upper[:-1], np.arange(65536, dtype=np.float32) / np.float32(65535)).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(linear[None, :, None], 3, axis=-1)), gray_of_bin, upper.astype(np.float32)
