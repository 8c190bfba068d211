"""Train every model family under one budget and compare them side by side.

Each model is trained with ``colorize.train.train`` on the same prepared data, at
the same image size, batch size, number of steps and seed, with its seed paper's loss;
then all of them and the ``gray`` / ``random`` baselines are evaluated together by
``colorize.evaluate.evaluate`` on a held-out split. The same budget for every model
is the fair comparison; it is not the budget any paper used, so the table says which
architecture learns fastest here, not which one is best when trained to convergence.

Models with a pretrained part (``uvgg``'s VGG19, ``vgg16_autoencoder``'s VGG16,
``resnet50``) are built with ``weights=None`` unless the official files are in
``~/.keras/models`` and ``--pretrained`` is given; ``fusion`` uses ``--fusion-extractor``
(default ``none``: the global branch needs pretrained weights to mean anything).

Writes ``OUTPUT/runs/<model>/`` (each training run), ``OUTPUT/report/`` (metrics.json,
per_image.csv, report.md, samples.png, ab_distribution.png) and ``OUTPUT/summary.md``
(the table plus training time and parameters per model), and prints the table.

Several training sets are mixed by ``--mix`` shares; several ``--eval-data`` sets are each
evaluated (one report per set). A candidate is a model name, optionally with a loss:
``unet_classification:rebalanced_crossentropy_l1``.

Usage:
    python benchmarks/compare_models.py work/utk128 --eval-data work/hf128 -o work/compare
    python benchmarks/compare_models.py work/faces128 work/scenes128 --mix 0.4,0.6 \
        --eval-data work/scenes128 --eval-data work/hf128 --steps 1280 --mixed-precision \
        --models unet,classification,unet_classification,unet_classification:rebalanced_crossentropy_l1
    python benchmarks/compare_models.py work/utk128 --models unet,naive_cnn --steps 50 --image-size 32
"""

import argparse
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from colorize import registry  # noqa: E402  (keras-free: --help stays fast)

ALL_MODELS = tuple(registry.MODELS)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="+", help="prepared data set(s) to train on (train/val splits)")
    parser.add_argument("--mix", help="with several DATA: comma-separated shares [equal]")
    parser.add_argument("--eval-data", type=Path, action="append", help="prepared data set(s) to evaluate on [DATA]")
    parser.add_argument("--mixed-precision", action="store_true", help="bfloat16 compute (where the CPU has it)")
    parser.add_argument("--split", default="test", help="split of --eval-data to evaluate on [test]")
    parser.add_argument("--models", default=",".join(ALL_MODELS), help="comma-separated model names [all]")
    parser.add_argument("--image-size", type=int, default=64, help="training and evaluation size [64]")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300, help="training steps per model [300]")
    parser.add_argument("--epochs", type=int, default=3, help="the steps are split into this many epochs [3]")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--limit", type=int, help="evaluate on at most this many images")
    parser.add_argument("--fusion-extractor", default="none", help="extractor of the fusion model [none]")
    parser.add_argument("--pretrained", action="store_true", help="load extractor weights from ~/.keras/models")
    parser.add_argument("-o", "--output", type=Path, default=Path("work/compare"))
    args = parser.parse_args()

    from colorize import evaluate, saving
    from colorize import train as training
    from colorize.train.config import TrainConfig

    candidates = [name.strip() for name in args.models.split(",") if name.strip()]
    names = [candidate.split(":")[0] for candidate in candidates]
    unknown = sorted(set(names) - set(ALL_MODELS))
    if unknown:
        raise SystemExit(f"unknown model(s): {', '.join(unknown)}; choose from {', '.join(ALL_MODELS)}")
    if not names:
        raise SystemExit(f"no model named in --models; choose from {', '.join(ALL_MODELS)}")
    eval_sets = args.eval_data or args.data[:1]
    epochs = max(1, min(args.epochs, args.steps))
    trained, timings = {}, {}
    for candidate in candidates:
        name, _, loss = candidate.partition(":")
        label = candidate.replace(":", "+")
        run_dir = args.output / "runs" / label
        config = TrainConfig(
            data=[str(path) for path in args.data] if len(args.data) > 1 else str(args.data[0]),
            mix=[float(share) for share in args.mix.split(",")] if args.mix else None,
            mixed_precision=args.mixed_precision,
            loss=loss or None,
            output_dir=str(run_dir),
            model=name,
            image_size=args.image_size,
            batch_size=args.batch_size,
            epochs=epochs,
            steps_per_epoch=max(1, args.steps // epochs),
            validation_steps=10,
            learning_rate=args.learning_rate,
            augment=True,
            num_samples=4,
            **_model_options(name, args),
        )
        resume = (run_dir / "config.json").exists()
        print(f"[{label}] training {args.steps} steps at {args.image_size} px" + (" (resuming)" if resume else ""),
              flush=True)
        started = time.perf_counter()
        result = training.train(config, resume=resume)
        timings[label] = time.perf_counter() - started
        trained[label] = saving.load_model(result.run_dir)
        print(f"[{label}] done in {timings[label] / 60:.1f} min", flush=True)

    tables = []
    for eval_data in eval_sets:
        print(f"evaluating {len(trained)} model(s) and the baselines on {eval_data} ({args.split})", flush=True)
        result = evaluate.evaluate(
            {**trained, "gray": "gray", "random": "random"},
            eval_data,
            split=args.split,
            image_size=args.image_size,
            limit=args.limit,
            num_samples=6,
        )
        report_dir = args.output / f"report-{eval_data.name}"
        evaluate.write_report(result, report_dir, title=f"Every model under one training budget: {eval_data.name}")
        tables += [f"## {eval_data.name} ({args.split}, {result.num_images} images)", "",
                   evaluate.format_table(result), ""]  # fmt: skip
    table = "\n".join(tables)
    mix = f" mixed {args.mix}" if args.mix else ""
    budget = (f"{args.steps} steps x batch {args.batch_size} at {args.image_size} px on "
              f"{' + '.join(path.name for path in args.data)}{mix}, Adam {args.learning_rate:g}, augmentation on, "
              f"{'bfloat16' if args.mixed_precision else 'float32'}, seed 0.")
    costs = ["| model | parameters | trainable | training time (min) |", "|---|---|---|---|"]
    for name, model in trained.items():
        trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
        costs.append(f"| {name} | {model.count_params():,} | {trainable:,} | {timings[name] / 60:.1f} |")
    summary = "\n".join(["# Every model under one training budget", "", budget, "", table, "", *costs, ""])
    (args.output / "summary.md").write_text(summary, encoding="utf-8")
    (args.output / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    print(summary)
    print(f"reports: {', '.join(str(args.output / f'report-{path.name}') for path in eval_sets)}")


def _model_options(name: str, args) -> dict:
    if name in ("unet", "unet_classification"):
        return {"model_options": {"base_filters": 16}}  # the bundled default model's width
    if name == "fusion":
        return {"extractor": args.fusion_extractor,
                "extractor_weights": _official_weights(args.fusion_extractor) if args.pretrained else "random"}
    if name in ("uvgg", "vgg16_autoencoder"):
        return {"extractor_weights": "imagenet" if args.pretrained else "random"}
    if args.pretrained and name == "resnet50":
        return {"model_options": {"encoder_weights": "imagenet"}}
    return {}


def _official_weights(extractor: str):
    return {"vggface": "vggface", "none": None}.get(extractor, "imagenet")


if __name__ == "__main__":
    main()
