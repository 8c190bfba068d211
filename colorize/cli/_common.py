"""Helpers shared by the subcommand modules: error handling and small click types."""

import contextlib
import errno
import functools
import importlib.abc
import importlib.util
import json
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


vivid_option = click.option(
    "--vivid", "strength", type=click.FloatRange(0.0, 1.0), default=None, metavar="0..1",
    help="Colour strength of the bundled (bins) model: 0 = calm, likeliest colours; 0.5 = default; "
         "1 = strongest, rarer colours. Default: the model's or preset's own.",
)  # fmt: skip


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


# Packages TensorFlow and Keras import at start-up only where installed, for features
# colorize never uses (TF Lite's JAX converter, Keras' plotting helpers), each behind a
# ``try: import ... except ImportError``: kept out of the CLI's start-up (1.0 of 3.4 s).
# They stay importable afterwards (evaluate's plots import matplotlib then).
_NOT_AT_START_UP = ("jax", "matplotlib")


class _SkipImports(importlib.abc.MetaPathFinder):
    """Makes ``import NAME`` (and its submodules) fail while in place."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{fullname} is not imported while TensorFlow starts", name=fullname)
        return None


def keras_backend_name() -> str:
    """The backend Keras will load, read without importing it: KERAS_BACKEND, else the
    ``backend`` of ``$KERAS_HOME/keras.json`` (default ``~/.keras``), else tensorflow."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as file:
            return str(json.load(file).get("backend") or "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def skipped_at_start_up() -> list[str]:
    """The packages of :data:`_NOT_AT_START_UP` to skip: those not yet imported (jax stays
    when Keras is to run on JAX)."""
    return [name for name in _NOT_AT_START_UP if name not in sys.modules and name != keras_backend_name()]


@contextlib.contextmanager
def _without_unused_imports():
    """While TensorFlow (and Keras with it) is imported: skip :func:`skipped_at_start_up`."""
    finder = _SkipImports(skipped_at_start_up())
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with the C++ start-up chatter filtered out.

    Only where TensorFlow is installed (Keras then imports it on every backend, e.g. in
    ``keras.utils.set_random_seed``); a JAX-only or PyTorch-only machine imports nothing.
    Optional packages TensorFlow and Keras would import for features colorize does not
    use (:data:`_NOT_AT_START_UP`) are skipped meanwhile: a second less start-up.

    The chatter is written straight to file descriptor 2 before TensorFlow's own log
    settings apply, so it is caught in a temporary file and everything else in it is
    passed on to stderr. Nothing is filtered with ``-vv`` (TF_CPP_MIN_LOG_LEVEL=0) or
    once TensorFlow is imported.
    """
    if "tensorflow" in sys.modules:
        return
    if importlib.util.find_spec("tensorflow") is None:
        return  # e.g. JAX or PyTorch alone; where it is installed, Keras imports it on any backend
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        with _without_unused_imports():
            import tensorflow  # noqa: F401
        return
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to filter
        with _without_unused_imports():
            import tensorflow  # noqa: F401
        return
    with tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        os.dup2(caught.fileno(), 2)
        try:
            with _without_unused_imports():
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
