"""`colorize predict` (alias `colorize colorize`): colour photos from grayscale ones."""

from pathlib import Path

import click

from colorize.cli._common import handle_errors


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output folder (or file name, for one input). Default: beside each input.")
@click.option("--model", default="default", show_default=True,
              help="'default' (bundled), a .keras file, or a training run directory.")
@click.option("--render-size", type=click.IntRange(min=32),
              help="Long side the model works at; larger = more colour detail, slower [256].")
@click.option("--compare", is_flag=True, help="Also write <name>_compare.png: input | output.")
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist (inputs never are).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True, help="Images per model call.")
@handle_errors
def predict(paths, output, model, render_size, compare, overwrite, batch_size):
    """Colorize PATHS (image files or folders, searched recursively).

    Each output has the input's exact size and lightness: the model predicts colour
    at a working size, which is scaled back and joined with the photo's own L.
    Outputs are written as <name>_colorized.png; existing outputs are kept unless
    --overwrite. Exits with status 1 if any input could not be colorized (every
    failure is listed with its reason).

    \b
    Examples:
      colorize predict grandma.jpg --compare
      colorize predict scans/ -o colour/ --render-size 512
    """
    from tqdm import tqdm

    from colorize import inference

    loaded = inference.load_model(model)
    with tqdm(desc="colorize", unit="img", disable=None) as bar:
        result = inference.colorize_files(
            paths, output, model=loaded, overwrite=overwrite, compare=compare,
            batch_size=batch_size, render_size=render_size, progress=bar.update,
        )  # fmt: skip
    for source, target in result.written:
        click.echo(f"{source} -> {target}")
    if result.existing:
        click.echo(f"Kept {len(result.existing)} existing output(s) (use --overwrite to replace):")
        for target in result.existing:
            click.echo(f"  {target}")
    click.echo(f"Colorized {len(result.written)} image(s); {len(result.failed)} failed.")
    if result.failed:
        for source, reason in result.failed:
            click.echo(f"  FAILED {source}: {reason}", err=True)
        raise SystemExit(1)
