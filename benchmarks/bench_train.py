"""Training throughput (images/second), measured side by side in one run.

Compares, on synthetic 128 px batches (the data pipeline is benchmarked separately):

* the seed 001 fusion model with its frozen extractor run every step vs trained on
  cached embeddings (the extractor's vector computed once per image),
* float32 vs mixed bfloat16 (``--mixed-precision``),
* the U-Net (seed 000).

Usage:
    python benchmarks/bench_train.py [--steps 6] [--batch-size 8] [--extractor vggface] [--fusion-bf16]

Extractor weights are random (weights=None): the cost of a step does not depend on them.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def throughput(build, inputs, targets, steps, batch_size, policy="float32"):
    """Images/second of train_on_batch after one warm-up step."""
    import keras

    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer="adam", loss="mae")
        model.train_on_batch(inputs, targets)  # trace and warm up
        started = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(inputs, targets)
        return steps * batch_size / (time.perf_counter() - started)
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--extractor", default="vggface", help="extractor for the fusion rows (weights=None)")
    parser.add_argument("--fusion-bf16", action="store_true", help="also time fusion under mixed_bfloat16 (slow on CPUs without AMX)")
    args = parser.parse_args()

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
