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

import contextlib
import csv
import dataclasses
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

from colorize.errors import ColorizeError

log = logging.getLogger(__name__)

STRATEGIES = ("auto", "one", "mirrored", "multiworker")

# The loss each model family was trained with in its seed document.
DEFAULT_LOSSES = {
    "fusion": "mse",  # seed 001
    "unet": "l1",  # seed 000
    "uvgg": "l1",  # seed 000
    "classification": "rebalanced_crossentropy",  # seed 002
    "regression": "mse",  # seed 002's L2 baseline
    "vgg16_autoencoder": "mse",  # seed 003
    "naive_cnn": "mse",  # seed 004
    "resnet50": "mse",  # seed 004
    "gan": "gan",  # seed 004: BCE + lambda * L2 inside the GAN's train_step
}
LOSSES = ("l1", "mse", "rebalanced_crossentropy", "colour_weighted_l1", "colour_weighted_l2")


class TrainingStopped(ColorizeError):
    """Training stopped early (NaN loss or interrupt); the message says where and what was kept."""


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run; saved as RUN_DIR/config.json.

    Attributes:
        data: a prepared data set (from `colorize prepare`) or a plain folder of images.
        output_dir: the run directory.
        model: a registered model name (see ``colorize.models.MODELS``).
        model_options: extra keyword arguments for the model builder (e.g. ``{"base_filters": 32}``).
        extractor: global feature extractor for models that take one (fusion, uvgg ...).
        extractor_weights: None, a local weights file, or "imagenet" / "vggface" from the Keras cache.
        image_size: training resolution (square).
        batch_size: the global batch size (split across replicas by a distribution strategy).
        epochs: number of epochs to reach (also when resuming).
        learning_rate: Adam learning rate.
        loss: one of :data:`LOSSES`; None picks the seed's loss for the model.
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
    """

    data: str
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

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"Unknown strategy. Expected one of {STRATEGIES}. Received: strategy={self.strategy!r}")
        if self.loss is not None and self.loss not in LOSSES:
            raise ValueError(f"Unknown loss. Expected one of {LOSSES}. Received: loss={self.loss!r}")
        if self.gan_schedule not in ("both", "alternate"):
            raise ValueError(f"gan_schedule must be 'both' or 'alternate'. Received: {self.gan_schedule!r}")
        for name in ("image_size", "batch_size", "epochs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1. Received: {name}={getattr(self, name)}")

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


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML/JSON mapping of TrainConfig fields."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        values = json.loads(text)
    else:
        import yaml

        values = yaml.safe_load(text)
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


def train(config: TrainConfig, resume: bool = False) -> TrainResult:
    """Train a model as described by ``config``, writing a run directory.

    Args:
        config: the run's configuration.
        resume: continue an interrupted run in ``config.output_dir`` from its last
            finished epoch (weights and optimizer state), up to ``config.epochs``.

    Returns:
        A :class:`TrainResult`.

    Raises:
        TrainingStopped: the loss became NaN (the message names epoch and batch) or
            the run was interrupted (a checkpoint was saved first).
        ValueError / ColorizeError: bad options or data.
    """
    import keras
    import tensorflow as tf

    run_dir = Path(config.output_dir)
    if not resume and (run_dir / "config.json").exists() and (run_dir / "history.csv").exists():
        raise ColorizeError(
            f"{run_dir} already holds a run; use --resume to continue it or choose another -o directory"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")

    keras.utils.set_random_seed(config.seed)
    if config.jit:
        tf.config.optimizer.set_jit(True)
    previous_policy = keras.mixed_precision.global_policy().name
    if config.mixed_precision:
        on_gpu = bool(tf.config.list_physical_devices("GPU"))
        keras.mixed_precision.set_global_policy("mixed_float16" if on_gpu else "mixed_bfloat16")
    try:
        strategy = make_strategy(config.strategy)
        run_dir = _worker_output_dir(run_dir, strategy)
        run_dir.mkdir(parents=True, exist_ok=True)
        with strategy.scope():
            model, inference_model = _build_and_compile(config)
        train_data, val_data, sample_batch, steps = _datasets(config, model)
        callbacks, stopper = _callbacks(config, run_dir, inference_model, sample_batch)
        if strategy.num_replicas_in_sync > 1:
            log.info("training on %d replicas; global batch %d", strategy.num_replicas_in_sync, config.batch_size)
        started = time.time()
        stopped_reason = None
        try:
            model.fit(
                train_data,
                validation_data=val_data,
                epochs=config.epochs,
                steps_per_epoch=steps["train"],
                validation_steps=steps["val"],
                callbacks=callbacks,
                verbose=1 if log.isEnabledFor(logging.WARNING) else 0,
            )
        except KeyboardInterrupt:
            _save_model(model, run_dir / "interrupted.keras")
            raise TrainingStopped(
                f"interrupted; weights saved to {run_dir / 'interrupted.keras'}; "
                f"continue with: colorize train --resume {run_dir}"
            ) from None
        if stopper.message:
            stopped_reason = stopper.message
        elapsed = time.time() - started
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
        if config.jit:
            tf.config.optimizer.set_jit(False)

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
    best_epoch, best_metrics = _best(history)
    if stopped_reason:
        raise TrainingStopped(stopped_reason)
    return TrainResult(run_dir, len(history), best_epoch, best_metrics, elapsed, files, stopped_reason)


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


def _worker_output_dir(run_dir: Path, strategy) -> Path:
    """Multi-worker runs: the chief writes the run directory, other workers a scratch copy."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", 0) or 0
    if task_type in (None, "chief") or (task_type == "worker" and task_id == 0):
        return run_dir
    return run_dir / "workers" / f"{task_type}_{task_id}"


