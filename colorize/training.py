"""Training: :func:`train`, the code behind `colorize train`.

It builds and compiles the model a :class:`colorize.config.TrainConfig` names, feeds it
its data (tf.data under TensorFlow, a Keras ``PyDataset`` elsewhere) and runs ``fit``
with the callbacks that keep a run directory. Its rooms: the run directory's layout and
bookkeeping in :mod:`colorize.rundir`, distribution strategies and the device in
:mod:`colorize.distribute`, cached extractor vectors in :mod:`colorize.embeddings`.

Example:
    >>> from colorize.config import TrainConfig
    >>> from colorize.training import train
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
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from colorize import distribute, embeddings, layout, registry, rundir
from colorize.config import TrainConfig
from colorize.data import folders
from colorize.errors import ColorizeError, WeightsNotFoundError

log = logging.getLogger(__name__)

# rebalanced_crossentropy_l1: the L1 term's weight on the annealed-mean a*b* (scaled units, where a
# typical error is ~0.08 and the rebalanced cross-entropy ~2-4 nats: both terms matter).
BINS_L1_WEIGHT = 10.0


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

    from colorize.callbacks import EpochTracker

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
        sources = _sources(config)
        vectors = _cached_embeddings(config, sources) if config.cache_embeddings else None
        if config.jit and tf:
            tf.config.optimizer.set_jit(True)
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy("mixed_float16" if distribute.on_gpu() else "mixed_bfloat16")
        if resume:  # the model config.json names must be the one the run's weights are of; nothing written before
            setup = _resumed_setup(config, sources, vectors is not None, strategy, chief_dir)
            rundir.write_config(chief_dir, config.to_dict())  # output_dir: where the run now is
        else:
            setup = _build_and_compile(config, sources, embedding_input=vectors is not None, strategy=strategy)
        replicas = strategy.num_replicas_in_sync if strategy else 1
        train_data, val_data, sample_batch, steps = _datasets(config, sources, replicas, vectors)
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
                    verbose=_fit_verbosity(),
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


def _resumed_setup(config: TrainConfig, sources, embedding_input: bool, strategy, run_dir: Path) -> "_Setup":
    """The model of a resumed run, built from its config.json and checked against its last.keras.

    Raises:
        ColorizeError: config.json names a model other than the one the run's weights are of.
    """
    from colorize import saving

    saved = run_dir / layout.LAST_NAME
    saved_config = saving.saved_model_config(saved) if saved.is_file() else None
    if saved_config is None:
        return _build_and_compile(config, sources, embedding_input=embedding_input, strategy=strategy)
    mismatch = (f"{run_dir}/config.json says model {config.model!r} with options {config.model_options or {}} "
                f"but the run's weights (last.keras) are of another model ({saved_config.get('name')!r})")  # fmt: skip
    advice = "nothing was changed: fix config.json or start a new run"
    try:
        setup = _build_and_compile(config, sources, embedding_input=embedding_input, strategy=strategy)
    except ValueError as error:
        raise ColorizeError(f"{mismatch}; {advice} ({' '.join(str(error).split())})") from None
    if _layer_shapes(setup.export().get_config()) != _layer_shapes(saved_config):
        raise ColorizeError(f"{mismatch}; {advice}")
    return setup


def _layer_shapes(model_config: dict) -> list[tuple]:
    """What decides a functional model's weights, from its config: the model's name and each layer's
    class, name and sizes (not its dtype: a mixed-precision run saves the same weights)."""
    import json

    sizes = ("filters", "units", "kernel_size", "num_bins", "output_dim")
    layers = [(layer.get("class_name"), layer.get("config", {}).get("name"),
               *(json.dumps(layer.get("config", {}).get(key), default=str) for key in sizes))
              for layer in model_config.get("layers", []) if isinstance(layer, dict)]  # fmt: skip
    return [model_config.get("name"), *layers]


def _fit_verbosity() -> int:
    """Keras' live progress bar on a terminal, one line per epoch in a log file, nothing when quiet."""
    import sys

    if not log.isEnabledFor(logging.WARNING):
        return 0
    try:
        return 1 if sys.stdout.isatty() else 2
    except (AttributeError, ValueError):  # closed or replaced stdout
        return 2


