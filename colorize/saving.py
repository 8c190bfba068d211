"""Loading and exporting trained models: the self-contained inference form a user ships.

:func:`load_model` turns "default", a ``.keras`` file or a training run directory into
the inference model (one-line :class:`ModelLoadError` for what cannot be loaded);
:func:`load_saved_model` gives the model as it was trained.

A training run saves its models as trained (``best.keras``: a classification network
outputs bin probabilities, a GAN holds two networks, a mixed-precision run computes in
bfloat16). :func:`export_model` turns any of them into what ``colorize predict`` runs:
one float32 network from scaled L to scaled a*b*, with the decoding (and, for the
classification families, the chosen annealed-mean temperature) inside it; or, as
``.onnx`` (:func:`export_onnx`), that network for ONNX Runtime, which predict and serve
run without Keras (:class:`colorize.runtime.OnnxRunner`).

Example:
    >>> from colorize import saving
    >>> saving.export_model("runs/bins", "my_model.keras", temperature=0.3)  # doctest: +SKIP
    >>> saving.export_model("runs/bins", "my_model.onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path

import numpy as np

from colorize import layout
from colorize.errors import ColorizeError
from colorize.registry import SIZE_MULTIPLE

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
    from colorize.models import as_inference_model

    path = resolve_model_path(model)
    loaded = load_saved_model(path)
    try:
        return as_inference_model(loaded)
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
    check_archive_sizes(path)
    _register_custom_objects()
    try:
        loaded = keras.saving.load_model(path, compile=False)
    except Exception as error:  # corrupt zip, unknown layer, bad config ...
        reason = " ".join(str(error).split()) or type(error).__name__  # the whole reason, on one line
        if "safe_mode" in reason:
            raise ModelLoadError(f"refused to load model {path}: {reason}") from None
        raise ModelLoadError(
            f"could not load model {path} ({reason[:300]}); is it a complete .keras file saved by colorize?"
        ) from None
    bad = nonfinite_weights(loaded)
    if bad:
        raise ModelLoadError(
            f"{path} holds NaN or infinite weights ({len(bad)} variable(s), first {bad[0]}): a diverged training run; "
            "it cannot colorize"
        )
    return loaded


def float32_copy(model):
    """The same network with every layer computing in float32 (weights copied).

    A model trained under a ``mixed_bfloat16`` policy keeps that policy in its saved
    config, and would run in bfloat16 wherever it is loaded: 10x slower on a CPU
    without bfloat16 instructions. Models that already compute in float32 are returned
    as they are.

    Raises:
        ValueError: the network cannot be rebuilt from its config (not a functional model).
    """
    if all(_policy_name(layer) in ("float32", None) for layer in model.layers):
        return model
    copy = rebuild(model, dynamic=model.inputs[0].shape[1] is None, dtype="float32")
    if copy is None:
        raise ValueError(f"cannot rebuild model {model.name!r} in float32 (not a functional network)")
    return copy


def _policy_name(layer):
    policy = getattr(layer, "dtype_policy", None)
    return getattr(policy, "name", None)


def rebuild(model, dynamic: bool, dtype: str | None):
    """The same network from its config: accepting any input size (``dynamic``, when it
    is fully convolutional) and/or with the dtype policy ``dtype`` (output kept float32).
    None when nothing is asked or the network cannot be rebuilt so."""
    import copy

    if not dynamic and dtype is None:
        return None
    try:
        config = _adapted_config(copy.deepcopy(model.get_config()), dynamic, dtype)
        if config is None:
            return None
        rebuilt = model.__class__.from_config(config)
        rebuilt.set_weights(model.get_weights())
        size = None if dynamic else int(model.inputs[0].shape[1])
        return rebuilt if _probe_gives(rebuilt, size, (*model.outputs[0].shape[1:],)) else None
    except Exception:  # dense layers, fixed reshapes, nested models ...: keep the model as it is
        log.debug("model %s could not be rebuilt", getattr(model, "name", "?"), exc_info=True)
        return None


def _adapted_config(config: dict, dynamic: bool, dtype: str | None) -> dict | None:
    """A functional model's config (changed in place) with any input size and/or the dtype
    policy ``dtype`` on every layer but the input and output ones; None if it has not one input."""
    input_layers = [layer for layer in config.get("layers", []) if layer["class_name"] == "InputLayer"]
    if len(input_layers) != 1:
        return None
    if dynamic:
        input_layers[0]["config"]["batch_shape"] = [None, None, None, 1]
    if dtype is not None:
        outputs = set(_output_layer_names(config.get("output_layers", [])))
        for layer in config["layers"]:
            if layer["class_name"] != "InputLayer" and layer["config"].get("name") not in outputs:
                layer["config"]["dtype"] = dtype
    return config


def _probe_gives(model, size: int | None, output_shape: tuple) -> bool:
    """Whether ``model`` maps a zero L image (size x size, or a small non-square one of any
    size when ``size`` is None) to a*b* of the input's size (fixed-size: ``output_shape``)."""
    shape = (2 * SIZE_MULTIPLE, 3 * SIZE_MULTIPLE) if size is None else (size, size)
    expected = (1, *shape, 2) if size is None else (1, *output_shape)
    return tuple(model(np.zeros((1, *shape, 1), np.float32), training=False).shape) == expected


