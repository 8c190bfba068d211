import keras
import numpy as np
import pytest
from click.testing import CliRunner

from colorize import models, saving
from colorize.cli import main


def test_export_bfloat16_classification_model_to_float32_with_temperature(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        trained = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert trained.get_layer("encoder1_conv1").dtype_policy.name == "mixed_bfloat16"
    trained.save(tmp_path / "best.keras")
    result = CliRunner().invoke(main, ["export", str(tmp_path / "best.keras"), "-o", str(tmp_path / "out.keras"),
                                       "--temperature", "0.2"])  # fmt: skip
    assert result.exception is None and result.exit_code == 0, result.output
    exported = keras.saving.load_model(tmp_path / "out.keras", compile=False)
    assert {layer.dtype_policy.name for layer in exported.layers} == {"float32"}
    assert exported.get_layer("annealed_mean").temperature == pytest.approx(0.2)
    assert exported.output_shape == (None, 32, 32, 2)
    # predict runs it as it is (not decoded twice), and the weights are the trained ones.
    loaded = saving.load_model(tmp_path / "out.keras")
    assert loaded.output_shape == (None, 32, 32, 2)
    np.testing.assert_allclose(
        np.asarray(exported.get_layer("bins_logits").kernel), np.asarray(trained.get_layer("bins_logits").kernel)
    )
    x = np.linspace(-1, 1, 32 * 32, dtype="float32").reshape(1, 32, 32, 1)
    reference = models.classification.with_annealed_mean(saving.float32_copy(trained), 0.2)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(reference(x)), atol=1e-5)
    again = CliRunner().invoke(main, ["export", str(tmp_path / "best.keras"), "-o", str(tmp_path / "out.keras")])
    assert again.exit_code == 1 and "--overwrite" in again.output
    assert isinstance(again.exception, SystemExit), again.exception  # an error message, not a crash
    bad = CliRunner().invoke(main, ["export", str(tmp_path / "best.keras"), "-o", str(tmp_path / "x.keras"),
                                    "--temperature", "0"])  # fmt: skip
    assert bad.exit_code == 2 and "--temperature" in bad.output
    assert isinstance(bad.exception, SystemExit), bad.exception  # an error message, not a crash



def test_exporting_an_exported_model_decodes_again_at_the_new_temperature(tmp_path):
    trained = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    trained.save(tmp_path / "best.keras")
    saving.export_model(tmp_path / "best.keras", tmp_path / "cold.keras", temperature=0.2)
    saving.export_model(tmp_path / "cold.keras", tmp_path / "warm.keras", temperature=1.0)
    warm = keras.saving.load_model(tmp_path / "warm.keras", compile=False)
    assert warm.get_layer("annealed_mean").temperature == pytest.approx(1.0)
    assert warm.output_shape == (None, 32, 32, 2)
    x = np.linspace(-1, 1, 32 * 32, dtype="float32").reshape(1, 32, 32, 1)
    reference = models.classification.with_annealed_mean(trained, 1.0)
    np.testing.assert_allclose(np.asarray(warm(x)), np.asarray(reference(x)), atol=1e-5)

def test_export_of_a_bfloat16_gan_gives_its_float32_generator(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = models.build_model("gan", image_size=32, generator="unet", base_filters=2, depth=2,
                                 discriminator_width=0.0625)  # fmt: skip
        gan.compile()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    gan.save(tmp_path / "gan.keras")
    saving.export_model(tmp_path / "gan.keras", tmp_path / "generator.keras")
    exported = keras.saving.load_model(tmp_path / "generator.keras", compile=False)
    assert exported.output_shape == (None, 32, 32, 2)
    assert {layer.dtype_policy.name for layer in exported.layers} == {"float32"}


def test_rebalancing_prior_moves_the_decoding_between_weightings():
    from colorize.models import classification

    edges = np.arange(-110, 111, 10)
    histogram = np.ones((22, 22))
    histogram[11, 12] = 1000.0  # a common skin-like colour
    assert np.allclose(classification.rebalancing_prior(histogram, edges, 0.5, trained=0.5), 0.0)
    prior = classification.rebalancing_prior(histogram, edges, 0.5, trained=1.0)  # towards rarer colours
    probability = classification.bin_distribution(histogram, edges)
    assert prior[np.argmax(probability)] == prior.min() and prior.max() > prior.min() + 1.0
    # the layer adds the prior to log p before the temperature: equal to decoding p * exp(prior)
    q = classification.AbQuantizer().num_bins
    p = np.random.default_rng(0).dirichlet(np.ones(q), size=(1, 2, 3)).astype("float32")
    layer = classification.AnnealedMean(0.5, log_prior=prior)
    shifted = p * np.exp(prior)
    expected = classification.annealed_mean(shifted / shifted.sum(-1, keepdims=True), layer.centres, 0.5)
    np.testing.assert_allclose(np.asarray(layer(p)), np.asarray(expected), atol=1e-5)
    again = classification.AnnealedMean.from_config(layer.get_config())
    np.testing.assert_allclose(again.log_prior, prior, atol=1e-6)
    with pytest.raises(ValueError, match="one value per bin"):
        classification.AnnealedMean(0.5, log_prior=[0.0, 1.0])


def test_export_rebalance_from_a_run_directory(image_folder, tmp_path):
    from colorize import training

    run = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "train", str(image_folder), "-o", str(run), "--model", "unet_classification", "--image-size", "32",
        "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "1", "--validation-steps", "1",
        "--option", "base_filters=4", "--option", "depth=2", "--rebalance", "0.9"])  # fmt: skip
    assert result.exception is None and result.exit_code == 0, result.output
    vivid = tmp_path / "vivid.keras"
    result = CliRunner().invoke(main, ["export", str(run), "-o", str(vivid), "--temperature", "0.3", "--rebalance", "0.5"])
    assert result.exception is None and result.exit_code == 0, result.output
    decoding = keras.saving.load_model(vivid, compile=False).get_layer("annealed_mean")
    assert decoding.temperature == pytest.approx(0.3)
    np.testing.assert_allclose(decoding.log_prior, training.rebalancing_prior(run, 0.5), atol=1e-6)
    assert np.ptp(decoding.log_prior) > 0.1  # 0.9 -> 0.5 is a real shift
    # re-exported at another temperature, the file keeps its prior
    saving.export_model(vivid, tmp_path / "warm.keras", temperature=0.6)
    warm = keras.saving.load_model(tmp_path / "warm.keras", compile=False).get_layer("annealed_mean")
    assert warm.temperature == pytest.approx(0.6) and warm.log_prior == pytest.approx(decoding.log_prior)
    # a .keras file has no data to read the colour distribution from: one line, exit 1
    result = CliRunner().invoke(main, ["export", str(vivid), "-o", str(tmp_path / "x.keras"), "--rebalance", "0.5"])
    assert result.exit_code == 1 and "not a training run directory" in result.output, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
