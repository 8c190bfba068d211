import errno
import hashlib
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
from PIL import Image

from colorize.cli import main
from colorize.data.prepare import prepare
from colorize.data.prepare import writing as prepare_lib
from colorize.errors import ColorizeError
from conftest import make_portrait_like, noise_folder, one_line_error, prepared_set, REPO


def _save(folder, name, array, **kwargs):
    path = folder / name
    Image.fromarray(array).save(path, **kwargs)
    return path


def _colour_folder(folder, count, start=0, size=48):
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(start, start + count):
        _save(folder, f"img_{index:03d}.png", make_portrait_like(size, seed=index))
    return folder


def _tree_digest(folder):
    digest = hashlib.sha1()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _splits(manifest_path):
    manifest = json.loads(manifest_path.read_text())
    return {item["sha1"]: item["split"] for item in manifest["images"]}


@pytest.fixture
def salted_folder(tmp_path):
    """Good images (including 16-bit colour PNG and CMYK JPEG) salted with broken files."""
    import cv2

    folder = _colour_folder(tmp_path / "salted", 3)
    (folder / "empty.jpg").write_bytes(b"")
    good_jpeg = (folder / "img_000.png").parent / "whole.jpg"
    Image.fromarray(make_portrait_like(48, seed=7)).save(good_jpeg, quality=90)
    data = good_jpeg.read_bytes()
    good_jpeg.unlink()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "notes.jpg").write_text("this is not an image\n")
    (folder / "folder.png").mkdir()
    rgb16 = (make_portrait_like(48, seed=8).astype(np.uint16) * 257)[..., ::-1]
    cv2.imwrite(str(folder / "deep16.png"), np.ascontiguousarray(rgb16))
    Image.fromarray(make_portrait_like(48, seed=9)).convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    (folder / "readme.txt").write_text("not an image name")
    return folder


def test_bad_files_listed_and_good_kept(salted_folder, tmp_path):
    before = _tree_digest(salted_folder)
    result = prepare([salted_folder], tmp_path / "out", image_size=32, workers=1, progress=False)
    reasons = {p.split("/")[-1]: r for p, r in result.skipped}
    assert "empty" in reasons["empty.jpg"]
    assert "truncated" in reasons["truncated.jpg"] or "corrupt" in reasons["truncated.jpg"]
    assert "not an image" in reasons["notes.jpg"]
    assert "directory" in reasons["folder.png"]
    assert "readme.txt" in reasons
    assert "deep16.png" not in reasons and "cmyk.jpg" not in reasons
    assert result.total == 5  # three PNGs, the 16-bit PNG and the CMYK JPEG
    assert result.removed["unreadable"] == 4
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["total"] == 5 and sum(manifest["counts"].values()) == 5
    assert {entry["path"].split("/")[-1] for entry in manifest["skipped"]} == set(reasons)
    assert manifest["image_size"] == 32 and manifest["colorize_version"]
    assert _tree_digest(salted_folder) == before  # the source is never modified


def test_black_and_white_sepia_and_duplicates_removed(tmp_path):
    folder = _colour_folder(tmp_path / "src", 3)
    gray = make_portrait_like(48, seed=5).mean(axis=-1).astype(np.uint8)
    _save(folder, "gray_mode_l.png", gray)
    _save(folder, "gray_rgb.png", np.repeat(gray[..., None], 3, axis=-1))
    sepia = np.clip(gray[..., None] * np.array([1.0, 0.85, 0.6]), 0, 255).astype(np.uint8)
    _save(folder, "sepia.png", sepia)
    shutil.copy(folder / "img_001.png", folder / "zz_copy.png")
    result = prepare([folder], tmp_path / "out", image_size=32, workers=1, progress=False)
    reasons = {p.split("/")[-1]: r for p, r in result.skipped}
    assert result.total == 3
    assert result.removed["black_and_white"] == 3 and result.removed["duplicate"] == 1
    assert "sepia" in reasons["sepia.png"]
    assert "black-and-white" in reasons["gray_mode_l.png"] and "black-and-white" in reasons["gray_rgb.png"]
    assert "duplicate of" in reasons["zz_copy.png"] and "img_001.png" in reasons["zz_copy.png"]


