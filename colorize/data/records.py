"""The TFRecord schema of a prepared data set and its shard names (file names: :mod:`colorize.layout`).

``colorize prepare`` (:mod:`colorize.data.prepare`) writes them and
:mod:`colorize.data.pipeline` / :mod:`colorize.data.arrays` read them; both sides take
the names and the example format from here. One ``tf.train.Example`` per image:

* ``"image"``: PNG bytes (square, RGB 8-bit);
* ``"name"``: the file's path relative to its source (UTF-8);
* ``"source"``: the source argument given to prepare (UTF-8).

Importing this module does not import TensorFlow.

Example:
    >>> record = encode_example(png_bytes, "a/photo.jpg", "photos")  # doctest: +SKIP
    >>> parse_example(record)["name"].numpy()  # doctest: +SKIP
    b'a/photo.jpg'
"""

from __future__ import annotations

import os
from pathlib import Path

from colorize.layout import MANIFEST_NAME

TEXT_FEATURES = ("name", "source")  # UTF-8 strings beside the PNG bytes of "image"


def shard_name(split: str, index: int, count: int) -> str:
    """``train-00000-of-00003.tfrecord``: the name of TFRecord shard ``index`` of ``count``."""
    return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def encode_example(png: bytes, name: str, source: str) -> bytes:
    """One image's serialized ``tf.train.Example`` (deterministic bytes)."""
    import tensorflow as tf

    def feature(value: bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    features = {"image": feature(png)}
    features.update({key: feature(text.encode("utf-8")) for key, text in zip(TEXT_FEATURES, (name, source))})
    example = tf.train.Example(features=tf.train.Features(feature=features))
    return example.SerializeToString(deterministic=True)


def parse_example(record) -> dict:
    """A serialized example (a scalar string tensor) -> ``{"image", "name", "source"}`` string tensors."""
    import tensorflow as tf

    features = {"image": tf.io.FixedLenFeature([], tf.string)}
    features.update({key: tf.io.FixedLenFeature([], tf.string, default_value="") for key in TEXT_FEATURES})
    return tf.io.parse_single_example(record, features)


def check_complete(folder: str | os.PathLike) -> None:
    """Refuse a data folder that a killed ``colorize prepare`` left unfinished.

    Prepare writes into a hidden sibling (``.NAME.tmp-PID``) and renames it into place
    when complete, the manifest last; older versions wrote shards into the folder itself.

    Raises:
        ColorizeError: ``folder`` holds TFRecord shards but no manifest, or has no
            manifest and a staging sibling is left beside it; the message says how to
            redo the prepare.
    """
    from colorize.errors import ColorizeError

    folder = Path(folder)
    if (folder / MANIFEST_NAME).exists():
        return
    redo = "an incomplete (interrupted) prepare; run `colorize prepare ... --overwrite` again to finish it"
    if folder.is_dir() and (any(folder.glob("*.tfrecord")) or any(folder.glob(".*.tfrecord.tmp-*"))):
        raise ColorizeError(f"{folder} holds TFRecord shards but no {MANIFEST_NAME}: {redo}")
    staging = next(iter(sorted(folder.parent.glob(f".{folder.name}.tmp-*"))), None)
    if staging is not None:
        raise ColorizeError(f"{folder} is not a finished data set ({staging.name} is left beside it): {redo}")
