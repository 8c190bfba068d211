"""``colorize prepare``: folders of photos -> a training-ready data set.

Steps, per image (in ``workers`` processes): decode robustly
(:func:`colorize.data.images.read_image`), drop black-and-white and sepia/toned
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

import concurrent.futures
import dataclasses
import errno
import hashlib
import io
import json
import logging
import math
import multiprocessing
import os
import shutil
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from colorize import __version__
from colorize.data import faces as faces_lib
from colorize.data.images import atomic_write_bytes, find_images, read_image, resize
from colorize.data.records import encode_example, shard_name
from colorize.layout import AB_DISTRIBUTION_NAME, MANIFEST_NAME, SPLITS
from colorize.errors import ColorizeError, ImageDecodeError

log = logging.getLogger(__name__)

AB_EDGES = np.arange(-110, 111, 10)
FITS = ("crop", "pad")
FORMAT_VERSION = 1

DEFAULT_MIN_COLOURFULNESS = 15.0
DEFAULT_MIN_HUE_SPREAD = 1.0
_PAD_VALUE = 0.5  # neutral grey: a* = b* = 0
_ANALYSIS_SIDE = 64


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


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness metric of an RGB image in [0, 1] (0-255 scale).

    About 0 for grey images, above ~15 for ordinary colour photographs.
    """
    rgb = rgb.astype(np.float64) * 255.0
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def hue_spread(ab: np.ndarray) -> float:
    """Spread of a*b* across the image's mean hue direction (a*b* units).

    A toned (sepia, cyanotype) monochrome image has every pixel on one hue ray, so the
    spread is near 0; colour photographs measure above ~1.5.
    """
    ab = ab.reshape(-1, 2).astype(np.float64)
    mean = ab.mean(axis=0)
    norm = float(np.hypot(*mean))
    if norm < 1e-6:
        return float(np.hypot(*ab.std(axis=0)))
    across = ab @ np.array([-mean[1], mean[0]]) / norm
    return float(across.std())


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
        atomic_write_bytes(
            staging / MANIFEST_NAME, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        )
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


# ----------------------------------------------------------------------------- options


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


def parse_split(split: str | Iterable[float]) -> tuple[float, float, float]:
    """Normalise ``"0.8,0.1,0.1"`` or ``(8, 1, 1)`` to three fractions summing to 1.

    Raises:
        ValueError: not three non-negative numbers with a positive sum.
    """
    if isinstance(split, str):
        try:
            values = [float(v) for v in split.split(",")]
        except ValueError:
            raise ValueError(f"split must be three numbers like 0.8,0.1,0.1. Received: split={split!r}") from None
    else:
        values = [float(v) for v in split]
    if len(values) != 3 or any(v < 0 or not math.isfinite(v) for v in values) or sum(values) <= 0:
        raise ValueError(
            f"split must be three non-negative numbers (train,val,test) like 0.8,0.1,0.1. Received: split={split!r}"
        )
    total = sum(values)
    return tuple(v / total for v in values)


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


def _split_of(digest: str, fractions: tuple[float, float, float]) -> str:
    """The split of a file, from its content hash: stable when other files come and go."""
    position = int(digest[:12], 16) / float(16**12)
    if position < fractions[0]:
        return "train"
    if position < fractions[0] + fractions[1]:
        return "val"
    return "test" if fractions[2] > 0 else ("val" if fractions[1] > 0 else "train")


def split_of(digest: str, split: str | Iterable[float] = "0.8,0.1,0.1") -> str:
    """The split ("train", "val" or "test") ``colorize prepare`` gives a file of this content.

    Args:
        digest: the SHA-1 hex digest of the file's bytes.
        split: the fractions given to prepare (its default ``0.8,0.1,0.1``).

    Example:
        >>> split_of("f" * 40)
        'test'
    """
    return _split_of(digest, parse_split(split))


def _name_and_source(path: Path, sources: list[Path]) -> tuple[str, str]:
    for source in sources:
        if source.is_dir():
            try:
                return path.relative_to(source).as_posix(), str(source)
            except ValueError:
                continue
    return path.name, str(path.parent)


