"""colorize evaluate: the command's wiring, its one-line errors and its report folder."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import (
    one_line_error,
    save_constant_model,
    save_tiny_model,
    tiny_train_args,
)
from PIL import Image

from colorize.cli import main


def test_limit_and_model(image_folder, tmp_path):
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 1), name="l_input")
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output")(inputs)
    path = tmp_path / "m.keras"
    keras.Model(inputs, outputs).save(path)
    result = CliRunner().invoke(
        main, ["evaluate", str(path), str(image_folder), "--baselines", "--limit", "5", "--image-size", "32",
               "-o", str(tmp_path / "out")]  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["num_images"] == 5 and set(saved["models"]) == {"m", "gray", "random", "ground truth"}


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["{tmp}/missing.keras", "{images}"], "not found"),
        (["{images}"], "nothing to evaluate"),
        (["--baselines", "{tmp}/empty"], "images found"),
        (["--baselines", "{tmp}/nowhere"], "does not exist"),
        (["{tmp}/bad.keras", "{images}"], "not a valid .keras file"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, image_folder, arguments, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    arguments = [argument.format(tmp=tmp_path, images=image_folder) for argument in arguments]
    result = CliRunner().invoke(main, ["evaluate", *arguments])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.startswith("Error:") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_run_directory_and_repeated_model_give_one_table(image_folder, tmp_path):
    run = tmp_path / "runs" / "unet"
    run.mkdir(parents=True)
    save_tiny_model(run / "best.keras")
    other = save_tiny_model(tmp_path / "other.keras")
    result = CliRunner().invoke(
        main, ["evaluate", "--model", str(run), "--model", str(other), str(image_folder), "--limit", "2",
               "--num-samples", "2", "-o", str(tmp_path / "cmp")]  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "cmp" / "metrics.json").read_text())
    assert list(saved["models"]) == ["unet", "other", "ground truth"]
    assert saved["image_size"] == 32 and saved["num_images"] == 2
    table = result.output.splitlines()
    assert any(line.startswith("unet ") for line in table) and any(line.startswith("other ") for line in table)
    report = (tmp_path / "cmp" / "report.md").read_text()
    assert "| unet |" in report and "| other |" in report
    with Image.open(tmp_path / "cmp" / "ab_distribution.png") as image:
        assert image.format == "PNG"


def test_cli_without_truth(gray_photos, tmp_path):
    model = save_constant_model(tmp_path / "warm.keras", 20.0, 20.0)
    result = CliRunner().invoke(
        main, ["evaluate", str(model), str(gray_photos), "--no-truth", "--image-size", "64", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()[:2]
    assert header.split()[:4] == ["model", "colourfulness", "hue_H", "warm"] and "AuC" not in header
    assert row.split()[0] == "warm" and row.split()[2:4] == ["0.00", "1.00"]  # one hue, all warm
    assert "1 files skipped" in result.output and (tmp_path / "o" / "contact_sheet.png").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["{model}", "{photos}", "--baselines"], "--baselines need colour truth"),
        (["{photos}"], "nothing to evaluate"),
        (["{model}", "{photos}", "--full-resolution"], "drop --full-resolution"),
        (["{model}", "{tmp}/empty"], "no images found"),
        (["{model}", "{prepared}"], "prepared data set"),
    ],
)
def test_cli_without_truth_errors_are_one_line(gray_photos, tmp_path, arguments, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "prepared").mkdir()
    (tmp_path / "prepared" / "manifest.json").write_text("{}")
    model = save_constant_model(tmp_path / "m.keras", 10.0, 10.0)
    arguments = [a.format(model=model, photos=gray_photos, tmp=tmp_path, prepared=tmp_path / "prepared") for a in arguments]
    result = CliRunner().invoke(main, ["evaluate", *arguments, "--no-truth", "-o", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.startswith("Error:") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_evaluate_on_an_interrupted_prepare_says_so_as_train_does(tmp_path):
    half = tmp_path / "half"  # shards written, killed before the manifest
    half.mkdir()
    (half / "test-00000-of-00001.tfrecord").write_bytes(b"\0" * 16)
    trained = one_line_error(CliRunner().invoke(main, tiny_train_args(half, tmp_path / "run")))
    result = CliRunner().invoke(main, ["evaluate", "--baselines", str(half), "-o", str(tmp_path / "report")])
    output = one_line_error(result)
    assert len(output.strip().splitlines()) == 1 and output.startswith("Error: ")
    assert output.strip()[len("Error: "):] in trained  # the message train gives
    assert "incomplete (interrupted) prepare" in output and "colorize prepare ... --overwrite" in output
    killed = tmp_path / "new"  # a first prepare killed before its staging folder was renamed into place
    staging = tmp_path / ".new.tmp-999999"
    staging.mkdir()
    (staging / "train-00000-of-00001.tfrecord").write_bytes(b"\0" * 16)
    for args in (["--baselines", str(killed)], ["--baselines", str(killed), "--full-resolution"]):
        output = one_line_error(CliRunner().invoke(main, ["evaluate", *args, "-o", str(tmp_path / "report")]))
        assert "incomplete (interrupted) prepare" in output and ".new.tmp-999999" in output
    assert not (tmp_path / "report").exists()


def test_evaluate_image_size_is_checked_at_the_cli(image_folder, tmp_path):
    result = CliRunner().invoke(main, ["evaluate", "default", str(image_folder), "--image-size", "17",
                                       "-o", str(tmp_path / "rep")])  # fmt: skip
    assert "multiple of 32" in one_line_error(result, code=2)
    assert not (tmp_path / "rep").exists()


def test_gray_photos_are_warned_and_a_report_not_overwritten(tmp_path):
    gray = tmp_path / "gray"
    gray.mkdir()
    for index in range(3):
        ramp = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (32, 1)) // (index + 1)
        Image.fromarray(np.stack([ramp] * 3, axis=-1)).save(gray / f"g{index}.png")
    report = tmp_path / "report"
    args = ["evaluate", str(gray), "--baselines", "--image-size", "32", "-o", str(report)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "no colour truth" in result.stderr
    before = (report / "metrics.json").read_bytes()
    again = CliRunner().invoke(main, args)
    assert "already holds a report" in one_line_error(again)
    assert (report / "metrics.json").read_bytes() == before
    assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0



def test_vivid_sets_every_models_colour_strength(image_folder, tmp_path):
    # The bundled default preset decodes at 0.25 and a model file at its own 0.5: --vivid puts them on one strength.
    def colourfulness(*arguments):
        output = tmp_path / f"report{len(list(tmp_path.iterdir()))}"
        result = CliRunner().invoke(main, ["evaluate", "default", str(image_folder), "--limit", "2",
                                           "--num-samples", "1", "-o", str(output), *arguments])  # fmt: skip
        assert result.exit_code == 0, result.output
        return json.loads((output / "metrics.json").read_text())["models"]["default"]["colourfulness"]

    preset, calm, strong, same = colourfulness(), colourfulness("--vivid", "0"), colourfulness("--vivid", "1"), \
        colourfulness("--vivid", "0.25")  # fmt: skip
    assert calm < preset < strong
    assert same == preset
