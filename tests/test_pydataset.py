"""The TensorFlow-free data path: .npy shards from `prepare` and the LabBatches PyDataset."""

import json

import numpy as np
import pytest

from colorize.data import arrays, pipeline, prepare, pydataset


@pytest.fixture
def prepared(image_folder, tmp_path):
    prepare.prepare([image_folder], tmp_path / "prepared", image_size=32, split=(0.5, 0.5, 0), workers=1,
                    progress=False)  # fmt: skip
    return tmp_path / "prepared"


def test_prepare_writes_npy_shards_with_the_tfrecord_images(prepared):
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert manifest["array_shards"]["train"] == ["train-00000-of-00001.npy"]
    images = arrays.open_split(prepared, "train")
    assert len(images) == manifest["counts"]["train"] and images[0].shape == (32, 32, 3)
    # The same pixels, in the same order, as the tf.data pipeline reads from the TFRecords.
    tf_batch = next(iter(pipeline.make_dataset(prepared, "train", image_size=32, batch_size=64, shuffle=False)))
    l_scaled, ab_scaled = pydataset.make_pydataset(prepared, "train", image_size=32, batch_size=64, shuffle=False)[0]
    np.testing.assert_allclose(l_scaled, tf_batch[0].numpy(), atol=1e-3)
    np.testing.assert_allclose(ab_scaled, tf_batch[1].numpy(), atol=1e-3)


def test_batches_shapes_resize_augment_and_determinism(prepared):
    data = pydataset.make_pydataset(prepared, "train", image_size=16, batch_size=2, augment=True, repeat=True, seed=3)
    assert data.num_batches is None
    l_scaled, ab_scaled = data[5]
    assert l_scaled.shape == (2, 16, 16, 1) and ab_scaled.shape == (2, 16, 16, 2)
    assert l_scaled.dtype == np.float32 and -1 <= l_scaled.min() and l_scaled.max() <= 1
    assert 0.05 < np.abs(ab_scaled).max() <= 1.0
    again = pydataset.make_pydataset(prepared, "train", image_size=16, batch_size=2, augment=True, repeat=True, seed=3)
    np.testing.assert_array_equal(again[5][1], ab_scaled)  # a batch is a function of its index and the seed
    other = pydataset.make_pydataset(prepared, "train", image_size=16, batch_size=2, augment=True, repeat=True, seed=4)
    assert not np.array_equal(other[5][1], ab_scaled)


def test_one_pass_covers_every_image_once_and_stops(prepared):
    count = len(arrays.open_split(prepared, "train"))
    data = pydataset.make_pydataset(prepared, "train", image_size=32, batch_size=2, shuffle=True)
    assert data.num_batches == len(data) == -(-count // 2)
    rows = np.concatenate([data[index][0].reshape(-1, 32 * 32) for index in range(len(data))])
    assert len(rows) == count and len(np.unique(rows, axis=0)) == count
    with pytest.raises(IndexError):
        data[len(data)]


def test_mixed_sources_take_their_share_of_every_batch(prepared, image_folder):
    sources = [pydataset.open_source(prepared, "train"), pydataset.open_source(image_folder)]
    data = pydataset.LabBatches(sources, weights=[1, 3], image_size=32, batch_size=4, shuffle=True, repeat=True)
    assert pydataset._shares(data.weights, 4) == [1, 3]
    assert [source for source, _ in data._members(7)] == [0, 1, 1, 1]
    assert data[7][0].shape == (4, 32, 32, 1)


def test_folder_source_and_clear_errors(image_folder, tmp_path):
    l_scaled, _ = pydataset.make_pydataset(image_folder, image_size=32, batch_size=6)[0]
    assert l_scaled.shape == (6, 32, 32, 1)
    with pytest.raises(FileNotFoundError, match="no such file"):
        pydataset.make_pydataset(tmp_path / "missing")
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"counts": {"train": 1}}))
    with pytest.raises(FileNotFoundError, match="run `colorize prepare` again"):
        pydataset.make_pydataset(old)


@pytest.mark.parametrize("name", ["degrade", "film"])
def test_input_look_changes_l_only_and_is_seeded(name, prepared):
    def batch(share, seed=3):
        return pydataset.make_pydataset(prepared, "train", image_size=16, batch_size=2, shuffle=False, repeat=True,
                                        seed=seed, **{name: share})[4]  # fmt: skip

    (clean_l, clean_ab), (l_scaled, ab_scaled) = batch(0.0), batch(1.0)
    np.testing.assert_array_equal(ab_scaled, clean_ab)  # the target colour stays clean
    assert not np.array_equal(l_scaled, clean_l) and -1 <= l_scaled.min() and l_scaled.max() <= 1
    np.testing.assert_array_equal(batch(1.0)[0], l_scaled)
    assert not np.array_equal(batch(1.0, seed=4)[0], l_scaled)
    with pytest.raises(ValueError, match=f"{name} must be a probability"):
        pydataset.make_pydataset(prepared, **{name: -0.1})
