"""Model builders for every architecture in the project, and every custom layer, loss and metric.

Every builder is here by name (``models.build_unet(...)``), and so is every custom layer
and model class a Keras user reaches for (``models.FusionLayer``, ``models.AnnealedMean``,
``models.BilinearUpsampling``, ``models.ExtractorInput``, ``models.SelfAttention2D``,
``models.ColorizationGAN``) and
the custom losses and metrics (``models.RebalancedCrossEntropy``, ``models.AbAuC``, ...).
Importing this package
registers every custom layer, loss and metric of the project with Keras, so
``keras.saving.load_model("runs/x/best.keras")`` works right after ``import colorize.models``
(a file saved under another Keras backend: ``load_model(path, compile=False)``, since a
PyTorch-trained file names PyTorch's own optimizer class).

Every model maps ``l_input`` (H, W, 1), the scaled lightness, to ``ab_output``
(H, W, 2), the scaled a*b* (see :mod:`colorize.color`); :func:`as_inference_model`
turns any trained model (classification, GAN, embedding-input fusion) into that form.

Example:
    >>> from colorize import models
    >>> model = models.build_model("unet", image_size=128, base_filters=16)
    >>> sorted(models.MODELS)[:3]
    ['classification', 'fusion', 'gan']
"""

from __future__ import annotations

import keras

from colorize import registry

#: name -> :class:`colorize.registry.ModelSpec` (builder, default loss, extractor, inference wrapper).
MODELS = registry.MODELS


def build_model(name: str, image_size: int | None = 128, **options) -> keras.Model:
    """Build a registered model by name.

    Args:
        name: one of :data:`MODELS`.
        image_size: input height and width.
        **options: passed to the model's builder (e.g. ``base_filters``, ``extractor``).

    Raises:
        ValueError: unknown name (the message lists the allowed ones).
    """
    return registry.get(name).resolve_builder()(image_size=image_size, **options)


def as_inference_model(model: keras.Model, extractor_weights=None, extractor_input_size: int | None = None) -> keras.Model:
    """A model mapping ``l_input`` to scaled ab, for any model this project trains.

    The model's family is read from the registry (:func:`colorize.registry.family_of`) and
    its inference form made by the family's ``inference`` entry: the classification
    families get their annealed-mean decoding (``classification.with_annealed_mean``), a
    GAN gives its generator (``ColorizationGAN.inference_model``), and a fusion model
    trained on cached embeddings (inputs ``l_input`` and ``embedding``) is rebuilt with its
    extractor in front and its trained layers copied by name
    (``colorizer.fusion_inference_model``). A model already in that form (plain colorizers,
    decoded bins models, a user's own ``l_input -> ab`` network) is returned as it is.

    Args:
        model: a trained model.
        extractor_weights: for an embedding-input fusion model only: the extractor
            weights the embeddings were computed with (None, a file, "imagenet" or
            "vggface" from the Keras cache).
        extractor_input_size: for an embedding-input fusion model only: the extractor's
            input size if it was overridden.

    Raises:
        ValueError: the model does not map ``l_input`` to ab and no family here makes it so.

    Example:
        >>> inference = as_inference_model(build_model("classification", image_size=64))  # doctest: +SKIP
        >>> inference.output_shape
        (None, 64, 64, 2)
    """
    spec = registry.MODELS.get(registry.family_of(model))
    if spec is not None and spec.inference is not None and not _maps_l_to_ab(model):
        inference = registry.resolve(spec.inference)
        if spec.takes_embeddings:
            return inference(model, registry.extractor_of(model), extractor_weights, extractor_input_size)
        return inference(model)
    if _maps_l_to_ab(model):
        return model
    input_names = [getattr(tensor, "name", "") for tensor in getattr(model, "inputs", None) or []]
    outputs = getattr(model, "outputs", None) or [None]
    raise ValueError(
        f"model {model.name!r} does not map l_input to ab (inputs {input_names}, "
        f"output shape {getattr(outputs[0], 'shape', None)})"
    )


def _maps_l_to_ab(model) -> bool:
    """Whether a functional model takes one input and gives a*b* (two channels)."""
    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    return bool(inputs) and bool(outputs) and len(inputs) == 1 and outputs[0].shape[-1] == 2


def nonfinite_weights(model: keras.Model) -> list[str]:
    """Paths of the model's variables holding NaN or infinite values (empty when all are finite).

    A model like that predicts nothing useful (an all-black image), so it is never saved
    or loaded for prediction.

    Example:
        >>> nonfinite_weights(build_model("unet", image_size=32, base_filters=4))  # doctest: +SKIP
        []
    """
    import numpy as np

    bad = []
    for variable in model.weights:
        value = np.asarray(keras.ops.convert_to_numpy(variable.value))
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            bad.append(getattr(variable, "path", variable.name))
    return bad


# Importing every family (and the losses and metrics) registers their custom objects, so any
# file the project saves loads after `import colorize.models`. Every custom layer lives in
# models/layers.py; the families import it and the registry, never this package.
from colorize import losses, metrics  # noqa: E402,F401
from colorize.losses import L1, MSE, ColourWeightedLoss, RebalancedCrossEntropy  # noqa: E402,F401
from colorize.metrics import AbAuC, AbMAE, ThresholdAccuracy  # noqa: E402,F401
from colorize.models import (  # noqa: E402,F401
    autoencoder,
    classification,
    colorizer,
    extractors,
    gan,
    naive,
    resnet,
    unet,
)
from colorize.models.autoencoder import build_vgg16_autoencoder  # noqa: E402,F401
from colorize.models.classification import (  # noqa: E402,F401
    AbQuantizer,
    AnnealedMean,
    BilinearUpsampling,
    build_classification_colorizer,
    build_regression_colorizer,
    with_annealed_mean,
)
from colorize.models.colorizer import (  # noqa: E402,F401
    FusionLayer,
    build_decoder,
    build_encoder,
    build_fusion_colorizer,
)
from colorize.models.extractors import ExtractorInput  # noqa: E402,F401
from colorize.models.gan import ColorizationGAN, build_discriminator, build_gan  # noqa: E402,F401
from colorize.models.layers import SelfAttention2D  # noqa: E402,F401
from colorize.models.naive import build_naive_cnn  # noqa: E402,F401
from colorize.models.resnet import build_resnet50_colorizer  # noqa: E402,F401
from colorize.models.unet import build_unet, build_unet_classification, build_uvgg  # noqa: E402,F401

#: Every public name: the builders, every custom layer and model class (as keras-hub exports its
#: layers), and the custom losses and metrics, so ``colorize.models.FusionLayer`` works.
__all__ = [
    "MODELS", "build_model", "as_inference_model", "nonfinite_weights",
    # builders
    "build_classification_colorizer", "build_decoder", "build_discriminator", "build_encoder",
    "build_fusion_colorizer", "build_gan", "build_naive_cnn", "build_regression_colorizer",
    "build_resnet50_colorizer", "build_unet", "build_unet_classification", "build_uvgg",
    "build_vgg16_autoencoder", "with_annealed_mean",
    # custom layers and models
    "AnnealedMean", "BilinearUpsampling", "ColorizationGAN", "ExtractorInput", "FusionLayer", "SelfAttention2D",
    # the a*b* bins of the classification models (not a layer: the quantizer the layers and losses use)
    "AbQuantizer",
    # custom losses and metrics
    "L1", "MSE", "ColourWeightedLoss", "RebalancedCrossEntropy", "AbAuC", "AbMAE", "ThresholdAccuracy",
]  # fmt: skip
