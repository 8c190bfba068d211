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
