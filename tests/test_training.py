import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_portrait_like, one_line_error, tiny_train_args
from PIL import Image

from colorize.cli import main
from colorize.train import train
from colorize.train.config import TrainConfig
from colorize.train.rundir import read_history

# One level, no batch norm: few variables, so tracing the train step is quick.
TINY = {"base_filters": 4, "depth": 1, "batch_norm": False}


def _config(data, run_dir, **overrides):
    values = dict(
        data=str(data),
        output_dir=str(run_dir),
        model="unet",
        model_options=dict(TINY),
        image_size=32,
        batch_size=2,
        epochs=2,
        steps_per_epoch=2,
        validation_steps=1,
        num_samples=2,
    )
    values.update(overrides)
    return TrainConfig(**values)


def test_run_writes_every_artefact_and_is_reproducible(image_folder, tmp_path):
    import keras

    run_dir = tmp_path / "run"
    result = train(_config(image_folder, run_dir))
    assert result.epochs_done == 2
    for name in ("config.json", "history.csv", "best.keras", "last.keras", "loss.png", "samples/epoch_002.png"):
        assert (run_dir / name).exists(), name
    assert any((run_dir / "logs").rglob("*tfevents*"))
    model = keras.saving.load_model(run_dir / "best.keras", compile=False)
    assert model.output_shape[-1] == 2
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["model"] == "unet" and saved["image_size"] == 32
    with pytest.raises(Exception, match="--resume"):  # an existing run is never overwritten
        train(_config(image_folder, run_dir, epochs=1))
    # Resuming a finished run trains nothing and touches none of its files.
    before = {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")}
    finished = train(_config(image_folder, run_dir), resume=True)
    assert (finished.epochs_done, finished.best_epoch, finished.already_finished) == (2, result.best_epoch, True)
    assert finished.files["best"] == run_dir / "best.keras"
    assert {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")} == before
    # The same seed and data give the same first-epoch loss.
    again = train(_config(image_folder, tmp_path / "again", epochs=1, num_samples=0))
    first = read_history(run_dir / "history.csv")[0]["loss"]
    assert read_history(again.run_dir / "history.csv")[0]["loss"] == pytest.approx(first, rel=1e-5)


def test_nan_loss_stops_with_epoch_and_batch(image_folder, tmp_path):
    import keras

    from colorize.train import TrainingStopped

    class Poison(keras.callbacks.Callback):  # weights turned NaN at epoch 2, batch 2: a diverged run
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 1 and self.epoch == 1:
                for variable in self.model.trainable_weights:
                    variable.assign(np.full(variable.shape, np.nan, "float32"))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    config = _config(image_folder, tmp_path / "nan", epochs=3, steps_per_epoch=3)
    with pytest.raises(TrainingStopped, match=r"epoch 2, batch 2"):
        train(config, callbacks=[Poison()])
    from colorize.saving import load_model

    load_model(tmp_path / "nan")  # last.keras is epoch 1's finite model: the NaN one was never saved


def test_config_validation():
    with pytest.raises(ValueError, match="strategy"):
        TrainConfig(data="x", strategy="cluster")
    with pytest.raises(ValueError, match="loss"):
        TrainConfig(data="x", loss="huber")
    with pytest.raises(ValueError, match="Unknown configuration keys"):
        TrainConfig.from_dict({"data": "x", "epochz": 3})


def test_cli_config_file_and_flags(image_folder, tmp_path):
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        "model: unet\nimage_size: 32\nbatch_size: 2\nepochs: 3\nsteps_per_epoch: 1\n"
        "validation_steps: 1\nnum_samples: 2\nmodel_options: {base_filters: 4, depth: 1}\n"
    )
    run_dir = tmp_path / "cli_run"
    result = CliRunner().invoke(
        main,
        ["train", str(image_folder), "--config", str(config_file), "--epochs", "1", "-o", str(run_dir), "--mixed-precision"],
    )
    assert result.exit_code == 0, result.output
    assert "Best epoch" in result.output
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["epochs"] == 1 and saved["image_size"] == 32  # the flag overrides the file
    assert saved["mixed_precision"] is True
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"  # set for the run only


def test_cli_bad_input_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["train", str(tmp_path / "missing")])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochz: 3\n")
    result = CliRunner().invoke(main, ["train", str(tmp_path), "--config", str(bad)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.strip().startswith("Error:") and "epochz" in result.output


@pytest.mark.slow  # 19 s: a training process killed and resumed
def test_kill_and_resume(image_folder, tmp_path):
    import keras

    run_dir = tmp_path / "killed"
    command = [
        sys.executable, "-m", "colorize", "train", str(image_folder), "-o", str(run_dir),
        "--model", "unet", "--option", "base_filters=4", "--option", "depth=1", "--image-size", "32", "--batch-size", "2",
        "--epochs", "30", "--steps-per-epoch", "3", "--validation-steps", "1",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not read_history(run_dir / "history.csv"):
            time.sleep(0.1)
        assert read_history(run_dir / "history.csv"), "the first epoch never finished"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    done_before = len(read_history(run_dir / "history.csv"))
    assert done_before < 30
    result = CliRunner().invoke(main, ["train", "--resume", str(run_dir), "--epochs", str(done_before + 1)])
    assert result.exit_code == 0, result.output
    history = read_history(run_dir / "history.csv")
    epochs = [int(row["epoch"]) for row in history]
    assert epochs[-1] == done_before  # 0-based: ended at the requested epoch count
    assert len(set(epochs)) == done_before + 1
    model = keras.saving.load_model(run_dir / "last.keras", compile=False)
    assert np.isfinite(model.predict(np.zeros((1, 32, 32, 1), "float32"), verbose=0)).all()


@pytest.mark.parametrize(
    "model, options",
    [
        pytest.param("classification", {"width": 0.0625}, marks=pytest.mark.slow),  # 11 s; built in test_models_classification
        pytest.param("gan", {"generator": "unet", **TINY, "discriminator_width": 0.125}, marks=pytest.mark.slow),  # 10 s; test_models_gan
    ],
)
def test_other_model_families_train(model, options, image_folder, tmp_path):
    from colorize.data.prepare import prepare
    from colorize.saving import load_model

    data = tmp_path / "prepared"
    prepare([image_folder], data, image_size=32, split=(0.5, 0.5, 0.0))
    schedule = "alternate" if model == "gan" else "both"  # the DigiFace report's GAN swapped the networks every epoch
    result = train(_config(data, tmp_path / model, model=model, model_options=options, epochs=1, gan_schedule=schedule))
    assert result.epochs_done == 1 and (result.run_dir / "samples" / "epoch_001.png").exists()
    inference = load_model(result.run_dir)
    assert inference.output_shape[-1] == 2


@pytest.mark.slow  # 18 s: the fusion model's extractor runs over the data once
def test_cached_embeddings_train_and_save_a_runnable_model(image_folder, tmp_path):
    from colorize.saving import load_model

    config = _config(
        image_folder, tmp_path / "cached", model="fusion", extractor="vggface", extractor_weights="random", cache_embeddings=True,
        model_options={"width": 0.125, "extractor_input_size": 32}, epochs=1, num_samples=1,
    )  # fmt: skip
    result = train(config)
    cache = sorted((image_folder / "embeddings").glob("vggface-*-train-32px-*.npy"))  # beside the data
    assert len(cache) == 1 and np.load(cache[0]).shape[1] == 2622
    model = load_model(result.run_dir)
    assert [tensor.name for tensor in model.inputs] == ["l_input"]  # the extractor runs inside again
    assert model.predict(np.zeros((1, 32, 32, 1), "float32"), verbose=0).shape == (1, 32, 32, 2)
    with pytest.raises(ValueError, match="cache-embeddings"):
        TrainConfig(data="x", model="unet", cache_embeddings=True)


class _InterruptAt(__import__("keras").callbacks.Callback):
    """Raise KeyboardInterrupt (what Ctrl-C does) at a given epoch and batch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_saves_a_checkpoint(image_folder, tmp_path):
    import keras

    from colorize.train import TrainingStopped

    run_dir = tmp_path / "interrupted"
    with pytest.raises(TrainingStopped, match=r"interrupted at epoch 2, batch 2.*--resume") as stopped:
        train(_config(image_folder, run_dir, epochs=3), callbacks=[_InterruptAt(1, 1)])
    assert str(run_dir / "interrupted.keras") in str(stopped.value)
    keras.saving.load_model(run_dir / "interrupted.keras", compile=False)
    assert len(read_history(run_dir / "history.csv")) == 1  # epoch 1 finished and was backed up
    assert (run_dir / "backup").is_dir()


def test_init_weights_fine_tunes_a_saved_model(image_folder, tmp_path):
    import keras

    from colorize.train.compile import build_and_compile
    from colorize.train.datasets import data_sources

    first = train(_config(image_folder, tmp_path / "first", epochs=1, num_samples=0))
    saved = keras.saving.load_model(first.run_dir / "last.keras", compile=False)
    # Built with a different seed, then given the saved weights: identical, layer by layer.
    config = _config(image_folder, tmp_path / "tuned", seed=7, init_weights=str(first.run_dir))
    model = build_and_compile(config, data_sources(config)).model
    for layer in saved.layers:
        for ours, theirs in zip(model.get_layer(layer.name).get_weights(), layer.get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    # A run started from them records the option (so --resume keeps it).
    tuned = train(_config(image_folder, tmp_path / "tuned2", epochs=1, num_samples=0, init_weights=str(first.run_dir)))
    assert json.loads((tuned.run_dir / "config.json").read_text())["init_weights"] == str(first.run_dir)

    # The same layers, wider (base_filters 8 from 4), start widened (colorize.models.widen); another
    # architecture (one level deeper) is refused with a message naming the layer, in one line.
    args = ["train", str(image_folder), "--image-size", "32", "--batch-size", "2", "--epochs", "1",
            "--steps-per-epoch", "1", "--option", "base_filters=8", "--option", "batch_norm=false",
            "--init-weights", str(first.run_dir / "last.keras")]  # fmt: skip
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "wide"), "--option", "depth=1"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "deeper"), "--option", "depth=2"])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert "does not fit this model, nor widens into it" in result.output and "encoder2" in result.output
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "runs" / "unet"),
                                       "--init-weights", str(tmp_path / "none.keras")])  # fmt: skip
    assert result.exit_code != 0 and "not found" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert not (tmp_path / "runs").exists()  # said before any folder is made


def test_several_data_sources_mixed_by_shares(image_folder, tmp_path):
    from conftest import make_portrait_like
    from PIL import Image

    other = tmp_path / "other"
    other.mkdir()
    for index in range(4):
        Image.fromarray(make_portrait_like(48, seed=10 + index)[..., ::-1]).save(other / f"scene_{index}.png")
    result = CliRunner().invoke(
        main,
        ["train", str(image_folder), str(other), "--mix", "0.25,0.75", "-o", str(tmp_path / "run"),
         "--model", "unet_classification", "--option", "base_filters=4", "--option", "depth=2",
         "--option", "batch_norm=false", "--image-size", "32", "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.exception is None
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"] == [str(image_folder), str(other)] and saved["mix"] == [0.25, 0.75]
    assert read_history(tmp_path / "run" / "history.csv")[0]["val_loss"] > 0
    config = TrainConfig(data=[str(image_folder), str(other)], mix=[1, 3])
    assert config.mix_weights == [0.25, 0.75]
    with pytest.raises(ValueError, match="one share per data source"):
        TrainConfig(data=[str(image_folder), str(other)], mix=[1.0])
    with pytest.raises(ValueError, match="finite"):
        TrainConfig(data=[str(image_folder), str(other)], mix=[float("nan"), 1.0])
    bad = CliRunner().invoke(main, ["train", str(image_folder), str(other), "--mix", "a,b", "-o", str(tmp_path / "r2")])
    assert bad.exit_code == 2 and "--mix" in bad.output
    assert isinstance(bad.exception, SystemExit), bad.exception  # an error message, not a crash


def _nan_unet():
    from colorize import models

    model = models.build_model("unet", image_size=32, **TINY)
    for variable in model.weights:
        variable.assign(np.full(variable.shape, np.nan, "float32"))
    return model


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished one-epoch run of a tiny U-Net (trained once for the module)."""
    root = tmp_path_factory.mktemp("run")
    images = root / "images"
    images.mkdir()
    for index in range(6):
        Image.fromarray(make_portrait_like(32, seed=index)).save(images / f"p{index}.png")
    run = root / "b"
    result = CliRunner().invoke(main, tiny_train_args(images, run))
    assert result.exit_code == 0, result.output
    return run


def _snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_train_log_has_one_line_per_epoch_and_resume_refuses_a_nan_backup(image_folder, tmp_path):
    from colorize import models
    from colorize.saving import load_saved_model

    run = tmp_path / "run"
    result = CliRunner().invoke(main, tiny_train_args(image_folder, run))
    assert result.exit_code == 0, result.output
    assert "━" not in result.output and "\r" not in result.output  # row 21: no live progress bar in a log,
    assert sum("val_loss:" in line for line in result.output.splitlines()) == 1  # one line per epoch
    weights = run / "backup" / "latest.weights.h5"
    assert weights.is_file()
    _nan_unet().save_weights(str(weights))  # a diverged run's backup, as older versions kept it
    resumed = CliRunner().invoke(main, ["train", "--resume", str(run), "--epochs", "2"])
    assert "NaN" in one_line_error(resumed)
    assert not models.nonfinite_weights(load_saved_model(run))  # the run's model is still the good one


def test_bad_builder_options_are_one_line_and_leave_no_run_dir(image_folder, tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(main, tiny_train_args(image_folder, run, "--option", "bogus=3"))
    output = one_line_error(result)
    assert "'bogus'" in output and "base_filters" in output  # names it and what is allowed
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(run), "--option", "base_filters=abc"])
    assert "base_filters must be int" in one_line_error(result)
    settings = tmp_path / "s.yaml"
    settings.write_text("model_options: 5\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(run), "--config", str(settings)])
    assert "model_options must be a mapping" in one_line_error(result)
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(run), "--config", str(settings),
                                       "--option", "depth=1"])  # fmt: skip
    assert "model_options must be a mapping" in one_line_error(result)
    assert not run.exists()


def test_an_extractor_needs_weights_or_explicit_random(image_folder, tmp_path, monkeypatch):
    from colorize.errors import WeightsNotFoundError
    from colorize.train import train
    from colorize.train.config import TrainConfig
    from colorize.train.options import extractor_weights_of

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    config = TrainConfig(data=str(image_folder), output_dir=str(tmp_path / "run"), model="fusion", extractor="vggface")
    with pytest.raises(WeightsNotFoundError, match=r"rcmalli_vggface_tf_vgg16\.h5.*keras_home"):
        train(config)
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "run"), "--model", "uvgg"])
    assert "vgg19_weights_tf_dim_ordering_tf_kernels.h5" in one_line_error(result)
    assert not (tmp_path / "run").exists()
    not_hdf5 = tmp_path / "weights.h5"
    not_hdf5.write_text("these are not weights")
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "run"), "--model", "fusion",
                                       "--extractor", "vgg19", "--extractor-weights", str(not_hdf5)])  # fmt: skip
    assert f"{not_hdf5} is not an HDF5" in one_line_error(result)
    random = TrainConfig(data="x", model="fusion", extractor="vggface", extractor_weights="random")
    assert extractor_weights_of(random) is None  # untrained, because asked for


