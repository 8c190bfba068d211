"""Load trained models: resolve "default", a ``.keras`` file or a run directory to a file, check it, load it.

:func:`load_inference_model` (``load_model``) turns "default", a ``.keras`` file or a training run directory into
the inference model (one-line :class:`ModelLoadError` for what cannot be loaded);
:func:`load_trained_model` (``load_saved_model``) gives the model as it was trained.

Example:
    >>> from colorize import saving
    >>> model = saving.load_model("runs/unet")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path

from colorize import layout
from colorize.errors import ColorizeError, one_line

log = logging.getLogger(__name__)


class ModelLoadError(ColorizeError):
    """A model file is missing, corrupt, or not a colorization model."""


def default_model_path() -> Path:
    """Path of the bundled default model (``colorize/assets/default.keras``)."""
    return Path(str(resources.files("colorize") / "assets" / "default.keras"))


def default_onnx_path() -> Path:
    """Path of the bundled default model as ONNX (``default.onnx``, made from ``default.keras`` by ``make default-onnx``)."""
    return default_model_path().with_suffix(".onnx")


def resolve_model_path(model: str | os.PathLike = "default", onnx: bool = False) -> Path:
    """Turn "default" (or another preset of the bundled model), a model file or a run directory into a model file path.

    Args:
        model: a preset name, a ``.keras`` file, an ``.onnx`` file (with ``onnx``) or a run directory.
        onnx: for running photos: an ``.onnx`` file is accepted, and the presets give
            ``default.onnx`` where it and ONNX Runtime are installed (else ``default.keras``).
            Without it (training, export) only Keras models are.

    Raises:
        ModelLoadError: nothing loadable there; the message says what to pass instead.
    """
    from colorize.registry import PRESETS

    if str(model) in PRESETS:
        if onnx and default_onnx_path().is_file() and onnxruntime_installed():
            return default_onnx_path()
        path = default_model_path()
        if not path.is_file():
            raise ModelLoadError(
                f"the bundled default model {path} is missing; reinstall colorize (or run `make default-model`), "
                "or pass --model FILE.keras or a training run directory"
            )
        return path
    path = Path(model)
    if path.is_dir():
        for name in layout.SAVED_MODEL_NAMES:
            if (path / name).is_file():
                return path / name
        raise ModelLoadError(
            f"{path} is a folder without best.keras or last.keras; pass a training run directory or a .keras file"
        )
    if not path.exists():
        raise ModelLoadError(f"model file {path} not found; pass 'default', a .keras file or a training run directory")
    if path.suffix == ".onnx" and not onnx:
        raise ModelLoadError(f"{path} is an ONNX model: predict, serve and evaluate run it, but Keras cannot load it; "
                             "pass the .keras file or run directory it was exported from")  # fmt: skip
    if path.suffix not in (".keras", ".onnx"):
        kinds = "a .keras or .onnx file" if onnx else "a .keras file"
        raise ModelLoadError(f"{path} is not a model file; pass 'default', {kinds} or a run directory")
    return path


def onnxruntime_installed() -> bool:
    """Whether ONNX Runtime can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


MAX_CONFIG_MEMBER_BYTES = 16 * 2**20  # config.json / metadata.json: a few hundred KB for the largest model
MAX_ARCHIVE_BYTES = 4 * 2**30  # all members unpacked (the weights of the largest model: ~250 MB)