def _weights_extractor(config: TrainConfig) -> str | None:
    """The extractor whose pretrained weights the model loads, or None when it has none."""
    spec = registry.MODELS.get(config.model)
    if spec is None or not spec.loads_extractor_weights:
        return None
    name = spec.fixed_extractor or _extractor_name(config)
    return None if name == "none" else name


def _extractor_weights(config: TrainConfig) -> str | None:
    """The builder's ``extractor_weights``: a file or official name, or None for random weights.

    Without ``extractor_weights`` a model with a pretrained extractor gets that
    extractor's official weights (an error names the file when it is missing); random
    extractor weights only with ``extractor_weights="random"``.
    """
    if config.extractor_weights == "random":
        return None
    if config.extractor_weights is not None:
        return config.extractor_weights
    extractor = _weights_extractor(config)
    if extractor is None:
        return None
    from colorize.models import extractors

    return next(iter(extractors.get_extractor(extractor).weight_files), None)


def _check_options(config: TrainConfig) -> None:
    """Everything that can be checked before the run directory is made."""
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        if config.strategy in ("mirrored", "multiworker"):
            raise ValueError(f"--strategy {config.strategy} needs the TensorFlow backend (Keras runs on {backend})")
        if config.cache_embeddings:
            raise ValueError(f"--cache-embeddings needs the TensorFlow backend (Keras runs on {backend})")

    registry.get(config.model)  # unknown name: ValueError listing the allowed ones
    _check_batch_memory(config)
    parameters = registry.builder_parameters(config.model, config.model_options)
    set_here = {"image_size", "extractor", "extractor_weights", "embedding_input"}
    allowed = sorted(name for name in parameters if name not in set_here)
    for key, value in config.model_options.items():
        if key not in parameters or key in set_here:
            raise ValueError(
                f"unknown builder option {key!r} for model {config.model!r}; allowed: {', '.join(allowed) or 'none'}"
            )
        default = parameters[key].default
        if isinstance(default, (bool, int, float, str)) and default is not None:
            expected = type(default)
            fits = (isinstance(value, bool) if expected is bool
                    else isinstance(value, (int, float)) and not isinstance(value, bool) if expected is float
                    else isinstance(value, expected) and not isinstance(value, bool))  # fmt: skip
            if not fits:
                raise ValueError(
                    f"builder option {key} must be {expected.__name__} (default {default!r}). Received: {key}={value!r}"
                )
    if config.cache_embeddings:
        if _extractor_name(config) == "none":
            raise ValueError("--cache-embeddings needs an extractor; Received: extractor='none'")
    extractor = _weights_extractor(config)
    weights = _extractor_weights(config)
    if extractor is not None and weights is not None:
        from colorize.models import extractors

        try:  # missing or unreadable file: named now, not after building
            extractors.resolve_weights(extractor, weights)
        except WeightsNotFoundError as error:
            if config.extractor_weights is not None:
                raise
            raise WeightsNotFoundError(f"{error}; or --extractor-weights random for an untrained {extractor}") from None
    for data in config.data_sources:
        rundir.check_apart(Path(config.output_dir), Path(data))


# A training batch's tensors per pixel in the data pipeline alone (RGB, Lab, resizing, augmenting:
# about 16 float32 values); the model's activations come on top.
BATCH_BYTES_PER_PIXEL = 64


def _check_batch_memory(config: TrainConfig) -> None:
    """Refuse an image size whose batches cannot fit in memory, before any work.

    Raises:
        ValueError: naming --image-size and --batch-size, the memory needed and available.
    """
    from colorize import runtime

    available = runtime.available_memory()
    need = config.batch_size * config.image_size**2 * BATCH_BYTES_PER_PIXEL
    if available is None or need <= 0.8 * available:
        return
    fits = int((0.8 * available / config.batch_size / BATCH_BYTES_PER_PIXEL) ** 0.5)
    raise ValueError(
        f"--image-size {config.image_size} with --batch-size {config.batch_size} needs at least "
        f"{need / 2**30:.1f} GB for each batch but {available / 2**30:.1f} GB is available; "
        f"use --image-size {max(16, fits)} or less, or a smaller --batch-size"
    )


