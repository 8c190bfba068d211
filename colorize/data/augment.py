"""Training augmentation of the model's input lightness: the look of old black-and-white prints.

The model is used on old photographs (film grain, soft focus, faded contrast, lifted blacks,
JPEG artefacts from scanning), recorded on films that weighed red, green and blue their own
way, but trained on clean ones whose gray is the CIE lightness. :func:`degrade_l` gives a share
of the training examples that look and :func:`film_l` a film's response to colour, on their
input L only: the target a*b* stays the clean photo's colour. One NumPy / OpenCV implementation
for both training paths:
:class:`colorize.data.pydataset.LabBatches` calls it, :func:`colorize.data.pipeline.make_dataset`
wraps it in ``tf.numpy_function``.

Example:
    >>> import numpy as np
    >>> l_scaled = np.zeros((2, 32, 32, 1), np.float32)
    >>> degrade_l(l_scaled, seed=(0, 7), probability=1.0).shape
    (2, 32, 32, 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from colorize import color

# Each degradation, its chance for an example chosen for degrading (at least one is applied),
# and its range: L in [0, 100]; pixel sizes at REFERENCE_SIZE, scaled with the image side.
REFERENCE_SIZE = 128
BLUR = 0.5
BLUR_SIGMA = (0.3, 1.0)  # px: soft focus, an enlarger, a low-resolution scan
GRAIN = 0.6
GRAIN_SIGMA = (1.0, 4.0)  # L units: film grain
GRAIN_CLUMP = 0.5  # share of grainy examples whose noise is blurred into clumps
GRAIN_CLUMP_SIGMA = (0.4, 0.8)  # px
FADE = 0.6
FADE_FACTOR = (0.55, 1.0)  # contrast kept around the gray a print fades toward
FADE_GRAY = (50.0, 80.0)  # L of that gray: mid to light
LEVELS = 0.5
BLACK_LIFT = (0.0, 15.0)  # L of the darkest black
WHITE_DROP = (0.0, 12.0)  # below 100: the dullest white
JPEG = 0.5
JPEG_QUALITY = (30, 90)  # re-compressed as 8-bit gray, inclusive

_CHANCES = (BLUR, GRAIN, FADE, LEVELS, JPEG)
_STREAM = 0x6F6C64  # appended to integer seeds: never the stream of the crop / flip jitter's key

# A film's response to red, green and blue light (:func:`film_l`): weights of linear RGB that sum
# to 1, so a neutral gray keeps its lightness. Orthochromatic emulsions (most plates and films
# before the 1920s) do not see red: red lips and ruddy skin print dark, blue skies print white.
ORTHOCHROMATIC = 0.4  # share of film-toned examples given an orthochromatic response
ORTHO_RED = (0.0, 0.08)
ORTHO_GREEN = (0.35, 0.6)  # blue takes the rest: 0.32-0.65
PANCHROMATIC_SPREAD = 0.35  # the others: each luminance weight times exp(N(0, spread)), renormalized
_FILM_STREAM = 0x66696C6D


def degrade_l(
    l_scaled: np.ndarray,
    seed: int | Sequence[int] | np.random.Generator,
    probability: float = 1.0,
) -> np.ndarray:
    """Old-photo degradations on a batch of the model's input lightness.

    Each example is chosen with ``probability``; a chosen one gets a random mix (each step
    by its chance, at least one) of, in this order: Gaussian blur, film grain (Gaussian
    noise, sometimes blurred into clumps), fading toward a mid or light gray, lifted
    blacks / lowered whites, and JPEG re-compression of the 8-bit gray. The ranges are
    this module's constants. The result stays in the valid range.

    Args:
        l_scaled: ``(B, H, W, 1)`` L scaled to [-1, 1] (:func:`colorize.color.scale_l`),
            as :func:`colorize.color.np_ops.rgb_to_model_io` returns it.
        seed: an int or a sequence of ints (e.g. ``(run_seed, batch_index)``) or a
            ``np.random.Generator``: the same seed gives the same result.
        probability: the share of examples degraded, in [0, 1]; 0 returns ``l_scaled``.

    Returns:
        A new array of the same shape and dtype (``l_scaled`` itself when
        ``probability`` is 0).

    Raises:
        ValueError: ``l_scaled`` is not ``(B, H, W, 1)``, or ``probability`` is outside [0, 1].

    Example:
        >>> l_scaled = np.linspace(-1, 1, 4 * 16 * 16, dtype=np.float32).reshape(4, 16, 16, 1)
        >>> degraded = degrade_l(l_scaled, seed=(0, 3), probability=0.5)
        >>> bool(np.all(np.abs(degraded) <= 1.0))
        True
    """
    l_scaled = np.asarray(l_scaled)
    if l_scaled.ndim != 4 or l_scaled.shape[-1] != 1:
        raise ValueError(
            f"l_scaled must be a batch (B, H, W, 1). Received: shape={l_scaled.shape}"
        )
    if isinstance(probability, bool) or not 0.0 <= float(probability) <= 1.0:
        raise ValueError(
            f"probability must be a number in [0, 1]. Received: probability={probability!r}"
        )
    if probability == 0:
        return l_scaled
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(
            [*np.atleast_1d(np.asarray(seed, np.int64)).tolist(), _STREAM]
        )
    chosen = rng.uniform(size=len(l_scaled)) < probability
    keys = rng.integers(0, 2**63, size=len(l_scaled))  # each example its own stream
    degraded = np.array(l_scaled, np.float32)
    for index in np.flatnonzero(chosen):
        lightness = color.unscale_l(degraded[index, ..., 0])
        degraded[index, ..., 0] = color.scale_l(
            _degrade_one(lightness, np.random.default_rng(keys[index]))
        )
    return np.clip(degraded, -1.0, 1.0).astype(l_scaled.dtype, copy=False)


def film_l(
    l_scaled: np.ndarray,
    rgb: np.ndarray,
    seed: int | Sequence[int] | np.random.Generator,
    probability: float = 1.0,
) -> np.ndarray:
    """A batch's input lightness as a black-and-white film would have recorded the scene.

    A photograph's gray is not CIE lightness: each emulsion weighs red, green and blue light
    its own way. A chosen example's L is taken from a random film response instead of the
    luminance: on :data:`ORTHOCHROMATIC` of them an orthochromatic one (almost no red,
    :data:`ORTHO_RED`), on the others the luminance weights spread by
    :data:`PANCHROMATIC_SPREAD`. The weights sum to 1, so neutral colours keep their L; the
    target a*b* (the photo's colour) is not touched.

    Args:
        l_scaled: ``(B, H, W, 1)`` the examples' L scaled to [-1, 1], as
            :func:`colorize.color.np_ops.rgb_to_model_io` returns it from ``rgb``.
        rgb: ``(B, H, W, 3)`` the same examples, sRGB in [0, 1].
        seed: an int, a sequence of ints (e.g. ``(run_seed, batch_index)``) or a
            ``np.random.Generator``: the same seed gives the same result.
        probability: the share of examples given a film's response, in [0, 1]; 0 returns ``l_scaled``.

    Returns:
        A new array like ``l_scaled`` (``l_scaled`` itself when ``probability`` is 0).

    Raises:
        ValueError: the shapes do not match ``(B, H, W, 1)`` and ``(B, H, W, 3)``, or
            ``probability`` is outside [0, 1].

    Example:
        >>> from colorize.color import np_ops
        >>> rgb = np.zeros((2, 8, 8, 3), np.float32); rgb[..., 0] = 0.8  # a red scene
        >>> l_scaled = np_ops.rgb_to_model_io(rgb)[0]
        >>> bool(np.all(film_l(l_scaled, rgb, seed=0) != l_scaled))
        True
    """
    from colorize.color import np_ops

    l_scaled, rgb = np.asarray(l_scaled), np.asarray(rgb)
    if l_scaled.ndim != 4 or l_scaled.shape[-1] != 1 or rgb.shape != l_scaled.shape[:-1] + (3,):
        raise ValueError(f"l_scaled and rgb must be batches (B, H, W, 1) and (B, H, W, 3) of the same images. "
                         f"Received: shapes {l_scaled.shape} and {rgb.shape}")  # fmt: skip
    if isinstance(probability, bool) or not 0.0 <= float(probability) <= 1.0:
        raise ValueError(f"probability must be a number in [0, 1]. Received: probability={probability!r}")
    if probability == 0:
        return l_scaled
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng([*np.atleast_1d(np.asarray(seed, np.int64)).tolist(), _FILM_STREAM])
    count = len(l_scaled)
    chosen = rng.uniform(size=count) < probability
    ortho = rng.uniform(size=count) < ORTHOCHROMATIC
    red, green = rng.uniform(*ORTHO_RED, size=count), rng.uniform(*ORTHO_GREEN, size=count)
    spread = np_ops.LUMA[None, :] * np.exp(rng.normal(0.0, PANCHROMATIC_SPREAD, size=(count, 3)))
    weights = np.where(ortho[:, None], np.stack([red, green, 1.0 - red - green], axis=1), spread)
    weights = (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
    toned = np.array(l_scaled, np.float32)
    for index in np.flatnonzero(chosen):
        luminance = np_ops.srgb_to_linear(rgb[index]) @ weights[index]
        toned[index, ..., 0] = color.scale_l(np_ops._lightness_of_luminance(luminance))
    return np.clip(toned, -1.0, 1.0).astype(l_scaled.dtype, copy=False)


def _degrade_one(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One (H, W) float32 L in [0, 100] -> its degraded copy in [0, 100]."""
    import cv2

    steps = rng.uniform(size=len(_CHANCES)) < np.array(_CHANCES)
    if not steps.any():
        steps[rng.integers(len(steps))] = True
    blur, grain, fade, levels, jpeg = steps
    scale = min(lightness.shape) / REFERENCE_SIZE
    if blur:
        sigma = rng.uniform(*BLUR_SIGMA) * scale
        lightness = cv2.GaussianBlur(
            lightness, (0, 0), sigma, borderType=cv2.BORDER_REFLECT
        )
    if grain:
        noise = rng.standard_normal(lightness.shape, dtype=np.float32)
        if rng.uniform() < GRAIN_CLUMP:
            sigma = rng.uniform(*GRAIN_CLUMP_SIGMA) * scale
            noise = cv2.GaussianBlur(
                noise, (0, 0), sigma, borderType=cv2.BORDER_REFLECT
            )
        noise *= np.float32(rng.uniform(*GRAIN_SIGMA) / max(float(noise.std()), 1e-6))
        lightness = lightness + noise
    if fade:
        gray = np.float32(rng.uniform(*FADE_GRAY))
        lightness = gray + np.float32(rng.uniform(*FADE_FACTOR)) * (lightness - gray)
    if levels:
        black = rng.uniform(*BLACK_LIFT)
        white = color.L_MAX - rng.uniform(*WHITE_DROP)
        gain = np.float32((white - black) / color.L_MAX)
        lightness = np.float32(black) + gain * lightness
    lightness = np.clip(lightness, 0.0, color.L_MAX)
    if jpeg:
        quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
        codes = np.rint(lightness * (255.0 / color.L_MAX)).astype(np.uint8)
        _, data = cv2.imencode(".jpg", codes, [cv2.IMWRITE_JPEG_QUALITY, quality])
        decoded = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE).astype(np.float32)
        lightness = decoded * np.float32(color.L_MAX / 255.0)
    return lightness.astype(np.float32, copy=False)
