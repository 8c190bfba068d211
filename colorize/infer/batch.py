"""Colorize files and folders: :func:`colorize_files`, a threaded decode / model / write pipeline.

Photos are decoded (one thread) while the model runs on a batch, and coloured at full
resolution, encoded and written (two threads) while the model runs on the next (an ONNX
model runs photo by photo, and each photo goes to a writer as soon as its call returns);
one bad file never stops the others.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from colorize import errors, saving
from colorize.errors import ColorizeError
from colorize.infer import lightness, runtime
from colorize.infer.faces import recolour_faces
from colorize.infer.lightness import prepare, small_l
from colorize.infer.naming import _keep_shard, _plan, check_output, compare_path_for
from colorize.infer.render import (
    colour_and_write,
    compose,
    predict_grouped,
    side_by_side,
)
from colorize.infer.result import PredictResult
from colorize.io.decode import header_size
from colorize.io.encode import OUTPUT_SUFFIXES, encode_image
from colorize.io.files import atomic_write_bytes
from colorize.registry import SIZE_MULTIPLE

log = logging.getLogger(__name__)


MAX_BATCH_PIXELS = 24_000_000  # full-resolution pixels in one batch; at most 3 batches are in flight
READ_THREADS = 1  # decoding (PIL/OpenCV release the GIL) while the model runs
WRITE_THREADS = 2  # colour at full size + PNG encoding + writing (OpenCV, zlib release the GIL)


def _by_shape(jobs: list, sizes: list[tuple[int, int]]) -> tuple[list, list]:
    """Jobs (and sizes) ordered by aspect ratio: photos that get the same working shape
    come together and share model calls (a folder of mixed shapes batches like one shape).
    The order is otherwise kept."""
    order = sorted(range(len(jobs)), key=lambda index: sizes[index][1] / max(1, sizes[index][0]))
    return [jobs[index] for index in order], [sizes[index] for index in order]


def _in_input_order(result: "PredictResult", jobs: list, start: dict[str, int]) -> None:
    """Put what the pipeline added to ``result`` (from the list lengths in ``start``) back in the inputs' order."""
    rank = {path: index for index, (path, _) in enumerate(jobs)}
    for name, first in start.items():
        items = getattr(result, name)
        items[first:] = sorted(items[first:], key=lambda item: rank.get(item[0], 0))


def _batches(jobs: list, pixels: list[int], batch_size: int, max_pixels: int) -> list[list]:
    """Consecutive jobs in batches of at most ``batch_size`` photos and ``max_pixels`` pixels."""
    batches, batch, total = [], [], 0
    for job, count in zip(jobs, pixels):
        if batch and (len(batch) >= batch_size or total + count > max_pixels):
            batches.append(batch)
            batch, total = [], 0
        batch.append(job)
        total += count
    if batch:
        batches.append(batch)
    return batches


def colorize_files(
    paths: Iterable[str | os.PathLike],
    output_dir: str | os.PathLike | None = None,
    model=None,
    suffix: str = "_colorized",
    overwrite: bool = False,
    compare: bool = False,
    batch_size: int = 8,
    render_size: int | None = None,
    progress: bool = False,
    precision: str = "float32",
    strength: float | None = None,
    shard: tuple[int, int] | None = None,
    faces: bool | None = None,
) -> PredictResult:
    """Colorize image files and folders (searched recursively), one PNG per input.

    A small pipeline: the model is loaded while the first photos are decoded; then
    photos are decoded (one thread) while the model runs on a batch, and coloured at
    full resolution, encoded and written (two threads, strip by strip: the full-size
    output never exists at once) while the model runs on the next. Memory stays
    bounded: a batch stops at ``batch_size`` photos or :data:`MAX_BATCH_PIXELS`
    full-resolution pixels, and at most three batches are in flight (being decoded,
    in the model, being written). Photos sharing a working shape share a model call; the model
    runs as one graph for every shape. One bad file never stops the others. Inputs
    are only read.

    Args:
        paths: image files and folders.
        output_dir: None (each output beside its input), a folder (keeping the
            sub-folders of searched folders), or, for a single input file, a file name.
        model: a loaded model, a :class:`~colorize.infer.runtime.Runner`, "default", an ``.onnx`` or ``.keras`` path, a run
            directory, None for the bundled default, or a ``concurrent.futures.Future``
            giving one of these (loaded by the caller while the first photos decode).
        suffix: added to each output's stem (``photo.jpg`` -> ``photo_colorized.png``;
            ``photo_jpg_colorized.png`` when ``photo.png`` is an input too).
        overwrite: replace outputs that already exist (inputs are never replaced).
        compare: also write ``photo_compare.png``: input | output side by side.
        batch_size: photos per model call (those of the same working shape share one).
        render_size: the model's working long side (see :func:`colorize_image`).
        progress: show a tqdm progress bar on stderr.
        precision: "float32", "bfloat16" or "auto" (see :func:`colorize_image`).
        strength: colour strength in [0, 1] (see :func:`colorize_image`).
        shard: ``(k, n)``: only the k-th of n shares of the inputs (1 <= k <= n; see
            :func:`shard_of`), for n processes or batch jobs that split one folder.
        faces: colour faces again in tight crops (see :func:`colorize_image`).

    Returns:
        A :class:`PredictResult` with written, skipped (existing output), failed
        (input, reason), ignored (not images, earlier outputs, links to folders) and
        notes (first frame used) lists.

    Raises:
        colorize.saving.ModelLoadError: the model cannot be loaded (nothing is written).
        ValueError: the output cannot be written there, or the render size does not
            fit in memory (checked before any photo is decoded).

    Example:
        >>> result = colorize_files(["scans/"], "colour/", compare=True)  # doctest: +SKIP
        >>> [str(reason) for _, reason in result.failed]
        []
    """
    from concurrent.futures import Future

    precision = runtime.resolve_precision(precision)
    jobs, result = plan_files(paths, output_dir, model, suffix, overwrite, compare, shard)
    if not jobs:
        return result

    def load():
        return warmed_runner(model.result() if isinstance(model, Future) else model, precision, strength, faces)

    colorize_jobs(jobs, load, result, suffix=suffix, compare=compare, batch_size=batch_size,
                  render_size=render_size, progress=progress)  # fmt: skip
    return result


