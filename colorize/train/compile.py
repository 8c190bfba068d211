"""Build and compile the model a training config names: its loss (the loss factory), metrics, initial weights.

:class:`_Setup` carries what ``fit`` trains, the model to save, and how to draw samples.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any

from colorize import registry
from colorize.train import distribute
from colorize.train.config import TrainConfig
from colorize.errors import ColorizeError
from colorize.train.datasets import _ab_distribution, _Sources
from colorize.train.options import _extractor_name, _extractor_weights

log = logging.getLogger(__name__)


# rebalanced_crossentropy_l1: the L1 term's weight on the annealed-mean a*b* (scaled units, where a
# typical error is ~0.08 and the rebalanced cross-entropy ~2-4 nats: both terms matter).
BINS_L1_WEIGHT = 10.0


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
    scope from the built one (:func:`colorize.train.distribute.multiworker_model`).
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

    Every layer of the saved model must fit the layer of the same name in ``model``. Layers
    of ``model`` the saved one lacks keep their initialisation (logged): a branch added to a
    trained architecture, e.g. ``unet_classification``'s zero-start ``global_context``,
    fine-tuned from the default.

    Raises:
        ColorizeError: the saved model is missing or corrupt, or does not fit ``model``
            (the message names the first layer that differs).
    """
    from colorize import saving
    from colorize.models import colorizer

    path = saving.resolve_model_path(source)
    saved = saving.load_saved_model(path)
    saved_layers = {layer.name: layer for layer in saved.layers if layer.weights}
    target_layers = {layer.name: layer for layer in model.layers if layer.weights}
    for name, other in saved_layers.items():
        layer = target_layers.get(name)
        shapes = None if layer is None else [tuple(w.shape) for w in layer.weights]
        other_shapes = [tuple(w.shape) for w in other.weights]
        if shapes != other_shapes:
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
