"""Helpers shared by the subcommand modules: error handling and small click types."""

import functools
import importlib.util
import logging
import math
import os
import sys
import tempfile

import click

from colorize.errors import ColorizeError

log = logging.getLogger(__name__)

# What TensorFlow's C++ start-up prints on every machine without a GPU driver (its CUDA
# build looks for one), below TF_CPP_MIN_LOG_LEVEL's reach: not the user's business.
_STARTUP_NOISE = (
    "absl::InitializeLog()",
    "cudart_stub.cc",
    "cuda_platform.cc",
    "cuda_executor.cc",
    "cpu_feature_guard.cc",
    "rebuild TensorFlow with the appropriate compiler flags",
    "Unable to register cu",
    "computation_placer.cc",
    "oneDNN custom operations are on",
)


# The model's compute type, for every command that colorizes photos (predict, evaluate).
precision_option = click.option(
    "--precision", type=click.Choice(["auto", "float32", "bfloat16"]), default="auto", show_default=True,
    help="Model compute type: auto = bfloat16 where the CPU has AMX or AVX-512 BF16, else float32.",
)


def handle_errors(function=None, *, import_tensorflow: bool = True):
    """Turn expected library errors into a one-line message and exit code 1.

    A user's mistake (missing file, bad value, unreadable image) never shows a
    traceback; anything else is re-raised so that real bugs stay visible.
    ``import_tensorflow=False``: the command imports TensorFlow itself, when it
    needs it (``predict`` does so while it reads the first photos).
    """
    if function is None:
        return functools.partial(handle_errors, import_tensorflow=import_tensorflow)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if import_tensorflow:
            import_tensorflow_quietly()
        try:
            return function(*args, **kwargs)
        except (ColorizeError, ValueError, OSError) as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            log.debug("command failed", exc_info=True)
            raise click.ClickException(message) from error

    return wrapper


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` and ``inf`` (which slip past its bounds)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def select_backend(ctx, param, value) -> None:
    """Click callback of ``--backend``: set KERAS_BACKEND before Keras is imported."""
    if value is None:
        return
    if importlib.util.find_spec(value) is None:
        extra = {"tensorflow": ""}.get(value, f"[{value}]")
        raise click.BadParameter(f"{value} is not installed (pip install colorize{extra})", param_hint="--backend")
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != value:
        raise click.BadParameter(
            f"Keras is already running on {sys.modules['keras'].backend.backend()} in this process; "
            f"set KERAS_BACKEND={value} before starting it",
            param_hint="--backend",
        )
    os.environ["KERAS_BACKEND"] = value


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with the C++ start-up chatter filtered out.

    Only where TensorFlow is installed (Keras then imports it on every backend, e.g. in
    ``keras.utils.set_random_seed``); a JAX-only or PyTorch-only machine imports nothing.

    The chatter is written straight to file descriptor 2 before TensorFlow's own log
    settings apply, so it is caught in a temporary file and everything else in it is
    passed on to stderr. Nothing is filtered with ``-vv`` (TF_CPP_MIN_LOG_LEVEL=0) or
    once TensorFlow is imported.
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        return
    if importlib.util.find_spec("tensorflow") is None:
        return  # e.g. JAX or PyTorch alone; where it is installed, Keras imports it on any backend
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to filter
        return
    with tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # where the driver search reports
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode("utf-8", "replace").splitlines()
            kept = [line for line in lines if line.strip() and not any(noise in line for noise in _STARTUP_NOISE)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


def echo_table(rows, headers):
    """Echo a list of row tuples as an aligned plain-text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * width for width in widths))
