"""Read any photo people have: EXIF-rotated JPEGs, gray, palette, RGBA, CMYK, 16-bit PNG/TIFF.

:func:`read_image` decodes a file, :func:`decode_image` an upload held in memory, the
same way. A file that cannot be decoded raises :class:`~colorize.errors.ImageDecodeError`
with a short reason, so that folder runs can skip it and say why. :func:`resize` is the
one resize of an image array (area when shrinking, bilinear when enlarging).
"""

from __future__ import annotations

import dataclasses
import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from colorize.errors import ImageDecodeError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")

# Pillow warns above Image.MAX_IMAGE_PIXELS (89 MP by default) and refuses above twice that:
# a scan of 100 MP is a photo, not a bomb, so the warning is silenced where we decode (the
# refusal stays); Pillow's setting itself is left as the user has it.


@dataclasses.dataclass
class DecodedImage:
    """A decoded image.

    Attributes:
        rgb: float32 array (H, W, 3) in [0, 1], EXIF orientation applied. With
            ``read_image(..., native=True)``: the stored samples instead, uint8 or
            uint16 (float32 in [0, 1] for float files), (H, W) when ``grayscale``
            else (H, W, 3).
        alpha: float32 array (H, W) in [0, 1], or None when the file has no alpha
            (native: in the dtype of ``rgb``).
        grayscale: True when the file stores no colour (L, LA, 1-bit, 16-bit gray).
        bit_depth: 8 or 16, the precision of the stored samples.
        frames: how many frames (pages) the file holds; only the first is decoded.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    grayscale: bool
    bit_depth: int
    frames: int = 1

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


def header_size(source: str | os.PathLike | bytes) -> tuple[int, int]:
    """(width, height) from an image's header (a path or encoded bytes), nothing decoded.

    (0, 0) when the header cannot be read (decoding then says why); (-1, -1) when it is
    beyond Pillow's refusal limit (twice ``PIL.Image.MAX_IMAGE_PIXELS``), which
    :func:`read_image` keeps.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
                return int(image.size[0]), int(image.size[1])
    except Image.DecompressionBombError:
        return -1, -1
    except Exception:  # noqa: BLE001 - decoding reports the reason
        return 0, 0


def read_image(path: str | os.PathLike, native: bool = False, to_gray=None) -> DecodedImage:
    """Decode an image file into float RGB in [0, 1] (plus alpha, if any).

    Args:
        path: the file to read.
        native: keep the stored samples (uint8/uint16, one channel for gray files)
            instead of float RGB: a quarter to a twelfth of the memory.
        to_gray: with ``native``, a function of 8-bit RGB rows (h, W, 3) uint8 giving
            (h, W) uint8: 8-bit colour is turned gray with it, strip by strip as it is
            decoded (the full-size RGB array never exists), and ``rgb`` holds the result
            (``grayscale`` stays False: the file stores colour).

    Returns:
        A :class:`DecodedImage`.

    Raises:
        ImageDecodeError: the file is missing, empty, not an image, truncated or corrupt.

    Example:
        >>> image = read_image("portrait.jpg")  # doctest: +SKIP
        >>> image.rgb.shape
        (480, 640, 3)
    """
    path = Path(path)
    if not path.exists():
        raise ImageDecodeError(f"{path}: no such file")
    if path.is_dir():
        raise ImageDecodeError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise ImageDecodeError(f"{path}: empty file")
    return _decode(path, str(path), lambda: np.fromfile(path, dtype=np.uint8), native, to_gray)


def decode_image(data: bytes, name: str = "upload", native: bool = False, to_gray=None) -> DecodedImage:
    """Decode an image held in memory (an upload), exactly as :func:`read_image` decodes a file.

    Args:
        data: the encoded file's bytes (JPEG, PNG, TIFF, WebP, BMP ...).
        name: what error messages call it.
        native, to_gray: as in :func:`read_image`.

    Returns:
        A :class:`DecodedImage`.

    Raises:
        ImageDecodeError: empty, not an image, truncated or corrupt.

    Example:
        >>> image = decode_image(open("portrait.jpg", "rb").read())  # doctest: +SKIP
    """
    if not data:
        raise ImageDecodeError(f"{name}: empty file")
    return _decode(io.BytesIO(data), name, lambda: np.frombuffer(data, dtype=np.uint8), native, to_gray)


