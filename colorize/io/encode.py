"""Encode output images: PNG streamed strip by strip, JPEG/TIFF/WebP/BMP through Pillow or OpenCV."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np

OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")  # what encode_image writes


PNG_COMPRESSION = 1  # deflate level of output PNGs


def _deflater():
    """A deflate stream for PNG data: ISA-L's (``isal``: 3.7x faster than zlib here, files
    within 2 %) when installed, else zlib's at level 1 with run-length matching (also
    faster and smaller than OpenCV's PNG writer at level 1 on our outputs)."""
    try:
        from isal import isal_zlib

        return isal_zlib.compressobj(PNG_COMPRESSION)
    except ImportError:
        return zlib.compressobj(PNG_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_RLE)


def _png_chunk(kind: bytes, data) -> bytes:
    return struct.pack(">I", len(data)) + kind + bytes(data) + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def write_png(stream, strips, height: int, width: int, channels: int, dtype) -> None:
    """Write a PNG of RGB(A) strips (top to bottom, uint8 or uint16) to a binary ``stream``, as they come.

    Every row uses PNG's "Up" filter (the difference to the row above: one NumPy
    subtraction per strip) and zlib at :data:`PNG_COMPRESSION`, so a photo can be
    coloured, encoded and written strip by strip without ever holding it, or its file, whole.
    """
    depth = 16 if np.dtype(dtype) == np.uint16 else 8
    colour_type = {3: 2, 4: 6}[channels]
    stream.write(b"\x89PNG\r\n\x1a\n")
    stream.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)))
    compressor = _deflater()
    previous = None
    for strip in strips:
        if depth == 16:
            strip = strip.astype(">u2")
        flat = np.ascontiguousarray(strip).reshape(strip.shape[0], -1).view(np.uint8)
        filtered = np.empty((flat.shape[0], flat.shape[1] + 1), np.uint8)
        filtered[:, 0] = 2  # Up
        np.subtract(flat[0], previous if previous is not None else 0, out=filtered[0, 1:], casting="unsafe")
        np.subtract(flat[1:], flat[:-1], out=filtered[1:, 1:])
        previous = flat[-1].copy()
        data = compressor.compress(filtered)
        if data:
            stream.write(_png_chunk(b"IDAT", data))
    stream.write(_png_chunk(b"IDAT", compressor.flush()))
    stream.write(_png_chunk(b"IEND", b""))


def png_bytes(strips, height: int, width: int, channels: int, dtype) -> bytes:
    """The bytes of :func:`write_png` (for an upload's answer)."""
    buffer = io.BytesIO()
    write_png(buffer, strips, height, width, channels, dtype)
    return buffer.getvalue()


def encode_image(array: np.ndarray, path: Path) -> bytes:
    """PNG (or the format of ``path``'s suffix, one of :data:`OUTPUT_SUFFIXES`) bytes of RGB(A)
    (uint8, uint16 or float in [0, 1]); 16-bit kept for PNG/TIFF.

    Example:
        >>> data = encode_image(np.zeros((4, 4, 3), np.uint8), Path("black.png"))
        >>> data[:4]
        b'\\x89PNG'
    """
    from PIL import Image

    suffix = path.suffix.lower()
    if suffix == ".png" or suffix not in OUTPUT_SUFFIXES:
        if array.dtype not in (np.uint8, np.uint16):
            array = np.rint(np.clip(array, 0, 1) * 255).astype(np.uint8)
        step = max(1, (1 << 18) // array.shape[1])
        strips = (array[top : top + step] for top in range(0, array.shape[0], step))
        return png_bytes(strips, array.shape[0], array.shape[1], array.shape[-1], array.dtype)
    if array.dtype == np.uint16 and suffix in (".tif", ".tiff"):
        import cv2

        order = [2, 1, 0, 3][: array.shape[-1]]  # OpenCV writes BGR(A)
        ok, encoded = cv2.imencode(suffix, np.ascontiguousarray(array[..., order]))
        if not ok:
            raise OSError(f"could not encode {path.name}")
        return encoded.tobytes()
    if array.dtype == np.uint16:
        array = np.rint(array / 257.0).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.rint(np.clip(array, 0, 1) * 255).astype(np.uint8)
    if suffix in (".jpg", ".jpeg", ".bmp") and array.shape[-1] == 4:
        array = array[..., :3]
    buffer = io.BytesIO()
    formats = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
    options = {"JPEG": {"quality": 95}}.get(formats[suffix], {})
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format=formats[suffix], **options)
    return buffer.getvalue()
