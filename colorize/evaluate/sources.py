"""Colour photos to score against: a prepared split at the working size, or photos at full resolution, in batches.

Each batch holds each photo's scaled L (what a model sees), its scaled a*b* and its RGB
(the truth). A prepared data set is read through :mod:`colorize.data.pipeline` at the
working size; a folder of photos at full resolution is read one file at a time in NumPy
(no TensorFlow), files that cannot be read skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np

from colorize.color import np_ops

log = logging.getLogger(__name__)

DEFAULT_IMAGE_SIZE = 128


@dataclasses.dataclass
class Batch:
    """Images of one step: stacked arrays at the working size, or lists at full resolution."""

    l_scaled: list | np.ndarray  # (H, W, 1) each
    ab_scaled: list | np.ndarray  # (H, W, 2) each
    rgb: list | np.ndarray  # (H, W, 3) each, [0, 1]
    previous_ab: np.ndarray | None  # the last image's ab_scaled of the previous batch
    files: list[str] | None = None  # image paths, at full resolution

    def __len__(self) -> int:
        return len(self.l_scaled)


def working_size(models: dict, data: str | os.PathLike | None = None) -> int:
    """The size images are compared at: the first model's input size, else the prepared
    data set's image size, else 128.

    Example:
        >>> working_size({"gray": "gray"})
        128
    """
    for model in models.values():
        if getattr(model, "trained_size", None):  # a colorize.infer.runtime.Runner
            return int(model.trained_size)
        shape = getattr(model, "inputs", None) and model.inputs[0].shape
        if shape and shape[1] is not None and shape[1] == shape[2]:
            return int(shape[1])
    if data is not None:
        from colorize.data import pipeline

        if pipeline.is_prepared_dir(data):
            size = pipeline.read_manifest(data).get("image_size")
            if isinstance(size, int) and size > 0:
                return size
    return DEFAULT_IMAGE_SIZE


def working_size_batches(data, split: str, image_size: int, batch_size: int):
    """Stacked ``(l_scaled, ab_scaled, rgb, None)`` of a prepared split or a folder at the working size."""
    from colorize.data import pipeline

    dataset = pipeline.make_dataset(
        data, split=split, image_size=image_size, batch_size=batch_size, shuffle=False, with_rgb=True
    )
    for l_scaled, ab_scaled, rgb in dataset:
        yield l_scaled.numpy(), ab_scaled.numpy(), rgb.numpy(), None


def photo_files(data) -> list[Path]:
    """The photos of a plain folder (or file) evaluated at full resolution.

    Raises:
        ValueError: ``data`` is a prepared data set (its images are at the training size).
    """
    from colorize.data import pipeline
    from colorize.io.files import find_images

    if pipeline.is_prepared_dir(data):
        raise ValueError(
            f"{data} is a prepared data set (its images are stored at the training size); "
            "--full-resolution needs a folder of original photos"
        )
    files, skipped = find_images([data])
    for path, reason in skipped:
        log.warning("skipping %s: %s", path, reason)
    return files


def full_resolution_batches(files: list[Path], batch_size: int):
    """Lists of full-resolution (l_scaled, ab_scaled, rgb, file), one photo at a time from disk."""
    from colorize.errors import ColorizeError
    from colorize.io.decode import read_image

    batch: tuple[list, list, list, list] = ([], [], [], [])
    for path in files:
        try:
            rgb = read_image(path).rgb
        except (ColorizeError, OSError, ValueError) as error:  # an undecodable file is skipped
            log.warning("skipping %s: %s", path, error)
            continue
        l_scaled, ab_scaled = (np.asarray(value) for value in np_ops.rgb_to_model_io(rgb))
        for items, value in zip(batch, (l_scaled, ab_scaled, rgb, str(path))):
            items.append(value)
        if len(batch[0]) == batch_size:
            yield batch
            batch = ([], [], [], [])
    if batch[0]:
        yield batch