def _build_and_compile(config: TrainConfig):
    """Build the model named in the config and compile it with its loss and metrics."""
    import keras

    from colorize import losses, metrics, models

    options = dict(config.model_options)
    if config.extractor is not None:
        options["extractor"] = config.extractor
    if config.extractor_weights is not None:
        options["extractor_weights"] = config.extractor_weights
    model = models.build_model(config.model, image_size=config.image_size, **options)
    loss_name = config.effective_loss
    if config.model == "gan":
        model.compile(
            generator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            discriminator_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            alternate=config.gan_schedule == "alternate",
            jit_compile=config.jit,
        )
        return model, models.as_inference_model(model)
    loss = _make_loss(loss_name, config)
    compile_metrics = None if loss_name == "rebalanced_crossentropy" else [metrics.AbMAE(), metrics.ThresholdAccuracy()]
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=loss,
        metrics=compile_metrics,
        jit_compile=config.jit,
    )
    return model, models.as_inference_model(model)


def _make_loss(name: str, config: TrainConfig):
    from colorize import losses

    if name == "l1":
        return losses.L1()
    if name == "mse":
        return losses.MSE()
    distribution = _ab_distribution(config)
    if name == "rebalanced_crossentropy":
        from colorize.models import classification

        weights = classification.rebalancing_weights(*distribution)
        return losses.RebalancedCrossEntropy(weights=weights)
    power = 1 if name.endswith("l1") else 2
    return losses.ColourWeightedLoss(histogram=distribution[0], edges=distribution[1], power=power)


def _ab_distribution(config: TrainConfig):
    from colorize.data import pipeline

    try:
        return pipeline.load_ab_distribution(config.data)
    except (FileNotFoundError, OSError) as error:
        raise ColorizeError(
            f"loss {config.effective_loss!r} needs the data set's ab distribution ({error}); "
            "run `colorize prepare` on the images first and train on its output"
        ) from None


def _datasets(config: TrainConfig, model):
    """Training and validation tf.data pipelines, and a fixed batch of validation samples.

    A prepared data set brings its own train / val splits. A plain folder is split
    here: each file goes to validation when a hash of its path relative to the folder
    falls in the first 10 %, so the split never changes between runs or on resume.
    """
    from colorize.data import pipeline

    size = config.image_size
    if pipeline.is_prepared_dir(config.data):
        train_source, val_source = config.data, config.data
        counts = pipeline.read_manifest(config.data)["counts"]
        num_train, num_val = counts.get("train", 0), counts.get("val", 0)
    else:
        train_source, val_source = split_folder(config.data)
        num_train, num_val = len(train_source), len(val_source)
    common = dict(image_size=size, batch_size=config.batch_size, seed=config.seed)
    train_data = pipeline.make_dataset(train_source, split="train", augment=config.augment, shuffle=True, **common)
    val_data = pipeline.make_dataset(val_source, split="val", augment=False, shuffle=False, **common)
    steps = {"train": config.steps_per_epoch, "val": config.validation_steps}
    if config.steps_per_epoch:
        train_data = train_data.repeat()
    if model.distribute_strategy.num_replicas_in_sync > 1:
        # Replicas need full batches: repeat both streams and count steps from the split sizes.
        train_data, val_data = (
            data.unbatch().repeat().batch(config.batch_size, drop_remainder=True) for data in (train_data, val_data)
        )
        steps["train"] = steps["train"] or max(1, num_train // config.batch_size)
        steps["val"] = steps["val"] or max(1, -(-num_val // config.batch_size))
    if config.strategy == "multiworker":
        import tensorflow as tf

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        train_data, val_data = train_data.with_options(options), val_data.with_options(options)
    samples = pipeline.make_dataset(
        val_source, split="val", image_size=size, batch_size=config.num_samples, shuffle=False, seed=config.seed
    )
    sample_batch = next(iter(samples.take(1)), None)
    return train_data, val_data, sample_batch, steps


def split_folder(folder: str | os.PathLike, val_fraction: float = 0.1) -> tuple[list[Path], list[Path]]:
    """Split a plain image folder into (train, val) file lists by a hash of each relative path."""
    import hashlib

    from colorize.data.images import find_images

    folder = Path(folder)
    files = [path for path in find_images([folder])[0] if path.is_file()]
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


def _callbacks(config: TrainConfig, run_dir: Path, inference_model, sample_batch):
    import keras

    from colorize.callbacks import NanStop, SampleImages

    stopper = NanStop()
    callbacks = [
        keras.callbacks.BackupAndRestore(str(run_dir / "backup"), save_freq="epoch", delete_checkpoint=False),
        stopper,
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
        keras.callbacks.ModelCheckpoint(str(run_dir / "best.keras"), monitor="val_loss", save_best_only=True),
        keras.callbacks.ModelCheckpoint(str(run_dir / "last.keras"), save_best_only=False),
        keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False, profile_batch=0),
    ]
    if sample_batch is not None and inference_model is not None:
        callbacks.append(SampleImages(run_dir / "samples", inference_model, sample_batch))
    return callbacks, stopper


def _save_model(model, path: Path) -> None:
    with contextlib.suppress(Exception):
        model.save(str(path))


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
