"""Inference: colorize real photos of any size with a trained model.

The model works at its own (small) size; the predicted a*b* are resized back to the
photo's full resolution and joined with the photo's own full-resolution lightness L,
so the output has exactly the input's size and its detail. Colour input is turned
gray first; alpha is kept; very large photos are converted in strips of rows so
memory stays bounded.

Example:
    >>> import colorize
    >>> rgb = colorize.colorize_image("grandma.jpg")  # doctest: +SKIP
    >>> rgb.shape  # the input's height and width
    (2000, 3000, 3)
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import logging
import os
import pkgutil
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np

from colorize.data.images import DecodedImage, find_images, read_image
from colorize.errors import ColorizeError

log = logging.getLogger(__name__)

DEFAULT_RENDER_SIZE = 256
STRIP_ROWS = 512  # rows converted at a time at full resolution
SIZE_MULTIPLE = 32  # working sizes are multiples of this (U-Net / encoder down-sampling)


class ModelLoadError(ColorizeError):
    """A model file is missing, corrupt, or not a colorization model."""


def default_model_path() -> Path:
    """Path of the bundled default model (``colorize/assets/default.keras``)."""
    return Path(str(resources.files("colorize") / "assets" / "default.keras"))


def resolve_model_path(model: str | os.PathLike = "default") -> Path:
    """Turn "default", a ``.keras`` file or a run directory into a model file path."""
    if str(model) == "default":
        path = default_model_path()
        if not path.is_file():
            raise ModelLoadError(
                f"the bundled default model is missing ({path}); reinstall colorize or pass --model FILE.keras"
            )
        return path
    path = Path(model)
    if path.is_dir():
        for name in ("best.keras", "last.keras"):
            if (path / name).is_file():
                return path / name
        raise ModelLoadError(f"{path} is a folder without best.keras or last.keras (not a training run directory)")
    if not path.exists():
        raise ModelLoadError(f"model file {path} not found; pass 'default', a .keras file or a run directory")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path} is not a .keras model file")
    return path


def _register_custom_objects() -> None:
    """Import every colorize module that registers Keras layers, losses and metrics."""
    import colorize.models

    for name in ("colorize.losses", "colorize.metrics"):
        importlib.import_module(name)
    for module in pkgutil.iter_modules(colorize.models.__path__):
        try:
            importlib.import_module(f"colorize.models.{module.name}")
        except ImportError:  # pragma: no cover - optional families
            log.debug("could not import colorize.models.%s", module.name, exc_info=True)


def load_model(model: str | os.PathLike = "default"):
    """Load a model for inference: l_input -> scaled ab.

    Args:
        model: "default" (the bundled model), a ``.keras`` file, or a run directory
            (its best.keras, else last.keras).

    Returns:
        A ``keras.Model`` mapping scaled L to scaled ab (see
        ``colorize.models.as_inference_model``).

    Raises:
        ModelLoadError: missing, corrupt or unsuitable model file.
    """
    import keras

    from colorize import models

    path = resolve_model_path(model)
    _register_custom_objects()
    try:
        loaded = keras.saving.load_model(path, compile=False)
    except Exception as error:  # corrupt zip, unknown layer, bad config ...
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelLoadError(f"could not load model {path}: {first[:200]}") from None
    try:
        return models.as_inference_model(loaded)
    except ValueError as error:
        raise ModelLoadError(f"{path}: {error}") from None


@dataclasses.dataclass
class _Runner:
    """A model prepared for photos: fully convolutional (any size) or fixed-size."""

    model: object
    fixed_size: int | None

    @classmethod
    def create(cls, model):
        shape = model.inputs[0].shape
        if shape[1] is None and shape[2] is None:
            return cls(model, None)
        flexible = _with_dynamic_input(model)
        if flexible is not None:
            return cls(flexible, None)
        return cls(model, int(shape[1]))

    def working_shape(self, height: int, width: int, render_size: int | None) -> tuple[int, int]:
        if self.fixed_size is not None:
            return self.fixed_size, self.fixed_size
        target = render_size or DEFAULT_RENDER_SIZE
        scale = target / max(height, width)

        def snap(value):
            return max(SIZE_MULTIPLE, int(round(value * scale / SIZE_MULTIPLE)) * SIZE_MULTIPLE)

        return snap(height), snap(width)

    def predict(self, l_batch: np.ndarray) -> np.ndarray:
        output = self.model(l_batch.astype(np.float32), training=False)
        return np.asarray(output, dtype=np.float32)


def _with_dynamic_input(model):
    """The same network accepting any input size, when it is fully convolutional."""
    import keras

    try:
        config = model.get_config()
        input_layers = [layer for layer in config["layers"] if layer["class_name"] == "InputLayer"]
        if len(input_layers) != 1:
            return None
        input_layers[0]["config"]["batch_shape"] = [None, None, None, 1]
        flexible = model.__class__.from_config(config)
        flexible.set_weights(model.get_weights())
        probe = np.zeros((1, 2 * SIZE_MULTIPLE, 3 * SIZE_MULTIPLE, 1), np.float32)
        if tuple(flexible(probe).shape) != (1, 2 * SIZE_MULTIPLE, 3 * SIZE_MULTIPLE, 2):
            return None
        return flexible
    except Exception:  # dense layers, fixed reshapes ...: keep the fixed size
        log.debug("model %s keeps its fixed input size", getattr(model, "name", "?"), exc_info=True)
        return None


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """Full-resolution CIELAB L (H, W) float32, computed in strips of rows."""
    from colorize import color

    lightness = np.empty(rgb.shape[:2], np.float32)
    for top in range(0, rgb.shape[0], STRIP_ROWS):
        # L of a colour pixel is the L of its gray version: colour input is "turned gray" here.
        lightness[top : top + STRIP_ROWS] = color.rgb_to_lab(rgb[top : top + STRIP_ROWS]).numpy()[..., 0]
    return lightness


def _luminance_gray(rgb: np.ndarray) -> np.ndarray:
    """Gray sRGB values with the same CIELAB L as the colour pixels (exact for gray input)."""
    from colorize import color

    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        return rgb[..., 0]
    lightness = color.rgb_to_lab(rgb).numpy()[..., 0]
    zeros = np.zeros(lightness.shape + (2,), np.float32)
    return color.lab_to_rgb(np.concatenate([lightness[..., None], zeros], axis=-1)).numpy()[..., 0]


def _resize(array: np.ndarray, height: int, width: int, interpolation) -> np.ndarray:
    import cv2

    resized = cv2.resize(array, (width, height), interpolation=interpolation)
    if array.ndim == 3 and resized.ndim == 2:
        resized = resized[..., None]
    return resized


def _small_l(lightness: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    from colorize import color

    small = _resize(lightness, shape[0], shape[1], cv2.INTER_AREA)
    return np.asarray(color.scale_l(small), np.float32)[..., None]


def _compose(lightness: np.ndarray, ab_small_scaled: np.ndarray, alpha, out_dtype) -> np.ndarray:
    """Full-resolution L + upsampled ab -> RGB(A) array of ``out_dtype``, in strips."""
    import cv2

    from colorize import color

    height, width = lightness.shape
    ab = _resize(color.unscale_ab(ab_small_scaled).astype(np.float32), height, width, cv2.INTER_LINEAR)
    channels = 4 if alpha is not None else 3
    peak = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(out_dtype))
    output = np.empty((height, width, channels), out_dtype)
    for top in range(0, height, STRIP_ROWS):
        rows = slice(top, top + STRIP_ROWS)
        lab = np.concatenate([lightness[rows][..., None], ab[rows]], axis=-1)
        rgb = color.lab_to_rgb(lab).numpy()
        if alpha is not None:
            rgb = np.concatenate([rgb, alpha[rows][..., None]], axis=-1)
        output[rows] = np.round(rgb * peak).astype(out_dtype) if peak else rgb.astype(out_dtype)
    return output


def _as_decoded(image) -> tuple[DecodedImage, np.dtype]:
    if isinstance(image, (str, os.PathLike)):
        decoded = read_image(image)
        return decoded, np.dtype(np.uint16 if decoded.bit_depth == 16 else np.uint8)
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
    dtype = array.dtype
    if dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif dtype == np.uint16:
        values = array.astype(np.float32) / 65535.0
    else:
        values = np.clip(array.astype(np.float32), 0.0, 1.0)
        dtype = np.dtype(np.float32)
    if values.ndim == 2:
        values = values[..., None]
    alpha = values[..., 3] if values.shape[-1] == 4 else None
    rgb = np.repeat(values, 3, axis=-1) if values.shape[-1] == 1 else values[..., :3]
    return DecodedImage(np.ascontiguousarray(rgb), alpha, values.shape[-1] == 1, 16 if dtype == np.uint16 else 8), dtype


def colorize_image(image, model=None, render_size: int | None = None) -> np.ndarray:
    """Colorize one photo at full resolution.

    Args:
        image: a file path, or an array (H, W), (H, W, 3) or (H, W, 4) of uint8,
            uint16 or float in [0, 1]. Colour input is turned gray first.
        model: a loaded model (from :func:`load_model`), a model path / run dir, or
            None for the bundled default.
        render_size: the long side, in pixels, at which the model sees the photo
            (bigger: more detail, slower). Default 256, or the model's fixed size.

    Returns:
        RGB (or RGBA, when the input has alpha) of the input's height and width, in
        the input's dtype (uint8 / uint16 for files of that depth).

    Example:
        >>> from skimage import data
        >>> colour = colorize_image(data.astronaut())  # doctest: +SKIP
    """
    decoded, dtype = _as_decoded(image)
    runner = _runner(model)
    return _colorize_batch(runner, [decoded], [dtype], render_size)[0]


def _runner(model) -> _Runner:
    if model is None or isinstance(model, (str, os.PathLike)):
        model = load_model(model or "default")
    return model if isinstance(model, _Runner) else _Runner.create(model)


def _colorize_batch(runner: _Runner, images: list[DecodedImage], dtypes, render_size) -> list[np.ndarray]:
    """Colorize images that share a working shape in one model call."""
    lightness = [_lightness(image.rgb) for image in images]
    shapes = [runner.working_shape(*light.shape, render_size) for light in lightness]
    outputs: list[np.ndarray | None] = [None] * len(images)
    for shape in dict.fromkeys(shapes):
        members = [i for i, s in enumerate(shapes) if s == shape]
        batch = np.stack([_small_l(lightness[i], shape) for i in members])
        ab = runner.predict(batch)
        for index, member in enumerate(members):
            outputs[member] = _compose(lightness[member], ab[index], images[member].alpha, dtypes[member])
    return outputs


@dataclasses.dataclass
class PredictResult:
    """What a folder run did: written outputs, kept existing outputs, failures with reasons."""

    written: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    existing: list[Path] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)


def output_path_for(path: Path, root: Path | None, output: Path | None, suffix: str, single: bool) -> Path:
    """Where the colorized version of ``path`` goes (never the input itself)."""
    if output is not None and single and output.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"):
        return output
    name = f"{path.stem}{suffix}.png"
    if output is None:
        return path.with_name(name)
    relative = path.parent.relative_to(root) if root is not None and path.is_relative_to(root) else Path()
    return output / relative / name


def _encode(array: np.ndarray, path: Path) -> bytes:
    import cv2
    from PIL import Image

    if array.dtype == np.uint16:
        if path.suffix.lower() not in (".png", ".tif", ".tiff"):
            array = (array // 257).astype(np.uint8)
        else:
            order = [2, 1, 0, 3][: array.shape[-1]]
            ok, encoded = cv2.imencode(path.suffix.lower(), np.ascontiguousarray(array[..., order]))
            if not ok:
                raise OSError(f"could not encode {path}")
            return encoded.tobytes()
    if array.dtype != np.uint8:
        array = (np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8)
    if path.suffix.lower() in (".jpg", ".jpeg") and array.shape[-1] == 4:
        array = array[..., :3]
    buffer = io.BytesIO()
    formats = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
    Image.fromarray(array).save(buffer, format=formats.get(path.suffix.lower(), "PNG"))
    return buffer.getvalue()


def _side_by_side(gray_rgb: np.ndarray, colour: np.ndarray, max_height: int = 1024) -> np.ndarray:
    """input (gray) | output, at most ``max_height`` tall, uint8."""
    import cv2

    def to8(array):
        if array.dtype == np.uint16:
            return (array // 257).astype(np.uint8)
        if array.dtype != np.uint8:
            return (np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8)
        return array

    left, right = to8(gray_rgb)[..., :3], to8(colour)[..., :3]
    height, width = left.shape[:2]
    if height > max_height:
        width = max(1, round(width * max_height / height))
        height = max_height
        left = cv2.resize(left, (width, height), interpolation=cv2.INTER_AREA)
        right = cv2.resize(right, (width, height), interpolation=cv2.INTER_AREA)
    gap = np.full((height, max(4, width // 100), 3), 255, np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def colorize_files(
    paths: Iterable[str | os.PathLike],
    output: str | os.PathLike | None = None,
    model=None,
    suffix: str = "_colorized",
    overwrite: bool = False,
    compare: bool = False,
    batch_size: int = 8,
    render_size: int | None = None,
    progress=None,
) -> PredictResult:
    """Colorize files and folders (recursively), writing one PNG per input.

    Args:
        paths: image files and folders.
        output: None (beside each input), a folder, or - for a single input - a file name.
        model: a loaded model, a path / run dir, or None for the bundled default.
        suffix: added to each output's stem (``photo.jpg`` -> ``photo_colorized.png``).
        overwrite: replace outputs that already exist (inputs are never replaced).
        compare: also write ``<stem>_compare.png`` (input | output).
        batch_size: images per model call (images of the same working size share one).
        render_size: the model's working long side (see :func:`colorize_image`).
        progress: optional callable ``progress(n)`` called after each input.

    Returns:
        A :class:`PredictResult`; one bad file never stops the others.
    """
    from colorize.visualize import atomic_write_bytes

    paths = [Path(p) for p in paths]
    output = Path(output) if output is not None else None
    runner = _runner(model)
    files, skipped = find_images(paths)
    result = PredictResult(failed=[(path, reason) for path, reason in skipped])
    single = len(paths) == 1 and not paths[0].is_dir()
    inputs = {path.resolve() for path in files if path.exists()}
    jobs = []
    for path in files:
        root = next((p for p in paths if p.is_dir() and path.is_relative_to(p)), None)
        target = output_path_for(path, root, output, suffix, single)
        if target.resolve() in inputs:
            result.failed.append((path, f"output {target} would overwrite an input; choose another -o"))
        elif target.exists() and not overwrite:
            result.existing.append(target)
        else:
            jobs.append((path, target))
    for start in range(0, len(jobs), max(1, batch_size)):
        chunk = jobs[start : start + batch_size]
        decoded, kept = [], []
        for path, target in chunk:
            try:
                image = read_image(path)
                decoded.append((image, np.dtype(np.uint16 if image.bit_depth == 16 else np.uint8)))
                kept.append((path, target))
            except ColorizeError as error:
                result.failed.append((path, str(error).split(": ", 1)[-1]))
                if progress:
                    progress(1)
        if not kept:
            continue
        try:
            colours = _colorize_batch(runner, [d for d, _ in decoded], [t for _, t in decoded], render_size)
        except Exception as error:  # one bad batch must not stop the run
            for path, _ in kept:
                result.failed.append((path, f"model failed: {error}"))
            continue
        for (path, target), (image, _), colour in zip(kept, decoded, colours):
            try:
                atomic_write_bytes(target, _encode(colour, target))
                result.written.append((path, target))
                if compare:
                    gray = np.repeat(_luminance_gray(image.rgb)[..., None], 3, axis=-1)
                    side = _side_by_side(gray, colour)
                    compare_path = target.with_name(target.stem.removesuffix(suffix) + "_compare.png")
                    atomic_write_bytes(compare_path, _encode(side, compare_path))
            except OSError as error:
                result.failed.append((path, f"could not write {target}: {error}"))
            if progress:
                progress(1)
    return result
