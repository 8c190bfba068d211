"""Fault injection: issue 12's hostile-input findings, one test per row, kept fixed.

Each test fails on the code before the fix. Rows 13-17 and 20 (predict folders,
memory) are tested with predict. Nothing here is slower than a short training run.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from colorize.cli import main
from colorize.data import prepare as prepare_lib
from colorize.data.prepare import prepare
from colorize.errors import ColorizeError

REPO = Path(__file__).resolve().parents[1]
TINY = {"base_filters": 4, "depth": 1, "batch_norm": False}


def _noise_folder(folder, count, size=32, start=0):
    """``count`` distinct, colourful noise images (each passes prepare's colour filters)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(start, start + count):
        pixels = np.random.default_rng(index).integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"n{index:04d}.png")
    return folder


def _prepared(tmp_path, count=5, size=32, name="ds"):
    source = _noise_folder(tmp_path / f"src_{name}", count, size=size)
    prepare([source], tmp_path / name, image_size=size, split=(0.6, 0.2, 0.2), workers=1, progress=False)
    return tmp_path / name


def _one_line_error(result, code=1):
    """Exit ``code``, no traceback, one message line naming what is wrong."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    return result.output


def _leftovers(tmp_path, name="ds"):
    return sorted(p.name for p in tmp_path.glob(f".{name}.*"))


def _tiny_train_args(data, run_dir, *extra):
    return ["train", str(data), "-o", str(run_dir), "--image-size", "32", "--batch-size", "2", "--epochs", "1",
            "--steps-per-epoch", "1", "--validation-steps", "1", "--option", "base_filters=4", "--option", "depth=1",
            "--option", "batch_norm=false", *extra]  # fmt: skip


# ----------------------------------------------------------------------------- rows 1, 2, 9: prepare


def test_row1_prepare_refuses_to_replace_a_set_unless_overwrite(tmp_path):
    data = _prepared(tmp_path)
    before = (data / "manifest.json").read_bytes()
    other = _noise_folder(tmp_path / "other", 4, size=48, start=100)
    with pytest.raises(ColorizeError, match="already holds a prepared data set.*--overwrite"):
        prepare([other], data, image_size=48, workers=1, progress=False)
    result = CliRunner().invoke(main, ["prepare", str(other), "-o", str(data), "--size", "48", "-j", "1"])
    assert "--overwrite" in _one_line_error(result)
    assert (data / "manifest.json").read_bytes() == before
    replaced = prepare([other], data, image_size=48, workers=1, progress=False, overwrite=True)
    assert json.loads(replaced.manifest_path.read_text())["image_size"] == 48
    assert sorted(p.name for p in data.glob("*.tfrecord")) == sorted(
        name for names in json.loads(replaced.manifest_path.read_text())["shards"].values() for name in names
    )  # no shard of the old set left among the new ones
    assert _leftovers(tmp_path) == []
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ColorizeError, match="not empty"):  # a folder of other files: never, even with overwrite
        prepare([other], tmp_path / "mine", image_size=48, workers=1, progress=False, overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_row2_sigkill_during_reprepare_leaves_the_old_set_whole(tmp_path):
    from colorize.data.pipeline import make_dataset, read_manifest

    data = _prepared(tmp_path)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    many = _noise_folder(tmp_path / "many", 300, size=32, start=1000)
    command = [sys.executable, "-m", "colorize", "prepare", str(many), "-o", str(data), "--size", "48",
               "--shard-size", "1", "-j", "1", "--overwrite", "--no-progress"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(tmp_path.glob(".ds.tmp-*/*.tfrecord")):  # the new set is being written
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
        stderr = process.communicate()[1].decode(errors="replace")
    assert process.returncode == -signal.SIGKILL, stderr
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before  # the old set, byte for byte
    manifest = read_manifest(data)
    for split, count in manifest["counts"].items():
        if count:
            seen = sum(int(batch[0].shape[0]) for batch in make_dataset(data, split, image_size=32, batch_size=4))
            assert seen == count
    assert _leftovers(tmp_path)  # the killed run's staging folder ...
    prepare([tmp_path / "src_ds"], data, image_size=32, split=(0.6, 0.2, 0.2), workers=1, progress=False,
            overwrite=True)  # fmt: skip
    assert _leftovers(tmp_path) == []  # ... is removed by the next run


def test_row9_disk_full_during_prepare_one_line_old_set_intact(tmp_path, monkeypatch):
    data = _prepared(tmp_path)
    before = {p.name: p.read_bytes() for p in data.iterdir()}

    def full(path, data_bytes):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(prepare_lib, "atomic_write_bytes", full)
    other = _noise_folder(tmp_path / "other", 4, start=200)
    with pytest.raises(ColorizeError, match="disk is full.*old set is unchanged"):
        prepare([other], data, image_size=32, workers=1, progress=False, overwrite=True)
    result = CliRunner().invoke(main, ["prepare", str(other), "-o", str(data), "--size", "32", "-j", "1",
                                       "--overwrite", "--no-progress"])  # fmt: skip
    assert "disk is full" in _one_line_error(result)
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert _leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- row 3: non-finite


def _nan_unet():
    from colorize import models

    model = models.build_model("unet", image_size=32, **TINY)
    for variable in model.weights:
        variable.assign(np.full(variable.shape, np.nan, "float32"))
    return model


def test_row3_bad_learning_rates_refused(image_folder, tmp_path):
    from colorize.config import TrainConfig

    for value in ("nan", "inf", "1e30", "-1"):
        result = CliRunner().invoke(main, _tiny_train_args(image_folder, tmp_path / "r", "--learning-rate", value))
        assert "--learning-rate" in _one_line_error(result, code=2)
    for value in (float("nan"), float("inf"), 1e30, -5, 0, "abc"):
        with pytest.raises(ValueError, match="learning_rate"):
            TrainConfig(data="x", learning_rate=value)
    for value in (0, -0.1, 1.5, float("nan"), "abc"):
        with pytest.raises(ValueError, match="rebalance"):
            TrainConfig(data="x", rebalance=value)
    result = CliRunner().invoke(main, _tiny_train_args(image_folder, tmp_path / "r", "--rebalance", "0"))
    assert "--rebalance" in _one_line_error(result, code=2)
    settings = tmp_path / "s.yaml"
    settings.write_text("learning_rate: -5\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings), "-o", str(tmp_path / "r")])
    assert "learning_rate" in _one_line_error(result)
    assert not (tmp_path / "r").exists()


def test_row3_nan_models_never_written_loaded_or_used(tmp_path):
    import keras

    from colorize.callbacks import NonFiniteWeightsError, save_model
    from colorize.runtime import Runner
    from colorize.saving import ModelLoadError, load_model

    model = _nan_unet()
    with pytest.raises(NonFiniteWeightsError, match="NaN"):
        save_model(model, tmp_path / "run" / "last.keras")
    assert not (tmp_path / "run").exists() and not list(tmp_path.rglob("*.part*"))  # nothing written
    keras.saving.save_model(model, tmp_path / "nan.keras")  # as an older version would have saved it
    with pytest.raises(ModelLoadError, match=r"nan\.keras.*NaN"):
        load_model(tmp_path / "nan.keras")
    with pytest.raises(ColorizeError, match="NaN"):
        Runner.create(model).predict(np.zeros((1, 32, 32, 1), "float32"))


def test_rows3_18_21_train_log_lines_and_nan_backup_refused_on_resume(image_folder, tmp_path):
    from colorize import models
    from colorize.saving import load_saved_model

    run = tmp_path / "run"
    result = CliRunner().invoke(main, _tiny_train_args(image_folder, run))
    assert result.exit_code == 0, result.output
    assert "━" not in result.output and "\r" not in result.output  # row 21: no live progress bar in a log,
    assert sum("val_loss:" in line for line in result.output.splitlines()) == 1  # one line per epoch
    weights = run / "backup" / "latest.weights.h5"
    assert weights.is_file()
    _nan_unet().save_weights(str(weights))  # a diverged run's backup, as older versions kept it
    resumed = CliRunner().invoke(main, ["train", "--resume", str(run), "--epochs", "2"])
    assert "NaN" in _one_line_error(resumed)
    assert not models.nonfinite_weights(load_saved_model(run))  # the run's model is still the good one


# ----------------------------------------------------------------------------- rows 4, 18: run dirs


def test_row4_run_dir_and_data_kept_apart(image_folder, tmp_path, monkeypatch):
    from colorize.data.folders import split_folder
    from colorize.rundir import run_dirs_under

    result = CliRunner().invoke(main, _tiny_train_args(image_folder, image_folder / "run"))
    assert "inside the data folder" in _one_line_error(result)
    assert not (image_folder / "run").exists()
    monkeypatch.chdir(image_folder)
    result = CliRunner().invoke(main, ["train", ".", "--epochs", "1"])  # default -o runs/unet inside '.'
    assert "inside the data folder" in _one_line_error(result)
    assert not (image_folder / "runs").exists()
    old_run = image_folder / "old_run"  # a run left there earlier: never trained on
    (old_run / "samples").mkdir(parents=True)
    (old_run / "config.json").write_text("{}")
    (old_run / "history.csv").write_text("epoch,loss\n0,1.0\n")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(old_run / "loss.png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(old_run / "samples" / "epoch_001.png")
    assert run_dirs_under(image_folder) == [old_run]
    train_files, val_files = split_folder(image_folder, exclude=run_dirs_under(image_folder))
    assert len(train_files) + len(val_files) == 6
    assert not any("old_run" in str(path) for path in train_files + val_files)


def test_row18_failed_train_leaves_no_run_dir(tmp_path):
    one = _noise_folder(tmp_path / "one", 1)
    result = CliRunner().invoke(main, _tiny_train_args(one, tmp_path / "run"))
    assert "at least 2" in _one_line_error(result)
    assert not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------- row 5: file modes


def test_row5_files_get_the_umask_mode(tmp_path):
    from colorize import visualize
    from colorize.callbacks import save_model
    from colorize.data.images import atomic_write_bytes
    from colorize.models import build_model

    previous = os.umask(0o022)
    try:
        written = [
            atomic_write_bytes(tmp_path / "a.json", b"{}"),
            visualize.save_image(tmp_path / "x_colorized.png", np.zeros((8, 8, 3), np.uint8)),
            visualize.plot_curves(tmp_path / "loss.png", {"loss": [1.0, 0.5]}),
            save_model(build_model("unet", image_size=32, **TINY), tmp_path / "last.keras"),
        ]
        data = _prepared(tmp_path)
        written += [p for p in data.iterdir()]
        assert {oct(path.stat().st_mode & 0o777) for path in written} == {"0o644"}
        os.umask(0o077)
        assert oct(atomic_write_bytes(tmp_path / "private.txt", b"x").stat().st_mode & 0o777) == "0o600"
    finally:
        os.umask(previous)
    assert not list(tmp_path.glob(".*part*"))


# ----------------------------------------------------------------------------- rows 6, 7, 19: config


def test_row6_bad_builder_options_one_line_and_no_run_dir(image_folder, tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(main, _tiny_train_args(image_folder, run, "--option", "bogus=3"))
    output = _one_line_error(result)
    assert "'bogus'" in output and "base_filters" in output  # names it and what is allowed
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(run), "--option", "base_filters=abc"])
    assert "base_filters must be int" in _one_line_error(result)
    settings = tmp_path / "s.yaml"
    settings.write_text("model_options: 5\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(run), "--config", str(settings)])
    assert "model_options must be a mapping" in _one_line_error(result)
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(run), "--config", str(settings),
                                       "--option", "depth=1"])  # fmt: skip
    assert "model_options must be a mapping" in _one_line_error(result)
    assert not run.exists()


def test_row7_yaml_syntax_error_names_file_and_line(image_folder, tmp_path):
    settings = tmp_path / "s.yaml"
    settings.write_text("epochs: [1\n  image_size: : 32\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings)])
    output = _one_line_error(result)
    assert "s.yaml" in output and "line" in output


def test_row19_messages(image_folder, tmp_path, caplog):
    result = CliRunner().invoke(main, ["train", "--resume", str(image_folder)])
    assert "is not a run directory (no config.json)" in _one_line_error(result)
    half = tmp_path / "half"  # what a killed prepare of an older version left
    half.mkdir()
    (half / "train-00000-of-00001.tfrecord").write_bytes(b"\0" * 16)
    result = CliRunner().invoke(main, _tiny_train_args(half, tmp_path / "run"))
    assert "incomplete (interrupted) prepare" in _one_line_error(result)
    settings = tmp_path / "s.yaml"
    settings.write_text("image_size: abc\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings)])
    assert "image_size must be a whole number" in _one_line_error(result)
    result = CliRunner().invoke(main, ["prepare", str(image_folder), "-o", str(tmp_path / "p"),
                                       "--min-colourfulness", "nan"])  # fmt: skip
    assert "--min-colourfulness" in _one_line_error(result, code=2)
    with caplog.at_level("WARNING"):
        prepare([_noise_folder(tmp_path / "two", 2)], tmp_path / "p2", image_size=32, workers=1, progress=False)
    assert any("split" in record.getMessage() and "no images" in record.getMessage() for record in caplog.records)


def test_row19_evaluate_on_an_interrupted_prepare_says_so_as_train_does(tmp_path):
    half = tmp_path / "half"  # shards written, killed before the manifest
    half.mkdir()
    (half / "test-00000-of-00001.tfrecord").write_bytes(b"\0" * 16)
    trained = _one_line_error(CliRunner().invoke(main, _tiny_train_args(half, tmp_path / "run")))
    result = CliRunner().invoke(main, ["evaluate", "--baselines", str(half), "-o", str(tmp_path / "report")])
    output = _one_line_error(result)
    assert len(output.strip().splitlines()) == 1 and output.startswith("Error: ")
    assert output.strip()[len("Error: "):] in trained  # the message train gives
    assert "incomplete (interrupted) prepare" in output and "colorize prepare ... --overwrite" in output
    killed = tmp_path / "new"  # a first prepare killed before its staging folder was renamed into place
    staging = tmp_path / ".new.tmp-999999"
    staging.mkdir()
    (staging / "train-00000-of-00001.tfrecord").write_bytes(b"\0" * 16)
    for args in (["--baselines", str(killed)], ["--baselines", str(killed), "--full-resolution"]):
        output = _one_line_error(CliRunner().invoke(main, ["evaluate", *args, "-o", str(tmp_path / "report")]))
        assert "incomplete (interrupted) prepare" in output and ".new.tmp-999999" in output
    assert not (tmp_path / "report").exists()


# ----------------------------------------------------------------------------- rows 8, 12: evaluate


def test_row8_evaluate_image_size_checked_at_the_cli(image_folder, tmp_path):
    result = CliRunner().invoke(main, ["evaluate", "default", str(image_folder), "--image-size", "17",
                                       "-o", str(tmp_path / "rep")])  # fmt: skip
    assert "multiple of 32" in _one_line_error(result, code=2)
    assert not (tmp_path / "rep").exists()


def test_row12_gray_photos_warned_and_report_not_overwritten(tmp_path):
    gray = tmp_path / "gray"
    gray.mkdir()
    for index in range(3):
        ramp = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (32, 1)) // (index + 1)
        Image.fromarray(np.stack([ramp] * 3, axis=-1)).save(gray / f"g{index}.png")
    report = tmp_path / "report"
    args = ["evaluate", str(gray), "--baselines", "--image-size", "32", "-o", str(report)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "no colour truth" in result.stderr
    before = (report / "metrics.json").read_bytes()
    again = CliRunner().invoke(main, args)
    assert "already holds a report" in _one_line_error(again)
    assert (report / "metrics.json").read_bytes() == before
    assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0


# ----------------------------------------------------------------------------- rows 10, 11: weights, models


def test_row10_extractor_needs_weights_or_explicit_random(image_folder, tmp_path, monkeypatch):
    from colorize.errors import WeightsNotFoundError
    from colorize.config import TrainConfig
    from colorize.training import _extractor_weights, train

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    config = TrainConfig(data=str(image_folder), output_dir=str(tmp_path / "run"), model="fusion", extractor="vggface")
    with pytest.raises(WeightsNotFoundError, match=r"rcmalli_vggface_tf_vgg16\.h5.*keras_home"):
        train(config)
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "run"), "--model", "uvgg"])
    assert "vgg19_weights_tf_dim_ordering_tf_kernels.h5" in _one_line_error(result)
    assert not (tmp_path / "run").exists()
    not_hdf5 = tmp_path / "weights.h5"
    not_hdf5.write_text("these are not weights")
    result = CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "run"), "--model", "fusion",
                                       "--extractor", "vgg19", "--extractor-weights", str(not_hdf5)])  # fmt: skip
    assert f"{not_hdf5} is not an HDF5" in _one_line_error(result)
    random = TrainConfig(data="x", model="fusion", extractor="vggface", extractor_weights="random")
    assert _extractor_weights(random) is None  # untrained, because asked for


def test_row11_corrupt_or_text_keras_file(tmp_path):
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
    assert "not a valid .keras file" in _one_line_error(result)


# ----------------------------------------------------------------------------- row 21 (unit)


def test_row21_one_line_per_epoch_when_not_a_terminal(monkeypatch):
    import io

    from colorize import training

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert training._fit_verbosity() == 2
