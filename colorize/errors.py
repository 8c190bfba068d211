"""Exceptions the library raises for problems a user can fix.

The CLI turns these (and ValueError / OSError) into a one-line message and a
non-zero exit (shortened by :func:`one_line`); the library itself never prints or exits.
"""


class ColorizeError(Exception):
    """Base class for expected, user-facing errors (bad input, missing files)."""


class ImageDecodeError(ColorizeError):
    """A file could not be read as an image; the message says why."""


class WeightsNotFoundError(ColorizeError, FileNotFoundError):
    """A pretrained weights file is missing; the message names the file and where to put it."""


ONE_LINE_LIMIT = 500  # characters: enough for a path, the problem and the fix


def one_line(error: BaseException | str, limit: int = ONE_LINE_LIMIT, whole: bool = False) -> str:
    """The first line of an error's message, at most ``limit`` characters: how errors are shortened.

    ``whole=True`` keeps all of a multi-line message instead, its lines joined by spaces (for
    a library's error whose reason is spread over lines, such as a model file's loader).

    The CLI's messages, a folder run's list of failed photos, the page's JSON errors and
    evaluate's skipped files all shorten errors here, so they read the same everywhere.
    An error without a message gives its type's name.

    Example:
        >>> one_line(ValueError("bad value\\nTraceback ..."))
        'bad value'
        >>> one_line(KeyError())
        'KeyError'
        >>> one_line(ValueError("layer 'x':\\n  unknown"), whole=True)
        "layer 'x': unknown"
    """
    text = str(error).strip()
    if not text:
        return type(error).__name__ if isinstance(error, BaseException) else "error"
    line = " ".join(text.split()) if whole else text.splitlines()[0].strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."
