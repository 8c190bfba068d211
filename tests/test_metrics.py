import numpy as np
import pytest

from colorize import metrics


def test_perfect_prediction():
    rng = np.random.default_rng(0)
    ab = rng.uniform(-60, 60, (8, 8, 2))
    rgb = rng.random((8, 8, 3))
    assert metrics.auc(ab, ab) == 100.0
    assert metrics.threshold_accuracy(ab, ab) == 1.0
    assert metrics.rgb_mse(rgb, rgb) == 0.0 and metrics.rgb_mae(rgb, rgb) == 0.0
    assert metrics.ab_mse(ab, ab) == 0.0
    assert metrics.psnr(rgb, rgb) == float("inf")
    assert metrics.ssim(rgb, rgb) == pytest.approx(1.0)


def test_constant_offset():
    truth = np.zeros((4, 4, 2))
    predicted = truth + [6.0, 8.0]  # distance 10 everywhere
    assert metrics.ab_mae(predicted, truth) == pytest.approx(7.0)
    assert metrics.ab_mse(predicted, truth) == pytest.approx(50.0)
    assert metrics.threshold_accuracy(predicted, truth) == 1.0  # within 10 (inclusive)
    assert metrics.threshold_accuracy(predicted, truth, threshold=9.9) == 0.0
    # pixels count from t = 10 to 150: 141 of the 151 thresholds
    assert metrics.auc(predicted, truth) == pytest.approx(141 / 151 * 100)
    rgb = np.full((2, 2, 3), 0.5)
    assert metrics.rgb_mae(rgb + 10 / 255, rgb) == pytest.approx(10.0)
    assert metrics.rgb_mse(rgb + 10 / 255, rgb) == pytest.approx(100.0)


def test_colourfulness_hand_cases():
    assert metrics.colourfulness(np.full((5, 5, 3), 0.4)) == 0.0
    red = np.zeros((2, 2, 3))
    red[..., 0] = 1.0  # rg = 255, yb = 127.5, no spread
    assert metrics.colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))
    half = np.zeros((2, 2, 3))
    half[0, :, 0] = 1.0  # rg std 127.5, yb std 63.75, means 127.5 / 63.75
    expected = np.hypot(127.5, 63.75) + 0.3 * np.hypot(127.5, 63.75)
    assert metrics.colourfulness(half) == pytest.approx(expected)


def test_ab_histogram_and_summary():
    ab = np.array([[[0.0, 0.0], [0.0, 0.0]], [[55.0, -35.0], [500.0, -500.0]]])
    histogram = metrics.ab_histogram(ab)
    assert histogram.shape == (22, 22) and histogram.sum() == 4
    assert histogram[11, 11] == 2  # the (0, 0) bucket
    assert histogram[21, 0] == 1  # clipped into the corner
    summary = metrics.distribution_summary(histogram)
    assert summary["largest_bucket"] == 0.5
    assert summary["empty_buckets"] == pytest.approx(1 - 3 / 484)


def test_keras_metrics_match_numpy():
    rng = np.random.default_rng(1)
    truth = rng.uniform(-0.4, 0.4, (2, 6, 6, 2)).astype("float32")
    predicted = (truth + rng.normal(0, 0.05, truth.shape)).astype("float32")
    auc = metrics.AbAuC()
    auc.update_state(truth, predicted)
    expected = np.mean([metrics.auc(p * 128, t * 128) for p, t in zip(predicted, truth)])
    assert float(auc.result()) == pytest.approx(expected, abs=1e-3)
    accuracy = metrics.ThresholdAccuracy()
    accuracy.update_state(truth, predicted)
    assert float(accuracy.result()) == pytest.approx(
        np.mean([metrics.threshold_accuracy(p * 128, t * 128) for p, t in zip(predicted, truth)]), abs=1e-5
    )
    mae = metrics.AbMAE()
    mae.update_state(truth, predicted)
    assert float(mae.result()) == pytest.approx(np.abs(truth - predicted).mean() * 128, rel=1e-4)
    assert metrics.ThresholdAccuracy.from_config(accuracy.get_config()).threshold == 10.0


def test_delta_m_and_log_histogram():
    gray = np.full((4, 4, 3), 0.5)
    red = np.zeros((4, 4, 3))
    red[..., 0] = 1.0
    assert metrics.delta_m(gray, red) == pytest.approx(-metrics.colourfulness(red))
    assert metrics.delta_m(red, red) == 0.0
    histogram = np.zeros((22, 22))
    histogram[11, 11] = np.e - 1
    assert metrics.log_histogram(histogram)[11, 11] == pytest.approx(1.0)
    assert metrics.log_histogram(histogram).sum() == pytest.approx(1.0)


def test_keras_auc_hand_cases():
    truth = np.zeros((1, 4, 4, 2), "float32")
    auc = metrics.AbAuC()
    auc.update_state(truth, truth)
    assert float(auc.result()) == pytest.approx(100.0)
    offset = metrics.AbAuC()
    offset.update_state(truth, truth + np.array([0.0, 20.0 / 128], "float32"))  # distance 20
    assert float(offset.result()) == pytest.approx(131 / 151 * 100, abs=1e-4)
    far = metrics.AbAuC()
    far.update_state(truth, truth + np.array([1.5, 1.5], "float32"))  # beyond 150
    assert float(far.result()) == 0.0
    restored = metrics.AbAuC.from_config(metrics.AbAuC(max_threshold=100).get_config())
    assert restored.max_threshold == 100 and restored.name == "auc"


