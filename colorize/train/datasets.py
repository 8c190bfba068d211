"""Training data: each source's splits, the batch streams for two backends (tf.data, PyDataset), the a*b* distribution.

Under TensorFlow the streams are tf.data pipelines (:mod:`colorize.data.pipeline`); under
another Keras backend Keras ``PyDataset`` objects (:mod:`colorize.data.pydataset`). Cached
extractor vectors come from :mod:`colorize.embeddings`.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from colorize import embeddings, layout
from colorize.data import folders
from colorize.errors import ColorizeError
from colorize.train import rundir
from colorize.train.config import TrainConfig
from colorize.train.options import extractor_name_of, extractor_weights_of

log = logging.getLogger(__name__)


@dataclasses.dataclass
class DataSources:
    """Where the training and validation examples come from, and how many there are."""

    data_dir: Path
    train: Any  # a prepared dir, or a list of files
    val: Any
    num_train: int
    num_val: int
    parts: list["DataSources"] | None = None  # several sources trained on together (config.mix)


def data_sources(config: TrainConfig) -> DataSources:
    """Each source's splits; several sources are kept as ``parts`` of one :class:`DataSources`."""
    parts = [_one_source(data) for data in config.data_sources]
    if len(parts) == 1:
        return parts[0]
    return DataSources(parts[0].data_dir, None, None, sum(p.num_train for p in parts), sum(p.num_val for p in parts),
                    parts)  # fmt: skip


def _one_source(data: str) -> DataSources:
    """A prepared data set brings its own splits; a plain folder is split by :func:`colorize.data.folders.split_folder`."""
    from colorize.data import pipeline

    data = Path(data)
    if not data.exists():
        raise FileNotFoundError(f"{data}: no such data set or image folder")
    if pipeline.is_prepared_dir(data):
        counts = pipeline.read_manifest(data).get("counts", {})
        return DataSources(data, str(data), str(data), counts.get("train", 0), counts.get("val", 0))
    runs = rundir.run_dirs_under(data)
    if runs:
        log.warning("%s: skipping %d training run folder(s) inside it (%s)", data, len(runs), runs[0])
    train_files, val_files = folders.split_folder(data, exclude=runs)
    return DataSources(data, train_files, val_files, len(train_files), len(val_files))


def cached_embeddings(config: TrainConfig, sources: DataSources) -> dict:
    """Each split's extractor vectors, computed once and kept in DATA/embeddings/ (:mod:`colorize.embeddings`)."""
    import keras

    from colorize.models import colorizer

    extractor = extractor_name_of(config)
    keras.utils.set_random_seed(config.seed)  # weights=None: the random extractor is seeded
    model = colorizer.build_extractor_model(
        extractor, config.image_size, config.model_options.get("extractor_input_size"), extractor_weights_of(config)
    )
    vectors = embeddings.cached_embeddings(
        model, extractor, sources.data_dir / "embeddings", {"train": sources.train, "val": sources.val},
        config.image_size, config.batch_size,
    )  # fmt: skip
    keras.utils.set_random_seed(config.seed)
    return vectors


def ab_distribution(config: TrainConfig, sources: DataSources):
    """The data set's stored a*b* histogram; for a plain folder, counted from its training split."""
    from colorize.data import pipeline

    if sources.parts:
        # Each source's distribution, normalized, weighted by its share of the training stream.
        mixed, edges = None, None
        for part, share in zip(sources.parts, config.mix_weights):
            histogram, edges = ab_distribution(config, part)
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


def _py_datasets(config: TrainConfig, sources: DataSources):
    """Without TensorFlow: the same streams as Keras PyDatasets (NumPy / OpenCV in worker threads)."""
    from colorize.data import pydataset

    parts = sources.parts or [sources]
    common = dict(image_size=config.image_size, batch_size=config.batch_size, seed=config.seed)
    train_data = pydataset.LabBatches([pydataset.open_source(part.train, "train") for part in parts],
                                      config.mix_weights, augment=config.augment, shuffle=True, repeat=True,
                                      degrade=config.degrade, film=config.film, **common)  # fmt: skip
    val_data = pydataset.LabBatches([pydataset.open_source(part.val, "val") for part in parts], **common)
    steps = {
        "train": batches_per_pass(config, sources.num_train),
        "val": config.validation_steps,
    }
    sample_batch = None
    if config.num_samples:
        per_part = -(-config.num_samples // len(parts))
        batches = [pydataset.make_pydataset(part.val, "val", config.image_size, per_part, shuffle=False)[0] for part in parts]
        sample_batch = tuple(np.concatenate(arrays) for arrays in zip(*batches))
    return train_data, val_data, sample_batch, steps


def batches_per_pass(config: TrainConfig, count: int) -> int:
    """Training steps an epoch: ``config.steps_per_epoch``, else one pass over ``count`` images."""
    return config.steps_per_epoch or max(1, -(-count // config.batch_size))


def make_datasets(config: TrainConfig, sources: DataSources, replicas: int = 1, vectors: dict | None = None):
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
        steps["train"] = batches_per_pass(config, sources.num_train)
    elif vectors is None:
        train_data = pipeline.make_dataset(sources.train, split="train", augment=config.augment, shuffle=True,
                                           degrade=config.degrade, film=config.film, **common)  # fmt: skip
        val_data = pipeline.make_dataset(sources.val, split="val", augment=False, shuffle=False, **common)
        if config.steps_per_epoch:
            train_data = train_data.repeat()
    else:
        train_data, val_data = (
            embeddings.with_embeddings(source, split, vectors[split], augment=config.augment, training=split == "train",
                                       degrade=config.degrade, film=config.film, **common)
            for source, split in ((sources.train, "train"), (sources.val, "val"))
        )  # fmt: skip
        steps["train"] = batches_per_pass(config, len(vectors["train"]))
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


def _mixed_datasets(config: TrainConfig, sources: DataSources):
    """Training examples drawn from every source by its ``mix`` share; validation on all their val splits."""
    import tensorflow as tf

    from colorize.data import pipeline

    common = dict(image_size=config.image_size, batch_size=config.batch_size, seed=config.seed)
    streams = [
        pipeline.make_dataset(part.train, split="train", augment=config.augment, shuffle=True, repeat=True,
                              film=config.film, **common).unbatch()
        for part in sources.parts
    ]  # fmt: skip
    train_data = tf.data.Dataset.sample_from_datasets(streams, weights=config.mix_weights, seed=config.seed)
    train_data = train_data.batch(config.batch_size, drop_remainder=True)
    train_data = pipeline.degrade_batches(train_data, config.degrade, config.seed).prefetch(tf.data.AUTOTUNE)
    val_data = None
    for part in sources.parts:
        data = pipeline.make_dataset(part.val, split="val", augment=False, shuffle=False, **common)
        val_data = data if val_data is None else val_data.concatenate(data)
    return train_data, val_data


def _sample_batch(config: TrainConfig, sources: DataSources):
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
