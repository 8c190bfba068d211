"""Training throughput (images/second), measured side by side in one run.

Compares, on synthetic 128 px batches (the data pipeline is benchmarked separately):

* the fusion model (Iizuka et al. 2016) with its frozen extractor run every step vs trained on
  cached embeddings (the extractor's vector computed once per image),
* float32 vs mixed bfloat16 (``--mixed-precision``),
* the U-Net;
* with ``--backends tensorflow,jax,torch``: the default U-Net (base_filters=16, L1) on each
  Keras backend, float32 and mixed bfloat16, each backend in its own process (the backend
  is fixed when Keras is imported), printed side by side. TensorFlow is timed as
  ``colorize train`` runs it (a graph, no XLA) and with ``--jit`` (XLA); JAX always
  compiles its step with XLA; PyTorch runs eagerly.

Usage:
    python benchmarks/bench_train.py [--steps 6] [--batch-size 8] [--extractor vggface] [--fusion-bf16]
    python benchmarks/bench_train.py --backends tensorflow,jax,torch [--steps 8] [--batch-size 16]

Extractor weights are random (weights=None): the cost of a step does not depend on them.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def throughput(build, inputs, targets, steps, batch_size, policy="float32", jit_compile="auto", loss="mae"):
    """Images/second of train_on_batch after one warm-up step."""
    import keras

    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer="adam", loss=loss, jit_compile=jit_compile)
        model.train_on_batch(inputs, targets)  # trace and warm up
        started = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(inputs, targets)
        return steps * batch_size / (time.perf_counter() - started)
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()


def backend_rows(size, batch, steps, bf16_steps):
    """This process's backend: the default U-Net, float32 and mixed bfloat16 (JSON on stdout)."""
    import keras

    from colorize import losses, models

    rng = np.random.default_rng(0)
    l_batch = rng.uniform(-1, 1, (batch, size, size, 1)).astype("float32")
    ab_batch = rng.uniform(-0.3, 0.3, (batch, size, size, 2)).astype("float32")
    backend = keras.backend.backend()

    def unet():
        return models.build_model("unet", image_size=size, base_filters=16)

    variants = {"tensorflow": [("", False), (" + XLA (--jit)", True)], "jax": [(" (XLA)", True)], "torch": [(" (eager)", False)]}
    rows = {}
    for suffix, jit in variants[backend]:
        for policy, count in (("float32", steps), ("mixed_bfloat16", bf16_steps)):
            if count:
                rows[f"{backend}{suffix}, {policy}"] = throughput(unet, l_batch, ab_batch, count, batch, policy, jit, losses.L1())
    print(json.dumps(rows))


def compare_backends(args):
    """Run :func:`backend_rows` in one subprocess per backend and print the results side by side."""
    rows = {}
    for backend in args.backends.split(","):
        if importlib.util.find_spec(backend) is None:
            print(f"  {backend}: not installed, skipped", file=sys.stderr)
            continue
        environment = {**os.environ, "KERAS_BACKEND": backend}
        command = [sys.executable, __file__, "--backend-worker", "--steps", str(args.steps), "--batch-size",
                   str(args.batch_size), "--size", str(args.size), "--bf16-steps", str(args.bf16_steps)]  # fmt: skip
        process = subprocess.run(command, capture_output=True, text=True, env=environment)
        if process.returncode:
            print(f"  {backend}: failed\n{process.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.update(json.loads(process.stdout.strip().splitlines()[-1]))
    if not rows:
        raise SystemExit("no backend could be timed")
    base = next(iter(rows.values()))
    print(f"\nDefault U-Net (base_filters=16, L1) training at {args.size} px, batch {args.batch_size}, "
          f"{args.steps} timed steps ({args.bf16_steps} for bfloat16), one process per backend:")  # fmt: skip
    for name, value in rows.items():
        print(f"  {name:<45} {value:8.2f} img/s   {value / base:6.2f}x {next(iter(rows))}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--extractor", default="vggface", help="extractor for the fusion rows (weights=None)")
    parser.add_argument("--fusion-bf16", action="store_true", help="also time fusion under mixed_bfloat16 (slow on CPUs without AMX)")
    parser.add_argument("--backends", help="compare the default U-Net on these Keras backends, e.g. tensorflow,jax,torch")
    parser.add_argument("--bf16-steps", type=int, default=3, help="with --backends: timed mixed_bfloat16 steps (0: skip)")
    parser.add_argument("--backend-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend_worker:
        return backend_rows(args.size, args.batch_size, args.steps, args.bf16_steps)
    if args.backends:
        return compare_backends(args)

    from colorize import models

    rng = np.random.default_rng(0)
    size, batch = args.size, args.batch_size
    l_batch = rng.uniform(-1, 1, (batch, size, size, 1)).astype("float32")
    ab_batch = rng.uniform(-0.3, 0.3, (batch, size, size, 2)).astype("float32")
    rows = []

    def unet():
        return models.build_model("unet", image_size=size, base_filters=16)

    rows.append(("unet (base_filters=16), float32", throughput(unet, l_batch, ab_batch, args.steps, batch)))
    rows.append(
        ("unet (base_filters=16), mixed_bfloat16",
         throughput(unet, l_batch, ab_batch, args.steps, batch, "mixed_bfloat16"))
    )  # fmt: skip
    if "fusion" in models.MODELS:
        from colorize.models import extractors

        def fusion():
            return models.build_model("fusion", image_size=size, extractor=args.extractor)

        def fusion_cached():
            return models.build_model("fusion", image_size=size, extractor=args.extractor, embedding_input=True)

        dimension = extractors.EXTRACTORS[args.extractor].output_size
        embedding = rng.normal(size=(batch, dimension)).astype("float32")
        rows.append((f"fusion + {args.extractor}, extractor every step", throughput(fusion, l_batch, ab_batch, args.steps, batch)))
        rows.append(
            (f"fusion + {args.extractor}, cached embeddings",
             throughput(fusion_cached, {"l_input": l_batch, "embedding": embedding}, ab_batch, args.steps, batch))
        )  # fmt: skip
        from colorize.models import colorizer

        extractor_model = colorizer.build_extractor_model(args.extractor, size)
        extractor_model.predict_on_batch(l_batch)
        started = time.perf_counter()
        for _ in range(args.steps):
            extractor_model.predict_on_batch(l_batch)
        rows.append(
            (f"{args.extractor} forward only (the one-time cache pass)",
             args.steps * batch / (time.perf_counter() - started))
        )  # fmt: skip
        del extractor_model
        if args.fusion_bf16:
            rows.append(
                (f"fusion + {args.extractor}, extractor every step, mixed_bfloat16",
                 throughput(fusion, l_batch, ab_batch, args.steps, batch, "mixed_bfloat16"))
            )  # fmt: skip
    base = rows[0][1]
    print(f"\nTraining throughput at {size} px, batch {batch}, {args.steps} timed steps (one run):")
    for name, value in rows:
        print(f"  {name:<55} {value:8.2f} img/s   {value / base:6.2f}x unet float32")
    by_name = dict(rows)
    if len(rows) > 2:
        every, cached = rows[2][1], rows[3][1]
        print(f"  cached embeddings vs extractor every step: {cached / every:.2f}x")
    print(f"  mixed_bfloat16 vs float32 (unet): {by_name[rows[1][0]] / base:.2f}x")


if __name__ == "__main__":
    main()
