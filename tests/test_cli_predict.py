"""`colorize predict` / `colorize colorize` in-process: outputs, failures, exit codes."""

import hashlib

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from colorize.cli import main


def _digests(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_folder_with_a_corrupt_file_writes_the_others_and_names_it(tmp_path, model_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(np.full((40, 60), 100, np.uint8)).save(folder / "a.jpg")
    Image.fromarray(np.full((50, 30, 3), 90, np.uint8)).save(folder / "sub" / "b.png")
    (folder / "broken.jpg").write_bytes(b"not really a jpeg")
    before = _digests(folder)
    out = tmp_path / "out"
    result = _invoke("predict", folder, "-o", out, "--model", model_path, "--compare", "--batch-size", 1)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert "broken.jpg" in result.output and "Failed (1)" in result.output
    assert Image.open(out / "a_colorized.png").size == (60, 40)
    assert Image.open(out / "sub" / "b_colorized.png").size == (30, 50)
    assert (out / "a_compare.png").exists() and (out / "sub" / "b_compare.png").exists()
    assert not (out / "broken_colorized.png").exists()
    assert _digests(folder) == before  # inputs byte-for-byte unchanged, nothing added beside them


def test_existing_outputs_are_kept_unless_overwrite(tmp_path, model_path):
    source = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 32), 80, np.uint8)).save(source)
    args = ["colorize", source, "--model", model_path]  # the alias of predict
    assert _invoke(*args).exit_code == 0
    target = tmp_path / "photo_colorized.png"
    target.write_bytes(b"mine")
    result = _invoke(*args)
    assert result.exit_code == 0 and "Kept 1 existing" in result.output
    assert target.read_bytes() == b"mine"
    assert _invoke(*args, "--overwrite").exit_code == 0
    assert Image.open(target).size == (32, 32)


def test_single_file_to_a_named_output_and_never_onto_the_input(tmp_path, model_path):
    source = tmp_path / "x.jpg"
    Image.fromarray(np.full((24, 36), 120, np.uint8)).save(source)
    before = _digests(tmp_path)
    named = tmp_path / "out" / "colour.png"
    assert _invoke("predict", source, "-o", named, "--model", model_path, "--render-size", 64).exit_code == 0
    assert Image.open(named).size == (36, 24)
    result = _invoke("predict", source, "-o", source, "--model", model_path, "--overwrite")
    assert result.exit_code == 1 and "replace the input" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert {p: d for p, d in _digests(tmp_path).items() if p.parent == tmp_path} == before


@pytest.mark.parametrize("content", [None, b"garbage, not a zip"])
def test_missing_or_corrupt_model_is_a_one_line_error(tmp_path, content):
    model_path = tmp_path / "m.keras"
    if content is not None:
        model_path.write_bytes(content)
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    result = _invoke("predict", image, "--model", model_path)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    assert "m.keras" in result.output
    assert not (tmp_path / "x_colorized.png").exists()


def test_no_images_found_and_help(tmp_path, model_path):
    (tmp_path / "empty").mkdir()
    result = _invoke("predict", tmp_path / "empty", "--model", model_path)
    assert result.exit_code == 1 and "no image files found" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    two = [tmp_path / "a.png", tmp_path / "b.png"]
    for path in two:
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)
    result = _invoke("predict", *two, "-o", tmp_path / "out.png", "--model", model_path)
    assert result.exit_code == 1 and "is a file name" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    help_text = _invoke("predict", "--help").output
    assert "--render-size" in help_text and "Exit status" in help_text


def test_astronaut_example_writes_its_three_images(tmp_path, model_path, capsys):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "colorize_astronaut.py"
    spec = importlib.util.spec_from_file_location("colorize_astronaut", script)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.main(["--model", str(model_path), "-o", str(tmp_path / "out"), "--render-size", "64"]) == 0
    printed = capsys.readouterr().out
    for name in ("astronaut_gray.png", "astronaut_colorized.png", "astronaut_compare.png"):
        assert (tmp_path / "out" / name).exists() and str(tmp_path / "out" / name) in printed
    assert Image.open(tmp_path / "out" / "astronaut_colorized.png").size == (512, 512)
    assert Image.open(tmp_path / "out" / "astronaut_compare.png").size == (3 * 512 + 16, 512)


def test_vivid_and_presets_change_the_colours_of_the_bundled_model(tmp_path):
    from skimage import data

    Image.fromarray(data.camera()[::4, ::4]).save(tmp_path / "camera.png")
    outputs = {}
    for name, args in {"calm": ["--vivid", "0"], "strong": ["--vivid", "1"], "natural": ["--model", "natural"],
                       "natural_strong": ["--model", "natural", "--vivid", "1"]}.items():  # fmt: skip
        result = _invoke("predict", tmp_path / "camera.png", "-o", tmp_path / f"{name}.png", *args)
        assert result.exit_code == 0, result.output
        rgb = np.asarray(Image.open(tmp_path / f"{name}.png"), np.float32)
        outputs[name] = float(np.abs(rgb - rgb.mean(axis=-1, keepdims=True)).mean())  # distance from gray
    assert outputs["calm"] < outputs["natural"] < outputs["strong"]
    assert outputs["natural_strong"] == pytest.approx(outputs["strong"])  # --vivid overrides the preset's


def test_vivid_is_refused_out_of_range_and_for_a_model_without_a_prior(tmp_path, model_path):
    Image.fromarray(np.full((32, 32), 128, np.uint8)).save(tmp_path / "gray.png")
    result = _invoke("predict", tmp_path / "gray.png", "--vivid", "1.5")
    assert result.exit_code == 2 and "0.0<=x<=1.0" in result.output
    result = _invoke("predict", tmp_path / "gray.png", "--model", model_path, "--vivid", "0.3")
    assert result.exit_code == 1
    assert "no colour-strength control" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "gray_colorized.png").exists()


def test_models_lists_the_presets_and_the_families():
    from colorize import registry

    result = _invoke("models")
    assert result.exit_code == 0
    for name in [*registry.PRESETS, *registry.MODELS]:
        assert f"  {name} " in result.output


def test_shards_split_a_folder_once_and_stably(tmp_path, image_folder):
    from colorize import inference

    written = []
    for index in (1, 2, 3):
        result = _invoke("predict", image_folder, "-o", tmp_path / "out", "--shard", f"{index}/3")
        assert result.exit_code == 0, result.output
        written.append(sorted(path.name for path in (tmp_path / "out").glob("*.png") if path.name not in
                              {name for names in written for name in names}))  # fmt: skip
    assert [len(names) for names in written] == [2, 2, 2]
    assert sorted(name for names in written for name in names) == sorted(
        f"{path.stem}_colorized.png" for path in image_folder.iterdir())
    assert inference.shard_of(["c", "a", "b", "d"], (1, 2)) == {"a", "c"}
    refused = _invoke("predict", image_folder, "-o", tmp_path / "out", "--shard", "4/3")
    assert refused.exit_code == 2 and "1 <= K <= N" in refused.output