def _extractor_name(config: TrainConfig) -> str:
    """The extractor the model will use: the option, else the registry's default for the model."""
    if config.extractor is not None:
        return config.extractor
    spec = registry.MODELS.get(config.model)
    return spec.extractor if spec is not None and spec.extractor is not None else "none"


@dataclasses.dataclass
class _Sources:
    """Where the training and validation examples come from, and how many there are."""

    data_dir: Path
    train: Any  # a prepared dir, or a list of files
    val: Any
    num_train: int
    num_val: int
    parts: list["_Sources"] | None = None  # several sources trained on together (config.mix)


def _sources(config: TrainConfig) -> _Sources:
    """Each source's splits; several sources are kept as ``parts`` of one :class:`_Sources`."""
    parts = [_one_source(data) for data in config.data_sources]
    if len(parts) == 1:
        return parts[0]
    return _Sources(parts[0].data_dir, None, None, sum(p.num_train for p in parts), sum(p.num_val for p in parts),
                    parts)  # fmt: skip


def _one_source(data: str) -> _Sources:
    """A prepared data set brings its own splits; a plain folder is split by :func:`colorize.data.folders.split_folder`."""
    from colorize.data import pipeline

    data = Path(data)
    if not data.exists():
        raise FileNotFoundError(f"{data}: no such data set or image folder")
    if pipeline.is_prepared_dir(data):
        counts = pipeline.read_manifest(data).get("counts", {})
        return _Sources(data, str(data), str(data), counts.get("train", 0), counts.get("val", 0))
    runs = rundir.run_dirs_under(data)
    if runs:
        log.warning("%s: skipping %d training run folder(s) inside it (%s)", data, len(runs), runs[0])
    train_files, val_files = folders.split_folder(data, exclude=runs)
    return _Sources(data, train_files, val_files, len(train_files), len(val_files))


@dataclasses.dataclass
class _Setup:
    """The compiled training model and how to get the model to save / to draw samples with."""

    model: Any  # what fit trains: the built model, or under multiworker a functional copy sharing its variables
    export: Any  # () -> keras.Model saved as best.keras / last.keras
    predict: Any  # l_scaled -> ab_scaled, for the sample pictures