def _output_layer_names(structure) -> list[str]:
    """Layer names in a functional config's ``output_layers`` ([name, node, index], nested)."""
    if isinstance(structure, (list, tuple)) and structure and isinstance(structure[0], str):
        return [structure[0]]
    if isinstance(structure, dict):
        structure = list(structure.values())
    names = []
    for item in structure if isinstance(structure, (list, tuple)) else []:
        names.extend(_output_layer_names(item))
    return names


def export_model(source: str | os.PathLike, path: str | os.PathLike, temperature: float | None = None,
                 log_prior=None, format: str | None = None) -> Path:  # fmt: skip
    """Write the inference form of a saved model (a run directory, ``.keras`` file or "default").

    As ``.keras`` it is one Keras model (scaled L -> scaled a*b*, decoding inside). As
    ``.onnx`` (:func:`export_onnx`) it is the same network for ONNX Runtime: a bins model up
    to its bin probabilities, its decoding's settings in the file's metadata.

    Args:
        source: what to export: a training run directory (its best.keras), a ``.keras``
            file, or "default".
        path: the ``.keras`` or ``.onnx`` file to write (atomically: a temporary name, then renamed).
        temperature: annealed-mean temperature for the classification families (None:
            Zhang et al.'s 0.38, or the source's own when it is already decoded); ignored by
            models that predict a*b* directly.
        log_prior: classification families: a prior shift (Q,) of the bin distribution
            before decoding (``classification.rebalancing_prior``; None: the source's own,
            else none).

        format: "keras" or "onnx"; None: from the suffix of ``path`` (``.onnx``, else keras).

    Returns:
        The path written.

    Raises:
        ModelLoadError: the source is missing, corrupt or not a colorization model.
        ValueError: a temperature outside (0, 10], or an unknown format.
    """
    import math

    import keras

    from colorize import models
    from colorize.models import classification

    format = format or ("onnx" if Path(path).suffix.lower() == ".onnx" else "keras")
    if format not in EXPORT_FORMATS:
        raise ValueError(f"Unknown format. Expected one of {EXPORT_FORMATS}. Received: format={format!r}")
    if temperature is not None and not (math.isfinite(temperature) and 0 < temperature <= 10):
        raise ValueError(f"temperature must be in (0, 10]. Received: temperature={temperature!r}")
    saved = load_saved_model(source)
    names = [layer.name for layer in saved.layers]
    if (temperature is not None or log_prior is not None) and "ab_bins" in names:
        if "annealed_mean" in names:  # already decoded: decode the bins again, keeping what is not asked
            decoding = saved.get_layer("annealed_mean")
            temperature = decoding.temperature if temperature is None else temperature
            log_prior = decoding.log_prior if log_prior is None else log_prior
            saved = keras.Model(saved.inputs, saved.get_layer("ab_bins").output, name=saved.name)
        exported = classification.with_annealed_mean(
            saved, classification.TEMPERATURE if temperature is None else temperature, log_prior
        )
    else:  # a GAN gives its generator, an embedding-input fusion model its extractor-wired form
        exported = models.as_inference_model(saved)
    exported = float32_copy(exported)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "onnx":
        return export_onnx(exported, path)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}.keras")
    try:
        exported.save(str(temporary))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("exported %s -> %s", source, path)
    return path


EXPORT_FORMATS = ("keras", "onnx")
#: The ONNX files colorize writes: this opset, one input of this name (scaled L, any batch,
#: height and width), one output (:data:`ONNX_OUTPUTS`), and what the runner needs in metadata.
ONNX_OPSET = 17
ONNX_INPUT = "l_input"
ONNX_OUTPUTS = ("ab", "ab_bins")  # scaled a*b*, or a bins model's probabilities at half resolution
ONNX_METADATA_PREFIX = "colorize."