def test_split_stable_when_files_added_and_rerun_identical(tmp_path):
    folder = _colour_folder(tmp_path / "src", 12)
    first = prepare([folder], tmp_path / "a", image_size=16, workers=1, progress=False)
    again = prepare([folder], tmp_path / "b", image_size=16, workers=1, progress=False)
    for name in ["manifest.json", "ab_distribution.npz"] + [p.name for p in (tmp_path / "a").glob("*.tfrecord")]:
        if name == "manifest.json":  # paths differ only by the output folder, not stored
            assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
        else:
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    old = _splits(first.manifest_path)
    _colour_folder(folder, 10, start=12)
    grown = prepare([folder], tmp_path / "a", image_size=16, workers=1, progress=False, overwrite=True)
    new = _splits(grown.manifest_path)
    assert len(new) == 22 and again.total == 12
    assert all(new[digest] == split for digest, split in old.items())


def test_split_option_and_histogram(tmp_path):
    folder = _colour_folder(tmp_path / "src", 6)
    result = prepare([folder], tmp_path / "out", image_size=16, split=(1, 0, 0), workers=2, progress=False)
    assert result.counts == {"train": 6, "val": 0, "test": 0}
    with np.load(tmp_path / "out" / "ab_distribution.npz") as data:
        assert data["histogram"].shape == (22, 22)
        assert data["histogram"].sum() == 6 * 16 * 16
        np.testing.assert_array_equal(data["edges"], np.arange(-110, 111, 10))
    assert [p.name for p in sorted((tmp_path / "out").glob("*.tfrecord"))] == ["train-00000-of-00001.tfrecord"]


def test_pad_fit_and_pipeline_from_shards(tmp_path):
    from colorize.data.pipeline import make_dataset

    folder = tmp_path / "src"
    folder.mkdir()
    for index in range(4):
        _save(folder, f"wide_{index}.jpg", np.concatenate([make_portrait_like(40, seed=index)] * 2, axis=1))
    prepare([folder], tmp_path / "out", image_size=32, fit="pad", split=(1, 0, 0), images_per_shard=3,
            workers=1, progress=False)
    dataset = make_dataset(tmp_path / "out", "train", image_size=32, batch_size=2, with_rgb=True)
    batches = list(dataset)
    assert sum(int(b[0].shape[0]) for b in batches) == 4
    l_scaled, ab_scaled, rgb = batches[0]
    assert l_scaled.shape == (2, 32, 32, 1) and ab_scaled.shape == (2, 32, 32, 2)
    assert float(np.abs(rgb.numpy()[:, :4] - 0.5).max()) < 0.01  # padded top rows are grey
    assert -1 <= float(l_scaled.numpy().min()) and float(l_scaled.numpy().max()) <= 1


def test_faces_crop_and_drop(tmp_path):
    from skimage import data

    folder = tmp_path / "src"
    folder.mkdir()
    _save(folder, "astronaut.png", data.astronaut())
    _save(folder, "gradient.png", make_portrait_like(64, seed=1))
    result = prepare([folder], tmp_path / "out", image_size=32, faces=True, keep_no_face=False,
                     workers=1, progress=False)
    assert result.faces_found == 1 and result.total == 1
    assert result.removed["no_face"] == 1


def test_killed_write_leaves_no_complete_looking_shard(tmp_path, monkeypatch):
    folder = _colour_folder(tmp_path / "src", 4)

    def explode(png, name, source):
        raise KeyboardInterrupt

    monkeypatch.setattr(prepare_lib, "encode_example", explode)
    with pytest.raises(KeyboardInterrupt):
        prepare([folder], tmp_path / "out", image_size=16, workers=1, progress=False)
    assert list(tmp_path.glob("*out*")) == []  # no set, no staging folder left behind


def test_bad_options(tmp_path):
    folder = _colour_folder(tmp_path / "src", 1)
    with pytest.raises(ValueError, match="fit"):
        prepare([folder], tmp_path / "out", fit="stretch")
    with pytest.raises(ValueError, match="split"):
        prepare([folder], tmp_path / "out", split=(0.5, 0.5))
    with pytest.raises(ValueError, match="inside source"):
        prepare([folder], folder / "out")
    with pytest.raises(ValueError, match="no image files"):
        prepare([tmp_path / "missing"], tmp_path / "out")


def test_text_file_of_paths(tmp_path):
    folder = _colour_folder(tmp_path / "src", 3)
    listing = tmp_path / "list.txt"
    listing.write_text("src/img_000.png\nsrc/img_002.png\nsrc/gone.png\n")
    result = prepare([listing], tmp_path / "out", image_size=16, workers=1, progress=False)
    assert result.total == 2
    assert any("missing" in reason for _, reason in result.skipped)
    assert folder.exists()


