"""Inference: colorize real photos of any size with a trained model.

The model works at its own (small) working size; the predicted a*b* are resized back
(bilinear) to the photo's full resolution and joined with the photo's own
full-resolution lightness L, so the output has exactly the input's size, its detail and
its lightness. Colour input is turned gray first (only its L is used: 8-bit colour
becomes its 8-bit gray, as soon as it is decoded); alpha is kept.

Models are loaded by :mod:`colorize.saving` and run by :mod:`colorize.runtime`; the
full-resolution colour conversion (:mod:`colorize.color.np_ops`) is done in float32 NumPy
on strips of rows, so a 6000 x 4000 photo needs a few hundred MB, not gigabytes. Where a predicted colour falls
outside the sRGB gamut it is desaturated towards the gray of the same luminance (in
linear RGB) instead of clipped per channel, so the output's L equals the input's L up
to the final 8-bit (or 16-bit) rounding.

:func:`colorize_bytes` does the same for a file held in memory (``colorize serve``) and
returns the very PNG bytes ``colorize predict`` writes.

Output files: PNG, ``photo.jpg`` -> ``photo_colorized.png`` (beside the input, or under
``output`` keeping sub-folders). 16-bit inputs give 16-bit PNGs (their lightness keeps
its precision); everything else gives 8-bit PNGs.

Example:
    >>> import colorize
    >>> rgb = colorize.colorize_image("grandma.jpg")  # doctest: +SKIP
    >>> rgb.shape  # the input's height and width
    (2000, 3000, 3)
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from colorize import errors, runtime, saving
from colorize.color import np_ops
from colorize.data import images as image_io
from colorize.data.images import NOT_FOLLOWED, OUTPUT_SUFFIXES, DecodedImage
from colorize.errors import ColorizeError
from colorize.registry import SIZE_MULTIPLE

log = logging.getLogger(__name__)

COMPARE_MAX_HEIGHT = 1024  # side-by-side images are at most this tall


# ------------------------------------------------------------- colour at full size


def _peak(dtype: np.dtype) -> float | None:
    return {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(dtype))


def _composed_strips(image: "_Prepared", ab_small_scaled: np.ndarray, reference: bool = False):
    """Yield (rows, RGB(A) block in the output dtype): full-resolution L + upsampled ab (+ alpha).

    The a*b* are resized bilinearly in two passes (columns once at the small width,
    then each strip of rows), so neither the full-size ab nor the full-size output
    need exist at once. Colour is computed a strip of about 256k pixels at a time (its
    float arrays stay in cache) and handed on in blocks of about 4M pixels: coloured
    back to back, then encoded, 1.5x faster than strip by strip interleaved with the PNG
    encoder (measured: each evicts the other's cache). ``reference=True`` converts with
    the plain float32 NumPy path instead of OpenCV's.
    """
    import cv2

    from colorize.color import unscale_ab

    height, width = image.shape
    ab_small = np.ascontiguousarray(unscale_ab(np.asarray(ab_small_scaled, np.float32)), np.float32)
    tall = cv2.resize(ab_small, (ab_small.shape[1], height), interpolation=cv2.INTER_LINEAR).reshape(height, -1, 2)
    peak = _peak(image.dtype)
    channels = 3 if image.alpha is None else 4
    step = max(8, (1 << 18) // width)  # rows coloured at once
    block_rows = max(step, (1 << 22) // width // step * step)  # rows handed on at once
    for block_top in range(0, height, block_rows):
        block = slice(block_top, min(height, block_top + block_rows))
        output = np.empty((block.stop - block.start, width, channels), image.dtype)
        for top in range(block.start, block.stop, step):
            rows = slice(top, min(block.stop, top + step))
            count = rows.stop - rows.start
            ab = cv2.resize(tall[rows], (width, count), interpolation=cv2.INTER_LINEAR).reshape(count, width, 2)
            lightness = image.lightness_rows(rows)
            if reference:
                rgb = np_ops.lab_to_rgb_keeping_l(lightness, ab)
            else:
                rgb = np_ops.lab_to_rgb_keeping_l_fast(lightness, ab)
            target = output[top - block.start : rows.stop - block.start, :, :3]
            if peak == 255.0 and not reference:
                target[...] = cv2.convertScaleAbs(rgb, alpha=255.0)
            elif peak:
                target[...] = np.rint(rgb * np.float32(peak))
            else:
                target[...] = rgb
        if image.alpha is not None:
            output[..., 3] = image.alpha[block]
        yield block, output


def _compose(image: "_Prepared", ab_small_scaled: np.ndarray, reference: bool = False) -> np.ndarray:
    """Full-resolution L + upsampled ab (+ alpha) -> RGB(A) array of the output dtype."""
    height, width = image.shape
    output = np.empty((height, width, 3 if image.alpha is None else 4), image.dtype)
    for rows, strip in _composed_strips(image, ab_small_scaled, reference):
        output[rows] = strip
    return output


# --------------------------------------------------------------- images in memory


@dataclasses.dataclass
class _Prepared:
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


def _convert_samples(values: np.ndarray, dtype) -> np.ndarray:
    """Samples (uint8, uint16 or float in [0, 1]) in another of those dtypes."""
    dtype = np.dtype(dtype)
    if values.dtype == dtype:
        return values
    floats = values.astype(np.float32) / np.float32(_peak(values.dtype) or 1.0)
    peak = _peak(dtype)
    return np.rint(floats * np.float32(peak)).astype(dtype) if peak else floats


def _prepare(decoded: DecodedImage, dtype, preview: bool = False) -> _Prepared:
    """L codes (+ alpha, preview) of a decoded image with native samples (``read_image(native=True)``)."""
    dtype = np.dtype(dtype)
    values = decoded.rgb
    alpha = None if decoded.alpha is None else _convert_samples(decoded.alpha, dtype)
    small = _preview(values) if preview else None
    if values.ndim == 2 and values.dtype in (np.uint8, np.uint16):
        codes, table = values, np_ops.lightness_table(255 if values.dtype == np.uint8 else 65535)
    elif values.dtype == np.uint8:  # 8-bit colour: its 8-bit gray (L kept up to 8-bit rounding)
        codes, table = np_ops.gray_levels(values), np_ops.lightness_table(255)
    else:
        codes, table = np_ops.lightness_codes(values), np_ops.lightness_table(None)
    return _Prepared(codes, table, alpha, dtype, small, decoded.frames)


def _preview(values: np.ndarray) -> np.ndarray:
    import cv2

    height, width = values.shape[:2]
    if height > COMPARE_MAX_HEIGHT:
        size = (max(1, round(width * COMPARE_MAX_HEIGHT / height)), COMPARE_MAX_HEIGHT)
        values = cv2.resize(values, size, interpolation=cv2.INTER_AREA)
    small = _convert_samples(np.clip(values, 0, 1) if values.dtype == np.float32 else values, np.uint8)
    return np.repeat(small[..., None], 3, axis=-1) if small.ndim == 2 else small


def _from_array(image) -> tuple[DecodedImage, np.dtype]:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected a non-empty image; got shape {array.shape}")
    if _peak(array.dtype):
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


def _read(path, keep_colour: bool = False) -> tuple[DecodedImage, np.dtype]:
    """Decode with native samples; the output dtype: uint16 for 16-bit files, else uint8.

    8-bit colour becomes its 8-bit gray as it is decoded (all that is used of it), unless
    ``keep_colour`` (for the side-by-side preview).
    """
    to_gray = None if keep_colour else np_ops.gray_levels
    return _with_dtype(image_io.read_image(path, native=True, to_gray=to_gray))


def _with_dtype(decoded: DecodedImage) -> tuple[DecodedImage, np.dtype]:
    """A decoded image and its output dtype: uint16 when it stores 16 bits, else uint8."""
    return decoded, np.dtype(np.uint16 if decoded.bit_depth == 16 else np.uint8)


def _small_l(image: _Prepared, shape: tuple[int, int]) -> np.ndarray:
    """L (h, w) float32 in [0, 100] at the working shape (area-averaged when shrinking).

    Resized in two passes (each strip of rows to the working width, then the columns),
    so the full-resolution L never exists at once.
    """
    height = image.shape[0]
    narrow = np.empty((height, shape[1]), np.float32)
    for top in range(0, height, np_ops.STRIP_ROWS):
        rows = slice(top, min(height, top + np_ops.STRIP_ROWS))
        strip = image.lightness_rows(rows)
        narrow[rows] = image_io.resize(strip, strip.shape[0], shape[1])
    return image_io.resize(narrow, *shape)


def _predict_grouped(runner: runtime.Runner, smalls: list[np.ndarray]) -> list[np.ndarray]:
    """Working-size L (list of (h, w)) -> scaled ab; photos of one shape share a model call."""
    from colorize.color import scale_l

    outputs: list = [None] * len(smalls)
    shapes = [small.shape for small in smalls]
    for shape in dict.fromkeys(shapes):
        members = [index for index, s in enumerate(shapes) if s == shape]
        batch = np.stack([scale_l(smalls[index]) for index in members])[..., None].astype(np.float32)
        ab = runner.predict(batch)
        for member, predicted in zip(members, ab):
            outputs[member] = predicted
    return outputs


def _colorize_prepared(runner: runtime.Runner, images: list[_Prepared], render_size) -> list[np.ndarray]:
    """Colorize prepared photos; those sharing a working shape go through one model call."""
    smalls = [_small_l(image, runner.working_shape(*image.shape, render_size)) for image in images]
    return [_compose(image, ab) for image, ab in zip(images, _predict_grouped(runner, smalls))]


def colorize_image(
    image, model=None, render_size: int | None = None, precision: str = "float32", strength: float | None = None
) -> np.ndarray:
    """Colorize one photo at full resolution.

    Args:
        image: a file path, or an array (H, W), (H, W, 3) or (H, W, 4) of uint8,
            uint16 or float in [0, 1]. Colour input is turned gray first.
        model: a loaded model (from :func:`colorize.saving.load_model`), "default", an ``.onnx`` or ``.keras`` path,
            a run directory, or None for the bundled default.
        render_size: the long side, in pixels, at which the model sees the photo
            (bigger: more colour detail, slower). Default 256, or the model's
            training size if larger; fixed-size models always use their size.
        precision: "float32", "bfloat16" or "auto" (bfloat16 where the CPU has
            native bfloat16: AMX or AVX-512 BF16), for a model not yet wrapped in a
            :class:`~colorize.runtime.Runner`.
        strength: colour strength in [0, 1] for a bins model such as the bundled one
            (0: calm, likeliest colours; 0.5: the model's own; 1: strongest); None keeps
            the model's or preset's own.

    Returns:
        RGB, or RGBA when the input has alpha (kept as it is), of the input's height
        and width, in the input's dtype (uint8, uint16 or float32 in [0, 1]; a file
        gives uint16 when it stores 16 bits, else uint8). Its CIELAB L equals the
        input's up to that dtype's rounding.

    Raises:
        colorize.saving.ModelLoadError: the model cannot be loaded.
        colorize.errors.ImageDecodeError: the file cannot be read.
        ValueError: the array has an unsupported shape or dtype, or the render size
            does not fit in memory.

    Example:
        >>> from skimage import data
        >>> colour = colorize_image(data.astronaut())  # doctest: +SKIP
        >>> colour.shape
        (512, 512, 3)
    """
    if isinstance(image, (str, os.PathLike)):
        decoded, dtype = _read(image)
    else:
        decoded, dtype = _from_array(image)
    prepared = _prepare(decoded, dtype)
    del decoded
    runner = runtime.load_runner(model, precision, strength)
    runtime.check_render_size(runner, render_size, [prepared.shape])
    return _colorize_prepared(runner, [prepared], render_size)[0]



def colorize_bytes(
    data: bytes, model=None, render_size: int | None = None, name: str = "upload", strength: float | None = None
) -> bytes:
    """Colorize an encoded image held in memory; the PNG bytes ``colorize predict`` would write.

    The file is decoded, colorized and encoded by the same functions as
    :func:`colorize_files` (so a served photo and a predicted one are byte for byte the
    same PNG); nothing touches the disk.

    Args:
        data: the bytes of an image file (JPEG, PNG, TIFF, WebP, BMP ...).
        model: a loaded model or :class:`~colorize.runtime.Runner`, "default", an ``.onnx`` or ``.keras`` path, a run
            directory, or None for the bundled default.
        render_size: the model's working long side (see :func:`colorize_image`).
        name: what error messages call the data.
        strength: colour strength in [0, 1] (see :func:`colorize_image`).

    Returns:
        PNG bytes of the input's size (16-bit when the input stores 16 bits; alpha kept).

    Raises:
        colorize.errors.ImageDecodeError: the data is empty or not a readable image.
        colorize.saving.ModelLoadError: the model cannot be loaded.

    Example:
        >>> png = colorize_bytes(open("grandma.jpg", "rb").read())  # doctest: +SKIP
        >>> png[:4]
        b'\\x89PNG'
    """
    decoded, dtype = _with_dtype(image_io.decode_image(data, name, native=True, to_gray=np_ops.gray_levels))
    prepared = _prepare(decoded, dtype)
    del decoded
    runner = runtime.load_runner(model, "float32", strength)
    runtime.check_render_size(runner, render_size, [prepared.shape])
    ab = _predict_grouped(runner, [_small_l(prepared, runner.working_shape(*prepared.shape, render_size))])[0]
    encoded, _ = _colour_and_encode(prepared, ab, Path("upload.png"))
    return encoded


# -------------------------------------------------------------------- files and folders


@dataclasses.dataclass
class PredictResult:
    """What a files/folders run did.

    Attributes:
        written: ``(input, output)`` for every colorized input.
        skipped: ``(input, existing output)`` kept because the output exists (no overwrite).
        failed: ``(input, reason)`` for every input that could not be colorized.
        compared: side-by-side images written (with ``compare=True``).
        ignored: ``(path, reason)`` for what a folder search passed over without it
            being a failure: files that are not images by name, earlier outputs of
            colorize, symbolic links to folders (not followed).
        notes: ``(input, note)`` for colorized inputs worth a word (only the first
            frame of a multi-frame file was used).
    """

    written: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    skipped: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    compared: list[Path] = dataclasses.field(default_factory=list)
    ignored: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    notes: list[tuple[Path, str]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no input failed."""
        return not self.failed


def output_path_for(
    path: Path, root: Path | None, output: Path | None, suffix: str = "_colorized", single: bool = False
) -> Path:
    """Where the colorized version of ``path`` goes.

    Beside the input when ``output`` is None; under ``output`` (keeping the sub-folders
    below ``root``, the folder that was searched) otherwise; or ``output`` itself when
    it is an image file name and ``single`` (one input file).
    """
    if output is not None and single and output.suffix.lower() in OUTPUT_SUFFIXES:
        return output
    name = f"{path.stem}{suffix}.png"
    if output is None:
        return path.with_name(name)
    relative = path.parent.relative_to(root) if root is not None and path.is_relative_to(root) else Path()
    return output / relative / name


def compare_path_for(target: Path, suffix: str = "_colorized") -> Path:
    """``photo_colorized.png`` -> ``photo_compare.png`` (the side-by-side image)."""
    stem = target.stem[: -len(suffix)] if suffix and target.stem.endswith(suffix) else target.stem
    return target.with_name(f"{stem}_compare.png")


def is_own_output(path: Path, suffix: str = "_colorized") -> bool:
    """True for the names colorize gives its outputs: ``*_colorized.png``, ``*_compare.png``."""
    return path.suffix.lower() == ".png" and (path.stem.endswith(suffix) or path.stem.endswith("_compare"))


def check_output(output: str | os.PathLike | None, single: bool) -> None:
    """Check before any work that the outputs can be written under ``output``.

    Raises:
        ValueError: ``output`` is an existing file that is not the one output named
            for a single input, lies below a file, or is in a folder that cannot
            be written.
    """
    if output is None:
        return
    output = Path(output)
    names_file = single and output.suffix.lower() in OUTPUT_SUFFIXES
    if output.exists() and not output.is_dir() and not names_file:
        raise ValueError(f"output {output} is an existing file, not a folder; pass -o a folder")
    folder = output.parent if names_file or (output.exists() and not output.is_dir()) else output
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"cannot create the output folder {folder}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write to {existing} (permission denied); pass -o a folder you can write to")


