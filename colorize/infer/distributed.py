"""Colorize files and folders on a Ray cluster: :func:`colorize_files_on_ray`.

The driver lists and plans the inputs as the local run does (output names, collisions,
kept outputs, ``shard``: :func:`colorize.infer.batch.plan_files`); the planned ``(input,
output)`` pairs become a Ray Data dataset, and a pool of actors, each holding one runner
(one ONNX Runtime session, loaded once), colours batches of them through the local
pipeline (:func:`colorize.infer.batch.colorize_jobs`: the same decoding, model calls,
colouring, encoding and atomic writes, so the same bytes). Each actor answers per file:
written, kept (its output appeared meanwhile) or failed with the one-line reason; the
driver gathers the answers into the same :class:`PredictResult`.

Every node must have colorize installed and see the inputs, the outputs and a model
file at the same paths (a shared file system). An interrupted run is resumed by running
it again: finished outputs are kept (unless ``overwrite``), as in the local run.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from colorize import errors
from colorize.errors import ColorizeError
from colorize.infer import batch
from colorize.infer.naming import compare_path_for
from colorize.infer.result import PredictResult

log = logging.getLogger(__name__)

RAY_INSTALL = "pip install 'colorize-keras[ray]'"
FILES_PER_CALL = 64  # files an actor colours in one call (8 model batches of 8: decoding and writing overlap the model)
WRITTEN, KEPT, FAILED = "written", "kept", "failed"


class RayNotInstalledError(ColorizeError, ImportError):
    """Ray Data is not installed; the message names the extra to install."""


class RayRunError(ColorizeError):
    """The Ray cluster stopped the run (an actor could not start, the cluster was lost)."""


def import_ray():
    """The ``ray`` module with Ray Data loaded.

    Raises:
        RayNotInstalledError: Ray or Ray Data is not installed (one line naming the extra).
    """
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data needs pandas and pyarrow (the ray[data] extra)
    except ImportError as error:
        missing = error.name or "ray"
        raise RayNotInstalledError(f"colorizing on Ray needs Ray Data ({missing} is not installed): {RAY_INSTALL}") from None
    return ray


def colorize_files_on_ray(
    paths: Iterable[str | os.PathLike],
    output_dir: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
    address: str | None = None,
    actors: int | None = None,
    shard: tuple[int, int] | None = None,
    **options,
) -> PredictResult:
    """Colorize image files and folders on a Ray cluster, one PNG per input, as :func:`colorize_files` does.

    Args:
        paths: image files and folders, at paths every node sees.
        output_dir: as for :func:`colorize_files` (a folder every node can write to).
        model: "default" or another preset (each node runs its own bundled copy), or an
            ``.onnx`` / ``.keras`` file or run directory on the shared file system.
        address: the cluster: "auto" (the running one: ``RAY_ADDRESS`` or ``ray start``),
            "local" (start one on this machine, stopped at the end), ``ray://HOST:10001``
            or ``HOST:6379``; None: ``RAY_ADDRESS``, else a local one. Ignored when this
            process is already connected (``ray.init``).
        actors: how many actors colour photos. Default: one per node, each asking for as
            many CPUs as the smallest node has (ONNX Runtime uses a node's cores).
        shard: ``(k, n)``: only the k-th of n shares of the inputs (see :func:`shard_of`).
        **options: ``suffix``, ``overwrite``, ``compare``, ``batch_size``, ``render_size``,
            ``precision``, ``strength``, ``faces``: as for :func:`colorize_files`.

    Returns:
        A :class:`PredictResult`, as the local run's (inputs in the same order).

    Raises:
        RayNotInstalledError: Ray Data is missing (``pip install 'colorize-keras[ray]'``).
        RayRunError: the cluster stopped the run (rerun it: finished outputs are kept).
        ConnectionError: no Ray cluster at ``address``.
        colorize.saving.ModelLoadError: the model cannot be loaded (nothing is written).
        ValueError: the output cannot be written there, or an unknown option.

    Example:
        >>> result = colorize_files_on_ray(["/archive/scans"], "/archive/colour", address="auto")  # doctest: +SKIP
        >>> result.ok
        True
    """
    settings = _settings(options)
    ray = import_ray()
    jobs, result = batch.plan_files(paths, output_dir, model, settings["suffix"], settings["overwrite"],
                                    settings["compare"], shard)  # fmt: skip
    if not jobs:
        return result
    model = _shared_model(model)
    # a corrupt model fails here, once
    batch.warmed_runner(model, settings["precision"], settings["strength"], settings["faces"])
    rows = [{"index": index, "input": str(path.absolute()), "output": str(target.absolute())}
            for index, (path, target) in enumerate(jobs)]  # fmt: skip
    with _connected(ray, address):
        count, cpus = _pool(ray, actors)
        log.info("colorizing %d file(s) on %d Ray actor(s) of %g CPU(s) each", len(rows), count, cpus)
        dataset = ray.data.from_items(rows).map_batches(
            _Colorizer,
            fn_constructor_kwargs={"model": model, **settings},
            compute=ray.data.ActorPoolStrategy(size=count),
            num_cpus=cpus,
            batch_size=FILES_PER_CALL,
            batch_format="numpy",
        )
        try:
            answers = {int(row["index"]): (str(row["status"]), str(row["detail"])) for row in dataset.iter_rows()}
        except ray.exceptions.RayError as error:
            if isinstance(error, ray.exceptions.UserCodeException):
                raise  # a bug in the actor's code (a photo's problems are answers, not errors): keep its traceback
            log.debug("the Ray run failed", exc_info=True)
            raise RayRunError(
                f"the Ray run stopped ({errors.one_line(error)}); run it again to go on (finished outputs are kept)"
            ) from None
    for index, (path, target) in enumerate(jobs):
        status, detail = answers.get(index, (FAILED, "no answer from the Ray cluster"))
        if status == WRITTEN:
            result.written.append((path, target))
            if settings["compare"]:
                result.compared.append(compare_path_for(target, settings["suffix"]))
            if detail:
                result.notes.append((path, detail))
        elif status == KEPT:
            result.skipped.append((path, target))
        else:
            result.failed.append((path, detail))
    return result


class _Colorizer:
    """A Ray Data actor: one runner, loaded once, and the local pipeline on each batch of files."""

    def __init__(self, model, precision, strength, suffix, overwrite, compare, batch_size, render_size, faces=None):
        self.runner = batch.warmed_runner(model, precision, strength, faces)
        self.overwrite = overwrite
        self.pipeline = {"suffix": suffix, "compare": compare, "batch_size": batch_size, "render_size": render_size}

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        jobs = [(Path(source), Path(target)) for source, target in zip(rows["input"], rows["output"])]
        result = PredictResult()
        # An output that appeared since the listing (a retried batch, a second run) is kept, as in the listing.
        todo = [(source, target) for source, target in jobs if self.overwrite or not target.exists()]
        if todo:
            try:
                batch.colorize_jobs(todo, lambda: self.runner, result, **self.pipeline)
            except (ColorizeError, ValueError, OSError, MemoryError) as error:
                # What stops a run on one machine (a render size too big for this node's memory) fails
                # this batch's files with the reason; the other batches go on.
                answered = {str(source) for source, _ in [*result.written, *result.failed]}
                reason = errors.one_line(error)
                result.failed.extend((source, reason) for source, _ in todo if str(source) not in answered)
        written = {str(source) for source, _ in result.written}
        failed = {str(source): reason for source, reason in result.failed}
        notes = {str(source): note for source, note in result.notes}
        kept = {str(source) for source, _ in jobs} - {str(source) for source, _ in todo}
        statuses, details = [], []
        for source, _ in jobs:
            key = str(source)
            if key in written:
                statuses.append(WRITTEN)
                details.append(notes.get(key, ""))
            elif key in kept:
                statuses.append(KEPT)
                details.append("")
            else:
                statuses.append(FAILED)
                details.append(failed.get(key, "not colorized (no answer from the pipeline)"))
        return {"index": rows["index"], "status": np.array(statuses, object), "detail": np.array(details, object)}


def _settings(options: dict) -> dict:
    """The pipeline's settings: ``options`` over :func:`colorize_files`' defaults."""
    settings = {"precision": "float32", "strength": None, "suffix": "_colorized", "overwrite": False,
                "compare": False, "batch_size": 8, "render_size": None, "faces": None}  # fmt: skip
    unknown = sorted(set(options) - set(settings))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; expected some of {', '.join(settings)}")
    settings.update(options)
    settings["batch_size"] = max(1, int(settings["batch_size"]))
    return settings


def _shared_model(model) -> str:
    """The model as every node names it: a preset by name, a file by its absolute path."""
    from colorize.registry import PRESETS

    if model is None or str(model) in PRESETS:
        return str(model or "default")
    if not isinstance(model, (str, os.PathLike)):
        raise ValueError("colorizing on Ray needs the model by name or path (each actor loads its own); "
                         f"Received: model of type {type(model).__name__}")  # fmt: skip
    return str(Path(model).absolute())


@contextlib.contextmanager
def _connected(ray, address: str | None):
    """Connected to the cluster at ``address`` for the block (left as it was when already connected).

    A local instance (``address`` "local") listens on loopback only (:func:`local_instance`).
    """
    if ray.is_initialized():
        yield
    elif address == "local":
        with local_instance(ray):
            yield
    else:
        ray.init(address=address, include_dashboard=False if address is None else None)
        try:
            yield
        finally:
            ray.shutdown()


@contextlib.contextmanager
def local_instance(ray, **options):
    """A Ray instance on this machine for the block, every service of it on 127.0.0.1 only.

    Nothing on the network can reach its unauthenticated services. Ray binds a local
    instance to the machine's network address unless told it runs as on a laptop
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: the loopback address, no other nodes); that
    setting holds for the block, in this process (where Ray reads it when it resolves the
    node's address) and in the processes Ray starts. ``options`` go to ``ray.init``.
    """
    name = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    saved_env, saved_flag = os.environ.get(name), getattr(constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[name] = "0"
    if saved_flag is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        ray.init(address="local", include_dashboard=False, **options)
        try:
            yield
        finally:
            ray.shutdown()
    finally:
        if saved_env is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved_env
        if saved_flag is not None:
            constants.ENABLE_RAY_CLUSTER = saved_flag


def _pool(ray, actors: int | None) -> tuple[int, float]:
    """(actors, CPUs each): by default one per node, each as large as the smallest node."""
    nodes = [node["Resources"].get("CPU", 0) for node in ray.nodes() if node.get("Alive")]
    nodes = [cpus for cpus in nodes if cpus >= 1] or [1]
    cpus = min(nodes)
    if actors is None:
        return len(nodes), cpus
    return max(1, int(actors)), max(1.0, min(cpus, sum(nodes) // max(1, int(actors))))
