"""What the project knows about each model family, in one place and without Keras.

The CLI (``colorize train --model/--loss/--extractor``), training (default loss, the
extractor a model uses), the benchmarks and :mod:`colorize.models` (``MODELS``,
``build_model``) all read these facts. This module imports nothing heavy, so the CLI's
``--help`` stays fast; the builders are named as ``"module:function"`` and imported on use.

A saved model carries its family in its name: each builder names its model after its
registry key (``model_name``), which Keras saves and every load, float32 copy and export
keeps; :func:`family_of` reads it back (also from files saved before this rule).

Example:
    >>> from colorize import registry
    >>> registry.MODELS["unet"].default_loss
    'l1'
    >>> registry.MODELS["fusion"].extractor
    'vggface'
    >>> registry.family_of("unet_classification_annealed_mean")
    'unet_classification'
    >>> registry.LOSS_SPECS["rebalanced_crossentropy_l1"].bins
    True
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Callable

# Working sizes are multiples of this: the U-Net / encoder down-sampling of every family.
SIZE_MULTIPLE = 32

#: How a model computes at run time (``--precision``; :func:`colorize.infer.runtime.resolve_precision`):
#: the first, "auto", is bfloat16 where the CPU has it natively, else float32.
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model family.

    Attributes:
        name: the name given to ``--model`` and ``build_model``.
        builder: ``"module:function"`` of its ``build_*`` function.
        description: one line for listings.
        default_loss: the loss of its paper (one of :data:`LOSSES`, or ``"gan"``:
            the GAN's own objective inside its ``train_step``).
        extractor: the default of the builder's ``extractor`` argument when the model takes a
            selectable global extractor (``--extractor``), else None.
        fixed_extractor: the pretrained network built into the model (its weights are
            loaded through ``extractor_weights``), else None.
        inference: ``"module:function"`` that turns a trained model into the
            ``l_input -> ab`` form, or None when the model already has it
            (:func:`colorize.models.as_inference_model` applies it to a model not yet in
            that form: ``inference(model)``, or for a family that takes embeddings
            ``inference(model, extractor, extractor_weights, extractor_input_size)``).
        bins: whether it predicts a distribution over the a*b* bins (layer ``ab_bins``),
            decoded by the annealed mean (layer ``annealed_mean``, :data:`DECODED_SUFFIX`).
        model_name: the name its builder gives the model, ``{extractor}`` standing for the
            extractor's name; "" (the default): its registry name.
        former_names: names its models carried in files saved by earlier versions.
        embedding_input: whether the builder can take the selectable extractor's vector as an input
            instead of the extractor (``--cache-embeddings``).
    """

    name: str
    builder: str
    description: str
    default_loss: str
    extractor: str | None = None
    fixed_extractor: str | None = None
    inference: str | None = None
    bins: bool = False
    model_name: str = ""
    former_names: tuple[str, ...] = ()
    embedding_input: bool = False

    @property
    def loads_extractor_weights(self) -> bool:
        """Whether the builder takes ``extractor_weights`` (a pretrained extractor inside)."""
        return self.extractor is not None or self.fixed_extractor is not None

    @property
    def takes_embeddings(self) -> bool:
        """Whether the builder can take the selectable extractor's vector as an input (``--cache-embeddings``)."""
        return self.embedding_input

    @property
    def adversarial(self) -> bool:
        """Whether it is a GAN: its own objective in ``train_step``, compiled with two optimizers."""
        return self.default_loss == "gan"

    def resolve_builder(self) -> Callable:
        """The builder function itself (imports its module, and so Keras)."""
        return resolve(self.builder)


def resolve(target: str) -> Callable:
    """The object named by ``"module:function"``."""
    module_name, attribute = target.split(":")
    found = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


_ANNEALED_MEAN = "colorize.models.classification:with_annealed_mean"