def _plan(paths: list[Path], output: Path | None, suffix: str, compare: bool, overwrite: bool, result: PredictResult):
    """Expand inputs and choose each one's output: the (input, output) jobs to run.

    Outputs never replace an input and never collide; one file named twice (relative
    and absolute) is one input; what a folder search finds that is not an image by
    name, or is an earlier output of colorize (``*_colorized.png``, ``*_compare.png``),
    is passed over (in ``result.ignored``), not colorized and not a failure.
    """
    found, skipped = image_io.find_images(paths)
    for path, reason in skipped:
        if reason == NOT_FOLLOWED or (path.is_file() and not image_io.is_image_name(path)):
            result.ignored.append((path, reason))
        else:
            result.failed.append((path, reason))
    named = {_key(path) for path in paths}
    files, seen = [], set()
    for path in found:
        if _key(path) in seen:  # b.jpg and /abs/b.jpg: one input
            continue
        seen.add(_key(path))
        if _key(path) not in named and is_own_output(path, suffix):
            result.ignored.append((path, "an earlier output of colorize (name it to colorize it)"))
        else:
            files.append(path)
    single = len(paths) == 1 and not paths[0].is_dir()
    roots = [p for p in paths if p.is_dir()]

    def target_for(path, disambiguate=False):
        root = next((r for r in roots if path.is_relative_to(r)), None)
        name_suffix = f"_{path.suffix.lower().lstrip('.')}{suffix}" if disambiguate else suffix
        return output_path_for(path, root, output, name_suffix, single)

    targets = {path: target_for(path) for path in files}
    # photo.jpg and photo.png would both give photo_colorized.png: name them by extension.
    counts: dict[str, int] = {}
    for target in targets.values():
        counts[_key(target)] = counts.get(_key(target), 0) + 1
    targets = {path: (target_for(path, True) if counts[_key(t)] > 1 else t) for path, t in targets.items()}

    def written_by(path):
        return [targets[path], compare_path_for(targets[path], suffix)] if compare else [targets[path]]

    producer = {_key(out): path for path in files for out in written_by(path)}
    own_outputs = {path for path in files if producer.get(_key(path), path) != path}
    for path in own_outputs:
        log.info("not colorizing %s: it is the output of %s", path, producer[_key(path)])
    inputs = {_key(path): path for path in files if path not in own_outputs}
    jobs, claimed = [], {}
    for path in files:
        if path in own_outputs:
            continue
        target = targets[path]
        clash = next((inputs[_key(out)] for out in written_by(path) if _key(out) in inputs), None)
        if clash is not None:
            result.failed.append((path, f"its output would replace the input {clash}; choose another -o"))
        elif _key(target) in claimed:
            result.failed.append((path, f"its output {target} is also that of {claimed[_key(target)]}; use another -o"))
        elif target.is_dir():
            result.failed.append((path, f"its output {target} is a folder, not a file; move it or choose another -o"))
        elif target.exists() and not overwrite:
            claimed[_key(target)] = path
            result.skipped.append((path, target))
        else:
            claimed[_key(target)] = path
            jobs.append((path, target))
    return jobs


