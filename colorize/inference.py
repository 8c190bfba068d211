"""The public inference names under their earlier home; the code lives in :mod:`colorize.infer`.

Example:
    >>> from colorize.inference import colorize_image  # same as colorize.infer.colorize_image
"""

from colorize.infer import (  # noqa: F401 - re-exported
    COMPARE_MAX_HEIGHT,
    MAX_BATCH_PIXELS,
    READ_THREADS,
    WRITE_THREADS,
    PredictResult,
    check_output,
    colorize_bytes,
    colorize_files,
    colorize_image,
    compare_path_for,
    is_own_output,
    output_path_for,
    shard_of,
)
from colorize.infer import __all__  # noqa: F401
