"""A trained model's weights in a wider model of the same layers (Chen et al. 2016, Net2WiderNet).

The wider model has the same layer names and kinds, with as many or more channels per
layer (``base_filters=32`` where the trained one had 16). Each wide channel copies a trained
channel (channel ``j`` copies ``j mod C``); a layer that reads copied channels splits each
trained weight among the copies so their sum is the trained weight, so the wide model computes
the same function as the trained one (up to float rounding) and training goes on from
there with the new capacity. The split is uneven (a random share per weight, summing to 1)
so the copies get different gradients and grow apart; an even split would keep them equal
forever.

Example:
    >>> from colorize.models import build_unet_classification
    >>> narrow = build_unet_classification(image_size=None, base_filters=4)
    >>> wide = build_unet_classification(image_size=None, base_filters=8)
    >>> widen_into(narrow, wide)
    >>> tuple(wide.get_layer("encoder1_conv1").kernel.shape)
    (3, 3, 1, 8)
"""

from __future__ import annotations

import numpy as np

#: How far an uneven split may stray from the even one (a share of 1/copies).
SPLIT_SPREAD = 0.25
#: Layers without weights that keep their input's channels (a Reshape may not: refused).
_PASS_THROUGH = ("Activation", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "UpSampling2D",
                 "Softmax", "ReLU", "Dropout", "Add", "Resizing")  # fmt: skip


class WidenError(ValueError):
    """The two models are not the same layers at two widths; the message names the first layer that is not."""


def _inputs(layer) -> list[str]:
    return [tensor._keras_history.operation.name for tensor in layer._inbound_nodes[0].input_tensors]


def _split(old_of_new: np.ndarray, old_count: int, shape_rest: tuple, rng: np.random.Generator) -> np.ndarray:
    """Shares (new input channels, *shape_rest) that sum to 1 over the copies of each trained channel."""
    copies = np.bincount(old_of_new, minlength=old_count)[old_of_new].astype(np.float64)
    shares = 1.0 / copies
    noise = rng.uniform(-SPLIT_SPREAD, SPLIT_SPREAD, (len(old_of_new), *shape_rest)) / copies.reshape(-1, *[1] * len(shape_rest))
    noise[copies == 1] = 0.0
    # remove each group's mean so the shares of one trained channel still sum to 1
    for channel in np.unique(old_of_new[copies > 1]):
        members = old_of_new == channel
        noise[members] -= noise[members].mean(axis=0, keepdims=True)
    return shares.reshape(-1, *[1] * len(shape_rest)) + noise


def _widened(kind: str, old: list[np.ndarray], new_shapes: list[tuple], in_map, rng) -> tuple[list[np.ndarray], np.ndarray]:
    """The wide layer's weights from the trained ones, and the map of its output channels."""
    if kind == "BatchNormalization":  # per channel: each copy keeps its trained channel's statistics
        return [weight[in_map] for weight in old], in_map
    kernel, rest = old[0], old[1:]
    transposed = kind == "Conv2DTranspose"  # (h, w, out, in)
    in_axis, out_axis = (kernel.ndim - 1, kernel.ndim - 2) if transposed else (kernel.ndim - 2, kernel.ndim - 1)
    new_kernel_shape = new_shapes[0]
    out_map = np.arange(new_kernel_shape[out_axis]) % kernel.shape[out_axis]
    if len(in_map) != new_kernel_shape[in_axis]:
        raise WidenError(f"its input has {len(in_map)} channels, its kernel {new_kernel_shape[in_axis]}")
    moved = np.moveaxis(kernel, (in_axis, out_axis), (0, 1))  # (in, out, ...)
    moved = moved[in_map][:, out_map]
    moved = moved * _split(in_map, kernel.shape[in_axis], moved.shape[1:], rng)
    wide_kernel = np.moveaxis(moved, (0, 1), (in_axis, out_axis)).astype(kernel.dtype)
    return [wide_kernel, *(weight[out_map] for weight in rest)], out_map


def widen_into(trained, wide, seed: int = 0) -> None:
    """Set ``wide``'s weights from ``trained``'s, channel copies split so the function is kept.

    Args:
        trained: a Keras functional model.
        wide: a functional model with the same layers (names, kinds, connections), each with
            at least as many channels.
        seed: seed of the uneven split.

    Raises:
        WidenError: a layer of one is missing in the other, is another kind, or is narrower
            in ``wide``, or has weights this cannot widen (the message names it).
    """
    rng = np.random.default_rng(seed)
    trained_layers = {layer.name: layer for layer in trained.layers}
    maps: dict[str, np.ndarray] = {}
    for layer in wide.layers:
        name, kind = layer.name, type(layer).__name__
        other = trained_layers.get(name)
        if other is None or type(other).__name__ != kind:
            raise WidenError(f"layer {name!r} ({kind}) is not in the trained model as the same kind")
        sources = _inputs(layer)
        if sources != _inputs(other):
            raise WidenError(f"layer {name!r} reads {sources}, in the trained model {_inputs(other)}")
        if kind == "InputLayer":
            maps[name] = np.arange(layer.output.shape[-1])
            continue
        if kind == "Concatenate":
            parts, offset = [], 0
            for source in sources:
                parts.append(maps[source] + offset)
                offset += trained_layers[source].output.shape[-1]
            maps[name] = np.concatenate(parts)
            continue
        in_map = maps[sources[0]]
        if not layer.weights:
            if kind not in _PASS_THROUGH:
                raise WidenError(f"layer {name!r} ({kind}): cannot tell how it maps channels")
            maps[name] = in_map
            continue
        old = [np.asarray(weight) for weight in other.weights]
        new_shapes = [tuple(weight.shape) for weight in layer.weights]
        if kind not in ("Conv2D", "Conv2DTranspose", "Dense", "BatchNormalization") or len(old) != len(new_shapes):
            raise WidenError(f"layer {name!r} ({kind}) has weights this cannot widen")
        if any(len(a.shape) != len(b) or any(o > n for o, n in zip(a.shape, b)) for a, b in zip(old, new_shapes)):
            raise WidenError(f"layer {name!r} is narrower in the wide model: {[a.shape for a in old]} -> {new_shapes}")
        try:
            weights, maps[name] = _widened(kind, old, new_shapes, in_map, rng)
        except WidenError as error:
            raise WidenError(f"layer {name!r}: {error}") from None
        for shape, weight in zip(new_shapes, weights):
            if tuple(weight.shape) != shape:
                raise WidenError(f"layer {name!r}: widened to {weight.shape}, the wide model has {shape}")
        layer.set_weights(weights)
