"""Plain image folders as training data: a stable train / val split by a hash of each path.

Example:
    >>> from colorize.data import folders
    >>> train_files, val_files = folders.split_folder("my_photos")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from colorize.errors import ColorizeError


def split_folder(
    folder: str | os.PathLike, val_fraction: float = 0.1, exclude: list[Path] | tuple = ()
) -> tuple[list[Path], list[Path]]:
    """Split a plain image folder into (train, val) file lists by a hash of each relative path.

    Args:
        folder: a folder of images (searched recursively).
        val_fraction: about this share of the files goes to validation (at least one file).
        exclude: folders inside ``folder`` whose images are never used (training runs).

    Raises:
        ColorizeError: fewer than 2 images, or the TFRecords of an unfinished prepare.
    """
    from colorize.data import records
    from colorize.io.files import find_images

    folder = Path(folder)
    records.check_complete(folder)
    excluded = [Path(path) for path in exclude]
    files = [
        path for path in find_images([folder])[0]
        if path.is_file() and not any(skip == path.parent or skip in path.parents for skip in excluded)
    ]  # fmt: skip
    if len(files) < 2:
        raise ColorizeError(f"{folder}: found {len(files)} image(s); training needs at least 2 (one for validation)")

    def position(path):
        digest = hashlib.sha1(path.relative_to(folder).as_posix().encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") / 2**32

    ranked = sorted(files, key=position)
    # Files whose hash falls below val_fraction; at least one, so tiny folders still validate.
    count = max(1, sum(position(path) < val_fraction for path in files))
    val_files, train_files = sorted(ranked[:count]), sorted(ranked[count:])
    return train_files, val_files
