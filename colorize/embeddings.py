"""Cached extractor embeddings: a frozen extractor's vectors, computed once per data set.

Training with ``--cache-embeddings`` runs the global feature extractor over each split
once, keeps the vectors in ``DATA/embeddings/`` and trains the fusion network on
(L, vector) pairs (:func:`with_embeddings`). A file's name holds the extractor, a digest
of its weights (so other weights never reuse the vectors), the split, the image size
and a digest of the data (manifest or file list). TensorFlow only (tf.data).

Example:
    >>> from colorize import embeddings
    >>> vectors = embeddings.cached_embeddings(
    ...     extractor_model, "vggface", "data/utk128/embeddings",
    ...     {"train": "data/utk128", "val": "data/utk128"}, image_size=128)  # doctest: +SKIP
    >>> vectors["train"].shape  # doctest: +SKIP
    (7451, 1000)
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path

import numpy as np

from colorize import layout

log = logging.getLogger(__name__)

EMBEDDING_SHUFFLE_BUFFER = 1024


def cached_embeddings(
    extractor_model, extractor: str, folder: str | os.PathLike, sources: dict, image_size: int, batch_size: int = 32
) -> dict[str, np.ndarray]:
    """Each split's extractor vectors, read from ``folder`` or computed and kept there.

    Args:
        extractor_model: the extractor as a Keras model from L to its vector.
        extractor: its registry name (part of the file names).
        folder: where the vectors are kept (``DATA/embeddings``).
        sources: split name -> a prepared data set or a list of image files.
        image_size: the training size the images are read at.
        batch_size: batch size of the extractor's pass.

    Returns:
        split name -> float32 array, one row per example of an unshuffled, unaugmented pass.
    """
    folder = Path(folder)
    digest = weights_digest(extractor_model)
    vectors = {}
    for split, source in sources.items():
        path = folder / f"{extractor}-{digest}-{split}-{image_size}px-{data_digest(source)}.npy"
        if path.exists():
            log.info("using cached %s embeddings %s", split, path)
            vectors[split] = np.load(path)
            continue
        vectors[split] = compute_embeddings(extractor_model, source, split, image_size, batch_size)
        _save_array(path, vectors[split])
        log.info("cached %d %s embeddings in %s", len(vectors[split]), split, path)
    return vectors


def compute_embeddings(extractor_model, source, split: str, image_size: int, batch_size: int = 32) -> np.ndarray:
    """The extractor's vector for every image of ``source``/``split``, in pipeline order (unshuffled)."""
    from colorize.data import pipeline

    data = pipeline.make_dataset(source, split=split, image_size=image_size, batch_size=batch_size, shuffle=False)
    return np.asarray(extractor_model.predict(data.map(lambda l, ab: l), verbose=0), np.float32)


def with_embeddings(source, split: str, vectors: np.ndarray, image_size: int, batch_size: int, seed: int,
                    augment: bool = False, training: bool = False, degrade: float = 0.0, film: float = 0.0):  # fmt: skip
    """(l, ab) examples zipped with their cached vectors -> ({l_input, embedding}, ab) batches.

    ``training``: repeated and shuffled (``augment``, ``degrade`` and ``film`` apply only then; the
    cached vectors stay those of the clean images).
    """
    import tensorflow as tf

    from colorize.data import pipeline

    images = pipeline.make_dataset(
        source, split=split, image_size=image_size, batch_size=64, augment=augment and training, shuffle=False,
        repeat=training, seed=seed, degrade=degrade if training else 0.0, film=film if training else 0.0,
    ).unbatch()  # fmt: skip
    table = tf.data.Dataset.from_tensor_slices(vectors)
    data = tf.data.Dataset.zip((images, table.repeat() if training else table))
    data = data.map(lambda example, vector: ({"l_input": example[0], "embedding": vector}, example[1]))
    if training:
        data = data.shuffle(min(len(vectors), EMBEDDING_SHUFFLE_BUFFER), seed=seed)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def weights_digest(model) -> str:
    """A short digest of a model's weights."""
    digest = hashlib.sha1()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:12]


def data_digest(source) -> str:
    """A short digest of a data source: its manifest, or each file's name, size and time."""
    digest = hashlib.sha1()
    if isinstance(source, (list, tuple)):
        for path in source:
            stat = Path(path).stat()
            digest.update(f"{Path(path).name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    else:
        digest.update((Path(source) / layout.MANIFEST_NAME).read_bytes())
    return digest.hexdigest()[:8]


def _save_array(path: Path, array: np.ndarray) -> None:
    from colorize.io.files import atomic_write_bytes

    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(path, buffer.getvalue())
