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

:func:`colorize_bytes` does the same for a file held in memory (``colorize serve``) and
returns the very PNG bytes ``colorize predict`` writes.

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
import io
import logging
import os
import struct
import zlib
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np

from colorize import color
from colorize.data.images import NOT_FOLLOWED, DecodedImage, decode_image, find_images, is_image_name, read_image
from colorize.errors import ColorizeError

log = logging.getLogger(__name__)

DEFAULT_RENDER_SIZE = 256  # long side the model sees by default (or its training size, if larger)
STRIP_ROWS = 256  # rows converted at a time at full resolution
SIZE_MULTIPLE = 32  # working sizes are multiples of this (U-Net / encoder down-sampling)
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
    """Register every colorize layer, loss and metric with Keras (``import colorize.models`` does it)."""
    import colorize.models  # noqa: F401


def _as_inference(model):
    """``colorize.models.as_inference_model(model)``."""
    from colorize.models import as_inference_model

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
    import zipfile

    import keras

    from colorize.models import nonfinite_weights

    path = resolve_model_path(model)
    if not zipfile.is_zipfile(path):
        raise ModelLoadError(f"not a valid .keras file: {path} (truncated, or not a model saved by Keras)")
    _register_custom_objects()
    try:
        loaded = keras.saving.load_model(path, compile=False)
    except Exception as error:  # corrupt zip, unknown layer, bad config ...
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelLoadError(
            f"could not load model {path} ({first[:160]}); is it a complete .keras file saved by colorize?"
        ) from None
    bad = nonfinite_weights(loaded)
    if bad:
        raise ModelLoadError(
            f"{path} holds NaN or infinite weights ({len(bad)} variable(s), first {bad[0]}): a diverged training run; "
            "it cannot colorize"
        )
    return loaded


PRECISIONS = ("auto", "float32", "bfloat16")


