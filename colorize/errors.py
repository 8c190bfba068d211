"""Exceptions the library raises for problems a user can fix.

The CLI turns these (and ValueError / OSError) into a one-line message and a
non-zero exit; the library itself never prints or exits.
"""


class ColorizeError(Exception):
    """Base class for expected, user-facing errors (bad input, missing files)."""


class ImageDecodeError(ColorizeError):
    """A file could not be read as an image; the message says why."""


class WeightsNotFoundError(ColorizeError, FileNotFoundError):
    """A pretrained weights file is missing; the message names the file and where to put it."""
