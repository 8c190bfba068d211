"""`colorize export`: a trained model's self-contained inference form (what predict runs)."""

from pathlib import Path

import click

from colorize.cli._common import handle_errors, writing_to


@click.command()
@click.argument("model")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write: .keras, or .onnx for ONNX Runtime (format from the suffix).")
@click.option("--format", "export_format", type=click.Choice(["keras", "onnx"]),
              help="The file format. Default: from the suffix of -o (.onnx: onnx, else keras).")
@click.option("--temperature", type=click.FloatRange(min=0, max=10, min_open=True),
              help="Annealed-mean temperature for classification models [0.38]: lower is more vivid.")
@click.option("--rebalance", type=click.FloatRange(0, 1, min_open=True), metavar="LAMBDA",
              help="Bins models, from a run directory: decode as if trained with this class rebalancing "
                   "(lower: rarer, more vivid colours; 1: none, the most accurate per pixel) [as trained].")
@click.option("--average", nargs=2, type=(str, click.FloatRange(0, 1, min_open=True, max_open=True)),
              multiple=True, metavar="MODEL SHARE",
              help="Mix another trained copy of the same network into MODEL's weights at this share "
                   "(a weight-space mean; repeatable; MODEL keeps the rest).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@handle_errors
def export(model, output, export_format, temperature, rebalance, average, overwrite):
    """Export MODEL (a run directory, a .keras file or 'default') for `colorize predict`.

    The exported file computes in float32 (whatever precision it was trained in) and
    holds the decoding of classification models with its temperature. An .onnx file
    runs with ONNX Runtime alone (no TensorFlow or Keras at run time): scaled L in
    (input 'l_input', any batch, height and width), bin probabilities or a*b* out, the
    decoding's settings in its metadata (opset 17).

    \b
    Example:
      colorize export runs/bins -o my_model.keras --temperature 0.3
      colorize export runs/bins -o vivid.keras --temperature 0.25 --rebalance 0.6
      colorize export runs/bins -o my_model.onnx
      colorize export default -o mean.keras --average runs/more 0.5
      colorize predict photo.jpg --model my_model.keras
    """
    from colorize import saving

    if output.exists() and not overwrite:
        raise click.ClickException(f"{output} exists; pass --overwrite to replace it")
    log_prior = None
    if rebalance is not None:
        from colorize import train

        log_prior = train.rebalancing_prior(model, rebalance)
    with writing_to("-o", output.parent):
        written = saving.export_model(model, output, temperature, log_prior, format=export_format, average=average)
    click.echo(f"Exported {model} -> {written}")
