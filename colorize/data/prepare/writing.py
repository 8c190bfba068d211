"""Write a prepared set's files into its staging folder: TFRecord and .npy shards, the ab distribution, the manifest."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np

from colorize.data.records import encode_example, shard_name
from colorize.io.files import atomic_write_bytes
from colorize.layout import MANIFEST_NAME, SPLITS


def _write_shards(output_dir: Path, by_split: dict[str, list[dict]], images_per_shard: int) -> dict[str, list[str]]:
    """Write every split's shards into ``output_dir`` (the staging folder: no file there is final yet)."""
    import tensorflow as tf

    shards: dict[str, list[str]] = {}
    for split_name in SPLITS:
        items = by_split[split_name]
        count = math.ceil(len(items) / images_per_shard)
        names = []
        for index in range(count):
            name = shard_name(split_name, index, count)
            with tf.io.TFRecordWriter(str(output_dir / name)) as writer:
                for item in items[index * images_per_shard : (index + 1) * images_per_shard]:
                    writer.write(encode_example(item["png"], item["name"], item["source"]))
            names.append(name)
        shards[split_name] = names
    return shards


def _write_array_shards(output_dir: Path, by_split: dict[str, list[dict]], images_per_shard: int) -> dict:
    """The same images as uint8 ``.npy`` shards, readable without TensorFlow (:mod:`colorize.data.arrays`)."""
    from colorize.data import arrays

    return arrays.write_shards(output_dir, by_split, images_per_shard)


def _save_npz(path: Path, **arrays) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def _write_manifest(output_dir: Path, manifest: dict) -> None:
    """``manifest.json`` (UTF-8, one key per line) into ``output_dir``."""
    atomic_write_bytes(
        output_dir / MANIFEST_NAME, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    )
