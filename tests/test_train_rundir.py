"""colorize.train.rundir: a run directory kept apart from its data, removed when a run fails before its first epoch."""

import numpy as np
from click.testing import CliRunner
from PIL import Image

from colorize.cli import main
from conftest import noise_folder, one_line_error, tiny_train_args


def test_run_dir_and_data_are_kept_apart(image_folder, tmp_path, monkeypatch):
    from colorize.data.folders import split_folder
    from colorize.train.rundir import run_dirs_under

    result = CliRunner().invoke(main, tiny_train_args(image_folder, image_folder / "run"))
    assert "inside the data folder" in one_line_error(result)
    assert not (image_folder / "run").exists()
    monkeypatch.chdir(image_folder)
    result = CliRunner().invoke(main, ["train", ".", "--epochs", "1"])  # default -o runs/unet inside '.'
    assert "inside the data folder" in one_line_error(result)
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


def test_a_failed_train_leaves_no_run_dir(tmp_path):
    one = noise_folder(tmp_path / "one", 1)
    result = CliRunner().invoke(main, tiny_train_args(one, tmp_path / "run"))
    assert "at least 2" in one_line_error(result)
    assert not (tmp_path / "run").exists()
