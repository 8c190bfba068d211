"""Training: a :class:`TrainConfig` and :func:`train`, the code behind `colorize train`.

A run directory holds everything a long run needs::

    RUN_DIR/
      config.json        the effective configuration (what --resume replays)
      history.csv        one row per finished epoch (Keras CSVLogger)
      logs/              TensorBoard event files
      best.keras         the model with the lowest validation loss so far
      last.keras         the model after the last finished epoch
      backup/            optimizer and epoch state for --resume (BackupAndRestore)
      samples/epoch_NNN.png   a few validation portraits: gray | predicted | truth
      loss.png           loss curves, written at the end

Example:
    >>> from colorize.training import TrainConfig, train
    >>> result = train(TrainConfig(data="data/utk128", model="unet", epochs=2,
    ...                            output_dir="runs/unet"))  # doctest: +SKIP
    >>> result.best_epoch, result.best_metrics["val_loss"]  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from colorize import registry
from colorize.errors import ColorizeError, WeightsNotFoundError

log = logging.getLogger(__name__)

STRATEGIES = ("auto", "one", "mirrored", "multiworker")

# The loss each model family was trained with in its seed document (from the registry).
DEFAULT_LOSSES = {name: spec.default_loss for name, spec in registry.MODELS.items()}
LOSSES = registry.LOSSES
# rebalanced_crossentropy_l1: the L1 term's weight on the annealed-mean a*b* (scaled units, where a
# typical error is ~0.08 and the rebalanced cross-entropy ~2-4 nats: both terms matter).
BINS_L1_WEIGHT = 10.0


class TrainingStopped(ColorizeError):
    """Training stopped early (NaN loss or interrupt); the message says where and what was kept."""


class TrainingInterrupted(TrainingStopped):
    """Ctrl-C (KeyboardInterrupt) during training; a checkpoint was saved first."""


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run; saved as RUN_DIR/config.json.

    Attributes:
        data: a prepared data set (from `colorize prepare`) or a plain folder of images;
            or a list of them, trained on together (see ``mix``).
        mix: with several ``data`` sources, the share of training examples drawn from
            each (normalized; None: equal shares). Validation uses every source's split.
        output_dir: the run directory.
        model: a registered model name (see ``colorize.models.MODELS``).
        model_options: extra keyword arguments for the model builder (e.g. ``{"base_filters": 32}``).
        extractor: global feature extractor for models that take one (fusion, uvgg ...).
        extractor_weights: None (the extractor's official weights, from the Keras cache: an error
            names the file when it is missing), "random" (untrained), a local weights file, or
            "imagenet" / "vggface".
        image_size: training resolution (square).
        batch_size: the global batch size (split across replicas by a distribution strategy).
        epochs: number of epochs to reach (also when resuming).
        learning_rate: Adam learning rate.
        loss: one of :data:`LOSSES`; None picks the seed's loss for the model.
        rebalance: the class-rebalancing mix lambda of the colour-weighted losses (seed 002):
            weights ~ ((1 - lambda) p + lambda / Q)^-1; 0.5 is the seed's, 1 no rebalancing.
        augment: random flips and small scale/crop jitter on the training split.
        seed: random seed for weights, shuffling and augmentation.
        steps_per_epoch: limit the batches per epoch (None: one pass over the training split).
        validation_steps: limit the validation batches (None: the whole validation split).
        mixed_precision: bfloat16 compute on CPU, float16 on GPU; outputs stay float32.
        jit: compile the train step with XLA.
        strategy: "auto", "one", "mirrored" or "multiworker" (tf.distribute).
        cache_embeddings: compute a frozen extractor's vectors once and train on them.
        gan_schedule: "both" (generator and discriminator every step) or "alternate".
        num_samples: validation portraits drawn per epoch in samples/.
        init_weights: start from the weights of a saved model of the same architecture
            ("default" for the bundled model, a ``.keras`` file or a run directory):
            fine-tuning, e.g. the default model on one's own photos.
    """

    data: str | list[str]
    mix: list[float] | None = None
    output_dir: str = "runs/colorize"
    model: str = "unet"
    model_options: dict = dataclasses.field(default_factory=dict)
    extractor: str | None = None
    extractor_weights: str | None = None
    image_size: int = 128
    batch_size: int = 16
    epochs: int = 20
    learning_rate: float = 1e-3
    loss: str | None = None
    rebalance: float = 0.5
    augment: bool = False
    seed: int = 0
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    mixed_precision: bool = False
    jit: bool = False
    strategy: str = "auto"
    cache_embeddings: bool = False
    gan_schedule: str = "both"
    num_samples: int = 6
    init_weights: str | None = None

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"Unknown strategy. Expected one of {STRATEGIES}. Received: strategy={self.strategy!r}")
        if self.loss is not None and self.loss not in LOSSES:
            raise ValueError(f"Unknown loss. Expected one of {LOSSES}. Received: loss={self.loss!r}")
        if self.cache_embeddings and self.model != "fusion":
            raise ValueError(
                "--cache-embeddings needs a model with a global extractor vector (fusion). "
                f"Received: model={self.model!r}"
            )
        if self.gan_schedule not in ("both", "alternate"):
            raise ValueError(f"gan_schedule must be 'both' or 'alternate'. Received: {self.gan_schedule!r}")
        for name in ("image_size", "batch_size", "epochs", "seed", "num_samples", "steps_per_epoch", "validation_steps"):
            value = getattr(self, name)
            if value is None and name in ("steps_per_epoch", "validation_steps"):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number. Received: {name}={value!r}")
            if value < (0 if name in ("seed", "num_samples") else 1):
                raise ValueError(f"{name} must be at least 1. Received: {name}={value}")
        self.learning_rate = check_learning_rate(self.learning_rate)
        if isinstance(self.rebalance, bool) or not isinstance(self.rebalance, (int, float)) or not 0 < self.rebalance <= 1:
            raise ValueError(f"rebalance must be a number in (0, 1] (1: no rebalancing). Received: rebalance={self.rebalance!r}")
        self.rebalance = float(self.rebalance)
        if not isinstance(self.model_options, dict):
            raise ValueError(
                "model_options must be a mapping of builder options (base_filters: 16, ...). "
                f"Received: model_options={self.model_options!r}"
            )
        for name in ("output_dir", "model"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string. Received: {name}={getattr(self, name)!r}")
        data = [self.data] if isinstance(self.data, str) else self.data
        if not isinstance(data, (list, tuple)) or not data or not all(isinstance(d, str) and d for d in data):
            raise ValueError(f"data must be a path or a list of paths. Received: data={self.data!r}")
        sources = self.data_sources
        if self.mix is not None:
            mix = [float(share) for share in self.mix]
            if len(mix) != len(sources):
                raise ValueError(
                    f"--mix needs one share per data source ({len(sources)}). Received: mix={self.mix!r}"
                )
            if not all(math.isfinite(share) and share >= 0 for share in mix) or sum(mix) <= 0:
                raise ValueError(f"--mix shares must be finite, >= 0 and not all 0. Received: mix={self.mix!r}")
            self.mix = mix
        if len(sources) > 1 and self.cache_embeddings:
            raise ValueError("--cache-embeddings works on one data source; Received: several DATA")

    @property
    def data_sources(self) -> list[str]:
        """``data`` as a list of one or more sources."""
        return [str(self.data)] if isinstance(self.data, (str, os.PathLike)) else [str(item) for item in self.data]

    @property
    def mix_weights(self) -> list[float]:
        """The normalized share of each data source (equal when ``mix`` is None)."""
        shares = self.mix or [1.0] * len(self.data_sources)
        return [share / sum(shares) for share in shares]

    @property
    def effective_loss(self) -> str:
        return self.loss or DEFAULT_LOSSES.get(self.model, "mse")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown configuration keys: {', '.join(unknown)}. Allowed: {', '.join(sorted(known))}")
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "TrainConfig":
        """Read a YAML or JSON configuration file."""
        return cls.from_dict(read_config_file(path))


MAX_LEARNING_RATE = 10.0


def check_learning_rate(value) -> float:
    """``value`` as a float in (0, :data:`MAX_LEARNING_RATE`]; ValueError naming the key otherwise."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"learning_rate must be a number like 1e-3. Received: learning_rate={value!r}") from None
    if not (math.isfinite(rate) and 0 < rate <= MAX_LEARNING_RATE):
        raise ValueError(
            f"learning_rate must be a finite number in (0, {MAX_LEARNING_RATE:g}], e.g. 1e-3. "
            f"Received: learning_rate={value!r}"
        )
    return rate


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML/JSON mapping of TrainConfig fields.

    Raises:
        ValueError: the file is not valid YAML/JSON (the message names the file and line)
            or does not hold a mapping.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON (line {error.lineno}: {error.msg})") from None
    else:
        import yaml

        try:
            values = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ValueError(f"{path}: not valid YAML ({where}{problem})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of options, got {type(values).__name__}")
    return values


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
    from colorize.data.images import atomic_write_bytes

    run_dir = Path(config.output_dir)
    if resume and not (run_dir / "config.json").is_file():
        raise ColorizeError(f"{run_dir} is not a run directory (no config.json); pass the -o folder of a run")
    if not resume and (run_dir / "config.json").exists() and (run_dir / "history.csv").exists():
        raise ColorizeError(
            f"{run_dir} already holds a run; use --resume to continue it or choose another -o directory"
        )
    if resume and not (run_dir / "backup").exists():
        log.warning("%s has no backup of a finished epoch; starting from epoch 1", run_dir)
    _check_options(config)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write_bytes(run_dir / "config.json", (json.dumps(config.to_dict(), indent=2) + "\n").encode("utf-8"))
        return _train(config, run_dir, resume, callbacks)
    except BaseException as error:
        if created and not isinstance(error, TrainingInterrupted) and not read_history(run_dir / "history.csv"):
            import shutil

            shutil.rmtree(run_dir, ignore_errors=True)  # nothing finished: leave no half-made run behind
        raise


def _train(config: TrainConfig, run_dir: Path, resume: bool, callbacks: list | None) -> TrainResult:
    import contextlib

    import keras

    from colorize.callbacks import EpochTracker

    tf = None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    previous_jit = tf.config.optimizer.get_jit() if tf else None
    previous_policy = keras.mixed_precision.global_policy().name
    try:
        strategy = make_strategy(config.strategy) if tf else None  # other backends: one device
        run_dir = _worker_output_dir(run_dir, strategy)
        run_dir.mkdir(parents=True, exist_ok=True)
        sources = _sources(config)
        embeddings = _cached_embeddings(config, sources) if config.cache_embeddings else None
        if config.jit and tf:
            tf.config.optimizer.set_jit(True)
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy("mixed_float16" if _on_gpu() else "mixed_bfloat16")
        with strategy.scope() if strategy else contextlib.nullcontext():
            setup = _build_and_compile(config, sources, embedding_input=embeddings is not None)
        train_data, val_data, sample_batch, steps = _datasets(config, sources, setup.model, embeddings)
        if config.strategy == "multiworker":
            _build_before_fit(setup.model, strategy, train_data)
        tracker = EpochTracker()
        built_in, stopper = _callbacks(config, run_dir, setup, sample_batch)
        if strategy and strategy.num_replicas_in_sync > 1:
            log.info("training on %d replicas; global batch %d", strategy.num_replicas_in_sync, config.batch_size)
        started = time.time()
        try:
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
            saved = run_dir / "interrupted.keras"
            _save_model(setup.export(), saved)
            raise TrainingInterrupted(
                f"interrupted at epoch {tracker.epoch + 1}, batch {tracker.batch + 1}; weights saved to {saved}; "
                f"continue from the last finished epoch with: colorize train --resume {run_dir}"
            ) from None
        elapsed = time.time() - started
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
        if tf:
            tf.config.optimizer.set_jit(previous_jit)

    history = read_history(run_dir / "history.csv")
    files = {"run_dir": run_dir, "config": run_dir / "config.json", "history": run_dir / "history.csv"}
    if history:
        from colorize import visualize

        curves = {key: [row[key] for row in history] for key in history[0] if key.endswith("loss")}
        if curves:
            files["loss_curve"] = visualize.plot_curves(run_dir / "loss.png", curves, title=f"{config.model} training")
    for name in ("best", "last"):
        if (run_dir / f"{name}.keras").exists():
            files[name] = run_dir / f"{name}.keras"
    if (run_dir / "samples").exists():
        files["samples"] = run_dir / "samples"
    if (run_dir / "logs").exists():
        files["tensorboard"] = run_dir / "logs"
    best_epoch, best_metrics = _best(history)
    if stopper.message:
        raise TrainingStopped(stopper.message)
    return TrainResult(run_dir, len(history), best_epoch, best_metrics, elapsed, files)


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


def _builder_parameters(model: str, options: dict) -> dict:
    """The keyword arguments a model's builder takes (a GAN's include its generator's)."""
    import inspect

    signature = inspect.signature(registry.get(model).resolve_builder())
    named = {
        name: parameter for name, parameter in signature.parameters.items()
        if parameter.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    }  # fmt: skip
    passes_on = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    generator = options.get("generator", named["generator"].default) if "generator" in named else None
    if passes_on and generator in registry.MODELS and generator != model:
        for name, parameter in _builder_parameters(generator, {}).items():
            named.setdefault(name, parameter)
    return named


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
    parameters = _builder_parameters(config.model, config.model_options)
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
        _check_run_dir_apart(Path(config.output_dir), Path(data))


def _check_run_dir_apart(run_dir: Path, data: Path) -> None:
    """A run directory must not lie inside the data, nor the data inside it (it would be trained on)."""
    run, source = run_dir.resolve(), data.resolve()
    if run == source or source in run.parents:
        raise ValueError(
            f"run directory {run_dir} is inside the data folder {data}: its samples and plots would be "
            "trained on next time; choose an -o folder outside the data"
        )
    if run in source.parents:
        raise ValueError(f"data {data} is inside the run directory {run_dir}; choose an -o folder apart from the data")


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
    """A prepared data set brings its own splits; a plain folder is split by :func:`split_folder`."""
    from colorize.data import pipeline

    data = Path(data)
    if not data.exists():
        raise FileNotFoundError(f"{data}: no such data set or image folder")
    if pipeline.is_prepared_dir(data):
        counts = pipeline.read_manifest(data).get("counts", {})
        return _Sources(data, str(data), str(data), counts.get("train", 0), counts.get("val", 0))
    train_files, val_files = split_folder(data)
    return _Sources(data, train_files, val_files, len(train_files), len(val_files))


@dataclasses.dataclass
class _Setup:
    """The compiled training model and how to get the model to save / to draw samples with."""

    model: Any
    export: Any  # () -> keras.Model saved as best.keras / last.keras
    predict: Any  # l_scaled -> ab_scaled, for the sample pictures


def _build_and_compile(config: TrainConfig, sources: _Sources, embedding_input: bool = False) -> _Setup:
    """Build the model named in the config and compile it with its loss and metrics."""
    import keras

    from colorize import metrics, models

    options = dict(config.model_options)
    if config.extractor is not None:
        options["extractor"] = config.extractor
    if _extractor_weights(config) is not None and not embedding_input:
        options["extractor_weights"] = _extractor_weights(config)
    if embedding_input:
        options["embedding_input"] = True
    if config.model == "gan" and config.gan_schedule == "alternate":
        # Seed 004 swapped generator and discriminator every epoch.
        options.setdefault("alternate_every", config.steps_per_epoch or max(1, -(-sources.num_train // config.batch_size)))
    model = models.build_model(config.model, image_size=config.image_size, **options)
    if config.model == "gan":
        model.compile(
            generator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            discriminator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            alternate=config.gan_schedule == "alternate",
            jit_compile=_jit_compile(config),
        )
    else:
        loss_name = config.effective_loss
        compile_metrics = None
        if not loss_name.startswith("rebalanced_crossentropy"):
            compile_metrics = [metrics.AbMAE(), metrics.ThresholdAccuracy()]
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss=_make_loss(loss_name, config, sources),
            metrics=compile_metrics,
            jit_compile=_jit_compile(config),
        )
    if config.init_weights is not None:
        _load_initial_weights(model, config.init_weights)
    if embedding_input:
        return _embedding_setup(config, model)
    inference = models.as_inference_model(model)
    return _Setup(model, lambda: model, lambda l_scaled: inference(l_scaled, training=False))


def _jit_compile(config: TrainConfig) -> bool:
    """``--jit`` means XLA under TensorFlow and torch.compile under PyTorch; JAX always compiles its step."""
    import keras

    return True if keras.backend.backend() == "jax" else bool(config.jit)


def _on_gpu() -> bool:
    """Whether Keras' backend computes on a GPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def _load_initial_weights(model, source: str) -> None:
    """Copy every weight of a saved model into ``model``, layer by layer (names and shapes must match).

    Raises:
        ColorizeError: the saved model is missing or corrupt, or does not fit ``model``
            (the message names the first layer that differs).
    """
    from colorize import inference
    from colorize.models import colorizer

    path = inference.resolve_model_path(source)
    saved = inference.load_saved_model(path)
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


def _embedding_setup(config: TrainConfig, model) -> _Setup:
    """A fusion model trained on cached vectors is saved with its extractor wired back in."""
    from colorize.models import colorizer

    full = colorizer.fusion_inference_model(
        model, _extractor_name(config), _extractor_weights(config), config.model_options.get("extractor_input_size")
    )

    def export():
        return colorizer.copy_weights_by_name(model, full)

    return _Setup(model, export, lambda l_scaled: export()(l_scaled, training=False))


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
    if pipeline.is_prepared_dir(sources.data_dir) or (sources.data_dir / pipeline.AB_DISTRIBUTION_NAME).exists():
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


def _datasets(config: TrainConfig, sources: _Sources, model, embeddings=None):
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
    elif embeddings is None:
        train_data = pipeline.make_dataset(sources.train, split="train", augment=config.augment, shuffle=True, **common)
        val_data = pipeline.make_dataset(sources.val, split="val", augment=False, shuffle=False, **common)
        if config.steps_per_epoch:
            train_data = train_data.repeat()
    else:
        train_data = _with_embeddings(config, sources.train, "train", embeddings["train"], training=True)
        val_data = _with_embeddings(config, sources.val, "val", embeddings["val"], training=False)
        steps["train"] = steps["train"] or max(1, -(-len(embeddings["train"]) // config.batch_size))
    if model.distribute_strategy.num_replicas_in_sync > 1:
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


# -- Cached embeddings -------------------------------------------------------------------------

EMBEDDING_SHUFFLE_BUFFER = 1024


def _cached_embeddings(config: TrainConfig, sources: _Sources) -> dict:
    """Each split's extractor vectors, computed once and kept in DATA/embeddings/.

    The file name holds the extractor, a digest of its weights (so other weights never
    reuse the vectors), the split, the image size and a digest of the data (manifest
    or file list). Rows follow an unshuffled, unaugmented pass over the split.
    """
    import keras

    from colorize.models import colorizer

    extractor = _extractor_name(config)
    keras.utils.set_random_seed(config.seed)  # weights=None: the random extractor is the seed's
    model = colorizer.build_extractor_model(
        extractor, config.image_size, config.model_options.get("extractor_input_size"), _extractor_weights(config)
    )
    folder = sources.data_dir / "embeddings"
    digest = _weights_digest(model)
    vectors = {}
    for split, source in (("train", sources.train), ("val", sources.val)):
        path = folder / f"{extractor}-{digest}-{split}-{config.image_size}px-{_data_digest(source)}.npy"
        if path.exists():
            log.info("using cached %s embeddings %s", split, path)
            vectors[split] = np.load(path)
            continue
        vectors[split] = compute_embeddings(model, source, split, config.image_size, config.batch_size)
        _save_array(path, vectors[split])
        log.info("cached %d %s embeddings in %s", len(vectors[split]), split, path)
    keras.utils.set_random_seed(config.seed)
    return vectors


def compute_embeddings(extractor_model, source, split: str, image_size: int, batch_size: int = 32) -> np.ndarray:
    """The extractor's vector for every image of ``source``/``split``, in pipeline order (unshuffled)."""
    from colorize.data import pipeline

    data = pipeline.make_dataset(source, split=split, image_size=image_size, batch_size=batch_size, shuffle=False)
    return np.asarray(extractor_model.predict(data.map(lambda l, ab: l), verbose=0), np.float32)


def _with_embeddings(config: TrainConfig, source, split: str, vectors: np.ndarray, training: bool):
    """(l, ab) examples zipped with their cached vectors -> ({l_input, embedding}, ab) batches."""
    import tensorflow as tf

    from colorize.data import pipeline

    augment = config.augment and training
    images = pipeline.make_dataset(
        source, split=split, image_size=config.image_size, batch_size=64, augment=augment, shuffle=False,
        repeat=training, seed=config.seed,
    ).unbatch()  # fmt: skip
    table = tf.data.Dataset.from_tensor_slices(vectors)
    data = tf.data.Dataset.zip((images, table.repeat() if training else table))
    data = data.map(lambda example, vector: ({"l_input": example[0], "embedding": vector}, example[1]))
    if training:
        data = data.shuffle(min(len(vectors), EMBEDDING_SHUFFLE_BUFFER), seed=config.seed)
    return data.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def _weights_digest(model) -> str:
    import hashlib

    digest = hashlib.sha1()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:12]


def _data_digest(source) -> str:
    import hashlib

    digest = hashlib.sha1()
    if isinstance(source, (list, tuple)):
        for path in source:
            stat = Path(path).stat()
            digest.update(f"{Path(path).name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    else:
        digest.update((Path(source) / "manifest.json").read_bytes())
    return digest.hexdigest()[:8]


def _save_array(path: Path, array: np.ndarray) -> None:
    import io

    from colorize.data.images import atomic_write_bytes

    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(path, buffer.getvalue())


def make_strategy(name: str):
    """Return a tf.distribute strategy.

    * "one": the default device.
    * "mirrored": every GPU of this host, or every logical CPU device when there is no
      GPU (so the path can be exercised on a CPU split into logical devices).
    * "multiworker": MultiWorkerMirroredStrategy across hosts described by TF_CONFIG.
    * "auto": mirrored when several GPUs are visible, else the default device.
    """
    import tensorflow as tf

    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if name == "mirrored":
        devices = gpus or [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy(devices=gpus)
    return tf.distribute.get_strategy()


def _build_before_fit(model, strategy, data) -> None:
    """Build the model, loss, metrics and optimizer state from a local batch, before ``fit``.

    Everything is built through public calls (the model on a batch, ``compute_loss``,
    ``compute_metrics``, ``optimizer.build``). Keras 3's ``fit`` would otherwise build them
    from the first distributed batch, which fails under MultiWorkerMirroredStrategy: it
    reduces a nested PerReplica batch, which that strategy cannot (keras-team/keras#20585,
    open). Keras offers no public switch for that step, so it is the one private name
    replaced here, and only on the multi-worker path (``tests/test_training_distributed.py``).
    """
    import tensorflow as tf

    x, y = next(iter(data.take(1)))[:2]
    with strategy.scope():
        y_pred = model(x, training=False)
        model.compute_loss(x, y, y_pred)
        model.compute_metrics(x, y, y_pred, sample_weight=None)
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None  # keras-team/keras#20585
    # Its cross-worker reduction of the step's logs is a MEAN over axis 0, which a scalar lacks.
    for name in ("train_step", "test_step"):
        step = getattr(model, name)
        setattr(model, name, lambda batch, step=step: {k: tf.reshape(v, (1,)) for k, v in step(batch).items()})


def _worker_output_dir(run_dir: Path, strategy) -> Path:
    """Multi-worker runs: the chief writes the run directory, other workers a scratch copy."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", 0) or 0
    if task_type in (None, "chief") or (task_type == "worker" and task_id == 0):
        return run_dir
    return run_dir / "workers" / f"{task_type}_{task_id}"


def run_dirs_under(folder: str | os.PathLike) -> list[Path]:
    """Training run directories (config.json + history.csv) inside ``folder``: never training data."""
    return sorted(path.parent for path in Path(folder).rglob("config.json") if (path.parent / "history.csv").is_file())


def split_folder(folder: str | os.PathLike, val_fraction: float = 0.1) -> tuple[list[Path], list[Path]]:
    """Split a plain image folder into (train, val) file lists by a hash of each relative path."""
    import hashlib

    from colorize.data.images import find_images

    folder = Path(folder)
    if folder.is_dir() and not (folder / "manifest.json").exists() and any(folder.glob("*.tfrecord")):
        raise ColorizeError(
            f"{folder} holds TFRecord shards but no manifest.json: an incomplete (interrupted) prepare; "
            "run `colorize prepare ... --overwrite` again to finish it"
        )
    runs = run_dirs_under(folder)
    files = [
        path for path in find_images([folder])[0]
        if path.is_file() and not any(run == path.parent or run in path.parents for run in runs)
    ]  # fmt: skip
    if runs:
        log.warning("%s: skipping %d training run folder(s) inside it (%s)", folder, len(runs), runs[0])
    if len(files) < 2:
        raise ColorizeError(f"{folder}: found {len(files)} image(s); training needs at least 2 (one for validation)")

    def position(path):
        digest = hashlib.sha1(path.relative_to(folder).as_posix().encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") / 2**32

    ranked = sorted(files, key=position)
    # Files whose hash falls below val_fraction; at least one, so tiny folders still validate.
    count = max(1, sum(position(path) < val_fraction for path in files))
    val_files, train_files = sorted(ranked[:count]), sorted(ranked[count:])
    return train_files, val_files


def _callbacks(config: TrainConfig, run_dir: Path, setup: _Setup, sample_batch):
    import keras

    from colorize.callbacks import ModelExport, NanStop, SafeBackupAndRestore, SampleImages

    stopper = NanStop()
    earlier = [row["val_loss"] for row in read_history(run_dir / "history.csv") if "val_loss" in row]
    callbacks = [
        SafeBackupAndRestore(str(run_dir / "backup"), save_freq="epoch", delete_checkpoint=False),
        stopper,
        ModelExport(run_dir, setup.export, best_so_far=min(earlier, default=math.inf)),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
    ]
    if importlib.util.find_spec("tensorflow") is not None:  # Keras writes TensorBoard logs with tf.summary
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False, profile_batch=0))
    if sample_batch is not None:
        callbacks.append(SampleImages(run_dir / "samples", setup.predict, sample_batch))
    return callbacks, stopper


def _save_model(model, path: Path) -> None:
    from colorize.callbacks import save_model

    try:
        save_model(model, path)
    except Exception:  # noqa: BLE001 - an interrupt must still report, even if saving fails
        log.warning("could not save %s", path, exc_info=True)


def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """Read history.csv into a list of per-epoch dicts (empty if there is none)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as stream:
        rows = []
        for row in csv.DictReader(stream):
            parsed = {}
            for key, value in row.items():
                try:
                    parsed[key] = float(value)
                except (TypeError, ValueError):
                    continue
            rows.append(parsed)
    return rows


def _best(history: list[dict[str, float]]):
    scored = [row for row in history if math.isfinite(row.get("val_loss", math.nan))]
    if not scored:
        return None, {}
    best = min(scored, key=lambda row: row["val_loss"])
    return int(best.get("epoch", 0)) + 1, {key: value for key, value in best.items() if key != "epoch"}