# ----------------------------------------------------------------------------- per image


@dataclasses.dataclass(frozen=True)
class _Task:
    image_size: int
    fit: str
    faces: bool
    keep_no_face: bool
    min_colourfulness: float
    min_hue_spread: float
    min_side: int

    def __call__(self, path: Path) -> dict:
        try:
            return _process(path, self)
        except ImageDecodeError as error:
            return {"status": "unreadable", "reason": _reason(error, path)}
        except (OSError, ValueError, ColorizeError, MemoryError) as error:
            return {"status": "unreadable", "reason": f"{type(error).__name__}: {error}"}


def _reason(error: Exception, path: Path) -> str:
    text = str(error)
    prefix = f"{path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _process(path: Path, task: _Task) -> dict:
    from PIL import Image
    from skimage import color

    data = path.read_bytes() if path.is_file() else b""
    decoded = read_image(path)
    rgb = decoded.rgb
    if decoded.alpha is not None:  # composite over white, as a viewer shows it
        rgb = rgb * decoded.alpha[..., None] + (1.0 - decoded.alpha[..., None])
    height, width = rgb.shape[:2]
    if min(height, width) < task.min_side:
        return {"status": "too_small", "reason": f"too small ({width}x{height} < {task.min_side} px)"}
    if decoded.grayscale:
        return {"status": "black_and_white", "reason": "black-and-white (grayscale file)"}

    thumbnail = resize(rgb, *_thumb_shape(height, width))
    score = colourfulness(thumbnail)
    if score < task.min_colourfulness:
        return {
            "status": "black_and_white",
            "reason": f"black-and-white or nearly (colourfulness {score:.1f} < {task.min_colourfulness:g})",
        }
    spread = hue_spread(color.rgb2lab(thumbnail)[..., 1:])
    if spread < task.min_hue_spread:
        return {
            "status": "black_and_white",
            "reason": f"sepia/toned monochrome (hue spread {spread:.2f} < {task.min_hue_spread:g})",
        }

    found = False
    if task.faces:
        face = faces_lib.largest_face(rgb)
        if face is not None:
            top, left, side = faces_lib.face_crop_box(face, (height, width))
            rgb = rgb[top : top + side, left : left + side]
            found = True
        elif not task.keep_no_face:
            return {"status": "no_face", "reason": "no face detected"}
    square = _fit_square(rgb, task.image_size, task.fit)
    pixels = np.round(np.clip(square, 0.0, 1.0) * 255.0).astype(np.uint8)

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=6)
    ab = color.rgb2lab(pixels.astype(np.float32) / 255.0)[..., 1:]
    ab = np.clip(ab, AB_EDGES[0], AB_EDGES[-1] - 1e-3)
    histogram, _, _ = np.histogram2d(ab[..., 0].ravel(), ab[..., 1].ravel(), bins=[AB_EDGES, AB_EDGES])
    return {
        "status": "ok",
        "sha1": hashlib.sha1(data).hexdigest(),
        "png": buffer.getvalue(),
        "histogram": histogram.astype(np.int64),
        "colourfulness": score,
        "face": found,
    }


