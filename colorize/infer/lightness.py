"""Decode a photo into what colouring needs: its full-resolution L (as codes), alpha, a preview.

Colour input is turned gray first (only its L is used: 8-bit colour becomes its 8-bit
gray, as soon as it is decoded); alpha is kept. For 8- and 16-bit gray files (most
scans) the L codes are the file's own samples, so nothing beyond the decoded pixels is
held at full resolution. :func:`small_l` gives the model's working-size L.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from colorize.color import np_ops
from colorize.io.decode import DecodedImage, read_image, resize

COMPARE_MAX_HEIGHT = 1024  # side-by-side images are at most this tall


def sample_peak(dtype: np.dtype) -> float | None:
    return {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(dtype))


@dataclasses.dataclass
class Prepared:
    """What is kept of a decoded photo: its L (as codes into a table), alpha, a preview.

    For 8- and 16-bit gray files (most scans) the codes are the file's own samples,
    so nothing beyond the decoded pixels is held at full resolution.
    """

    codes: np.ndarray  # (H, W) uint8 / uint16
    table: np.ndarray  # float32 L of each code
    alpha: np.ndarray | None  # (H, W) in the output dtype
    dtype: np.dtype  # output dtype: uint8, uint16 or float32
    preview: np.ndarray | None = None  # the input, uint8 RGB, at most COMPARE_MAX_HEIGHT tall
    frames: int = 1  # frames (pages) in the file; the first was used

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape[:2]

    @property
    def pixels(self) -> int:
        return int(self.codes.size)

    @property
    def lightness(self) -> np.ndarray:
        """CIELAB L (H, W) float32 (whole image: for small ones and tests)."""
        return self.lightness_rows(slice(None))

    def lightness_rows(self, rows: slice) -> np.ndarray:
        """CIELAB L float32 of a strip of rows."""
        import cv2

        codes = self.codes[rows]
        if codes.dtype == np.uint8 and self.table.size == 256:
            return cv2.LUT(codes, self.table.reshape(1, 256)).reshape(codes.shape)
        return np.take(self.table, codes)


def convert_samples(values: np.ndarray, dtype) -> np.ndarray:
    """Samples (uint8, uint16 or float in [0, 1]) in another of those dtypes."""
    dtype = np.dtype(dtype)
    if values.dtype == dtype:
        return values
    floats = values.astype(np.float32) / np.float32(sample_peak(values.dtype) or 1.0)
    peak = sample_peak(dtype)
    return np.rint(floats * np.float32(peak)).astype(dtype) if peak else floats


def prepare(decoded: DecodedImage, dtype, preview: bool = False) -> Prepared:
    """L codes (+ alpha, preview) of a decoded image with native samples (``read_image(native=True)``)."""
    dtype = np.dtype(dtype)
    values = decoded.rgb
    alpha = None if decoded.alpha is None else convert_samples(decoded.alpha, dtype)
    small = _preview(values) if preview else None
    if values.ndim == 2 and values.dtype in (np.uint8, np.uint16):
        codes, table = values, np_ops.lightness_table(255 if values.dtype == np.uint8 else 65535)
    elif values.dtype == np.uint8:  # 8-bit colour: its 8-bit gray (L kept up to 8-bit rounding)
        codes, table = np_ops.gray_levels(values), np_ops.lightness_table(255)
    else:
        codes, table = np_ops.lightness_codes(values), np_ops.lightness_table(None)
    return Prepared(codes, table, alpha, dtype, small, decoded.frames)


def _preview(values: np.ndarray) -> np.ndarray:
    import cv2

    height, width = values.shape[:2]
    if height > COMPARE_MAX_HEIGHT:
        size = (max(1, round(width * COMPARE_MAX_HEIGHT / height)), COMPARE_MAX_HEIGHT)
        values = cv2.resize(values, size, interpolation=cv2.INTER_AREA)
    small = convert_samples(np.clip(values, 0, 1) if values.dtype == np.float32 else values, np.uint8)
    return np.repeat(small[..., None], 3, axis=-1) if small.ndim == 2 else small


def from_array(image) -> tuple[DecodedImage, np.dtype]:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected a non-empty image; got shape {array.shape}")
    if sample_peak(array.dtype):
        dtype = array.dtype
    elif np.issubdtype(array.dtype, np.floating) or array.dtype == bool:
        array, dtype = np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0), np.dtype(np.float32)
    else:
        raise ValueError(f"expected uint8, uint16 or float image values; got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    alpha = array[..., 3] if array.ndim == 3 and array.shape[-1] == 4 else None
    values = array if array.ndim == 2 else np.ascontiguousarray(array[..., :3])
    depth = 16 if dtype in (np.uint16, np.float32) else 8
    return DecodedImage(values, alpha, values.ndim == 2, depth), dtype


def read(path, keep_colour: bool = False) -> tuple[DecodedImage, np.dtype]:
    """Decode with native samples; the output dtype: uint16 for 16-bit files, else uint8.

    8-bit colour becomes its 8-bit gray as it is decoded (all that is used of it), unless
    ``keep_colour`` (for the side-by-side preview).
    """
    to_gray = None if keep_colour else np_ops.gray_levels
    return with_dtype(read_image(path, native=True, to_gray=to_gray))


def with_dtype(decoded: DecodedImage) -> tuple[DecodedImage, np.dtype]:
    """A decoded image and its output dtype: uint16 when it stores 16 bits, else uint8."""
    return decoded, np.dtype(np.uint16 if decoded.bit_depth == 16 else np.uint8)


def small_l(image: Prepared, shape: tuple[int, int], window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """L (h, w) float32 in [0, 100] at the working shape (area-averaged when shrinking).

    Resized in two passes (each strip of rows to the working width, then the columns),
    so the full-resolution L never exists at once. ``window`` (top, left, height, width)
    takes that part of the photo instead of all of it (a face's crop).
    """
    top, left, height, width = window or (0, 0, *image.shape)
    narrow = np.empty((height, shape[1]), np.float32)
    for start in range(0, height, np_ops.STRIP_ROWS):
        rows = slice(top + start, top + min(height, start + np_ops.STRIP_ROWS))
        strip = image.lightness_rows(rows)[:, left : left + width]
        narrow[start : start + strip.shape[0]] = resize(strip, strip.shape[0], shape[1])
    return resize(narrow, *shape)
