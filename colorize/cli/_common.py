"""Helpers shared by the subcommand modules: error handling and small click types."""

import contextlib
import errno
import functools
import importlib.util
import logging
import math
import os
import sys

import click

from colorize import errors, registry
from colorize.errors import ColorizeError

log = logging.getLogger(__name__)

# The model's compute type, for every command that colorizes photos (predict, evaluate).
precision_option = click.option(
    "--precision", type=click.Choice(registry.PRECISIONS), default=registry.PRECISIONS[0], show_default=True,
    help="Model compute type: auto = bfloat16 where the CPU has AMX or AVX-512 BF16, else float32.",
)


vivid_option = click.option(
    "--vivid", "strength", type=click.FloatRange(0.0, 1.0), default=None, metavar="0..1",
    help="Colour strength of a bins model: 0 = calm, likeliest colours; 1 = strongest, rarer colours. "
         "Default: a preset's own (the bundled default: 0.25), else the model file's own decoding (0.5): "
         "give --vivid to compare a model file with the default at one strength.",
)  # fmt: skip


def handle_errors(function=None, *, import_keras: bool = True):
    """Turn expected library errors into a one-line message and exit code 1.

    A user's mistake (missing file, bad value, unreadable image) never shows a
    traceback; anything else is re-raised so that real bugs stay visible.
    Keras (and with it the chosen backend) is imported first (:func:`load_keras`);
    ``import_keras=False``: the command imports it itself, when it needs it
    (``predict`` does so while it reads the first photos).
    """
    if function is None:
        return functools.partial(handle_errors, import_keras=import_keras)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if import_keras:
            load_keras()
        try:
            return function(*args, **kwargs)
        except (ColorizeError, ValueError, OSError) as error:
            message = errors.one_line(error)
            log.debug("command failed", exc_info=True)
            raise click.ClickException(message) from error

    return wrapper


# Why a folder cannot take a command's outputs: said with the flag that names the folder.
_WRITE_ERRNOS = {errno.EROFS: "a read-only file system", errno.ENOSPC: "no space left on the device",
                 errno.EDQUOT: "the disk quota is used up", errno.EACCES: "permission denied",
                 errno.EPERM: "permission denied"}  # fmt: skip


@contextlib.contextmanager
def writing_to(flag: str, folder):
    """Turn a failed write under ``folder`` (read-only, full, not permitted) into one line
    naming ``flag`` and the folder, not the hidden temporary file that failed.

    An error about another path (an input) passes through unchanged.
    """
    from pathlib import Path

    folder = Path(folder)
    try:
        yield
    except OSError as error:
        reason = _WRITE_ERRNOS.get(error.errno)
        named = Path(error.filename) if error.filename else None
        about_output = (named is not None and named.absolute().is_relative_to(folder.absolute())
                        or named is None and error.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT))  # fmt: skip
        if reason is None or not about_output:
            raise
        log.debug("writing under %s failed", folder, exc_info=True)
        raise click.ClickException(
            f"cannot write to {folder} ({reason}); pass {flag} a folder you can write to, with free space"
        ) from None


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` and ``inf`` (which slip past its bounds)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


class ShardType(click.ParamType):
    """``--shard K/N``: (K, N) with 1 <= K <= N."""

    name = "K/N"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            index, count = (int(part) for part in str(value).split("/"))
        except ValueError:
            self.fail(f"expected K/N, e.g. 1/4; Received: {value!r}", param, ctx)
        if not 1 <= index <= count:
            self.fail(f"expected 1 <= K <= N; Received: {value!r}", param, ctx)
        return index, count


def select_backend(ctx, param, value) -> None:
    """Click callback of ``--backend``: set KERAS_BACKEND before Keras is imported."""
    if value is None:
        return
    if importlib.util.find_spec(value) is None:
        extra = f"[{value}]"
        raise click.BadParameter(f"{value} is not installed (pip install colorize-keras{extra})", param_hint="--backend")
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != value:
        raise click.BadParameter(
            f"Keras is already running on {sys.modules['keras'].backend.backend()} in this process; "
            f"set KERAS_BACKEND={value} before starting it",
            param_hint="--backend",
        )
    os.environ["KERAS_BACKEND"] = value


def quiet_tensorflow_logs(verbose: int = 0) -> None:
    """Quieten TensorFlow's C++ start-up logging with its documented switch, unless the user set it.

    ``TF_CPP_MIN_LOG_LEVEL``: 3 (errors raise as Python exceptions; the C++ log of a CPU-only
    machine's GPU driver search is hidden) by default, 2 with ``-v``, 0 (everything) with ``-vv``.
    A user's own value always wins. Nothing is redirected: a native crash stays visible. Two
    lines TensorFlow writes before its logging starts (``absl::InitializeLog``, ``cudart_stub``)
    have no switch and may still appear.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", {0: "3", 1: "2"}.get(verbose, "0"))


def load_keras() -> None:
    """Import Keras, so that it loads the chosen backend (KERAS_BACKEND) before anything else.

    Keras imports TensorFlow itself where it needs it (e.g. ``keras.utils.set_random_seed``
    where TensorFlow is installed), always after its own backend: some native libraries
    (PyTorch's Triton with TensorFlow 2.21) crash when TensorFlow is loaded first.

    Raises:
        click.ClickException: Keras or its backend is not installed (the base install runs
            ``.onnx`` models only); one line naming the extra to install.
    """
    try:
        import keras  # noqa: F401
    except ImportError as error:
        backend = os.environ.get("KERAS_BACKEND", "tensorflow")
        missing = error.name or "keras"
        raise click.ClickException(
            f"this needs Keras with a backend ({missing} is not installed): "
            f"pip install 'colorize-keras[{backend if backend in ('tensorflow', 'jax', 'torch') else 'tensorflow'}]'"
            " (predict and serve run .onnx models and the bundled default without it)"
        ) from None


def echo_table(rows, headers):
    """Echo a list of row tuples as an aligned plain-text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * width for width in widths))
