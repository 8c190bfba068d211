"""Evaluation without truth: the colour measures of models' colorizations of genuine black-and-white photos.

There is no colour truth, so there are no pixel metrics: only colourfulness, hue entropy,
the warm share and blotchiness of each model's output (see
:data:`colorize.evaluate.report.COLOUR_MEASURES_TEXT`), with its a*b* histogram and a
contact sheet. Each photo is colorized by :func:`colorize.infer.colorize_image`, the path
``colorize predict`` takes (full resolution, gamut mapping, 8-bit output), and measured on
that output.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Callable

import numpy as np

from colorize import errors, measures
from colorize.color import gamut, np_ops
from colorize.evaluate.scoring import (
    Accumulator,
    EvaluationResult,
    float_rgb,
    output_ab,
)
from colorize.io.decode import resize

log = logging.getLogger(__name__)

MEASURE_MAX_PIXELS = 4_000_000  # larger outputs are measured area-downscaled to this many pixels
CONTACT_SHEET_SIZE = 24  # photos on contact_sheet.png
CONTACT_THUMBNAIL = 192  # long side of its thumbnails, pixels


def evaluate_without_truth(
    models: dict,
    data: str | os.PathLike,
    render_size: int | None = None,
    limit: int | None = None,
    num_samples: int = CONTACT_SHEET_SIZE,
    progress: Callable[[int], None] | None = None,
) -> EvaluationResult:
    """The colour measures of models' colorizations of genuine black-and-white photos.

    Files that cannot be read are skipped and listed in ``result.skipped``.

    Args:
        models: ``{name: keras.Model | Runner}`` (baselines need truth and are refused).
        data: a folder of photos (searched recursively), a file, or a ``.txt`` list of paths.
        render_size: the long side the models see (default: as ``colorize predict``).
        limit: stop after this many photos.
        num_samples: photos kept for the contact sheet.
        progress: optional callable ``progress(n)`` after each photo.

    Returns:
        An :class:`EvaluationResult` with ``truth=False``.

    Raises:
        ValueError: no models, a baseline, a prepared data set, or no readable photo.

    Example:
        >>> result = evaluate_without_truth({"default": saving.load_model()}, "old_photos/")  # doctest: +SKIP
        >>> result.summary["default"]["warm_share"]  # doctest: +SKIP
    """
    from colorize.data import pipeline
    from colorize.errors import ColorizeError
    from colorize.infer import colorize_image, runtime
    from colorize.io.files import find_images

    if not models:
        raise ValueError("nothing to evaluate: give at least one model")
    baselines = [name for name, model in models.items() if isinstance(model, str)]
    if baselines:
        raise ValueError(f"the baselines {baselines} need colour truth; without truth, evaluate models only")
    if pipeline.is_prepared_dir(data):
        raise ValueError(f"{data} is a prepared data set of colour photos; without truth, give a folder of photos")
    runners = {name: runtime.Runner.create(model) for name, model in models.items()}
    files, passed_over = find_images([data])
    skipped = [(str(path), reason) for path, reason in passed_over]
    scores = Accumulator(list(models), sample_columns=("gray input",))
    samples = scores.samples
    count = 0
    for path in files:
        if limit is not None and count >= limit:
            break
        try:
            outputs = {
                name: colorize_image(path, model=runner, render_size=render_size)
                for name, runner in runners.items()
            }
        except (ColorizeError, OSError, ValueError) as error:
            log.warning("skipping %s: %s", path, error)
            skipped.append((str(path), errors.one_line(error)))
            continue
        for name, output in outputs.items():
            rgb = _measured_rgb(output)
            ab = output_ab(rgb)
            values = {"colourfulness": measures.colourfulness(rgb), **scores.hue_measures(name, ab),
                      "blotchiness": _output_blotchiness(rgb, ab)}  # fmt: skip
            scores.add(name, ab, values, row={"image": count, "file": str(path)})
            if len(samples[name]) < num_samples:
                samples[name].append(_fit(rgb, CONTACT_THUMBNAIL))
        if len(samples["gray input"]) < num_samples:
            samples["gray input"].append(_gray(samples[next(iter(models))][-1]))
        count += 1
        if progress:
            progress(1)
    if count == 0:
        reason = f" ({len(skipped)} files skipped, e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise ValueError(f"{data}: no images found to evaluate{reason}")
    size = render_size or 0
    return EvaluationResult(scores.summary(count), scores.rows, scores.histograms, samples, count, str(data), size,
                            True, False, skipped)  # fmt: skip


def _output_blotchiness(rgb: np.ndarray, ab: np.ndarray) -> float:
    """:func:`colorize.measures.blotchiness` of an output image (its own L and a*b*)."""
    return measures.blotchiness(np_ops.rgb_to_lab(rgb)[..., 0], ab)


def _measured_rgb(output: np.ndarray) -> np.ndarray:
    """A colorize_image output (uint8 / uint16 / float, RGB or RGBA) as float RGB in [0, 1],
    area-downscaled to at most :data:`MEASURE_MAX_PIXELS` (bounded memory for big scans)."""
    rgb = float_rgb(output)
    height, width = rgb.shape[:2]
    if height * width > MEASURE_MAX_PIXELS:
        scale = math.sqrt(MEASURE_MAX_PIXELS / (height * width))
        rgb = resize(rgb, max(1, int(height * scale)), max(1, int(width * scale)))
    return rgb


def _fit(image: np.ndarray, size: int) -> np.ndarray:
    """The whole image with its long side ``size`` pixels (aspect ratio kept)."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    return np.clip(resize(image, max(1, round(height * scale)), max(1, round(width * scale))), 0.0, 1.0)


def _gray(rgb: np.ndarray) -> np.ndarray:
    """The image turned gray (its CIELAB L with a*b* = 0): what the model saw."""
    lightness = np_ops.rgb_to_lab(np.asarray(rgb, np.float32))[..., 0]
    return gamut.lab_to_rgb(lightness, np.zeros(lightness.shape + (2,), np.float32))
