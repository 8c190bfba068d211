import os
import subprocess
import sys

from click.testing import CliRunner

from colorize import __version__
from colorize.cli import main
from colorize.data.prepare import prepare
from conftest import noise_folder, one_line_error, tiny_train_args


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("prepare", "train", "evaluate", "predict", "colorize"):
        assert name in result.output


def test_help_does_not_import_tensorflow():
    code = (
        "import sys; from click.testing import CliRunner; from colorize.cli import main; "
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
        "print('tensorflow' in sys.modules)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "False"


def test_unknown_command_fails():
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash


def test_tensorflow_start_up_is_quietened_by_its_documented_switch(tmp_path):
    # A fresh process, so TensorFlow is imported (and looks for a GPU driver) inside the command.
    command = [sys.executable, "-m", "colorize", "predict", str(tmp_path / "missing.jpg")]
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert quiet.returncode == 1
    assert "missing.jpg: no such file or folder" in quiet.stderr  # the command's own report survives
    for noise in ("cuda_platform.cc", "cpu_feature_guard.cc"):  # what TF_CPP_MIN_LOG_LEVEL=3 hides
        assert noise not in quiet.stderr, quiet.stderr
    assert not (tmp_path / "missing_colorized.png").exists()


def test_log_level_is_set_only_where_the_user_has_not(monkeypatch):
    from colorize.cli import _common

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    _common.quiet_tensorflow_logs(0)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    _common.quiet_tensorflow_logs(2)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"  # the user's own value wins
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    _common.quiet_tensorflow_logs(2)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"  # -vv: everything


def test_no_import_hooks_and_lazy_submodules():
    # `import colorize` installs nothing in sys.meta_path and imports no Keras; the submodules
    # come on first use (colorize.models registers the custom objects with Keras).
    code = (
        "import sys; before = list(sys.meta_path); import colorize; "
        "assert sys.meta_path == before, sys.meta_path; assert 'keras' not in sys.modules; "
        "registry = colorize.registry; assert 'keras' not in sys.modules; "
        "print(colorize.models.__name__, 'keras' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["colorize.models", "True"], done.stdout + done.stderr


def test_train_and_prepare_messages_say_what_is_wrong(image_folder, tmp_path, caplog):
    result = CliRunner().invoke(main, ["train", "--resume", str(image_folder)])
    assert "is not a run directory (no config.json)" in one_line_error(result)
    half = tmp_path / "half"  # what a killed prepare of an older version left
    half.mkdir()
    (half / "train-00000-of-00001.tfrecord").write_bytes(b"\0" * 16)
    result = CliRunner().invoke(main, tiny_train_args(half, tmp_path / "run"))
    assert "incomplete (interrupted) prepare" in one_line_error(result)
    settings = tmp_path / "s.yaml"
    settings.write_text("image_size: abc\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings)])
    assert "image_size must be a whole number" in one_line_error(result)
    result = CliRunner().invoke(main, ["prepare", str(image_folder), "-o", str(tmp_path / "p"),
                                       "--min-colourfulness", "nan"])  # fmt: skip
    assert "--min-colourfulness" in one_line_error(result, code=2)
    with caplog.at_level("WARNING"):
        prepare([noise_folder(tmp_path / "two", 2)], tmp_path / "p2", image_size=32, workers=1, progress=False)
    assert any("split" in record.getMessage() and "no images" in record.getMessage() for record in caplog.records)
