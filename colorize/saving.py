"""Exporting trained models: the self-contained inference form a user ships.

A training run saves its models as trained (``best.keras``: a classification network
outputs bin probabilities, a GAN holds two networks, a mixed-precision run computes in
bfloat16). :func:`export_model` turns any of them into what ``colorize predict`` runs:
one float32 network from scaled L to scaled a*b*, with the decoding (and, for the
classification families, the chosen annealed-mean temperature) inside it.

Example:
    >>> from colorize import saving
    >>> saving.export_model("runs/bins", "my_model.keras", temperature=0.3)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def float32_copy(model):
    """The same network with every layer computing in float32 (weights copied).

    A model trained under a ``mixed_bfloat16`` policy keeps that policy in its saved
    config, and would run in bfloat16 wherever it is loaded: 10x slower on a CPU
    without bfloat16 instructions. Models that already compute in float32 are returned
    as they are.
    """
    import keras

    if all(_policy_name(layer) in ("float32", None) for layer in model.layers):
        return model
    config = model.get_config()
    for layer in config["layers"]:
        if "dtype" in layer.get("config", {}):
            layer["config"]["dtype"] = "float32"
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    if not isinstance(copy, keras.Model):  # pragma: no cover - from_config always gives a model here
        raise TypeError(f"cannot rebuild {model.name!r} in float32")
    return copy


def _policy_name(layer):
    policy = getattr(layer, "dtype_policy", None)
    return getattr(policy, "name", None)


def export_model(source: str | os.PathLike, path: str | os.PathLike, temperature: float | None = None) -> Path:
    """Write the inference form of a saved model (a run directory, ``.keras`` file or "default").

    Args:
        source: what to export: a training run directory (its best.keras), a ``.keras``
            file, or "default".
        path: the ``.keras`` file to write (atomically: a temporary name, then renamed).
        temperature: annealed-mean temperature for the classification families (None:
            the seed's 0.38); ignored by models that predict a*b* directly.

    Returns:
        The path written.

    Raises:
        ModelLoadError: the source is missing, corrupt or not a colorization model.
        ValueError: a temperature outside (0, 10].
    """
    import math

    from colorize import inference, models
    from colorize.models import classification

    if temperature is not None and not (math.isfinite(temperature) and 0 < temperature <= 10):
        raise ValueError(f"temperature must be in (0, 10]. Received: temperature={temperature!r}")
    saved = float32_copy(inference.load_saved_model(source))
    names = [layer.name for layer in saved.layers]
    if temperature is not None and "ab_bins" in names and saved.outputs[0].shape[-1] != 2:
        exported = classification.with_annealed_mean(saved, temperature)
    else:
        exported = models.as_inference_model(saved)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}.keras")
    try:
        exported.save(str(temporary))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("exported %s -> %s", source, path)
    return path
