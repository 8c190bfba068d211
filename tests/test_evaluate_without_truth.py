"""colorize.evaluate.without_truth: the colour measures of black-and-white photos' colorizations."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import save_constant_model
from PIL import Image

from colorize import evaluate


def test_without_truth_measures_what_predict_writes(gray_photos, tmp_path):
    from colorize import infer, metrics, saving

    red = saving.load_model(save_constant_model(tmp_path / "red.keras", 40.0, 0.0))  # hue 0: warm
    blue = saving.load_model(save_constant_model(tmp_path / "blue.keras", 0.0, -40.0))  # hue 270: cool
    result = evaluate.evaluate_without_truth({"red": red, "blue": blue}, gray_photos, render_size=64)
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
    assert result.samples["red"][0].shape == (evaluate.CONTACT_THUMBNAIL * 3 // 4, evaluate.CONTACT_THUMBNAIL, 3)
    gray = result.samples["gray input"][0]
    assert np.allclose(gray, gray.mean(axis=-1, keepdims=True), atol=1e-3)  # the photo as the model saw it
    files = evaluate.write_report(result, tmp_path / "report")
    saved = json.loads(files["metrics"].read_text())
    assert saved["truth"] is False and saved["num_images"] == 3 and len(saved["skipped"]) == 1
    assert files["per_image"].read_text().splitlines()[0] == "image,file,model,colourfulness,hue_entropy,warm_share,blotchiness"
    with Image.open(files["contact_sheet"]) as image:
        assert image.format == "PNG"
    report = files["report"].read_text()
    assert "| red |" in report and "AuC" not in report and "torn.jpg" in report
    assert not (tmp_path / "report" / "samples.png").exists()

