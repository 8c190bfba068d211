import subprocess
import sys

from click.testing import CliRunner

from colorize import __version__
from colorize.cli import main


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


def test_tensorflow_startup_chatter_is_filtered(tmp_path):
    # A fresh process, so TensorFlow is imported (and looks for a GPU driver) inside the command.
    command = [sys.executable, "-m", "colorize", "predict", str(tmp_path / "missing.jpg")]
    quiet = subprocess.run(command, capture_output=True, text=True)
    assert quiet.returncode == 1
    assert "missing.jpg: no such file or folder" in quiet.stderr  # the command's own report survives
    for noise in ("absl::InitializeLog", "cudart_stub.cc", "cuda_platform.cc", "cpu_feature_guard.cc"):
        assert noise not in quiet.stderr, quiet.stderr
    assert not (tmp_path / "missing_colorized.png").exists()
