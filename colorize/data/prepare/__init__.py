"""``colorize prepare``: folders of photos -> a training-ready data set, one module per job.

Imports point one way (each only on those below it):

    run.py      prepare(): find, process, dedupe, split, write, swap in; PrepareResult
    staging.py  the hidden staging folder, the atomic swap, leftovers of killed runs (by pid)
    writing.py  TFRecord and .npy shards, the ab distribution, the manifest
    worker.py   the per-image worker (decode, filter, square, PNG, a*b* histogram) and its processes
    split.py    train/val/test fractions and each file's split from its content hash
    filters.py  colourfulness and hue spread: which photos count as colour

Example:
    >>> from colorize.data.prepare import prepare
    >>> result = prepare(["photos/"], "data/portraits", image_size=128)  # doctest: +SKIP
"""

from colorize.data.prepare.filters import DEFAULT_MIN_COLOURFULNESS, DEFAULT_MIN_HUE_SPREAD, colourfulness, hue_spread
from colorize.data.prepare.run import FITS, FORMAT_VERSION, PrepareResult, prepare
from colorize.data.prepare.split import parse_split, split_of
from colorize.data.prepare.worker import AB_EDGES

__all__ = [
    "AB_EDGES",
    "DEFAULT_MIN_COLOURFULNESS",
    "DEFAULT_MIN_HUE_SPREAD",
    "FITS",
    "FORMAT_VERSION",
    "PrepareResult",
    "colourfulness",
    "hue_spread",
    "parse_split",
    "prepare",
    "split_of",
]
