"""Scored predictions as PNG files, named as ``colorize predict`` names its outputs.

``colorize evaluate --save-predictions`` writes every image it scored, so the pictures
behind the numbers can be looked at (and, at full resolution, compared file by file with
``colorize predict``'s: the same names from :func:`colorize.infer.naming.output_paths`, the
same pixels, the same PNG encoder).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def check_predictions_folder(folder: str | os.PathLike, overwrite: bool = False) -> None:
    """Refuse to write predictions over those of an earlier run unless ``overwrite``.

    Raises:
        FileExistsError: ``folder`` is a file, or already holds PNG images (and not ``overwrite``).

    Example:
        >>> check_predictions_folder("scored/")  # doctest: +SKIP
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file; --save-predictions needs a folder")
    earlier = next(folder.rglob("*.png"), None) if folder.is_dir() else None
    if earlier is not None and not overwrite:
        raise FileExistsError(
            f"{folder} already holds predictions ({earlier.name} ...); pass --overwrite to replace them, "
            "or choose another folder"
        )


class PredictionWriter:
    """Writes each scored image as a PNG (atomically, with the umask's mode).

    Photos (``files`` given) are named as ``colorize predict`` names its outputs
    (``photo_colorized.png``, sub-folders below ``data`` kept, ``photo_jpg_colorized.png``
    where ``photo.jpg`` and ``photo.png`` would share a name), so the two folders compare
    file by file; images of a prepared set by position (``NNNNN_colorized.png``, the
    ``image`` column of the report). A sub-folder per model when there are several.

    Example:
        >>> writer = PredictionWriter("scored/", ["unet"], "photos/", files)  # doctest: +SKIP
        >>> writer.save("unet", 0, "photos/a.jpg", rgb)  # doctest: +SKIP
        PosixPath('scored/a_colorized.png')
    """

    def __init__(self, folder: str | os.PathLike, names: list[str], data: str | os.PathLike, files: list[Path] | None):
        from colorize.infer.naming import output_paths

        folder = Path(folder)
        self.folders = {name: folder / name if len(names) > 1 else folder for name in names}
        roots = [Path(data)] if Path(data).is_dir() else []
        self.targets = {str(path): target for path, target in output_paths(files or [], roots, Path()).items()}

    def save(self, name: str, index: int, file: str | None, rgb: np.ndarray) -> Path:
        """Write model ``name``'s RGB in [0, 1] of image ``index`` (photo ``file``, if any)."""
        from colorize.io.encode import encode_image
        from colorize.io.files import atomic_write_bytes

        relative = self.targets[file] if file is not None else Path(f"{index:05d}_colorized.png")
        path = self.folders[name] / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_bytes(path, encode_image(np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8), path))
