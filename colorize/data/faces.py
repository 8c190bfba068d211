"""Face detection (``colorize prepare --faces``, the face pass of rendering): MTCNN with ONNX Runtime.

MTCNN (Zhang et al. 2016) proposes faces with a small fully convolutional network over an
image pyramid (P-Net), then rescores and refines each proposal in a 24 and a 48 px crop
(R-Net, O-Net). Its weights (facenet-pytorch's, MIT licence) are bundled as ONNX graphs
taking one gray channel in ``colorize/assets/faces/`` (:mod:`colorize.data.mtcnn_export`),
so nothing is downloaded and no deep-learning framework is needed. The crop for a
prepared set is a square around the largest face, widened by a margin so hair, chin and
some background stay in the picture.

Example:
    >>> box = largest_face(rgb)  # doctest: +SKIP
    >>> crop = face_crop_box(box, rgb.shape[:2]) if box else None  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import pathlib

import numpy as np

# Detection works on images whose longer side is at most this (speed).
DETECT_MAX_SIDE = 256
DEFAULT_MARGIN = 0.6
#: The folder of the three networks' ONNX graphs.
NETWORKS_DIR = pathlib.Path(__file__).resolve().parents[1] / "assets" / "faces"
#: Each stage's lowest face probability (P-Net, R-Net; O-Net's is find_faces' ``min_score``),
#: the pyramid's step, and the overlap above which the weaker of two proposals is dropped.
STAGE_SCORES = (0.6, 0.7)
PYRAMID_STEP = 0.709
OVERLAP = (0.5, 0.7)


@functools.lru_cache(maxsize=None)
def _network(name: str):
    import onnxruntime

    path = NETWORKS_DIR / f"{name}.onnx"
    if not path.is_file():
        raise FileNotFoundError(f"the face detector's {path.name} is missing from {path.parent}: reinstall colorize, "
                                "or rebuild it with `make face-detector`")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # photos are searched in parallel threads; one each
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def find_faces(gray: np.ndarray, min_size: int = 20, min_score: float = 0.9) -> list[tuple[int, int, int, int]]:
    """Every face MTCNN finds in a gray image.

    Args:
        gray: float array (H, W) in [0, 1].
        min_size: the smallest face side searched, in pixels.
        min_score: the lowest final (O-Net) face probability kept.

    Returns:
        ``(top, left, height, width)`` of each face in the pixels of ``gray``, the strongest
        first: MTCNN's box runs from the brow to the chin, a little narrower than high.

    Example:
        >>> find_faces(np.zeros((64, 64), np.float32))
        []
    """
    boxes = _search(np.asarray(gray, np.float32) * 255.0, min_size, min_score)
    return [(int(round(y0)), int(round(x0)), int(round(y1 - y0)), int(round(x1 - x0))) for x0, y0, x1, y1, _ in boxes]


def _search(image: np.ndarray, min_size: int, min_score: float) -> np.ndarray:
    """MTCNN's three stages on ``image`` (0-255): boxes (N, 5: x0, y0, x1, y1, score), the strongest first."""
    import cv2

    none = np.zeros((0, 5), np.float32)
    height, width = image.shape
    scale, proposals = 12.0 / min_size, []
    while min(height, width) * scale >= 12:
        level = cv2.resize(image, (int(width * scale + 1), int(height * scale + 1)), interpolation=cv2.INTER_AREA)
        box, face = _network("pnet").run(["box", "face"], {"gray": _normalized(level)[None, None]})
        rows, columns = np.nonzero(face[0, 1] >= STAGE_SCORES[0])
        if rows.size:
            cells = np.stack([columns, rows], axis=1).astype(np.float32)
            found = np.concatenate([np.floor((2 * cells + 1) / scale), np.floor((2 * cells + 12) / scale),
                                    face[0, 1, rows, columns][:, None], box[0][:, rows, columns].T], axis=1)
            proposals.append(found[_suppress(found, OVERLAP[0])])
        scale *= PYRAMID_STEP
    if not proposals:
        return none
    found = np.concatenate(proposals)
    found = found[_suppress(found, OVERLAP[1])]
    boxes = _squared(_refined(found[:, :4], found[:, 5:9], extent=0.0))
    face, box = _network("rnet").run(["face", "box"], {"gray": _crops(image, boxes, 24)})
    keep = face[:, 1] > STAGE_SCORES[1]
    if not keep.any():
        return none
    boxes = np.concatenate([boxes[keep, :4], face[keep, 1:2]], axis=1)
    order = _suppress(boxes, OVERLAP[1])
    boxes = _squared(np.concatenate([_refined(boxes[order, :4], box[keep][order], extent=1.0), boxes[order, 4:5]], axis=1))
    face, box = _network("onet").run(["face", "box"], {"gray": _crops(image, boxes, 48)})
    keep = face[:, 1] > min_score
    if not keep.any():
        return none
    boxes = np.concatenate([_refined(boxes[keep, :4], box[keep], extent=1.0), face[keep, 1:2]], axis=1)
    return boxes[_suppress(boxes, OVERLAP[1], smaller=True)]


