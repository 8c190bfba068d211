"""Face detection (``colorize prepare --faces``, the face pass of rendering): scikit-image's LBP frontal-face cascade.

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


def find_faces(
    gray: np.ndarray, min_size: int = 24, min_neighbours: int = 2, scale_factor: float = 1.2
) -> list[tuple[int, int, int, int]]:
    """Every frontal face the cascade finds in a gray image.

    Args:
        gray: float array (H, W) in [0, 1].
        min_size: the smallest face side searched, in pixels.
        min_neighbours: how many overlapping detections a face needs (more: fewer false faces).
        scale_factor: the step between searched face sizes.

    Returns:
        ``(top, left, height, width)`` of each face in the pixels of ``gray``.

    Example:
        >>> find_faces(np.zeros((64, 64), np.float32))
        []
    """
    side = min(gray.shape)
    if side < min_size:
        return []
    detections = _cascade().detect_multi_scale(
        img=np.asarray(gray, np.float32),
        scale_factor=scale_factor,
        step_ratio=1,
        min_size=(min_size, min_size),
        max_size=(side, side),
        min_neighbor_number=min_neighbours,
    )
    return [(int(d["r"]), int(d["c"]), int(d["height"]), int(d["width"])) for d in detections]


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
    detections = find_faces(gray, min_size=max(24, side // 8))
    if not detections:
        return None
    top, left, face_height, face_width = max(detections, key=lambda d: d[2] * d[3])
    return (
        int(round(top / scale)),
        int(round(left / scale)),
        int(round(face_height / scale)),
        int(round(face_width / scale)),
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
