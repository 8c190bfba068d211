"""Robust image reading, file discovery and atomic file writing shared by every command.

:func:`read_image` decodes what people actually have on disk: EXIF-rotated JPEGs,
grayscale, palette, RGBA, CMYK and 16-bit PNG/TIFF files. A file that cannot be
decoded raises :class:`~colorize.errors.ImageDecodeError` with a short reason, so that
folder runs can skip it and say why. :func:`decode_image` decodes an upload held in
memory the same way. :func:`atomic_write_bytes` (and :func:`atomic_output` for writers
that want a file name) is the one way the package writes a file: through a temporary
sibling renamed into place, with the mode the umask gives (``tempfile.mkstemp`` alone
would leave 0600).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import struct
import tempfile
import threading
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from colorize.errors import ImageDecodeError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")  # what encode_image writes

NOT_FOLLOWED = "a symbolic link to a folder, not followed (pass it as an input to include it)"

# Photos of up to ~180 megapixels are fine; beyond that PIL's bomb check stays on.
Image.MAX_IMAGE_PIXELS = 180_000_000


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
        with Image.open(source) as image:
            image_format = image.format
            frames = int(getattr(image, "n_frames", 1) or 1)
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


_UMASK_LOCK = threading.Lock()


def file_mode() -> int:
    """The mode a new file gets from the process's umask (0o644 under umask 022)."""
    try:  # Linux: read it without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary file name beside ``path``; on success it becomes ``path``.

    For writers that need a file name (``model.save``, ``TFRecordWriter``). The file
    gets ``mode`` (default: what the umask gives) and is renamed over ``path`` in one
    step, so readers see the old file or the new one, never a partial one; on any
    error (or a kill) the temporary file is removed (or left hidden, ``.NAME.*.part``).

    Example:
        >>> with atomic_output("out/model.keras") as temporary:  # doctest: +SKIP
        ...     model.save(temporary)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part" + path.suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, file_mode() if mode is None else mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, with the umask's mode (see :func:`atomic_output`).

    Example:
        >>> atomic_write_bytes("report/metrics.json", b"{}")  # doctest: +SKIP
    """
    path = Path(path)
    with atomic_output(path) as temporary:
        with open(temporary, "wb") as stream:
            stream.write(data)
    return path


def is_image_name(path: str | os.PathLike) -> bool:
    """True when the file name has one of :data:`IMAGE_EXTENSIONS` (any case)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def find_images(sources: Iterable[str | os.PathLike]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files, folders (recursively) and text files of paths into image files.

    Args:
        sources: image files, folders, or ``.txt`` files listing one path per line
            (relative paths are taken relative to the text file's folder).

    Returns:
        ``(files, skipped)``: image paths in a stable (sorted) order without
        duplicates, and ``(path, reason)`` for every source that was passed over.

    Example:
        >>> files, skipped = find_images(["photos/"])  # doctest: +SKIP
    """
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for source in sources:
        source = Path(source)
        if not source.exists():
            skipped.append((source, "no such file or folder"))
        elif source.is_dir():
            for path in sorted(source.rglob("*")):  # symbolic links to folders are not followed
                if path.is_symlink() and path.is_dir():
                    skipped.append((path, NOT_FOLLOWED))
                elif is_image_name(path):
                    files.append(path)
                elif path.is_file() and not path.name.startswith("."):
                    skipped.append((path, f"not an image file name ({path.suffix or 'no extension'})"))
        elif source.suffix.lower() == ".txt":
            for line in source.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                listed = Path(line)
                if not listed.is_absolute():
                    listed = source.parent / listed
                if listed.exists():
                    files.append(listed)
                else:
                    skipped.append((listed, f"listed in {source.name} but missing"))
        else:
            files.append(source)
    unique = list(dict.fromkeys(files))
    return unique, skipped


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


def png_bytes(strips, height: int, width: int, channels: int, dtype) -> bytes:
    """A PNG of RGB(A) strips (top to bottom, uint8 or uint16), encoded as they come.

    Every row uses PNG's "Up" filter (the difference to the row above: one NumPy
    subtraction per strip) and zlib at :data:`PNG_COMPRESSION`, so a photo can be
    coloured and encoded strip by strip without ever holding it whole.
    """
    depth = 16 if np.dtype(dtype) == np.uint16 else 8
    colour_type = {3: 2, 4: 6}[channels]
    parts = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0))]
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
            parts.append(_png_chunk(b"IDAT", data))
    parts += [_png_chunk(b"IDAT", compressor.flush()), _png_chunk(b"IEND", b"")]
    return b"".join(parts)


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
