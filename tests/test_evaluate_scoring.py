"""colorize.evaluate.scoring: the one accumulator both evaluations score through."""

import numpy as np
import pytest

from colorize import measures
from colorize.evaluate.scoring import PERFECT_PSNR, Accumulator


def test_means_rows_and_an_infinite_psnr_capped():
    scores = Accumulator(["m"], sample_columns=("gray input",))
    ab = np.zeros((8, 8, 2), np.float32)
    scores.add("m", ab, {"psnr": float("inf"), "auc": 80.0}, row={"image": 0})
    scores.add("m", ab, {"psnr": 20.0, "auc": 60.0}, row={"image": 1})
    summary = scores.summary(count=2)["m"]
    assert summary["psnr"] == pytest.approx((PERFECT_PSNR + 20.0) / 2) and summary["auc"] == pytest.approx(70.0)
    assert scores.rows[0] == {"image": 0, "model": "m", "psnr": float("inf"), "auc": 80.0}  # rows keep the value
    assert list(scores.samples) == ["gray input", "m"]
    assert summary["largest_bucket"] == 1.0  # every pixel in the (0, 0) bucket


def test_hues_are_pooled_over_all_pixels_and_the_per_image_mean_kept():
    scores = Accumulator(["m"])
    red = np.broadcast_to(np.array([40.0, 0.0], np.float32), (8, 8, 2))  # hue 0: warm
    blue = np.broadcast_to(np.array([0.0, -40.0], np.float32), (8, 8, 2))  # hue 270: cool
    for ab in (red, blue):
        scores.add("m", ab, scores.hue_measures("m", ab))
    summary = scores.summary(count=2)["m"]
    assert summary["hue_entropy_per_image"] == 0.0  # each image has one hue
    assert summary["hue_entropy"] == pytest.approx(1.0)  # pooled: two hues, half each
    assert summary["warm_share"] == pytest.approx(0.5) and summary["chromatic_share"] == 1.0
    tally = measures.HueTally()
    tally.add(np.concatenate([red, blue]))
    assert summary["hue_entropy"] == pytest.approx(tally.hue_entropy)