def cpu_has_fast_bfloat16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU computes bfloat16 natively (AMX or AVX-512 BF16 in its flags)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[-1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(precision: str = "auto") -> str:
    """"float32" or "bfloat16": ``auto`` is bfloat16 where :func:`cpu_has_fast_bfloat16`.

    Raises:
        ValueError: an unknown precision.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision. Expected one of {PRECISIONS}. Received: precision={precision!r}")
    if precision == "auto":
        return "bfloat16" if cpu_has_fast_bfloat16() else "float32"
    return precision


@dataclasses.dataclass
class Runner:
    """A loaded model prepared for photos.

    Attributes:
        model: the inference model (scaled L -> scaled ab).
        fixed_size: the square input size of a model that only works at one size,
            else None (the model accepts any multiple of :data:`SIZE_MULTIPLE`).
        trained_size: the input size the model was saved with, when it had one.
        precision: "float32" or "bfloat16", the compute type of the model's layers.
    """

    model: object
    fixed_size: int | None
    trained_size: int | None = None
    precision: str = "float32"

    def __post_init__(self):
        self._call = None

    @classmethod
    def create(cls, model, precision: str = "float32") -> "Runner":
        """Wrap a keras model; a fixed-size but fully convolutional one is made size-free.

        ``precision="bfloat16"`` rebuilds the network with bfloat16 compute (float32
        weights, float32 output); "auto" picks it where the CPU has native bfloat16.
        """
        if isinstance(model, Runner):
            return model
        precision = resolve_precision(precision)
        shape = model.inputs[0].shape
        trained = None if shape[1] is None and shape[2] is None else int(shape[1])
        from colorize.saving import rebuild

        dtype = "mixed_bfloat16" if precision == "bfloat16" else None
        rebuilt = rebuild(model, dynamic=trained is not None, dtype=dtype)
        if rebuilt is not None:
            return cls(rebuilt, None, trained, precision)
        if dtype is not None:  # keeps its fixed size; try the precision alone
            rebuilt = rebuild(model, dynamic=False, dtype=dtype)
            if rebuilt is not None:
                return cls(rebuilt, trained, trained, precision)
        if trained is None:
            return cls(model, None, None, "float32")
        return cls(model, trained, trained, "float32")

    @property
    def default_render_size(self) -> int:
        """The long side a photo is rendered at without ``render_size``: the fixed size, else
        :data:`DEFAULT_RENDER_SIZE` or the training size if larger."""
        return self.fixed_size or max(DEFAULT_RENDER_SIZE, self.trained_size or 0)

    def working_shape(self, height: int, width: int, render_size: int | None = None) -> tuple[int, int]:
        """(height, width) at which the model sees a photo of ``height`` x ``width``.

        Fixed-size models use their size. Others keep the photo's aspect ratio with the
        long side ``render_size`` (default :data:`DEFAULT_RENDER_SIZE`, or the training
        size if larger), rounded to multiples of :data:`SIZE_MULTIPLE`. A render size
        beyond the photo's own long side is capped there (more would add no detail,
        only memory and time), but never below the default.
        """
        if self.fixed_size is not None:
            return self.fixed_size, self.fixed_size
        default = self.default_render_size
        target = render_size or default
        if target > max(height, width, default):
            target = max(default, -(-max(height, width) // SIZE_MULTIPLE) * SIZE_MULTIPLE)
        scale = target / max(height, width)

        def snap(value):
            return max(SIZE_MULTIPLE, int(round(value * scale / SIZE_MULTIPLE)) * SIZE_MULTIPLE)

        return snap(height), snap(width)

    def predict(self, l_batch: np.ndarray) -> np.ndarray:
        """Scaled L (B, h, w, 1) -> scaled ab (B, h', w', 2) float32.

        With the TensorFlow backend the model runs as one graph traced once for any
        batch and size (no retracing per photo shape); otherwise eagerly.

        Raises:
            ColorizeError: the model predicted non-finite values.
        """
        if self._call is None:
            self._call = _compiled_call(self.model)
        output = np.asarray(self._call(np.asarray(l_batch, np.float32)), dtype=np.float32)
        if not np.isfinite(output).all():
            raise ColorizeError("the model predicted NaN or infinite colours; it cannot colorize (check its weights)")
        return output


def _compiled_call(model):
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda batch: model(batch, training=False)
    import tensorflow as tf

    signature = [tf.TensorSpec((None, None, None, 1), tf.float32)]
    graph = tf.function(lambda batch: tf.cast(model(batch, training=False), tf.float32), input_signature=signature)
    state = {"traced": False}

    def call(batch):
        if state["traced"] is None:
            return model(batch, training=False)
        try:
            output = graph(batch)
        except (TypeError, ValueError, NotImplementedError, tf.errors.OperatorNotAllowedInGraphError):
            if state["traced"]:
                raise
            # Some layers cannot be traced for unknown sizes (Keras' bilinear UpSampling2D, in
            # models saved before colorize used BilinearUpsampling):
            # such a model runs eagerly, once per working shape, as it always could.
            log.debug("model %s runs eagerly (not traceable for any size)", getattr(model, "name", "?"), exc_info=True)
            state["traced"] = None
            return model(batch, training=False)
        state["traced"] = True
        return output

    return call


_Runner = Runner  # the name colorize.evaluation imports


def load_runner(model: str | os.PathLike = "default", precision: str = "auto") -> Runner:
    """:func:`load_model` wrapped in a :class:`Runner` at ``precision`` (cached per file version).

    Example:
        >>> runner = load_runner("default", precision="float32")  # doctest: +SKIP
        >>> colour = colorize_image("grandma.jpg", model=runner)  # doctest: +SKIP
    """
    return _runner(model, precision)


def _runner(model, precision: str = "float32") -> Runner:
    if isinstance(model, Runner):
        return model
    if model is None or isinstance(model, (str, os.PathLike)):
        path = resolve_model_path(model or "default")
        return _cached_runner(str(path.resolve()), path.stat().st_mtime_ns, resolve_precision(precision))
    return Runner.create(_as_inference(model), precision)


@functools.lru_cache(maxsize=2)
def _cached_runner(path: str, modified: int, precision: str = "float32") -> Runner:
    """Models named by path are loaded once per file version (repeated colorize_image calls)."""
    return Runner.create(load_model(path), precision)


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


def model_io_to_rgb(l_scaled: np.ndarray, ab_scaled: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., H, W, 3) of scaled L (..., H, W, 1) and scaled a*b*, as predict builds it.

    The conversion ``colorize predict`` writes with (lightness kept, out-of-gamut colours
    desaturated towards the gray of the same luminance), not a per-channel clip: what
    ``colorize evaluate`` scores is the picture a user gets.
    """
    from colorize.color import AB_SCALE, L_HALF

    lightness = (np.asarray(l_scaled, np.float32)[..., 0] + np.float32(1)) * np.float32(L_HALF)
    return _lab_to_srgb_keeping_l(lightness, np.asarray(ab_scaled, np.float32) * np.float32(AB_SCALE))


def _peak(dtype: np.dtype) -> float | None:
    return {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(dtype))


L_CODE_SCALE = 655.35  # L in [0, 100] stored as uint16 codes L * 655.35 (steps of 0.0015)


@functools.lru_cache(maxsize=4)
def _l_table(levels: int | None) -> np.ndarray:
    """float32 L of every code: gray k / levels (8- or 16-bit gray files), or k / L_CODE_SCALE."""
    if levels is None:
        return np.arange(65536, dtype=np.float32) / np.float32(L_CODE_SCALE)
    gray = _srgb_to_linear(np.arange(levels + 1, dtype=np.float32) / np.float32(levels))
    return np.float32(116) * _lab_f(gray) - np.float32(16)


