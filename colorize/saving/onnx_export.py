"""Export an inference model as ONNX for ONNX Runtime: conversion, graph clean-up, the runner's metadata."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


#: The ONNX files colorize writes: this opset, one input of this name (scaled L, any batch,
#: height and width), one output (:data:`ONNX_OUTPUTS`), and what the runner needs in metadata.
ONNX_OPSET = 17
ONNX_INPUT = "l_input"
ONNX_OUTPUTS = ("ab", "ab_bins")  # scaled a*b*, or a bins model's probabilities at half resolution
ONNX_METADATA_PREFIX = "colorize."


def export_onnx(model, path: str | os.PathLike) -> Path:
    """Write an inference model (scaled L -> scaled a*b*) as ONNX for :class:`colorize.infer.onnx_onnx_runtime.OnnxRunner`.

    The network is made size-free where it is fully convolutional (else it keeps its one
    size; the batch is free either way). A bins model (layers ``ab_bins`` + ``annealed_mean``)
    is cut at its bin probabilities, as :class:`colorize.infer.runtime.Runner` runs it, and the
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

    from colorize import __version__
    from colorize.infer import runtime

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
    swapped = False
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
        swapped = True
    if swapped:  # the Softmax now reads the Transpose that followed it
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