def _thumb_shape(height: int, width: int) -> tuple[int, int]:
    scale = min(1.0, _ANALYSIS_SIDE / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _fit_square(rgb: np.ndarray, size: int, fit: str) -> np.ndarray:
    height, width = rgb.shape[:2]
    if fit == "crop":
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        return resize(rgb[top : top + side, left : left + side], size, size)
    scale = size / max(height, width)
    new_height, new_width = max(1, round(height * scale)), max(1, round(width * scale))
    canvas = np.full((size, size, 3), _PAD_VALUE, np.float32)
    top, left = (size - new_height) // 2, (size - new_width) // 2
    canvas[top : top + new_height, left : left + new_width] = resize(rgb, new_height, new_width)
    return canvas


def _end_with_parent(parent: int, interval: float = 0.5) -> None:
    """A worker's initializer: the worker ends when ``parent``, the process that started it,
    dies (a ``kill -9`` of prepare leaves no orphaned worker; the resource tracker then ends too)."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="colorize-parent-watch", daemon=True).start()


def _run(task: _Task, files: list[Path], workers: int, progress: bool) -> list[dict]:
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc="prepare", unit="img", disable=not progress or None, leave=False)
    results: list[dict] = []
    try:
        if workers == 1 or len(files) < 4:
            for path in files:
                results.append(task(path))
                bar.update()
        else:
            # spawn: safe even when the caller has already imported TensorFlow.
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                        initializer=_end_with_parent, initargs=(os.getpid(),)) as pool:  # fmt: skip
                chunksize = max(1, min(32, len(files) // (workers * 8)))
                for outcome in pool.map(task, files, chunksize=chunksize):
                    results.append(outcome)
                    bar.update()
    finally:
        bar.close()
    return results


# ----------------------------------------------------------------------------- writing


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


# ----------------------------------------------------------------------------- the swap

# What a prepare run writes into its folder (and the training embeddings cache kept there).
_OWN_NAMES = ("*.tfrecord", "*-of-*.npy", ".*.tfrecord.tmp-*", ".*.part*", AB_DISTRIBUTION_NAME, MANIFEST_NAME, "embeddings")


def _check_output_free(output_dir: Path, overwrite: bool) -> None:
    """Refuse to replace a prepared set without ``overwrite``, and a folder of other files ever."""
    if not output_dir.exists():
        return
    if not output_dir.is_dir():
        raise ColorizeError(f"output {output_dir} is a file; -o needs a folder (new or empty)")
    entries = list(output_dir.iterdir())
    if not entries:
        return
    if (output_dir / MANIFEST_NAME).is_file():
        if not overwrite:
            raise ColorizeError(
                f"{output_dir} already holds a prepared data set; pass --overwrite to replace it "
                "(the new set is swapped in whole when complete), or choose another -o folder"
            )
        return
    own = all(any(entry.match(pattern) for pattern in _OWN_NAMES) for entry in entries)
    if not own:
        raise ColorizeError(
            f"{output_dir} is not empty and holds no prepared data set ({entries[0].name} ...); "
            "prepare writes a whole folder: choose a new or empty -o folder"
        )
    if not overwrite:
        raise ColorizeError(
            f"{output_dir} holds an incomplete data set (no {MANIFEST_NAME}: an interrupted prepare); "
            "pass --overwrite to replace it"
        )


def _staging_dir(output_dir: Path) -> Path:
    return output_dir.parent / f".{output_dir.name}.tmp-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(output_dir: Path) -> None:
    """Delete staging folders of killed prepare runs into ``output_dir`` (not of running ones)."""
    parent = output_dir.parent
    if not parent.is_dir():
        return
    for kind in ("tmp", "old"):
        for path in parent.glob(f".{output_dir.name}.{kind}-*"):
            pid = path.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            if kind == "old" and not output_dir.exists():
                os.rename(path, output_dir)  # killed between the two renames of the fallback swap
                log.warning("restored %s from %s (a killed prepare)", output_dir, path)
                continue
            log.info("removing %s, left by a killed prepare", path)
            shutil.rmtree(path, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, f"could not swap {first} and {second}: {os.strerror(code)}")


def _swap_in(staging: Path, output_dir: Path) -> None:
    """Make the complete set in ``staging`` the one at ``output_dir``; delete what was there."""
    if not output_dir.exists():
        os.rename(staging, output_dir)
        return
    if _exchange(staging, output_dir):
        shutil.rmtree(staging)  # now the old set (or the empty folder)
        return
    old = output_dir.parent / f".{output_dir.name}.old-{os.getpid()}"
    os.rename(output_dir, old)
    os.rename(staging, output_dir)
    shutil.rmtree(old)


def _disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return type(error).__name__ == "ResourceExhaustedError" or "No space left on device" in str(error)
