"""Scoring: the one accumulator of per-image measures, and the result it makes, for evaluation with and without truth.

Each model's images add their measures (:meth:`Accumulator.add`); the summary is their
mean over the images, with the a*b* distribution's shape and the hue measures of all
pixels pooled. :func:`colorize.evaluate.evaluate` (colour photos, scored against their
truth) and :func:`colorize.evaluate.evaluate_without_truth` (black-and-white photos, the
colour measures only) both score through it.

Example:
    >>> import numpy as np
    >>> scores = Accumulator(["gray"])
    >>> ab = np.zeros((8, 8, 2), np.float32)
    >>> scores.add("gray", ab, {"colourfulness": 0.0, **scores.hue_measures("gray", ab)})
    {'colourfulness': 0.0, 'hue_entropy': 0.0, 'warm_share': 0.0}
    >>> scores.summary(count=1)["gray"]["hue_entropy"]
    0.0
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from colorize import measures
from colorize.color import np_ops

PERFECT_PSNR = 100.0  # dB: the PSNR of a perfect prediction (infinite) is counted as this in means


@dataclasses.dataclass
class EvaluationResult:
    """Per-model mean metrics, per-image rows, ab histograms and sample images."""

    summary: dict[str, dict[str, float]]
    rows: list[dict]
    histograms: dict[str, np.ndarray]
    samples: dict[str, list[np.ndarray]]
    num_images: int
    data: str
    image_size: int
    full_resolution: bool = False
    truth: bool = True  # False: black-and-white photos, only the colour measures
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (file, reason)
    render_size: int | None = None  # full resolution: the long side the models saw (None: predict's default)


class Accumulator:
    """Running sums of each model's per-image measures, its a*b* histogram and pooled hues,
    the per-image rows and the sample images kept for the report.

    Args:
        names: the models (and ``"ground truth"``), in the order of the report.
        sample_columns: columns of sample images before the models' (``"gray input"``).
    """

    def __init__(self, names: list[str], sample_columns: tuple[str, ...] = ()):
        self.sums: dict[str, dict[str, float]] = {name: {} for name in names}
        self.histograms = {name: np.zeros((len(measures.AB_EDGES) - 1,) * 2) for name in names}
        self.tallies = {name: measures.HueTally() for name in names}
        self.samples: dict[str, list[np.ndarray]] = {name: [] for name in [*sample_columns, *names]}
        self.rows: list[dict] = []

    def hue_measures(self, name: str, ab: np.ndarray) -> dict[str, float]:
        """One image's hue entropy and warm share; its pixels are also pooled into ``name``'s tally."""
        self.tallies[name].add(ab)
        return {"hue_entropy": measures.hue_entropy(ab), "warm_share": measures.warm_share(ab)}

    def add(self, name: str, ab: np.ndarray, values: dict[str, float], row: dict | None = None) -> dict[str, float]:
        """Add one image of ``name``: ``ab`` to its a*b* histogram, ``values`` to its sums
        (an infinite PSNR counts as :data:`PERFECT_PSNR`), and a per-image row
        ``{**row, "model": name, **values}`` when ``row`` is given. Returns ``values``."""
        self.histograms[name] += measures.ab_histogram(ab)
        totals = self.sums[name]
        for key, value in values.items():
            if not math.isfinite(value):  # PSNR of a perfect prediction: cap so means stay finite
                value = PERFECT_PSNR if value > 0 else 0.0
            totals[key] = totals.get(key, 0.0) + value
        if row is not None:
            self.rows.append({**row, "model": name, **values})
        return values

    def summary(self, count: int) -> dict[str, dict[str, float]]:
        """Each name's mean measures over ``count`` images, its a*b* distribution's shape
        (:func:`colorize.measures.distribution_summary`), and the hue entropy, warm share and
        chromatic share of all its pixels pooled (the per-image mean hue entropy is kept as
        ``hue_entropy_per_image``)."""
        summary = {name: {key: value / count for key, value in totals.items()} for name, totals in self.sums.items()}
        for name, means in summary.items():
            tally = self.tallies[name]
            means.update(measures.distribution_summary(self.histograms[name]))
            means.update({
                "hue_entropy": tally.hue_entropy,
                "hue_entropy_per_image": means.get("hue_entropy", 0.0),
                "warm_share": tally.warm_share,
                "chromatic_share": tally.chromatic_share,
            })  # fmt: skip
        return summary


def output_ab(rgb: np.ndarray) -> np.ndarray:
    """a*b* (H, W, 2) of an output RGB image in [0, 1]: the colours a user sees, after gamut mapping."""
    return np_ops.rgb_to_lab(np.asarray(rgb, np.float32))[..., 1:]


def float_rgb(output: np.ndarray) -> np.ndarray:
    """A colorize_image output (uint8 / uint16 / float, RGB or RGBA) as float32 RGB in [0, 1]."""
    rgb = output[..., :3]
    peak = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(rgb.dtype, 1.0)
    return rgb.astype(np.float32) / np.float32(peak)
