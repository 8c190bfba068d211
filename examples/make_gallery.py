"""A gallery of the model at work (what `make gallery` runs): docs/gallery.png.

Rows of gray | colorized | original for photos the model never trained on: held-out
scenes and portraits (files of the test split of ``colorize prepare``), scikit-image's
``camera`` (a genuine black-and-white photo: no original in colour) and its astronaut
portrait, coffee cup and cat turned gray. Every colour comes from ``colorize.colorize_image``, the path
``colorize predict`` takes (full resolution), and the cells are then scaled down.

Which photos: the test split that ``colorize prepare`` gives a file is decided by the
SHA-1 of its bytes (``colorize.data.prepare.split_of``), so the files picked here are in
the test split of every set prepared from these folders with the default split
(0.8,0.1,0.1); with ``--scenes-prepared DIR`` the scenes are taken from that set's
manifest (its test split) instead. Among them the photos with the smallest digests are
taken, skipping near-gray ones: a fixed choice, the same on every machine.

Without ``--data`` the gallery has scikit-image's photos only: that is the committed
``docs/gallery.png`` (``make gallery``). The training sets' photos belong to their owners and
the repository never holds them: a gallery made with ``--data`` is for your own eyes, written
outside the repository.

Usage:
    python examples/make_gallery.py                                  # default model -> docs/gallery.png
    python examples/make_gallery.py --model runs/unet -o /tmp/gallery.png --data ../shared/data
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter quiet

import colorize  # noqa: E402
from colorize import measures, saving, visualize  # noqa: E402
from colorize.data import pipeline, prepare  # noqa: E402
from colorize.infer import runtime
from colorize.io.decode import read_image  # noqa: E402
from colorize.io.files import find_images  # noqa: E402

CELL_HEIGHT = 192  # pixels (12 rows stay under 2 MB of PNG)
CELL_WIDTH = 256  # at most 4:3 landscape; taller photos are narrower
MIN_COLOURFULNESS = 15.0  # as `colorize prepare`: skip near-gray originals
COLUMNS = ("gray input", "colorized", "original")
DATA_FOLDERS = ("scenes/images", "humanfaces/images")


def held_out(folder: Path, count: int, prepared: Path | None = None) -> list[Path]:
    """``count`` test-split photos of ``folder``: the smallest content digests, colourful ones only."""
    if prepared is not None:
        manifest = pipeline.read_manifest(prepared)
        digests = {item["name"]: item["sha1"] for item in manifest["images"] if item["split"] == "test"}
        candidates = sorted((digest, folder / name) for name, digest in digests.items())
    else:
        files, _ = find_images([folder])
        candidates = []
        for path in files:
            digest = hashlib.sha1(path.read_bytes()).hexdigest()
            if prepare.split_of(digest) == "test":
                candidates.append((digest, path))
        candidates.sort()
    chosen = []
    for _, path in candidates:
        try:
            rgb = read_image(path).rgb
        except Exception:  # noqa: BLE001 - an unreadable file is simply not shown
            continue
        if measures.colourfulness(_fit(rgb, 128, 128)) >= MIN_COLOURFULNESS:
            chosen.append(path)
        if len(chosen) == count:
            break
    return chosen


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The whole image scaled to fit in height x width (aspect ratio kept), float [0, 1]."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        image = image / 255.0
    elif image.dtype == np.uint16:
        image = image / 65535.0
    if image.ndim == 2:  # a gray array
        image = np.repeat(image[..., None], 3, axis=-1)
    picture = Image.fromarray(np.rint(np.clip(image[..., :3], 0, 1) * 255).astype(np.uint8))
    scale = min(height / picture.height, width / picture.width)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return np.asarray(picture.resize(size, Image.LANCZOS)) / 255.0


def _gray(rgb: np.ndarray) -> np.ndarray:
    """The photo turned gray (its CIELAB lightness, a*b* = 0), as an 8-bit array: what the model sees."""
    from colorize.color import np_ops

    return np.rint(np_ops.gray_srgb(np_ops.lightness(np.asarray(rgb, np.float32))) * 255).astype(np.uint8)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one small bitmap font
        return ImageFont.load_default()


def gallery(rows: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]]) -> Image.Image:
    """Compose rows of (caption, gray, colorized, original or None) into one picture."""
    label, caption, gap = 34, 18, 6
    width = len(COLUMNS) * CELL_WIDTH + (len(COLUMNS) + 1) * gap
    height = label + len(rows) * (caption + CELL_HEIGHT + gap)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    big, small = _font(22), _font(13)
    for column, name in enumerate(COLUMNS):
        centre = gap + column * (CELL_WIDTH + gap) + CELL_WIDTH // 2
        draw.text((centre, label // 2), name, fill="black", font=big, anchor="mm")
    top = label
    for text, *cells in rows:
        draw.text((gap, top + caption // 2), text, fill=(90, 90, 90), font=small, anchor="lm")
        top += caption
        for column, cell in enumerate(cells):
            left = gap + column * (CELL_WIDTH + gap)
            if cell is None:
                draw.rectangle([left, top, left + CELL_WIDTH - 1, top + CELL_HEIGHT - 1], fill=(238, 238, 238))
                draw.text((left + CELL_WIDTH // 2, top + CELL_HEIGHT // 2), "no colour original\n(a black-and-white photo)",
                          fill=(110, 110, 110), font=small, anchor="mm", align="center")  # fmt: skip
                continue
            fitted = Image.fromarray(np.rint(_fit(cell, CELL_HEIGHT, CELL_WIDTH) * 255).astype(np.uint8))
            sheet.paste(fitted, (left + (CELL_WIDTH - fitted.width) // 2, top + (CELL_HEIGHT - fitted.height) // 2))
        top += CELL_HEIGHT + gap
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="'default', a .keras file or a run directory [default]")
    parser.add_argument("-o", "--output", default=Path("docs/gallery.png"), type=Path, help="[docs/gallery.png]")
    parser.add_argument("--data", type=Path,
                        help="folder holding scenes/images and humanfaces/images, to add held-out photos of "
                             "them (never commit that gallery) [scikit-image's photos only]")  # fmt: skip
    parser.add_argument("--scenes-prepared", type=Path, help="take the scenes from this prepared set's test split")
    parser.add_argument("--scenes", type=int, default=6, help="held-out scenes [6]")
    parser.add_argument("--portraits", type=int, default=4, help="held-out portraits [4]")
    args = parser.parse_args(argv)

    from skimage import data

    for folder in DATA_FOLDERS if args.data is not None else ():
        if not (args.data / folder).is_dir():
            parser.exit(1, f"error: {args.data / folder} is not a folder; pass --data with scenes/ and humanfaces/\n")
    if args.scenes_prepared is not None and not pipeline.is_prepared_dir(args.scenes_prepared):
        parser.exit(1, f"error: {args.scenes_prepared} is not a prepared data set (no manifest.json)\n")
    try:
        runner = runtime.load_runner(args.model, "float32")  # built once (a preset's strength kept), used for every photo
    except (saving.ModelLoadError, ValueError) as error:
        parser.exit(1, f"error: {error}\n")

    rows, picks = [], []
    if args.data is not None:
        picks += [("scene", path) for path in held_out(args.data / "scenes/images", args.scenes, args.scenes_prepared)]
        picks += [("portrait", path) for path in held_out(args.data / "humanfaces/images", args.portraits)]
    else:
        print("No --data: scikit-image's photos only")
    for kind, path in picks:
        original = read_image(path).rgb
        rows.append((f"{kind} (test split): {path.name}", _gray(original), colorize.colorize_image(path, runner), original))
    camera = data.camera()  # genuinely black and white
    rows.append(("skimage.data.camera(): a black-and-white photo", camera, colorize.colorize_image(camera, runner), None))
    for name in ("astronaut", "coffee", "chelsea"):  # a portrait, an object on a table, a cat
        original = getattr(data, name)()
        gray = _gray(original / 255.0)
        rows.append((f"skimage.data.{name}(), turned gray", gray, colorize.colorize_image(gray, runner), original))

    buffer = io.BytesIO()
    gallery(rows).save(buffer, format="PNG", optimize=True)
    path = visualize.atomic_write_bytes(args.output, buffer.getvalue())
    print(f"{path}: {len(rows)} rows, {len(buffer.getvalue()) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
