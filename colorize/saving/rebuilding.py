"""Rebuild a network from its config: accepting any input size, or with every layer computing in float32."""

from __future__ import annotations

import logging

import numpy as np

from colorize.registry import SIZE_MULTIPLE

log = logging.getLogger(__name__)


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