def _decode(source, name: str, raw_bytes, native: bool = False, to_gray=None) -> DecodedImage:
    """Decode ``source`` (a path or a binary file object) with PIL; ``raw_bytes()`` gives its bytes."""
    if to_gray is not None and not native:
        raise ValueError("to_gray needs native=True")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                image_format = image.format
                frames = int(getattr(image, "n_frames", 1) or 1)
                decoded = None
                if to_gray is not None and image_format == "JPEG" and image.mode == "RGB":
                    decoded = _jpeg_gray(raw_bytes(), to_gray, image.getexif().get(ORIENTATION, 1))
                if decoded is None:
                    image.load()
                    ImageOps.exif_transpose(image, in_place=True)  # no copy of a large photo
                    if to_gray is not None and image.mode == "RGB" and image_format not in ("PNG", "TIFF"):
                        decoded = DecodedImage(_gray_rows(image, to_gray), None, False, 8)
                    else:
                        decoded = _native_from_pil(image)
    except UnidentifiedImageError:
        raise ImageDecodeError(f"{name}: not an image (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError) as error:
        reason = str(error) or type(error).__name__
        if "truncated" in reason.lower() or "broken data stream" in reason.lower():
            reason = "truncated or corrupt image data"
        raise ImageDecodeError(f"{name}: {reason}") from None
    except Image.DecompressionBombError as error:
        raise ImageDecodeError(f"{name}: too large ({error})") from None
    if image_format in ("PNG", "TIFF") and decoded.bit_depth == 8 and not decoded.grayscale:
        decoded = _maybe_16bit_colour(raw_bytes(), decoded)
    if to_gray is not None and decoded.rgb.ndim == 3 and decoded.rgb.dtype == np.uint8:
        decoded.rgb = to_gray(decoded.rgb)
    decoded.frames = frames
    return decoded if native else as_float(decoded)


ORIENTATION = 0x0112  # the EXIF tag

# EXIF orientation -> the NumPy view that shows the photo upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.T,
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].T,
    8: lambda a: np.rot90(a),
}


