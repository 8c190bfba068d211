"""`colorize predict` (alias `colorize colorize`): colour photos from grayscale ones."""

from pathlib import Path

import click

from colorize.cli._common import handle_errors


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output folder (sub-folders of searched folders are kept), or a file name for a "
                   "single input. Default: beside each input.")
@click.option("--model", default="default", show_default=True,
              help="'default' (the bundled model), a .keras file, or a training run directory.")
@click.option("--render-size", type=click.IntRange(min=32),
              help="Long side (px) the model works at: larger = finer colour detail, slower. "
                   "Default 256 (or the model's training size if larger); fixed-size models ignore it.")
@click.option("--compare", is_flag=True, help="Also write <name>_compare.png: input | output side by side.")
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist (inputs never are).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True,
              help="Photos per model call.")
@handle_errors
def predict(paths, output, model, render_size, compare, overwrite, batch_size):
    """Colorize PATHS: image files, or folders searched recursively.

    Each output has the input's exact size and lightness: the model predicts colour
    at a small working size, which is scaled back and joined with the photo's own
    full-resolution L. Colour photos are turned gray first; alpha is kept; 16-bit
    inputs give 16-bit PNGs.

    Outputs are PNGs named <name>_colorized.png, beside the input or under -o;
    inputs are never changed, and existing outputs are kept unless --overwrite.

    Exit status: 0 when every input was colorized (or kept), 1 when any input failed
    (each failure is listed with its reason; the others are still written) or the
    model cannot be loaded.

    \b
    Examples:
      colorize predict grandma.jpg --compare
      colorize predict scans/ -o colour/ --render-size 512
    """
    from colorize import inference

    loaded = inference.load_model(model)
    result = inference.colorize_files(
        paths, output, model=loaded, overwrite=overwrite, compare=compare,
        batch_size=batch_size, render_size=render_size, progress=True,
    )  # fmt: skip
    if not (result.written or result.skipped or result.failed):
        raise click.ClickException(f"no image files found in {', '.join(map(str, paths))}")
    for source, target in result.written:
        click.echo(f"{source} -> {target}")
    if result.skipped:
        click.echo(f"Kept {len(result.skipped)} existing output(s) (--overwrite replaces them):")
        for source, target in result.skipped:
            click.echo(f"  {target}")
    click.echo(
        f"Colorized {len(result.written)} image(s), kept {len(result.skipped)} existing, "
        f"{len(result.failed)} failed."
    )
    if result.failed:
        click.echo(f"Failed ({len(result.failed)}):", err=True)
        for source, reason in result.failed:
            click.echo(f"  {source}: {reason}", err=True)
        raise SystemExit(1)
