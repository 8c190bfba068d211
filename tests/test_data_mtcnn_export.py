"""colorize.data.mtcnn_export: facenet-pytorch's MTCNN networks rebuilt as gray-input ONNX graphs (the .pt reader: test_models_torch_checkpoint)."""

import numpy as np
import pytest

from colorize.data import mtcnn_export

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def _weights(name, rng):
    """Random weights with the shapes facenet-pytorch's networks have."""
    shapes = {
        "pnet": {"conv1": (10, 3, 3, 3), "conv2": (16, 10, 3, 3), "conv3": (32, 16, 3, 3), "conv4_1": (2, 32, 1, 1), "conv4_2": (4, 32, 1, 1)},
        "rnet": {"conv1": (28, 3, 3, 3), "conv2": (48, 28, 3, 3), "conv3": (64, 48, 2, 2), "dense4": (128, 576),
                 "dense5_1": (2, 128), "dense5_2": (4, 128)},
    }[name]
    weights = {}
    for key, shape in shapes.items():
        weights[f"{key}.weight"] = rng.normal(0, 0.1, shape).astype(np.float32)
        weights[f"{key}.bias"] = rng.normal(0, 0.1, shape[0]).astype(np.float32)
    for index, channels in enumerate({"pnet": (10, 16, 32), "rnet": (28, 48, 64, 128)}[name], start=1):
        weights[f"prelu{index}.weight"] = np.full(channels, 0.25, np.float32)
    return weights


@pytest.mark.parametrize("name, shape", [("pnet", (1, 1, 30, 41)), ("rnet", (3, 1, 24, 24))])
def test_the_graphs_run_and_give_face_probabilities_and_box_offsets(name, shape):
    model = mtcnn_export.build_network(name, _weights(name, np.random.default_rng(0)))
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    face, box = session.run(["face", "box"], {"gray": np.random.default_rng(1).normal(size=shape).astype(np.float32)})
    assert face.shape[:2] == (shape[0], 2) and box.shape[:2] == (shape[0], 4)
    np.testing.assert_allclose(face.sum(axis=1), 1.0, rtol=1e-5)
    if name == "pnet":  # 3x3 conv, 2x2 pool (ceil), two 3x3 convs: (30, 41) -> (10, 16)
        assert face.shape[2:] == (10, 16)


def test_the_first_convolution_takes_one_gray_channel_summed_from_rgb():
    from onnx import numpy_helper

    weights = _weights("pnet", np.random.default_rng(2))
    model = mtcnn_export.build_network("pnet", weights)
    kernel = numpy_helper.to_array(next(item for item in model.graph.initializer if item.name == "conv1.w"))
    np.testing.assert_allclose(kernel, weights["conv1.weight"].sum(axis=1, keepdims=True), rtol=1e-6)
    assert model.graph.input[0].type.tensor_type.shape.dim[1].dim_value == 1


def test_export_names_a_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="pnet.pt is missing"):
        mtcnn_export.export(tmp_path, tmp_path / "out")
