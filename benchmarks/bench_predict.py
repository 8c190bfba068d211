"""Where the time of `colorize predict` goes, and what batching buys.

1. One 6000 x 4000 grayscale JPEG: seconds per phase (decode, full-resolution L, model
   at the working size, full-resolution colour, PNG encoding) and the peak resident
   memory of the process.
2. A folder of photos: images/second with --batch-size 8 against 1, as a ratio.

The model is the default model's architecture (U-Net, 16 base filters) with random
weights: the timings do not depend on what it learned.

Usage:
    python benchmarks/bench_predict.py
    python benchmarks/bench_predict.py --photos 32 --render-size 512
"""

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from PIL import Image


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_photo(path: Path, height: int = 4000, width: int = 6000) -> Path:
    rng = np.random.default_rng(0)
    blocks = (rng.random((height // 100, width // 100)) * 235 + 10).astype(np.uint8)
    Image.fromarray(np.kron(blocks, np.ones((100, 100), np.uint8))).save(path, quality=90)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=24, help="photos in the folder test [24]")
    parser.add_argument("--render-size", type=int, default=256, help="working long side [256]")
    args = parser.parse_args()

    from colorize import inference, models

    runner = inference.Runner.create(models.build_model("unet", image_size=128, base_filters=16))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        photo = big_photo(folder / "big.jpg")
        print(f"peak RSS after building the model: {peak_mb():.0f} MB")
        times = {}
        start = time.perf_counter()
        decoded, dtype = inference._read(photo)
        times["decode"] = time.perf_counter() - start
        start = time.perf_counter()
        prepared = inference._prepare(decoded, dtype)
        del decoded
        times["L at full resolution"] = time.perf_counter() - start
        shape = runner.working_shape(*prepared.lightness.shape, args.render_size)
        small = inference._small_l(prepared.lightness, shape)[None]
        runner.predict(small)  # warm-up
        start = time.perf_counter()
        ab = runner.predict(small)[0]
        times[f"model at {shape[1]}x{shape[0]}"] = time.perf_counter() - start
        start = time.perf_counter()
        colour = inference._compose(prepared.lightness, ab, prepared.alpha, prepared.dtype)
        times["colour at full resolution"] = time.perf_counter() - start
        start = time.perf_counter()
        inference._encode(colour, folder / "big_colorized.png")
        times["PNG encoding"] = time.perf_counter() - start
        print("6000 x 4000 grayscale JPEG:")
        for name, seconds in times.items():
            print(f"  {name:28s} {seconds:6.2f} s")
        print(f"  {'total':28s} {sum(times.values()):6.2f} s;  peak RSS {peak_mb():.0f} MB")
        del colour, prepared

        photos = folder / "photos"
        photos.mkdir()
        rng = np.random.default_rng(1)
        for index in range(args.photos):
            gray = (rng.random((12, 16)) * 200 + 30).astype(np.uint8)
            Image.fromarray(np.kron(gray, np.ones((40, 40), np.uint8))).save(photos / f"p{index:03d}.jpg")
        rates = {}
        for batch_size in (1, 8):
            start = time.perf_counter()
            result = inference.colorize_files(
                [photos], folder / f"out{batch_size}", model=runner, batch_size=batch_size, render_size=args.render_size
            )
            rates[batch_size] = len(result.written) / (time.perf_counter() - start)
        print(f"folder of {args.photos} 640 x 480 photos at render size {args.render_size}:")
        print(f"  batch 1: {rates[1]:.1f} img/s   batch 8: {rates[8]:.1f} img/s   ratio {rates[8] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
