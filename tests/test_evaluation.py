import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from colorize import evaluation
from colorize.cli import main



def test_baselines_on_a_folder(image_folder, tmp_path):
    result = evaluation.evaluate({"gray": "gray", "random": "random"}, image_folder, image_size=32, batch_size=4)
    assert result.num_images == 6
    gray = result.summary["gray"]
    assert gray["colourfulness"] == 0.0
    assert gray["delta_m"] == pytest.approx(-result.summary["ground truth"]["colourfulness"])
    assert 0 < gray["auc"] < 100
    files = evaluation.write_report(result, tmp_path / "report")
    for key in ("metrics", "per_image", "distribution", "samples", "report"):
        assert files[key].exists()
    saved = json.loads(files["metrics"].read_text())
    assert saved["num_images"] == 6 and "random" in saved["models"]
    assert "| gray |" in files["report"].read_text()
    with Image.open(files["samples"]) as image:
        assert image.format == "PNG"


def test_a_model_equal_to_the_truth_scores_perfectly(image_folder, monkeypatch):
    # A predictor returning the true ab: AuC 100 and (up to gamut clipping) MSE 0.
    monkeypatch.setitem(evaluation.__dict__, "_random_baseline", lambda l, ab, previous: ab)
    result = evaluation.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=3)
    oracle = result.summary["random"]
    assert oracle["auc"] == pytest.approx(100.0, abs=0.05)
    assert oracle["rgb_mse"] < 0.5
    assert oracle["threshold_accuracy"] == pytest.approx(100.0, abs=0.1)


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


def test_cli_errors_are_one_line(tmp_path, image_folder):
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "missing.keras"), str(image_folder)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["evaluate", str(image_folder)])
    assert result.exit_code != 0 and "nothing to evaluate" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["evaluate", "--baselines", str(empty)])
    assert result.exit_code == 1 and result.output.startswith("Error:")