_SPECS = (
    ModelSpec("fusion", "colorize.models.colorizer:build_fusion_colorizer",
              "encoder + global extractor + fusion + decoder, MSE (Iizuka et al. 2016 fusion, VGGFace descriptor)", "mse", extractor="vggface",
              inference="colorize.models.colorizer:fusion_inference_model", model_name="fusion_{extractor}",
              embedding_input=True),
    ModelSpec("unet", "colorize.models.unet:build_unet", "U-Net, L1 (U-Net / uVGG-net poster)", "l1"),
    ModelSpec("uvgg", "colorize.models.unet:build_uvgg", "U-Net + frozen VGG19 at the bottleneck, L1 (U-Net / uVGG-net poster)", "l1",
              fixed_extractor="vgg19"),
    ModelSpec("classification", "colorize.models.classification:build_classification_colorizer",
              "softmax over quantized ab bins, rebalanced cross-entropy, annealed mean (Zhang et al. 2016)",
              "rebalanced_crossentropy", inference=_ANNEALED_MEAN, bins=True),
    ModelSpec("unet_classification", "colorize.models.unet:build_unet_classification",
              "U-Net trunk + softmax over ab bins, rebalanced cross-entropy (+ L1), annealed mean",
              "rebalanced_crossentropy", extractor="none", inference=_ANNEALED_MEAN, bins=True),
    ModelSpec("regression", "colorize.models.classification:build_regression_colorizer",
              "the classification trunk, L2 regression (Zhang et al.'s baseline)", "mse"),
    ModelSpec("vgg16_autoencoder", "colorize.models.autoencoder:build_vgg16_autoencoder",
              "CNN auto-encoder + VGG16 features (VGG16 auto-encoder)", "mse", fixed_extractor="vgg16"),
    ModelSpec("naive_cnn", "colorize.models.naive:build_naive_cnn",
              "encoder-decoder CNN with dense bottleneck (naive CNN)", "mse"),
    ModelSpec("resnet50", "colorize.models.resnet:build_resnet50_colorizer",
              "ResNet-50 encoder + conv decoder (ResNet-50 colorizer)", "mse", former_names=("resnet50_colorizer",)),
    ModelSpec("gan", "colorize.models.gan:build_gan", "generator + discriminator, BCE + 0.1 L2 (GAN)", "gan",
              inference="colorize.models.gan:ColorizationGAN.inference_model"),
)  # fmt: skip

#: name -> :class:`ModelSpec`, in the order the CLI lists them.
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}

#: A bins model with its annealed-mean decoding inside is named ``<its name>_annealed_mean``
#: (``classification.with_annealed_mean``; decoded again by an export: the suffix twice).
DECODED_SUFFIX = "_annealed_mean"


def family_of(model) -> str | None:
    """The registry name of the family a model belongs to, read from its name (or None).

    Every builder names its model after its registry key (:attr:`ModelSpec.model_name`), and
    Keras saves the name, so this reads built, trained, saved, loaded, float32-copied and
    exported models alike; names of earlier files (:attr:`ModelSpec.former_names`) too.

    Args:
        model: a ``keras.Model`` (or anything with a ``name``), or the name itself.

    Returns:
        One of :data:`MODELS`, or None for a model no builder here named (a user's own).

    Example:
        >>> family_of("fusion_vgg19"), family_of("resnet50_colorizer"), family_of("mine")
        ('fusion', 'resnet50', None)
    """
    found = _name_facts(model)
    return None if found is None else found[0]


def extractor_of(model) -> str | None:
    """The extractor named in a model's name (a family whose ``model_name`` has ``{extractor}``), else None.

    Example:
        >>> extractor_of("fusion_inception_resnet_v2")
        'inception_resnet_v2'
    """
    found = _name_facts(model)
    return None if found is None else found[1]


def _name_facts(model) -> tuple[str, str | None] | None:
    """(family, extractor or None) of a model's name, or None when no family names its models so."""
    name = model if isinstance(model, str) else str(getattr(model, "name", ""))
    while name.endswith(DECODED_SUFFIX):
        name = name[: -len(DECODED_SUFFIX)]
    extractors = "|".join(re.escape(extractor) for extractor in EXTRACTORS)
    for spec in _SPECS:
        pattern = re.escape(spec.model_name or spec.name).replace(r"\{extractor\}", f"(?P<extractor>{extractors})")
        matched = re.fullmatch(pattern, name)
        if matched is not None:
            return spec.name, matched.groupdict().get("extractor")
        if name in spec.former_names:
            return spec.name, None
    return None


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """One training loss (``colorize train --loss``), read by training's loss factory.

    Attributes:
        name: the name given to ``--loss``.
        factory: ``"module:function"`` of its Keras loss class (:mod:`colorize.losses`).
        description: one line for listings.
        uses_distribution: whether it is made from the training set's a*b* distribution
            (class rebalancing, ``--rebalance``).
        bins: whether it scores a bins model's probabilities (the bins families'
            losses); else it scores a*b* directly.
        power: the power of its a*b* distance: 1 (L1) or 2 (L2); for a bins loss, 1 adds
            the L1 term on the annealed-mean a*b*; None: no distance term.
        metrics: ``"module:function"`` of each metric it is compiled with.
    """

    name: str
    factory: str
    description: str
    uses_distribution: bool = False
    bins: bool = False
    power: int | None = None
    metrics: tuple[str, ...] = ()


