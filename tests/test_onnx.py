"""ONNX: `colorize export -o x.onnx`, the ONNX Runtime runner against the Keras one, the bundled
default.onnx against default.keras, and predict without TensorFlow or Keras."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_portrait_like

from colorize import infer, saving
from colorize.cli import main
from colorize.infer import onnx_runtime, runtime

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

SHAPES = [(1, 32, 32, 1), (2, 64, 96, 1), (1, 96, 64, 1)]


def _render_difference(first, second, image) -> float:
    """Mean absolute difference, in 8-bit levels, of what the two runners make of ``image``."""
    one = infer.colorize_image(image, model=first).astype(np.int16)
    two = infer.colorize_image(image, model=second).astype(np.int16)
    return float(np.abs(one - two).mean())


@pytest.fixture(scope="module")
def bins_model_path(tmp_path_factory):
    """A tiny bins model (U-Net trunk, softmax over ab bins) exported with a prior, as the bundled one is;
    with the global-context and self-attention branches, the attention switched on."""
    import keras

    from colorize import models
    from colorize.color import bins

    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("bins")
    model = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2,
                               global_context=True, attention=True)  # fmt: skip
    model.get_layer("bottleneck_attention").projection.assign(np.full((16, 16), 0.05, np.float32))
    model.save(folder / "best.keras")
    prior = np.linspace(-0.5, 0.5, len(bins.gamut_bins()), dtype=np.float32)
    return saving.export_model(folder / "best.keras", folder / "bins.keras", temperature=0.38, log_prior=prior)


def test_export_onnx_of_a_plain_model_matches_the_keras_runner(tmp_path, model_path):
    result = CliRunner().invoke(main, ["export", str(model_path), "-o", str(tmp_path / "tiny.onnx")])
    assert result.exit_code == 0, result.output
    onnx_runner = onnx_runtime.OnnxRunner.load(tmp_path / "tiny.onnx")
    keras_runner = runtime.Runner.create(saving.load_model(model_path), "float32")
    assert onnx_runner.decoding is None and onnx_runner.fixed_size is None and onnx_runner.trained_size == 32
    for shape in SHAPES:
        batch = np.linspace(-1, 1, np.prod(shape), dtype=np.float32).reshape(shape)
        np.testing.assert_allclose(onnx_runner.predict(batch), keras_runner.predict(batch), atol=1e-4)
    assert _render_difference(onnx_runner, keras_runner, make_portrait_like(64)) <= 1.0


def test_export_onnx_of_a_bins_model_keeps_the_decoding_and_the_strength(tmp_path, bins_model_path):
    import onnx

    path = saving.export_model(bins_model_path, tmp_path / "bins.model", format="onnx")
    proto = onnx.load(str(path))
    assert [value.name for value in proto.graph.input] == [saving.ONNX_INPUT]
    assert [value.name for value in proto.graph.output] == ["ab_bins"]
    assert proto.opset_import[0].version == saving.ONNX_OPSET
    assert [dim.dim_param for dim in proto.graph.input[0].type.tensor_type.shape.dim[:3]] == ["batch", "height", "width"]
    facts = {prop.key: prop.value for prop in proto.metadata_props}
    assert json.loads(facts["colorize.decoding"])["temperature"] == pytest.approx(0.38)
    onnx_runner = onnx_runtime.OnnxRunner.load(path)
    keras_runner = runtime.Runner.create(saving.load_model(bins_model_path), "float32")
    assert onnx_runner.decoding == keras_runner.decoding
    image = make_portrait_like(64)
    for strength in (None, 0.0, 1.0):
        first, second = onnx_runner.with_strength(strength), keras_runner.with_strength(strength)
        for shape in SHAPES:
            batch = np.linspace(-1, 1, np.prod(shape), dtype=np.float32).reshape(shape)
            np.testing.assert_allclose(first.predict(batch), second.predict(batch), atol=2e-3)
        assert _render_difference(first, second, image) <= 1.0
    assert type(onnx_runner.with_strength(0.2)) is onnx_runtime.OnnxRunner


def test_the_bundled_default_onnx_matches_default_keras():
    assert saving.default_onnx_path().is_file(), "run `make default-onnx`"
    assert saving.resolve_model_path("default", onnx=True) == saving.default_onnx_path()
    assert saving.resolve_model_path("default") == saving.default_model_path()  # training and export: Keras
    onnx_runner = runtime.load_runner("default", "float32")
    assert isinstance(onnx_runner, onnx_runtime.OnnxRunner)
    keras_runner = runtime.Runner.create(saving.load_model(saving.default_model_path()), "float32")
    assert onnx_runner.decoding == keras_runner.decoding.with_strength(onnx_runner.decoding.strength)
    image = make_portrait_like(64)
    for strength in (0.25, 1.0):
        assert _render_difference(onnx_runner.with_strength(strength), keras_runner.with_strength(strength), image) <= 1.0
    assert onnx_runner.default_render_size == keras_runner.default_render_size
    assert onnx_runner.working_shape(300, 400) == keras_runner.working_shape(300, 400)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_predict_and_evaluate_with_the_default_import_neither_tensorflow_nor_keras(tmp_path, command):
    from PIL import Image

    Image.fromarray(make_portrait_like(64)).save(tmp_path / "photo.png")
    arguments = {
        "predict": ["predict", str(tmp_path / "photo.png"), "--model", "vivid"],
        "evaluate": ["evaluate", "vivid", str(tmp_path), "--full-resolution", "-o", str(tmp_path / "report")],
    }[command]  # fmt: skip
    script = (
        "import sys\n"
        "from colorize.cli import main\n"
        "try:\n"
        f"    main({arguments!r})\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    written = tmp_path / ("photo_colorized.png" if command == "predict" else "report/metrics.json")
    assert written.is_file()


def test_onnx_files_are_refused_where_keras_is_needed_and_foreign_ones_everywhere(tmp_path, model_path):
    import onnx
    from onnx import TensorProto, helper

    path = saving.export_model(model_path, tmp_path / "tiny.onnx")
    with pytest.raises(saving.ModelLoadError, match="ONNX model: .* Keras cannot load it"):
        saving.load_model(path)
    node = helper.make_node("Identity", ["x"], ["y"])
    value = helper.make_tensor_value_info
    graph = helper.make_graph([node], "g", [value("x", TensorProto.FLOAT, [1])], [value("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), str(tmp_path / "foreign.onnx"))
    with pytest.raises(saving.ModelLoadError, match="not an ONNX model exported by colorize"):
        runtime.load_runner(tmp_path / "foreign.onnx")
    (tmp_path / "corrupt.onnx").write_bytes(b"not a model")
    from PIL import Image

    Image.fromarray(make_portrait_like(32)).save(tmp_path / "x.png")
    result = CliRunner().invoke(main, ["predict", str(tmp_path / "x.png"), "--model", str(tmp_path / "corrupt.onnx")])
    assert result.exit_code == 1 and "could not load ONNX model" in result.output
    assert isinstance(result.exception, SystemExit), result.exception


def test_a_command_that_needs_keras_names_the_extra_to_install(monkeypatch):
    import click

    from colorize.cli import _common

    monkeypatch.setitem(sys.modules, "keras", None)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(click.ClickException, match=r"pip install 'colorize-keras\[jax\]'"):
        _common.load_keras()


def test_serve_and_evaluate_run_an_onnx_model(tmp_path, model_path, image_folder):
    from starlette.testclient import TestClient

    from colorize import serve

    path = saving.export_model(model_path, tmp_path / "tiny.onnx")
    with TestClient(serve.create_app(str(path), precision="float32")) as client:
        assert client.get("/api/health").json()["model_file"] == "tiny.onnx"
        response = client.post("/api/colorize", files={"image": ("a.png", (image_folder / "face_1.png").read_bytes())})
        assert response.status_code == 200 and response.content[:4] == b"\x89PNG"
    files = infer.colorize_files([image_folder], tmp_path / "out", model=str(path))
    assert len(files.written) == 6 and not files.failed
    result = CliRunner().invoke(main, ["evaluate", str(path), str(image_folder), "--full-resolution",
                                       "-o", str(tmp_path / "report")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "tiny" in (tmp_path / "report" / "metrics.json").read_text()


def test_the_bins_softmax_runs_on_the_last_axis_in_the_exported_graph():
    import onnx

    from colorize import saving

    graph = onnx.load(str(saving.default_model_path().with_suffix(".onnx"))).graph
    softmaxes = [node for node in graph.node if node.op_type == "Softmax"]
    assert softmaxes and all(
        onnx.helper.get_attribute_value(attribute) == -1
        for node in softmaxes for attribute in node.attribute if attribute.name == "axis"
    )  # fmt: skip
    assert graph.node[-1].op_type == "Softmax"  # channels-last already: no transpose after it
