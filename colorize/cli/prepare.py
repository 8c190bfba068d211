"""`colorize prepare SRC... -o OUT`: folders of photos -> sharded TFRecords + manifest."""

from pathlib import Path

import click

from colorize.cli._common import FiniteFloatRange, echo_table, handle_errors

_SHOW_SKIPPED = 8


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the data set to (outside the sources).")
@click.option("--size", "image_size", default=128, show_default=True, type=click.IntRange(min=8),
              help="Side of the square output images (224/256 for the larger models).")
@click.option("--fit", type=click.Choice(["crop", "pad"]), default="crop", show_default=True,
              help="Make images square by centre crop, or by padding with neutral grey.")
@click.option("--faces/--no-faces", default=False, show_default=True,
              help="Crop around the largest detected face (scikit-image LBP cascade).")
@click.option("--keep-no-face/--drop-no-face", default=True, show_default=True,
              help="With --faces: keep (centre crop) or drop images where no face is found.")
@click.option("--split", default="0.8,0.1,0.1", show_default=True,
              help="train,val,test fractions; assigned by content hash (stable as files are added).")
@click.option("--min-colourfulness", default=15.0, show_default=True, type=FiniteFloatRange(min=0),
              help="Drop grey images below this colourfulness (Hasler-Suesstrunk).")
@click.option("--min-hue-spread", default=1.0, show_default=True, type=FiniteFloatRange(min=0),
              help="Drop sepia/toned monochrome images below this a*b* spread.")
@click.option("--shard-size", "images_per_shard", default=1024, show_default=True, type=click.IntRange(min=1),
              help="Images per TFRecord shard.")
@click.option("-j", "--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Decoding processes.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--overwrite", is_flag=True,
              help="Replace a data set already in OUTPUT (the new one is swapped in whole when complete).")
@handle_errors
def prepare(sources, output_dir, image_size, fit, faces, keep_no_face, split, min_colourfulness,
            min_hue_spread, images_per_shard, workers, no_progress, overwrite):
    """Turn folders of photos (or .txt lists of paths) into a training-ready data set.

    Walks SOURCES recursively, skips unreadable files (listing why), drops black-and-white,
    sepia and duplicate images, resizes to --size, splits train/val/test, and writes
    sharded TFRecords, manifest.json and ab_distribution.npz to OUTPUT.

    \b
    Example:
      colorize prepare photos/ more_photos.txt -o data/portraits --size 128 --faces
    """
    from colorize.data.prepare import parse_split
    from colorize.data.prepare import prepare as run_prepare

    result = run_prepare(
        sources,
        output_dir,
        image_size=image_size,
        fit=fit,
        faces=faces,
        keep_no_face=keep_no_face,
        split=parse_split(split),
        min_colourfulness=min_colourfulness,
        min_hue_spread=min_hue_spread,
        images_per_shard=images_per_shard,
        workers=workers,
        progress=not no_progress,
        overwrite=overwrite,
    )
    _echo_summary(result, image_size)


def _echo_summary(result, image_size):
    rate = result.total / result.seconds if result.seconds > 0 else 0.0
    click.echo(f"Prepared {result.total} images ({image_size}x{image_size}) in {result.seconds:.1f} s "
               f"({rate:.0f} img/s) -> {result.output_dir}")
    echo_table([(name, count) for name, count in result.counts.items()], ("split", "images"))
    removed = [(kind.replace("_", " "), count) for kind, count in result.removed.items() if count]
    if removed:
        click.echo("")
        echo_table(removed, ("removed", "files"))
    if result.faces_found:
        click.echo(f"\nFaces found and cropped: {result.faces_found}")
    if result.skipped:
        click.echo(f"\nSkipped files ({len(result.skipped)}; all listed in {result.manifest_path.name}):")
        for path, reason in result.skipped[:_SHOW_SKIPPED]:
            click.echo(f"  {path}: {reason}")
        if len(result.skipped) > _SHOW_SKIPPED:
            click.echo(f"  ... and {len(result.skipped) - _SHOW_SKIPPED} more")
    click.echo(f"\nManifest: {result.manifest_path}")
