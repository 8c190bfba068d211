"""`colorize train`: train any registered model on a prepared data set or a folder."""

from pathlib import Path

import click

from colorize import layout, registry
from colorize.cli._common import (
    FiniteFloatRange,
    handle_errors,
    select_backend,
    writing_to,
)
from colorize.train import distribute
from colorize.train.config import GAN_SCHEDULES, LR_SCHEDULES, TrainConfig, default_output_dir

MODEL_NAMES = tuple(registry.MODELS)
EXTRACTOR_NAMES = registry.EXTRACTORS
LOSS_NAMES = registry.LOSSES
DEFAULT = TrainConfig  # its class attributes are the defaults of a run's settings


def _parse_options(values):
    options = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--option")
        key, value = item.split("=", 1)
        import yaml

        options[key.strip()] = yaml.safe_load(value)
    return options


@click.command()
@click.argument("data", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "output_dir", type=click.Path(path_type=Path),
              help=f"Run directory [{default_output_dir('<model>')}].")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML/JSON file of options; flags given on the command line override it.")
@click.option("--resume", "resume_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Continue an interrupted run from its last finished epoch.")
@click.option("--mix", metavar="SHARES", help="With several DATA: the share of training examples from each, e.g. 0.5,0.5 [equal].")
@click.option("--model", type=click.Choice(MODEL_NAMES), help=f"Model to train [{DEFAULT.model}].")
@click.option("--extractor", type=click.Choice(EXTRACTOR_NAMES), help="Global feature extractor (" + ", ".join(name for name, spec in registry.MODELS.items() if spec.extractor) + ").")
@click.option("--extractor-weights",
              help="A weights file, 'imagenet' or 'vggface' (from ~/.keras/models), or 'random' (untrained) "
                   "[the extractor's official file].")
@click.option("--image-size", type=click.IntRange(min=16), help=f"Training resolution [{DEFAULT.image_size}].")
@click.option("--batch-size", type=click.IntRange(min=1), help=f"Global batch size [{DEFAULT.batch_size}].")
@click.option("--epochs", type=click.IntRange(min=1), help=f"Epochs to reach [{DEFAULT.epochs}].")
@click.option("--learning-rate", type=FiniteFloatRange(min=0, min_open=True, max=10),
              help=f"Adam learning rate (the peak of a schedule) [{DEFAULT.learning_rate:g}].")
@click.option("--lr-schedule", type=click.Choice(LR_SCHEDULES),
              help=f"Learning rate over the run: held, or cosine to zero at the last step [{DEFAULT.lr_schedule}].")
@click.option("--warmup-steps", type=click.IntRange(min=0),
              help="Steps of linear warm-up from zero to the learning rate (a fine-tune from saved weights) [0].")
@click.option("--loss", type=click.Choice(LOSS_NAMES), help="Loss [the model family's default: its paper's loss].")
@click.option("--rebalance", type=click.FloatRange(0, 1, min_open=True), metavar="LAMBDA",
              help="Class rebalancing of the colour-weighted losses: lambda of ((1-lambda) p + lambda/Q)^-1; "
                   f"1 = none [{DEFAULT.rebalance}].")
@click.option("--augment/--no-augment", default=None, help="Flip / scale-crop jitter on training images.")
@click.option("--degrade", type=click.FloatRange(0, 1), metavar="P",
              help="Old-photo look on the input L of this share of training images: grain, blur, fading, JPEG "
                   f"(the target colour stays clean) [{DEFAULT.degrade:g}].")
@click.option("--film", type=click.FloatRange(0, 1), metavar="P",
              help="Input L of this share of training images as a black-and-white film saw the colours "
                   f"(orthochromatic: red prints dark) instead of the lightness [{DEFAULT.film:g}].")
@click.option("--seed", type=int, help=f"Random seed [{DEFAULT.seed}].")
@click.option("--steps-per-epoch", type=click.IntRange(min=1), help="Batches per epoch [one pass].")
@click.option("--validation-steps", type=click.IntRange(min=1), help="Validation batches [all].")
@click.option("--mixed-precision/--no-mixed-precision", default=None, help="bfloat16 on CPU, float16 on GPU.")
@click.option("--jit/--no-jit", default=None, help="XLA-compile the training step.")
@click.option("--strategy", type=click.Choice(distribute.STRATEGIES), help=f"tf.distribute strategy [{DEFAULT.strategy}].")
@click.option("--cache-embeddings/--no-cache-embeddings", default=None, help="fusion: compute the frozen extractor's vectors once (kept in DATA/embeddings/) and train on them.")
@click.option("--gan-schedule", type=click.Choice(GAN_SCHEDULES), help=f"GAN: both networks every step, or alternate every epoch (the DigiFace report's GAN) [{DEFAULT.gan_schedule}].")
@click.option("--init-weights", metavar="MODEL",
              help="Start from a saved model's weights: 'default', a .keras file or a run directory (fine-tuning).")