def _build_and_compile(config: TrainConfig, sources: _Sources, embedding_input: bool = False,
                       strategy=None) -> _Setup:  # fmt: skip
    """Build the model named in the config (inside ``strategy``'s scope) and compile it with its loss and metrics.

    Under ``--strategy multiworker`` the model that ``fit`` trains is made outside the
    scope from the built one (:func:`colorize.distribute.multiworker_model`).
    """
    import keras

    from colorize import metrics, models

    options = dict(config.model_options)
    if config.extractor is not None:
        options["extractor"] = config.extractor
    if _extractor_weights(config) is not None and not embedding_input:
        options["extractor_weights"] = _extractor_weights(config)
    if embedding_input:
        options["embedding_input"] = True
    adversarial = registry.get(config.model).adversarial
    if adversarial and config.gan_schedule == "alternate":
        # The DigiFace report's GAN swapped generator and discriminator every epoch.
        options.setdefault("alternate_every", config.steps_per_epoch or max(1, -(-sources.num_train // config.batch_size)))
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = models.build_model(config.model, image_size=config.image_size, **options)
    trained = distribute.multiworker_model(model) if config.strategy == "multiworker" else model
    with strategy.scope() if strategy else contextlib.nullcontext():
        if adversarial:
            trained.compile(
                generator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
                discriminator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
                alternate=config.gan_schedule == "alternate",
                jit_compile=distribute.jit_compile(config.jit),
            )
        else:
            loss_name = config.effective_loss
            compile_metrics = None
            if not loss_name.startswith("rebalanced_crossentropy"):
                compile_metrics = [metrics.AbMAE(), metrics.ThresholdAccuracy()]
            trained.compile(
                optimizer=keras.optimizers.Adam(config.learning_rate),
                loss=_make_loss(loss_name, config, sources),
                metrics=compile_metrics,
                jit_compile=distribute.jit_compile(config.jit),
            )
        if config.init_weights is not None:
            _load_initial_weights(model, config.init_weights)
    if embedding_input:
        return _embedding_setup(config, model, trained)
    inference = models.as_inference_model(model)
    return _Setup(trained, lambda: model, lambda l_scaled: inference(l_scaled, training=False))


def _load_initial_weights(model, source: str) -> None:
    """Copy every weight of a saved model into ``model``, layer by layer (names and shapes must match).

    Raises:
        ColorizeError: the saved model is missing or corrupt, or does not fit ``model``
            (the message names the first layer that differs).
    """
    from colorize import saving
    from colorize.models import colorizer

    path = saving.resolve_model_path(source)
    saved = saving.load_saved_model(path)
    saved_layers = {layer.name: layer for layer in saved.layers if layer.weights}
    target_layers = [layer for layer in model.layers if layer.weights]
    for layer in target_layers:
        other = saved_layers.get(layer.name)
        shapes = [tuple(w.shape) for w in layer.weights]
        other_shapes = None if other is None else [tuple(w.shape) for w in other.weights]
        if shapes != other_shapes:
            raise ColorizeError(
                f"--init-weights: {path} does not fit this model: layer {layer.name!r} has weights {shapes}, "
                f"the saved model {'has none by that name' if other is None else other_shapes}; "
                "pass the same --model and --option values it was trained with"
            )
    if len(saved_layers) != len(target_layers):
        raise ColorizeError(
            f"--init-weights: {path} has {len(saved_layers)} layers with weights, this model {len(target_layers)}; "
            "pass the same --model and --option values it was trained with"
        )
    colorizer.copy_weights_by_name(saved, model)
    log.info("initial weights from %s", path)


def _cached_embeddings(config: TrainConfig, sources: _Sources) -> dict:
    """Each split's extractor vectors, computed once and kept in DATA/embeddings/ (:mod:`colorize.embeddings`)."""
    import keras

    from colorize.models import colorizer

    extractor = _extractor_name(config)
    keras.utils.set_random_seed(config.seed)  # weights=None: the random extractor is seeded
    model = colorizer.build_extractor_model(
        extractor, config.image_size, config.model_options.get("extractor_input_size"), _extractor_weights(config)
    )
    vectors = embeddings.cached_embeddings(
        model, extractor, sources.data_dir / "embeddings", {"train": sources.train, "val": sources.val},
        config.image_size, config.batch_size,
    )  # fmt: skip
    keras.utils.set_random_seed(config.seed)
    return vectors


def _embedding_setup(config: TrainConfig, model, trained) -> _Setup:
    """A fusion model trained on cached vectors is saved with its extractor wired back in."""
    from colorize.models import colorizer

    full = colorizer.fusion_inference_model(
        model, _extractor_name(config), _extractor_weights(config), config.model_options.get("extractor_input_size")
    )

    def export():
        return colorizer.copy_weights_by_name(model, full)

    return _Setup(trained, export, lambda l_scaled: export()(l_scaled, training=False))


def _make_loss(name: str, config: TrainConfig, sources: _Sources):
    from colorize import losses

    if name == "l1":
        return losses.L1()
    if name == "mse":
        return losses.MSE()
    distribution = _ab_distribution(config, sources)
    if name.startswith("rebalanced_crossentropy"):
        from colorize.models import classification

        return losses.RebalancedCrossEntropy(
            weights=classification.rebalancing_weights(*distribution, lambda_=config.rebalance),
            l1_weight=BINS_L1_WEIGHT if name.endswith("_l1") else 0.0,
        )
    power = 1 if name.endswith("l1") else 2
    return losses.ColourWeightedLoss(histogram=distribution[0], edges=distribution[1], power=power,
                                     lambda_=config.rebalance)


def _ab_distribution(config: TrainConfig, sources: _Sources):
    """The data set's stored a*b* histogram; for a plain folder, counted from its training split."""
    from colorize.data import pipeline

    if sources.parts:
        # Each source's distribution, normalized, weighted by its share of the training stream.
        mixed, edges = None, None
        for part, share in zip(sources.parts, config.mix_weights):
            histogram, edges = _ab_distribution(config, part)
            histogram = share * histogram / max(float(histogram.sum()), 1e-12)
            mixed = histogram if mixed is None else mixed + histogram
        return mixed, edges
    if pipeline.is_prepared_dir(sources.data_dir) or (sources.data_dir / layout.AB_DISTRIBUTION_NAME).exists():
        try:
            return pipeline.load_ab_distribution(sources.data_dir)
        except (FileNotFoundError, OSError) as error:
            raise ColorizeError(
                f"loss {config.effective_loss!r} needs the data set's ab distribution ({error}); "
                "run `colorize prepare` again to write it"
            ) from None
    from colorize import color, metrics

    log.info("counting the a*b* distribution of %d training images", sources.num_train)
    histogram = np.zeros((len(metrics.AB_EDGES) - 1,) * 2)
    for _, ab_scaled in _batches(sources.train, "train", config.image_size, 64):
        histogram += metrics.ab_histogram(np.asarray(ab_scaled) * color.AB_SCALE)
    return histogram, metrics.AB_EDGES


def rebalancing_prior(run_dir: str | os.PathLike, decode: float) -> np.ndarray:
    """The log prior shift (Q,) that decodes the bins model of training run ``run_dir`` as if
    it had been trained with class rebalancing ``decode`` (for ``colorize export --rebalance``).

    The run's config gives its data (whose a*b* distribution is read as in training) and the
    rebalancing it was trained with; see ``classification.rebalancing_prior``.

    Raises:
        ColorizeError: ``run_dir`` is not a run directory of a rebalanced-cross-entropy model,
            or ``decode`` is outside (0, 1].
    """
    from colorize.config import read_config_file
    from colorize.models import classification

    if not (isinstance(decode, (int, float)) and 0 < decode <= 1):
        raise ColorizeError(f"rebalance must be a number in (0, 1] (1: no rebalancing). Received: {decode!r}")
    if not rundir.is_run_dir(run_dir):
        raise ColorizeError(f"{run_dir} is not a training run directory (no config.json): --rebalance needs the "
                            "run, whose data give the colour distribution")  # fmt: skip
    config = TrainConfig.from_dict(read_config_file(Path(run_dir) / layout.CONFIG_NAME))
    if not config.effective_loss.startswith("rebalanced_crossentropy"):
        raise ColorizeError(f"{run_dir} trained {config.model} with loss {config.effective_loss!r}; "
                            "--rebalance applies to the bins models trained with rebalanced_crossentropy")  # fmt: skip
    histogram, edges = _ab_distribution(config, _sources(config))
    return classification.rebalancing_prior(histogram, edges, decode, trained=config.rebalance)


def _batches(source, split: str, image_size: int, batch_size: int):
    """One unshuffled pass over a source as (l_scaled, ab_scaled) batches: tf.data under TensorFlow, else NumPy."""
    import keras

    if keras.backend.backend() == "tensorflow":
        from colorize.data import pipeline

        yield from pipeline.make_dataset(source, split=split, image_size=image_size, batch_size=batch_size, shuffle=False)
        return
    from colorize.data import pydataset

    data = pydataset.make_pydataset(source, split, image_size=image_size, batch_size=batch_size, shuffle=False)
    for index in range(len(data)):
        yield data[index]


def _py_datasets(config: TrainConfig, sources: _Sources):
    """Without TensorFlow: the same streams as Keras PyDatasets (NumPy / OpenCV in worker threads)."""
    from colorize.data import pydataset

    parts = sources.parts or [sources]
    common = dict(image_size=config.image_size, batch_size=config.batch_size, seed=config.seed)
    train_data = pydataset.LabBatches([pydataset.open_source(part.train, "train") for part in parts],
                                      config.mix_weights, augment=config.augment, shuffle=True, repeat=True, **common)  # fmt: skip
    val_data = pydataset.LabBatches([pydataset.open_source(part.val, "val") for part in parts], **common)
    steps = {
        "train": config.steps_per_epoch or max(1, -(-sources.num_train // config.batch_size)),
        "val": config.validation_steps,
    }
    sample_batch = None
    if config.num_samples:
        per_part = -(-config.num_samples // len(parts))
        batches = [pydataset.make_pydataset(part.val, "val", config.image_size, per_part, shuffle=False)[0] for part in parts]
        sample_batch = tuple(np.concatenate(arrays) for arrays in zip(*batches))
    return train_data, val_data, sample_batch, steps


def _datasets(config: TrainConfig, sources: _Sources, replicas: int = 1, vectors: dict | None = None):
    """Training and validation tf.data pipelines, the steps per epoch, and a fixed batch of samples.

    Under another Keras backend than TensorFlow: Keras PyDatasets (:func:`_py_datasets`).
    """
    import keras

    from colorize.data import pipeline

    if keras.backend.backend() != "tensorflow":
        return _py_datasets(config, sources)

    common = dict(image_size=config.image_size, batch_size=config.batch_size, seed=config.seed)
    steps = {"train": config.steps_per_epoch, "val": config.validation_steps}
    if sources.parts:
        train_data, val_data = _mixed_datasets(config, sources)
        steps["train"] = steps["train"] or max(1, -(-sources.num_train // config.batch_size))
    elif vectors is None:
        train_data = pipeline.make_dataset(sources.train, split="train", augment=config.augment, shuffle=True, **common)
        val_data = pipeline.make_dataset(sources.val, split="val", augment=False, shuffle=False, **common)
        if config.steps_per_epoch:
            train_data = train_data.repeat()
    else:
        train_data, val_data = (
            embeddings.with_embeddings(source, split, vectors[split], augment=config.augment, training=split == "train",
                                       **common)
            for source, split in ((sources.train, "train"), (sources.val, "val"))
        )  # fmt: skip
        steps["train"] = steps["train"] or max(1, -(-len(vectors["train"]) // config.batch_size))
    if replicas > 1:
        # Replicas need full batches: repeat both streams and count steps from the split sizes.
        train_data, val_data = (
            data.unbatch().repeat().batch(config.batch_size, drop_remainder=True) for data in (train_data, val_data)
        )
        steps["train"] = steps["train"] or max(1, sources.num_train // config.batch_size)
        steps["val"] = steps["val"] or max(1, -(-sources.num_val // config.batch_size))
    if config.strategy == "multiworker":
        import tensorflow as tf

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        train_data, val_data = train_data.with_options(options), val_data.with_options(options)
    sample_batch = None
    if config.num_samples:
        sample_batch = _sample_batch(config, sources)
    return train_data, val_data, sample_batch, steps


def _mixed_datasets(config: TrainConfig, sources: _Sources):
    """Training examples drawn from every source by its ``mix`` share; validation on all their val splits."""
    import tensorflow as tf

    from colorize.data import pipeline

    common = dict(image_size=config.image_size, batch_size=config.batch_size, seed=config.seed)
    streams = [
        pipeline.make_dataset(part.train, split="train", augment=config.augment, shuffle=True, repeat=True,
                              **common).unbatch()
        for part in sources.parts
    ]  # fmt: skip
    train_data = tf.data.Dataset.sample_from_datasets(streams, weights=config.mix_weights, seed=config.seed)
    train_data = train_data.batch(config.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    val_data = None
    for part in sources.parts:
        data = pipeline.make_dataset(part.val, split="val", augment=False, shuffle=False, **common)
        val_data = data if val_data is None else val_data.concatenate(data)
    return train_data, val_data


def _sample_batch(config: TrainConfig, sources: _Sources):
    """A fixed batch of validation examples for samples/ (shared out over the sources)."""
    import tensorflow as tf

    from colorize.data import pipeline

    parts = sources.parts or [sources]
    per_part = -(-config.num_samples // len(parts))
    batches = []
    for part in parts:
        samples = pipeline.make_dataset(
            part.val, split="val", image_size=config.image_size, batch_size=per_part, shuffle=False, seed=config.seed,
        )  # fmt: skip
        batch = next(iter(samples.take(1)), None)
        if batch is not None:
            batches.append(batch)
    if not batches:
        return None
    return tuple(tf.concat(tensors, axis=0) for tensors in zip(*batches))


def _callbacks(config: TrainConfig, run_dir: Path, setup: _Setup, sample_batch):
    import keras

    from colorize.callbacks import ModelExport, NanStop, SafeBackupAndRestore, SampleImages

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
