"""`colorize predict` against the speed of reading and writing the photos.

Prints, in one run (issue 13):

1. Folder of mixed-size gray JPEGs (1-13 MP, made from scikit-image's sample photos
   and the shared Human Faces portraits, upscaled): `colorize predict DIR -o OUT` as a
   fresh process (start-up included) against the I/O floor (OpenCV decode as gray +
   write a 3-channel PNG, nothing else), in alternating rounds (the machine is shared),
   as a ratio floor / colorize (target >= 0.3), and the colorize process's peak memory.
2. Time to the first colorized photo: `colorize predict one.jpg` as a fresh process.
3. Mixed shapes against one shape: small portraits each of a different shape against
   as many copies of one shape, in-process with the model loaded (target <= 1.15x).
4. The model alone at float32 and bfloat16 (what `--precision` changes).
5. Peak memory of `colorize predict` on one 12000 x 9000 colour JPEG (target < 1.5 GB).

The photos are written to a temporary folder (never into the repository).

Usage:
    python benchmarks/bench_predict.py                  # 64 photos, 120 MP
    python benchmarks/bench_predict.py --photos 16 --small 24
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's colorize, also for the fresh processes (cwd)
PORTRAITS = Path(os.environ.get("COLORIZE_PORTRAITS", REPO.parent / "shared" / "data" / "humanfaces" / "images"))


def sources() -> list[np.ndarray]:
    """Gray sample photos: scikit-image's and a few shared portraits (if present)."""
    import cv2
    from skimage import data

    images = [data.camera(), data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.coins()]
    images += sorted((cv2.imread(str(p)) for p in sorted(PORTRAITS.glob("*.jp*g"))[:400:50]), key=lambda a: a.size)
    gray = [image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in images if image is not None]
    return gray


def make_folder(folder: Path, count: int) -> tuple[float, float, float]:
    """``count`` gray JPEGs, each its own shape: every 16th of 12.5 MP, the others 1.0-1.35 MP
    (64 photos: about 120 MP). Returns total, smallest and largest megapixels."""
    import cv2

    folder.mkdir(parents=True)
    images, sizes = sources(), []
    for index in range(count):
        megapixels = 12.5 if index % 16 == 15 else 1.0 + (index % 8) * 0.05
        aspect = (0.75, 1.333, 1.0, 0.667, 1.5)[index % 5] * (1 + index % 7 / 100)  # every shape differs
        width, height = round((megapixels * 1e6 * aspect) ** 0.5), round((megapixels * 1e6 / aspect) ** 0.5)
        photo = cv2.resize(images[index % len(images)], (width, height), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"photo_{index:03d}.jpg"), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
        sizes.append(width * height / 1e6)
    return sum(sizes), min(sizes), max(sizes)


def io_floor(folder: Path, output: Path) -> tuple[float, float]:
    """Seconds and CPU seconds to decode every JPEG as gray and write it as a 3-channel PNG
    (OpenCV defaults), one after the other."""
    import cv2

    output.mkdir(exist_ok=True)
    start, cpu = time.perf_counter(), time.process_time()
    for path in sorted(folder.glob("*.jpg")):
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(str(output / f"{path.stem}.png"), cv2.merge([gray, gray, gray]))
    return time.perf_counter() - start, time.process_time() - cpu


