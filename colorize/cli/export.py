"""`colorize export`: a trained model's self-contained inference form (what predict runs)."""

from pathlib import Path

import click

from colorize.cli._common import handle_errors


@click.command()
@click.argument("model")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .keras file to write.")
@click.option("--temperature", type=click.FloatRange(min=0, max=10, min_open=True),
              help="Annealed-mean temperature for classification models [0.38]: lower is more vivid.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@handle_errors
def export(model, output, temperature, overwrite):
    """Export MODEL (a run directory, a .keras file or 'default') for `colorize predict`.

    The exported file computes in float32 (whatever precision it was trained in) and
    holds the decoding of classification models with its temperature.

    \b
    Example:
      colorize export runs/bins -o my_model.keras --temperature 0.3
      colorize predict photo.jpg --model my_model.keras
    """
    from colorize import saving

    if output.exists() and not overwrite:
        raise click.ClickException(f"{output} exists; pass --overwrite to replace it")
    written = saving.export_model(model, output, temperature)
    click.echo(f"Exported {model} -> {written}")
