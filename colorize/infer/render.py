"""Render colour at full resolution: the model's a*b* on working-size L, composed with the photo's own L.

The predicted a*b* are resized back (bilinear) to the photo's full resolution and joined
with its full-resolution lightness L, in float32 NumPy on strips of rows, so a 6000 x
4000 photo needs a few hundred MB, not gigabytes. Where a predicted colour falls outside
the sRGB gamut it is desaturated towards the gray of the same luminance (in linear RGB)
instead of clipped per channel (:func:`colorize.color.gamut.lab_to_rgb`, the conversion of
every output picture), so the output's L equals the input's L up to the final 8-bit (or
16-bit) rounding.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from colorize.color import gamut
from colorize.infer import runtime
from colorize.infer.lightness import Prepared, sample_peak
from colorize.io.encode import OUTPUT_SUFFIXES, encode_image, png_bytes, write_png
from colorize.io.files import atomic_output, atomic_write_bytes


def composed_strips(image: "Prepared", ab_small_scaled: np.ndarray, reference: bool = False):
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
    peak = sample_peak(image.dtype)
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
            rgb = gamut.lab_to_rgb(lightness, ab, fast=not reference)
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


def compose(image: "Prepared", ab_small_scaled: np.ndarray, reference: bool = False) -> np.ndarray:
    """Full-resolution L + upsampled ab (+ alpha) -> RGB(A) array of the output dtype."""
    height, width = image.shape
    output = np.empty((height, width, 3 if image.alpha is None else 4), image.dtype)
    for rows, strip in composed_strips(image, ab_small_scaled, reference):
        output[rows] = strip
    return output


def predict_grouped(runner: runtime.Runner, smalls: list[np.ndarray], finish: bool = True) -> list:
    """Working-size L (list of (h, w)) -> scaled ab; photos of one shape share a model call.

    ``finish=False`` returns, for each photo, a function that gives its scaled ab: the
    network has run, its decoding (:meth:`Runner.finish`) is left to whoever calls it (a
    writer thread, while the network runs on the next photos).
    """
    from colorize.color import scale_l

    outputs: list = [None] * len(smalls)
    shapes = [small.shape for small in smalls]
    for shape in dict.fromkeys(shapes):
        members = [index for index, s in enumerate(shapes) if s == shape]
        batch = np.stack([scale_l(smalls[index]) for index in members])[..., None].astype(np.float32)
        raw = runner.network(batch)
        for position, member in enumerate(members):
            outputs[member] = functools.partial(_finished, runner, raw[position : position + 1],
                                                batch[position : position + 1])
    return outputs if not finish else [pending() for pending in outputs]


def _finished(runner: runtime.Runner, raw: np.ndarray, l_scaled: np.ndarray) -> np.ndarray:
    """One photo's network output and L (batches of one) -> its scaled ab (h, w, 2)."""
    return runner.finish(raw, l_scaled)[0]


def colour_and_write(image: "Prepared", ab_small_scaled: np.ndarray, path: Path) -> None:
    """Colour the photo and write it to ``path`` atomically; a PNG is coloured, encoded and
    written strip by strip, so neither the picture nor its file is ever held whole."""
    if path.suffix.lower() == ".png" or path.suffix.lower() not in OUTPUT_SUFFIXES:
        height, width = image.shape
        strips = (strip for _, strip in composed_strips(image, ab_small_scaled))
        with atomic_output(path) as temporary, open(temporary, "wb") as stream:
            write_png(stream, strips, height, width, 3 if image.alpha is None else 4, image.dtype)
        return
    atomic_write_bytes(path, encode_image(compose(image, ab_small_scaled), path))


def colour_and_encode(image: "Prepared", ab_small_scaled: np.ndarray, path: Path) -> tuple[bytes, np.ndarray | None]:
    """The bytes of the file :func:`colour_and_write` would write (for an upload's answer).

    Returns the bytes and, for other formats, the coloured array (else None).
    """
    if path.suffix.lower() == ".png" or path.suffix.lower() not in OUTPUT_SUFFIXES:
        height, width = image.shape
        strips = (strip for _, strip in composed_strips(image, ab_small_scaled))
        channels = 3 if image.alpha is None else 4
        return png_bytes(strips, height, width, channels, image.dtype), None
    colour = compose(image, ab_small_scaled)
    return encode_image(colour, path), colour


def side_by_side(preview: np.ndarray, colour: np.ndarray) -> np.ndarray:
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