def test_cli_prepare_summary_and_errors(tmp_path):
    folder = _colour_folder(tmp_path / "src", 4)
    runner = CliRunner()
    result = runner.invoke(main, ["prepare", str(folder), "-o", str(tmp_path / "out"), "--size", "16",
                                  "-j", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Prepared 4 images" in result.output and "train" in result.output
    assert (tmp_path / "out" / "manifest.json").is_file()

    bad = runner.invoke(main, ["prepare", str(tmp_path / "nothing"), "-o", str(tmp_path / "o2")])
    assert bad.exit_code == 1
    assert isinstance(bad.exception, SystemExit), bad.exception  # an error message, not a crash
    assert bad.output.strip().startswith("Error:") and len(bad.output.strip().splitlines()) == 1

    bad_split = runner.invoke(main, ["prepare", str(folder), "-o", str(tmp_path / "o3"), "--split", "a,b"])
    assert bad_split.exit_code == 1 and "split" in bad_split.output
    assert isinstance(bad_split.exception, SystemExit), bad_split.exception  # an error message, not a crash

    inside = runner.invoke(main, ["prepare", str(folder), "-o", str(folder / "out")])
    assert inside.exit_code == 1 and "inside source" in inside.output
    assert isinstance(inside.exception, SystemExit), inside.exception  # an error message, not a crash

    usage = runner.invoke(main, ["prepare", str(folder)])
    assert usage.exit_code == 2  # missing -o
    assert isinstance(usage.exception, SystemExit), usage.exception  # an error message, not a crash


def test_records_round_trip_one_example():
    import tensorflow as tf

    from colorize.data import records

    png = tf.io.encode_png(make_portrait_like(16)).numpy()
    parsed = records.parse_example(records.encode_example(png, "a/ö.png", "photos"))
    assert parsed["image"].numpy() == png
    assert parsed["name"].numpy().decode("utf-8") == "a/ö.png" and parsed["source"].numpy() == b"photos"
    assert records.shard_name("val", 2, 10) == "val-00002-of-00010.tfrecord"


def _leftovers(tmp_path, name="ds"):
    return sorted(p.name for p in tmp_path.glob(f".{name}.*"))


def _children(pid):
    """Live (not zombie) processes whose parent is ``pid``."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid):
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_prepare_refuses_to_replace_a_set_unless_overwrite(tmp_path):
    data = prepared_set(tmp_path)
    before = (data / "manifest.json").read_bytes()
    other = noise_folder(tmp_path / "other", 4, size=48, start=100)
    with pytest.raises(ColorizeError, match="already holds a prepared data set.*--overwrite"):
        prepare([other], data, image_size=48, workers=1, progress=False)
    result = CliRunner().invoke(main, ["prepare", str(other), "-o", str(data), "--size", "48", "-j", "1"])
    assert "--overwrite" in one_line_error(result)
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


def test_sigkill_during_reprepare_leaves_the_old_set_whole(tmp_path):
    from colorize.data.pipeline import make_dataset, read_manifest

    data = prepared_set(tmp_path)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    many = noise_folder(tmp_path / "many", 300, size=32, start=1000)
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


def test_disk_full_during_prepare_is_one_line_and_the_old_set_intact(tmp_path, monkeypatch):
    data = prepared_set(tmp_path)
    before = {p.name: p.read_bytes() for p in data.iterdir()}

    def full(path, data_bytes):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(prepare_lib, "atomic_write_bytes", full)
    other = noise_folder(tmp_path / "other", 4, start=200)
    with pytest.raises(ColorizeError, match="disk is full.*old set is unchanged"):
        prepare([other], data, image_size=32, workers=1, progress=False, overwrite=True)
    result = CliRunner().invoke(main, ["prepare", str(other), "-o", str(data), "--size", "32", "-j", "1",
                                       "--overwrite", "--no-progress"])  # fmt: skip
    assert "disk is full" in one_line_error(result)
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="reads /proc (Linux)")
def test_prepare_workers_end_when_prepare_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import REPO, noise_folder

    source = noise_folder(tmp_path / "many", 400, size=64)
    command = [sys.executable, "-m", "colorize", "prepare", str(source), "-o", str(tmp_path / "ds"), "--size", "32",
               "-j", "2", "--no-progress"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children, deadline = [], time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            children = _children(process.pid)
            if len(children) >= 3:  # two workers and the resource tracker
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL and len(children) >= 3
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    orphans = [pid for pid in children if _alive(pid)]
    for pid in orphans:  # never left running by the test itself
        os.kill(pid, signal.SIGKILL)
    assert orphans == []