def run_cli(*args) -> tuple[float, float, float]:
    """Seconds, CPU seconds and peak memory (GB) of `colorize ARGS` as a fresh process."""
    # The peak resident memory of the process's own address space (VmHWM): ru_maxrss would
    # also count this benchmark's own memory, which Linux carries over a fork and exec.
    script = (
        "import resource, sys; from colorize.cli import main\n"
        "def peak_kib():\n"
        "    try:\n"
        "        return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
        "    except (OSError, StopIteration):\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "code = 0\n"
        "try: main(sys.argv[1:], standalone_mode=False)\n"
        "except SystemExit as e: code = e.code\n"
        "print('PEAK', peak_kib()); sys.exit(code or 0)\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"colorize {' '.join(map(str, args))} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, cpu, int(done.stdout.split("PEAK")[-1]) * 1024 / 1e9


def small_portraits(folder: Path, count: int, mixed: bool) -> None:
    """``count`` portraits of about 300 x 400 (120,000 pixels): each a different shape, or all one."""
    import cv2

    folder.mkdir(parents=True)
    images = sources()
    for index in range(count):
        height = 340 + (index * 37) % 130 if mixed else 400  # 340..469 high, as many pixels
        width = round(120_000 / height)
        photo = cv2.resize(images[index % len(images)], (width, height), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"p_{index:03d}.jpg"), photo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=64, help="photos in the mixed-size folder [64]")
    parser.add_argument("--small", type=int, default=48, help="small portraits in the shapes test [48]")
    parser.add_argument("--model", default="default", help="model to run [default]")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of floor and colorize [3]")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_predict_") as temporary:
        temporary = Path(temporary)
        megapixels, smallest, largest = make_folder(temporary / "photos", args.photos)
        floors, runs = [], []
        for round_ in range(args.rounds):  # alternating, so both see the same machine (it is shared)
            shutil.rmtree(temporary / "floor", ignore_errors=True)
            shutil.rmtree(temporary / "out", ignore_errors=True)
            floors.append(io_floor(temporary / "photos", temporary / "floor"))
            runs.append(run_cli("predict", temporary / "photos", "-o", temporary / "out", "--model", args.model))
        written = len(list((temporary / "out").glob("*.png")))
        floor, floor_cpu = min(floors)
        seconds, cpu, _ = min(runs)
        peak = max(run[2] for run in runs)
        ratios = sorted(f[0] / r[0] for f, r in zip(floors, runs))
        print(f"1. {args.photos} gray JPEGs of {smallest:.1f}-{largest:.0f} MP ({megapixels:.0f} MP), each its own shape "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores), {args.rounds} alternating rounds:")
        print(f"   I/O floor (OpenCV decode gray + write 3-channel PNG)  {floor:6.1f} s best  ({floor_cpu:.1f} s CPU; "
              f"rounds {' '.join(f'{f[0]:.1f}' for f in floors)})")
        print(f"   colorize predict (fresh process, start-up included)  {seconds:6.1f} s best  ({cpu:.1f} s CPU; "
              f"rounds {' '.join(f'{r[0]:.1f}' for r in runs)}; {written} written, {written / seconds:.1f} img/s, "
              f"{megapixels / seconds:.1f} MP/s)")
        print(f"   ratio floor / colorize: {floor / seconds:.2f} best to best, {ratios[len(ratios) // 2]:.2f} median of "
              f"the rounds (target >= 0.3)   peak memory {peak:.2f} GB")

        one = temporary / "one.jpg"
        import cv2
        from skimage import data

        cv2.imwrite(str(one), cv2.resize(sources()[1], (480, 640)))
        first, first_cpu, _ = run_cli("predict", one, "--model", args.model)
        print(f"2. time to the first colorized photo (480 x 640, fresh process): {first:.1f} s ({first_cpu:.1f} s CPU)")

        start = time.perf_counter()
        from colorize.cli._common import load_keras, quiet_tensorflow_logs

        quiet_tensorflow_logs()  # as predict starts: TensorFlow's start-up logging off by its switch
        load_keras()
        from colorize import inference, runtime, saving

        runner = runtime.load_runner(args.model, "auto")  # as predict runs it
        runner.predict(np.zeros((1, 64, 96, 1), np.float32))
        loaded = time.perf_counter() - start
        small_portraits(temporary / "mixed", args.small, mixed=True)
        small_portraits(temporary / "same", args.small, mixed=False)
        times = {"mixed": [], "same": []}
        for round_ in range(2):  # alternate, best of two each (the machine is shared)
            for kind in ("same", "mixed"):
                start = time.perf_counter()
                inference.colorize_files([temporary / kind], temporary / f"out_{kind}{round_}", model=runner)
                times[kind].append(time.perf_counter() - start)
        mixed, same = min(times["mixed"]), min(times["same"])
        print(f"3. {args.small} portraits of about 300 x 400, model loaded at {runner.precision} "
              f"({loaded:.1f} s to import and load), best of two alternating rounds:")
        print(f"   each a different shape {mixed:5.2f} s   one shape {same:5.2f} s   "
              f"mixed / one: {mixed / same:.2f}x  (target <= 1.15x)")

        batch = np.random.default_rng(0).uniform(-1, 1, (8, 192, 256, 1)).astype(np.float32)
        runners = {p: runtime.Runner.create(saving.load_model(args.model), p) for p in ("float32", "bfloat16")}
        speeds = {p: [] for p in runners}
        for runner in runners.values():
            runner.predict(batch)
        for round_ in range(3):  # alternate: the machine is shared
            for precision, runner in runners.items():
                start, cpu = time.perf_counter(), time.process_time()
                output = runner.predict(batch)
                speeds[precision].append(((time.perf_counter() - start) / 8, (time.process_time() - cpu) / 8, output))
        best = {p: (min(s[0] for s in v), min(s[1] for s in v), v[-1][2]) for p, v in speeds.items()}
        difference = np.abs(best["float32"][2] - best["bfloat16"][2]).mean() * 128
        print(f"4. model alone, batch 8 at 256 x 192, best of 3: float32 {best['float32'][0] * 1000:.0f} ms/img "
              f"({best['float32'][1] * 1000:.0f} ms CPU), bfloat16 {best['bfloat16'][0] * 1000:.0f} ms/img "
              f"({best['bfloat16'][1] * 1000:.0f} ms CPU): bfloat16 {best['float32'][0] / best['bfloat16'][0]:.2f}x "
              f"as fast ({best['float32'][1] / best['bfloat16'][1]:.2f}x in CPU time); mean |delta ab| {difference:.3f}")
        print(f"   auto picks {runtime.resolve_precision('auto')} here "
              f"(CPU flags amx_bf16 / avx512_bf16: {runtime.cpu_has_fast_bfloat16()})")
        print(f"   peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")

        big = temporary / "big" / "colour_12000x9000.jpg"
        big.parent.mkdir()
        photo = cv2.resize(data.astronaut()[..., ::-1], (12000, 9000), interpolation=cv2.INTER_LINEAR)
        cv2.imwrite(str(big), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
        del photo
        seconds, cpu, peak = run_cli("predict", big, "-o", temporary / "out_big", "--model", args.model)
        print(f"5. one 12000 x 9000 colour JPEG (fresh process): {seconds:.1f} s ({cpu:.1f} s CPU), "
              f"peak memory {peak:.2f} GB  (target < 1.5 GB)")


if __name__ == "__main__":
    main()
