"""The per-image worker: decode, filter, crop or pad to a square, encode as PNG, histogram its a*b*; run over files in processes."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import io
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np

from colorize.data import faces as faces_lib
from colorize.data.prepare.filters import colourfulness, hue_spread
from colorize.errors import ColorizeError, ImageDecodeError
from colorize.io.decode import read_image, resize

AB_EDGES = np.arange(-110, 111, 10)
_PAD_VALUE = 0.5  # neutral grey: a* = b* = 0
_ANALYSIS_SIDE = 64


@dataclasses.dataclass(frozen=True)
class _Task:
    image_size: int
    fit: str
    faces: bool
    keep_no_face: bool
    min_colourfulness: float
    min_hue_spread: float
    min_side: int

    def __call__(self, path: Path) -> dict:
        try:
            return _process(path, self)
        except ImageDecodeError as error:
            return {"status": "unreadable", "reason": _reason(error, path)}
        except (OSError, ValueError, ColorizeError, MemoryError) as error:
            return {"status": "unreadable", "reason": f"{type(error).__name__}: {error}"}


def _reason(error: Exception, path: Path) -> str:
    text = str(error)
    prefix = f"{path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _process(path: Path, task: _Task) -> dict:
    from PIL import Image
    from skimage import color

    data = path.read_bytes() if path.is_file() else b""
    decoded = read_image(path)
    rgb = decoded.rgb
    if decoded.alpha is not None:  # composite over white, as a viewer shows it
        rgb = rgb * decoded.alpha[..., None] + (1.0 - decoded.alpha[..., None])
    height, width = rgb.shape[:2]
    if min(height, width) < task.min_side:
        return {"status": "too_small", "reason": f"too small ({width}x{height} < {task.min_side} px)"}
    if decoded.grayscale:
        return {"status": "black_and_white", "reason": "black-and-white (grayscale file)"}

    thumbnail = resize(rgb, *_thumb_shape(height, width))
    score = colourfulness(thumbnail)
    if score < task.min_colourfulness:
        return {
            "status": "black_and_white",
            "reason": f"black-and-white or nearly (colourfulness {score:.1f} < {task.min_colourfulness:g})",
        }
    spread = hue_spread(color.rgb2lab(thumbnail)[..., 1:])
    if spread < task.min_hue_spread:
        return {
            "status": "black_and_white",
            "reason": f"sepia/toned monochrome (hue spread {spread:.2f} < {task.min_hue_spread:g})",
        }

    found = False
    if task.faces:
        face = faces_lib.largest_face(rgb)
        if face is not None:
            top, left, side = faces_lib.face_crop_box(face, (height, width))
            rgb = rgb[top : top + side, left : left + side]
            found = True
        elif not task.keep_no_face:
            return {"status": "no_face", "reason": "no face detected"}
    square = _fit_square(rgb, task.image_size, task.fit)
    pixels = np.round(np.clip(square, 0.0, 1.0) * 255.0).astype(np.uint8)

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=6)
    ab = color.rgb2lab(pixels.astype(np.float32) / 255.0)[..., 1:]
    ab = np.clip(ab, AB_EDGES[0], AB_EDGES[-1] - 1e-3)
    histogram, _, _ = np.histogram2d(ab[..., 0].ravel(), ab[..., 1].ravel(), bins=[AB_EDGES, AB_EDGES])
    return {
        "status": "ok",
        "sha1": hashlib.sha1(data).hexdigest(),
        "png": buffer.getvalue(),
        "histogram": histogram.astype(np.int64),
        "colourfulness": score,
        "face": found,
    }


def _thumb_shape(height: int, width: int) -> tuple[int, int]:
    scale = min(1.0, _ANALYSIS_SIDE / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _fit_square(rgb: np.ndarray, size: int, fit: str) -> np.ndarray:
    height, width = rgb.shape[:2]
    if fit == "crop":
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        return resize(rgb[top : top + side, left : left + side], size, size)
    scale = size / max(height, width)
    new_height, new_width = max(1, round(height * scale)), max(1, round(width * scale))
    canvas = np.full((size, size, 3), _PAD_VALUE, np.float32)
    top, left = (size - new_height) // 2, (size - new_width) // 2
    canvas[top : top + new_height, left : left + new_width] = resize(rgb, new_height, new_width)
    return canvas


def _end_with_parent(parent: int, interval: float = 0.5) -> None:
    """A worker's initializer: the worker ends when ``parent``, the process that started it,
    dies (a ``kill -9`` of prepare leaves no orphaned worker; the resource tracker then ends too)."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="colorize-parent-watch", daemon=True).start()


def _run(task: _Task, files: list[Path], workers: int, progress: bool) -> list[dict]:
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc="prepare", unit="img", disable=not progress or None, leave=False)
    results: list[dict] = []
    try:
        if workers == 1 or len(files) < 4:
            for path in files:
                results.append(task(path))
                bar.update()
        else:
            # spawn: safe even when the caller has already imported TensorFlow.
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                        initializer=_end_with_parent, initargs=(os.getpid(),)) as pool:  # fmt: skip
                chunksize = max(1, min(32, len(files) // (workers * 8)))
                for outcome in pool.map(task, files, chunksize=chunksize):
                    results.append(outcome)
                    bar.update()
    finally:
        bar.close()
    return results