def _lightness_codes(values: np.ndarray) -> np.ndarray:
    """uint16 L codes (H, W) of colour (H, W, 3) or float gray (H, W) samples, in strips."""
    peak = _peak(values.dtype) or 1.0
    table = _srgb_to_linear(np.arange(256, dtype=np.float32) / np.float32(255)) if values.dtype == np.uint8 else None
    codes = np.empty(values.shape[:2], np.uint16)
    for top in range(0, values.shape[0], STRIP_ROWS):
        strip = values[top : top + STRIP_ROWS]
        linear = table[strip] if table is not None else _srgb_to_linear(strip.astype(np.float32) / np.float32(peak))
        luminance = linear @ _LUMA if linear.ndim == 3 else linear
        lightness = np.float32(116) * _lab_f(luminance) - np.float32(16)
        codes[top : top + STRIP_ROWS] = np.rint(np.clip(lightness, 0, 100) * np.float32(L_CODE_SCALE))
    return codes


def _lab_to_srgb_fast(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """:func:`_lab_to_srgb_keeping_l` through OpenCV's SIMD conversion, fixed up where it clipped.

    OpenCV clips out-of-gamut colours per channel (which changes L); every pixel it
    left at 0 or at 1 (out of gamut, or at the very edge of it) is redone by the
    lightness-keeping reference.
    """
    import cv2

    lab = cv2.merge([np.ascontiguousarray(lightness, np.float32), np.ascontiguousarray(ab, np.float32)])
    out = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    inside = cv2.inRange(out, (1e-30, 1e-30, 1e-30), (1 - 1e-5, 1 - 1e-5, 1 - 1e-5))
    if cv2.countNonZero(inside) < inside.size:
        flat, lightness = out.reshape(-1, 3), lightness.reshape(-1)
        index = np.flatnonzero(inside.reshape(-1) == 0)
        # L = 0 and L = 100 (black and white in 8-bit scans, often many) keep only their gray.
        extreme = (lightness[index] <= 0) | (lightness[index] >= 100)
        flat[index[extreme]] = (lightness[index[extreme]] >= 100)[:, None]
        index = index[~extreme]
        if index.size:
            flat[index] = _lab_to_srgb_keeping_l(lightness[index], ab.reshape(-1, 2)[index])
    return out


def _composed_strips(image: "_Prepared", ab_small_scaled: np.ndarray, reference: bool = False):
    """Yield (rows, RGB(A) strip in the output dtype): full-resolution L + upsampled ab (+ alpha).

    The a*b* are resized bilinearly in two passes (columns once at the small width,
    then each strip of rows), so neither the full-size ab nor the full-size output
    need exist at once. ``reference=True`` converts with the plain float32 NumPy
    path instead of OpenCV's.
    """
    import cv2

    from colorize.color import unscale_ab

    height, width = image.shape
    ab_small = np.ascontiguousarray(unscale_ab(np.asarray(ab_small_scaled, np.float32)), np.float32)
    tall = cv2.resize(ab_small, (ab_small.shape[1], height), interpolation=cv2.INTER_LINEAR).reshape(height, -1, 2)
    peak = _peak(image.dtype)
    step = max(8, (1 << 18) // width)  # ~256k pixels a strip: stays in cache
    for top in range(0, height, step):
        rows = slice(top, min(height, top + step))
        count = rows.stop - rows.start
        ab = cv2.resize(tall[rows], (width, count), interpolation=cv2.INTER_LINEAR).reshape(count, width, 2)
        lightness = image.lightness_rows(rows)
        rgb = _lab_to_srgb_keeping_l(lightness, ab) if reference else _lab_to_srgb_fast(lightness, ab)
        if peak == 255.0 and not reference:
            rgb = cv2.convertScaleAbs(rgb, alpha=255.0)
        elif peak:
            rgb = np.rint(rgb * np.float32(peak)).astype(image.dtype)
        if image.alpha is not None:
            rgb = np.concatenate([rgb, image.alpha[rows, :, None].astype(rgb.dtype)], axis=-1)
        yield rows, rgb


def _compose(image: "_Prepared", ab_small_scaled: np.ndarray, reference: bool = False) -> np.ndarray:
    """Full-resolution L + upsampled ab (+ alpha) -> RGB(A) array of the output dtype."""
    height, width = image.shape
    output = np.empty((height, width, 3 if image.alpha is None else 4), image.dtype)
    for rows, strip in _composed_strips(image, ab_small_scaled, reference):
        output[rows] = strip
    return output


# --------------------------------------------------------------- images in memory


@dataclasses.dataclass
class _Prepared:
    """What is kept of a decoded photo: its L (as codes into a table), alpha, a preview.

    For 8- and 16-bit gray files (most scans) the codes are the file's own samples,
    so nothing beyond the decoded pixels is held at full resolution.
    """

    codes: np.ndarray  # (H, W) uint8 / uint16
    table: np.ndarray  # float32 L of each code
    alpha: np.ndarray | None  # (H, W) in the output dtype
    dtype: np.dtype  # output dtype: uint8, uint16 or float32
    preview: np.ndarray | None = None  # the input, uint8 RGB, at most COMPARE_MAX_HEIGHT tall
    frames: int = 1  # frames (pages) in the file; the first was used

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape[:2]

    @property
    def pixels(self) -> int:
        return int(self.codes.size)

    @property
    def lightness(self) -> np.ndarray:
        """CIELAB L (H, W) float32 (whole image: for small ones and tests)."""
        return self.lightness_rows(slice(None))

    def lightness_rows(self, rows: slice) -> np.ndarray:
        """CIELAB L float32 of a strip of rows."""
        import cv2

        codes = self.codes[rows]
        if codes.dtype == np.uint8 and self.table.size == 256:
            return cv2.LUT(codes, self.table.reshape(1, 256)).reshape(codes.shape)
        return np.take(self.table, codes)


def _convert_samples(values: np.ndarray, dtype) -> np.ndarray:
    """Samples (uint8, uint16 or float in [0, 1]) in another of those dtypes."""
    dtype = np.dtype(dtype)
    if values.dtype == dtype:
        return values
    floats = values.astype(np.float32) / np.float32(_peak(values.dtype) or 1.0)
    peak = _peak(dtype)
    return np.rint(floats * np.float32(peak)).astype(dtype) if peak else floats


def _prepare(decoded: DecodedImage, dtype, preview: bool = False) -> _Prepared:
    """L codes (+ alpha, preview) of a decoded image with native samples (``read_image(native=True)``)."""
    dtype = np.dtype(dtype)
    values = decoded.rgb
    alpha = None if decoded.alpha is None else _convert_samples(decoded.alpha, dtype)
    small = _preview(values) if preview else None
    if values.ndim == 2 and values.dtype in (np.uint8, np.uint16):
        codes, table = values, _l_table(255 if values.dtype == np.uint8 else 65535)
    else:
        codes, table = _lightness_codes(values), _l_table(None)
    return _Prepared(codes, table, alpha, dtype, small, decoded.frames)


def _preview(values: np.ndarray) -> np.ndarray:
    import cv2

    height, width = values.shape[:2]
    if height > COMPARE_MAX_HEIGHT:
        size = (max(1, round(width * COMPARE_MAX_HEIGHT / height)), COMPARE_MAX_HEIGHT)
        values = cv2.resize(values, size, interpolation=cv2.INTER_AREA)
    small = _convert_samples(np.clip(values, 0, 1) if values.dtype == np.float32 else values, np.uint8)
    return np.repeat(small[..., None], 3, axis=-1) if small.ndim == 2 else small


def _from_array(image) -> tuple[DecodedImage, np.dtype]:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected a non-empty image; got shape {array.shape}")
    if _peak(array.dtype):
        dtype = array.dtype
    elif np.issubdtype(array.dtype, np.floating) or array.dtype == bool:
        array, dtype = np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0), np.dtype(np.float32)
    else:
        raise ValueError(f"expected uint8, uint16 or float image values; got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    alpha = array[..., 3] if array.ndim == 3 and array.shape[-1] == 4 else None
    values = array if array.ndim == 2 else np.ascontiguousarray(array[..., :3])
    depth = 16 if dtype in (np.uint16, np.float32) else 8
    return DecodedImage(values, alpha, values.ndim == 2, depth), dtype


def _read(path) -> tuple[DecodedImage, np.dtype]:
    """Decode with native samples; the output dtype: uint16 for 16-bit files, else uint8."""
    return _with_dtype(read_image(path, native=True))


def _with_dtype(decoded: DecodedImage) -> tuple[DecodedImage, np.dtype]:
    """A decoded image and its output dtype: uint16 when it stores 16 bits, else uint8."""
    return decoded, np.dtype(np.uint16 if decoded.bit_depth == 16 else np.uint8)


def _small_l(image: _Prepared, shape: tuple[int, int]) -> np.ndarray:
    """L (h, w) float32 in [0, 100] at the working shape (area-averaged when shrinking).

    Resized in two passes (each strip of rows to the working width, then the columns),
    so the full-resolution L never exists at once.
    """
    import cv2

    height, width = image.shape
    narrow = np.empty((height, shape[1]), np.float32)
    across = cv2.INTER_AREA if shape[1] < width else cv2.INTER_LINEAR
    for top in range(0, height, STRIP_ROWS):
        rows = slice(top, min(height, top + STRIP_ROWS))
        strip = image.lightness_rows(rows)
        narrow[rows] = cv2.resize(strip, (shape[1], strip.shape[0]), interpolation=across).reshape(strip.shape[0], -1)
    down = cv2.INTER_AREA if shape[0] < height else cv2.INTER_LINEAR
    return cv2.resize(narrow, (shape[1], shape[0]), interpolation=down).reshape(shape)


def _predict_grouped(runner: Runner, smalls: list[np.ndarray]) -> list[np.ndarray]:
    """Working-size L (list of (h, w)) -> scaled ab; photos of one shape share a model call."""
    from colorize.color import scale_l

    outputs: list = [None] * len(smalls)
    shapes = [small.shape for small in smalls]
    for shape in dict.fromkeys(shapes):
        members = [index for index, s in enumerate(shapes) if s == shape]
        batch = np.stack([scale_l(smalls[index]) for index in members])[..., None].astype(np.float32)
        ab = runner.predict(batch)
        for member, predicted in zip(members, ab):
            outputs[member] = predicted
    return outputs


def _colorize_prepared(runner: Runner, images: list[_Prepared], render_size) -> list[np.ndarray]:
    """Colorize prepared photos; those sharing a working shape go through one model call."""
    smalls = [_small_l(image, runner.working_shape(*image.shape, render_size)) for image in images]
    return [_compose(image, ab) for image, ab in zip(images, _predict_grouped(runner, smalls))]


def colorize_image(image, model=None, render_size: int | None = None, precision: str = "float32") -> np.ndarray:
    """Colorize one photo at full resolution.

    Args:
        image: a file path, or an array (H, W), (H, W, 3) or (H, W, 4) of uint8,
            uint16 or float in [0, 1]. Colour input is turned gray first.
        model: a loaded model (from :func:`load_model`), "default", a ``.keras`` path,
            a run directory, or None for the bundled default.
        render_size: the long side, in pixels, at which the model sees the photo
            (bigger: more colour detail, slower). Default 256, or the model's
            training size if larger; fixed-size models always use their size.
        precision: "float32", "bfloat16" or "auto" (bfloat16 where the CPU has
            native bfloat16: AMX or AVX-512 BF16), for a model not yet wrapped in a
            :class:`Runner`.

    Returns:
        RGB, or RGBA when the input has alpha (kept as it is), of the input's height
        and width, in the input's dtype (uint8, uint16 or float32 in [0, 1]; a file
        gives uint16 when it stores 16 bits, else uint8). Its CIELAB L equals the
        input's up to that dtype's rounding.

    Raises:
        ModelLoadError: the model cannot be loaded.
        colorize.errors.ImageDecodeError: the file cannot be read.
        ValueError: the array has an unsupported shape or dtype, or the render size
            does not fit in memory.

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
    runner = _runner(model, precision)
    check_render_size(runner, render_size, [prepared.shape])
    return _colorize_prepared(runner, [prepared], render_size)[0]


# Bytes per working-size pixel the default U-Net's activations need at batch 1 (measured
# ~1.1 kB with 16 base filters; other models differ), with a margin.
WORKING_BYTES_PER_PIXEL = 2048


def check_render_size(runner: Runner, render_size: int | None, shapes: list[tuple[int, int]]) -> None:
    """Refuse a render size the model's activations would not fit in memory for.

    Raises:
        ValueError: naming ``--render-size``, the memory it would need, what is free,
            and the largest render size that fits.
    """
    if not render_size or runner.fixed_size or not shapes:
        return
    available = _available_memory()
    if available is None:
        return
    height, width = max(shapes, key=lambda shape: shape[0] * shape[1])
    working = runner.working_shape(height, width, render_size)
    need = working[0] * working[1] * WORKING_BYTES_PER_PIXEL
    if need > 0.8 * available:
        aspect = working[0] * working[1] / max(working) ** 2
        fits = int((0.8 * available / WORKING_BYTES_PER_PIXEL / aspect) ** 0.5) // SIZE_MULTIPLE * SIZE_MULTIPLE
        raise ValueError(
            f"--render-size {render_size} needs about {need / 2**30:.1f} GB for the model "
            f"({working[1]} x {working[0]} working size) but {available / 2**30:.1f} GB is available; "
            f"use --render-size {max(SIZE_MULTIPLE, fits)} or less"
        )


def _available_memory() -> int | None:
    """Bytes of memory available (MemAvailable, or the cgroup limit if lower); None if unknown."""
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            if limit.isdigit() and int(limit) < 2**60:
                left = int(limit) - int(Path(usage_file).read_text().strip())
                available = left if available is None else min(available, left)
        except (OSError, ValueError):
            continue
    return available


def colorize_bytes(data: bytes, model=None, render_size: int | None = None, name: str = "upload") -> bytes:
    """Colorize an encoded image held in memory; the PNG bytes ``colorize predict`` would write.

    The file is decoded, colorized and encoded by the same functions as
    :func:`colorize_files` (so a served photo and a predicted one are byte for byte the
    same PNG); nothing touches the disk.

    Args:
        data: the bytes of an image file (JPEG, PNG, TIFF, WebP, BMP ...).
        model: a loaded model or :class:`Runner`, "default", a ``.keras`` path, a run
            directory, or None for the bundled default.
        render_size: the model's working long side (see :func:`colorize_image`).
        name: what error messages call the data.

    Returns:
        PNG bytes of the input's size (16-bit when the input stores 16 bits; alpha kept).

    Raises:
        colorize.errors.ImageDecodeError: the data is empty or not a readable image.
        ModelLoadError: the model cannot be loaded.

    Example:
        >>> png = colorize_bytes(open("grandma.jpg", "rb").read())  # doctest: +SKIP
        >>> png[:4]
        b'\\x89PNG'
    """
    decoded, dtype = _with_dtype(decode_image(data, name, native=True))
    prepared = _prepare(decoded, dtype)
    del decoded
    runner = _runner(model)
    check_render_size(runner, render_size, [prepared.shape])
    ab = _predict_grouped(runner, [_small_l(prepared, runner.working_shape(*prepared.shape, render_size))])[0]
    encoded, _ = _colour_and_encode(prepared, ab, Path("upload.png"))
    return encoded


# -------------------------------------------------------------------- files and folders


@dataclasses.dataclass
class PredictResult:
    """What a files/folders run did.

    Attributes:
        written: ``(input, output)`` for every colorized input.
        skipped: ``(input, existing output)`` kept because the output exists (no overwrite).
        failed: ``(input, reason)`` for every input that could not be colorized.
        compared: side-by-side images written (with ``compare=True``).
        ignored: ``(path, reason)`` for what a folder search passed over without it
            being a failure: files that are not images by name, earlier outputs of
            colorize, symbolic links to folders (not followed).
        notes: ``(input, note)`` for colorized inputs worth a word (only the first
            frame of a multi-frame file was used).
    """

    written: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    skipped: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    compared: list[Path] = dataclasses.field(default_factory=list)
    ignored: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    notes: list[tuple[Path, str]] = dataclasses.field(default_factory=list)

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


def is_own_output(path: Path, suffix: str = "_colorized") -> bool:
    """True for the names colorize gives its outputs: ``*_colorized.png``, ``*_compare.png``."""
    return path.suffix.lower() == ".png" and (path.stem.endswith(suffix) or path.stem.endswith("_compare"))


def check_output(output: str | os.PathLike | None, single: bool) -> None:
    """Check before any work that the outputs can be written under ``output``.

    Raises:
        ValueError: ``output`` is an existing file that is not the one output named
            for a single input, lies below a file, or is in a folder that cannot
            be written.
    """
    if output is None:
        return
    output = Path(output)
    names_file = single and output.suffix.lower() in OUTPUT_SUFFIXES
    if output.exists() and not output.is_dir() and not names_file:
        raise ValueError(f"output {output} is an existing file, not a folder; pass -o a folder")
    folder = output.parent if names_file or (output.exists() and not output.is_dir()) else output
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"cannot create the output folder {folder}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write to {existing} (permission denied); pass -o a folder you can write to")


def _plan(paths: list[Path], output: Path | None, suffix: str, compare: bool, overwrite: bool, result: PredictResult):
    """Expand inputs and choose each one's output: the (input, output) jobs to run.

    Outputs never replace an input and never collide; one file named twice (relative
    and absolute) is one input; what a folder search finds that is not an image by
    name, or is an earlier output of colorize (``*_colorized.png``, ``*_compare.png``),
    is passed over (in ``result.ignored``), not colorized and not a failure.
    """
    found, skipped = find_images(paths)
    for path, reason in skipped:
        if reason == NOT_FOLLOWED or (path.is_file() and not is_image_name(path)):
            result.ignored.append((path, reason))
        else:
            result.failed.append((path, reason))
    named = {_key(path) for path in paths}
    files, seen = [], set()
    for path in found:
        if _key(path) in seen:  # b.jpg and /abs/b.jpg: one input
            continue
        seen.add(_key(path))
        if _key(path) not in named and is_own_output(path, suffix):
            result.ignored.append((path, "an earlier output of colorize (name it to colorize it)"))
        else:
            files.append(path)
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


PNG_COMPRESSION = 1  # deflate level of output PNGs


def _deflater():
    """A deflate stream for PNG data: ISA-L's (``isal``: 3.7x faster than zlib here, files
    within 2 %) when installed, else zlib's at level 1 with run-length matching (also
    faster and smaller than OpenCV's PNG writer at level 1 on our outputs)."""
    try:
        from isal import isal_zlib

        return isal_zlib.compressobj(PNG_COMPRESSION)
    except ImportError:
        return zlib.compressobj(PNG_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_RLE)


def _png_chunk(kind: bytes, data) -> bytes:
    return struct.pack(">I", len(data)) + kind + bytes(data) + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _png_bytes(strips, height: int, width: int, channels: int, dtype) -> bytes:
    """A PNG of RGB(A) strips (top to bottom, uint8 or uint16), encoded as they come.

    Every row uses PNG's "Up" filter (the difference to the row above: one NumPy
    subtraction per strip) and zlib at :data:`PNG_COMPRESSION`, so a photo can be
    coloured and encoded strip by strip without ever holding it whole.
    """
    depth = 16 if np.dtype(dtype) == np.uint16 else 8
    colour_type = {3: 2, 4: 6}[channels]
    parts = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0))]
    compressor = _deflater()
    previous = None
    for strip in strips:
        if depth == 16:
            strip = strip.astype(">u2")
        flat = np.ascontiguousarray(strip).reshape(strip.shape[0], -1).view(np.uint8)
        filtered = np.empty((flat.shape[0], flat.shape[1] + 1), np.uint8)
        filtered[:, 0] = 2  # Up
        np.subtract(flat[0], previous if previous is not None else 0, out=filtered[0, 1:], casting="unsafe")
        np.subtract(flat[1:], flat[:-1], out=filtered[1:, 1:])
        previous = flat[-1].copy()
        data = compressor.compress(filtered)
        if data:
            parts.append(_png_chunk(b"IDAT", data))
    parts += [_png_chunk(b"IDAT", compressor.flush()), _png_chunk(b"IEND", b"")]
    return b"".join(parts)


