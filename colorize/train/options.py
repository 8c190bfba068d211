"""Check a training config's options before the run directory is made: builder options, batch memory, extractor weights."""

from __future__ import annotations

from pathlib import Path

from colorize import registry
from colorize.errors import WeightsNotFoundError
from colorize.train import rundir
from colorize.train.config import TrainConfig


def _weights_extractor(config: TrainConfig) -> str | None:
    """The extractor whose pretrained weights the model loads, or None when it has none."""
    spec = registry.MODELS.get(config.model)
    if spec is None or not spec.loads_extractor_weights:
        return None
    name = spec.fixed_extractor or extractor_name_of(config)
    return None if name == "none" else name


def extractor_weights_of(config: TrainConfig) -> str | None:
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
        if extractor_name_of(config) == "none":
            raise ValueError("--cache-embeddings needs an extractor; Received: extractor='none'")
    extractor = _weights_extractor(config)
    weights = extractor_weights_of(config)
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
    from colorize.infer import runtime

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


def extractor_name_of(config: TrainConfig) -> str:
    """The extractor the model will use: the option, else the registry's default for the model."""
    if config.extractor is not None:
        return config.extractor
    spec = registry.MODELS.get(config.model)
    return spec.extractor if spec is not None and spec.extractor is not None else "none"
