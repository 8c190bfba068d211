"""colorize.evaluate.predictors: the baselines, and the RGB a prediction is scored by."""

import numpy as np
import pytest

from colorize import evaluate
from colorize.evaluate import predictors


def test_random_baseline_is_deterministic_and_never_the_image_itself(image_folder):
    first = evaluate.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=1)
    again = evaluate.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=1)
    assert first.rows == again.rows
    # batch of one: image k gets image k-1's ab, so none is perfect (image 0 gets ab = 0)
    assert all(row["auc"] < 99.0 for row in first.rows)


def test_random_baseline_does_not_depend_on_the_batch_size(image_folder):
    by_three = evaluate.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=3)
    by_four = evaluate.evaluate({"random": "random"}, image_folder, image_size=32, batch_size=4)
    assert [row["auc"] for row in by_three.rows] == pytest.approx([row["auc"] for row in by_four.rows])


def test_evaluate_scores_the_rgb_predict_writes_not_a_per_channel_clip():
    from colorize.color import gamut, np_ops

    # L = 60 with a*b* = (90, -80) is far outside sRGB: predict desaturates it at constant L.
    l_scaled = np.full((1, 2, 2, 1), 60.0 / 50.0 - 1.0, np.float32)
    ab_scaled = np.broadcast_to(np.array([90.0, -80.0], np.float32) / 128.0, (1, 2, 2, 2)).copy()
    ((scored, ab),) = predictors.scored(l_scaled, ab_scaled)
    written = gamut.model_io_to_rgb(l_scaled, ab_scaled)[0]  # the conversion predict writes with
    np.testing.assert_array_equal(scored, np.round(written * 255.0) / 255.0)  # that picture, in 8 bits
    np.testing.assert_allclose(ab, ab_scaled[0] * 128.0)
    lightness = np_ops.rgb_to_lab(written)[..., 0]
    np.testing.assert_allclose(lightness, 60.0, atol=0.05)  # a per-channel clip gives about 57.8