def export_onnx(model, path: str | os.PathLike) -> Path:
    """Write an inference model (scaled L -> scaled a*b*) as ONNX for :class:`colorize.runtime.OnnxRunner`.

    The network is made size-free where it is fully convolutional (else it keeps its one
    size; the batch is free either way). A bins model (layers ``ab_bins`` + ``annealed_mean``)
    is cut at its bin probabilities, as :class:`colorize.runtime.Runner` runs it, and the
    decoding's temperature, prior and grid go into the file's metadata, so both runners
    decode with one :class:`colorize.color.bins.Decoding` (and the colour strength works on
    both). Converted by Keras' own ONNX export (tf2onnx under the TensorFlow backend),
    opset :data:`ONNX_OPSET`; written atomically.

    Args:
        model: a ``keras.Model`` in inference form (from :func:`load_model`).
        path: the ``.onnx`` file to write.

    Returns:
        The path written.

    Example:
        >>> export_onnx(load_model("default"), "default.onnx")  # doctest: +SKIP
    """
    import json

    import keras
    import onnx

    from colorize import __version__, runtime

    runner = runtime.Runner.create(model, "float32")
    size = runner.fixed_size
    signature = [keras.InputSpec(shape=(None, size, size, 1), dtype="float32", name=ONNX_INPUT)]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        signature = [tf.TensorSpec((None, size, size, 1), tf.float32, name=ONNX_INPUT)]
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}.onnx")
    try:
        runner.model.export(str(temporary), format="onnx", input_signature=signature, opset_version=ONNX_OPSET,
                            verbose=False)  # fmt: skip
        proto = onnx.load(str(temporary))
        decoding = runner.decoding
        _softmax_on_the_last_axis(proto.graph)
        _name_onnx_io(proto.graph, ONNX_INPUT, ONNX_OUTPUTS[decoding is not None])
        facts = {
            "format": "1",
            "output": ONNX_OUTPUTS[decoding is not None],
            "model_name": str(model.name),
            "fixed_size": "" if size is None else str(size),
            "trained_size": "" if runner.trained_size is None else str(runner.trained_size),
            "version": __version__,
        }
        if decoding is not None:
            prior = None if decoding.log_prior is None else [float(v) for v in decoding.log_prior]
            facts["decoding"] = json.dumps({"temperature": float(decoding.temperature), "log_prior": prior,
                                            "grid": int(decoding.grid)})  # fmt: skip
        onnx.helper.set_model_props(proto, {ONNX_METADATA_PREFIX + key: value for key, value in facts.items()})
        onnx.checker.check_model(proto)
        onnx.save(proto, str(temporary))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("exported %s -> %s", model.name, path)
    return path


def _softmax_on_the_last_axis(graph) -> None:
    """Swap ``Softmax(axis=1) -> Transpose(0, 2, 3, 1)`` into ``Transpose -> Softmax(axis=-1)``.

    The converter computes in channels-first order and so takes the bins' softmax over axis 1,
    which ONNX Runtime's CPU kernel does through transposes of its own: with 261 bins it was
    more than half the network's time. The same function over the last axis is its fast case.
    """
    import onnx

    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for node in graph.node:
        if node.op_type != "Softmax" or len(consumers.get(node.output[0], [])) != 1:
            continue
        axis = next((onnx.helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), -1)
        after = consumers[node.output[0]][0]
        perm = next((list(onnx.helper.get_attribute_value(a)) for a in after.attribute if a.name == "perm"), None)
        if axis != 1 or after.op_type != "Transpose" or perm != [0, 2, 3, 1]:
            continue
        source, middle, result = node.input[0], node.output[0], after.output[0]
        after.input[0], after.output[0] = source, middle
        node.input[0], node.output[0] = middle, result
        del node.attribute[:]
        node.attribute.append(onnx.helper.make_attribute("axis", -1))
    _topological_order(graph)


def _topological_order(graph) -> None:
    """Reorder the nodes so each comes after the nodes whose outputs it reads (ONNX requires it)."""
    import onnx

    def copy_node(node):
        duplicate = onnx.NodeProto()
        duplicate.CopyFrom(node)
        return duplicate

    produced = {value.name for value in graph.input} | {weight.name for weight in graph.initializer} | {""}
    pending, ordered = [copy_node(node) for node in graph.node], []
    while pending:
        ready = [all(name in produced for name in node.input) for node in pending]
        if not any(ready):
            raise ValueError("the ONNX graph has a cycle or an undefined input")
        for node, is_ready in zip(pending, ready):
            if is_ready:
                produced.update(node.output)
                ordered.append(node)
        pending = [node for node, is_ready in zip(pending, ready) if not is_ready]
    del graph.node[:]
    graph.node.extend(ordered)


def _name_onnx_io(graph, input_name: str, output_name: str) -> None:
    """Give the graph's one input and output fixed names, its free dimensions readable ones, and
    its nodes and inner tensors names by position (the converter's counters differ between
    runs: one model, one file)."""
    renamed = {graph.input[0].name: input_name, graph.output[0].name: output_name}
    weights = {initializer.name: initializer for initializer in graph.initializer}
    order = []  # the weights in the order the nodes first use them
    for index, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{index}"
        for name in node.input:
            if name in weights and name not in renamed:
                renamed[name] = f"weight_{len(order)}"
                order.append(weights[name])
        for position, name in enumerate(node.output):
            renamed.setdefault(name, f"{node.op_type}_{index}_{position}" if name else "")
    copies = []  # unused weights are dropped
    for initializer in order:
        copy = type(initializer)()
        copy.CopyFrom(initializer)
        copy.name = renamed[initializer.name]
        copies.append(copy)
    del graph.initializer[:]
    graph.initializer.extend(copies)
    for node in graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
    del graph.value_info[:]  # shapes inferred by the converter, named the old way; ONNX Runtime infers its own
    for value, dims in ((graph.input[0], ("batch", "height", "width")),
                        (graph.output[0], ("batch", "out_height", "out_width"))):  # fmt: skip
        value.name = renamed[value.name]
        for dim, label in zip(value.type.tensor_type.shape.dim, dims):
            if not dim.HasField("dim_value"):
                dim.dim_param = label
