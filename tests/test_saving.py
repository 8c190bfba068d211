import keras
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_portrait_like, one_line_error
from PIL import Image

from colorize import models, saving
from colorize.cli import main
from colorize.errors import ColorizeError


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


def test_an_exported_keras_file_is_deflated_and_loads_the_same_weights(tmp_path):
    import zipfile

    trained = models.build_model("unet", image_size=32, base_filters=4, depth=2)
    trained.save(tmp_path / "best.keras")  # Keras stores its members as they are
    saving.export_model(tmp_path / "best.keras", tmp_path / "shipped.keras")
    with zipfile.ZipFile(tmp_path / "shipped.keras") as archive:
        assert {member.compress_type for member in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside it
    shipped = saving.load_model(tmp_path / "shipped.keras")
    for ours, theirs in zip(shipped.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(ours, theirs)

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
    from colorize import train as training

    run = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "train", str(image_folder), "-o", str(run), "--model", "unet_classification", "--image-size", "32",
        "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "1", "--validation-steps", "1",
        "--option", "base_filters=4", "--option", "depth=2", "--option", "batch_norm=false", "--rebalance", "0.9"])  # fmt: skip
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
    assert result.exit_code == 1 and "not a training run directory (one holds config.json and history.csv)" in result.output, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


def _nan_unet():
    from colorize import models

    model = models.build_model("unet", image_size=32, **TINY)
    for variable in model.weights:
        variable.assign(np.full(variable.shape, np.nan, "float32"))
    return model


TINY = {"base_filters": 4, "depth": 1, "batch_norm": False}


def test_nan_models_are_never_written_loaded_or_used(tmp_path):
    import keras

    from colorize.infer.runtime import Runner
    from colorize.saving import (
        ModelLoadError,
        NonFiniteWeightsError,
        load_model,
        save_model,
    )

    model = _nan_unet()
    with pytest.raises(NonFiniteWeightsError, match="NaN"):
        save_model(model, tmp_path / "run" / "last.keras")
    assert not (tmp_path / "run").exists() and not list(tmp_path.rglob("*.part*"))  # nothing written
    keras.saving.save_model(model, tmp_path / "nan.keras")  # as an older version would have saved it
    with pytest.raises(ModelLoadError, match=r"nan\.keras.*NaN"):
        load_model(tmp_path / "nan.keras")
    with pytest.raises(ColorizeError, match="NaN"):
        Runner.create(model).predict(np.zeros((1, 32, 32, 1), "float32"))


def test_a_corrupt_or_text_keras_file_is_one_line(tmp_path):
    from colorize.saving import ModelLoadError, default_model_path, load_model

    truncated = tmp_path / "bad.keras"
    truncated.write_bytes(default_model_path().read_bytes()[:300_000])
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    for path in (truncated, text):
        with pytest.raises(ModelLoadError, match=f"not a valid .keras file: {path}"):
            load_model(path)
    photo = tmp_path / "a.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(photo)
    result = CliRunner().invoke(main, ["predict", str(photo), "--model", str(truncated)])
    assert "not a valid .keras file" in one_line_error(result)


def test_a_zip_bomb_keras_file_is_refused_before_reading(tmp_path, monkeypatch):
    import zipfile

    import keras

    from colorize.saving import ModelLoadError, load_saved_model

    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", b" " * (17 * 2**20))  # inflates 1000 times
        archive.writestr("model.weights.h5", b"")
    assert bomb.stat().st_size < 100_000

    def never(*args, **kwargs):
        raise AssertionError("the archive was read")

    monkeypatch.setattr(keras.saving, "load_model", never)
    with pytest.raises(ModelLoadError, match="config.json would unpack to 18 MB"):
        load_saved_model(bomb)
    photo = tmp_path / "photos" / "p.png"
    photo.parent.mkdir()
    Image.fromarray(make_portrait_like(32)).save(photo)
    result = CliRunner().invoke(main, ["predict", str(photo), "--model", str(bomb)])
    assert "would unpack" in one_line_error(result)


def test_a_safe_mode_refusal_gives_the_whole_reason(tmp_path):
    import keras

    from colorize.saving import ModelLoadError, load_saved_model

    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "lambda.keras")

    with pytest.raises(ModelLoadError) as caught:
        load_saved_model(tmp_path / "lambda.keras")

    message = str(caught.value)
    assert "\n" not in message and "safe_mode=False" in message
    assert message.rstrip().endswith("loading.") or message.rstrip().endswith("."), message
    assert "thus it is )" not in message


def test_export_average_mixes_copies_of_one_network_weight_by_weight(tmp_path):
    first = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    second = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    other = models.build_model("unet_classification", image_size=32, base_filters=6, depth=2)
    for model, name in ((first, "a"), (second, "b"), (other, "wide")):
        model.save(tmp_path / f"{name}.keras")
    kernels = [np.asarray(m.get_layer("bins_logits").kernel) for m in (first, second)]
    assert not np.allclose(*kernels)  # two initializations: the mean is a new network
    out = tmp_path / "mean.keras"
    result = CliRunner().invoke(main, ["export", str(tmp_path / "a.keras"), "-o", str(out),
                                       "--average", str(tmp_path / "b.keras"), "0.25"])  # fmt: skip
    assert result.exception is None and result.exit_code == 0, result.output
    mixed = keras.saving.load_model(out, compile=False)
    np.testing.assert_allclose(np.asarray(mixed.get_layer("bins_logits").kernel), 0.75 * kernels[0] + 0.25 * kernels[1],
                               atol=1e-6)  # fmt: skip
    for args, message in (([str(tmp_path / "wide.keras"), "0.5"], "is not the same network"),
                          ([str(tmp_path / "b.keras"), "0.6", "--average", str(tmp_path / "b.keras"), "0.5"],
                           "all together below 1")):  # fmt: skip
        bad = CliRunner().invoke(main, ["export", str(tmp_path / "a.keras"), "-o", str(tmp_path / "x.keras"),
                                        "--average", *args])  # fmt: skip
        assert message in one_line_error(bad), bad.output
        assert not (tmp_path / "x.keras").exists()
