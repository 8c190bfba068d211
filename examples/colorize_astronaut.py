"""Colorize a grayscale version of scikit-image's astronaut portrait (what `make demo` runs).

    python examples/colorize_astronaut.py            # bundled default model
    python examples/colorize_astronaut.py --model runs/unet/best.keras -o out/
"""

import argparse
from pathlib import Path

import numpy as np
from skimage import color, data

from colorize import inference
from colorize.visualize import save_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="'default', a .keras file or a run directory")
    parser.add_argument("-o", "--output", default="out", type=Path, help="output folder [out]")
    args = parser.parse_args()

    truth = data.astronaut()  # 512 x 512 RGB, ships with scikit-image
    gray = (color.rgb2gray(truth) * 255 + 0.5).astype(np.uint8)
    gray_path = save_image(args.output / "astronaut_gray.png", gray)

    model = inference.load_model(args.model)
    result = inference.colorize_files([gray_path], args.output, model=model, overwrite=True)
    if result.failed:
        raise SystemExit(f"failed: {result.failed[0][1]}")
    colour_path = result.written[0][1]
    compare = save_image(
        args.output / "astronaut_compare.png",
        np.concatenate([np.repeat(gray[..., None], 3, -1), np.asarray(_read(colour_path)), truth], axis=1),
    )
    print(f"gray input:            {gray_path}")
    print(f"colorized:             {colour_path}")
    print(f"gray | colorized | truth: {compare}")


def _read(path):
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


if __name__ == "__main__":
    main()
