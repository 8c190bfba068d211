"""`colorize predict` (alias `colorize colorize`): colour photos from grayscale ones."""

from pathlib import Path

import click

from colorize.cli._common import (
    ShardType,
    handle_errors,
    load_keras,
    precision_option,
    vivid_option,
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output folder (sub-folders of searched folders are kept), or a file name for a "
                   "single input. Default: beside each input.")
@click.option("--model", default="default", show_default=True,
              help="'default', 'natural' or 'vivid' (the bundled model's presets, see `colorize models`), "
                   "an .onnx file (run by ONNX Runtime, as the presets are), a .keras file, or a training run directory.")
@click.option("--render-size", type=click.IntRange(min=32),
              help="Long side (px) the model works at: larger = finer colour detail, slower. "
                   "Default 192 (or the model's training size if larger); fixed-size models ignore it.")
@click.option("--compare", is_flag=True, help="Also write <name>_compare.png: input | output side by side.")
@click.option("--overwrite", is_flag=True, help="Replace outputs that already exist (inputs never are).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True,
              help="Photos per model call.")
@click.option("--shard", type=ShardType(), metavar="K/N",
              help="Colorize only the K-th of N shares of the sorted input files (1 <= K <= N): "
                   "N processes or batch jobs (a Slurm array, a Kubernetes indexed job) split one folder.")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Colorize on a Ray cluster (pip install 'colorize-keras[ray]'): 'auto' (the running one), "
                   "'local' (start one here) or ray://HOST:10001. Every node must see the inputs and -o at the same paths.")
@vivid_option
@click.option("--faces/--no-faces", default=None,
              help="Colour each face found again in a tight crop, as the model learned faces (warmer, surer "
                   "skin in group and street photos). Default: on for the bundled presets, off for model files.")
@precision_option
@handle_errors(import_keras=False)
def predict(paths, output, model, render_size, compare, overwrite, batch_size, shard, ray_address, strength, faces,
            precision):
    """Colorize PATHS: image files, or folders searched recursively.

    Each output has the input's exact size and lightness: the model predicts colour
    at a small working size, which is scaled back and joined with the photo's own
    full-resolution L. Colour photos are turned gray first; alpha is kept; 16-bit
    inputs give 16-bit PNGs.

    Outputs are PNGs named <name>_colorized.png, beside the input or under -o;
    inputs are never changed, and existing outputs are kept unless --overwrite.

    A folder search passes over files that are not images by name, earlier outputs
    (*_colorized.png, *_compare.png) and symbolic links to folders, and says so.

    Exit status: 0 when every input was colorized (or kept), 1 when any input failed
    (each failure is listed with its reason; the others are still written), the
    model cannot be loaded, or -o cannot be written (checked before any work).

    \b
    Examples:
      colorize predict grandma.jpg --compare
      colorize predict scans/ -o colour/ --render-size 512
      colorize predict family.png --model vivid
      colorize predict scans/ -o colour/ --shard $((SLURM_ARRAY_TASK_ID + 1))/8
      colorize predict /archive/scans -o /archive/colour --ray auto
    """
    from concurrent.futures import ThreadPoolExecutor

    from colorize import infer

    # Mistakes found in a moment are told at once; then the model (ONNX Runtime, or Keras and its
    from colorize.infer import runtime
    # backend: seconds to import) loads in the background while the photos are found and decoded.
    infer.check_output(output, single=len(paths) == 1 and not paths[0].is_dir())
    keras_model = runtime.runs_on_keras(model)

    def load():
        if keras_model:
            load_keras()
        return runtime.load_runner(model, precision, strength, faces)

    if ray_address is not None:
        from colorize.infer import distributed

        if keras_model:
            load_keras()
        result = distributed.colorize_files_on_ray(
            paths, output, model=model, address=ray_address, shard=shard, overwrite=overwrite, compare=compare,
            batch_size=batch_size, render_size=render_size, precision=precision, strength=strength, faces=faces,
        )  # fmt: skip
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="colorize-load") as loader:
            loading = loader.submit(load)
            try:
                result = infer.colorize_files(
                    paths, output, model=loading, overwrite=overwrite, compare=compare,
                    batch_size=batch_size, render_size=render_size, progress=True, shard=shard,
                )  # fmt: skip
            finally:
                loading.cancel()
    if not (result.written or result.skipped or result.failed) and shard is None:
        found = f" (passed over {len(result.ignored)}: not images by name, earlier outputs, links)" if result.ignored else ""
        raise click.ClickException(f"no image files found in {', '.join(map(str, paths))}{found}")
    for source, target in result.written:
        click.echo(f"{source} -> {target}")
    _listed(f"Kept {len(result.skipped)} existing output(s) (--overwrite replaces them):",
            [str(target) for _, target in result.skipped])
    if compare and result.skipped:
        click.echo("No side-by-side image for the kept output(s): --compare makes it with the output; "
                   "--overwrite remakes both.")
    for source, note in result.notes:
        click.echo(f"Note: {source}: {note}")
    _listed(f"Passed over {len(result.ignored)} file(s) or link(s) (not colorized, not failures):",
            [f"{source}: {reason}" for source, reason in result.ignored])
    click.echo(
        f"Colorized {len(result.written)} image(s), kept {len(result.skipped)} existing, "
        f"{len(result.failed)} failed."
    )
    if result.failed:
        click.echo(f"Failed ({len(result.failed)}):", err=True)
        for source, reason in result.failed:
            click.echo(f"  {source}: {reason}", err=True)
        raise SystemExit(1)


def _listed(heading: str, lines: list[str]) -> None:
    """A heading and its indented lines, or nothing when there are none."""
    if lines:
        click.echo("\n".join([heading, *(f"  {line}" for line in lines)]))