def plan_files(
    paths: Iterable[str | os.PathLike],
    output_dir: str | os.PathLike | None = None,
    model=None,
    suffix: str = "_colorized",
    overwrite: bool = False,
    compare: bool = False,
    shard: tuple[int, int] | None = None,
) -> tuple[list[tuple[Path, Path]], PredictResult]:
    """The ``(input, output)`` jobs of a run, and a :class:`PredictResult` holding what is
    already decided (kept outputs, failures and what was passed over), before any photo is read.

    Raises:
        colorize.saving.ModelLoadError: ``model`` names nothing loadable.
        ValueError: the output cannot be written there.
    """
    paths = [Path(p) for p in paths]
    output_dir = Path(output_dir) if output_dir is not None else None
    single = len(paths) == 1 and not paths[0].is_dir()
    if output_dir is not None and output_dir.suffix.lower() in OUTPUT_SUFFIXES and not single:
        raise ValueError(f"output {output_dir} is a file name but the inputs are several or a folder; pass a folder")
    check_output(output_dir, single)
    if isinstance(model, (str, os.PathLike)) or model is None:
        saving.resolve_model_path(model or "default", onnx=True)  # a wrong name fails now, before any work
    result = PredictResult()
    jobs = _plan(paths, output_dir, suffix, compare, overwrite, result)
    if shard is not None:
        jobs = _keep_shard(jobs, result, shard)
    return jobs, result


def warmed_runner(
    model=None, precision: str = "float32", strength: float | None = None, faces: bool | None = None
) -> runtime.Runner:
    """:func:`~colorize.infer.runtime.load_runner`, then one call on a tiny batch: the graph is
    traced (Keras) or its kernels chosen (ONNX Runtime) before the first photo arrives."""
    runner = runtime.load_runner(model, precision, strength, faces)
    probe = runner.working_shape(SIZE_MULTIPLE, SIZE_MULTIPLE * 2)
    runner.predict(np.zeros((1, *probe, 1), np.float32))
    return runner