def _encode(array: np.ndarray, path: Path) -> bytes:
    """PNG (or the format of ``path``'s suffix) bytes of RGB(A); 16-bit kept for PNG/TIFF."""
    from PIL import Image

    suffix = path.suffix.lower()
    if suffix == ".png" or suffix not in OUTPUT_SUFFIXES:
        if array.dtype not in (np.uint8, np.uint16):
            array = np.rint(np.clip(array, 0, 1) * 255).astype(np.uint8)
        step = max(1, (1 << 18) // array.shape[1])
        strips = (array[top : top + step] for top in range(0, array.shape[0], step))
        return _png_bytes(strips, array.shape[0], array.shape[1], array.shape[-1], array.dtype)
    if array.dtype == np.uint16 and suffix in (".tif", ".tiff"):
        import cv2

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
    options = {"JPEG": {"quality": 95}}.get(formats[suffix], {})
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format=formats[suffix], **options)
    return buffer.getvalue()


def _colour_and_encode(image: "_Prepared", ab_small_scaled: np.ndarray, path: Path) -> tuple[bytes, np.ndarray | None]:
    """The output file's bytes; a PNG is coloured and encoded strip by strip (bounded memory).

    Returns the bytes and, for other formats, the coloured array (else None).
    """
    if path.suffix.lower() == ".png" or path.suffix.lower() not in OUTPUT_SUFFIXES:
        height, width = image.shape
        strips = (strip for _, strip in _composed_strips(image, ab_small_scaled))
        channels = 3 if image.alpha is None else 4
        return _png_bytes(strips, height, width, channels, image.dtype), None
    colour = _compose(image, ab_small_scaled)
    return _encode(colour, path), colour


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


