"""`colorize predict` / `colorize colorize` in-process: outputs, failures, exit codes."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_portrait_like, one_line_error, tiny_train_args
from PIL import Image

from colorize import infer, saving
from colorize.cli import main
from colorize.infer import lightness, runtime


def _digests(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_folder_with_a_corrupt_file_writes_the_others_and_names_it(tmp_path, model_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(np.full((40, 60), 100, np.uint8)).save(folder / "a.jpg")
    Image.fromarray(np.full((50, 30, 3), 90, np.uint8)).save(folder / "sub" / "b.png")
    (folder / "broken.jpg").write_bytes(b"not really a jpeg")
    before = _digests(folder)
    out = tmp_path / "out"
    result = _invoke("predict", folder, "-o", out, "--model", model_path, "--compare", "--batch-size", 1)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert "broken.jpg" in result.output and "Failed (1)" in result.output
    assert Image.open(out / "a_colorized.png").size == (60, 40)
    assert Image.open(out / "sub" / "b_colorized.png").size == (30, 50)
    assert (out / "a_compare.png").exists() and (out / "sub" / "b_compare.png").exists()
    assert not (out / "broken_colorized.png").exists()
    assert _digests(folder) == before  # inputs byte-for-byte unchanged, nothing added beside them


def test_existing_outputs_are_kept_unless_overwrite(tmp_path, model_path):
    source = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 32), 80, np.uint8)).save(source)
    args = ["colorize", source, "--model", model_path]  # the alias of predict
    assert _invoke(*args).exit_code == 0
    target = tmp_path / "photo_colorized.png"
    target.write_bytes(b"mine")
    result = _invoke(*args)
    assert result.exit_code == 0 and "Kept 1 existing" in result.output
    assert target.read_bytes() == b"mine"
    assert _invoke(*args, "--overwrite").exit_code == 0
    assert Image.open(target).size == (32, 32)


def test_single_file_to_a_named_output_and_never_onto_the_input(tmp_path, model_path):
    source = tmp_path / "x.jpg"
    Image.fromarray(np.full((24, 36), 120, np.uint8)).save(source)
    before = _digests(tmp_path)
    named = tmp_path / "out" / "colour.png"
    assert _invoke("predict", source, "-o", named, "--model", model_path, "--render-size", 64).exit_code == 0
    assert Image.open(named).size == (36, 24)
    result = _invoke("predict", source, "-o", source, "--model", model_path, "--overwrite")
    assert result.exit_code == 1 and "replace the input" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert {p: d for p, d in _digests(tmp_path).items() if p.parent == tmp_path} == before


@pytest.mark.parametrize("content", [None, b"garbage, not a zip"])
def test_missing_or_corrupt_model_is_a_one_line_error(tmp_path, content):
    model_path = tmp_path / "m.keras"
    if content is not None:
        model_path.write_bytes(content)
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    result = _invoke("predict", image, "--model", model_path)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    assert "m.keras" in result.output
    assert not (tmp_path / "x_colorized.png").exists()


def test_no_images_found_and_help(tmp_path, model_path):
    (tmp_path / "empty").mkdir()
    result = _invoke("predict", tmp_path / "empty", "--model", model_path)
    assert result.exit_code == 1 and "no image files found" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    two = [tmp_path / "a.png", tmp_path / "b.png"]
    for path in two:
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)
    result = _invoke("predict", *two, "-o", tmp_path / "out.png", "--model", model_path)
    assert result.exit_code == 1 and "is a file name" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    help_text = _invoke("predict", "--help").output
    assert "--render-size" in help_text and "Exit status" in help_text


def test_astronaut_example_writes_its_three_images(tmp_path, model_path, capsys):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "colorize_astronaut.py"
    spec = importlib.util.spec_from_file_location("colorize_astronaut", script)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.main(["--model", str(model_path), "-o", str(tmp_path / "out"), "--render-size", "64"]) == 0
    printed = capsys.readouterr().out
    for name in ("astronaut_gray.png", "astronaut_colorized.png", "astronaut_compare.png"):
        assert (tmp_path / "out" / name).exists() and str(tmp_path / "out" / name) in printed
    assert Image.open(tmp_path / "out" / "astronaut_colorized.png").size == (512, 512)
    assert Image.open(tmp_path / "out" / "astronaut_compare.png").size == (3 * 512 + 16, 512)


def test_vivid_and_presets_change_the_colours_of_the_bundled_model(tmp_path):
    from skimage import data

    Image.fromarray(data.camera()[::4, ::4]).save(tmp_path / "camera.png")
    outputs = {}
    for name, args in {"calm": ["--vivid", "0"], "strong": ["--vivid", "1"], "natural": ["--model", "natural"],
                       "natural_strong": ["--model", "natural", "--vivid", "1"]}.items():  # fmt: skip
        result = _invoke("predict", tmp_path / "camera.png", "-o", tmp_path / f"{name}.png", *args)
        assert result.exit_code == 0, result.output
        rgb = np.asarray(Image.open(tmp_path / f"{name}.png"), np.float32)
        outputs[name] = float(np.abs(rgb - rgb.mean(axis=-1, keepdims=True)).mean())  # distance from gray
    assert outputs["calm"] < outputs["natural"] < outputs["strong"]
    assert outputs["natural_strong"] == pytest.approx(outputs["strong"])  # --vivid overrides the preset's


def test_vivid_is_refused_out_of_range_and_for_a_model_without_a_prior(tmp_path, model_path):
    Image.fromarray(np.full((32, 32), 128, np.uint8)).save(tmp_path / "gray.png")
    result = _invoke("predict", tmp_path / "gray.png", "--vivid", "1.5")
    assert result.exit_code == 2 and "0.0<=x<=1.0" in result.output
    result = _invoke("predict", tmp_path / "gray.png", "--model", model_path, "--vivid", "0.3")
    assert result.exit_code == 1
    assert "no colour-strength control" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "gray_colorized.png").exists()


def test_models_lists_the_presets_and_the_families():
    from colorize import registry

    result = _invoke("models")
    assert result.exit_code == 0
    for name in [*registry.PRESETS, *registry.MODELS]:
        assert f"  {name} " in result.output


def _failing_write(errno_code, filename=None):
    import os

    def fail(*args, **kwargs):
        raise OSError(errno_code, os.strerror(errno_code), *([str(filename)] if filename else []))

    return fail


def _gray(path, height=24, width=32, value=100):
    Image.fromarray(np.full((height, width), value, np.uint8)).save(path)
    return path


def test_a_read_only_or_full_output_names_the_flag_and_folder(unet_path, image_folder, tmp_path, monkeypatch):
    import errno

    import keras

    from colorize import evaluate
    from colorize.train import rundir

    out = tmp_path / "ro"
    monkeypatch.setattr(keras.Model, "save", _failing_write(errno.EROFS, out / ".e.tmp-30075.keras"))
    result = CliRunner().invoke(main, ["export", str(unet_path), "-o", str(out / "e.keras")])
    error = one_line_error(result)
    assert f"cannot write to {out} (a read-only file system); pass -o" in error and ".tmp" not in error
    monkeypatch.undo()

    monkeypatch.setattr(rundir, "write_config", _failing_write(errno.ENOSPC))
    run = tmp_path / "run"
    result = CliRunner().invoke(main, tiny_train_args(image_folder, run))
    assert f"cannot write to {run} (no space left on the device); pass -o" in one_line_error(result)

    monkeypatch.setattr(evaluate, "write_report", _failing_write(errno.EROFS, tmp_path / "report" / "metrics.json"))
    result = CliRunner().invoke(main, ["evaluate", "--baselines", str(image_folder), "-o", str(tmp_path / "report"),
                                       "--image-size", "32", "--limit", "2"])  # fmt: skip
    assert f"cannot write to {tmp_path / 'report'} (a read-only file system); pass -o" in one_line_error(result)


def test_predict_says_why_it_skipped_a_compare_or_a_folder_output(unet_path, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_portrait_like(32)).save(photo)
    arguments = ["predict", str(photo), "--model", str(unet_path)]
    assert CliRunner().invoke(main, arguments).exit_code == 0
    again = CliRunner().invoke(main, [*arguments, "--compare"])
    assert again.exit_code == 0, again.output
    assert "No side-by-side image for the kept output(s)" in again.output and "--overwrite" in again.output

    folder_photo = tmp_path / "other.png"
    Image.fromarray(make_portrait_like(32)).save(folder_photo)
    (tmp_path / "other_colorized.png").mkdir()  # the output's name is taken by a folder
    result = CliRunner().invoke(main, ["predict", str(folder_photo), "--model", str(unet_path)])
    assert result.exit_code == 1
    assert "is a folder, not a file" in result.output and "Kept" not in result.output


def test_non_images_are_passed_over_and_first_frames_are_named(tmp_path, model_path):
    folder = tmp_path / "f"
    folder.mkdir()
    _gray(folder / "a.png")
    (folder / "notes.txt").write_text("grandma, 1952")
    frames = [Image.fromarray(np.full((20, 30), v, np.uint8)) for v in (60, 200)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(folder / "pages.tif", save_all=True, append_images=frames[1:])
    result = _invoke("predict", folder, "--model", model_path)
    assert result.exit_code == 0, result.output
    assert "notes.txt" in result.output and "Passed over 1" in result.output
    assert "Colorized 3 image(s)" in result.output and "0 failed" in result.output
    assert Image.open(folder / "anim_colorized.png").size == (30, 20)
    assert f"{folder / 'anim.gif'}: used the first of its 2 frames" in result.output
    assert f"{folder / 'pages.tif'}: used the first of its 2 frames" in result.output


def test_a_rerun_never_colorizes_its_own_outputs(tmp_path, model_path):
    folder = tmp_path / "f"
    folder.mkdir()
    _gray(folder / "x.jpg")
    assert _invoke("predict", folder, "--model", model_path, "--compare").exit_code == 0
    (folder / ".x_colorized.png.k3j2x.part.png").write_bytes(b"half")  # left by a killed run
    before = sorted(p.name for p in folder.iterdir())
    assert before == [".x_colorized.png.k3j2x.part.png", "x.jpg", "x_colorized.png", "x_compare.png"]
    result = _invoke("predict", folder, "--model", model_path)  # without --compare this time
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == before
    assert "Colorized 0 image(s), kept 1 existing" in result.output
    assert "x_compare.png: an earlier output of colorize" in result.output
    assert "part.png: a partial file an interrupted write left" in result.output
    # Named explicitly, an output is an input like any other.
    named = _invoke("predict", folder / "x_compare.png", "--model", model_path)
    assert named.exit_code == 0 and (folder / "x_compare_colorized.png").exists()


def test_one_file_named_relative_and_absolute_is_one_input(tmp_path, model_path, monkeypatch):
    _gray(tmp_path / "b.jpg")
    monkeypatch.chdir(tmp_path)
    result = _invoke("predict", "b.jpg", tmp_path / "b.jpg", "--model", model_path)
    assert result.exit_code == 0, result.output
    assert "Colorized 1 image(s)" in result.output and "0 failed" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.jpg", "b_colorized.png"]


@pytest.mark.parametrize("kind", ["existing file", "below a file", "read-only folder"])
def test_an_unwritable_output_fails_before_any_photo_is_decoded(tmp_path, model_path, monkeypatch, kind):
    folder = tmp_path / "f"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        _gray(folder / name)
    blocker = tmp_path / "out.txt"
    blocker.write_text("mine")
    output = {"existing file": blocker, "below a file": blocker / "sub", "read-only folder": tmp_path / "ro"}[kind]
    if kind == "read-only folder":
        output.mkdir()
        output.chmod(0o555)
        if os.access(output, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
    decoded = []
    original = lightness.read
    monkeypatch.setattr(lightness, "read", lambda path: decoded.append(path) or original(path))
    result = _invoke("predict", folder, "-o", output, "--model", model_path)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    assert str(output.parent if kind == "below a file" else output) in result.output
    assert decoded == [] and blocker.read_text() == "mine"


def test_symlinked_folders_are_reported(tmp_path, model_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _gray(elsewhere / "far.png")
    folder = tmp_path / "f"
    folder.mkdir()
    _gray(folder / "near.png")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    result = _invoke("predict", folder, "--model", model_path)
    assert result.exit_code == 0, result.output
    assert f"{folder / 'linked'}: a symbolic link to a folder, not followed" in result.output
    assert (folder / "near_colorized.png").exists() and not (elsewhere / "far_colorized.png").exists()


def test_render_size_is_capped_at_the_photo_and_checked_against_memory(tmp_path, model_path, monkeypatch):
    runner = runtime.Runner.create(saving.load_model(model_path))
    # --render-size 8192 on a 300 x 400 photo: the model sees it at its own size, not 8192 px.
    assert runner.working_shape(300, 400, render_size=8192) == (320, 416)
    assert runner.working_shape(30, 40, render_size=8192) == (128, 192)  # never below the default
    source = _gray(tmp_path / "small.png", 300, 400)
    result = _invoke("predict", source, "--model", model_path, "--render-size", 8192)
    assert result.exit_code == 0 and Image.open(tmp_path / "small_colorized.png").size == (400, 300)
    # Where the model's activations would not fit: one line naming the flag and what fits.
    monkeypatch.setattr(runtime, "_available_memory", lambda: 64 * 2**20)
    result = _invoke("predict", source, "--model", model_path, "--render-size", 400, "--overwrite")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert "--render-size 400 needs about" in result.output and "use --render-size" in result.output


@pytest.mark.slow
def test_a_12000x9000_photo_stays_under_1_5_gb(tmp_path):
    import cv2

    rng = np.random.default_rng(0)
    blocks = (rng.random((90, 120)) * 235 + 10).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "huge.jpg"), cv2.resize(blocks, (12000, 9000), interpolation=cv2.INTER_LINEAR))
    # The peak of the process's own address space (VmHWM): ru_maxrss would also count the
    # memory of this pytest process, which Linux carries over a fork and exec.
    script = (
        "import resource, sys; from colorize.cli import main\n"
        "try: main(['predict', sys.argv[1]])\n"
        "except SystemExit as e: code = e.code\n"
        "status = open('/proc/self/status').read().split('VmHWM:')\n"
        "kib = int(status[1].split()[0]) if len(status) > 1 else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print('PEAK', kib * 1024); sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "huge.jpg")],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    peak = int(done.stdout.split("PEAK")[-1])
    assert Image.open(tmp_path / "huge_colorized.png").size == (12000, 9000)
    assert peak < 1.5e9, f"peak {peak / 1e9:.2f} GB"


def test_shards_split_a_folder_once_and_stably(tmp_path, image_folder):

    written = []
    for index in (1, 2, 3):
        result = _invoke("predict", image_folder, "-o", tmp_path / "out", "--shard", f"{index}/3")
        assert result.exit_code == 0, result.output
        written.append(sorted(path.name for path in (tmp_path / "out").glob("*.png") if path.name not in
                              {name for names in written for name in names}))  # fmt: skip
    assert [len(names) for names in written] == [2, 2, 2]
    assert sorted(name for names in written for name in names) == sorted(
        f"{path.stem}_colorized.png" for path in image_folder.iterdir())
    assert infer.shard_of(["c", "a", "b", "d"], (1, 2)) == {"a", "c"}
    refused = _invoke("predict", image_folder, "-o", tmp_path / "out", "--shard", "4/3")
    assert refused.exit_code == 2 and "1 <= K <= N" in refused.output
