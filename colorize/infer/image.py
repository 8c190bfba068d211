"""Colorize one photo held as a path, an array or encoded bytes: :func:`colorize_image`, :func:`colorize_bytes`.

The model works at its own (small) working size; the predicted a*b* are resized back
to the photo's full resolution and joined with the photo's own full-resolution
lightness L (:mod:`colorize.infer.render`), so the output has exactly the input's size,
its detail and its lightness. Models are loaded by :mod:`colorize.saving` and run by
:mod:`colorize.infer.runtime`.

:func:`colorize_bytes` does the same for a file held in memory (``colorize serve``) and
returns the very PNG bytes ``colorize predict`` writes.

Example:
    >>> import colorize
    >>> rgb = colorize.colorize_image("grandma.jpg")  # doctest: +SKIP
    >>> rgb.shape  # the input's height and width
    (2000, 3000, 3)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from colorize.color import np_ops
from colorize.infer import runtime
from colorize.infer.faces import recolour_faces
from colorize.infer.lightness import (
    Prepared,
    from_array,
    prepare,
    read,
    small_l,
    with_dtype,
)
from colorize.infer.render import colour_and_encode, compose, predict_grouped
from colorize.io.decode import decode_image


def _colorize_prepared(runner: runtime.Runner, images: list[Prepared], render_size) -> list[np.ndarray]:
    """Colorize prepared photos; those sharing a working shape go through one model call."""
    smalls = [small_l(image, runner.working_shape(*image.shape, render_size)) for image in images]
    predicted = predict_grouped(runner, smalls)
    if runner.faces:
        predicted = [recolour_faces(runner, image, ab) for image, ab in zip(images, predicted)]
    return [compose(image, ab) for image, ab in zip(images, predicted)]


def colorize_image(
    image,
    model=None,
    render_size: int | None = None,
    precision: str = "float32",
    strength: float | None = None,
    faces: bool | None = None,
) -> np.ndarray:
    """Colorize one photo at full resolution.

    Args:
        image: a file path, or an array (H, W), (H, W, 3) or (H, W, 4) of uint8,
            uint16 or float in [0, 1]. Colour input is turned gray first.
        model: a loaded model (from :func:`colorize.saving.load_model`), "default", an ``.onnx`` or ``.keras`` path,
            a run directory, or None for the bundled default.
        render_size: the long side, in pixels, at which the model sees the photo
            (bigger: more colour detail, slower). Default 192, or the model's
            training size if larger; fixed-size models always use their size.
        precision: "float32", "bfloat16" or "auto" (bfloat16 where the CPU has
            native bfloat16: AMX or AVX-512 BF16), for a model not yet wrapped in a
            :class:`~colorize.infer.runtime.Runner`.
        strength: colour strength in [0, 1] for a bins model such as the bundled one
            (0: calm, likeliest colours; 0.5: the model's own; 1: strongest); None keeps
            the model's or preset's own.
        faces: colour each face found again in a tight crop, the framing the model learned
            faces from (:mod:`colorize.infer.faces`); None: a preset's own (on for the
            bundled presets), off for other models.

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
        decoded, dtype = read(image)
    else:
        decoded, dtype = from_array(image)
    prepared = prepare(decoded, dtype)
    del decoded
    runner = runtime.load_runner(model, precision, strength, faces)
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
        model: a loaded model or :class:`~colorize.infer.runtime.Runner`, "default", an ``.onnx`` or ``.keras`` path, a run
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
    decoded, dtype = with_dtype(decode_image(data, name, native=True, to_gray=np_ops.gray_levels))
    prepared = prepare(decoded, dtype)
    del decoded
    runner = runtime.load_runner(model, "float32", strength)
    runtime.check_render_size(runner, render_size, [prepared.shape])
    ab = predict_grouped(runner, [small_l(prepared, runner.working_shape(*prepared.shape, render_size))])[0]
    if runner.faces:
        ab = recolour_faces(runner, prepared, ab)
    encoded, _ = colour_and_encode(prepared, ab, Path("upload.png"))
    return encoded