@pytest.mark.filterwarnings("ignore:Skipping variable loading")
def test_keras_metrics_in_compile_and_save(tmp_path):
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 1), name="l_input")
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam", loss="mae", metrics=[metrics.AbMAE(), metrics.ThresholdAccuracy(), metrics.AbAuC()]
    )
    rng = np.random.default_rng(2)
    l_scaled = rng.uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    ab_scaled = rng.uniform(-0.3, 0.3, (2, 8, 8, 2)).astype("float32")
    logs = model.evaluate(l_scaled, ab_scaled, batch_size=2, verbose=0, return_dict=True)
    assert {"ab_mae", "threshold_accuracy", "auc"} <= set(logs)
    # By hand, in NumPy: the share of pixels within 10 Lab units, and the AuC, per image then averaged.
    from colorize.color import AB_SCALE

    predicted = np.asarray(model.predict(l_scaled, verbose=0))
    distance = np.linalg.norm((predicted - ab_scaled) * AB_SCALE, axis=-1)
    assert logs["threshold_accuracy"] == pytest.approx(np.mean((distance <= 10.0).mean(axis=(1, 2))), abs=1e-5)
    expected_auc = np.mean([metrics.auc(p * AB_SCALE, t * AB_SCALE) for p, t in zip(predicted, ab_scaled)])
    assert logs["auc"] == pytest.approx(expected_auc, abs=1e-3)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    again = restored.evaluate(l_scaled, ab_scaled, batch_size=2, verbose=0, return_dict=True)
    assert again["auc"] == pytest.approx(logs["auc"], abs=1e-4)


def _ab_of_hues(degrees, chroma=30.0):
    """One pixel per hue angle, at the given chroma."""
    radians = np.radians(np.asarray(degrees, np.float64))
    return np.stack([chroma * np.cos(radians), chroma * np.sin(radians)], axis=-1).reshape(1, -1, 2)


def test_hue_entropy_hand_cases():
    assert metrics.hue_entropy(_ab_of_hues([45.0] * 10)) == 0.0  # one hue
    assert metrics.hue_entropy(_ab_of_hues([10.0, 50.0, 10.0, 50.0])) == pytest.approx(1.0)  # bins 0 and 2
    assert metrics.hue_entropy(_ab_of_hues([10.0, 15.0])) == 0.0  # two hues, one bin
    assert metrics.hue_entropy(_ab_of_hues(np.arange(18) * 20.0 + 10.0)) == pytest.approx(np.log2(18))
    shares = np.array([0.5, 0.25, 0.25])  # 1.5 bits
    assert metrics.hue_entropy(_ab_of_hues([100.0, 100.0, 130.0, 350.0])) == pytest.approx(
        -np.sum(shares * np.log2(shares))
    )
    assert metrics.hue_entropy(np.zeros((4, 4, 2))) == 0.0  # gray: no chromatic pixel
    # chroma 10 exactly is neutral: only the strong red pixel counts
    weak = np.array([[[-10.0, 0.0], [0.0, -10.0], [10.5, 0.0]]])
    assert metrics.hue_histogram(weak).tolist() == [1.0] + [0.0] * 17
    assert metrics.hue_angles(_ab_of_hues([-90.0])).tolist() == pytest.approx([270.0])


def test_warm_share_hand_cases():
    # 3 warm (0, 45, 89.9 degrees), 2 cool (90, 270), 1 neutral: 3 / 5
    ab = np.concatenate([_ab_of_hues([0.0, 45.0, 89.9, 90.0, 270.0]), np.zeros((1, 1, 2))], axis=1)
    assert metrics.warm_counts(ab) == (3, 5)
    assert metrics.warm_share(ab) == pytest.approx(0.6)
    assert metrics.warm_share(_ab_of_hues([359.0, 180.0])) == 0.0
    assert metrics.warm_share(np.zeros((2, 2, 2))) == 0.0


def test_hue_tally_pools_pixels_not_images():
    tally = metrics.HueTally()
    tally.add(_ab_of_hues([10.0] * 3))  # warm, bin 0
    tally.add(np.concatenate([_ab_of_hues([190.0]), np.zeros((1, 4, 2))], axis=1))  # cool, bin 9; 4 neutral
    assert tally.histogram[0] == 3 and tally.histogram[9] == 1 and tally.histogram.sum() == 4
    assert tally.warm_share == pytest.approx(0.75)
    assert tally.chromatic_share == pytest.approx(4 / 8)
    assert tally.hue_entropy == pytest.approx(-(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25)))
    empty = metrics.HueTally()
    assert (empty.hue_entropy, empty.warm_share, empty.chromatic_share) == (0.0, 0.0, 0.0)


def test_histogram_intersection_hand_cases():
    ab = np.array([[[0.0, 0.0], [55.0, -35.0]]])
    histogram = metrics.ab_histogram(ab)
    assert metrics.histogram_intersection(histogram, histogram * 7) == pytest.approx(1.0)  # normalized
    shifted = metrics.ab_histogram(ab + 30.0)
    assert metrics.histogram_intersection(histogram, shifted) == 0.0
    half = metrics.ab_histogram(np.array([[[0.0, 0.0], [-50.0, 50.0]]]))
    assert metrics.histogram_intersection(histogram, half) == pytest.approx(0.5)
    assert metrics.histogram_intersection([1.0, 3.0], [3.0, 1.0]) == pytest.approx(0.5)
    assert metrics.histogram_intersection(np.zeros(4), [1, 0, 0, 0]) == 0.0
    with pytest.raises(ValueError, match="different shapes"):
        metrics.histogram_intersection(np.zeros(3), np.zeros(4))