def shard_of(keys: list[str], shard: tuple[int, int]) -> set[str]:
    """The keys in share ``k`` of ``n`` (``shard = (k, n)``, 1 <= k <= n): every n-th of the sorted
    keys from the k-th on. The same listing always gives the same shares, they never overlap,
    and together they hold every key once (Slurm arrays, Kubernetes indexed jobs).

    Raises:
        ValueError: k outside 1..n.

    Example:
        >>> sorted(shard_of(["c", "a", "b", "d"], (2, 2)))
        ['b', 'd']
    """
    index, count = shard
    if not 1 <= index <= count:
        raise ValueError(f"shard must be K/N with 1 <= K <= N. Received: shard={index}/{count}")
    return {key for position, key in enumerate(sorted(set(keys))) if position % count == index - 1}


def _keep_shard(jobs: list, result: "PredictResult", shard: tuple[int, int]) -> list:
    """The jobs (and the kept outputs and failures in ``result``) of one shard of the sorted input files."""
    mine = shard_of([_key(path) for path, _ in [*jobs, *result.skipped, *result.failed]], shard)
    result.skipped[:] = [item for item in result.skipped if _key(item[0]) in mine]
    result.failed[:] = [item for item in result.failed if _key(item[0]) in mine]
    return [job for job in jobs if _key(job[0]) in mine]


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _colour_and_encode(image: "_Prepared", ab_small_scaled: np.ndarray, path: Path) -> tuple[bytes, np.ndarray | None]:
    """The output file's bytes; a PNG is coloured and encoded strip by strip (bounded memory).

    Returns the bytes and, for other formats, the coloured array (else None).
    """
    if path.suffix.lower() == ".png" or path.suffix.lower() not in OUTPUT_SUFFIXES:
        height, width = image.shape
        strips = (strip for _, strip in _composed_strips(image, ab_small_scaled))
        channels = 3 if image.alpha is None else 4
        return image_io.png_bytes(strips, height, width, channels, image.dtype), None
    colour = _compose(image, ab_small_scaled)
    return image_io.encode_image(colour, path), colour


