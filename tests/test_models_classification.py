"""colorize.models.classification (Zhang et al. 2016): bins, soft encoding, annealed mean, rebalancing."""

import numpy as np
import pytest

from colorize import losses, models
from colorize.models import classification
from conftest import random_batch, save_load_same


def test_gamut_bins_are_computed_and_plausible():
    centres = classification.gamut_bins()
    assert 250 <= len(centres) <= 320  # 261 for the sRGB footprint (Zhang et al. report 313)
    assert classification.AbQuantizer().num_bins == len(centres)
    assert np.all(centres % 10 == 0)
    assert [0.0, 0.0] in centres.tolist()
    assert [80.0, 70.0] in centres.tolist()  # pure red is near a*=80, b*=67
    assert [-100.0, -100.0] not in centres.tolist()  # far outside sRGB


def test_soft_encoding():
    quantizer = classification.AbQuantizer()
    centre = quantizer.centres[10]
    encoded = np.asarray(quantizer.soft_encode(np.array([centre, centre + 3.0])))
    np.testing.assert_allclose(encoded.sum(axis=-1), 1.0, atol=1e-5)
    assert np.argmax(encoded[0]) == 10 and (encoded[0] > 0).sum() == 5
    # Gaussian in distance: the two neighbours at distance 10 weigh exp(-100/50) of the centre
    assert sorted(encoded[0])[-2] / encoded[0, 10] == pytest.approx(np.exp(-2.0), rel=1e-4)


def test_annealed_mean_mode_and_mean():
    q = classification.AbQuantizer().num_bins
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(q), size=(1, 1, 1)).astype("float32")
    centres = classification.gamut_bins()
    mean = np.asarray(classification.AnnealedMean(1.0)(probabilities))[0, 0, 0] * 128
    np.testing.assert_allclose(mean, probabilities[0, 0, 0] @ centres, atol=1e-3)
    mode = np.asarray(classification.AnnealedMean(0.01)(probabilities))[0, 0, 0] * 128
    np.testing.assert_allclose(mode, centres[np.argmax(probabilities)], atol=1e-2)
    layer = classification.AnnealedMean.from_config(classification.AnnealedMean(0.38).get_config())
    assert layer.temperature == 0.38


def test_rebalancing_weights():
    edges = np.arange(-110, 111, 10)
    histogram = np.zeros((22, 22))
    histogram[11, 12] = 1000.0  # almost every pixel near a*=5, b*=15 (skin-like)
    histogram[5, 5] = 1.0
    weights = classification.rebalancing_weights(histogram, edges)
    probability = classification.bin_distribution(histogram, edges)
    assert probability.sum() == pytest.approx(1.0)
    assert np.sum(probability * weights) == pytest.approx(1.0, rel=1e-5)  # expectation 1
    common = np.argmax(probability)
    assert weights[common] == weights.min() and weights.max() > 1.5 * weights[common]
    milder = classification.rebalancing_weights(histogram, edges, lambda_=0.9)
    assert 1.0 < milder.max() / milder[common] < weights.max() / weights[common]
    np.testing.assert_allclose(classification.rebalancing_weights(histogram, edges, lambda_=1.0), 1.0, rtol=1e-5)


def test_classification_model_loss_and_inference(tmp_path):
    x, ab = random_batch()
    model = models.build_model("classification", image_size=32, width=0.0625)
    q = classification.AbQuantizer().num_bins
    assert model.output_shape == (None, 8, 8, q)
    probabilities = np.asarray(model(x))
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-4)
    weights = np.ones(q, "float32")
    loss = losses.RebalancedCrossEntropy(weights=weights)
    value = float(loss(ab, probabilities))
    assert np.isfinite(value) and value > 0
    # Eager: one step of a tiny model costs less than tracing its training graph.
    model.compile(optimizer="adam", loss=loss, run_eagerly=True)
    model.fit(x, ab, epochs=1, verbose=0)
    save_load_same(model, x, tmp_path)
    inference = models.as_inference_model(model)
    assert inference.output_shape == (None, 32, 32, 2)
    assert inference.layers[-1].name == "ab_output"
    restored = losses.RebalancedCrossEntropy.from_config(loss.get_config())
    assert float(restored(ab, probabilities)) == pytest.approx(value, rel=1e-5)


def test_annealed_mean_model_takes_a_plain_array_without_warnings():
    import warnings

    from colorize.models import as_inference_model, build_model

    model = as_inference_model(build_model("classification", image_size=32, width=0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when the input structure differs
        ab = model(np.zeros((2, 32, 32, 1), np.float32))
    assert tuple(ab.shape) == (2, 32, 32, 2)
