"""The configuration of a training run: :class:`TrainConfig`, read from flags or a YAML/JSON file.

``RUN_DIR/config.json`` holds it (what ``--resume`` replays); :func:`read_config_file`
reads such a file, :func:`check_learning_rate` the one rule the CLI shares. The facts of
each model (default loss, extractor) come from :mod:`colorize.registry`.

Example:
    >>> from colorize.train.config import TrainConfig
    >>> TrainConfig(data="data/utk128", model="unet").effective_loss
    'l1'
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

from colorize import errors, registry
from colorize.train import distribute

#: How a GAN's two networks take turns (``gan_schedule``): both every step, or alternating.
GAN_SCHEDULES = ("both", "alternate")

#: How the learning rate moves over a run (``lr_schedule``): held, or a cosine from
#: ``learning_rate`` down to zero at the last step (Loshchilov and Hutter 2017). Either may
#: start with ``warmup_steps`` of linear warm-up from zero, which a fine-tune from saved
#: weights wants: Adam's moments start at zero, so its first steps move every weight by
#: about the full learning rate.
LR_SCHEDULES = ("constant", "cosine")

#: Where ``colorize train`` puts a run when no output directory is given: ``runs/<model>``.
RUNS_DIR = "runs"


def default_output_dir(model: str | None = None) -> str:
    """The run directory of a run with no ``output_dir`` given: ``runs/<model>`` (``model``: TrainConfig's default)."""
    return str(Path(RUNS_DIR) / (model or TrainConfig.model))


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
        learning_rate: Adam learning rate (the peak, with ``lr_schedule="cosine"`` or a warm-up).
        lr_schedule: one of :data:`LR_SCHEDULES`: "constant", or "cosine" (to zero at the last
            of ``epochs`` x the steps per epoch).
        warmup_steps: steps of linear warm-up from zero to ``learning_rate`` (0: none).
        loss: one of :data:`colorize.registry.LOSSES`; None picks the model's default loss (registry).
        rebalance: the class-rebalancing mix lambda of the colour-weighted losses (Zhang et al. 2016):
            weights ~ ((1 - lambda) p + lambda / Q)^-1; 0.5 is Zhang et al.'s, 1 no rebalancing.
        augment: random flips and small scale/crop jitter on the training split.
        degrade: the share of training images whose input L gets an old photo's look (grain,
            blur, fading, lifted blacks, JPEG: :func:`colorize.data.augment.degrade_l`); the
            target colour stays clean; validation never. 0 (off) to 1.
        film: the share of training images whose input L is the gray a black-and-white film
            would have recorded (orthochromatic or a spread of panchromatic responses:
            :func:`colorize.data.augment.film_l`) instead of the CIE lightness; before ``degrade``.
            0 (off) to 1.
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
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    loss: str | None = None
    rebalance: float = 0.5
    augment: bool = False
    degrade: float = 0.0
    film: float = 0.0
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
        for name in ("augment", "mixed_precision", "jit", "cache_embeddings"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false. Received: {name}={value!r}")
        if self.strategy not in distribute.STRATEGIES:
            raise ValueError(
                f"Unknown strategy. Expected one of {distribute.STRATEGIES}. Received: strategy={self.strategy!r}"
            )
        if self.loss is not None and self.loss not in registry.LOSSES:
            raise ValueError(f"Unknown loss. Expected one of {registry.LOSSES}. Received: loss={self.loss!r}")
        spec = registry.MODELS.get(self.model)
        if self.cache_embeddings and not (spec is not None and spec.takes_embeddings):
            raise ValueError(
                "--cache-embeddings needs a model with a global extractor vector (fusion). "
                f"Received: model={self.model!r}"
            )
        if self.gan_schedule not in GAN_SCHEDULES:
            raise ValueError(f"gan_schedule must be 'both' or 'alternate'. Received: {self.gan_schedule!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}. Received: lr_schedule={self.lr_schedule!r}")
        for name in ("image_size", "batch_size", "epochs", "seed", "num_samples", "steps_per_epoch", "validation_steps",
                     "warmup_steps"):
            value = getattr(self, name)
            if value is None and name in ("steps_per_epoch", "validation_steps"):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number. Received: {name}={value!r}")
            lowest = 0 if name in ("seed", "num_samples", "warmup_steps") else 1
            if value < lowest:
                raise ValueError(f"{name} must be at least {lowest}. Received: {name}={value}")
        self.learning_rate = check_learning_rate(self.learning_rate)
        if isinstance(self.rebalance, bool) or not isinstance(self.rebalance, (int, float)) or not 0 < self.rebalance <= 1:
            raise ValueError(f"rebalance must be a number in (0, 1] (1: no rebalancing). Received: rebalance={self.rebalance!r}")
        self.rebalance = float(self.rebalance)
        if isinstance(self.degrade, bool) or not isinstance(self.degrade, (int, float)) or not 0 <= self.degrade <= 1:
            raise ValueError(f"degrade must be a probability in [0, 1] (0: off). Received: degrade={self.degrade!r}")
        self.degrade = float(self.degrade)
        if isinstance(self.film, bool) or not isinstance(self.film, (int, float)) or not 0 <= self.film <= 1:
            raise ValueError(f"film must be a probability in [0, 1] (0: off). Received: film={self.film!r}")
        self.film = float(self.film)
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
        """``loss``, else the model's default loss from the registry."""
        spec = registry.MODELS.get(self.model)
        return self.loss or (spec.default_loss if spec is not None else "mse")

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
            problem = getattr(error, "problem", None) or errors.one_line(error)
            raise ValueError(f"{path}: not valid YAML ({where}{problem})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of options, got {type(values).__name__}")
    return values


