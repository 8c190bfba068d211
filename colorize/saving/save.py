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


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Save ``model`` to ``path`` atomically (temporary sibling + rename), with the umask's mode.

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
        model.save(str(temporary))
    return path
