"""Builders: classification (Zhang et al. 2016), the VGG16 auto-encoder, and the naive CNN, ResNet-50 and GAN."""

import keras
import numpy as np
import pytest

from colorize import losses, models
from colorize.models import classification


def _batch(size=32):
    rng = np.random.default_rng(0)
    return (rng.uniform(-1, 1, (2, size, size, 1)).astype("float32"),
            rng.uniform(-0.3, 0.3, (2, size, size, 2)).astype("float32"))  # fmt: skip


def _save_load_same(model, x, tmp_path):
    path = tmp_path / "m.keras"
    model.save(path)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path)(x)), np.asarray(model(x)), atol=1e-6)


@pytest.mark.parametrize(
    "name, options",
    [
        ("regression", {"width": 0.0625}),
        ("naive_cnn", {"width": 0.125, "dense_units": 8}),
        ("resnet50", {"decoder_width": 0.125}),
        ("vgg16_autoencoder", {"width": 0.125, "extractor_input_size": 32}),
    ],
)
def test_regression_style_builders(name, options, tmp_path):
    x, _ = _batch()
    model = models.build_model(name, image_size=32, **options)
    output = np.asarray(model(x))
    assert output.shape == (2, 32, 32, 2) and np.abs(output).max() <= 1.0
    assert model.__class__.from_config(model.get_config()).count_params() == model.count_params()
    _save_load_same(model, x, tmp_path)


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
    x, ab = _batch()
    model = models.build_model("classification", image_size=32, width=0.0625)
    q = classification.AbQuantizer().num_bins
    assert model.output_shape == (None, 8, 8, q)
    probabilities = np.asarray(model(x))
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-4)
    weights = np.ones(q, "float32")
    loss = losses.RebalancedCrossEntropy(weights=weights)
    value = float(loss(ab, probabilities))
    assert np.isfinite(value) and value > 0
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, ab, epochs=1, verbose=0)
    _save_load_same(model, x, tmp_path)
    inference = models.as_inference_model(model)
    assert inference.output_shape == (None, 32, 32, 2)
    assert inference.layers[-1].name == "ab_output"
    restored = losses.RebalancedCrossEntropy.from_config(loss.get_config())
    assert float(restored(ab, probabilities)) == pytest.approx(value, rel=1e-5)


def _trainable(network):
    return [np.asarray(weight) for weight in network.trainable_weights]


def _changed(before, network):  # trainable weights only: batch-norm statistics move in either turn
    return any(not np.array_equal(old, new) for old, new in zip(before, _trainable(network)))


def test_gan_alternates_trains_saves_and_exposes_its_generator(tmp_path):
    x, ab = _batch()
    gan = models.build_model("gan", image_size=32, generator="unet", base_filters=2, depth=2, discriminator_width=0.0625,
                             alternate_every=1)  # fmt: skip
    gan.compile(alternate=True)
    generator, discriminator = _trainable(gan.generator), _trainable(gan.discriminator)
    gan.fit(x, ab, batch_size=2, epochs=1, verbose=0)  # step 0: the generator's turn
    assert _changed(generator, gan.generator) and not _changed(discriminator, gan.discriminator)
    generator = _trainable(gan.generator)
    history = gan.fit(x, ab, batch_size=2, epochs=1, validation_data=(x, ab), verbose=0)  # step 1: the discriminator's
    assert _changed(discriminator, gan.discriminator) and not _changed(generator, gan.generator)
    assert {"g_loss", "d_loss", "loss", "val_loss"} <= set(history.history)
    assert all(np.isfinite(v) for values in history.history.values() for v in values)
    _save_load_same(gan, x, tmp_path)
    assert models.as_inference_model(gan) is gan.generator
    assert gan.generator.output_shape == (None, 32, 32, 2)
    clone = gan.__class__.from_config(gan.get_config())
    assert clone.l2_weight == 0.1 and clone.alternate_every == 1


def test_gan_without_alternation_updates_both_networks():
    x, ab = _batch()
    gan = models.build_model("gan", image_size=32, generator="unet", base_filters=2, depth=2, discriminator_width=0.0625)
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3), discriminator_optimizer=keras.optimizers.Adam(1e-3))
    generator, discriminator = _trainable(gan.generator), _trainable(gan.discriminator)
    logs = gan.train_on_batch(x, ab, return_dict=True)
    assert _changed(generator, gan.generator) and _changed(discriminator, gan.discriminator)
    assert set(logs) == {"loss", "g_loss", "d_loss"}


def test_discriminator_outputs_a_probability():
    from colorize.models.gan import build_discriminator

    discriminator = build_discriminator(32, width=0.125)
    output = np.asarray(discriminator(np.zeros((2, 32, 32, 3), "float32")))
    assert output.shape == (2, 1) and np.all((output >= 0) & (output <= 1))


def test_annealed_mean_model_takes_a_plain_array_without_warnings():
    import warnings

    from colorize.models import as_inference_model, build_model

    model = as_inference_model(build_model("classification", image_size=32, width=0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when the input structure differs
        ab = model(np.zeros((2, 32, 32, 1), np.float32))
    assert tuple(ab.shape) == (2, 32, 32, 2)


def test_unet_classification_bins_at_half_resolution_and_size_free_inference(tmp_path):
    x, ab = _batch()
    q = classification.AbQuantizer().num_bins
    model = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    assert model.output_shape == (None, 16, 16, q)
    assert model.get_layer("ab_bins").dtype_policy.compute_dtype == "float32"
    full = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, output_level=0)
    assert full.output_shape == (None, 32, 32, q)
    model.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(l1_weight=10.0))
    model.fit(x, ab, epochs=1, verbose=0)
    _save_load_same(model, x, tmp_path)
    inference = models.as_inference_model(model)
    assert inference.output_shape == (None, 32, 32, 2)
    # Built without a size, the decoding still upsamples by the measured stride (2), not a guess.
    free = models.build_model("unet_classification", image_size=None, base_filters=4, depth=2)
    free_inference = models.as_inference_model(free)
    assert tuple(free_inference(np.zeros((1, 48, 64, 1), "float32")).shape) == (1, 48, 64, 2)
    # ... and traces once for any size (predict's shape-relaxed graph), unlike bilinear UpSampling2D.
    import tensorflow as tf

    graph = tf.function(lambda batch: free_inference(batch), input_signature=[tf.TensorSpec((None, None, None, 1))])
    for shape in ((1, 48, 64, 1), (2, 32, 96, 1)):
        probe = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
        np.testing.assert_allclose(np.asarray(graph(probe)), np.asarray(free_inference(probe)), atol=1e-5)
    path = tmp_path / "inference.keras"
    free_inference.save(path)
    assert keras.saving.load_model(path, compile=False).get_layer("ab_output").factor == 2
    with pytest.raises(ValueError, match="output_level"):
        models.build_model("unet_classification", image_size=32, depth=2, output_level=2)
