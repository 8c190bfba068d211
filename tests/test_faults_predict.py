"""Issue 12, the `colorize predict` rows: hostile but realistic input, kept fixed.

Row 13: non-image files in a folder are passed over, not failures; multi-frame files say
        that only the first frame was used.
Row 14: a re-run never colorizes its own earlier outputs.
Row 15: one file named relative and absolute is one input.
Row 16: an `-o` that cannot be written is an error before any photo is decoded.
Row 17: symbolic links to folders are reported, not silently skipped.
Row 20: memory: --render-size is capped at the photo and checked against free memory;
        a 12000 x 9000 photo stays under 1.5 GB (slow).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from colorize import inference, runtime, saving
from colorize.cli import main


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _gray(path, height=24, width=32, value=100):
    Image.fromarray(np.full((height, width), value, np.uint8)).save(path)
    return path


def test_row13_non_images_are_passed_over_and_first_frames_are_named(tmp_path, model_path):
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


def test_row14_a_rerun_never_colorizes_its_own_outputs(tmp_path, model_path):
    folder = tmp_path / "f"
    folder.mkdir()
    _gray(folder / "x.jpg")
    assert _invoke("predict", folder, "--model", model_path, "--compare").exit_code == 0
    before = sorted(p.name for p in folder.iterdir())
    assert before == ["x.jpg", "x_colorized.png", "x_compare.png"]
    result = _invoke("predict", folder, "--model", model_path)  # without --compare this time
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == before
    assert "Colorized 0 image(s), kept 1 existing" in result.output
    assert "x_compare.png: an earlier output of colorize" in result.output
    # Named explicitly, an output is an input like any other.
    named = _invoke("predict", folder / "x_compare.png", "--model", model_path)
    assert named.exit_code == 0 and (folder / "x_compare_colorized.png").exists()


def test_row15_one_file_named_relative_and_absolute_is_one_input(tmp_path, model_path, monkeypatch):
    _gray(tmp_path / "b.jpg")
    monkeypatch.chdir(tmp_path)
    result = _invoke("predict", "b.jpg", tmp_path / "b.jpg", "--model", model_path)
    assert result.exit_code == 0, result.output
    assert "Colorized 1 image(s)" in result.output and "0 failed" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.jpg", "b_colorized.png"]


@pytest.mark.parametrize("kind", ["existing file", "below a file", "read-only folder"])
def test_row16_an_unwritable_output_fails_before_any_photo_is_decoded(tmp_path, model_path, monkeypatch, kind):
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
    original = inference._read
    monkeypatch.setattr(inference, "_read", lambda path: decoded.append(path) or original(path))
    result = _invoke("predict", folder, "-o", output, "--model", model_path)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    assert str(output.parent if kind == "below a file" else output) in result.output
    assert decoded == [] and blocker.read_text() == "mine"


def test_row17_symlinked_folders_are_reported(tmp_path, model_path):
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


def test_row20_render_size_is_capped_at_the_photo_and_checked_against_memory(tmp_path, model_path, monkeypatch):
    runner = runtime.Runner.create(saving.load_model(model_path))
    # --render-size 8192 on a 300 x 400 photo: the model sees it at its own size, not 8192 px.
    assert runner.working_shape(300, 400, render_size=8192) == (320, 416)
    assert runner.working_shape(30, 40, render_size=8192) == (192, 256)  # never below the default
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
def test_row20_a_12000x9000_photo_stays_under_1_5_gb(tmp_path):
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
