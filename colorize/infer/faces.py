"""The face pass: each face in a photo coloured again in a tight crop, the framing the model learned faces from.

In a group photo or a street scene a face is a few pixels of the model's working image,
and the model leaves it nearly gray; in a tight crop (as its face training photos were
framed) it gives a sure, natural skin colour. :func:`recolour_faces` finds the faces
(:func:`colorize.data.faces.find_faces`, MTCNN), colours each one's square crop at
:data:`CROP_SIZE` from the photo's full-resolution L, and blends that colour into the
photo's a*b* inside a feathered ellipse over the face. A detection becomes a face only
when it is found again in its own crop, its crop is sharp enough to hold a face's
features, and the crop's colour there is a skin tone; where the photo's colour is already
as strong (a portrait), nothing changes. Blind judges preferred photos with the pass
(docs/studies.md, ``s27_face4*``), and MTCNN's faces to an LBP cascade's (``s29_mtcnn*``).

Example:
    >>> runner = runtime.load_runner("default")  # doctest: +SKIP
    >>> ab = recolour_faces(runner, prepared, runner.predict(l_scaled)[0])  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from colorize.color import scale_ab, scale_l, unscale_ab
from colorize.data.faces import find_faces
from colorize.infer.lightness import Prepared, small_l

#: Long side of the gray copy faces are searched in, and the smallest face side searched there.
DETECT_SIZE = 640
MIN_FACE = 16
#: The face probability a detection needs, in the photo and again in its own crop.
MIN_SCORE = 0.97
#: MTCNN's box (brow to chin, narrower than high) as the square face box the geometry below is
#: measured in: its side the box's height, its centre this share of the height higher.
BOX_RAISE = 0.02
#: Side of the square crop the model colours a face in, and the crop's side in face sizes.
CROP_SIZE = 128
CROP_SCALE = 2.0
#: Mean absolute Laplacian (L units) a crop's centre needs: below it the "face" is blur or a texture.
MIN_SHARPNESS = 1.25
#: The face ellipse: its centre below the detection's, and its half-axes, in face sizes.
ELLIPSE_DROP, ELLIPSE_HEIGHT, ELLIPSE_WIDTH = 0.45, 0.7, 0.52
#: Skin: the crop's mean colour over the face must have a hue angle (degrees) in this band,
#: fading out over HUE_MARGIN beyond it, and a chroma above MIN_CHROMA (full from MIN_CHROMA + CHROMA_RAMP).
SKIN_HUE, HUE_MARGIN = (38.0, 62.0), 8.0
MIN_CHROMA, CHROMA_RAMP = 8.0, 4.0
#: Most chroma a pasted face gets (the crop's colour is scaled down to it where stronger).
MAX_CHROMA = 20.0
#: A face whose colour in the photo already has this share of the crop's chroma is left as it is.
ALREADY_COLOURED = 0.8
#: Long side of the a*b* grid the faces are pasted into (the working size is finer than needed
#: for a large face, and too coarse for a small one's outline).
CANVAS_SIZE = 768


def recolour_faces(runner, image: Prepared, ab_scaled: np.ndarray) -> np.ndarray:
    """The photo's scaled a*b* with its faces coloured from tight crops.

    Args:
        runner: the :class:`~colorize.infer.runtime.Runner` that coloured the photo.
        image: the photo (its full-resolution L).
        ab_scaled: the photo's scaled a*b* (h, w, 2) at the working size.

    Returns:
        Scaled a*b*: ``ab_scaled`` itself when no face was coloured, else a larger grid
        (long side up to :data:`CANVAS_SIZE`, the photo's aspect) that
        :func:`colorize.infer.render.compose` scales to the photo like any other.
    """
    import cv2

    height, width = image.shape
    faces = _detect(image)
    if not faces:
        return ab_scaled
    crops = [crop for _, crop in faces]
    crop_ab = unscale_ab(runner.predict(scale_l(np.stack(crops)[..., None])))
    scale = min(1.0, CANVAS_SIZE / max(height, width))
    canvas_shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    if canvas_shape[0] < ab_scaled.shape[0]:
        canvas_shape = ab_scaled.shape[:2]
    canvas = unscale_ab(cv2.resize(np.asarray(ab_scaled, np.float32), canvas_shape[::-1], interpolation=cv2.INTER_LINEAR))
    sy, sx = canvas_shape[0] / height, canvas_shape[1] / width
    total = np.zeros(canvas_shape, np.float32)
    weighted = np.zeros((*canvas_shape, 2), np.float32)
    for ((box, (top, left, side)), _), colour in zip(faces, crop_ab):
        ellipse = _ellipse(box, (CROP_SIZE, CROP_SIZE), (CROP_SIZE / side,) * 2, (top, left))
        core = ellipse < 0.8
        mean = colour[core].mean(axis=0)
        weight = _skin_weight(mean)
        chroma = float(np.hypot(*mean))
        y0, x0 = int(round(top * sy)), int(round(left * sx))
        y1, x1 = min(canvas_shape[0], max(y0 + 1, int(round((top + side) * sy)))), min(canvas_shape[1], max(x0 + 1, int(round((left + side) * sx))))
        region = (slice(y0, y1), slice(x0, x1))
        here = cv2.resize(colour, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        inside = cv2.resize(core.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA) > 0.5
        present = float(np.hypot(*canvas[region][inside].mean(axis=0))) if inside.any() else 0.0
        if weight <= 0.0 or present >= ALREADY_COLOURED * min(chroma, MAX_CHROMA):
            continue
        strength = np.hypot(here[..., 0], here[..., 1])
        here = here * np.minimum(1.0, MAX_CHROMA / np.maximum(strength, 1e-6))[..., None]
        distance = _ellipse(box, (y1 - y0, x1 - x0), (sy, sx), (y0 / sy, x0 / sx))
        mask = np.clip((1.0 - distance) / 0.3, 0.0, 1.0) * weight
        total[region] += mask
        weighted[region] += here * mask[..., None]
    if not total.any():
        return ab_scaled
    share = np.clip(total, 0.0, 1.0)[..., None]
    pasted = weighted / np.maximum(total, 1e-6)[..., None]
    return scale_ab(canvas * (1.0 - share) + pasted * share).astype(np.float32)


def _detect(image: Prepared) -> list:
    """[((box, crop square), crop L at CROP_SIZE)] for each detection that :func:`_is_face`, in full-resolution pixels."""
    height, width = image.shape
    scale = min(1.0, DETECT_SIZE / max(height, width))
    small = small_l(image, (max(1, round(height * scale)), max(1, round(width * scale))))
    found = []
    for detection in find_faces(small / 100.0, MIN_FACE, MIN_SCORE):
        top, left, face_height, face_width = _face_box(detection)
        box = (top / scale, left / scale, face_height / scale, face_width / scale)
        square = _square(box, height, width)
        crop_top, crop_left, side = square
        crop = small_l(image, (CROP_SIZE, CROP_SIZE), window=(crop_top, crop_left, side, side))
        if _is_face(crop):
            found.append(((box, square), crop))
    return found


def _face_box(detection) -> tuple[float, float, float, float]:
    """MTCNN's (top, left, height, width) as the square face box the crop and ellipse are measured in."""
    top, left, height, width = detection
    return top - BOX_RAISE * height, left + (width - height) / 2, float(height), float(height)


def _square(box, height: int, width: int) -> tuple[int, int, int]:
    """(top, left, side) of the crop: CROP_SCALE face sizes, centred on the face, inside the photo."""
    top, left, face_height, face_width = box
    side = max(1, min(int(round(max(face_height, face_width) * CROP_SCALE)), height, width))
    crop_top = int(round(min(max(top + face_height / 2 - side / 2, 0), height - side)))
    crop_left = int(round(min(max(left + face_width / 2 - side / 2, 0), width - side)))
    return crop_top, crop_left, side


def _is_face(crop: np.ndarray) -> bool:
    """The crop (L at CROP_SIZE) shows a face: found again near its centre, and sharp enough."""
    import cv2

    centre = crop[CROP_SIZE // 4 : -CROP_SIZE // 4, CROP_SIZE // 4 : -CROP_SIZE // 4]
    laplacian = cv2.Laplacian(cv2.GaussianBlur(centre, (0, 0), 1.0), cv2.CV_32F)
    if float(np.abs(laplacian).mean()) < MIN_SHARPNESS:
        return False
    middle = CROP_SIZE / 2
    for detection in find_faces(crop / 100.0, CROP_SIZE // 4, MIN_SCORE):
        top, left, face_height, face_width = _face_box(detection)
        near = abs(top + face_height / 2 - middle) < CROP_SIZE * 0.16 and abs(left + face_width / 2 - middle) < CROP_SIZE * 0.16
        if near and CROP_SIZE * 0.28 <= face_width <= CROP_SIZE * 0.78:
            return True
    return False


def _ellipse(box, shape, scale, origin) -> np.ndarray:
    """Normalized distance from the face ellipse's centre (1 on its outline) over a grid of ``shape``.

    The grid's pixel (i, j) lies at full-resolution ((i + 0.5) / scale_y + origin_y, (j + 0.5) /
    scale_x + origin_x): a crop at CROP_SIZE has scale CROP_SIZE / side and its corner as origin.
    """
    face_top, face_left, face_height, face_width = box
    rows = (np.arange(shape[0], dtype=np.float32) + 0.5) / scale[0] + origin[0]
    columns = (np.arange(shape[1], dtype=np.float32) + 0.5) / scale[1] + origin[1]
    dy = (rows[:, None] - (face_top + ELLIPSE_DROP * face_height)) / (ELLIPSE_HEIGHT * face_height)
    dx = (columns[None, :] - (face_left + 0.5 * face_width)) / (ELLIPSE_WIDTH * face_width)
    return np.hypot(dy, dx)


def _skin_weight(mean_ab: np.ndarray) -> float:
    """1 for a sure skin tone, 0 for anything else (gray, green, blue ...), linear between."""
    a, b = float(mean_ab[0]), float(mean_ab[1])
    chroma, hue = np.hypot(a, b), np.degrees(np.arctan2(b, a))
    low, high = SKIN_HUE
    by_hue = np.clip(1.0 - max(0.0, low - hue, hue - high) / HUE_MARGIN, 0.0, 1.0)
    by_chroma = np.clip((chroma - MIN_CHROMA) / CHROMA_RAMP, 0.0, 1.0)
    return float(by_hue * by_chroma)
