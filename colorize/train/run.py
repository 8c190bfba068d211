"""Run a training: :func:`train`, the code behind `colorize train`.

It checks the options (:mod:`colorize.train.options`), builds and compiles the model
(:mod:`colorize.train.compile`, or :mod:`colorize.train.resume` for ``--resume``), feeds
it its data (:mod:`colorize.train.datasets`) and runs ``fit`` with the callbacks that keep
a run directory. Its rooms: the run directory's layout and bookkeeping in
:mod:`colorize.train.rundir`, distribution strategies and the device in :mod:`colorize.train.distribute`.

Example:
    >>> from colorize.train.config import TrainConfig
    >>> from colorize.train import train
    >>> result = train(TrainConfig(data="data/utk128", model="unet", epochs=2,
    ...                            output_dir="runs/unet"))  # doctest: +SKIP
    >>> result.best_epoch, result.best_metrics["val_loss"]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import math
import time
from pathlib import Path

from colorize import layout
from colorize.errors import ColorizeError
from colorize.train import distribute, rundir
from colorize.train.compile import Setup, build_and_compile
from colorize.train.config import TrainConfig
from colorize.train.datasets import cached_embeddings, data_sources, make_datasets
from colorize.train.options import _check_options
from colorize.train.resume import _resumed_setup

log = logging.getLogger(__name__)


class TrainingStopped(ColorizeError):
    """Training stopped early (NaN loss or interrupt); the message says where and what was kept."""


class TrainingInterrupted(TrainingStopped):
    """Ctrl-C (KeyboardInterrupt) during training; a checkpoint was saved first."""


@dataclasses.dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    run_dir: Path
    epochs_done: int
    best_epoch: int | None
    best_metrics: dict[str, float]
    elapsed_seconds: float
    files: dict[str, Path]
    stopped_reason: str | None = None
    already_finished: bool = False  # resumed a run that had done all its epochs: nothing trained


def train(config: TrainConfig, resume: bool = False, callbacks: list | None = None) -> TrainResult:
    """Train a model as described by ``config``, writing a run directory.

    Args:
        config: the run's configuration.
        resume: continue an interrupted run in ``config.output_dir`` from its last
            finished epoch (weights and optimizer state), up to ``config.epochs``.
        callbacks: extra Keras callbacks (run after the built-in ones).

    Returns:
        A :class:`TrainResult`.

    Raises:
        TrainingStopped: the loss became NaN (the message names epoch and batch) or
            the run was interrupted (a checkpoint was saved first).
        ValueError / ColorizeError: bad options or data.

    Example:
        >>> result = train(TrainConfig(data="data/utk128", model="unet", epochs=2,
        ...                            output_dir="runs/unet"))  # doctest: +SKIP
    """
    run_dir = Path(config.output_dir)
    rundir.check_start(run_dir, resume)
    _check_options(config)
    if config.init_weights is not None:  # a missing file is said before any folder is made
        from colorize import saving

        saving.resolve_model_path(config.init_weights)
    if resume and rundir.is_run_dir(run_dir):
        history = rundir.read_history(run_dir / layout.HISTORY_NAME)
        if len(history) >= config.epochs:
            # Nothing left to do: the run's files stay exactly as they are (a re-run of a
            # training recipe skips its finished stages).
            log.info("%s already finished %d of %d epochs; nothing to resume", run_dir, len(history), config.epochs)
            best_epoch, best_metrics = rundir.best_epoch(history)
            return TrainResult(run_dir, len(history), best_epoch, best_metrics, 0.0, rundir.run_files(run_dir),
                               already_finished=True)  # fmt: skip
    with rundir.removed_unless_finished(run_dir, keep_on=(TrainingInterrupted,)):
        if not resume:
            rundir.write_config(run_dir, config.to_dict())
        return _train(config, run_dir, resume, callbacks)


def _train(config: TrainConfig, run_dir: Path, resume: bool, callbacks: list | None) -> TrainResult:
    import keras

    from colorize.train.callbacks import EpochTracker

    tf = None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    previous_jit = tf.config.optimizer.get_jit() if tf else None
    previous_policy = keras.mixed_precision.global_policy().name
    try:
        strategy = distribute.make_strategy(config.strategy) if tf else None  # other backends: one device
        chief_dir, run_dir = run_dir, rundir.worker_output_dir(run_dir, strategy)
        run_dir.mkdir(parents=True, exist_ok=True)
        sources = data_sources(config)
        vectors = cached_embeddings(config, sources) if config.cache_embeddings else None
        if config.jit and tf:
            tf.config.optimizer.set_jit(True)
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy("mixed_float16" if distribute.on_gpu() else "mixed_bfloat16")
        if resume:  # the model config.json names must be the one the run's weights are of; nothing written before
            setup = _resumed_setup(config, sources, vectors is not None, strategy, chief_dir)
            rundir.write_config(chief_dir, config.to_dict())  # output_dir: where the run now is
        else:
            setup = build_and_compile(config, sources, embedding_input=vectors is not None, strategy=strategy)
        replicas = strategy.num_replicas_in_sync if strategy else 1
        train_data, val_data, sample_batch, steps = make_datasets(config, sources, replicas, vectors)
        multiworker = config.strategy == "multiworker"
        if multiworker:
            distribute.build_before_fit(setup.model, strategy, train_data)
        tracker = EpochTracker()
        built_in, stopper = _callbacks(config, run_dir, setup, sample_batch)
        if replicas > 1:
            log.info("training on %d replicas; global batch %d", replicas, config.batch_size)
        started = time.time()
        try:
            with strategy.scope() if multiworker else contextlib.nullcontext():
                setup.model.fit(
                    train_data,
                    validation_data=val_data,
                    epochs=config.epochs,
                    steps_per_epoch=steps["train"],
                    validation_steps=steps["val"],
                    callbacks=[tracker, *built_in, *(callbacks or [])],
                    shuffle=False,  # the pipelines shuffle
                    verbose=fit_verbosity(),
                )
        except KeyboardInterrupt:
            saved = run_dir / layout.INTERRUPTED_NAME
            rundir.save_model_quietly(setup.export(), saved)
            raise TrainingInterrupted(
                f"interrupted at epoch {tracker.epoch + 1}, batch {tracker.batch + 1}; weights saved to {saved}; "
                f"continue from the last finished epoch with: colorize train --resume {run_dir}"
            ) from None
        elapsed = time.time() - started
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
        if tf:
            tf.config.optimizer.set_jit(previous_jit)

    history = rundir.read_history(run_dir / layout.HISTORY_NAME)
    files = rundir.result_files(run_dir, history, title=f"{config.model} training")
    best_epoch, best_metrics = rundir.best_epoch(history)
    if stopper.message:
        raise TrainingStopped(stopper.message)
    return TrainResult(run_dir, len(history), best_epoch, best_metrics, elapsed, files)


def fit_verbosity() -> int:
    """Keras' live progress bar on a terminal, one line per epoch in a log file, nothing when quiet."""
    import sys

    if not log.isEnabledFor(logging.WARNING):
        return 0
    try:
        return 1 if sys.stdout.isatty() else 2
    except (AttributeError, ValueError):  # closed or replaced stdout
        return 2


def _callbacks(config: TrainConfig, run_dir: Path, setup: Setup, sample_batch):
    import keras

    from colorize.train.callbacks import (
        ModelExport,
        NanStop,
        SafeBackupAndRestore,
        SampleImages,
    )

    stopper = NanStop()
    earlier = [row["val_loss"] for row in rundir.read_history(run_dir / layout.HISTORY_NAME) if "val_loss" in row]
    callbacks = [
        SafeBackupAndRestore(str(run_dir / layout.BACKUP_DIR), save_freq="epoch", delete_checkpoint=False),
        stopper,
        ModelExport(run_dir, setup.export, best_so_far=min(earlier, default=math.inf)),
        keras.callbacks.CSVLogger(str(run_dir / layout.HISTORY_NAME), append=True),
    ]
    if importlib.util.find_spec("tensorflow") is not None:  # Keras writes TensorBoard logs with tf.summary
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / layout.LOGS_DIR), write_graph=False, profile_batch=0))
    if sample_batch is not None:
        callbacks.append(SampleImages(run_dir / layout.SAMPLES_DIR, setup.predict, sample_batch))
    return callbacks, stopper