def colorize_jobs(
    jobs: list[tuple[Path, Path]],
    load,
    result: PredictResult,
    suffix: str = "_colorized",
    compare: bool = False,
    batch_size: int = 8,
    render_size: int | None = None,
    progress: bool = False,
) -> None:
    """Colorize planned ``(input, output)`` jobs into ``result``: the pipeline of :func:`colorize_files`.

    ``load()`` gives the runner; it is called in a thread of its own while the first photos
    decode. What was written, failed and noted is added to ``result`` in the jobs' order.
    The Ray path (:mod:`colorize.infer.distributed`) runs each share of a folder through here.
    """
    from concurrent.futures import ThreadPoolExecutor

    in_order = list(jobs)
    ordered, sizes = _by_shape(jobs, [header_size(path) for path, _ in jobs])
    batches = _batches(ordered, [width * height for width, height in sizes], max(1, int(batch_size)), MAX_BATCH_PIXELS)
    start = {name: len(getattr(result, name)) for name in ("written", "failed", "notes")}

    loader = ThreadPoolExecutor(1, thread_name_prefix="colorize-load")
    readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="colorize-read")
    writers = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="colorize-write")
    loading = loader.submit(load)

    def read(path):
        decoded, dtype = lightness.read(path, keep_colour=True) if compare else lightness.read(path)
        prepared = prepare(decoded, dtype, preview=compare)
        del decoded
        runner = loading.result()
        return prepared, small_l(prepared, runner.working_shape(*prepared.shape, render_size))

    def write(target, prepared, pending):
        """Decode the model's output, colour at full resolution, encode and write (in a writer thread)."""
        ab = pending()
        runner = loading.result()
        if runner.faces:
            ab = recolour_faces(runner, prepared, ab)
        if not compare:
            colour_and_write(prepared, ab, target)
            return None
        colour = compose(prepared, ab)
        atomic_write_bytes(target, encode_image(colour, target))
        side = compare_path_for(target, suffix)
        atomic_write_bytes(side, encode_image(side_by_side(prepared.preview, colour), side))
        return side

    def collect(writes, bar):
        for path, target, future in writes:
            try:
                side = future.result()
                result.written.append((path, target))
                if side is not None:
                    result.compared.append(side)
            except Exception as error:  # noqa: BLE001 - one bad photo must not stop the run
                log.debug("colouring or writing %s failed", path, exc_info=True)
                result.failed.append((path, f"could not write {target}: {errors.one_line(error)}"))
            bar.update(1)

    def submit(batch):
        return [(path, target, readers.submit(read, path)) for path, target in batch]

    def run_group(runner, group, bar):
        """Read jobs -> one model call -> their writes submitted: [(path, target, future)]."""
        ready = []
        for path, target, future in group:
            try:
                prepared, small = future.result()
            except (ColorizeError, OSError, ValueError, MemoryError) as error:
                result.failed.append((path, _reason(error, path)))
                bar.update(1)
                continue
            ready.append((path, target, prepared, small))
        if not ready:
            return []
        runtime.check_render_size(runner, render_size, [image.shape for _, _, image, _ in ready])
        try:
            predicted = predict_grouped(runner, [small for _, _, _, small in ready], finish=False)
        except Exception as error:  # noqa: BLE001 - one bad batch must not stop the run
            log.debug("model call failed", exc_info=True)
            result.failed.extend((path, f"model failed: {errors.one_line(error)}") for path, _, _, _ in ready)
            bar.update(len(ready))
            return []
        done = []
        for position, pending in enumerate(predicted):
            path, target, prepared, _ = ready[position]
            ready[position] = None  # the decoded photo leaves memory once coloured
            if prepared.frames > 1:
                result.notes.append((path, f"used the first of its {prepared.frames} frames"))
            done.append((path, target, writers.submit(write, target, prepared, pending)))
            del prepared
        return done

    try:
        upcoming, writing = submit(batches[0]), []  # decoded while the model loads
        runner = loading.result()
        if render_size and runner.fixed_size:
            log.warning("this model only works at %d x %d; render size %d ignored", runner.fixed_size, runner.fixed_size, render_size)
        with _progress_bar(len(jobs), progress) as bar:
            for index in range(len(batches)):
                current, upcoming = upcoming, (submit(batches[index + 1]) if index + 1 < len(batches) else [])
                # A runner that calls its network photo by photo hands each photo on as it comes:
                # the writers start on the first while the network runs on the next.
                groups = [current] if runner.shares_calls else [[job] for job in current]
                done = []
                for group in groups:
                    done.extend(run_group(runner, group, bar))
                collect(writing, bar)  # the batch before: its outputs leave memory
                writing = done
            collect(writing, bar)
    finally:
        for pool in (readers, writers, loader):
            pool.shutdown(wait=True, cancel_futures=True)
    _in_input_order(result, in_order, start)


def _progress_bar(total: int, progress: bool):
    """A tqdm bar on stderr for a run of several photos; for one photo (or none asked) a silent
    stand-in, and tqdm (a tenth of a second to import) is not imported."""
    if progress and total > 1:
        from tqdm import tqdm

        return tqdm(total=total, desc="colorize", unit="img", disable=None, leave=False)
    import contextlib
    import types

    return contextlib.nullcontext(types.SimpleNamespace(update=lambda count=1: None))


def _reason(error: BaseException, path: Path) -> str:
    """The error message without a leading repetition of the path."""
    text = errors.one_line(error)
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text
