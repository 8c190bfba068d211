"""Build and compile the model a training config names: its loss (the loss factory), metrics, initial weights.

:class:`Setup` carries what ``fit`` trains, the model to save, and how to draw samples.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any

from colorize import registry
from colorize.errors import ColorizeError
from colorize.train import distribute
from colorize.train.config import TrainConfig
from colorize.train.datasets import DataSources, ab_distribution, batches_per_pass
from colorize.train.options import extractor_name_of, extractor_weights_of

log = logging.getLogger(__name__)


# rebalanced_crossentropy_l1: the L1 term's weight on the annealed-mean a*b* (scaled units, where a
# typical error is ~0.08 and the rebalanced cross-entropy ~2-4 nats: both terms matter).
BINS_L1_WEIGHT = 10.0


@dataclasses.dataclass
class Setup:
    """The compiled training model and how to get the model to save / to draw samples with."""

    model: Any  # what fit trains: the built model, or under multiworker a functional copy sharing its variables
    export: Any  # () -> keras.Model saved as best.keras / last.keras
    predict: Any  # l_scaled -> ab_scaled, for the sample pictures


def build_and_compile(config: TrainConfig, sources: DataSources, embedding_input: bool = False,
                       strategy=None) -> Setup:  # fmt: skip
    """Build the model named in the config (inside ``strategy``'s scope) and compile it with its loss and metrics.

    Under ``--strategy multiworker`` the model that ``fit`` trains is made outside the
    scope from the built one (:func:`colorize.train.distribute.multiworker_model`).
    """
    import keras

    from colorize import models

    options = dict(config.model_options)
    if config.extractor is not None:
        options["extractor"] = config.extractor
    if extractor_weights_of(config) is not None and not embedding_input:
        options["extractor_weights"] = extractor_weights_of(config)
    if embedding_input:
        options["embedding_input"] = True
    adversarial = registry.get(config.model).adversarial
    if adversarial and config.gan_schedule == "alternate":
        # The DigiFace report's GAN swapped generator and discriminator every epoch.
        options.setdefault("alternate_every", batches_per_pass(config, sources.num_train))
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = models.build_model(config.model, image_size=config.image_size, **options)
    trained = distribute.multiworker_model(model) if config.strategy == "multiworker" else model
    with strategy.scope() if strategy else contextlib.nullcontext():
        if adversarial:
            trained.compile(
                generator_optimizer=keras.optimizers.Adam(learning_rate_of(config, sources.num_train), beta_1=0.5),
                discriminator_optimizer=keras.optimizers.Adam(learning_rate_of(config, sources.num_train), beta_1=0.5),
                alternate=config.gan_schedule == "alternate",
                jit_compile=distribute.jit_compile(config.jit),
            )
        else:
            loss = registry.get_loss(config.effective_loss)
            trained.compile(
                optimizer=keras.optimizers.Adam(learning_rate_of(config, sources.num_train)),
                loss=make_loss(loss, config, sources),
                metrics=[registry.resolve(metric)() for metric in loss.metrics] or None,
                jit_compile=distribute.jit_compile(config.jit),
            )
        if config.init_weights is not None:
            load_initial_weights(model, config.init_weights, seed=config.seed)
    if embedding_input:
        return _embedding_setup(config, model, trained)
    inference = models.as_inference_model(model)
    return Setup(trained, lambda: model, lambda l_scaled: inference(l_scaled, training=False))


def learning_rate_of(config: TrainConfig, num_train: int):
    """The optimizer's learning rate: ``config.learning_rate`` as a number, or a Keras schedule.

    With ``lr_schedule="cosine"`` or ``warmup_steps`` the rate is a function of the step
    (:class:`keras.optimizers.schedules.CosineDecay`: linear from zero over the warm-up, then
    held or cosine-decayed to zero at the run's last step, ``epochs`` x the steps per epoch,
    ``num_train`` training images a pass). The optimizer's step count travels with the run's
    backup, so ``--resume`` goes on where the schedule was.

    Example:
        >>> from colorize.train.config import TrainConfig
        >>> config = TrainConfig(data="d", epochs=2, steps_per_epoch=50, learning_rate=1e-3,
        ...                      lr_schedule="cosine", warmup_steps=10)
        >>> rate = learning_rate_of(config, num_train=800)
        >>> [round(float(rate(step)), 6) for step in (0, 5, 10, 100)]
        [0.0, 0.0005, 0.001, 0.0]
    """
    import keras

    if config.lr_schedule == "constant" and not config.warmup_steps:
        return config.learning_rate
    steps_per_epoch = batches_per_pass(config, num_train)
    warmup = min(config.warmup_steps, config.epochs * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else config.learning_rate,
        decay_steps=max(1, config.epochs * steps_per_epoch - warmup),
        alpha=1.0 if config.lr_schedule == "constant" else 0.0,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def load_initial_weights(model, source: str, seed: int = 0) -> None:
    """Copy every weight of a saved model into ``model``, layer by layer (names and shapes must match).

    Every layer of the saved model must fit the layer of the same name in ``model``. Layers
    of ``model`` the saved one lacks keep their initialisation (logged): a branch added to a
    trained architecture, e.g. ``unet_classification``'s zero-start ``global_context``,
    fine-tuned from the default. A ``model`` with the same layers, only wider (e.g.
    ``--option base_filters=22`` from the default's 16), gets the saved weights widened so
    it starts with the saved model's output (:func:`colorize.models.widen.widen_into`,
    ``seed`` for its uneven split).

    Raises:
        ColorizeError: the saved model is missing or corrupt, or does not fit ``model``
            (the message names the first layer that differs).
    """
    from colorize import saving
    from colorize.models import colorizer, widen

    path = saving.resolve_model_path(source)
    saved = saving.load_saved_model(path)
    saved_layers = {layer.name: layer for layer in saved.layers if layer.weights}
    target_layers = {layer.name: layer for layer in model.layers if layer.weights}
    for name, other in saved_layers.items():
        layer = target_layers.get(name)
        shapes = None if layer is None else [tuple(w.shape) for w in layer.weights]
        other_shapes = [tuple(w.shape) for w in other.weights]
        if shapes != other_shapes:
            if layer is not None:
                try:
                    widen.widen_into(saved, model, seed=seed)
                except widen.WidenError as error:
                    raise ColorizeError(f"--init-weights: {path} does not fit this model, nor widens into it ({error}); "
                                        "pass the same --model and --option values it was trained with, "
                                        "or only a larger base_filters") from None  # fmt: skip
                log.info("initial weights from %s, widened (%d -> %d parameters)", path, saved.count_params(),
                         model.count_params())  # fmt: skip
                return
            raise ColorizeError(
                f"--init-weights: {path} does not fit this model: the saved layer {name!r} has weights {other_shapes}, "
                f"this model {'has no layer by that name' if layer is None else shapes}; "
                "pass the same --model and --option values it was trained with"
            )
    colorizer.copy_weights_by_name(saved, model)
    new_layers = [name for name in target_layers if name not in saved_layers]
    if new_layers:
        log.info("layers not in %s keep their initialisation: %s", path, ", ".join(new_layers))
    log.info("initial weights from %s", path)


def _embedding_setup(config: TrainConfig, model, trained) -> Setup:
    """A fusion model trained on cached vectors is saved with its extractor wired back in."""
    from colorize.models import colorizer

    full = colorizer.fusion_inference_model(
        model, extractor_name_of(config), extractor_weights_of(config), config.model_options.get("extractor_input_size")
    )

    def export():
        return colorizer.copy_weights_by_name(model, full)

    return Setup(trained, export, lambda l_scaled: export()(l_scaled, training=False))


def make_loss(loss: registry.LossSpec, config: TrainConfig, sources: DataSources):
    """The Keras loss of a :class:`colorize.registry.LossSpec` (rebalanced by the data's a*b* distribution where it says so)."""
    factory = registry.resolve(loss.factory)
    if not loss.uses_distribution:
        return factory()
    histogram, edges = ab_distribution(config, sources)
    if loss.bins:
        from colorize.models import classification

        return factory(weights=classification.rebalancing_weights(histogram, edges, lambda_=config.rebalance),
                       l1_weight=BINS_L1_WEIGHT if loss.power == 1 else 0.0)  # fmt: skip
    return factory(histogram=histogram, edges=edges, power=loss.power, lambda_=config.rebalance)
