"""colorize.evaluate.with_truth: colour photos scored against themselves, at the working size and at full resolution."""

import json

import numpy as np
import pytest
from conftest import save_tiny_model
from PIL import Image

from colorize import evaluate
from colorize.evaluate import predictors


def test_baselines_on_a_folder(image_folder, tmp_path):
    result = evaluate.evaluate({"gray": "gray", "random": "random"}, image_folder, image_size=32, batch_size=4)
    assert result.num_images == 6
    gray = result.summary["gray"]
    assert gray["colourfulness"] == 0.0
    assert gray["delta_m"] == pytest.approx(-result.summary["ground truth"]["colourfulness"])
    assert 0 < gray["auc"] < 100
    files = evaluate.write_report(result, tmp_path / "report")
    for key in ("metrics", "per_image", "distribution", "samples", "report"):
        assert files[key].exists()
    saved = json.loads(files["metrics"].read_text())
    assert saved["num_images"] == 6 and "random" in saved["models"]
    assert "| gray |" in files["report"].read_text()
    with Image.open(files["samples"]) as image:
        assert image.format == "PNG"


def test_a_model_equal_to_the_truth_scores_perfectly(image_folder, monkeypatch):
    # A predictor returning the true ab: AuC 100 and (up to gamut clipping) MSE 0.
    monkeypatch.setattr(predictors, "random_baseline", lambda batch: batch.ab_scaled)
    result = evaluate.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=3)
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

    result = evaluate.evaluate({"gray": "gray", "random": "random"}, image_folder, image_size=32, batch_size=4)
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
    files = evaluate.write_report(result, tmp_path / "report")
    saved = json.loads(files["metrics"].read_text())["models"]
    assert saved["ground truth"]["hue_entropy"] == pytest.approx(truth["hue_entropy"])
    assert set(saved["random"]) >= {"hue_entropy", "warm_share", "ab_intersection", "chromatic_share"}
    report = files["report"].read_text()
    assert "hue_H" in report and "ab_inter" in report and "warm" in report
    table = evaluate.format_table(result, markdown=False)
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


def test_a_saved_model_beside_the_baselines(image_folder, tmp_path):
    from colorize import saving

    model = saving.load_model(save_tiny_model(tmp_path / "tiny.keras"))
    zero = saving.load_model(save_tiny_model(tmp_path / "zero.keras", zero_output=True))
    models = {"tiny": model, "zero": zero, "gray": "gray", "random": "random"}
    assert evaluate.working_size(models) == 32
    result = evaluate.evaluate(models, image_folder, batch_size=4, num_samples=3)
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


def test_full_resolution(image_folder, tmp_path):
    from conftest import make_portrait_like

    Image.fromarray(make_portrait_like(80, seed=9)[:, :56]).save(image_folder / "tall.png")  # 80 x 56
    (image_folder / "broken.png").write_bytes(b"not an image")
    result = evaluate.evaluate(
        {"gray": "gray", "random": "random"}, image_folder, image_size=32, batch_size=4, full_resolution=True
    )
    assert result.num_images == 7 and result.full_resolution
    assert result.summary["gray"]["colourfulness"] == 0.0
    assert all(image.shape == (32, 32, 3) for image in result.samples["random"])
    files = evaluate.write_report(result, tmp_path / "report")
    assert "full resolution" in files["report"].read_text()
    assert "tall.png" in files["per_image"].read_text()


def test_full_resolution_with_a_model_and_a_prepared_dir_refused(image_folder, tmp_path):
    from colorize import saving

    model = saving.load_model(save_tiny_model(tmp_path / "tiny.keras", zero_output=True))
    result = evaluate.evaluate({"tiny": model, "gray": "gray"}, image_folder, image_size=32, batch_size=4,
                                 full_resolution=True)  # fmt: skip
    assert result.num_images == 6
    assert result.summary["tiny"]["auc"] == pytest.approx(result.summary["gray"]["auc"], abs=1e-4)  # ab = 0 is gray
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "manifest.json").write_text("{}")
    with pytest.raises(ValueError, match="full-resolution"):
        evaluate.evaluate({"gray": "gray"}, prepared, full_resolution=True)


def test_prepared_test_split(image_folder, tmp_path):
    from colorize.data import prepare

    prepare.prepare([image_folder], tmp_path / "prepared", image_size=32, split=(0, 0, 1), workers=1, progress=False)
    result = evaluate.evaluate({"gray": "gray"}, tmp_path / "prepared", batch_size=4)
    assert result.num_images >= 4 and result.image_size == 32  # no model: the prepared size
    assert result.summary["gray"]["colourfulness"] == 0.0
    # a prepared set carries its a*b* distribution: the class-rebalanced AuC is reported
    assert 0.0 < result.summary["gray"]["rebalanced_auc"] <= 100.0
    assert result.summary["gray"]["blotchiness"] == 0.0 and "blotchiness" in result.summary["ground truth"]
    plain = evaluate.evaluate({"gray": "gray"}, image_folder, batch_size=4, limit=2)
    assert "rebalanced_auc" not in plain.summary["gray"]  # a plain folder has no distribution to weight by