def _jpeg_gray(data: np.ndarray, to_gray, orientation: int) -> DecodedImage | None:
    """A colour JPEG turned gray with libjpeg-turbo through ``simplejpeg``, the same pixels as
    Pillow's decoder, in a third of the memory: RGB at 3 bytes a pixel (Pillow holds 4), and
    the gray written over the RGB it was made from, then the buffer shrunk to it (a 12000 x
    9000 photo: 0.36 GB above the process instead of 0.54 GB). None where simplejpeg is
    missing or declines (CMYK, a damaged file): Pillow then decodes it, or says why it cannot.
    """
    try:
        import simplejpeg

        rgb = simplejpeg.decode_jpeg(data, colorspace="RGB")
    except (ImportError, ValueError):
        return None
    height, width = rgb.shape[:2]
    flat = rgb.reshape(-1)
    step = max(1, (1 << 20) // max(1, width))
    for top in range(0, height, step):  # gray rows land on RGB rows already read
        strip = to_gray(rgb[top : top + step])
        flat[top * width : top * width + strip.size] = strip.reshape(-1)
    del flat
    try:
        rgb.resize((height * width,), refcheck=False)  # realloc: the RGB tail goes back to the system
        gray = rgb.reshape(height, width)
    except ValueError:  # the buffer is not the array's own
        gray = rgb.reshape(-1)[: height * width].reshape(height, width).copy()
    del rgb
    if orientation in _UPRIGHT:
        gray = np.ascontiguousarray(_UPRIGHT[orientation](gray))
    return DecodedImage(gray, None, False, 8)


def _gray_rows(image: Image.Image, to_gray) -> np.ndarray:
    """``to_gray`` of an RGB PIL image, applied to strips of rows (about 1M pixels each)."""
    width, height = image.size
    gray = np.empty((height, width), np.uint8)
    step = max(1, (1 << 20) // max(1, width))
    for top in range(0, height, step):
        bottom = min(height, top + step)
        gray[top:bottom] = to_gray(np.asarray(image.crop((0, top, width, bottom))))
    return gray


def as_float(decoded: DecodedImage) -> DecodedImage:
    """A native :class:`DecodedImage` as float32 RGB (H, W, 3) and alpha in [0, 1]."""
    values = decoded.rgb
    peak = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(values.dtype)
    rgb = values.astype(np.float32)
    if peak:
        rgb /= np.float32(peak)  # in place: one float copy of a large photo, not two
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=-1)
    alpha = decoded.alpha
    if alpha is not None and peak:
        alpha = alpha.astype(np.float32) / np.float32(peak)
    return DecodedImage(np.ascontiguousarray(rgb), alpha, decoded.grayscale, decoded.bit_depth, decoded.frames)


def _native_from_pil(image: Image.Image) -> DecodedImage:
    """The stored samples: uint8 / uint16 (float32 in [0, 1] for float files), gray as (H, W)."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        array = np.asarray(image)
        if mode != "I" or array.max(initial=0) > 255:
            return DecodedImage(np.clip(array, 0, 65535).astype(np.uint16), None, True, 16)
        return DecodedImage(np.clip(array, 0, 255).astype(np.uint8), None, True, 8)
    if mode == "F":
        array = np.asarray(image).astype(np.float32)
        peak = float(array.max()) if array.size else 1.0
        return DecodedImage(np.clip(array / (peak if peak > 1.0 else 1.0), 0.0, 1.0), None, True, 16)
    if mode in ("1", "L", "LA", "La"):
        alpha = np.asarray(image.convert("RGBA"))[..., 3].copy() if mode in ("LA", "La") else None
        return DecodedImage(np.asarray(image if mode == "L" else image.convert("L")), alpha, True, 8)
    if mode in ("P", "PA"):
        image = image.convert("RGBA" if ("transparency" in image.info or mode == "PA") else "RGB")
        mode = image.mode
    if mode in ("RGBA", "RGBa"):
        array = np.asarray(image.convert("RGBA"))
        return DecodedImage(np.ascontiguousarray(array[..., :3]), array[..., 3].copy(), False, 8)
    return DecodedImage(np.asarray(image if mode == "RGB" else image.convert("RGB")), None, False, 8)


def _maybe_16bit_colour(data: np.ndarray, decoded: DecodedImage) -> DecodedImage:
    """PIL reads 16-bit colour PNG/TIFF as 8-bit; OpenCV keeps the full depth (``data``: the file's bytes)."""
    import cv2

    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype != np.uint16 or array.ndim != 3:
        return decoded
    if array.shape[-1] == 4:
        rgb = array[..., 2::-1]
        alpha = array[..., 3].copy()
    else:
        rgb = array[..., ::-1]
        alpha = None if decoded.alpha is None else decoded.alpha.astype(np.uint16) * np.uint16(257)
    if rgb.shape != decoded.rgb.shape:  # EXIF rotation applied by PIL: keep PIL's pixels
        return decoded
    return DecodedImage(np.ascontiguousarray(rgb), alpha, False, 16)


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an (H, W) or (H, W, C) image to float32 (area when shrinking, bilinear when enlarging).

    Shrinking means fewer pixels; an image already of that size is returned as float32
    (not copied when it is one).

    Example:
        >>> resize(np.ones((4, 6, 3), np.uint8), 2, 3).shape
        (2, 3, 3)
    """
    import cv2

    if image.shape[:2] == (height, width):
        return np.asarray(image, np.float32)
    shrink = height * width < image.shape[0] * image.shape[1]
    resized = cv2.resize(
        np.asarray(image, np.float32), (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
    return resized.reshape((height, width) + image.shape[2:])
