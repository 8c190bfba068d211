"""Run ``colorize prepare``: folders of photos -> a training-ready data set (:func:`prepare`).

Steps, per image (in ``workers`` processes): decode robustly
(:func:`colorize.io.decode.read_image`), drop black-and-white and sepia/toned
images, optionally crop around the largest face, resize to ``image_size`` keeping the
aspect ratio (centre crop or pad), encode as PNG, and histogram its a*b* values.
Then, in the main process: drop exact duplicates (same file content), split
train/val/test by a hash of each file's content (so an image keeps its split when
files are added), write sharded TFRecords and ``manifest.json`` and, on the train
split, ``ab_distribution.npz``.

Output files (in ``output_dir``):

* ``<split>-NNNNN-of-MMMMM.tfrecord``: ``tf.train.Example`` records (:mod:`colorize.data.records`) with ``"image"``
  (PNG bytes, ``image_size`` square, RGB 8-bit), ``"name"`` (path relative to its
  source) and ``"source"`` (the source argument), in content-hash order.
* ``<split>-NNNNN-of-MMMMM.npy``: the same images as uint8 arrays ``(N, S, S, 3)``, in the
  same order, for training without TensorFlow (:mod:`colorize.data.arrays`).
* ``manifest.json``: counts per split, every skipped file with its reason, options,
  version, and one entry per kept image.
* ``ab_distribution.npz``: ``histogram`` (22 x 22 pixel counts over a* rows, b*
  columns; values outside [-110, 110] are counted in the edge bins) and ``edges``.

The whole set is written into a hidden sibling folder (``.NAME.tmp-PID``) and renamed
into place when complete (an existing set is swapped out in one atomic exchange and
then deleted), so a kill at any moment leaves either the old set or the new one, never
a mix; leftovers of a killed run are removed by the next one. A folder that already
holds a prepared set is replaced only with ``overwrite=True``; a folder holding other
files never. The output depends only on the input files and the options: running again
gives the same bytes. Sources are only read.

Example:
    >>> result = prepare(["photos/"], "data/portraits", image_size=128)  # doctest: +SKIP
    >>> result.counts
    {'train': 800, 'val': 100, 'test': 100}
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from colorize import __version__
from colorize.data.prepare.filters import (
    DEFAULT_MIN_COLOURFULNESS,
    DEFAULT_MIN_HUE_SPREAD,
)
from colorize.data.prepare.split import _split_of, parse_split
from colorize.data.prepare.staging import (
    _check_output_free,
    _disk_full,
    _remove_stale_temporaries,
    _staging_dir,
    _swap_in,
)
from colorize.data.prepare.worker import AB_EDGES, _run, _Task
from colorize.data.prepare.writing import (
    _save_npz,
    _write_array_shards,
    _write_manifest,
    _write_shards,
)
from colorize.errors import ColorizeError
from colorize.io.files import find_images
from colorize.layout import AB_DISTRIBUTION_NAME, MANIFEST_NAME, SPLITS

log = logging.getLogger(__name__)


FITS = ("crop", "pad")
FORMAT_VERSION = 1


@dataclasses.dataclass
class PrepareResult:
    """What :func:`prepare` did.

    Attributes:
        output_dir: where the data set was written.
        counts: images per split.
        removed: how many files were dropped, by kind (``unreadable``,
            ``black_and_white``, ``duplicate``, ``no_face``, ``too_small``, ``not_image_name``).
        skipped: ``(path, reason)`` for every file that was dropped.
        faces_found: images cropped around a detected face (with ``faces=True``).
        seconds: wall time.
        manifest_path: the manifest written.
    """

    output_dir: Path
    counts: dict[str, int]
    removed: dict[str, int]
    skipped: list[tuple[str, str]]
    faces_found: int
    seconds: float
    manifest_path: Path

    @property
    def total(self) -> int:
        """Images kept, all splits together."""
        return sum(self.counts.values())


def prepare(
    sources: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    image_size: int = 128,
    fit: str = "crop",
    faces: bool = False,
    keep_no_face: bool = True,
    split: Sequence[float] = (0.8, 0.1, 0.1),
    min_colourfulness: float = DEFAULT_MIN_COLOURFULNESS,
    min_hue_spread: float = DEFAULT_MIN_HUE_SPREAD,
    min_side: int = 32,
    images_per_shard: int = 1024,
    workers: int = 2,
    progress: bool = True,
    overwrite: bool = False,
) -> PrepareResult:
    """Turn folders of photos into sharded TFRecords, a manifest and an ab histogram.

    Args:
        sources: folders (walked recursively), image files, or ``.txt`` files listing
            one image path per line.
        output_dir: folder to write (created; must not be inside a source folder).
        image_size: side of the square output images in pixels.
        fit: ``"crop"`` (centre square crop) or ``"pad"`` (whole image, padded with
            neutral grey) to make images square without distortion.
        faces: crop a square around the largest detected frontal face (with margin).
        keep_no_face: with ``faces``, keep images with no detected face (centre
            crop/pad) instead of dropping them.
        split: train/val/test fractions (normalised to sum to 1).
        min_colourfulness: drop images whose colourfulness is below this (grey).
        min_hue_spread: drop images whose a*b* spread across the mean hue is below
            this (sepia and other toned monochrome).
        min_side: drop images whose shorter side is smaller than this (pixels).
        images_per_shard: records per TFRecord shard.
        workers: decoding processes (1 decodes in this process).
        progress: show a tqdm progress bar on stderr.
        overwrite: replace a prepared set already in ``output_dir`` (swapped in whole).

    Returns:
        A :class:`PrepareResult`.

    Raises:
        ValueError: bad options, output inside a source, or no usable image found.
        ColorizeError: ``output_dir`` holds a prepared set (and not ``overwrite``) or
            other files, or the disk filled up (the old set is left as it was).

    Example:
        >>> result = prepare(["photos/"], "data/portraits", faces=True)  # doctest: +SKIP
    """
    started = time.perf_counter()
    options = _check_options(image_size, fit, split, workers, images_per_shard)
    for name, value in (("min_colourfulness", min_colourfulness), ("min_hue_spread", min_hue_spread)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0. Received: {name}={value!r}")
    output_dir = Path(output_dir)
    sources = [Path(s) for s in sources]
    if not sources:
        raise ValueError("no sources given; pass at least one folder, image or .txt list")
    _check_output_outside_sources(output_dir, sources)
    _check_output_free(output_dir, overwrite)
    _remove_stale_temporaries(output_dir)

    files, walk_skipped = find_images(sources)
    skipped: list[tuple[str, str]] = [(str(p), r) for p, r in walk_skipped]
    removed = {key: 0 for key in ("unreadable", "black_and_white", "duplicate", "no_face", "too_small")}
    removed["not_image_name"] = len(walk_skipped)
    if not files:
        raise ValueError(f"no image files found in {', '.join(map(str, sources))}")

    task = _Task(image_size, fit, faces, keep_no_face, min_colourfulness, min_hue_spread, min_side)
    results = _run(task, files, workers, progress)

    kept: dict[str, dict] = {}
    faces_found = 0
    for path, outcome in zip(files, results):
        if outcome["status"] != "ok":
            removed[outcome["status"]] += 1
            skipped.append((str(path), outcome["reason"]))
            continue
        digest = outcome["sha1"]
        if digest in kept:
            removed["duplicate"] += 1
            skipped.append((str(path), f"duplicate of {kept[digest]['path']}"))
            continue
        faces_found += int(outcome["face"])
        outcome["path"] = str(path)
        outcome["name"], outcome["source"] = _name_and_source(path, sources)
        kept[digest] = outcome
    if not kept:
        raise ValueError(
            f"no usable images among {len(files)} file(s): "
            + "; ".join(f"{k}={v}" for k, v in removed.items() if v)
        )

    fractions = options["split"]
    by_split: dict[str, list[dict]] = {name: [] for name in SPLITS}
    for digest in sorted(kept):
        by_split[_split_of(digest, fractions)].append(kept[digest])

    counts = {name: len(items) for name, items in by_split.items()}
    empty = [name for name in SPLITS if fractions[SPLITS.index(name)] > 0 and not counts[name]]
    if empty:
        log.warning(
            "the %s split%s got no images (%d kept in all); prepare more images or change --split",
            " and ".join(empty), "s" if len(empty) > 1 else "", len(kept),
        )
    histogram = np.zeros((len(AB_EDGES) - 1,) * 2, np.float64)
    for item in by_split["train"]:
        histogram += item["histogram"]
    staging = _staging_dir(output_dir)
    try:
        staging.mkdir(parents=True)
        shards = _write_shards(staging, by_split, images_per_shard)
        array_shards = _write_array_shards(staging, by_split, images_per_shard)
        _save_npz(staging / AB_DISTRIBUTION_NAME, histogram=histogram, edges=AB_EDGES.astype(np.float64))
        manifest = {
            "format": FORMAT_VERSION,
            "colorize_version": __version__,
            "image_size": image_size,
            "sources": [str(s) for s in sources],
            "options": {
                "fit": fit,
                "faces": faces,
                "keep_no_face": keep_no_face,
                "split": list(fractions),
                "min_colourfulness": min_colourfulness,
                "min_hue_spread": min_hue_spread,
                "min_side": min_side,
                "images_per_shard": images_per_shard,
            },
            "counts": counts,
            "total": sum(counts.values()),
            "files_found": len(files),
            "removed": removed,
            "faces_found": faces_found,
            "shards": shards,
            "array_shards": array_shards,
            "ab_distribution": AB_DISTRIBUTION_NAME,
            "skipped": [{"path": p, "reason": r} for p, r in skipped],
            "images": [
                {
                    "name": item["name"],
                    "source": item["source"],
                    "sha1": item["sha1"],
                    "split": name,
                    "colourfulness": round(item["colourfulness"], 2),
                    "face": item["face"],
                }
                for name in SPLITS
                for item in by_split[name]
            ],
        }
        _write_manifest(staging, manifest)
        _swap_in(staging, output_dir)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if _disk_full(error):
            raise ColorizeError(
                f"the disk is full: could not write the data set {output_dir} "
                f"({'the old set is unchanged' if (output_dir / MANIFEST_NAME).is_file() else 'nothing was written'}); "
                "free some space and run prepare again"
            ) from None
        raise
    manifest_path = output_dir / MANIFEST_NAME
    seconds = time.perf_counter() - started
    log.info("prepared %d images in %.1f s -> %s", sum(counts.values()), seconds, output_dir)
    return PrepareResult(output_dir, counts, removed, skipped, faces_found, seconds, manifest_path)


def _check_options(image_size, fit, split, workers, images_per_shard) -> dict:
    if not isinstance(image_size, int) or image_size < 8:
        raise ValueError(f"image_size must be an integer >= 8. Received: image_size={image_size!r}")
    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}. Received: fit={fit!r}")
    if int(workers) < 1:
        raise ValueError(f"workers must be at least 1. Received: workers={workers!r}")
    if int(images_per_shard) < 1:
        raise ValueError(f"images_per_shard must be at least 1. Received: images_per_shard={images_per_shard!r}")
    return {"split": parse_split(split)}


def _check_output_outside_sources(output_dir: Path, sources: list[Path]) -> None:
    out = output_dir.resolve()
    for source in sources:
        if source.is_dir():
            root = source.resolve()
            if out == root or root in out.parents:
                raise ValueError(
                    f"output folder {output_dir} is inside source folder {source}; "
                    "choose an output outside the sources (they are never modified)"
                )


def _name_and_source(path: Path, sources: list[Path]) -> tuple[str, str]:
    for source in sources:
        if source.is_dir():
            try:
                return path.relative_to(source).as_posix(), str(source)
            except ValueError:
                continue
    return path.name, str(path.parent)
