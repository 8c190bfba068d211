import numpy as np
from PIL import Image

from colorize import visualize


def test_grid_and_curves_are_viewable_pngs(tmp_path):
    images = [np.full((16, 16, 3), value, np.uint8) for value in (0, 128, 255)]
    grid = visualize.save_image_grid(tmp_path / "grid.png", [("gray", images), ("truth", images)], title="t")
    with Image.open(grid) as image:
        assert image.format == "PNG" and image.size[0] > 50
    curve = visualize.plot_curves(tmp_path / "loss.png", {"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2]})
    with Image.open(curve) as image:
        assert image.format == "PNG"
    assert not list(tmp_path.glob(".*.part"))


def test_save_image_is_atomic_and_exact(tmp_path):
    array = (np.arange(48).reshape(4, 4, 3) * 5).astype(np.uint8)
    path = visualize.save_image(tmp_path / "out" / "x.png", array)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), array)
