"""`colorize export`: a trained model's self-contained inference form (what predict runs)."""

from pathlib import Path

import click

from colorize.cli._common import handle_errors, writing_to


@click.command()
@click.argument("model")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .keras file to write.")
@click.option("--temperature", type=click.FloatRange(min=0, max=10, min_open=True),
              help="Annealed-mean temperature for classification models [0.38]: lower is more vivid.")
@click.option("--rebalance", type=click.FloatRange(0, 1, min_open=True), metavar="LAMBDA",
              help="Bins models, from a run directory: decode as if trained with this class rebalancing "
                   "(lower: rarer, more vivid colours; 1: none, the most accurate per pixel) [as trained].")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@handle_errors
def export(model, output, temperature, rebalance, overwrite):
    """Export MODEL (a run directory, a .keras file or 'default') for `colorize predict`.

    The exported file computes in float32 (whatever precision it was trained in) and
    holds the decoding of classification models with its temperature.

    \b
    Example:
      colorize export runs/bins -o my_model.keras --temperature 0.3
      colorize export runs/bins -o vivid.keras --temperature 0.25 --rebalance 0.6
      colorize predict photo.jpg --model my_model.keras
    """
    from colorize import saving

    if output.exists() and not overwrite:
        raise click.ClickException(f"{output} exists; pass --overwrite to replace it")
    log_prior = None
    if rebalance is not None:
        from colorize import training

        log_prior = training.rebalancing_prior(model, rebalance)
    with writing_to("-o", output.parent):
        written = saving.export_model(model, output, temperature, log_prior)
    click.echo(f"Exported {model} -> {written}")