@click.option("--backend", type=click.Choice(("tensorflow", "jax", "torch")), callback=select_backend, is_eager=True,
              expose_value=False, help="Keras backend [KERAS_BACKEND, else tensorflow]; jax and torch read data without TensorFlow.")
@click.option("--option", "model_options", multiple=True, metavar="KEY=VALUE", help="Extra builder option, e.g. base_filters=32.")
@handle_errors
def train(data, output_dir, config_file, resume_dir, model_options, mix, **flags):
    """Train a colorization model on DATA (a `colorize prepare` output or a folder of images).

    Several DATA are trained on together: each batch draws from them by the --mix
    shares (equal by default), and validation covers all their val splits.

    A prepared data set brings its train / val splits; a plain folder is split here,
    about 10 % to validation, by a hash of each file's path (stable across runs and
    resumes). RUN_DIR gets config.json, history.csv, logs/ (TensorBoard), best.keras,
    last.keras, samples/epoch_NNN.png, loss.png and backup/ (for --resume).

    \b
    Examples:
      colorize train data/utk128 --model unet -o runs/unet --epochs 20
      colorize train data/faces128 data/scenes128 --mix 0.4,0.6 --model unet_classification
      colorize train data/utk128 --model fusion --extractor vggface --cache-embeddings
      colorize train --resume runs/unet
      colorize train my_photos/ --init-weights default --option base_filters=16 --learning-rate 1e-4
    """
    from colorize import train as training
    from colorize.train import config as train_config

    if resume_dir is not None:
        if not (resume_dir / layout.CONFIG_NAME).is_file():
            raise click.ClickException(f"{resume_dir} is not a run directory (no config.json)")
        values = train_config.read_config_file(resume_dir / layout.CONFIG_NAME)
        if output_dir is not None and output_dir.resolve() != resume_dir.resolve():
            raise click.UsageError(f"--resume {resume_dir} continues that folder; -o {output_dir} cannot move it")
        output_dir = resume_dir  # the folder given, wherever the run now is (not the path stored in it)
    else:
        values = train_config.read_config_file(config_file) if config_file else {}
    if data:
        values["data"] = str(data[0]) if len(data) == 1 else [str(item) for item in data]
    if mix is not None:
        values["mix"] = _parse_mix(mix)
    if output_dir is not None:
        values["output_dir"] = str(output_dir)
    if model_options:
        earlier = values.get("model_options") or {}
        if not isinstance(earlier, dict):
            raise click.ClickException(f"model_options must be a mapping (KEY: VALUE). Received: {earlier!r}")
        values["model_options"] = {**earlier, **_parse_options(model_options)}
    values.update({key: value for key, value in flags.items() if value is not None})
    if "data" not in values:
        raise click.UsageError("DATA is required (or --config with a 'data' entry, or --resume RUN_DIR)")
    values.setdefault("output_dir", default_output_dir(values.get("model")))
    config = TrainConfig.from_dict(values)
    click.echo(f"Training {config.model} on {', '.join(config.data_sources)} -> {config.output_dir}", err=True)
    try:
        with writing_to("--resume" if resume_dir is not None else "-o", config.output_dir):
            result = training.train(config, resume=resume_dir is not None)
    except training.TrainingInterrupted as stopped:
        error = click.ClickException(str(stopped))
        error.exit_code = 130  # the shell's code for Ctrl-C
        raise error from None
    except training.TrainingStopped as stopped:
        raise click.ClickException(str(stopped)) from None
    _summary(result)


def _parse_mix(text):
    try:
        return [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers such as 0.5,0.5, got {text!r}",
                                 param_hint="--mix") from None


def _summary(result):
    """One screen: time, best epoch and its validation metrics, where the files are."""
    minutes, seconds = divmod(int(round(result.elapsed_seconds)), 60)
    if result.already_finished:
        click.echo(f"{result.run_dir} had already finished its {result.epochs_done} epoch(s): nothing to resume.")
    else:
        click.echo(f"Finished {result.epochs_done} epoch(s) in {minutes} min {seconds} s.")
    if result.best_epoch is not None:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(result.best_metrics.items()) if k.startswith("val_"))
        click.echo(f"Best epoch: {result.best_epoch} ({shown})")
    for name, path in result.files.items():
        click.echo(f"  {name:<11} {path}")
    if "tensorboard" in result.files:
        click.echo(f"Watch with: tensorboard --logdir {result.files['tensorboard']}")
