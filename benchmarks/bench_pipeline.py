"""Images/second of `make_dataset` against a per-image PIL + skimage loop, as a ratio.

Both read the same JPEG files, centre-crop them to a square, resize to --size and
produce scaled L and ab arrays. The tf.data pipeline runs its decode/resize/Lab ops
in parallel in TensorFlow's thread pool; the loop is what one writes by hand:
``PIL.Image.open`` -> crop -> resize -> ``skimage.color.rgb2lab`` per image.

The two run in alternating rounds (--rounds, default 5). Two ratios are printed: the
best round of each (the usual way to time code on a shared machine: interference only
ever slows a round down), and the median over the rounds of (pipeline rate / loop
rate). On the 2-core development VM the second core is intermittently unavailable for
seconds at a time (the CPU sits idle in vmstat while the pipeline waits); those rounds
halve the two-threaded pipeline's rate but not the one-threaded loop's, which is
why both numbers are shown.
The pipeline's time includes building the dataset (listing the files, tracing the map
functions) and filling it, i.e. what one pass over the files costs a user.

Usage:
    python benchmarks/bench_pipeline.py                 # 2048 UTKFace images, 128 px, 5 rounds
    python benchmarks/bench_pipeline.py --limit 2000 --size 128 --data path/to/images
"""

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "utkface" / "images"


def baseline(files, size):
    from PIL import Image
    from skimage import color

    for path in files:
        with Image.open(path) as image:
            image = image.convert("RGB")
            width, height = image.size
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
            rgb = np.asarray(image, np.float32) / 255.0
        lab = color.rgb2lab(rgb)
        l_scaled = lab[..., :1] / 50.0 - 1.0
        ab_scaled = lab[..., 1:] / 128.0
        del l_scaled, ab_scaled


def pipeline(files, size, batch_size):
    from colorize.data.pipeline import make_dataset

    dataset = make_dataset([str(f) for f in files], image_size=size, batch_size=batch_size, shuffle=False)
    count = 0
    for l_scaled, _ in dataset:
        count += int(l_scaled.shape[0])
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of JPEG/PNG images")
    parser.add_argument("--limit", type=int, default=2048, help="number of images (default 2048)")
    parser.add_argument("--size", type=int, default=128, help="output side in pixels (default 128)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    args = parser.parse_args()

    from colorize.io.files import find_images

    files, _ = find_images([args.data])
    files = [f for f in files if f.suffix.lower() in (".jpg", ".jpeg", ".png")][: args.limit]
    if not files:
        raise SystemExit(f"no images found in {args.data}")
    for path in files:  # warm the OS file cache for both contenders
        path.read_bytes()

    pipeline(files[: args.batch_size * 2], args.size, args.batch_size)  # import TF, trace the graph
    pipeline_rates, baseline_rates = [], []
    for _ in range(max(1, args.rounds)):
        start = time.perf_counter()
        count = pipeline(files, args.size, args.batch_size)
        pipeline_rates.append(count / (time.perf_counter() - start))
        start = time.perf_counter()
        baseline(files, args.size)
        baseline_rates.append(len(files) / (time.perf_counter() - start))
    ratios = [p / b for p, b in zip(pipeline_rates, baseline_rates)]

    print(f"images: {len(files)} from {args.data.resolve()} at {args.size}px, {os.cpu_count()} CPU(s)")
    print(f"per-image PIL + skimage.rgb2lab loop: {statistics.median(baseline_rates):8.1f} images/s"
          f"  (rounds: {_join(baseline_rates, 0)})")
    print(f"colorize make_dataset (tf.data):      {statistics.median(pipeline_rates):8.1f} images/s"
          f"  (rounds: {_join(pipeline_rates, 0)})")
    print(f"ratio, best round of each: {max(pipeline_rates) / max(baseline_rates):.1f}x")
    print(f"ratio, median of rounds:   {statistics.median(ratios):.1f}x (rounds: {_join(ratios, 1)})")


def _join(values, digits):
    return ", ".join(f"{value:.{digits}f}" for value in values)


if __name__ == "__main__":
    main()