MAX_BATCH_PIXELS = 24_000_000  # full-resolution pixels in one batch; at most 3 batches are in flight
READ_THREADS = 1  # decoding (PIL/OpenCV release the GIL) while the model runs
WRITE_THREADS = 2  # colour at full size + PNG encoding + writing (OpenCV, zlib release the GIL)


def _pixels_in_header(path: Path) -> int:
    """Width x height from the file header (no decoding); 0 when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return int(image.size[0]) * int(image.size[1])
    except Exception:  # noqa: BLE001 - decoding reports the reason later
        return 0


def _batches(jobs: list, pixels: list[int], batch_size: int, max_pixels: int) -> list[list]:
    """Consecutive jobs in batches of at most ``batch_size`` photos and ``max_pixels`` pixels."""
    batches, batch, total = [], [], 0
    for job, count in zip(jobs, pixels):
        if batch and (len(batch) >= batch_size or total + count > max_pixels):
            batches.append(batch)
            batch, total = [], 0
        batch.append(job)
        total += count
    if batch:
        batches.append(batch)
    return batches


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
    precision: str = "float32",
) -> PredictResult:
    """Colorize image files and folders (searched recursively), one PNG per input.

    A small pipeline: the model is loaded while the first photos are decoded; then
    photos are decoded (one thread) while the model runs on a batch, and coloured at
    full resolution, encoded and written (two threads, strip by strip: the full-size
    output never exists at once) while the model runs on the next. Memory stays
    bounded: a batch stops at ``batch_size`` photos or :data:`MAX_BATCH_PIXELS`
    full-resolution pixels, and at most three batches are in flight (being decoded,
    in the model, being written). Photos sharing a working shape share a model call; the model
    runs as one graph for every shape. One bad file never stops the others. Inputs
    are only read.

    Args:
        paths: image files and folders.
        output_dir: None (each output beside its input), a folder (keeping the
            sub-folders of searched folders), or, for a single input file, a file name.
        model: a loaded model, a :class:`Runner`, "default", a ``.keras`` path, a run
            directory, None for the bundled default, or a ``concurrent.futures.Future``
            giving one of these (loaded by the caller while the first photos decode).
        suffix: added to each output's stem (``photo.jpg`` -> ``photo_colorized.png``;
            ``photo_jpg_colorized.png`` when ``photo.png`` is an input too).
        overwrite: replace outputs that already exist (inputs are never replaced).
        compare: also write ``photo_compare.png``: input | output side by side.
        batch_size: photos per model call (those of the same working shape share one).
        render_size: the model's working long side (see :func:`colorize_image`).
        progress: show a tqdm progress bar on stderr.
        precision: "float32", "bfloat16" or "auto" (see :func:`colorize_image`).

    Returns:
        A :class:`PredictResult` with written, skipped (existing output), failed
        (input, reason), ignored (not images, earlier outputs, links to folders) and
        notes (first frame used) lists.

    Raises:
        ModelLoadError: the model cannot be loaded (nothing is written).
        ValueError: the output cannot be written there, or the render size does not
            fit in memory (checked before any photo is decoded).

    Example:
        >>> result = colorize_files(["scans/"], "colour/", compare=True)  # doctest: +SKIP
        >>> [str(reason) for _, reason in result.failed]
        []
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    from tqdm import tqdm

    from colorize.data.images import atomic_write_bytes

    paths = [Path(p) for p in paths]
    output_dir = Path(output_dir) if output_dir is not None else None
    single = len(paths) == 1 and not paths[0].is_dir()
    if output_dir is not None and output_dir.suffix.lower() in OUTPUT_SUFFIXES and not single:
        raise ValueError(f"output {output_dir} is a file name but the inputs are several or a folder; pass a folder")
    check_output(output_dir, single)
    precision = resolve_precision(precision)
    if isinstance(model, (str, os.PathLike)) or model is None:
        resolve_model_path(model or "default")  # a wrong name fails now, before any work
    result = PredictResult()
    jobs = _plan(paths, output_dir, suffix, compare, overwrite, result)
    if not jobs:
        return result
    pixels = [_pixels_in_header(path) for path, _ in jobs]
    batches = _batches(jobs, pixels, max(1, int(batch_size)), MAX_BATCH_PIXELS)

    loader = ThreadPoolExecutor(1, thread_name_prefix="colorize-load")
    readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="colorize-read")
    writers = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="colorize-write")
    def load():
        runner = _runner(model.result() if isinstance(model, Future) else model, precision)
        probe = runner.working_shape(SIZE_MULTIPLE, SIZE_MULTIPLE * 2)  # the graph is traced while photos decode
        runner.predict(np.zeros((1, *probe, 1), np.float32))
        return runner

    loading = loader.submit(load)

    def read(path):
        decoded, dtype = _read(path)
        prepared = _prepare(decoded, dtype, preview=compare)
        del decoded
        runner = loading.result()
        return prepared, _small_l(prepared, runner.working_shape(*prepared.shape, render_size))

    def write(target, prepared, ab):
        """Colour at full resolution, encode and write (in a writer thread)."""
        if not compare:
            data, _ = _colour_and_encode(prepared, ab, target)
            atomic_write_bytes(target, data)
            return None
        colour = _compose(prepared, ab)
        atomic_write_bytes(target, _encode(colour, target))
        side = compare_path_for(target, suffix)
        atomic_write_bytes(side, _encode(_side_by_side(prepared.preview, colour), side))
        return side

    def collect(writes, bar):
        for path, target, future in writes:
            try:
                side = future.result()
                result.written.append((path, target))
                if side is not None:
                    result.compared.append(side)
            except Exception as error:  # noqa: BLE001 - one bad photo must not stop the run
                log.debug("colouring or writing %s failed", path, exc_info=True)
                result.failed.append((path, f"could not write {target}: {_one_line(error)}"))
            bar.update(1)

    def submit(batch):
        return [(path, target, readers.submit(read, path)) for path, target in batch]

    try:
        upcoming, writing = submit(batches[0]), []  # decoded while the model loads
        runner = loading.result()
        if render_size and runner.fixed_size:
            log.warning("this model only works at %d x %d; render size %d ignored", runner.fixed_size, runner.fixed_size, render_size)
        with tqdm(total=len(jobs), desc="colorize", unit="img", disable=not progress or None, leave=False) as bar:
            for index in range(len(batches)):
                current, upcoming = upcoming, (submit(batches[index + 1]) if index + 1 < len(batches) else [])
                ready = []
                for path, target, future in current:
                    try:
                        prepared, small = future.result()
                    except (ColorizeError, OSError, ValueError, MemoryError) as error:
                        result.failed.append((path, _reason(error, path)))
                        bar.update(1)
                        continue
                    ready.append((path, target, prepared, small))
                if not ready:
                    continue
                check_render_size(runner, render_size, [image.shape for _, _, image, _ in ready])
                try:
                    predicted = _predict_grouped(runner, [small for _, _, _, small in ready])
                except Exception as error:  # noqa: BLE001 - one bad batch must not stop the run
                    log.debug("model call failed", exc_info=True)
                    result.failed.extend((path, f"model failed: {_one_line(error)}") for path, _, _, _ in ready)
                    bar.update(len(ready))
                    continue
                done = []
                for position, ab in enumerate(predicted):
                    path, target, prepared, _ = ready[position]
                    ready[position] = None  # the decoded photo leaves memory once coloured
                    if prepared.frames > 1:
                        result.notes.append((path, f"used the first of its {prepared.frames} frames"))
                    done.append((path, target, writers.submit(write, target, prepared, ab)))
                    del prepared
                del ready, predicted
                collect(writing, bar)  # the batch before: its outputs leave memory
                writing = done
            collect(writing, bar)
    finally:
        for pool in (readers, writers, loader):
            pool.shutdown(wait=True, cancel_futures=True)
    return result


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _reason(error: BaseException, path: Path) -> str:
    """The error message without a leading repetition of the path."""
    text = _one_line(error)
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text
