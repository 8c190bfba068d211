import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import one_line_error, tiny_train_args
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
    truth = result.summary["ground truth"]
    assert oracle["ab_intersection"] == pytest.approx(1.0)
    assert truth["hue_entropy"] > 1.0  # the fixture images have several hues
    assert oracle["hue_entropy"] == pytest.approx(truth["hue_entropy"], abs=0.05)
    assert oracle["warm_share"] == pytest.approx(truth["warm_share"], abs=0.02)
    assert oracle["chromatic_share"] == pytest.approx(truth["chromatic_share"], abs=0.02)


def test_colour_measures_for_models_baselines_and_truth(image_folder, tmp_path):
    from colorize import metrics

    result = evaluation.evaluate({"gray": "gray", "random": "random"}, image_folder, image_size=32, batch_size=4)
    gray, random, truth = (result.summary[name] for name in ("gray", "random", "ground truth"))
    assert gray["hue_entropy"] == 0.0 and gray["warm_share"] == 0.0 and gray["chromatic_share"] == 0.0
    # gray puts every pixel in the (0, 0) bucket: the overlap is the truth's share there
    histogram = result.histograms["ground truth"]
    assert gray["ab_intersection"] == pytest.approx(histogram[11, 11] / histogram.sum())
    assert 0.0 < random["ab_intersection"] < 1.0 and "ab_intersection" not in truth
    # pooled over all pixels, and the per-image mean beside it
    tally = metrics.HueTally()
    for ab in _truth_ab(image_folder):
        tally.add(ab)
    assert truth["hue_entropy"] == pytest.approx(tally.hue_entropy, abs=0.02)
    assert truth["warm_share"] == pytest.approx(tally.warm_share, abs=0.01)
    assert 0.0 < truth["hue_entropy_per_image"] <= truth["hue_entropy"] + 1e-9
    files = evaluation.write_report(result, tmp_path / "report")
    saved = json.loads(files["metrics"].read_text())["models"]
    assert saved["ground truth"]["hue_entropy"] == pytest.approx(truth["hue_entropy"])
    assert set(saved["random"]) >= {"hue_entropy", "warm_share", "ab_intersection", "chromatic_share"}
    report = files["report"].read_text()
    assert "hue_H" in report and "ab_inter" in report and "warm" in report
    table = evaluation.format_table(result, markdown=False)
    truth_line = next(line for line in table.splitlines() if line.startswith("ground truth"))
    assert f"{truth['hue_entropy']:.2f}" in truth_line and f"{truth['warm_share']:.2f}" in truth_line
    header = files["per_image"].read_text().splitlines()[0].split(",")
    assert "hue_entropy" in header and "warm_share" in header and "ab_intersection" not in header


def _truth_ab(folder, size=32):
    """a*b* of each fixture image at the working size, as the evaluation pipeline reads it."""
    from colorize import color
    from colorize.data import pipeline

    dataset = pipeline.make_dataset(folder, split="test", image_size=size, batch_size=16, shuffle=False, with_rgb=True)
    return [np.asarray(color.unscale_ab(ab)) for _, abs_, _ in dataset for ab in abs_.numpy()]


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


