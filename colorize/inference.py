"""Inference: colorize real photos of any size with a trained model.

The model works at its own (small) working size; the predicted a*b* are resized back
(bilinear) to the photo's full resolution and joined with the photo's own
full-resolution lightness L, so the output has exactly the input's size, its detail and
its lightness. Colour input is turned gray first (only its L is used); alpha is kept.

Full-resolution colour conversion is done in float32 NumPy on strips of rows, so a
6000 x 4000 photo needs a few hundred MB, not gigabytes. Where a predicted colour falls
outside the sRGB gamut it is desaturated towards the gray of the same luminance (in
linear RGB) instead of clipped per channel, so the output's L equals the input's L up
to the final 8-bit (or 16-bit) rounding.

Output files: PNG, ``photo.jpg`` -> ``photo_colorized.png`` (beside the input, or under
``output`` keeping sub-folders). 16-bit inputs give 16-bit PNGs (their lightness keeps
its precision); everything else gives 8-bit PNGs.

Example:
    >>> import colorize
    >>> rgb = colorize.colorize_image("grandma.jpg")  # doctest: +SKIP
    >>> rgb.shape  # the input's height and width
    (2000, 3000, 3)
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import io
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np

from colorize import color
from colorize.data.images import DecodedImage, find_images, read_image
from colorize.errors import ColorizeError

log = logging.getLogger(__name__)

DEFAULT_RENDER_SIZE = 256  # long side the model sees by default (or its training size, if larger)
STRIP_ROWS = 256  # rows converted at a time at full resolution
SIZE_MULTIPLE = 32  # working sizes are multiples of this (U-Net / encoder down-sampling)
MAX_BATCH_PIXELS = 30_000_000  # full-resolution pixels held at once in a folder batch
COMPARE_MAX_HEIGHT = 1024  # side-by-side images are at most this tall
OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")

# sRGB (D65) <-> XYZ, colorize.color's matrix (scikit-image's); its rows are normalised
# by the white they map (1, 1, 1) to, so R = G = B is exactly neutral.
_XYZ_FROM_RGB = np.array(color.XYZ_FROM_RGB, np.float64)
_WHITE = _XYZ_FROM_RGB.sum(axis=1)
_LUMA = (_XYZ_FROM_RGB[1] / _WHITE[1]).astype(np.float32)  # Y of linear RGB
_RGB_FROM_XYZ_WHITE = (np.linalg.inv(_XYZ_FROM_RGB) * _WHITE[None, :]).astype(np.float32)


class ModelLoadError(ColorizeError):
    """A model file is missing, corrupt, or not a colorization model."""


# --------------------------------------------------------------------------- models


def default_model_path() -> Path:
    """Path of the bundled default model (``colorize/assets/default.keras``)."""
    return Path(str(resources.files("colorize") / "assets" / "default.keras"))


def resolve_model_path(model: str | os.PathLike = "default") -> Path:
    """Turn "default", a ``.keras`` file or a run directory into a model file path.

    Raises:
        ModelLoadError: nothing loadable there; the message says what to pass instead.
    """
    if str(model) == "default":
        path = default_model_path()
        if not path.is_file():
            raise ModelLoadError(
                f"the bundled default model {path} is missing; reinstall colorize (or run `make default-model`), "
                "or pass --model FILE.keras or a training run directory"
            )
        return path
    path = Path(model)
    if path.is_dir():
        for name in ("best.keras", "last.keras"):
            if (path / name).is_file():
                return path / name
        raise ModelLoadError(
            f"{path} is a folder without best.keras or last.keras; pass a training run directory or a .keras file"
        )
    if not path.exists():
        raise ModelLoadError(f"model file {path} not found; pass 'default', a .keras file or a training run directory")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path} is not a .keras model file; pass 'default', a .keras file or a run directory")
    return path


def _register_custom_objects() -> None:
    """Import the colorize modules that register Keras layers, losses and metrics."""
    import pkgutil

    for name in ("colorize.models", "colorize.losses", "colorize.metrics"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - a partial checkout
            log.debug("could not import %s", name, exc_info=True)
            continue
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            try:
                importlib.import_module(f"{name}.{info.name}")
            except ImportError:  # pragma: no cover - optional families
                log.debug("could not import %s.%s", name, info.name, exc_info=True)


def _as_inference(model):
    """``colorize.models.as_inference_model(model)``, or the model itself without it."""
    try:
        from colorize.models import as_inference_model
    except ImportError:  # pragma: no cover - a partial checkout
        return model
    return as_inference_model(model)


def load_model(model: str | os.PathLike = "default"):
    """Load a model for inference: ``l_input`` (scaled L) -> scaled ab.

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
        >>> model = load_model("runs/unet")  # doctest: +SKIP
        >>> model.output_shape
        (None, None, None, 2)
    """
    path = resolve_model_path(model)
    loaded = load_saved_model(path)
    try:
        return _as_inference(loaded)
    except ValueError as error:
        raise ModelLoadError(f"{path} is not a colorization model: {error}") from None


def load_saved_model(model: str | os.PathLike = "default"):
    """The saved Keras model as it was trained (no inference wrapping), e.g. to fine-tune it.

    Args:
        model: "default", a ``.keras`` file or a training run directory.

    Raises:
        ModelLoadError: a missing or corrupt model file (one-line message).
    """
    import keras

    path = resolve_model_path(model)
    _register_custom_objects()
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # corrupt zip, unknown layer, bad config ...
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelLoadError(
            f"could not load model {path} ({first[:160]}); is it a complete .keras file saved by colorize?"
        ) from None


@dataclasses.dataclass
class Runner:
    """A loaded model prepared for photos.

    Attributes:
        model: the inference model (scaled L -> scaled ab).
        fixed_size: the square input size of a model that only works at one size,
            else None (the model accepts any multiple of :data:`SIZE_MULTIPLE`).
        trained_size: the input size the model was saved with, when it had one.
    """

    model: object
    fixed_size: int | None
    trained_size: int | None = None

    @classmethod
    def create(cls, model) -> "Runner":
        """Wrap a keras model; a fixed-size but fully convolutional one is made size-free."""
        if isinstance(model, Runner):
            return model
        shape = model.inputs[0].shape
        if shape[1] is None and shape[2] is None:
            return cls(model, None, None)
        trained = int(shape[1])
        flexible = _with_dynamic_input(model)
        if flexible is not None:
            return cls(flexible, None, trained)
        return cls(model, trained, trained)

    def working_shape(self, height: int, width: int, render_size: int | None = None) -> tuple[int, int]:
        """(height, width) at which the model sees a photo of ``height`` x ``width``.

        Fixed-size models use their size. Others keep the photo's aspect ratio with the
        long side ``render_size`` (default :data:`DEFAULT_RENDER_SIZE`, or the training
        size if larger), rounded to multiples of :data:`SIZE_MULTIPLE`.
        """
        if self.fixed_size is not None:
            return self.fixed_size, self.fixed_size
        target = render_size or max(DEFAULT_RENDER_SIZE, self.trained_size or 0)
        scale = target / max(height, width)

        def snap(value):
            return max(SIZE_MULTIPLE, int(round(value * scale / SIZE_MULTIPLE)) * SIZE_MULTIPLE)

        return snap(height), snap(width)

    def predict(self, l_batch: np.ndarray) -> np.ndarray:
        """Scaled L (B, h, w, 1) -> scaled ab (B, h', w', 2) float32."""
        output = self.model(np.asarray(l_batch, np.float32), training=False)
        return np.asarray(output, dtype=np.float32)


_Runner = Runner  # the name colorize.evaluation imports


def _with_dynamic_input(model):
    """The same network accepting any input size, when it is fully convolutional."""
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


def _runner(model) -> Runner:
    if isinstance(model, Runner):
        return model
    if model is None or isinstance(model, (str, os.PathLike)):
        path = resolve_model_path(model or "default")
        return _cached_runner(str(path.resolve()), path.stat().st_mtime_ns)
    return Runner.create(_as_inference(model))


@functools.lru_cache(maxsize=2)
def _cached_runner(path: str, modified: int) -> Runner:
    """Models named by path are loaded once per file version (repeated colorize_image calls)."""
    return Runner.create(load_model(path))


# ------------------------------------------------------------- colour at full size


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    import cv2  # cv2.pow: ~2.5x faster than NumPy's ** on float32

    values = np.clip(values, 0.0, 1.0, dtype=np.float32)
    curve = cv2.pow((values + np.float32(0.055)) / np.float32(1.055), 2.4)
    return np.where(values <= 0.04045, values / np.float32(12.92), curve)


def _linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    import cv2

    linear = np.clip(linear, 0.0, 1.0, dtype=np.float32)
    curve = np.float32(1.055) * cv2.pow(np.maximum(linear, np.float32(0.0031308)), 1 / 2.4) - np.float32(0.055)
    return np.where(linear <= 0.0031308, linear * np.float32(12.92), curve)


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > 0.008856, np.cbrt(np.maximum(t, 0.008856)), t * np.float32(7.787) + np.float32(16 / 116))


def _lab_f_inverse(f: np.ndarray) -> np.ndarray:
    return np.where(f > 0.2068966, f * f * f, (f - np.float32(16 / 116)) / np.float32(7.787))


def _lightness(rgb: np.ndarray, levels: int | None = None) -> np.ndarray:
    """CIELAB L (H, W) float32 of sRGB in [0, 1], in strips of rows.

    L depends only on the luminance Y, so this is also the L of the photo turned gray.
    With ``levels=255`` (values that are exactly k / 255, as from 8-bit files) the
    sRGB -> linear step is a table lookup.
    """
    table = _srgb_to_linear(np.arange(levels + 1, dtype=np.float32) / np.float32(levels)) if levels else None
    lightness = np.empty(rgb.shape[:2], np.float32)
    for top in range(0, rgb.shape[0], STRIP_ROWS):
        strip = rgb[top : top + STRIP_ROWS]
        if table is not None:
            linear = table[np.rint(strip * np.float32(levels)).astype(np.uint16)]
        else:
            linear = _srgb_to_linear(strip)
        lightness[top : top + STRIP_ROWS] = np.float32(116) * _lab_f(linear @ _LUMA) - np.float32(16)
    return lightness


def _gray_srgb(lightness: np.ndarray) -> np.ndarray:
    """sRGB gray value (H, W) in [0, 1] of CIELAB lightness L."""
    luminance = _lab_f_inverse((lightness + np.float32(16)) / np.float32(116))
    return _linear_to_srgb(luminance)


def _lab_to_srgb_keeping_l(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """CIELAB -> sRGB (H, W, 3) in [0, 1]; out-of-gamut colours desaturate, L is kept.

    Out-of-gamut colours move along the line from the gray of the same luminance Y to
    the colour, in linear RGB: Y is linear in RGB, so the whole line has the same Y
    (hence the same L), and the gray end is inside the gamut.
    """
    fy = (lightness + np.float32(16)) / np.float32(116)
    f = np.stack([fy + ab[..., 0] / np.float32(500), fy, fy - ab[..., 1] / np.float32(200)], axis=-1)
    linear = _lab_f_inverse(f) @ _RGB_FROM_XYZ_WHITE.T
    luminance = _lab_f_inverse(fy)[..., None]
    outside = np.any((linear < 0) | (linear > 1), axis=-1)
    if outside.any():
        y, delta = luminance[outside], linear[outside] - luminance[outside]
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(delta > 0, (1 - y) / delta, np.where(delta < 0, -y / delta, np.inf))
        scale = np.clip(np.min(room, axis=-1, keepdims=True), 0.0, 1.0)
        linear[outside] = y + scale * delta
    return _linear_to_srgb(linear)


def _upsampled_rows(ab_small: np.ndarray, height: int, width: int):
    """Yield (rows, ab) strips of ``ab_small`` resized bilinearly to ``height`` x ``width``.

    Bilinear resizing is separable: the columns are resized once at the small width,
    then each strip of rows is widened, so the full-size ab never exists at once.
    """
    import cv2

    tall = cv2.resize(ab_small, (ab_small.shape[1], height), interpolation=cv2.INTER_LINEAR).reshape(height, -1, 2)
    for top in range(0, height, STRIP_ROWS):
        strip = tall[top : top + STRIP_ROWS]
        wide = cv2.resize(strip, (width, strip.shape[0]), interpolation=cv2.INTER_LINEAR)
        yield slice(top, top + strip.shape[0]), wide.reshape(strip.shape[0], width, 2)


def _peak(dtype: np.dtype) -> float | None:
    return {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(dtype))


def _compose(lightness: np.ndarray, ab_small_scaled: np.ndarray, alpha, dtype) -> np.ndarray:
    """Full-resolution L + upsampled ab (+ alpha) -> RGB(A) array of ``dtype``, in strips."""
    from colorize.color import AB_SCALE

    height, width = lightness.shape
    ab_small = np.ascontiguousarray(ab_small_scaled, np.float32) * np.float32(AB_SCALE)
    peak = _peak(dtype)
    output = np.empty((height, width, 3 if alpha is None else 4), dtype)
    for rows, ab in _upsampled_rows(ab_small, height, width):
        rgb = _lab_to_srgb_keeping_l(lightness[rows], ab)
        output[rows, :, :3] = np.rint(rgb * np.float32(peak)) if peak else rgb
    if alpha is not None:
        output[..., 3] = alpha
    return output


# --------------------------------------------------------------- images in memory


@dataclasses.dataclass
class _Prepared:
    """What is kept of a decoded photo: its L, alpha and (for --compare) a preview."""

    lightness: np.ndarray  # (H, W) float32
    alpha: np.ndarray | None  # (H, W) in the output dtype
    dtype: np.dtype  # output dtype: uint8, uint16 or float32
    preview: np.ndarray | None = None  # the input, uint8 RGB, at most COMPARE_MAX_HEIGHT tall

    @property
    def pixels(self) -> int:
        return int(self.lightness.size)


def _prepare(decoded: DecodedImage, dtype, preview: bool = False) -> _Prepared:
    dtype = np.dtype(dtype)
    peak = _peak(dtype)
    alpha = decoded.alpha
    if alpha is not None:
        alpha = np.rint(alpha * peak).astype(dtype) if peak else alpha.astype(np.float32)
    small = _preview(decoded.rgb) if preview else None
    levels = 255 if decoded.bit_depth == 8 and dtype != np.float32 else None
    return _Prepared(_lightness(decoded.rgb, levels), alpha, dtype, small)


def _preview(rgb: np.ndarray) -> np.ndarray:
    import cv2

    height, width = rgb.shape[:2]
    if height > COMPARE_MAX_HEIGHT:
        size = (max(1, round(width * COMPARE_MAX_HEIGHT / height)), COMPARE_MAX_HEIGHT)
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.rint(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def _from_array(image) -> tuple[DecodedImage, np.dtype]:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected a non-empty image; got shape {array.shape}")
    peak = _peak(array.dtype)
    if peak:
        values, dtype = array.astype(np.float32) / np.float32(peak), array.dtype
    elif np.issubdtype(array.dtype, np.floating) or array.dtype == bool:
        values, dtype = np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0), np.dtype(np.float32)
    else:
        raise ValueError(f"expected uint8, uint16 or float image values; got dtype {array.dtype}")
    if values.ndim == 2:
        values = values[..., None]
    alpha = values[..., 3] if values.shape[-1] == 4 else None
    rgb = np.repeat(values, 3, axis=-1) if values.shape[-1] == 1 else values[..., :3]
    grayscale = values.shape[-1] == 1
    return DecodedImage(np.ascontiguousarray(rgb), alpha, grayscale, 16 if dtype == np.uint16 else 8), dtype


def _read(path) -> tuple[DecodedImage, np.dtype]:
    decoded = read_image(path)
    return decoded, np.dtype(np.uint16 if decoded.bit_depth == 16 else np.uint8)


def _small_l(lightness: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Scaled L (h, w, 1) at the working shape (area-averaged when shrinking)."""
    import cv2

    from colorize.color import L_HALF

    shrink = shape[0] * shape[1] < lightness.size
    small = cv2.resize(lightness, (shape[1], shape[0]), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return (small / np.float32(L_HALF) - np.float32(1)).reshape(shape[0], shape[1], 1)


def _colorize_prepared(runner: Runner, images: list[_Prepared], render_size) -> list[np.ndarray]:
    """Colorize prepared photos; those sharing a working shape go through one model call."""
    shapes = [runner.working_shape(*image.lightness.shape, render_size) for image in images]
    outputs: list[np.ndarray | None] = [None] * len(images)
    for shape in dict.fromkeys(shapes):
        members = [index for index, s in enumerate(shapes) if s == shape]
        ab = runner.predict(np.stack([_small_l(images[index].lightness, shape) for index in members]))
        for member, predicted in zip(members, ab):
            image = images[member]
            outputs[member] = _compose(image.lightness, predicted, image.alpha, image.dtype)
    return outputs


def colorize_image(image, model=None, render_size: int | None = None) -> np.ndarray:
    """Colorize one photo at full resolution.

    Args:
        image: a file path, or an array (H, W), (H, W, 3) or (H, W, 4) of uint8,
            uint16 or float in [0, 1]. Colour input is turned gray first.
        model: a loaded model (from :func:`load_model`), "default", a ``.keras`` path,
            a run directory, or None for the bundled default.
        render_size: the long side, in pixels, at which the model sees the photo
            (bigger: more colour detail, slower). Default 256, or the model's
            training size if larger; fixed-size models always use their size.

    Returns:
        RGB, or RGBA when the input has alpha (kept as it is), of the input's height
        and width, in the input's dtype (uint8, uint16 or float32 in [0, 1]; a file
        gives uint16 when it stores 16 bits, else uint8). Its CIELAB L equals the
        input's up to that dtype's rounding.

    Raises:
        ModelLoadError: the model cannot be loaded.
        colorize.errors.ImageDecodeError: the file cannot be read.
        ValueError: the array has an unsupported shape or dtype.

    Example:
        >>> from skimage import data
        >>> colour = colorize_image(data.astronaut())  # doctest: +SKIP
        >>> colour.shape
        (512, 512, 3)
    """
    if isinstance(image, (str, os.PathLike)):
        decoded, dtype = _read(image)
    else:
        decoded, dtype = _from_array(image)
    prepared = _prepare(decoded, dtype)
    del decoded
    return _colorize_prepared(_runner(model), [prepared], render_size)[0]


# -------------------------------------------------------------------- files and folders


@dataclasses.dataclass
class PredictResult:
    """What a files/folders run did.

    Attributes:
        written: ``(input, output)`` for every colorized input.
        skipped: ``(input, existing output)`` kept because the output exists (no overwrite).
        failed: ``(input, reason)`` for every input that could not be colorized.
        compared: side-by-side images written (with ``compare=True``).
    """

    written: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    skipped: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    compared: list[Path] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no input failed."""
        return not self.failed


def output_path_for(
    path: Path, root: Path | None, output: Path | None, suffix: str = "_colorized", single: bool = False
) -> Path:
    """Where the colorized version of ``path`` goes.

    Beside the input when ``output`` is None; under ``output`` (keeping the sub-folders
    below ``root``, the folder that was searched) otherwise; or ``output`` itself when
    it is an image file name and ``single`` (one input file).
    """
    if output is not None and single and output.suffix.lower() in OUTPUT_SUFFIXES:
        return output
    name = f"{path.stem}{suffix}.png"
    if output is None:
        return path.with_name(name)
    relative = path.parent.relative_to(root) if root is not None and path.is_relative_to(root) else Path()
    return output / relative / name


def compare_path_for(target: Path, suffix: str = "_colorized") -> Path:
    """``photo_colorized.png`` -> ``photo_compare.png`` (the side-by-side image)."""
    stem = target.stem[: -len(suffix)] if suffix and target.stem.endswith(suffix) else target.stem
    return target.with_name(f"{stem}_compare.png")


def _plan(paths: list[Path], output: Path | None, suffix: str, compare: bool, overwrite: bool, result: PredictResult):
    """Expand inputs and choose each one's output: the (input, output) jobs to run.

    Outputs never replace an input and never collide; an image that is an output of
    another input of this run (``photo_colorized.png`` from an earlier run beside
    ``photo.jpg``) is not colorized again.
    """
    files, skipped = find_images(paths)
    result.failed.extend((path, reason) for path, reason in skipped)
    single = len(paths) == 1 and not paths[0].is_dir()
    roots = [p for p in paths if p.is_dir()]

    def target_for(path, disambiguate=False):
        root = next((r for r in roots if path.is_relative_to(r)), None)
        name_suffix = f"_{path.suffix.lower().lstrip('.')}{suffix}" if disambiguate else suffix
        return output_path_for(path, root, output, name_suffix, single)

    targets = {path: target_for(path) for path in files}
    # photo.jpg and photo.png would both give photo_colorized.png: name them by extension.
    counts: dict[str, int] = {}
    for target in targets.values():
        counts[_key(target)] = counts.get(_key(target), 0) + 1
    targets = {path: (target_for(path, True) if counts[_key(t)] > 1 else t) for path, t in targets.items()}

    def written_by(path):
        return [targets[path], compare_path_for(targets[path], suffix)] if compare else [targets[path]]

    producer = {_key(out): path for path in files for out in written_by(path)}
    own_outputs = {path for path in files if producer.get(_key(path), path) != path}
    for path in own_outputs:
        log.info("not colorizing %s: it is the output of %s", path, producer[_key(path)])
    inputs = {_key(path): path for path in files if path not in own_outputs}
    jobs, claimed = [], {}
    for path in files:
        if path in own_outputs:
            continue
        target = targets[path]
        clash = next((inputs[_key(out)] for out in written_by(path) if _key(out) in inputs), None)
        if clash is not None:
            result.failed.append((path, f"its output would replace the input {clash}; choose another -o"))
        elif _key(target) in claimed:
            result.failed.append((path, f"its output {target} is also that of {claimed[_key(target)]}; use another -o"))
        elif target.exists() and not overwrite:
            claimed[_key(target)] = path
            result.skipped.append((path, target))
        else:
            claimed[_key(target)] = path
            jobs.append((path, target))
    return jobs


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _encode(array: np.ndarray, path: Path) -> bytes:
    """PNG (or the format of ``path``'s suffix) bytes; 16-bit kept for PNG/TIFF."""
    import cv2
    from PIL import Image

    suffix = path.suffix.lower()
    if array.dtype == np.uint16 and suffix in (".png", ".tif", ".tiff"):
        order = [2, 1, 0, 3][: array.shape[-1]]  # OpenCV writes BGR(A)
        ok, encoded = cv2.imencode(suffix, np.ascontiguousarray(array[..., order]))
        if not ok:
            raise OSError(f"could not encode {path.name}")
        return encoded.tobytes()
    if array.dtype == np.uint16:
        array = np.rint(array / 257.0).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.rint(np.clip(array, 0, 1) * 255).astype(np.uint8)
    if suffix in (".jpg", ".jpeg", ".bmp") and array.shape[-1] == 4:
        array = array[..., :3]
    buffer = io.BytesIO()
    formats = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
    image_format = formats.get(suffix, "PNG")
    options = {"JPEG": {"quality": 95}, "PNG": {"compress_level": 3}}.get(image_format, {})  # PNG 3: 2x faster than 6
    Image.fromarray(array).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _side_by_side(preview: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """input | output as uint8 RGB, as tall as ``preview`` (at most COMPARE_MAX_HEIGHT)."""
    import cv2

    height, width = preview.shape[:2]
    right = colour[..., :3]
    if right.dtype == np.uint16:
        right = (right >> 8).astype(np.uint8)
    elif right.dtype != np.uint8:
        right = np.rint(np.clip(right, 0, 1) * 255).astype(np.uint8)
    if right.shape[:2] != (height, width):
        right = cv2.resize(right, (width, height), interpolation=cv2.INTER_AREA)
    gap = np.full((height, max(4, width // 100), 3), 255, np.uint8)
    return np.concatenate([preview, gap, right], axis=1)


def colorize_files(
    paths: Iterable[str | os.PathLike],
    output_dir: str | os.PathLike | None = None,
    model=None,
    suffix: str = "_colorized",
    overwrite: bool = False,
    compare: bool = False,
    batch_size: int = 8,
    render_size: int | None = None,
    progress: bool = False,
) -> PredictResult:
    """Colorize image files and folders (searched recursively), one PNG per input.

    The model is built once; photos are batched through it at its working size (a
    batch also stops at :data:`MAX_BATCH_PIXELS` full-resolution pixels, so memory
    stays bounded). One bad file never stops the others. Inputs are only read.

    Args:
        paths: image files and folders.
        output_dir: None (each output beside its input), a folder (keeping the
            sub-folders of searched folders), or, for a single input file, a file name.
        model: a loaded model, "default", a ``.keras`` path, a run directory, or None
            for the bundled default.
        suffix: added to each output's stem (``photo.jpg`` -> ``photo_colorized.png``;
            ``photo_jpg_colorized.png`` when ``photo.png`` is an input too).
        overwrite: replace outputs that already exist (inputs are never replaced).
        compare: also write ``photo_compare.png``: input | output side by side.
        batch_size: photos per model call (those of the same working shape share one).
        render_size: the model's working long side (see :func:`colorize_image`).
        progress: show a tqdm progress bar on stderr.

    Returns:
        A :class:`PredictResult` with written, skipped (existing output) and failed
        (input, reason) lists.

    Raises:
        ModelLoadError: the model cannot be loaded (nothing is written).

    Example:
        >>> result = colorize_files(["scans/"], "colour/", compare=True)  # doctest: +SKIP
        >>> [str(reason) for _, reason in result.failed]
        []
    """
    from tqdm import tqdm

    from colorize.visualize import atomic_write_bytes

    paths = [Path(p) for p in paths]
    output_dir = Path(output_dir) if output_dir is not None else None
    if output_dir is not None and output_dir.suffix.lower() in OUTPUT_SUFFIXES and not (
        len(paths) == 1 and not paths[0].is_dir()
    ):
        raise ValueError(f"output {output_dir} is a file name but the inputs are several or a folder; pass a folder")
    runner = _runner(model)
    if render_size and runner.fixed_size:
        log.warning("this model only works at %d x %d; render size %d ignored", runner.fixed_size, runner.fixed_size, render_size)
    result = PredictResult()
    jobs = _plan(paths, output_dir, suffix, compare, overwrite, result)
    batch_size = max(1, int(batch_size))

    def flush(batch):
        try:
            colours = _colorize_prepared(runner, [image for _, _, image in batch], render_size)
        except Exception as error:  # noqa: BLE001 - one bad batch must not stop the run
            log.debug("model call failed", exc_info=True)
            result.failed.extend((path, f"model failed: {_one_line(error)}") for path, _, _ in batch)
            return
        for (path, target, image), colour in zip(batch, colours):
            try:
                atomic_write_bytes(target, _encode(colour, target))
                result.written.append((path, target))
                if compare:
                    side = compare_path_for(target, suffix)
                    atomic_write_bytes(side, _encode(_side_by_side(image.preview, colour), side))
                    result.compared.append(side)
            except (OSError, ValueError) as error:
                result.failed.append((path, f"could not write {target}: {_one_line(error)}"))

    with tqdm(total=len(jobs), desc="colorize", unit="img", disable=not progress or None, leave=False) as bar:
        batch, pixels = [], 0
        for path, target in jobs:
            try:
                decoded, dtype = _read(path)
                prepared = _prepare(decoded, dtype, preview=compare)
                del decoded
            except (ColorizeError, OSError, ValueError, MemoryError) as error:
                result.failed.append((path, _reason(error, path)))
                bar.update(1)
                continue
            if batch and pixels + prepared.pixels > MAX_BATCH_PIXELS:
                flush(batch)
                bar.update(len(batch))
                batch, pixels = [], 0
            batch.append((path, target, prepared))
            pixels += prepared.pixels
            if len(batch) >= batch_size:
                flush(batch)
                bar.update(len(batch))
                batch, pixels = [], 0
        if batch:
            flush(batch)
            bar.update(len(batch))
    return result


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _reason(error: BaseException, path: Path) -> str:
    """The error message without a leading repetition of the path."""
    text = _one_line(error)
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text
