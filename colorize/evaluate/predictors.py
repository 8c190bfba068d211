"""Predictors: models and the gray / random baselines as functions batch -> the scored (RGB, a*b*) of each image.

The RGB scored is the picture a user gets: at the working size the model's a*b* joined
with the image's L by :func:`colorize.color.gamut.model_io_to_rgb` (the conversion
``colorize predict`` writes with) and rounded to 8 bits; at full resolution the output of
:func:`colorize.infer.colorize_image` itself. The ``gray`` baseline predicts a*b* = 0;
``random`` takes the a*b* of another image of the set (as in the classification report
after Zhang et al. 2016); both go through the same code as a model.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from colorize import color
from colorize.color import gamut
from colorize.evaluate.scoring import float_rgb, output_ab
from colorize.evaluate.sources import Batch
from colorize.io.decode import resize

BASELINES = ("gray", "random")


def predictor(model, render_size: int | None) -> Callable[[Batch], list]:
    """A function batch -> the scored ``(rgb, ab)`` of each image: the 8-bit RGB in [0, 1] a
    user gets (the shape of its truth) and its predicted a*b*.

    At working size the a*b* are the model's own (as in the papers). At full resolution a
    model colorizes each file with :func:`colorize.infer.colorize_image`, the very
    function ``colorize predict`` uses, and the a*b* are those of its output.

    Raises:
        ValueError: ``model`` is a string other than a baseline's name.
    """
    if isinstance(model, str):
        if model == "gray":
            return lambda batch: scored(batch.l_scaled, [np.zeros_like(ab) for ab in batch.ab_scaled])
        if model == "random":
            return lambda batch: scored(batch.l_scaled, random_baseline(batch))
        raise ValueError(f"Unknown baseline. Expected one of {BASELINES}. Received: {model!r}")
    from colorize.infer import colorize_image
    from colorize.infer.runtime import Runner

    runner = Runner.create(model)

    def predict(batch):
        if batch.files:  # full resolution: what `colorize predict` writes
            outputs = [colorize_image(file, model=runner, render_size=render_size) for file in batch.files]
            return [(rgb, output_ab(rgb)) for rgb in map(float_rgb, outputs)]
        size = runner.fixed_size
        if size is None or size == batch.l_scaled.shape[1]:
            return scored(batch.l_scaled, runner.predict(batch.l_scaled))
        resized = np.stack([resize(image, size, size) for image in batch.l_scaled])
        return scored(batch.l_scaled, [resize(ab, *batch.l_scaled.shape[1:3]) for ab in runner.predict(resized)])

    return predict


def scored(l_scaled: list | np.ndarray, predicted: list | np.ndarray) -> list:
    """``(rgb, ab)`` of each image from scaled L and predicted scaled ab: RGB by
    :func:`colorize.color.gamut.model_io_to_rgb` rounded to the 8 bits a user would get (one
    conversion for a stacked batch), ab unscaled.

    Example:
        >>> rgb, ab = scored(np.zeros((1, 4, 4, 1), np.float32), np.zeros((1, 4, 4, 2), np.float32))[0]
        >>> rgb.shape, float(np.abs(ab).max())
        ((4, 4, 3), 0.0)
    """
    if isinstance(l_scaled, np.ndarray):
        predicted = np.stack(predicted).astype(np.float32)
        rgb = gamut.model_io_to_rgb(l_scaled, predicted)
    else:
        predicted = [np.asarray(ab, np.float32) for ab in predicted]
        rgb = [gamut.model_io_to_rgb(l_image, ab) for l_image, ab in zip(l_scaled, predicted)]
    return [(np.round(image * 255.0) / 255.0, color.unscale_ab(ab)) for image, ab in zip(rgb, predicted)]


def random_baseline(batch: Batch) -> list:
    """Each image gets the ab of another image of the set, chosen deterministically and
    independently of the batch size: image k takes image k-1's ab, the first image takes
    the second's (alone in a batch of one, with nothing before it, it gets ab = 0)."""
    count = len(batch)
    if batch.previous_ab is not None:
        sources = [batch.previous_ab] + [batch.ab_scaled[index - 1] for index in range(1, count)]
    elif count > 1:
        sources = [batch.ab_scaled[1]] + [batch.ab_scaled[index - 1] for index in range(1, count)]
    else:
        sources = [np.zeros_like(batch.ab_scaled[0])]
    return [resize(source, *target.shape[:2]) for source, target in zip(sources, batch.ab_scaled)]