_AB_METRICS = ("colorize.metrics:AbMAE", "colorize.metrics:ThresholdAccuracy")

_LOSS_SPECS = (
    LossSpec("l1", "colorize.losses:L1", "mean absolute a*b* error", power=1, metrics=_AB_METRICS),
    LossSpec("mse", "colorize.losses:MSE", "mean squared a*b* error", power=2, metrics=_AB_METRICS),
    LossSpec("rebalanced_crossentropy", "colorize.losses:RebalancedCrossEntropy",
             "cross-entropy over the a*b* bins, rarer colours weighted up (Zhang et al. 2016)",
             uses_distribution=True, bins=True),
    LossSpec("rebalanced_crossentropy_l1", "colorize.losses:RebalancedCrossEntropy",
             "rebalanced cross-entropy + L1 on the annealed-mean a*b*", uses_distribution=True, bins=True, power=1),
    LossSpec("colour_weighted_l1", "colorize.losses:ColourWeightedLoss",
             "L1 with each pixel weighted by its colour's rarity", uses_distribution=True, power=1, metrics=_AB_METRICS),
    LossSpec("colour_weighted_l2", "colorize.losses:ColourWeightedLoss",
             "L2 with each pixel weighted by its colour's rarity", uses_distribution=True, power=2, metrics=_AB_METRICS),
)  # fmt: skip

#: name -> :class:`LossSpec`: the losses ``colorize train --loss`` takes (see :mod:`colorize.losses`).
LOSS_SPECS: dict[str, LossSpec] = {spec.name: spec for spec in _LOSS_SPECS}

#: Their names, in the order the CLI lists them.
LOSSES = tuple(LOSS_SPECS)

#: The global extractors a model with a selectable one takes (``--extractor``), see
#: :data:`colorize.models.extractors.EXTRACTORS`.
EXTRACTORS = ("vggface", "vgg19", "inception_resnet_v2", "efficientnet_lite0", "none")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named decoding of the bundled model (``--model NAME``): its colour strength and what it trades."""

    name: str
    strength: float
    description: str
    #: Faces coloured again in tight crops (:mod:`colorize.infer.faces`): blind judges preferred it
    #: on photos with faces, 82 % and 68 % of verdicts on two photo sets (docs/studies.md, s27_face4).
    faces: bool = True


#: The bundled model's presets (``colorize predict --model NAME``, listed by ``colorize models``).
#: Blind judges preferred strength 0.25 over 0.5 in 71 % of 168 verdicts and 0.5 over 0.8 in
#: 90 % (docs/studies.md), so the default is the calm 0.25.
PRESETS: dict[str, Preset] = {preset.name: preset for preset in (
    Preset("default", 0.25, "calm, coherent colour: the strength blind judges preferred"),
    Preset("natural", 0.1, "calmer still: the network's likeliest colours, more beige and gray, fewest wrong hues"),
    Preset("vivid", 0.5, "stronger, rarer colours (the model file's own decoding): more colour, more wrong hues"),
)}  # fmt: skip


def get(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a model name.

    Raises:
        ValueError: unknown name (the message lists the allowed ones).
    """
    if name not in MODELS:
        raise ValueError(f"Unknown model. Expected one of {sorted(MODELS)}. Received: model={name!r}")
    return MODELS[name]


def get_loss(name: str) -> LossSpec:
    """The :class:`LossSpec` of a loss name.

    Raises:
        ValueError: unknown name (the message lists the allowed ones).
    """
    if name not in LOSS_SPECS:
        raise ValueError(f"Unknown loss. Expected one of {LOSSES}. Received: loss={name!r}")
    return LOSS_SPECS[name]


def builder_parameters(name: str, options: dict | None = None) -> dict:
    """The keyword parameters (``inspect.Parameter``) a model's builder takes; a GAN's include its generator's.

    Example:
        >>> "base_filters" in builder_parameters("unet")  # doctest: +SKIP
        True
    """
    import inspect

    signature = inspect.signature(get(name).resolve_builder())
    named = {
        key: parameter for key, parameter in signature.parameters.items()
        if parameter.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    }  # fmt: skip
    passes_on = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    generator = (options or {}).get("generator", named["generator"].default) if "generator" in named else None
    if passes_on and generator in MODELS and generator != name:
        for key, parameter in builder_parameters(generator).items():
            named.setdefault(key, parameter)
    return named
