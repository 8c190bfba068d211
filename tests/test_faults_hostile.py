"""Fault injection: issue 26's hostile-user findings ("safe to leave running"), one test per row.

Each test fails on the code before the fix. The server rows run through Starlette's
test client (and one real uvicorn server on a loopback port for the header timeout).
"""

import json
import shutil

import pytest
from click.testing import CliRunner
from PIL import Image

from colorize.cli import main
from conftest import make_portrait_like
from test_faults import _one_line_error, _tiny_train_args


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished one-epoch run of a tiny U-Net (trained once for the module)."""
    root = tmp_path_factory.mktemp("run")
    images = root / "images"
    images.mkdir()
    for index in range(6):
        Image.fromarray(make_portrait_like(32, seed=index)).save(images / f"p{index}.png")
    run = root / "b"
    result = CliRunner().invoke(main, _tiny_train_args(images, run))
    assert result.exit_code == 0, result.output
    return run


def _snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# ----------------------------------------------------------------------------- rows 1, 2: --resume


def test_row1_resume_continues_the_folder_it_is_given(tiny_run, tmp_path):
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


def test_row2_resume_refuses_a_config_model_other_than_the_weights(tiny_run, tmp_path):
    copy = tmp_path / "other"
    shutil.copytree(tiny_run, copy)
    settings = json.loads((copy / "config.json").read_text())
    settings["model"] = "unet_classification"
    (copy / "config.json").write_text(json.dumps(settings))
    before = _snapshot(copy)
    result = CliRunner().invoke(main, ["train", "--resume", str(copy), "--epochs", "2"])
    error = _one_line_error(result).strip().splitlines()[-1]
    assert "says model 'unet_classification'" in error and "of model 'unet'" in error, error
    assert "nothing was changed" in error and "Traceback" not in result.output
    assert _snapshot(copy) == before  # nothing touched


# ----------------------------------------------------------------------------- rows 3, 17: config values


@pytest.mark.parametrize("key", ["augment", "mixed_precision", "jit", "cache_embeddings"])
@pytest.mark.parametrize("value", ["no", "false", 1])
def test_row3_yaml_booleans_are_type_checked(key, value):
    from colorize.config import TrainConfig

    with pytest.raises(ValueError, match=f"{key} must be true or false. Received: {key}={value!r}"):
        TrainConfig.from_dict({"data": "x", key: value})


def test_row3_a_quoted_no_in_yaml_is_a_one_line_error(image_folder, tmp_path):
    settings = tmp_path / "s.yaml"
    settings.write_text('augment: "no"\n')
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings), "-o", str(tmp_path / "r")])
    assert "augment must be true or false" in _one_line_error(result)
    assert not (tmp_path / "r").exists()


def test_row17_seed_bound_says_zero():
    from colorize.config import TrainConfig

    assert TrainConfig(data="x", seed=0).seed == 0
    with pytest.raises(ValueError, match=r"seed must be at least 0\. Received: seed=-5"):
        TrainConfig(data="x", seed=-5)


# ----------------------------------------------------------------------------- rows 7, 16: loading models


def test_row7_a_zip_bomb_keras_file_is_refused_before_reading(tmp_path, monkeypatch):
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
    assert "would unpack" in _one_line_error(result)


def test_row16_a_safe_mode_refusal_gives_the_whole_reason(tmp_path):
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
