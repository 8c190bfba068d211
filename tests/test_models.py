"""colorize.models: every builder's shape, range and .keras round trip, build_model's names, mixed precision."""

import keras
import numpy as np
import pytest

from colorize import models


def _round_trip(model, inputs, tmp_path):
    outputs = np.asarray(model(inputs, training=False))
    clone = model.__class__.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(inputs, training=False)), outputs, atol=1e-6)
    return outputs


def _l_batch(size=32, batch=2):
    return np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 1)).astype("float32")


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
        ("unet", {"base_filters": 4}),
        ("uvgg", {"base_filters": 4, "extractor_input_size": 32}),
        ("fusion", {"extractor": "vggface", "width": 0.125, "extractor_input_size": 32}),
        ("fusion", {"extractor": "none", "width": 0.125}),
    ],
)
def test_builder_shape_range_and_round_trip(name, options, tmp_path):
    model = models.build_model(name, image_size=32, **options)
    assert model.output_shape == (None, 32, 32, 2)
    assert model.get_layer("ab_output").dtype_policy.compute_dtype == "float32"
    outputs = _round_trip(model, _l_batch(), tmp_path)
    assert outputs.shape == (2, 32, 32, 2) and np.abs(outputs).max() <= 1.0
    assert models.as_inference_model(model) is model


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match=r"Received: model='nope'") as error:
        models.build_model("nope")
    assert "unet" in str(error.value) and "fusion" in str(error.value)
    with pytest.raises(ValueError, match=r"Received: extractor='resnet'"):
        models.build_model("fusion", image_size=32, extractor="resnet")


def test_builders_run_under_mixed_bfloat16():
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = models.build_model("fusion", image_size=32, extractor="none", width=0.125)
        assert model.get_layer("encoder1_conv").compute_dtype == "bfloat16"
        outputs = model(_l_batch())
        assert "float32" in str(outputs.dtype) and outputs.shape == (2, 32, 32, 2)
        classifier = models.build_model("classification", image_size=32, width=0.0625)
        assert "float32" in str(models.as_inference_model(classifier)(_l_batch()).dtype)
        assert "float32" in str(classifier(_l_batch()).dtype)
    finally:
        keras.mixed_precision.set_global_policy(previous)


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
    _save_load_same(model, x, tmp_path)  # also the config's round trip: loading rebuilds from it


def test_every_custom_layer_loss_and_metric_is_exported():
    """A Keras user finds every custom object in colorize.models (as keras-hub exports its layers)."""
    import colorize

    for name in ("FusionLayer", "ColorizationGAN", "AnnealedMean", "BilinearUpsampling", "ExtractorInput",
                 "SelfAttention2D", "RebalancedCrossEntropy", "ColourWeightedLoss", "L1", "MSE", "AbAuC", "AbMAE", "ThresholdAccuracy"):
        assert name in models.__all__ and getattr(colorize.models, name) is getattr(models, name)
    registered = {cls.__name__ for key, cls in keras.saving.get_custom_objects().items() if key.startswith("colorize>")}
    assert registered <= set(models.__all__), registered - set(models.__all__)