def test_one_line_per_epoch_when_not_a_terminal(monkeypatch):
    import io

    from colorize.train import run as training

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert training.fit_verbosity() == 2


def test_resume_continues_the_folder_it_is_given(tiny_run, tmp_path):
    original = _snapshot(tiny_run)
    copy = tmp_path / "bcopy"
    shutil.copytree(tiny_run, copy)
    result = CliRunner().invoke(main, ["train", "--resume", str(copy), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    assert _snapshot(tiny_run) == original  # the original run is untouched
    assert len((copy / "history.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    assert json.loads((copy / "config.json").read_text())["output_dir"] == str(copy)
    moved = tmp_path / "moved"
    shutil.move(str(copy), moved)  # a moved run: its stored output_dir no longer exists
    result = CliRunner().invoke(main, ["train", "--resume", str(moved), "--epochs", "3"])
    assert result.exit_code == 0, result.output
    assert len((moved / "history.csv").read_text().strip().splitlines()) == 4


def test_resume_refuses_a_config_model_other_than_the_weights(tiny_run, tmp_path):
    copy = tmp_path / "other"
    shutil.copytree(tiny_run, copy)
    settings = json.loads((copy / "config.json").read_text())
    settings["model"] = "unet_classification"
    (copy / "config.json").write_text(json.dumps(settings))
    before = _snapshot(copy)
    result = CliRunner().invoke(main, ["train", "--resume", str(copy), "--epochs", "2"])
    error = one_line_error(result).strip().splitlines()[-1]
    assert "says model 'unet_classification'" in error and "another model ('unet')" in error, error
    assert "nothing was changed" in error and "Traceback" not in result.output
    assert _snapshot(copy) == before  # nothing touched

    settings["model"] = "unet"
    settings["model_options"]["base_filters"] = 8  # the same model, other weight shapes
    (copy / "config.json").write_text(json.dumps(settings))
    before = _snapshot(copy)
    result = CliRunner().invoke(main, ["train", "--resume", str(copy), "--epochs", "2"])
    error = one_line_error(result).strip().splitlines()[-1]
    assert "says model 'unet' with options" in error and "nothing was changed" in error, error
    assert _snapshot(copy) == before  # nothing touched


def test_an_image_size_beyond_memory_is_one_line_before_any_work(image_folder, tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(main, tiny_train_args(image_folder, run, "--image-size", "100000"))
    error = one_line_error(result).strip().splitlines()[-1]
    assert "--image-size 100000 with --batch-size 2 needs at least" in error and "GB is available" in error
    assert not run.exists()
    settings = tmp_path / "s.yaml"
    settings.write_text("image_size: 100000\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings), "-o", str(run)])
    assert "--image-size 100000" in one_line_error(result)


def test_a_scheduled_learning_rate_trains_saves_and_resumes_where_it_was(image_folder, tmp_path):
    import keras

    run_dir = tmp_path / "run"
    config = _config(image_folder, run_dir, epochs=3, lr_schedule="cosine", warmup_steps=2, num_samples=0)
    train(_config(image_folder, run_dir, epochs=2, lr_schedule="cosine", warmup_steps=2, num_samples=0))
    result = train(config, resume=True)
    assert result.epochs_done == 3
    saved = keras.saving.load_model(run_dir / "last.keras")  # the schedule is saved with the optimizer
    optimizer = saved.optimizer
    assert int(optimizer.iterations) == 6  # the resumed epoch went on from step 4
    assert float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)  # cosine at its last step
