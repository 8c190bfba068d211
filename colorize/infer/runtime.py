"""The model at run time (Keras or ONNX Runtime): precision, one call for every photo size, memory checks.

:class:`Runner` wraps a Keras inference model for photos: it rebuilds it to accept any size
(a multiple of :data:`~colorize.registry.SIZE_MULTIPLE`) and, where the CPU has native
bfloat16, to compute in bfloat16; :meth:`Runner.predict` runs it as one TensorFlow graph
traced once. :class:`~colorize.infer.onnx_runtime.OnnxRunner` has the same interface and runs an ``.onnx`` file
(:func:`colorize.saving.export_onnx`) with ONNX Runtime, importing neither Keras nor
TensorFlow. A bins model's decoding runs in NumPy after either (:class:`bins.Decoding`).
:func:`check_render_size` refuses a working size the memory cannot hold.

Example:
    >>> runner = load_runner("default", precision="auto")  # doctest: +SKIP
    >>> runner.working_shape(3000, 4000)
    (192, 256)
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path

import numpy as np

from colorize import registry, saving
from colorize.color import bins
from colorize.errors import ColorizeError
from colorize.registry import SIZE_MULTIPLE

log = logging.getLogger(__name__)

#: Long side the model sees by default (or its training size, if larger). 192 since 2026-12-07 (fourth
#: session): blind judges found the bundled model's colours at 192 even with 256's (53 % of 920
#: verdicts, docs/studies.md), and its network does 0.56x the work.
DEFAULT_RENDER_SIZE = 192

PRECISIONS = registry.PRECISIONS


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
    decoding: bins.Decoding | None = None
    #: Colour each face again in a tight crop (:func:`colorize.infer.faces.recolour_faces`).
    faces: bool = False

    #: Photos of one working shape share a network call (Keras: one traced call per batch);
    #: False where the network runs one photo per call anyway (ONNX Runtime), so each photo
    #: goes on to its writer as soon as its own call returns.
    shares_calls = True

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
        dtype = "mixed_bfloat16" if precision == "bfloat16" else None
        rebuilt = saving.rebuild(model, dynamic=trained is not None, dtype=dtype)
        if rebuilt is not None:
            return cls(*_split_decoding(rebuilt, None, trained, precision))
        if dtype is not None:  # keeps its fixed size; try the precision alone
            rebuilt = saving.rebuild(model, dynamic=False, dtype=dtype)
            if rebuilt is not None:
                return cls(*_split_decoding(rebuilt, trained, trained, precision))
        return cls(*_split_decoding(model, trained, trained, "float32"))

    def with_strength(self, strength: float | None) -> "Runner":
        """This runner decoding at colour ``strength`` in [0, 1] (None: the model's own).

        The network and its compiled call are shared; only the decoding differs.

        Raises:
            ValueError: a strength outside [0, 1], or a model whose decoding has no
                rebalancing prior to scale (only bin models exported with one do).
        """
        if strength is None:
            return self
        if self.decoding is None or self.decoding.log_prior is None:
            raise ValueError(
                "this model has no colour-strength control (only a bins model whose decoding carries a "
                "rebalancing prior has, like the bundled default); leave out the strength"
            )
        return self._sharing(decoding=self.decoding.with_strength(strength))

    def with_faces(self, faces: bool | None) -> "Runner":
        """This runner with the face pass on or off (None: as it is); the network is shared."""
        if faces is None or bool(faces) == self.faces:
            return self
        return self._sharing(faces=bool(faces))

    def _sharing(self, **changes) -> "Runner":
        """A copy with ``changes`` that shares this runner's network and compiled call."""
        other = dataclasses.replace(self, **changes)
        other._call = self._compiled()
        return other

    def _compiled(self):
        if self._call is None:
            self._call = _compiled_call(self.model)
        return self._call

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
        """Scaled L (B, h, w, 1) -> scaled ab (B, h', w', 2) float32: :meth:`network` then :meth:`finish`.

        With the TensorFlow backend the model runs as one graph traced once for any
        batch and size (no retracing per photo shape); otherwise eagerly.

        Raises:
            ColorizeError: the model predicted non-finite values.
        """
        l_batch = np.asarray(l_batch, np.float32)
        return self.finish(self.network(l_batch), l_batch)

    def network(self, l_batch: np.ndarray) -> np.ndarray:
        """Scaled L (B, h, w, 1) -> the network's output: a bins model's probabilities, else scaled ab.

        Raises:
            ColorizeError: the model predicted non-finite values.
        """
        output = np.asarray(self._compiled()(np.asarray(l_batch, np.float32)), dtype=np.float32)
        if not np.isfinite(output).all():
            raise ColorizeError("the model predicted NaN or infinite colours; it cannot colorize (check its weights)")
        return output

    def finish(self, output: np.ndarray, l_batch: np.ndarray) -> np.ndarray:
        """:meth:`network`'s output -> scaled ab (B, h, w, 2): a bins model's decoding, at L's size.

        Separate from the network so that a pipeline can decode one photo in a worker
        thread while the network runs on the next.
        """
        if self.decoding is None:
            return output
        return _upsampled(self.decoding.decode(output, l_batch), l_batch.shape[1:3])


def _upsampled(ab: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(B, h, w, 2) -> (B, *shape, 2) bilinearly (half-pixel centres, as the models' own up-sampling)."""
    if ab.shape[1:3] == tuple(shape):
        return ab
    import cv2

    return np.stack([cv2.resize(member, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for member in ab])


def _split_decoding(model, fixed_size, trained_size, precision) -> tuple:
    """Runner fields for ``model``: a bins model's annealed-mean layer becomes a run-time :class:`bins.Decoding`.

    The network then stops at its bin probabilities (layer ``ab_bins``) and the decoding
    (pooling, colour strength, annealed mean) runs in NumPy with the settings stored in
    the model's ``annealed_mean`` layer, so the strength can change per photo.
    """
    spec = registry.MODELS.get(registry.family_of(model))
    if spec is None or not spec.bins or "annealed_mean" not in {layer.name for layer in model.layers}:
        return model, fixed_size, trained_size, precision, None
    import keras

    layer = model.get_layer("annealed_mean")
    prior = None if layer.log_prior is None else tuple(layer.log_prior)
    decoding = bins.Decoding(temperature=layer.temperature, log_prior=prior, grid=layer.grid)
    network = keras.Model(model.inputs, model.get_layer("ab_bins").output, name=model.name)
    return network, fixed_size, trained_size, precision, decoding


def _compiled_call(model):
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda batch: model(batch, training=False)
    import tensorflow as tf

    signature = [tf.TensorSpec((None, None, None, 1), tf.float32)]
    # Keras 3 layers trace without autograph (they are written for JAX too): 0.25 s less start-up.
    graph = tf.function(
        lambda batch: tf.cast(model(batch, training=False), tf.float32), input_signature=signature, autograph=False
    )
    _quiet_one_trace_per_model(tf)
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


class _OneTracePerModel(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning about our compiled calls.

    Each model gets its own graph, traced once for every size; comparing several models
    (``colorize evaluate A B C ...``) traces that one function body once per model, which
    TensorFlow's frequent-tracing detector reports as retracing.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and "_compiled_call" in message)


def _quiet_one_trace_per_model(tf) -> None:
    logger = tf.get_logger()
    if not any(isinstance(existing, _OneTracePerModel) for existing in logger.filters):
        logger.addFilter(_OneTracePerModel())


def load_runner(
    model=None, precision: str = "auto", strength: float | None = None, faces: bool | None = None
) -> Runner:
    """A :class:`Runner` at ``precision`` for ``model``.

    Args:
        model: a :class:`Runner`, a loaded keras model, "default" or another preset of the
            bundled model (:data:`colorize.registry.PRESETS`: its decoding at a chosen colour
            strength; ``default.onnx`` run by ONNX Runtime where installed), a ``.keras`` or
            ``.onnx`` path, a run directory, or None for the bundled default (those named by
            path are loaded once per file version: ``.onnx`` as an :class:`~colorize.infer.onnx_runtime.OnnxRunner`, the
            others with :func:`colorize.saving.load_model`).
        precision: "float32", "bfloat16" or "auto".
        strength: colour strength in [0, 1] (see :meth:`Runner.with_strength`); None keeps
            the preset's or the model's own.
        faces: colour faces again in tight crops (:mod:`colorize.infer.faces`); None: a
            preset's own (on for the bundled presets), off for other models.

    Example:
        >>> runner = load_runner("default", precision="float32")  # doctest: +SKIP
        >>> colour = infer.colorize_image("grandma.jpg", model=runner)  # doctest: +SKIP
    """
    from colorize.registry import PRESETS

    if isinstance(model, Runner):
        return model.with_strength(strength).with_faces(faces)
    if model is None or isinstance(model, (str, os.PathLike)):
        preset = PRESETS.get(str(model or "default"))
        path = saving.resolve_model_path(model or "default", onnx=True)
        if path.suffix == ".onnx":
            runner = _cached_onnx_runner(str(path.resolve()), path.stat().st_mtime_ns)
        else:
            runner = _cached_runner(str(path.resolve()), path.stat().st_mtime_ns, resolve_precision(precision))
        if preset is not None and strength is None:
            strength = preset.strength
        if preset is not None and faces is None:
            faces = preset.faces
        return runner.with_strength(strength).with_faces(faces)
    from colorize.models import as_inference_model

    return Runner.create(as_inference_model(model), precision).with_strength(strength).with_faces(faces)


@functools.lru_cache(maxsize=2)
def _cached_runner(path: str, modified: int, precision: str = "float32") -> Runner:
    """Models named by path are loaded once per file version (repeated colorize_image calls)."""
    return Runner.create(saving.load_model(path), precision)


@functools.lru_cache(maxsize=2)
def _cached_onnx_runner(path: str, modified: int) -> "onnx_runtime.OnnxRunner":  # noqa: F821
    """One ONNX Runtime session per file version and process."""
    from colorize.infer import onnx_runtime

    return onnx_runtime.OnnxRunner.load(path)


def runs_on_keras(model=None) -> bool:
    """Whether :func:`load_runner` needs Keras for ``model`` (False: an ``.onnx`` file, or a
    preset run from ``default.onnx``, which ONNX Runtime runs alone).

    Raises:
        colorize.saving.ModelLoadError: nothing loadable is named.
    """
    from colorize.infer import onnx_runtime

    if isinstance(model, onnx_runtime.OnnxRunner):
        return False
    if model is None or isinstance(model, (str, os.PathLike)):
        return saving.resolve_model_path(model or "default", onnx=True).suffix != ".onnx"
    return True



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


def available_memory() -> int | None:
    """Bytes of memory available (MemAvailable, or the cgroup limit if lower); None if unknown."""
    return _available_memory()


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
