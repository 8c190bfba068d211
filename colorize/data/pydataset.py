"""Batches of (L, ab) without TensorFlow: a ``keras.utils.PyDataset`` for every Keras backend.

The same examples as :func:`colorize.data.pipeline.make_dataset` (square crop, resize,
optional flip / scale-crop augmentation, the project's Lab conversion, optional old-photo
look of L: :mod:`colorize.data.augment`), computed with
NumPy and OpenCV (:mod:`colorize.color.np_ops`) in Keras' worker threads. Sources:

* a folder written by ``colorize prepare``: its ``.npy`` image shards
  (:mod:`colorize.data.arrays`), memory-mapped;
* a plain folder, an image file or a list of them: decoded with
  :func:`colorize.io.decode.read_image` (EXIF orientation applied); files that do not
  decode are skipped with a warning.

Several sources are mixed by shares (``weights``) in a repeated stream: every batch takes
its share of each, rounded; without ``repeat`` they are read one after the other. Batches are a pure function of their index (and the seed), so worker threads can
compute them in any order, and ``repeat=True`` gives an endless stream that reshuffles
on every pass.

Example:
    >>> train = make_pydataset("data/utk128", "train", batch_size=16, augment=True, repeat=True)  # doctest: +SKIP
    >>> model.fit(train, steps_per_epoch=250)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Sequence

import keras
import numpy as np

from colorize.color import np_ops
from colorize.data import MIN_CROP_FRACTION
from colorize.data import augment as augmentation
from colorize.data.pipeline import DatasetOptions, is_prepared_dir

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2


class _FileImages:
    """Image files decoded on demand to uint8 RGB; a file that fails is logged and replaced by its neighbour."""

    def __init__(self, files: list[Path]):
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> np.ndarray:
        from colorize.errors import ImageDecodeError
        from colorize.io.decode import read_image

        for attempt in range(len(self.files)):
            path = self.files[(index + attempt) % len(self.files)]
            try:
                rgb = read_image(path).rgb
            except (ImageDecodeError, OSError, ValueError) as error:
                log.warning("skipping %s: %s", path, error)
                continue
            return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
        raise ValueError("none of the image files could be decoded")


def open_source(source, split: str = "train"):
    """The images of a source: a prepared set's split (memory-mapped shards), or image files / folders."""
    from colorize.data import arrays

    if not isinstance(source, (list, tuple)) and is_prepared_dir(source):
        return arrays.open_split(source, split)
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    for item in items:
        if not Path(item).exists():
            raise FileNotFoundError(f"{item}: no such file or folder")
    from colorize.io.files import find_images

    files = [path for path in find_images(items)[0] if path.is_file()]
    if not files:
        raise ValueError(f"no images found in {', '.join(map(str, items))}")
    return _FileImages(files)


