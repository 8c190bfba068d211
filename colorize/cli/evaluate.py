"""`colorize evaluate`: the papers' metrics for models and baselines, with a report."""

from pathlib import Path

import click

from colorize.cli._common import handle_errors, load_keras, precision_option, vivid_option, writing_to


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="[MODEL]... DATA")
@click.option("--model", "extra_models", multiple=True, help="A model to compare (repeatable): .keras, run dir or 'default'.")
@click.option("--baselines", is_flag=True, help="Add the gray (ab = 0) and random (another image's ab) baselines.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("report"),
              show_default=True, help="Report folder.")
@click.option("--split", type=click.Choice(("train", "val", "test")), default="test", show_default=True,
              help="Split of a prepared data set (a plain folder is used whole).")
@click.option("--image-size", type=click.IntRange(min=16),
              help="Size images are compared at (default: the first model's input size, else a prepared set's, "
                   "else 128); "
                   "with --full-resolution, the long side the models see.")
@click.option("--full-resolution", is_flag=True,
              help="Compare at each photo's own size (plain folders): predicted ab resized up, joined with the full L.")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate at most this many images.")
@click.option("--num-samples", type=click.IntRange(min=1),
              help="Photos in samples.png (default 8), or in contact_sheet.png with --no-truth (default 24).")
@click.option("--no-truth", is_flag=True,
              help="DATA is a folder of genuine black-and-white photos: no pixel metrics, only the colour measures "
                   "of each model's output (as `colorize predict` makes it) and contact_sheet.png; "
                   "--image-size is then the long side the models see.")
@click.option("--save-predictions", type=click.Path(file_okay=False, path_type=Path),
              help="Also write every scored image here, one PNG per photo (a sub-folder per model when several): "
                   "with --full-resolution named and made as `colorize predict` makes them.")
@click.option("--overwrite", is_flag=True, help="Replace a report (and --save-predictions images) already there.")
@precision_option
@vivid_option
@handle_errors(import_keras=False)
def evaluate(args, extra_models, baselines, output, split, image_size, full_resolution, batch_size, limit,
             num_samples, no_truth, save_predictions, overwrite, precision, strength):  # fmt: skip
    """Evaluate MODELs (and baselines) on DATA: a prepared data set or a folder of colour photos.

    Each photo is turned gray, colorized and compared with itself. Writes
    metrics.json, per_image.csv, report.md, ab_distribution.png and samples.png.
    With --no-truth (black-and-white photos): hue entropy, warm share and colourfulness
    of the colorized photos, and contact_sheet.png instead of samples.png.

    \b
    Examples:
      colorize evaluate default data/hf128 --baselines -o report/
      colorize evaluate --model runs/unet --model runs/fusion photos/ -o cmp/
      colorize evaluate default old_bw_photos/ --no-truth -o report-bw/
      colorize evaluate default photos/ --full-resolution --save-predictions colour/
      colorize evaluate default runs/new data/hf128 --vivid 0.25   # both at the default's strength
    """
    from tqdm import tqdm

    from colorize import evaluate as evaluation
    from colorize.data import records
    from colorize.infer import runtime
    from colorize.registry import SIZE_MULTIPLE

    if image_size is not None and not full_resolution and image_size % SIZE_MULTIPLE:
        raise click.BadParameter(
            f"must be a multiple of {SIZE_MULTIPLE} (the models' down-sampling), e.g. "
            f"{max(SIZE_MULTIPLE, round(image_size / SIZE_MULTIPLE) * SIZE_MULTIPLE)}; "
            f"received {image_size}", param_hint="--image-size",
        )  # fmt: skip
    if not overwrite and any((output / name).exists() for name in ("metrics.json", "report.md")):
        raise click.ClickException(f"{output} already holds a report; pass --overwrite to replace it, or another -o")
    if save_predictions is not None:
        if no_truth:
            raise ValueError("--save-predictions scores against colour truth; for black-and-white photos "
                             "use `colorize predict`")
        evaluation.check_predictions_folder(save_predictions, overwrite)
    *model_specs, data = args
    data = Path(data)
    records.check_complete(data)
    if not data.exists():
        raise FileNotFoundError(f"DATA {data} does not exist: give a prepared data set or a folder of colour photos")
    model_specs = list(model_specs) + list(extra_models)
    if no_truth:
        _check_no_truth(model_specs, baselines, full_resolution)
    # Photos at full resolution through ONNX models (the presets, .onnx files) need no Keras;
    # anything else (a .keras model, the working-size pipeline of a prepared set) loads it first.
    if not ((full_resolution or no_truth) and model_specs and not any(map(runtime.runs_on_keras, model_specs))):
        load_keras()
    models = {}
    for spec in model_specs:
        name = _display_name(spec, models)
        models[name] = runtime.load_runner(spec, precision, strength)  # as `colorize predict` runs it
    if no_truth:
        return _evaluate_without_truth(models, data, output, image_size, limit, num_samples)
    if baselines:
        models.update({"gray": "gray", "random": "random"})
    if not models:
        raise ValueError("nothing to evaluate: give a MODEL, --model or --baselines")
    with tqdm(desc="evaluate", unit="img", total=limit, disable=None) as bar:
        result = evaluation.evaluate(
            models, data, split=split, image_size=image_size, batch_size=batch_size, limit=limit,
            num_samples=num_samples or 8, full_resolution=full_resolution, progress=bar.update,
            save_predictions=save_predictions, overwrite=overwrite,
        )  # fmt: skip
    with writing_to("-o", output):
        files = evaluation.write_report(result, output)
    if evaluation.lacks_colour_truth(result):
        click.echo(f"Warning: the photos in {data} are (nearly) all gray: there is no colour truth, so the pixel "
                   "metrics below say nothing about colour; evaluate on colour photos.", err=True)
    click.echo(evaluation.format_table(result, markdown=False))
    click.echo(f"\n{result.num_images} images. Report: {files['report']}")
    for key in ("metrics", "per_image", "distribution", "samples"):
        click.echo(f"  {files[key]}")
    if save_predictions is not None:
        click.echo(f"Predictions: {save_predictions}")


