import os

import numpy as np
from conftest import prepared_set

from colorize.io import files
from colorize.io.files import atomic_write_bytes, find_images


def test_find_images_walks_folders_and_lists(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.jpg", "sub/b.PNG", "notes.txt.bak"):
        (tmp_path / name).write_bytes(b"x")
    listing = tmp_path / "list.txt"
    listing.write_text("a.jpg\nmissing.jpg\n")
    files, skipped = find_images([tmp_path / "sub", listing, tmp_path / "nope"])
    assert [f.name for f in files] == ["b.PNG", "a.jpg"]
    assert {p.name for p, _ in skipped} == {"missing.jpg", "nope"}


def test_the_temporary_file_of_a_killed_write_is_passed_over(tmp_path):
    with files.atomic_output(tmp_path / "a_colorized.png") as temporary:
        temporary.write_bytes(b"a png")
    (tmp_path / "a_colorized.png").unlink()
    partial = tmp_path / temporary.name  # what a SIGKILL leaves: the temporary name, never the output
    partial.write_bytes(b"half a png")
    assert files.is_partial(partial) and not files.is_partial(tmp_path / "a_colorized.png")
    found, skipped = find_images([tmp_path])
    assert found == [] and skipped == [(partial, files.PARTIAL)]


TINY = {"base_filters": 4, "depth": 1, "batch_norm": False}


def test_written_files_get_the_umask_mode(tmp_path):
    from colorize import visualize
    from colorize.models import build_model
    from colorize.saving import save_model

    previous = os.umask(0o022)
    try:
        written = [
            atomic_write_bytes(tmp_path / "a.json", b"{}"),
            visualize.save_image(tmp_path / "x_colorized.png", np.zeros((8, 8, 3), np.uint8)),
            visualize.plot_curves(tmp_path / "loss.png", {"loss": [1.0, 0.5]}),
            save_model(build_model("unet", image_size=32, **TINY), tmp_path / "last.keras"),
        ]
        data = prepared_set(tmp_path)
        written += [p for p in data.iterdir()]
        assert {oct(path.stat().st_mode & 0o777) for path in written} == {"0o644"}
        os.umask(0o077)
        assert oct(atomic_write_bytes(tmp_path / "private.txt", b"x").stat().st_mode & 0o777) == "0o600"
    finally:
        os.umask(previous)
    assert not list(tmp_path.glob(".*part*"))