def check_archive_sizes(path: str | os.PathLike) -> None:
    """Refuse a ``.keras`` archive whose members would unpack to more than is sane (a zip bomb).

    Only the sizes in the archive's directory are read; Python's ``zipfile`` (which Keras
    reads with) never unpacks more than a member's declared size.

    Raises:
        ModelLoadError: a JSON member over :data:`MAX_CONFIG_MEMBER_BYTES` or all members
            over :data:`MAX_ARCHIVE_BYTES`, or an unreadable archive.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ModelLoadError(f"not a valid .keras file: {path} ({error})") from None
    for member in members:
        if member.filename.endswith(".json") and member.file_size > MAX_CONFIG_MEMBER_BYTES:
            raise ModelLoadError(
                f"refused to load model {path}: its {member.filename} would unpack to {member.file_size / 1e6:.0f} MB "
                f"(at most {MAX_CONFIG_MEMBER_BYTES / 1e6:.0f} MB); it is not a model saved by colorize"
            )
    total = sum(member.file_size for member in members)
    if total > MAX_ARCHIVE_BYTES:
        raise ModelLoadError(
            f"refused to load model {path}: it would unpack to {total / 1e9:.1f} GB "
            f"(at most {MAX_ARCHIVE_BYTES / 1e9:.1f} GB)"
        )


def saved_model_config(path: str | os.PathLike) -> dict | None:
    """The config of the Keras model saved in a ``.keras`` file (its name, its layers), without loading it.

    Raises:
        ModelLoadError: the archive is unsafe or unreadable (see :func:`check_archive_sizes`).
    """
    import json
    import zipfile

    check_archive_sizes(path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        return None
    inner = config.get("config") if isinstance(config, dict) else None
    return inner if isinstance(inner, dict) else None


def _register_custom_objects() -> None:
    """Register every colorize layer, loss and metric with Keras (``import colorize.models`` does it)."""
    import colorize.models  # noqa: F401


def load_inference_model(model: str | os.PathLike = "default"):
    """Load a model for inference (also ``load_model``): ``l_input`` (scaled L) -> scaled ab.

    Args:
        model: "default" (the bundled ``colorize/assets/default.keras``), a ``.keras``
            file, or a training run directory (its best.keras, else last.keras).

    Returns:
        A ``keras.Model`` mapping scaled L to scaled ab (classification models get
        their annealed-mean decoding, GANs give their generator; see
        ``colorize.models.as_inference_model``).

    Raises:
        ModelLoadError: a missing, corrupt or unsuitable model file (one-line message).

    Example:
        >>> model = load_inference_model("runs/unet")  # doctest: +SKIP
        >>> model.output_shape
        (None, None, None, 2)
    """
    from colorize.models import as_inference_model

    path = resolve_model_path(model)
    loaded = load_trained_model(path)
    try:
        return as_inference_model(loaded)
    except ValueError as error:
        raise ModelLoadError(f"{path} is not a colorization model: {error}") from None


def load_trained_model(model: str | os.PathLike = "default"):
    """The saved Keras model as it was trained (no inference wrapping), e.g. to fine-tune it (also ``load_saved_model``).

    Args:
        model: "default", a ``.keras`` file or a training run directory.

    Raises:
        ModelLoadError: a missing or corrupt model file (one-line message).
    """
    import zipfile

    import keras

    from colorize.models import nonfinite_weights

    path = resolve_model_path(model)
    if not zipfile.is_zipfile(path):
        raise ModelLoadError(f"not a valid .keras file: {path} (truncated, or not a model saved by Keras)")
    check_archive_sizes(path)
    _register_custom_objects()
    try:
        loaded = keras.saving.load_model(path, compile=False)
    except Exception as error:  # corrupt zip, unknown layer, bad config ...
        reason = one_line(error, limit=300, whole=True)
        if "safe_mode" in reason:
            raise ModelLoadError(f"refused to load model {path}: {reason}") from None
        raise ModelLoadError(
            f"could not load model {path} ({reason}); is it a complete .keras file saved by colorize?"
        ) from None
    bad = nonfinite_weights(loaded)
    if bad:
        raise ModelLoadError(
            f"{path} holds NaN or infinite weights ({len(bad)} variable(s), first {bad[0]}): a diverged training run; "
            "it cannot colorize"
        )
    return loaded


# The names the project used first; the two above say what they return.
load_model = load_inference_model
load_saved_model = load_trained_model
