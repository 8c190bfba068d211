"""examples/make_gallery.py: held-out picks and the picture, with a tiny model and tiny photos."""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_portrait_like


@pytest.fixture
def gallery_module():
    script = Path(__file__).resolve().parents[1] / "examples" / "make_gallery.py"
    spec = importlib.util.spec_from_file_location("make_gallery", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_root(tmp_path):
    """scenes/images and humanfaces/images of 40 small colour photos each, and one gray photo."""
    for folder, offset in (("scenes/images", 0), ("humanfaces/images", 100)):
        (tmp_path / folder).mkdir(parents=True)
        for index in range(40):
            Image.fromarray(make_portrait_like(32, seed=offset + index)).save(tmp_path / folder / f"p{index:02d}.png")
    return tmp_path


def _test_split(folder):
    from colorize.data import prepare

    digests = {path: hashlib.sha1(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}
    return sorted((path for path, digest in digests.items() if prepare.split_of(digest) == "test"), key=digests.get)


def test_held_out_takes_test_split_files_by_digest_and_skips_gray_ones(gallery_module, data_root):
    folder = data_root / "scenes" / "images"
    expected = _test_split(folder)
    assert len(expected) >= 2  # fixed content: a fixed split
    gray = np.repeat(np.asarray(Image.open(expected[0]).convert("L"))[..., None], 3, axis=-1)
    Image.fromarray(gray).save(expected[0])  # now near-gray: skipped (and its digest, hence its split, changed)
    picked = gallery_module.held_out(folder, 3)
    assert picked == [path for path in _test_split(folder) if path != expected[0]][:3]
    assert expected[0] not in picked


def test_gallery_writes_one_png_with_a_row_per_photo(gallery_module, data_root, tmp_path, capsys):
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 1), name="l_input")
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output")(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "tiny.keras")
    output = tmp_path / "docs" / "gallery.png"
    arguments = ["--model", str(tmp_path / "tiny.keras"), "-o", str(output), "--data", str(data_root)]
    assert gallery_module.main([*arguments, "--scenes", "2", "--portraits", "1"]) == 0
    assert "7 rows" in capsys.readouterr().out  # 2 scenes, 1 portrait, camera, astronaut, coffee, chelsea
    with Image.open(output) as image:
        assert image.format == "PNG"
        assert image.height == 34 + 7 * (18 + gallery_module.CELL_HEIGHT + 6)
    with pytest.raises(SystemExit) as exit_info:
        gallery_module.main(["--data", str(tmp_path / "nowhere"), "-o", str(output)])
    assert exit_info.value.code == 1


def test_gallery_without_data_has_scikit_images_photos_only(gallery_module, tmp_path, monkeypatch, capsys):
    # Without --data: scikit-image's photos only, even beside a ../shared/data (never committed).
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 1), name="l_input")
    outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab_output")(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "tiny.keras")
    (tmp_path / "clone").mkdir()
    for folder in ("scenes/images", "humanfaces/images"):  # a ../shared/data beside the clone
        (tmp_path / "shared" / "data" / folder).mkdir(parents=True)
        for seed in range(20):  # some of them in the test split a gallery with --data would show
            Image.fromarray(make_portrait_like(64, seed)).save(tmp_path / "shared" / "data" / folder / f"p{seed}.png")
    monkeypatch.chdir(tmp_path / "clone")
    assert gallery_module.main(["--model", str(tmp_path / "tiny.keras"), "-o", "gallery.png"]) == 0
    assert "4 rows" in capsys.readouterr().out  # camera, astronaut, coffee, chelsea
    assert (tmp_path / "clone" / "gallery.png").is_file()
