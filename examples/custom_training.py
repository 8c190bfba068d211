"""Train a colorize model in your own Keras script (no CLI): build, compile, fit, save.

    python examples/custom_training.py IMAGE_FOLDER [--model unet] [--epochs 2] [--steps 20]

``IMAGE_FOLDER`` is a folder of images or a directory written by ``colorize prepare``.
Every model maps scaled L (H, W, 1) to scaled ab (H, W, 2); ``as_inference_model``
turns the classification network / a GAN into that form before saving.
"""

import argparse
from pathlib import Path

import keras

from colorize import losses, models
from colorize.data import pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="image folder or prepared data directory")
    parser.add_argument("--model", default="unet", choices=["unet", "regression", "naive_cnn", "classification"])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20, help="batches per epoch")
    parser.add_argument("-o", "--output", type=Path, default=Path("custom_model.keras"))
    args = parser.parse_args()

    dataset = pipeline.make_dataset(args.data, image_size=args.image_size, batch_size=8, augment=True, repeat=True)
    if args.model == "classification":
        model = models.build_model("classification", image_size=args.image_size, width=0.5)
        loss = losses.RebalancedCrossEntropy()  # pass weights=classification.rebalancing_weights(...) to rebalance
    else:
        options = {"base_filters": 16} if args.model == "unet" else {"width": 0.5}
        model = models.build_model(args.model, image_size=args.image_size, **options)
        loss = losses.L1()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    model.fit(dataset, epochs=args.epochs, steps_per_epoch=args.steps)

    inference = models.as_inference_model(model)  # l_input -> scaled ab, for colorize predict
    inference.save(args.output)
    print(f"saved {args.output} ({inference.count_params():,} parameters)")


if __name__ == "__main__":
    main()
