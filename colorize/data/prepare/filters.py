"""Which photos are kept as colour: colourfulness (drops black-and-white) and hue spread (drops sepia/toned)."""

from __future__ import annotations

import numpy as np


DEFAULT_MIN_COLOURFULNESS = 15.0
DEFAULT_MIN_HUE_SPREAD = 1.0


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness metric of an RGB image in [0, 1] (0-255 scale).

    About 0 for grey images, above ~15 for ordinary colour photographs.
    """
    rgb = rgb.astype(np.float64) * 255.0
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def hue_spread(ab: np.ndarray) -> float:
    """Spread of a*b* across the image's mean hue direction (a*b* units).

    A toned (sepia, cyanotype) monochrome image has every pixel on one hue ray, so the
    spread is near 0; colour photographs measure above ~1.5.
    """
    ab = ab.reshape(-1, 2).astype(np.float64)
    mean = ab.mean(axis=0)
    norm = float(np.hypot(*mean))
    if norm < 1e-6:
        return float(np.hypot(*ab.std(axis=0)))
    across = ab @ np.array([-mean[1], mean[0]]) / norm
    return float(across.std())
