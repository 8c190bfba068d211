"""Face detection for ``colorize prepare --faces``: scikit-image's LBP frontal-face cascade.

The cascade ships with scikit-image (``skimage.data.lbp_frontal_face_cascade_filename()``),
so nothing is downloaded. Detection runs on a downscaled grayscale copy; the crop is a
square around the largest face, widened by a margin so hair, chin and some background
stay in the picture.

Example:
    >>> box = largest_face(rgb)  # doctest: +SKIP
    >>> crop = face_crop_box(box, rgb.shape[:2]) if box else None  # doctest: +SKIP
"""

from __future__ import annotations

import functools

import numpy as np

# Detection works on images whose longer side is at most this (speed).
DETECT_MAX_SIDE = 256
DEFAULT_MARGIN = 0.6


@functools.lru_cache(maxsize=1)
def _cascade():
    from skimage import data, feature

    return feature.Cascade(data.lbp_frontal_face_cascade_filename())


def largest_face(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """Find the largest frontal face.

    Args:
        rgb: float array (H, W, 3) in [0, 1].

    Returns:
        ``(top, left, height, width)`` in the pixels of ``rgb``, or None when no face
        is found.
    """
    from skimage import color, transform

    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    gray = color.rgb2gray(rgb)
    if scale < 1.0:
        gray = transform.rescale(gray, scale, anti_aliasing=True)
    side = min(gray.shape)
    if side < 24:
        return None
    detections = _cascade().detect_multi_scale(
        img=gray,
        scale_factor=1.2,
        step_ratio=1,
        min_size=(max(24, side // 8), max(24, side // 8)),
        max_size=(side, side),
        min_neighbor_number=2,
    )
    if not detections:
        return None
    best = max(detections, key=lambda d: d["width"] * d["height"])
    return (
        int(round(best["r"] / scale)),
        int(round(best["c"] / scale)),
        int(round(best["height"] / scale)),
        int(round(best["width"] / scale)),
    )


def face_crop_box(
    face: tuple[int, int, int, int], image_shape: tuple[int, int], margin: float = DEFAULT_MARGIN
) -> tuple[int, int, int]:
    """A square crop around a face: ``(top, left, side)`` inside the image.

    The square is ``(1 + 2 * margin)`` times the face's larger side, centred on the
    face, shrunk to fit the image and shifted to stay inside it.
    """
    top, left, face_height, face_width = face
    height, width = image_shape
    side = int(round(max(face_height, face_width) * (1.0 + 2.0 * margin)))
    side = max(1, min(side, height, width))
    centre_y = top + face_height / 2.0
    centre_x = left + face_width / 2.0
    crop_top = int(round(min(max(centre_y - side / 2.0, 0), height - side)))
    crop_left = int(round(min(max(centre_x - side / 2.0, 0), width - side)))
    return crop_top, crop_left, side