class LabBatches(keras.utils.PyDataset):
    """``(l_scaled (B, S, S, 1), ab_scaled (B, S, S, 2))`` float32 batches from one or more image sources.

    Args:
        sources: image collections (``len()`` and ``[i]`` -> uint8 RGB), e.g. from
            :func:`colorize.data.arrays.open_split`.
        weights: each source's share of every batch (normalized).
        image_size: output side in pixels.
        batch_size: examples per batch (the last batch of a pass may be smaller unless
            ``repeat``).
        augment: random flips and 85-100 % square crops.
        shuffle: a new order on every pass (seeded).
        repeat: an endless stream (``num_batches`` None: pass ``steps_per_epoch`` to fit).
        seed: the seed of the order and the augmentation.
        workers: Keras worker threads (or processes with ``use_multiprocessing``).
        degrade: the share of examples whose input L gets an old photo's look
            (:func:`colorize.data.augment.degrade_l`, keyed by the seed and the batch index);
            ab stays clean.
        film: the share of examples whose input L is a film's response to the colours
            (:func:`colorize.data.augment.film_l`, keyed likewise), before ``degrade``.
    """

    def __init__(self, sources, weights=None, image_size=128, batch_size=16, augment=False, shuffle=False,
                 repeat=False, seed=0, workers=DEFAULT_WORKERS, use_multiprocessing=False, max_queue_size=8,
                 degrade=0.0, film=0.0):  # fmt: skip
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
        checked = DatasetOptions(image_size=image_size, batch_size=batch_size, degrade=degrade, film=film)  # same checks
        self.degrade, self.film = checked.degrade, checked.film
        self.sources = list(sources)
        weights = [1.0] * len(self.sources) if weights is None else [float(w) for w in weights]
        self.weights = [w / sum(weights) for w in weights]
        self.image_size, self.batch_size = int(image_size), int(batch_size)
        self.augment, self.shuffle, self.repeat, self.seed = bool(augment), bool(shuffle), bool(repeat), int(seed)
        self.total = sum(len(source) for source in self.sources)
        self._shares = _shares(self.weights, self.batch_size)
        self._starts = np.cumsum([0] + [len(source) for source in self.sources])
        self._orders = {}

    def __len__(self) -> int:
        return math.ceil(self.total / self.batch_size)

    @property
    def num_batches(self):
        return None if self.repeat else len(self)

    def _order(self, source: int, epoch: int) -> np.ndarray:
        """The order of a source's images in a pass (a seeded permutation per pass when shuffling)."""
        key = (source, epoch if self.shuffle else 0)
        order = self._orders.get(key)
        if order is None:
            count = len(self.sources[source])
            order = np.random.default_rng([self.seed, *key]).permutation(count) if self.shuffle else np.arange(count)
            if len(self._orders) > 16:  # worker threads may still read the previous passes
                self._orders.clear()
            self._orders[key] = order
        return order

    def _members(self, index: int):
        """(source, image index) of every example of batch ``index``."""
        if not self.repeat:  # one pass over the sources one after the other
            first = index * self.batch_size
            members = []
            for position in range(first, min(first + self.batch_size, self.total)):
                source = int(np.searchsorted(self._starts, position, side="right")) - 1
                members.append((source, int(self._order(source, 0)[position - self._starts[source]])))
            return members
        members = []
        for source, share in enumerate(self._shares):
            count = len(self.sources[source])
            for position in range(index * share, (index + 1) * share):
                epoch, offset = divmod(position, count)
                members.append((source, int(self._order(source, epoch)[offset])))
        return members

    def __getitem__(self, index: int):
        if not self.repeat and not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rgb = np.stack([
            self._example(self.sources[source][image], (self.seed, index, slot) if self.augment else None)
            for slot, (source, image) in enumerate(self._members(index))
        ])  # fmt: skip
        l_scaled, ab_scaled = np_ops.rgb_to_model_io(rgb)
        if self.film:
            l_scaled = augmentation.film_l(l_scaled, rgb, (self.seed, index), self.film)
        if self.degrade:
            l_scaled = augmentation.degrade_l(l_scaled, (self.seed, index), self.degrade)
        return l_scaled, ab_scaled

    def _example(self, image: np.ndarray, key) -> np.ndarray:
        """uint8 RGB -> square float32 RGB in [0, 1] of the output size (cropped, resized, maybe flipped)."""
        import cv2

        height, width = image.shape[:2]
        side = min(height, width)
        if key is None:
            top, left = (height - side) // 2, (width - side) // 2
        else:
            rng = np.random.default_rng(key)
            side = max(1, int(side * rng.uniform(MIN_CROP_FRACTION, 1.0)))
            top = min(int(rng.uniform() * (height - side + 1)), height - side)
            left = min(int(rng.uniform() * (width - side + 1)), width - side)
        crop = image[top : top + side, left : left + side]
        size = (self.image_size, self.image_size)
        if crop.shape[:2] != size:
            shrink = side > self.image_size
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if shrink and key is None else cv2.INTER_LINEAR)
        rgb = crop.astype(np.float32) * np.float32(1.0 / 255.0)
        if key is not None and rng.uniform() < 0.5:
            rgb = rgb[:, ::-1]
        return rgb


def _shares(weights: list[float], batch_size: int) -> list[int]:
    """Examples of each source per batch: the weights times the batch, rounded by largest remainder."""
    exact = [w * batch_size for w in weights]
    counts = [int(math.floor(value)) for value in exact]
    for index in sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)[: batch_size - sum(counts)]:
        counts[index] += 1
    return counts


def make_pydataset(source: str | os.PathLike | Sequence[str | os.PathLike], *options, workers: int = DEFAULT_WORKERS,
                   **keywords) -> LabBatches:
    """A :class:`LabBatches` over one source: a prepared set's split, a folder, a file or a list of them.

    Args:
        source: as for :func:`colorize.data.pipeline.make_dataset`.
        *options, **keywords: ``split``, ``image_size``, ``batch_size``, ``augment``,
            ``shuffle``, ``repeat``, ``seed``, ``degrade``, ``film``, in that order: a
            :class:`colorize.data.pipeline.DatasetOptions`, meaning what they mean for
            ``make_dataset``.
        workers: Keras worker threads.

    Raises:
        ValueError / FileNotFoundError: bad arguments, no images, or a prepared set
            without ``.npy`` shards.
    """
    spec = DatasetOptions(*options, **keywords)
    return LabBatches([open_source(source, spec.split)], None, spec.image_size, spec.batch_size, spec.augment,
                      spec.shuffle, spec.repeat, spec.seed, workers, degrade=spec.degrade, film=spec.film)  # fmt: skip
