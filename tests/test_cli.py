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


def test_start_up_skips_what_tensorflow_imports_for_features_colorize_does_not_use():
    # TensorFlow imports jax (TF Lite's converter) and Keras matplotlib (its plotting helpers)
    # when installed: a second of start-up the CLI does without; both stay importable after.
    code = (
        "import sys; from colorize.cli._common import import_tensorflow_quietly as start; start(); "
        "print('tensorflow' in sys.modules, [name for name in ('jax', 'matplotlib') if name in sys.modules]); "
        "import matplotlib.pyplot; print('later', 'matplotlib' in sys.modules)"
    )
    env = {key: value for key, value in __import__("os").environ.items() if key != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.split("\n")[:2] == ["True []", "later True"], done.stdout + done.stderr


def test_keras_backend_is_read_without_importing_keras(tmp_path, monkeypatch):
    import json

    from colorize.cli import _common

    monkeypatch.delitem(sys.modules, "keras", raising=False)  # as before Keras is imported
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert _common.keras_backend_name() == "tensorflow"  # no keras.json
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax", "floatx": "float32"}))
    assert _common.keras_backend_name() == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert _common.keras_backend_name() == "torch"
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    assert _common.skipped_at_start_up() == ["jax", "matplotlib"]
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert _common.skipped_at_start_up() == ["matplotlib"]  # jax kept for a Keras that runs on it
    finder = _common._SkipImports(["colorize_no_such_package"])
    with __import__("pytest").raises(ModuleNotFoundError, match="while TensorFlow starts"):
        finder.find_spec("colorize_no_such_package.sub")
    assert finder.find_spec("numpy") is None
