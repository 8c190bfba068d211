"""tf.data input pipelines: prepared TFRecord shards or a plain folder -> (L, ab) batches.

Importing this module does not import TensorFlow (the prepared-set helpers work without it;
:mod:`colorize.data.pydataset` reads the same data on any Keras backend). Everything on
the hot path is a TensorFlow op (file reading, PNG/JPEG decoding,
cropping, resizing, augmentation, the RGB -> CIELAB conversion), so the pipeline runs
in parallel in TensorFlow's thread pool and never holds the Python GIL; only the optional
old-photo degradation of L (``degrade``, NumPy / OpenCV in :mod:`colorize.data.augment`)
runs through ``tf.numpy_function``.

Two kinds of ``source``:

* a folder written by ``colorize prepare`` (it has ``manifest.json``): the shards of
  one ``split`` (``"train"``, ``"val"``, ``"test"``) are read with a parallel
  interleave;
* a plain folder (or a single image file, or a list of files): every JPEG/PNG/BMP/GIF
  image under it is decoded directly, centre-cropped to a square and resized; the
  ``split`` argument is ignored (the whole folder is used). EXIF orientation is not
  applied on this path; ``colorize prepare`` applies it.

Example:
    >>> dataset = make_dataset("data/utk128", split="train", batch_size=16)  # doctest: +SKIP
    >>> l_scaled, ab_scaled = next(iter(dataset))  # (16, 128, 128, 1), (16, 128, 128, 2)
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from colorize.data import MIN_CROP_FRACTION, records
from colorize.io.files import find_images
from colorize.layout import AB_DISTRIBUTION_NAME, MANIFEST_NAME, SPLITS

if TYPE_CHECKING:  # annotations only: importing this module does not import TensorFlow
    import tensorflow as tf

log = logging.getLogger(__name__)


# Extensions tf.io.decode_image reads natively (others need `colorize prepare`).
TF_DECODABLE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

_SHUFFLE_BUFFER = 2048



@functools.cache
def _rgb_to_model_io():
    """The RGB -> Lab maths per batch, fused by XLA: ~2-3x faster than the op-by-op graph
    inside tf.data (whose ops run single-threaded), measured on a 2-core CPU."""
    import tensorflow as tf

    from colorize.color import tf_ops

    return tf.function(tf_ops.rgb_to_model_io, jit_compile=True, reduce_retracing=True)


def is_prepared_dir(source: str | os.PathLike) -> bool:
    """True when ``source`` is a folder written by ``colorize prepare``."""
    return (Path(source) / MANIFEST_NAME).is_file()


def read_manifest(data_dir: str | os.PathLike) -> dict:
    """Load ``manifest.json`` of a prepared data set.

    Raises:
        FileNotFoundError: ``data_dir`` has no manifest (it was not prepared).
    """
    path = Path(data_dir) / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{data_dir}: no {MANIFEST_NAME}; run `colorize prepare SRC -o {data_dir}` first"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def shard_paths(data_dir: str | os.PathLike, split: str = "train") -> list[Path]:
    """The TFRecord shards of one split of a prepared data set, in order.

    Raises:
        ValueError: unknown split, or the split has no shards.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}. Received: split={split!r}")
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir)
    names = manifest.get("shards", {}).get(split)
    if names is None:  # older manifests: glob the complete shard names
        names = sorted(p.name for p in data_dir.glob(f"{split}-*-of-*.tfrecord"))
    paths = [data_dir / name for name in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{data_dir}: shard(s) missing: {', '.join(missing[:3])}; re-run prepare")
    if not paths:
        raise ValueError(f"{data_dir}: the {split!r} split is empty; prepare more images or change --split")
    return paths


def load_ab_distribution(data_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The empirical a*b* histogram of a prepared data set's training split.

    Args:
        data_dir: a folder written by ``colorize prepare``.

    Returns:
        ``(histogram, edges)``: a (22, 22) float array of pixel counts over (a*, b*)
        bins (rows a*, columns b*), and the 23 bin edges ``np.arange(-110, 111, 10)``.

    Raises:
        FileNotFoundError: the data set has no ``ab_distribution.npz``.

    Example:
        >>> histogram, edges = load_ab_distribution("data/utk128")  # doctest: +SKIP
        >>> probabilities = histogram / histogram.sum()
    """
    path = Path(data_dir) / AB_DISTRIBUTION_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not found; it is written by `colorize prepare` (on the train split)"
        )
    with np.load(path) as data:
        return np.asarray(data["histogram"], np.float64), np.asarray(data["edges"], np.float64)


@dataclasses.dataclass(frozen=True)
class DatasetOptions:
    """How examples are drawn and batched: the options :func:`make_dataset` and
    :func:`colorize.data.pydataset.make_pydataset` share (checked once, here).

    ``shuffle=None`` becomes True for the train split only. ``degrade``: the share of
    examples whose input L gets an old photo's look (:func:`colorize.data.augment.degrade_l`);
    ``film``: the share whose L is a film's response to the colours (:func:`colorize.data.augment.film_l`).

    Example:
        >>> DatasetOptions("val", image_size=64).shuffle
        False
    """

    split: str = "train"
    image_size: int = 128
    batch_size: int = 16
    augment: bool = False
    shuffle: bool | None = None
    repeat: bool = False
    seed: int = 0
    degrade: float = 0.0
    film: float = 0.0

    def __post_init__(self):
        if int(self.image_size) < 8:
            raise ValueError(f"image_size must be at least 8. Received: image_size={self.image_size!r}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1. Received: batch_size={self.batch_size!r}")
        if isinstance(self.degrade, bool) or not 0.0 <= float(self.degrade) <= 1.0:
            raise ValueError(f"degrade must be a probability in [0, 1]. Received: degrade={self.degrade!r}")
        if isinstance(self.film, bool) or not 0.0 <= float(self.film) <= 1.0:
            raise ValueError(f"film must be a probability in [0, 1]. Received: film={self.film!r}")
        resolved = {"image_size": int(self.image_size), "batch_size": int(self.batch_size), "seed": int(self.seed),
                    "shuffle": self.split == "train" if self.shuffle is None else bool(self.shuffle),
                    "degrade": float(self.degrade), "film": float(self.film)}  # fmt: skip
        for name, value in resolved.items():
            object.__setattr__(self, name, value)


def make_dataset(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    split: str = "train",
    image_size: int = 128,
    batch_size: int = 16,
    augment: bool = False,
    shuffle: bool | None = None,
    repeat: bool = False,
    seed: int = 0,
    with_rgb: bool = False,
    degrade: float = 0.0,
    film: float = 0.0,
) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` of ``(l_scaled, ab_scaled)`` for training or evaluation.

    Args:
        source: a folder written by ``colorize prepare``, a plain folder of images,
            an image file, or a list of image files / folders.
        split: ``"train"``, ``"val"`` or ``"test"`` (prepared folders only).
        image_size: output height and width in pixels.
        batch_size: images per batch (the last batch may be smaller).
        augment: random horizontal flips and a small random scale/crop jitter.
        shuffle: shuffle the examples; ``None`` means shuffle the train split only.
        repeat: repeat forever (use ``steps_per_epoch`` in ``fit``).
        seed: seed for shuffling and augmentation (the same seed gives the same stream).
        with_rgb: also yield the RGB image in [0, 1] as a third element.
        degrade: the share of examples whose input L gets an old photo's look (grain,
            blur, fading, JPEG; :func:`degrade_batches`); ab and rgb stay clean. For
            training streams: leave 0 (off) for validation.
        film: the share of examples whose input L is the gray a black-and-white film would
            have recorded (:func:`colorize.data.augment.film_l`, keyed by ``(seed, batch
            index)``), before ``degrade``; ab and rgb stay clean. Training streams only.

    Returns:
        Dataset of float32 ``(l_scaled (B, S, S, 1), ab_scaled (B, S, S, 2))`` with
        ``l_scaled`` in [-1, 1] and ``ab_scaled`` in about [-1, 1], plus
        ``rgb (B, S, S, 3)`` when ``with_rgb``.

    Raises:
        ValueError: bad arguments or no images found.
        FileNotFoundError: the source does not exist.

    Example:
        >>> train = make_dataset("data/utk128", "train", augment=True, repeat=True)  # doctest: +SKIP
        >>> model.fit(train, steps_per_epoch=500)  # doctest: +SKIP
    """
    import tensorflow as tf

    options = DatasetOptions(split, image_size, batch_size, augment, shuffle, repeat, seed, degrade, film)
    image_size, shuffle = options.image_size, options.shuffle
    autotune = tf.data.AUTOTUNE

    single = not isinstance(source, (list, tuple))
    if single and is_prepared_dir(source):
        shards = [str(p) for p in shard_paths(source, split)]
        dataset = tf.data.Dataset.from_tensor_slices(shards)
        if shuffle:
            dataset = dataset.shuffle(len(shards), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.interleave(
            tf.data.TFRecordDataset,
            cycle_length=min(len(shards), 8),
            num_parallel_calls=autotune,
            deterministic=True,
        )
        if shuffle:
            dataset = dataset.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
        decode = _decode_record
    else:
        files = _plain_files([source] if single else list(source))
        dataset = tf.data.Dataset.from_tensor_slices([str(f) for f in files])
        if shuffle:
            dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        decode = _decode_file

    if repeat:
        dataset = dataset.repeat()
    if augment:
        randoms = tf.data.Dataset.random(seed=seed).batch(2)
        dataset = tf.data.Dataset.zip((dataset, randoms))
        dataset = dataset.map(
            lambda item, key: _to_example(decode(item), image_size, key, with_rgb),
            num_parallel_calls=autotune,
        )
    else:
        dataset = dataset.map(
            lambda item: _to_example(decode(item), image_size, None, with_rgb),
            num_parallel_calls=autotune,
        )
    if decode is _decode_file:  # a plain folder may hold files that do not decode: skip them
        dataset = dataset.ignore_errors(log_warning=True)
    dataset = dataset.batch(batch_size, num_parallel_calls=autotune)
    keep_rgb = with_rgb or options.film > 0  # a film's L is taken from the colours
    dataset = dataset.map(lambda rgb: _batch_to_model_io(rgb, keep_rgb), num_parallel_calls=autotune)
    if options.film:
        dataset = _film_batches(dataset, options.film, seed, with_rgb)
    return degrade_batches(dataset, options.degrade, seed).prefetch(autotune)


def _film_batches(dataset, probability: float, seed: int, with_rgb: bool):
    """Batches ``(l_scaled, ab_scaled, rgb)`` -> the same with a film's L (:func:`colorize.data.augment.film_l`,
    keyed by ``(seed, batch index)``); ``rgb`` dropped unless ``with_rgb``."""
    from colorize.data import augment

    def film(l_scaled, rgb, key):
        return augment.film_l(l_scaled, rgb, key, probability)

    return _new_l(dataset, film, seed, inputs=(0, 2), keep=3 if with_rgb else 2)


def degrade_batches(dataset: tf.data.Dataset, probability: float, seed: int = 0) -> tf.data.Dataset:
    """Batches ``(l_scaled, ab_scaled, ...)`` with an old photo's look on ``l_scaled`` only.

    :func:`colorize.data.augment.degrade_l` through ``tf.numpy_function``, keyed by
    ``(seed, batch index)`` like :class:`colorize.data.pydataset.LabBatches`: the same seed
    gives the same stream. The other elements pass through unchanged.

    Example:
        >>> train = degrade_batches(make_dataset("data/utk128", "train"), 0.5, seed=0)  # doctest: +SKIP
    """
    from colorize.data import augment

    if not probability:
        return dataset

    def degrade(l_scaled, key):
        return augment.degrade_l(l_scaled, key, probability)

    return _new_l(dataset, degrade, seed)


def _new_l(dataset, compute, seed: int, inputs=(0,), keep=None):
    """Batches ``(l_scaled, ...)`` -> ``l_scaled`` replaced by ``compute(*batch[inputs], (seed, batch index))``
    in NumPy (``tf.numpy_function``), the elements from ``keep`` on dropped (None: none)."""
    import tensorflow as tf

    def replace(index, batch):
        arrays = [batch[position] for position in inputs]
        l_scaled = tf.numpy_function(lambda *args: compute(*args[:-1], (seed, int(args[-1]))), [*arrays, index],
                                     tf.float32, stateful=False)  # fmt: skip
        return (tf.ensure_shape(l_scaled, batch[0].shape), *batch[1:keep])

    counted = tf.data.Dataset.zip((tf.data.Dataset.counter(), dataset))
    return counted.map(replace, num_parallel_calls=tf.data.AUTOTUNE)


def _plain_files(sources: list) -> list[Path]:
    for item in sources:
        if not Path(item).exists():
            raise FileNotFoundError(f"{item}: no such file or folder")
    files, _ = find_images(sources)
    usable = [f for f in files if f.suffix.lower() in TF_DECODABLE_EXTENSIONS and f.is_file()]
    others = len(files) - len(usable)
    if others:
        log.warning(
            "%d image(s) in formats the tf.data reader cannot decode (webp/tiff) were left out; "
            "use `colorize prepare` to include them",
            others,
        )
    if not usable:
        raise ValueError(f"no JPEG/PNG/BMP/GIF images found in {', '.join(map(str, sources))}")
    return usable


def _decode_record(record):
    import tensorflow as tf

    return tf.io.decode_png(records.parse_example(record)["image"], channels=3, dtype=tf.uint8)


def _decode_file(path):
    import tensorflow as tf

    data = tf.io.read_file(path)
    # dtype=uint8 also reduces 16-bit PNGs to 8 bits, like the prepared shards.
    return tf.io.decode_image(data, channels=3, dtype=tf.uint8, expand_animations=False)


def _to_example(rgb, image_size: int, key, with_rgb: bool):
    """Decoded uint8 image -> square float RGB in [0, 1] -> scaled L and ab."""
    import tensorflow as tf

    rgb = _square_crop(rgb, key)
    # Resizing the uint8 pixels (output float32 0-255) and scaling the small result is cheaper.
    if key is None:
        # An area average (antialias=False picks TF's dedicated area kernel: the same
        # pixels as antialias=True, measured about 1.5x faster).
        rgb = tf.image.resize(rgb, (image_size, image_size), method="area", antialias=False)
    else:
        rgb = tf.image.resize(rgb, (image_size, image_size), method="bilinear", antialias=True)
    rgb = tf.clip_by_value(rgb * (1.0 / 255.0), 0.0, 1.0)
    if key is not None:
        rgb = tf.image.stateless_random_flip_left_right(rgb, seed=key)
    return tf.ensure_shape(rgb, (image_size, image_size, 3))


def _batch_to_model_io(rgb, with_rgb: bool):
    """A batch of RGB images -> scaled L and ab: one fused Lab conversion per batch, not per image."""
    l_scaled, ab_scaled = _rgb_to_model_io()(rgb)
    if with_rgb:
        return l_scaled, ab_scaled, rgb
    return l_scaled, ab_scaled


def _square_crop(rgb, key):
    """Centre square crop; with ``key``, a random square of 85-100% of the short side."""
    import tensorflow as tf

    shape = tf.shape(rgb)
    height, width = shape[0], shape[1]
    side = tf.minimum(height, width)
    if key is None:
        top = (height - side) // 2
        left = (width - side) // 2
    else:
        fraction = tf.random.stateless_uniform([], seed=key, minval=MIN_CROP_FRACTION, maxval=1.0)
        side = tf.maximum(tf.cast(tf.cast(side, tf.float32) * fraction, tf.int32), 1)
        offsets = tf.random.stateless_uniform([2], seed=key[::-1], minval=0.0, maxval=1.0)
        top = tf.cast(offsets[0] * tf.cast(height - side + 1, tf.float32), tf.int32)
        left = tf.cast(offsets[1] * tf.cast(width - side + 1, tf.float32), tf.int32)
        top = tf.minimum(top, height - side)
        left = tf.minimum(left, width - side)
    return rgb[top : top + side, left : left + side, :]
