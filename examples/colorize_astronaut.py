"""Colorize a grayscale version of scikit-image's astronaut portrait (what `make demo` runs).

It goes through the same library call as `colorize predict` (colorize.infer.colorize_files)
and writes, under the output folder (default out/):

    astronaut_gray.png       the grayscale input
    astronaut_colorized.png  the colorized photo (same size as the input)
    astronaut_compare.png    gray | colorized | the original colour photo

Usage:
    python examples/colorize_astronaut.py                         # the bundled default model
    python examples/colorize_astronaut.py --model runs/unet -o out/demo
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter quiet

from colorize import infer, saving  # noqa: E402
from colorize.color import np_ops  # noqa: E402
from colorize.visualize import save_image  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="'default', a .keras file or a run directory [default]")
    parser.add_argument("-o", "--output", default=Path("out"), type=Path, help="output folder [out]")
    parser.add_argument("--render-size", type=int, default=None, help="long side the model works at [192]")
    args = parser.parse_args(argv)

    try:
        model = saving.load_model(args.model)
    except saving.ModelLoadError as error:
        parser.exit(1, f"error: {error}\n")

    truth = data.astronaut()  # 512 x 512 RGB, ships with scikit-image
    # The photo's own lightness as an 8-bit gray image, as an old scan would be.
    gray = np.rint(np_ops.gray_srgb(np_ops.lightness(truth / 255.0)) * 255).astype(np.uint8)
    gray_path = save_image(args.output / "astronaut_gray.png", gray)

    colour_path = args.output / "astronaut_colorized.png"
    result = infer.colorize_files(
        [gray_path], colour_path, model=model, overwrite=True, render_size=args.render_size
    )
    if result.failed:
        parser.exit(1, f"error: {result.failed[0][0]}: {result.failed[0][1]}\n")
    with Image.open(colour_path) as image:
        colour = np.asarray(image.convert("RGB"))
    gap = np.full((truth.shape[0], 8, 3), 255, np.uint8)
    panels = [np.repeat(gray[..., None], 3, axis=-1), gap, colour, gap, truth]
    compare_path = save_image(args.output / "astronaut_compare.png", np.concatenate(panels, axis=1))

    print(f"gray input:                  {gray_path}")
    print(f"colorized:                   {colour_path}")
    print(f"gray | colorized | original: {compare_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
