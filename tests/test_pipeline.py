import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import make_portrait_like

from colorize.data import pipeline


def _write_prepared(folder, count=5, size=32):
    """A minimal prepared data set written by hand (independent of `prepare`)."""
    folder.mkdir(parents=True, exist_ok=True)
    shards = {"train": ["train-00000-of-00001.tfrecord"], "val": [], "test": []}
    with tf.io.TFRecordWriter(str(folder / shards["train"][0])) as writer:
        for index in range(count):
            png = tf.io.encode_png(make_portrait_like(size, seed=index)).numpy()
            features = {
                "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[png])),
                "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"f{index}".encode()])),
                "source": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString())
    manifest = {"image_size": size, "shards": shards, "counts": {"train": count, "val": 0, "test": 0}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    edges = np.arange(-110, 111, 10)
    np.savez(folder / "ab_distribution.npz", histogram=np.ones((22, 22)), edges=edges)
    return folder


def _check_batch(l_scaled, ab_scaled, batch, size):
    assert l_scaled.shape == (batch, size, size, 1)
    assert ab_scaled.shape == (batch, size, size, 2)
    assert l_scaled.dtype == tf.float32 and ab_scaled.dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(l_scaled)) and float(tf.reduce_max(l_scaled)) <= 1.0
    assert float(tf.reduce_max(tf.abs(ab_scaled))) <= 1.0
    assert float(tf.reduce_max(tf.abs(ab_scaled))) > 0.05  # the images are colourful


def test_folder_shapes_and_ranges(image_folder):
    dataset = pipeline.make_dataset(image_folder, image_size=32, batch_size=2)
    batches = list(dataset)
    assert sum(int(b[0].shape[0]) for b in batches) == 6
    _check_batch(*batches[0], batch=2, size=32)


def test_folder_matches_colour_core(image_folder):
    path = sorted(image_folder.glob("*.png"))[0]
    dataset = pipeline.make_dataset([path], image_size=64, batch_size=1, with_rgb=True)
    l_scaled, ab_scaled, rgb = next(iter(dataset))
    expected = tf.image.convert_image_dtype(tf.io.decode_png(tf.io.read_file(str(path))), tf.float32)
    np.testing.assert_allclose(rgb[0].numpy(), expected.numpy(), atol=1e-5)  # 64 -> 64 is exact
    from colorize.color import tf_ops

    l_ref, ab_ref = tf_ops.rgb_to_model_io(expected)
    np.testing.assert_allclose(l_scaled[0].numpy(), l_ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(ab_scaled[0].numpy(), ab_ref.numpy(), atol=1e-5)


def test_shards_shapes_augment_and_rgb(tmp_path):
    data = _write_prepared(tmp_path / "prepared")
    dataset = pipeline.make_dataset(data, "train", image_size=32, batch_size=2, augment=True, with_rgb=True)
    l_scaled, ab_scaled, rgb = next(iter(dataset))
    _check_batch(l_scaled, ab_scaled, batch=2, size=32)
    assert rgb.shape == (2, 32, 32, 3)
    assert 0.0 <= float(tf.reduce_min(rgb)) and float(tf.reduce_max(rgb)) <= 1.0


def test_shards_resize_repeat_and_determinism(tmp_path):
    data = _write_prepared(tmp_path / "prepared")
    first = pipeline.make_dataset(data, image_size=16, batch_size=3, repeat=True, augment=True, seed=1)
    second = pipeline.make_dataset(data, image_size=16, batch_size=3, repeat=True, augment=True, seed=1)
    a = [b[1].numpy() for b in first.take(4)]
    b = [b[1].numpy() for b in second.take(4)]
    assert a[0].shape == (3, 16, 16, 2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_empty_split_and_bad_split(tmp_path):
    data = _write_prepared(tmp_path / "prepared")
    with pytest.raises(ValueError, match="empty"):
        pipeline.make_dataset(data, "val")
    with pytest.raises(ValueError, match="split"):
        pipeline.make_dataset(data, "training")


def test_missing_source_and_no_images(tmp_path):
    with pytest.raises(FileNotFoundError):
        pipeline.make_dataset(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hello")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no JPEG"):
        pipeline.make_dataset(empty)


def test_load_ab_distribution(tmp_path):
    data = _write_prepared(tmp_path / "prepared")
    histogram, edges = pipeline.load_ab_distribution(data)
    assert histogram.shape == (22, 22)
    np.testing.assert_array_equal(edges, np.arange(-110, 111, 10))
    with pytest.raises(FileNotFoundError, match="prepare"):
        pipeline.load_ab_distribution(tmp_path)


def test_folder_skips_files_that_do_not_decode(image_folder):
    (image_folder / "broken.jpg").write_text("not an image")
    (image_folder / "empty.png").write_bytes(b"")
    dataset = pipeline.make_dataset(image_folder, image_size=16, batch_size=4, shuffle=False)
    assert sum(int(b[0].shape[0]) for b in dataset) == 6


@pytest.mark.parametrize("name", ["degrade", "film"])
def test_input_look_changes_l_only_and_is_seeded(name, tmp_path):
    data = _write_prepared(tmp_path / "prepared")

    def first_batch(share, seed=0):
        dataset = pipeline.make_dataset(data, image_size=16, batch_size=3, shuffle=False, seed=seed, with_rgb=True,
                                        **{name: share})  # fmt: skip
        assert dataset.element_spec[0].shape.as_list() == [None, 16, 16, 1]  # the static shape is kept
        return [tensor.numpy() for tensor in next(iter(dataset))]

    clean, degraded, again, other = first_batch(0.0), first_batch(1.0), first_batch(1.0), first_batch(1.0, seed=1)
    np.testing.assert_array_equal(degraded[1], clean[1])  # the target colour stays clean
    np.testing.assert_array_equal(degraded[2], clean[2])  # and so does the RGB
    assert not np.array_equal(degraded[0], clean[0]) and -1.0 <= degraded[0].min() and degraded[0].max() <= 1.0
    np.testing.assert_array_equal(again[0], degraded[0])
    assert not np.array_equal(other[0], degraded[0])
    assert len(next(iter(pipeline.make_dataset(data, image_size=16, batch_size=3, **{name: 1.0})))) == 2
    with pytest.raises(ValueError, match=f"{name} must be a probability"):
        pipeline.make_dataset(data, **{name: 2})
