"""MTCNN's three networks as ONNX graphs for :mod:`colorize.data.faces`: made once from facenet-pytorch's weights.

facenet-pytorch (MIT licence) ships the weights of MTCNN's P-, R- and O-Net as PyTorch state
dicts in its wheel (``facenet_pytorch/data/{pnet,rnet,onet}.pt``, the legacy serialization).
This reads them without PyTorch (:func:`colorize.models.torch_checkpoint.load`) and writes each
network as an ONNX graph with one gray input channel (the first convolution's weights summed over
R, G and B: a gray photo's three channels are equal), so the face search runs with ONNX Runtime
alone. ``make face-detector`` downloads
the wheel and runs this; the graphs it writes are bundled in ``colorize/assets/faces/``.

Example:
    python -m colorize.data.mtcnn_export DIR_WITH_PT_FILES colorize/assets/faces
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

#: Each network's layers (facenet-pytorch's module names) and its outputs (head, name).
NETWORKS = {
    "pnet": (
        None,
        [("conv", "conv1"), ("prelu", "prelu1"), ("pool", 2, 2), ("conv", "conv2"), ("prelu", "prelu2"),
         ("conv", "conv3"), ("prelu", "prelu3")],
        [("conv4_1", "face"), ("conv4_2", "box")],
    ),
    "rnet": (
        24,
        [("conv", "conv1"), ("prelu", "prelu1"), ("pool", 3, 2), ("conv", "conv2"), ("prelu", "prelu2"), ("pool", 3, 2),
         ("conv", "conv3"), ("prelu", "prelu3"), ("flatten",), ("dense", "dense4"), ("prelu", "prelu4")],
        [("dense5_1", "face"), ("dense5_2", "box")],
    ),
    "onet": (
        48,
        [("conv", "conv1"), ("prelu", "prelu1"), ("pool", 3, 2), ("conv", "conv2"), ("prelu", "prelu2"), ("pool", 3, 2),
         ("conv", "conv3"), ("prelu", "prelu3"), ("pool", 2, 2), ("conv", "conv4"), ("prelu", "prelu4"), ("flatten",),
         ("dense", "dense5"), ("prelu", "prelu5")],
        [("dense6_1", "face"), ("dense6_2", "box"), ("dense6_3", "points")],
    ),
}


def build_network(name: str, weights: dict[str, np.ndarray]):
    """One of :data:`NETWORKS` as an ONNX model: input ``gray`` (N, 1, H, W), scaled ``(x - 127.5) / 128``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    size, layers, heads = NETWORKS[name]
    nodes, initializers = [], []

    def constant(key, array):
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), key))
        return key

    def parameters(key, kernel=None):
        kernel = weights[f"{key}.weight"] if kernel is None else kernel
        return [constant(f"{key}.w", kernel), constant(f"{key}.b", weights[f"{key}.bias"])]

    def node(op, inputs, output, **attributes):
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    x = "gray"
    for index, (kind, *args) in enumerate(layers):
        if kind == "conv":
            kernel = weights[f"{args[0]}.weight"]
            if kernel.shape[1] == 3:
                kernel = kernel.sum(axis=1, keepdims=True)
            x = node("Conv", [x, *parameters(args[0], kernel)], args[0])
        elif kind == "prelu":
            slope = weights[f"{args[0]}.weight"]
            spatial = layers[index - 1][0] == "conv"
            x = node("PRelu", [x, constant(f"{args[0]}.slope", slope.reshape(-1, 1, 1) if spatial else slope)], args[0])
        elif kind == "pool":
            x = node("MaxPool", [x], f"pool{index}", kernel_shape=[args[0]] * 2, strides=[args[1]] * 2, ceil_mode=1)
        elif kind == "flatten":  # facenet-pytorch flattens (N, W, H, C), the layout the weights were trained in
            x = node("Flatten", [node("Transpose", [x], "transposed", perm=[0, 3, 2, 1])], "flat", axis=1)
        elif kind == "dense":
            x = node("Gemm", [x, *parameters(args[0])], args[0], transB=1)
    outputs = []
    for key, output in heads:
        inputs = [x, *parameters(key)]
        raw = node("Conv", inputs, key) if size is None else node("Gemm", inputs, key, transB=1)
        if output == "face":
            node("Softmax", [raw], output, axis=1)
        else:
            node("Identity", [raw], output)
        channels = weights[f"{key}.bias"].shape[0]
        dims = ["n", channels, "h", "w"] if size is None else ["n", channels]
        outputs.append(helper.make_tensor_value_info(output, TensorProto.FLOAT, dims))
    shape = ["n", 1, "h", "w"] if size is None else ["n", 1, size, size]
    gray = helper.make_tensor_value_info("gray", TensorProto.FLOAT, shape)
    graph = helper.make_graph(nodes, name, [gray], outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="colorize")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def export(source: pathlib.Path, destination: pathlib.Path) -> list[pathlib.Path]:
    """Write ``pnet.onnx``, ``rnet.onnx`` and ``onet.onnx`` from the ``.pt`` files in ``source``."""
    import onnx

    from colorize.models import torch_checkpoint

    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for name in NETWORKS:
        path = source / f"{name}.pt"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: unpack facenet-pytorch's wheel (pip download facenet-pytorch "
                                    "--no-deps) and pass its facenet_pytorch/data folder")
        with open(path, "rb") as file:
            weights = torch_checkpoint.load(file)
        onnx.save(build_network(name, weights), destination / f"{name}.onnx")
        written.append(destination / f"{name}.onnx")
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m colorize.data.mtcnn_export FACENET_PYTORCH_DATA_DIR OUTPUT_DIR")
    for written in export(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])):
        print(written)