def _tiny_model(path, size=32, zero_output=False):
    """A tiny l_input -> ab model; ``zero_output``: it predicts ab = 0 (the gray baseline's colours)."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 1), name="l_input")
    hidden = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    initializer = "zeros" if zero_output else "glorot_uniform"
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", kernel_initializer=initializer,
                            name="ab_output")(hidden)  # fmt: skip
    keras.Model(inputs, outputs).save(path)
    return path


def test_a_saved_model_beside_the_baselines(image_folder, tmp_path):
    from colorize import saving

    model = saving.load_model(_tiny_model(tmp_path / "tiny.keras"))
    zero = saving.load_model(_tiny_model(tmp_path / "zero.keras", zero_output=True))
    models = {"tiny": model, "zero": zero, "gray": "gray", "random": "random"}
    assert evaluation.working_size(models) == 32
    result = evaluation.evaluate(models, image_folder, batch_size=4, num_samples=3)
    assert result.image_size == 32 and result.num_images == 6
    assert set(result.summary) == {"tiny", "zero", "gray", "random", "ground truth"}
    assert len(result.rows) == 6 * 4
    assert all(len(images) == 3 for images in result.samples.values())
    assert result.summary["gray"]["colourfulness"] == 0.0
    # A model predicting ab = 0 scores exactly what the gray baseline scores, image by image.
    for key in ("auc", "ab_mae", "colourfulness"):
        assert result.summary["zero"][key] == pytest.approx(result.summary["gray"][key], abs=1e-4), key
    by_image = {(row["model"], row["image"]): row["auc"] for row in result.rows}
    assert [by_image["zero", i] for i in range(6)] == pytest.approx([by_image["gray", i] for i in range(6)], abs=1e-4)
    # The summary is the mean of the per-image values.
    assert result.summary["tiny"]["auc"] == pytest.approx(np.mean([by_image["tiny", i] for i in range(6)]), abs=1e-3)


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
    from colorize import saving

    model = saving.load_model(_tiny_model(tmp_path / "tiny.keras", zero_output=True))
    result = evaluation.evaluate({"tiny": model, "gray": "gray"}, image_folder, image_size=32, batch_size=4,
                                 full_resolution=True)  # fmt: skip
    assert result.num_images == 6
    assert result.summary["tiny"]["auc"] == pytest.approx(result.summary["gray"]["auc"], abs=1e-4)  # ab = 0 is gray
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
    # a prepared set carries its a*b* distribution: the class-rebalanced AuC is reported
    assert 0.0 < result.summary["gray"]["rebalanced_auc"] <= 100.0
    assert result.summary["gray"]["blotchiness"] == 0.0 and "blotchiness" in result.summary["ground truth"]
    plain = evaluation.evaluate({"gray": "gray"}, image_folder, batch_size=4, limit=2)
    assert "rebalanced_auc" not in plain.summary["gray"]  # a plain folder has no distribution to weight by


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


def _constant_model(path, a, b):
    """A model painting every pixel a*b* = (a, b), whatever the input: measures known by hand."""
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 1), name="l_input")
    outputs = layers.Conv2D(2, 1, kernel_initializer="zeros", name="ab_output")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("ab_output").set_weights([np.zeros((1, 1, 1, 2)), np.array([a, b]) / 128.0])
    model.save(path)
    return path


@pytest.fixture
def gray_photos(tmp_path):
    """Three small black-and-white photos (mid grays: every constant colour is in gamut) and a broken file."""
    folder = tmp_path / "bw"
    folder.mkdir()
    y, x = np.mgrid[0:48, 0:64]
    for index in range(3):
        gray = 90 + (x + index * y) % 80
        Image.fromarray(gray.astype(np.uint8), mode="L").save(folder / f"old_{index}.png")
    (folder / "torn.jpg").write_bytes(b"not an image")
    return folder


def test_without_truth_measures_what_predict_writes(gray_photos, tmp_path):
    from colorize import infer, metrics, saving

    red = saving.load_model(_constant_model(tmp_path / "red.keras", 40.0, 0.0))  # hue 0: warm
    blue = saving.load_model(_constant_model(tmp_path / "blue.keras", 0.0, -40.0))  # hue 270: cool
    result = evaluation.evaluate_without_truth({"red": red, "blue": blue}, gray_photos, render_size=64)
    assert result.num_images == 3 and not result.truth
    assert [Path(file).name for file, _ in result.skipped] == ["torn.jpg"]
    assert set(result.summary) == {"red", "blue"}
    assert result.summary["red"]["warm_share"] == 1.0 and result.summary["blue"]["warm_share"] == 0.0
    for name in ("red", "blue"):
        assert result.summary[name]["hue_entropy"] == 0.0 and result.summary[name]["chromatic_share"] == 1.0
        assert "auc" not in result.summary[name] and "ab_intersection" not in result.summary[name]
    # the numbers are those of the very image `colorize predict` writes
    row = next(row for row in result.rows if row["model"] == "red" and row["file"].endswith("old_1.png"))
    written = infer.colorize_image(gray_photos / "old_1.png", model=red, render_size=64)
    assert row["colourfulness"] == pytest.approx(metrics.colourfulness(written / 255.0), rel=1e-5)
    assert result.samples["red"][0].shape == (evaluation.CONTACT_THUMBNAIL * 3 // 4, evaluation.CONTACT_THUMBNAIL, 3)
    gray = result.samples["gray input"][0]
    assert np.allclose(gray, gray.mean(axis=-1, keepdims=True), atol=1e-3)  # the photo as the model saw it
    files = evaluation.write_report(result, tmp_path / "report")
    saved = json.loads(files["metrics"].read_text())
    assert saved["truth"] is False and saved["num_images"] == 3 and len(saved["skipped"]) == 1
    assert files["per_image"].read_text().splitlines()[0] == "image,file,model,colourfulness,hue_entropy,warm_share,blotchiness"
    with Image.open(files["contact_sheet"]) as image:
        assert image.format == "PNG"
    report = files["report"].read_text()
    assert "| red |" in report and "AuC" not in report and "torn.jpg" in report
    assert not (tmp_path / "report" / "samples.png").exists()


def test_contact_sheet_columns_groups_and_pads():
    samples = {"gray input": [np.zeros((4, 4, 3))] * 5, "m": [np.ones((4, 4, 3))] * 5}
    columns = evaluation.contact_sheet_columns(samples, groups=2)
    assert [name for name, _ in columns] == ["gray input", "m", "gray input", "m"]
    assert all(len(cells) == 3 for _, cells in columns)
    assert columns[3][1][2].shape == (8, 8, 3)  # the blank filler


def test_cli_without_truth(gray_photos, tmp_path):
    model = _constant_model(tmp_path / "warm.keras", 20.0, 20.0)
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
    model = _constant_model(tmp_path / "m.keras", 10.0, 10.0)
    arguments = [a.format(model=model, photos=gray_photos, tmp=tmp_path, prepared=tmp_path / "prepared") for a in arguments]
    result = CliRunner().invoke(main, ["evaluate", *arguments, "--no-truth", "-o", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.startswith("Error:") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_evaluate_scores_the_rgb_predict_writes_not_a_per_channel_clip():
    from colorize import color
    from colorize.color import np_ops

    # L = 60 with a*b* = (90, -80) is far outside sRGB: predict desaturates it at constant L.
    l_scaled = np.full((1, 2, 2, 1), 60.0 / 50.0 - 1.0, np.float32)
    ab_scaled = np.broadcast_to(np.array([90.0, -80.0], np.float32) / 128.0, (1, 2, 2, 2)).copy()
    scored = evaluation._to_rgb(l_scaled, ab_scaled)
    np.testing.assert_allclose(scored, np_ops.model_io_to_rgb_keeping_l(l_scaled, ab_scaled), atol=1e-6)
    lightness = np.asarray(color.rgb_to_lab(scored.astype(np.float32)))[..., 0]
    np.testing.assert_allclose(lightness, 60.0, atol=0.05)  # a per-channel clip gives about 57.8


def _read_rgb(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), np.float64) / 255.0


def test_full_resolution_save_predictions_equal_predict(tmp_path, model_path):
    from conftest import make_portrait_like
    from skimage import data as samples

    from colorize.infer import runtime

    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    Image.fromarray(samples.astronaut()[::4, ::4]).save(photos / "astronaut.png")  # 128 x 128
    Image.fromarray(samples.coffee()[::5, ::5]).save(photos / "coffee.jpg")  # 80 x 120
    Image.fromarray(make_portrait_like(72, seed=3)[:, :50]).save(photos / "sub" / "tall.png")  # 72 x 50
    runner = CliRunner()
    scored, predicted = tmp_path / "scored", tmp_path / "predicted"
    args = ["evaluate", str(model_path), str(photos), "--full-resolution", "--save-predictions", str(scored),
            "-o", str(tmp_path / "report")]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["predict", str(photos), "-o", str(predicted), "--model", str(model_path)])
    assert result.exit_code == 0, result.output
    names = sorted(path.relative_to(predicted) for path in predicted.rglob("*.png"))
    assert names == sorted(path.relative_to(scored) for path in scored.rglob("*.png"))
    assert [str(name) for name in names] == ["astronaut_colorized.png", "coffee_colorized.png",
                                             "sub/tall_colorized.png"]  # fmt: skip
    for name in names:
        assert np.array_equal(_read_rgb(scored / name), _read_rgb(predicted / name))  # the same pixels
    # the scored images are those measured: rgb_mse of each row is that of the saved PNG
    model = runtime.load_runner(model_path, "auto")  # as the CLI runs it
    measured = evaluation.evaluate({"tiny": model}, photos, full_resolution=True)
    rows = {Path(row["file"]).name: row for row in measured.rows}
    truth = _read_rgb(photos / "astronaut.png")
    mse = ((_read_rgb(scored / "astronaut_colorized.png") - truth) * 255.0) ** 2
    assert rows["astronaut.png"]["rgb_mse"] == pytest.approx(mse.mean(), rel=1e-4)
    again = [*args[:-1], str(tmp_path / "report2")]  # a new report folder, the same predictions folder
    result = runner.invoke(main, again)
    assert result.exit_code == 1 and "already holds predictions" in result.output and "--overwrite" in result.output
    result = runner.invoke(main, [*again, "--overwrite"])
    assert result.exit_code == 0, result.output


def test_save_predictions_of_a_prepared_set_at_the_evaluated_size(image_folder, tmp_path):
    from colorize.data import prepare

    prepare.prepare([image_folder], tmp_path / "prepared", image_size=32, split=(0, 0, 1), workers=1, progress=False)
    scored = tmp_path / "scored"
    result = evaluation.evaluate({"gray": "gray", "random": "random"}, tmp_path / "prepared", batch_size=4,
                                 save_predictions=scored)  # fmt: skip
    for name in ("gray", "random"):  # one sub-folder per model
        files = sorted((scored / name).glob("*.png"))
        assert [path.name for path in files] == [f"{index:05d}_colorized.png" for index in range(result.num_images)]
        assert all(_read_rgb(path).shape == (32, 32, 3) for path in files)
    gray = _read_rgb(scored / "gray" / "00000_colorized.png")
    assert np.array_equal(gray[..., 0], gray[..., 1])  # ab = 0: neutral
    with pytest.raises(FileExistsError, match="already holds predictions"):
        evaluation.evaluate({"gray": "gray"}, tmp_path / "prepared", save_predictions=scored)


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