def _normalized(pixels: np.ndarray) -> np.ndarray:
    return ((pixels - 127.5) * 0.0078125).astype(np.float32)


def _suppress(boxes: np.ndarray, overlap: float, smaller: bool = False) -> np.ndarray:
    """Indices of the boxes (x0, y0, x1, y1, score) kept by non-maximum suppression, strongest first.

    Two boxes overlap by their intersection over their union, or over the smaller one's area.
    """
    x0, y0, x1, y1, score = boxes[:, :5].T
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order, keep = np.argsort(-score, kind="stable"), []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        inter = (np.maximum(0.0, np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]) + 1)
                 * np.maximum(0.0, np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]) + 1))
        base = np.minimum(area[best], area[rest]) if smaller else area[best] + area[rest] - inter
        order = rest[inter / base <= overlap]
    return np.array(keep, dtype=int)


def _refined(boxes: np.ndarray, offsets: np.ndarray, extent: float) -> np.ndarray:
    """Boxes moved by the network's regression offsets (fractions of each box's size)."""
    width = boxes[:, 2] - boxes[:, 0] + extent
    height = boxes[:, 3] - boxes[:, 1] + extent
    return boxes[:, :4] + offsets * np.stack([width, height, width, height], axis=1)


def _squared(boxes: np.ndarray) -> np.ndarray:
    """Each box made a square of its longer side about the same centre (score, if any, kept)."""
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(width, height)
    squared = boxes.copy()
    squared[:, 0] += (width - side) / 2
    squared[:, 1] += (height - side) / 2
    squared[:, 2] = squared[:, 0] + side
    squared[:, 3] = squared[:, 1] + side
    return squared


def _crops(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """Each box's pixels (clipped to the image) resized to ``side``, normalized, as (N, 1, side, side)."""
    import cv2

    height, width = image.shape
    crops = []
    for x0, y0, x1, y1 in np.trunc(boxes[:, :4]).astype(int):
        x0, y0, x1, y1 = max(x0, 1), max(y0, 1), min(x1, width), min(y1, height)
        patch = image[y0 - 1 : y1, x0 - 1 : x1]
        if patch.size == 0:
            crops.append(np.zeros((side, side), np.float32))
            continue
        shrink = patch.shape[0] > side
        crops.append(cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR))
    return _normalized(np.stack(crops))[:, None]


def largest_face(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """Find the largest face.

    Args:
        rgb: float array (H, W, 3) in [0, 1].

    Returns:
        ``(top, left, height, width)`` in the pixels of ``rgb``, or None when no face
        is found.
    """
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    gray = np.asarray(rgb, np.float32) @ np.array([0.2125, 0.7154, 0.0721], np.float32)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    side = min(gray.shape)
    detections = find_faces(gray, min_size=max(20, side // 8))
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
