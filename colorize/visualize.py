"""Pictures a person can look at: comparison grids and loss curves (PNG files).

Uses matplotlib's non-interactive Agg backend and writes files atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from colorize.io.files import atomic_write_bytes  # noqa: F401 - the one writer, also used as visualize.atomic_write_bytes


def _to_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(np.nan_to_num(image), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return image[..., :3]


def save_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Save an RGB image (uint8, or float in [0, 1]) atomically; format from the suffix (PNG if unknown)."""
    from colorize.io.encode import encode_image

    path = Path(path)
    return atomic_write_bytes(path, encode_image(_to_uint8(image), path))


def save_image_grid(
    path: str | os.PathLike,
    columns: Sequence[tuple[str, Sequence[np.ndarray]]],
    title: str | None = None,
    cell_size: float = 1.6,
) -> Path:
    """Save a grid of images: one titled column per source (gray | model | truth ...).

    Args:
        path: output PNG.
        columns: ``[(column_title, [image_row0, image_row1, ...]), ...]``; every
            column has the same number of rows. Images are RGB uint8 or float [0, 1].
        title: optional figure title.
        cell_size: inches per cell.

    Example:
        >>> save_image_grid("grid.png", [("gray", grays), ("model", preds), ("truth", truths)])  # doctest: +SKIP
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = len(columns[0][1]) if columns else 0
    if rows == 0:
        raise ValueError("save_image_grid needs at least one image per column")
    figure, axes = plt.subplots(
        rows, len(columns), figsize=(cell_size * len(columns), cell_size * rows + (0.4 if title else 0)), squeeze=False
    )
    for column, (name, images) in enumerate(columns):
        for row in range(rows):
            axis = axes[row][column]
            axis.imshow(_to_uint8(images[row]))
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(name, fontsize=8)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return atomic_write_bytes(path, buffer.getvalue())


def plot_curves(
    path: str | os.PathLike,
    curves: dict[str, Sequence[float]],
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
) -> Path:
    """Plot named curves (e.g. ``{"loss": [...], "val_loss": [...]}``) to a PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        values = list(values)
        axis.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=name)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if title:
        axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return atomic_write_bytes(path, buffer.getvalue())
