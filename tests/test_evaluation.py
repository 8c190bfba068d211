import json

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
    monkeypatch.setitem(evaluation.__dict__, "_random_baseline", lambda batch: batch.ab_scaled)
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
    assert result.output.startswith("Error:") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def _tiny_model(path, size=32):
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 1), name="l_input")
    hidden = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output")(hidden)
    keras.Model(inputs, outputs).save(path)
    return path


def test_a_saved_model_beside_the_baselines(image_folder, tmp_path):
    from colorize import inference

    model = inference.load_model(_tiny_model(tmp_path / "tiny.keras"))
    models = {"tiny": model, "gray": "gray", "random": "random"}
    assert evaluation.working_size(models) == 32
    result = evaluation.evaluate(models, image_folder, batch_size=4, num_samples=3)
    assert result.image_size == 32 and result.num_images == 6
    assert set(result.summary) == {"tiny", "gray", "random", "ground truth"}
    assert len(result.rows) == 6 * 3
    assert all(len(images) == 3 for images in result.samples.values())
    assert result.summary["gray"]["colourfulness"] == 0.0
    assert 0 <= result.summary["tiny"]["auc"] <= 100


def test_random_baseline_is_deterministic_and_never_the_image_itself(image_folder):
    first = evaluation.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=1)
    again = evaluation.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=1)
    assert first.rows == again.rows
    # batch of one: image k gets image k-1's ab, so none is perfect (image 0 gets ab = 0)
    assert all(row["auc"] < 99.0 for row in first.rows)


def test_full_resolution(image_folder, tmp_path):
    from conftest import make_portrait_like

    Image.fromarray(make_portrait_like(80, seed=9)[:, :56]).save(image_folder / "tall.png")  # 80 x 56
    (image_folder / "broken.png").write_bytes(b"not an image")
    result = evaluation.evaluate(
        {"gray": "gray", "random": "random"}, image_folder, image_size=32, batch_size=4, full_resolution=True
    )
    assert result.num_images == 7 and result.full_resolution
    assert result.summary["gray"]["colourfulness"] == 0.0
    assert all(image.shape == (32, 32, 3) for image in result.samples["random"])
    files = evaluation.write_report(result, tmp_path / "report")
    assert "full resolution" in files["report"].read_text()
    assert "tall.png" in files["per_image"].read_text()


def test_full_resolution_with_a_model_and_a_prepared_dir_refused(image_folder, tmp_path):
    from colorize import inference

    model = inference.load_model(_tiny_model(tmp_path / "tiny.keras"))
    result = evaluation.evaluate({"tiny": model}, image_folder, image_size=32, batch_size=4, full_resolution=True)
    assert result.num_images == 6 and 0 <= result.summary["tiny"]["auc"] <= 100
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "manifest.json").write_text("{}")
    with pytest.raises(ValueError, match="full-resolution"):
        evaluation.evaluate({"gray": "gray"}, prepared, full_resolution=True)


def test_prepared_test_split(image_folder, tmp_path):
    from colorize.data import prepare

    prepare.prepare([image_folder], tmp_path / "prepared", image_size=32, split=(0, 0, 1), workers=1, progress=False)
    result = evaluation.evaluate({"gray": "gray"}, tmp_path / "prepared", batch_size=4)
    assert result.num_images >= 4 and result.image_size == 32  # no model: the prepared size
    assert result.summary["gray"]["colourfulness"] == 0.0


def test_cli_run_directory_and_repeated_model_give_one_table(image_folder, tmp_path):
    run = tmp_path / "runs" / "unet"
    run.mkdir(parents=True)
    _tiny_model(run / "best.keras")
    other = _tiny_model(tmp_path / "other.keras")
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


def test_random_baseline_does_not_depend_on_the_batch_size(image_folder):
    by_three = evaluation.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=3)
    by_four = evaluation.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=4)
    assert [row["auc"] for row in by_three.rows] == pytest.approx([row["auc"] for row in by_four.rows])
