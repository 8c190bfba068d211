"""Save a model atomically, refusing one whose weights are NaN or infinite (no Keras import here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from colorize.errors import ColorizeError
from colorize.io.files import atomic_output

if TYPE_CHECKING:
    import keras


class NonFiniteWeightsError(ColorizeError):
    """A model's weights hold NaN or infinite values; it was not saved (or not restored)."""


def save_model(model: keras.Model, path: str | os.PathLike, compress: bool = False) -> Path:
    """Save ``model`` to ``path`` atomically (temporary sibling + rename), with the umask's mode.

    ``compress=True`` deflates the archive's members (Keras stores them as they are: float32
    weights shrink by about a tenth, and Keras reads either), for a file that is shipped.

    Raises:
        NonFiniteWeightsError: some weights are NaN or infinite; nothing was written.

    Example:
        >>> save_model(model, "runs/unet/last.keras")  # doctest: +SKIP
    """
    from colorize.models import nonfinite_weights

    path = Path(path)
    bad = nonfinite_weights(model)
    if bad:
        raise NonFiniteWeightsError(
            f"not saving {path}: {len(bad)} weight(s) are NaN or infinite (first: {bad[0]})"
        )
    with atomic_output(path) as temporary:
        if not compress:
            model.save(str(temporary))
            return path
        stored = temporary.with_name(f"{temporary.stem}-stored.keras")
        try:
            model.save(str(stored))
            _deflate(stored, temporary)
        finally:
            stored.unlink(missing_ok=True)
    return path


def _deflate(source: Path, target: Path) -> None:
    """Copy the zip archive ``source`` to ``target`` with every member deflated."""
    import zipfile

    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for member in archive.infolist():
            info = zipfile.ZipInfo(member.filename, member.date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member) as reading, out.open(info, "w") as writing:
                while chunk := reading.read(1 << 20):
                    writing.write(chunk)