def _side_by_side(preview: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """input | output as uint8 RGB, as tall as ``preview`` (at most COMPARE_MAX_HEIGHT)."""
    import cv2

    height, width = preview.shape[:2]
    right = colour[..., :3]
    if right.dtype == np.uint16:
        right = (right >> 8).astype(np.uint8)
    elif right.dtype != np.uint8:
        right = np.rint(np.clip(right, 0, 1) * 255).astype(np.uint8)
    if right.shape[:2] != (height, width):
        right = cv2.resize(right, (width, height), interpolation=cv2.INTER_AREA)
    gap = np.full((height, max(4, width // 100), 3), 255, np.uint8)
    return np.concatenate([preview, gap, right], axis=1)


MAX_BATCH_PIXELS = 24_000_000  # full-resolution pixels in one batch; at most 3 batches are in flight
READ_THREADS = 1  # decoding (PIL/OpenCV release the GIL) while the model runs
WRITE_THREADS = 2  # colour at full size + PNG encoding + writing (OpenCV, zlib release the GIL)


def _size_in_header(path: Path) -> tuple[int, int]:
    """(width, height) from the file header (no decoding); (0, 0) when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return int(image.size[0]), int(image.size[1])
    except Exception:  # noqa: BLE001 - decoding reports the reason later
        return 0, 0


def _by_shape(jobs: list, sizes: list[tuple[int, int]]) -> tuple[list, list]:
    """Jobs (and sizes) ordered by aspect ratio: photos that get the same working shape
    come together and share model calls (a folder of mixed shapes batches like one shape).
    The order is otherwise kept."""
    order = sorted(range(len(jobs)), key=lambda index: sizes[index][1] / max(1, sizes[index][0]))
    return [jobs[index] for index in order], [sizes[index] for index in order]


def _in_input_order(result: "PredictResult", jobs: list, start: dict[str, int]) -> None:
    """Put what the pipeline added to ``result`` (from the list lengths in ``start``) back in the inputs' order."""
    rank = {path: index for index, (path, _) in enumerate(jobs)}
    for name, first in start.items():
        items = getattr(result, name)
        items[first:] = sorted(items[first:], key=lambda item: rank.get(item[0], 0))


def _batches(jobs: list, pixels: list[int], batch_size: int, max_pixels: int) -> list[list]:
    """Consecutive jobs in batches of at most ``batch_size`` photos and ``max_pixels`` pixels."""
    batches, batch, total = [], [], 0
    for job, count in zip(jobs, pixels):
        if batch and (len(batch) >= batch_size or total + count > max_pixels):
            batches.append(batch)
            batch, total = [], 0
        batch.append(job)
        total += count
    if batch:
        batches.append(batch)
    return batches


def colorize_files(
    paths: Iterable[str | os.PathLike],
    output_dir: str | os.PathLike | None = None,
    model=None,
    suffix: str = "_colorized",
    overwrite: bool = False,
    compare: bool = False,
    batch_size: int = 8,
    render_size: int | None = None,
    progress: bool = False,
    precision: str = "float32",
    strength: float | None = None,
    shard: tuple[int, int] | None = None,
) -> PredictResult:
    """Colorize image files and folders (searched recursively), one PNG per input.

    A small pipeline: the model is loaded while the first photos are decoded; then
    photos are decoded (one thread) while the model runs on a batch, and coloured at
    full resolution, encoded and written (two threads, strip by strip: the full-size
    output never exists at once) while the model runs on the next. Memory stays
    bounded: a batch stops at ``batch_size`` photos or :data:`MAX_BATCH_PIXELS`
    full-resolution pixels, and at most three batches are in flight (being decoded,
    in the model, being written). Photos sharing a working shape share a model call; the model
    runs as one graph for every shape. One bad file never stops the others. Inputs
    are only read.

    Args:
        paths: image files and folders.
        output_dir: None (each output beside its input), a folder (keeping the
            sub-folders of searched folders), or, for a single input file, a file name.
        model: a loaded model, a :class:`~colorize.runtime.Runner`, "default", an ``.onnx`` or ``.keras`` path, a run
            directory, None for the bundled default, or a ``concurrent.futures.Future``
            giving one of these (loaded by the caller while the first photos decode).
        suffix: added to each output's stem (``photo.jpg`` -> ``photo_colorized.png``;
            ``photo_jpg_colorized.png`` when ``photo.png`` is an input too).
        overwrite: replace outputs that already exist (inputs are never replaced).
        compare: also write ``photo_compare.png``: input | output side by side.
        batch_size: photos per model call (those of the same working shape share one).
        render_size: the model's working long side (see :func:`colorize_image`).
        progress: show a tqdm progress bar on stderr.
        precision: "float32", "bfloat16" or "auto" (see :func:`colorize_image`).
        strength: colour strength in [0, 1] (see :func:`colorize_image`).
        shard: ``(k, n)``: only the k-th of n shares of the inputs (1 <= k <= n; see
            :func:`shard_of`), for n processes or batch jobs that split one folder.

    Returns:
        A :class:`PredictResult` with written, skipped (existing output), failed
        (input, reason), ignored (not images, earlier outputs, links to folders) and
        notes (first frame used) lists.

    Raises:
        colorize.saving.ModelLoadError: the model cannot be loaded (nothing is written).
        ValueError: the output cannot be written there, or the render size does not
            fit in memory (checked before any photo is decoded).

    Example:
        >>> result = colorize_files(["scans/"], "colour/", compare=True)  # doctest: +SKIP
        >>> [str(reason) for _, reason in result.failed]
        []
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    paths = [Path(p) for p in paths]
    output_dir = Path(output_dir) if output_dir is not None else None
    single = len(paths) == 1 and not paths[0].is_dir()
    if output_dir is not None and output_dir.suffix.lower() in OUTPUT_SUFFIXES and not single:
        raise ValueError(f"output {output_dir} is a file name but the inputs are several or a folder; pass a folder")
    check_output(output_dir, single)
    precision = runtime.resolve_precision(precision)
    if isinstance(model, (str, os.PathLike)) or model is None:
        saving.resolve_model_path(model or "default", onnx=True)  # a wrong name fails now, before any work
    result = PredictResult()
    jobs = _plan(paths, output_dir, suffix, compare, overwrite, result)
    if shard is not None:
        jobs = _keep_shard(jobs, result, shard)
    if not jobs:
        return result
    in_order = list(jobs)
    ordered, sizes = _by_shape(jobs, [_size_in_header(path) for path, _ in jobs])
    batches = _batches(ordered, [width * height for width, height in sizes], max(1, int(batch_size)), MAX_BATCH_PIXELS)
    start = {name: len(getattr(result, name)) for name in ("written", "failed", "notes")}

    loader = ThreadPoolExecutor(1, thread_name_prefix="colorize-load")
    readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="colorize-read")
    writers = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="colorize-write")
    def load():
        runner = runtime.load_runner(model.result() if isinstance(model, Future) else model, precision, strength)
        probe = runner.working_shape(SIZE_MULTIPLE, SIZE_MULTIPLE * 2)  # the graph is traced while photos decode
        runner.predict(np.zeros((1, *probe, 1), np.float32))
        return runner

    loading = loader.submit(load)

    def read(path):
        decoded, dtype = _read(path, keep_colour=True) if compare else _read(path)
        prepared = _prepare(decoded, dtype, preview=compare)
        del decoded
        runner = loading.result()
        return prepared, _small_l(prepared, runner.working_shape(*prepared.shape, render_size))

    def write(target, prepared, ab):
        """Colour at full resolution, encode and write (in a writer thread)."""
        if not compare:
            data, _ = _colour_and_encode(prepared, ab, target)
            image_io.atomic_write_bytes(target, data)
            return None
        colour = _compose(prepared, ab)
        image_io.atomic_write_bytes(target, image_io.encode_image(colour, target))
        side = compare_path_for(target, suffix)
        image_io.atomic_write_bytes(side, image_io.encode_image(_side_by_side(prepared.preview, colour), side))
        return side

    def collect(writes, bar):
        for path, target, future in writes:
            try:
                side = future.result()
                result.written.append((path, target))
                if side is not None:
                    result.compared.append(side)
            except Exception as error:  # noqa: BLE001 - one bad photo must not stop the run
                log.debug("colouring or writing %s failed", path, exc_info=True)
                result.failed.append((path, f"could not write {target}: {errors.one_line(error)}"))
            bar.update(1)

    def submit(batch):
        return [(path, target, readers.submit(read, path)) for path, target in batch]

    try:
        upcoming, writing = submit(batches[0]), []  # decoded while the model loads
        runner = loading.result()
        if render_size and runner.fixed_size:
            log.warning("this model only works at %d x %d; render size %d ignored", runner.fixed_size, runner.fixed_size, render_size)
        with _progress_bar(len(jobs), progress) as bar:
            for index in range(len(batches)):
                current, upcoming = upcoming, (submit(batches[index + 1]) if index + 1 < len(batches) else [])
                ready = []
                for path, target, future in current:
                    try:
                        prepared, small = future.result()
                    except (ColorizeError, OSError, ValueError, MemoryError) as error:
                        result.failed.append((path, _reason(error, path)))
                        bar.update(1)
                        continue
                    ready.append((path, target, prepared, small))
                if not ready:
                    continue
                runtime.check_render_size(runner, render_size, [image.shape for _, _, image, _ in ready])
                try:
                    predicted = _predict_grouped(runner, [small for _, _, _, small in ready])
                except Exception as error:  # noqa: BLE001 - one bad batch must not stop the run
                    log.debug("model call failed", exc_info=True)
                    result.failed.extend((path, f"model failed: {errors.one_line(error)}") for path, _, _, _ in ready)
                    bar.update(len(ready))
                    continue
                done = []
                for position, ab in enumerate(predicted):
                    path, target, prepared, _ = ready[position]
                    ready[position] = None  # the decoded photo leaves memory once coloured
                    if prepared.frames > 1:
                        result.notes.append((path, f"used the first of its {prepared.frames} frames"))
                    done.append((path, target, writers.submit(write, target, prepared, ab)))
                    del prepared
                del ready, predicted
                collect(writing, bar)  # the batch before: its outputs leave memory
                writing = done
            collect(writing, bar)
    finally:
        for pool in (readers, writers, loader):
            pool.shutdown(wait=True, cancel_futures=True)
    _in_input_order(result, in_order, start)
    return result


def _progress_bar(total: int, progress: bool):
    """A tqdm bar on stderr for a run of several photos; for one photo (or none asked) a silent
    stand-in, and tqdm (a tenth of a second to import) is not imported."""
    if progress and total > 1:
        from tqdm import tqdm

        return tqdm(total=total, desc="colorize", unit="img", disable=None, leave=False)
    import contextlib
    import types

    return contextlib.nullcontext(types.SimpleNamespace(update=lambda count=1: None))


def _reason(error: BaseException, path: Path) -> str:
    """The error message without a leading repetition of the path."""
    text = errors.one_line(error)
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text
