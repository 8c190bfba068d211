"""Inference: colorize real photos of any size with a trained model.

One module per job, imports pointing one way (each only on those above it):

    lightness.py  decode a photo into its full-resolution L (codes), alpha and a preview
    render.py     the model's a*b* on working-size L, composed with full-resolution L
    image.py      colorize_image (path or array), colorize_bytes (encoded file in memory)
    result.py     PredictResult: what a files/folders run did
    naming.py     output paths, collision rules, shares of a folder
    batch.py      colorize_files: the threaded decode / model / write pipeline
    distributed.py  colorize_files_on_ray: the same on a Ray cluster (Ray imported when called)

Example:
    >>> import colorize
    >>> rgb = colorize.colorize_image("grandma.jpg")  # doctest: +SKIP
    >>> rgb.shape  # the input's height and width
    (2000, 3000, 3)
"""

from colorize.infer.batch import (
    MAX_BATCH_PIXELS,
    READ_THREADS,
    WRITE_THREADS,
    colorize_files,
)
from colorize.infer.image import colorize_bytes, colorize_image
from colorize.infer.lightness import COMPARE_MAX_HEIGHT
from colorize.infer.naming import (
    check_output,
    compare_path_for,
    is_own_output,
    output_path_for,
    shard_of,
)
from colorize.infer.result import PredictResult

__all__ = [
    "COMPARE_MAX_HEIGHT",
    "MAX_BATCH_PIXELS",
    "READ_THREADS",
    "WRITE_THREADS",
    "PredictResult",
    "check_output",
    "colorize_bytes",
    "colorize_files",
    "colorize_image",
    "compare_path_for",
    "is_own_output",
    "output_path_for",
    "shard_of",
]
