"""`colorize predict` with ONNX Runtime, with Keras/TensorFlow, and the speed of reading and writing the photos.

Prints, in one run (issues 13 and 25), every job as a fresh `colorize predict` process
(start-up included: what a user waits for), ONNX Runtime (the bundled ``default.onnx``,
what ``--model default`` runs) beside the Keras/TensorFlow path (``--model
colorize/assets/default.keras``, the same network):

1. Folder of mixed-size gray JPEGs (1-13 MP, made from scikit-image's sample photos
   and the shared Human Faces portraits, upscaled): ONNX (with the face pass, as the presets
   run, and with ``--no-faces``), Keras (a model file: no face pass) and the I/O floor (OpenCV
   decode as gray + write a 3-channel PNG, nothing else) in alternating rounds (the machine
   is shared), as ratios floor / colorize (target >= 0.6), and each process's peak memory.
2. One 512 x 512 photo: whole-process time and peak memory, ONNX and Keras (target < 1 s, < 300 MB).
3. Mixed shapes against one shape, whole processes: small portraits each of a different
   shape against as many copies of one shape with the same pixel count (target <= 1.1x).
4. The model alone: ONNX Runtime against TensorFlow, ms per photo at 256 x 192.
5. Peak memory of `colorize predict` on one 12000 x 9000 colour JPEG (target < 0.6 GB).

The photos are written to a temporary folder (never into the repository).

Usage:
    python benchmarks/bench_predict.py                  # 64 photos, 120 MP
    python benchmarks/bench_predict.py --photos 16 --small 24 --rounds 2
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
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each [3]")
    args = parser.parse_args()
    keras_model = REPO / "colorize" / "assets" / "default.keras"
    paths = {"ONNX Runtime": "default", "Keras/TensorFlow": keras_model}
    # the folder job also without the face pass (on in the presets; a model file runs without it), to show its cost
    jobs = {"ONNX Runtime": ("--model", "default"), "ONNX, --no-faces": ("--model", "default", "--no-faces"),
            "Keras/TensorFlow": ("--model", keras_model)}

    with tempfile.TemporaryDirectory(prefix="bench_predict_") as temporary:
        temporary = Path(temporary)
        megapixels, smallest, largest = make_folder(temporary / "photos", args.photos)
        floors, runs = [], {name: [] for name in jobs}
        for round_ in range(args.rounds):  # alternating, so all see the same machine (it is shared)
            shutil.rmtree(temporary / "floor", ignore_errors=True)
            floors.append(io_floor(temporary / "photos", temporary / "floor"))
            for name, options in jobs.items():
                shutil.rmtree(temporary / "out", ignore_errors=True)
                runs[name].append(run_cli("predict", temporary / "photos", "-o", temporary / "out", *options))
        floor, floor_cpu = min(floors)
        print(f"1. {args.photos} gray JPEGs of {smallest:.1f}-{largest:.0f} MP ({megapixels:.0f} MP), each its own shape "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores), {args.rounds} alternating rounds:")
        print(f"   I/O floor (OpenCV decode gray + write 3-channel PNG)  {floor:6.1f} s best  ({floor_cpu:.1f} s CPU; "
              f"rounds {' '.join(f'{f[0]:.1f}' for f in floors)})")
        for name, times in runs.items():
            seconds, cpu, _ = min(times)
            ratios = sorted(f[0] / r[0] for f, r in zip(floors, times))
            print(f"   predict, {name:16s} {seconds:6.1f} s best  ({cpu:.1f} s CPU; rounds "
                  f"{' '.join(f'{r[0]:.1f}' for r in times)}; {megapixels / seconds:.1f} MP/s): floor / predict "
                  f"{floor / seconds:.2f} best to best, {ratios[len(ratios) // 2]:.2f} median (target >= 0.6); "
                  f"peak {max(r[2] for r in times):.2f} GB")

        import cv2
        from skimage import data

        one = temporary / "one" / "camera_512.png"
        one.parent.mkdir()
        cv2.imwrite(str(one), data.camera())  # 512 x 512 gray
        singles = {name: [] for name in paths}
        for round_ in range(args.rounds):
            for name, model in paths.items():
                singles[name].append(run_cli("predict", one, "--model", model, "--overwrite"))
        print(f"2. one 512 x 512 photo (scikit-image's camera), whole process, best of {args.rounds}:")
        for name, times in singles.items():
            seconds, cpu, _ = min(times)
            print(f"   {name:16s} {seconds:5.2f} s ({cpu:.2f} s CPU), peak {min(r[2] for r in times) * 1000:.0f} MB"
                  f"   (target < 1.0 s, < 300 MB)")

        small_portraits(temporary / "mixed", args.small, mixed=True)
        small_portraits(temporary / "same", args.small, mixed=False)
        shapes = {"mixed": [], "same": []}
        for round_ in range(args.rounds):  # alternate (the machine is shared)
            for kind in ("same", "mixed"):
                shutil.rmtree(temporary / f"out_{kind}", ignore_errors=True)
                shapes[kind].append(run_cli("predict", temporary / kind, "-o", temporary / f"out_{kind}")[0])
        mixed, same = min(shapes["mixed"]), min(shapes["same"])
        print(f"3. {args.small} portraits of 120,000 pixels (about 300 x 400), ONNX Runtime, whole processes, "
              f"best of {args.rounds}: each a different shape {mixed:5.2f} s, one shape {same:5.2f} s: "
              f"mixed / one {mixed / same:.2f}x (target <= 1.1x)")

        from colorize.cli._common import load_keras, quiet_tensorflow_logs

        quiet_tensorflow_logs()
        load_keras()
        from colorize import saving
        from colorize.infer import runtime

        batch = np.random.default_rng(0).uniform(-1, 1, (8, 192, 256, 1)).astype(np.float32)
        runners = {"ONNX Runtime": runtime.load_runner("default", "float32", 0.5),
                   "TensorFlow": runtime.Runner.create(saving.load_model(keras_model), "float32")}  # fmt: skip
        speeds = {name: [] for name in runners}
        outputs = {name: runner.predict(batch) for name, runner in runners.items()}
        for round_ in range(3):
            for name, runner in runners.items():
                start, cpu = time.perf_counter(), time.process_time()
                runner.predict(batch)
                speeds[name].append(((time.perf_counter() - start) / 8, (time.process_time() - cpu) / 8))
        difference = np.abs(outputs["ONNX Runtime"] - outputs["TensorFlow"]).mean() * 128
        print("4. model and decoding alone, batch 8 at 256 x 192, float32, best of 3: " + ", ".join(
            f"{name} {min(s[0] for s in v) * 1000:.0f} ms/img ({min(s[1] for s in v) * 1000:.0f} ms CPU)"
            for name, v in speeds.items()) + f"; mean |delta ab| {difference:.3f}")

        big = temporary / "big" / "colour_12000x9000.jpg"
        big.parent.mkdir()
        photo = cv2.resize(data.astronaut()[..., ::-1], (12000, 9000), interpolation=cv2.INTER_LINEAR)
        cv2.imwrite(str(big), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
        del photo
        print("5. one 12000 x 9000 colour JPEG, whole process:")
        for name, model in paths.items():
            seconds, cpu, peak = run_cli("predict", big, "-o", temporary / "out_big", "--model", model, "--overwrite")
            print(f"   {name:16s} {seconds:5.1f} s ({cpu:.1f} s CPU), peak memory {peak:.2f} GB  (target < 0.6 GB)")


if __name__ == "__main__":
    main()
