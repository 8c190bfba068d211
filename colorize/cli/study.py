"""`colorize study`: blind preference studies of two colorizers (make the pairs, score the answers)."""

from pathlib import Path

import click

from colorize.cli._common import echo_table, handle_errors


@click.group()
def study():
    """Blind preference studies: which of two colorizers do raters prefer?

    \b
    Typical use:
      colorize predict photos/ -o out/a --model runs/a    # two programs' outputs, same names
      colorize predict photos/ -o out/b --model runs/b
      colorize study make out/a out/b -o study/           # shuffled pairs; study/key.json kept apart
      colorize serve --study study/                       # raters press A, B or T (tie)
      colorize study score study/                         # preference for out/a, 95 % interval
    """


@study.command("make")
@click.argument("dir_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("dir_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The study folder (new, or empty).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the pair order and of the sides.")
@click.option("--sheet-height", type=click.IntRange(min=32), default=420, show_default=True,
              help="Image height on the sheets, in pixels.")
@click.option("--per-sheet", type=click.IntRange(min=1), default=2, show_default=True, help="Pairs per sheet.")
@handle_errors(import_keras=False)
def make(dir_a, dir_b, output, seed, sheet_height, per_sheet):
    """Pair DIR_A's and DIR_B's images by name, shuffle them, and write a blind study to -o.

    Writes sheets/ (numbered pairs and BRIEF.md, for judges who only see images), pairs/
    (for `colorize serve --study`), answers/ (raters' CSVs) and key.json (which side is
    DIR_A's: keep it from the raters).
    """
    from colorize import study as studies

    key = studies.make_study(dir_a, dir_b, output, seed=seed, sheet_height=sheet_height, per_sheet=per_sheet)
    click.echo(f"{len(key)} pairs in {output / 'pairs'} and on the sheets in {output / 'sheets'}; "
               f"the key is {output / 'key.json'} (keep it from the raters)")  # fmt: skip
    click.echo(f"Next: colorize serve --study {output}   (or hand out {output / 'sheets'})")


@study.command("score")
@click.argument("study_dir", metavar="STUDY", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("extra", metavar="[ANSWERS.csv]...", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@handle_errors(import_keras=False)
def score(study_dir, extra):
    """How often DIR_A was preferred, per rater, pooled and per group of photos, with 95 % intervals.

    Reads every CSV in STUDY/answers/ and any ANSWERS.csv given (pair,choice[,confidence,reason];
    choice A, B or tie). A tie counts half. The Wilson interval treats every answer as
    independent; the line "resampled by photo" draws the photos again (a bootstrap), which
    is the one to decide on. "left" is how often a rater picked the left side (random
    sides: far from 0.50 is a rater who leans on position). Groups are the photos' name
    prefixes (old_..., scenes_...), shown when there are two or more.
    """
    from colorize import study as studies

    result = studies.score_study(study_dir, extra)
    click.echo(f"DIR_A = {result.dir_a}   DIR_B = {result.dir_b}")
    echo_table([_score_row(p) for p in [*result.raters, result.pooled]],
               ("rater", "DIR_A preferred", "share", "95 % interval", "left"))  # fmt: skip
    click.echo(f"pooled, resampled by photo: {result.pooled.share:.2f} "
               f"(95 % {result.by_photo[0]:.2f}-{result.by_photo[1]:.2f})")  # fmt: skip
    if result.blotch_agreement is not None:
        agree, pairs = result.blotch_agreement
        click.echo(f"blotchiness picks the raters' choice in {agree:g}/{pairs} pairs they all agreed on"
                   + (f" ({100 * agree / pairs:.0f} %)" if pairs else ""))  # fmt: skip
    if len(result.groups) > 1:
        echo_table([_score_row(p)[:4] for p in result.groups], ("photos", "DIR_A preferred", "share", "95 % interval"))


@study.command("pool")
@click.argument("studies", metavar="STUDY...", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@handle_errors(import_keras=False)
def pool(studies):
    """Several studies of one comparison on other photos, scored as one, the photos resampled together.

    Each STUDY's answers: the CSVs in its answers/ folder and those beside its key.json (the
    judging kit's verdicts as benchmarks/studies keeps them). One line per study, then all
    of them pooled, with the interval to decide on.
    """
    from colorize import study as studies_

    result = studies_.pool_studies(studies)
    echo_table([_score_row(p)[:4] for p in [*result.raters, result.pooled]],
               ("study", "DIR_A preferred", "share", "95 % interval"))  # fmt: skip
    click.echo(f"pooled, resampled by photo: {result.pooled.share:.3f} "
               f"(95 % {result.by_photo[0]:.3f}-{result.by_photo[1]:.3f})")  # fmt: skip
    if len(result.groups) > 1:
        echo_table([_score_row(p)[:4] for p in result.groups], ("photos", "DIR_A preferred", "share", "95 % interval"))


def _score_row(p):
    """A :class:`~colorize.study.Preference` as a table row: name, preferred/count, share, interval, left."""
    left = "" if p.left is None else f"{p.left:.2f}"
    return (p.rater, f"{p.preferred:g}/{p.count}", f"{p.share:.2f}", f"{p.low:.2f}-{p.high:.2f}", left)


@study.command("measure")
@click.argument("study_dir", metavar="STUDY", type=click.Path(exists=True, file_okay=False, path_type=Path))
@handle_errors(import_keras=False)
def measure(study_dir):
    """Keep each pair's blotchiness and difference in STUDY's key.json, measured on the images it names.

    For a study made by the judging kit (blind_pairs.py), which does not measure: run it from
    the folder the study was made in, while DIR_A and DIR_B still hold the images. `score`
    then says how often the less blotchy side was the one all raters chose, from the key alone.
    """
    from colorize import study as studies

    key = studies.record_measures(study_dir)
    click.echo(f"measured {len(key['pairs'])} pairs; wrote {study_dir / 'key.json'}")