def _display_name(spec: str, taken: dict) -> str:
    path = Path(spec)
    name = "default" if spec == "default" else (path.name if path.is_dir() else path.stem)
    if name in ("best", "last") and path.parent.name:
        name = path.parent.name
    base, index = name, 2
    while name in taken:
        name, index = f"{base}_{index}", index + 1
    return name


def _check_no_truth(model_specs: list, baselines: bool, full_resolution: bool) -> None:
    if baselines:
        raise ValueError("--baselines need colour truth (random takes another photo's colours); "
                         "drop --baselines with --no-truth")
    if full_resolution:
        raise ValueError("--no-truth always works at full resolution, as `colorize predict` does; "
                         "drop --full-resolution")
    if not model_specs:
        raise ValueError("nothing to evaluate: give a MODEL or --model with --no-truth")


def _evaluate_without_truth(models, data, output, render_size, limit, num_samples) -> None:
    """--no-truth: the colour measures of each model's output on black-and-white photos."""
    from tqdm import tqdm

    from colorize import evaluate as evaluation

    with tqdm(desc="evaluate", unit="img", total=limit, disable=None) as bar:
        result = evaluation.evaluate_without_truth(
            models, data, render_size=render_size, limit=limit,
            num_samples=num_samples or evaluation.CONTACT_SHEET_SIZE, progress=bar.update,
        )  # fmt: skip
    with writing_to("-o", output):
        files = evaluation.write_report(result, output, title="Colorization of photos without colour truth")
    click.echo(evaluation.format_table(result, markdown=False))
    skipped = f", {len(result.skipped)} files skipped (listed in metrics.json)" if result.skipped else ""
    click.echo(f"\n{result.num_images} photos{skipped}. Report: {files['report']}")
    for key in ("metrics", "per_image", "distribution", "contact_sheet"):
        click.echo(f"  {files[key]}")
