import sys

import numpy as np
import pytest
from PIL import Image

from colorize.errors import ImageDecodeError
from colorize.io.decode import decode_image, read_image


def test_read_rgb_and_gray(tmp_path):
    rgb = (np.random.default_rng(0).random((10, 12, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "g.png")
    colour = read_image(tmp_path / "c.png")
    assert colour.rgb.shape == (10, 12, 3) and colour.rgb.dtype == np.float32
    np.testing.assert_allclose(colour.rgb, rgb / 255.0, atol=1e-6)
    assert not colour.grayscale and colour.alpha is None
    gray = read_image(tmp_path / "g.png")
    assert gray.grayscale and gray.size == (12, 10)


def test_read_rgba_palette_cmyk_and_16bit(tmp_path):
    import cv2

    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    decoded = read_image(tmp_path / "a.png")
    assert decoded.alpha is not None and abs(decoded.alpha.mean() - 128 / 255) < 1e-6

    Image.fromarray(rgba[..., :3]).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").rgb.shape == (8, 8, 3)

    Image.fromarray(rgba[..., :3]).convert("CMYK").save(tmp_path / "k.jpg")
    assert read_image(tmp_path / "k.jpg").rgb.shape == (8, 8, 3)

    deep = np.full((8, 8, 3), 1000, np.uint16)
    deep[..., 2] = 60000  # BGR on disk: red channel is high
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    decoded = read_image(tmp_path / "d.png")
    assert decoded.bit_depth == 16
    np.testing.assert_allclose(decoded.rgb[0, 0], [60000 / 65535, 1000 / 65535, 1000 / 65535], atol=1e-6)

    cv2.imwrite(str(tmp_path / "g16.png"), np.full((8, 8), 30000, np.uint16))
    gray = read_image(tmp_path / "g16.png")
    assert gray.grayscale and abs(gray.rgb.mean() - 30000 / 65535) < 1e-6


def test_exif_orientation_applied(tmp_path):
    image = Image.fromarray(np.zeros((10, 20, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image.save(tmp_path / "r.jpg", exif=exif)
    assert read_image(tmp_path / "r.jpg").rgb.shape == (20, 10, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("options", [{}, {"subsampling": 0}, {"subsampling": 1, "progressive": True}])
def test_colour_jpegs_turn_gray_as_pillow_decodes_them(tmp_path, monkeypatch, orientation, options):
    from colorize.color.np_ops import gray_levels

    rows, columns = np.mgrid[0:37, 0:53]
    rgb = np.stack([rows * 6, columns * 4, (rows * columns) % 256], axis=-1).astype(np.uint8)
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "p.jpg", exif=exif, quality=90, **options)
    fast = read_image(tmp_path / "p.jpg", native=True, to_gray=gray_levels)
    monkeypatch.setitem(sys.modules, "simplejpeg", None)  # Pillow's decoder and ImageOps.exif_transpose
    pillow = read_image(tmp_path / "p.jpg", native=True, to_gray=gray_levels)
    assert fast.rgb.shape == pillow.rgb.shape == ((53, 37) if orientation >= 5 else (37, 53))
    np.testing.assert_array_equal(fast.rgb, pillow.rgb)


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.jpg", b"", "empty"),
        ("text.jpg", b"hello, I am not a picture", "not an image"),
    ],
)
def test_bad_files_raise_with_reason(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ImageDecodeError, match=reason):
        read_image(tmp_path / name)


def test_decode_image_reads_bytes_as_read_image_reads_the_file(tmp_path):
    import cv2

    deep = np.zeros((6, 9, 4), np.uint16)  # 16-bit BGRA: read through OpenCV's path
    deep[..., 0], deep[..., 2], deep[..., 3] = 1000, 60000, 40000
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    from_file, from_bytes = read_image(tmp_path / "d.png"), decode_image((tmp_path / "d.png").read_bytes(), "d.png")

    assert (from_bytes.bit_depth, from_bytes.grayscale) == (from_file.bit_depth, from_file.grayscale) == (16, False)
    np.testing.assert_array_equal(from_bytes.rgb, from_file.rgb)
    np.testing.assert_array_equal(from_bytes.alpha, from_file.alpha)
    with pytest.raises(ImageDecodeError, match="upload: empty"):
        decode_image(b"")
    with pytest.raises(ImageDecodeError, match="notes.txt: not an image"):
        decode_image(b"hello", "notes.txt")


def test_truncated_and_directory(tmp_path):
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 90).save(tmp_path / "ok.jpg", quality=95)
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError):
        read_image(tmp_path / "cut.jpg")
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ImageDecodeError, match="directory"):
        read_image(tmp_path / "folder.png")


def test_a_truncated_colour_jpeg_is_refused_on_the_gray_path_too():
    import io

    from colorize.color.np_ops import gray_levels

    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)).save(buffer, "JPEG")
    with pytest.raises(ImageDecodeError, match="truncated or corrupt"):
        decode_image(buffer.getvalue()[:-10], "t.jpg", native=True, to_gray=gray_levels)  # simplejpeg declines, Pillow says why
