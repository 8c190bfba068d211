"""Model time of the bundled default against the same network at stage 7's width, side by side.

The issue behind stage 8 allowed a wider network at most 2x the model time of the one it
replaced. This reads the bundled default's width from its file, builds ``unet_classification``
with the image-level vector at that width and at stage 7's ``base_filters=16`` (random weights:
the time does not depend on them), then times one 256 x 256 network call of each, in Keras
(float32) and in ONNX Runtime (each exported as ``colorize export`` does), best of ``--rounds``,
and prints the ratios.

Usage:
    python benchmarks/bench_width.py [--rounds 15] [--size 256]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def best_time(call, rounds: int) -> float:
    for _ in range(3):
        call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()

    import onnxruntime

    from colorize import saving
    from colorize.models import as_inference_model, build_unet_classification
    from colorize.saving.onnx_export import export_onnx

    default = saving.load_saved_model(saving.resolve_model_path("default"))
    width = default.get_layer("encoder1_conv1").kernel.shape[-1]
    x = np.random.default_rng(0).uniform(-1, 1, (1, args.size, args.size, 1)).astype("float32")
    keras_times, onnx_times = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for filters in sorted({16, width}):
            network = build_unet_classification(image_size=None, base_filters=filters, global_context=True)
            keras_times[filters] = best_time(lambda network=network: network.predict_on_batch(x), args.rounds)
            path = os.path.join(folder, f"w{filters}.onnx")
            export_onnx(as_inference_model(network), path)
            session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            onnx_times[filters] = best_time(lambda session=session, name=name: session.run(None, {name: x}), args.rounds)
    for label, times in (("Keras (TensorFlow, float32)", keras_times), ("ONNX Runtime", onnx_times)):
        line = ", ".join(f"base_filters={filters}: {seconds * 1000:.1f} ms" for filters, seconds in sorted(times.items()))
        print(f"{label}, one {args.size} x {args.size} call: {line}; "
              f"ratio {times[width] / times[16]:.2f}x (target <= 2x)")  # fmt: skip


if __name__ == "__main__":
    main()
