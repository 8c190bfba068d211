"""Export a trained model's inference form, the file a user ships: ``.keras`` (one float32 network) or ``.onnx``.

A training run saves its models as trained (``best.keras``: a classification network
outputs bin probabilities, a GAN holds two networks, a mixed-precision run computes in
bfloat16). :func:`export_model` turns any of them into what ``colorize predict`` runs:
one float32 network from scaled L to scaled a*b*, with the decoding (and, for the
classification families, the chosen annealed-mean temperature) inside it; or, as
``.onnx`` (:func:`colorize.saving.onnx_export.export_onnx`), that network for ONNX Runtime.

Example:
    >>> from colorize import saving
    >>> saving.export_model("runs/bins", "my_model.keras", temperature=0.3)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from colorize.saving.loading import load_saved_model
from colorize.saving.onnx_export import export_onnx
from colorize.saving.rebuilding import float32_copy
from colorize.saving.save import save_model

log = logging.getLogger(__name__)


EXPORT_FORMATS = ("keras", "onnx")


def export_model(source: str | os.PathLike, path: str | os.PathLike, temperature: float | None = None,
                 log_prior=None, format: str | None = None, average=()) -> Path:  # fmt: skip
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
        average: (model, share) pairs: other saved models of the same network, whose weights
            are mixed into the source's (:func:`average_weights`); the source keeps the rest.

    Returns:
        The path written.

    Raises:
        ModelLoadError: the source is missing, corrupt or not a colorization model.
        ValueError: a temperature outside (0, 10], an unknown format, or shares that do not
            leave the source a share in (0, 1).
    """
    import math

    import keras

    from colorize import models, registry
    from colorize.models import classification

    format = format or ("onnx" if Path(path).suffix.lower() == ".onnx" else "keras")
    if format not in EXPORT_FORMATS:
        raise ValueError(f"Unknown format. Expected one of {EXPORT_FORMATS}. Received: format={format!r}")
    if temperature is not None and not (math.isfinite(temperature) and 0 < temperature <= 10):
        raise ValueError(f"temperature must be in (0, 10]. Received: temperature={temperature!r}")
    if average:
        _check_shares([share for _, share in average])
    saved = load_saved_model(source)
    if average:
        others = [(load_saved_model(other), share) for other, share in average]
        average_weights(saved, others, names=[str(other) for other, _ in average])
    spec = registry.MODELS.get(registry.family_of(saved))
    if (temperature is not None or log_prior is not None) and spec is not None and spec.bins:
        if "annealed_mean" in {layer.name for layer in saved.layers}:  # decoded: decode again, keeping what is not asked
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
    save_model(exported, path, compress=True)
    log.info("exported %s -> %s", source, path)
    return path


def average_weights(model, others, names=None) -> None:
    """Set ``model``'s weights to a weighted mean of its own and ``others``' (in place).

    A weight-space ensemble (Wortsman et al. 2022, "model soups" and WiSE-FT): networks
    fine-tuned from one start can be averaged weight by weight, and the mean keeps much of
    each one's gains while it runs as one network. Layers are matched by name; ``model``
    keeps the share the others leave (1 - their sum).

    Args:
        model: a Keras model (its layers' weights are set).
        others: (Keras model, share) pairs, each share in (0, 1), all together below 1.
        names: what to call each of ``others`` in an error (default: its model name).

    Raises:
        ValueError: the shares leave ``model`` no share in (0, 1), or another model is not the
            same network (a weighted layer missing, or weights of other shapes).
    """
    import numpy as np

    shares = _check_shares([share for _, share in others])
    names = names or [other.name for other, _ in others]
    mixed = {layer.name: [np.asarray(w, np.float64) * (1 - sum(shares)) for w in layer.get_weights()]
             for layer in model.layers if layer.weights}  # fmt: skip
    for (other, share), name in zip(others, names):
        layers = {layer.name: layer for layer in other.layers}
        for layer_name, sums in mixed.items():
            weights = layers[layer_name].get_weights() if layer_name in layers else None
            if weights is None or [w.shape for w in weights] != [s.shape for s in sums]:
                raise ValueError(f"{name} is not the same network: its layer {layer_name!r} is missing "
                                 "or has weights of other shapes")  # fmt: skip
            for total, weight in zip(sums, weights):
                total += share * np.asarray(weight, np.float64)
    for layer in model.layers:
        if layer.name in mixed:
            layer.set_weights([total.astype(w.dtype) for total, w in zip(mixed[layer.name], layer.get_weights())])


def _check_shares(shares) -> list[float]:
    """The shares as floats, each in (0, 1) and together below 1 (else ValueError)."""
    shares = [float(share) for share in shares]
    if not all(0 < share < 1 for share in shares) or not 0 < 1 - sum(shares) < 1:
        raise ValueError(f"each share must be in (0, 1) and all together below 1. Received: {shares}")
    return shares
