"""Output names: where each input's colorized file goes, collisions between them, shares of a folder.

Output files: PNG, ``photo.jpg`` -> ``photo_colorized.png`` (beside the input, or under
``output`` keeping sub-folders); ``photo_jpg_colorized.png`` when ``photo.png`` is an
input too. 16-bit inputs give 16-bit PNGs; everything else gives 8-bit PNGs.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from colorize.infer.result import PredictResult
from colorize.io.encode import OUTPUT_SUFFIXES
from colorize.io.files import NOT_FOLLOWED, PARTIAL, find_images, is_image_name

log = logging.getLogger(__name__)


def output_path_for(
    path: Path, root: Path | None, output: Path | None, suffix: str = "_colorized", single: bool = False
) -> Path:
    """Where the colorized version of ``path`` goes.

    Beside the input when ``output`` is None; under ``output`` (keeping the sub-folders
    below ``root``, the folder that was searched) otherwise; or ``output`` itself when
    it is an image file name and ``single`` (one input file).
    """
    if output is not None and single and output.suffix.lower() in OUTPUT_SUFFIXES:
        return output
    name = f"{path.stem}{suffix}.png"
    if output is None:
        return path.with_name(name)
    relative = path.parent.relative_to(root) if root is not None and path.is_relative_to(root) else Path()
    return output / relative / name


def output_paths(
    files: list[Path], roots: list[Path], output: Path | None, suffix: str = "_colorized", single: bool = False
) -> dict[Path, Path]:
    """Each input file's output path, as ``colorize predict`` names it.

    :func:`output_path_for` below the first of ``roots`` (the folders searched) holding
    the file; where two inputs would share a name (``photo.jpg`` and ``photo.png``), each
    is named by its extension too: ``photo_jpg_colorized.png``, ``photo_png_colorized.png``.

    Example:
        >>> output_paths([Path("a/x.jpg"), Path("a/x.png")], [Path("a")], Path("out"))[Path("a/x.jpg")]
        PosixPath('out/x_jpg_colorized.png')
    """

    def target_for(path, disambiguate=False):
        root = next((r for r in roots if path.is_relative_to(r)), None)
        name_suffix = f"_{path.suffix.lower().lstrip('.')}{suffix}" if disambiguate else suffix
        return output_path_for(path, root, output, name_suffix, single)

    targets = {path: target_for(path) for path in files}
    counts: dict[str, int] = {}
    for target in targets.values():
        counts[_key(target)] = counts.get(_key(target), 0) + 1
    return {path: (target_for(path, True) if counts[_key(t)] > 1 else t) for path, t in targets.items()}


def compare_path_for(target: Path, suffix: str = "_colorized") -> Path:
    """``photo_colorized.png`` -> ``photo_compare.png`` (the side-by-side image)."""
    stem = target.stem[: -len(suffix)] if suffix and target.stem.endswith(suffix) else target.stem
    return target.with_name(f"{stem}_compare.png")


def is_own_output(path: Path, suffix: str = "_colorized") -> bool:
    """True for the names colorize gives its outputs: ``*_colorized.png``, ``*_compare.png``."""
    return path.suffix.lower() == ".png" and (path.stem.endswith(suffix) or path.stem.endswith("_compare"))


def check_output(output: str | os.PathLike | None, single: bool) -> None:
    """Check before any work that the outputs can be written under ``output``.

    Raises:
        ValueError: ``output`` is an existing file that is not the one output named
            for a single input, lies below a file, or is in a folder that cannot
            be written.
    """
    if output is None:
        return
    output = Path(output)
    names_file = single and output.suffix.lower() in OUTPUT_SUFFIXES
    if output.exists() and not output.is_dir() and not names_file:
        raise ValueError(f"output {output} is an existing file, not a folder; pass -o a folder")
    folder = output.parent if names_file or (output.exists() and not output.is_dir()) else output
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"cannot create the output folder {folder}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write to {existing} (permission denied); pass -o a folder you can write to")


def _plan(paths: list[Path], output: Path | None, suffix: str, compare: bool, overwrite: bool, result: PredictResult):
    """Expand inputs and choose each one's output: the (input, output) jobs to run.

    Outputs never replace an input and never collide; one file named twice (relative
    and absolute) is one input; what a folder search finds that is not an image by
    name, or is an earlier output of colorize (``*_colorized.png``, ``*_compare.png``),
    is passed over (in ``result.ignored``), not colorized and not a failure.
    """
    found, skipped = find_images(paths)
    for path, reason in skipped:
        if reason in (NOT_FOLLOWED, PARTIAL) or (path.is_file() and not is_image_name(path)):
            result.ignored.append((path, reason))
        else:
            result.failed.append((path, reason))
    named = {_key(path) for path in paths}
    files, seen = [], set()
    for path in found:
        if _key(path) in seen:  # b.jpg and /abs/b.jpg: one input
            continue
        seen.add(_key(path))
        if _key(path) not in named and is_own_output(path, suffix):
            result.ignored.append((path, "an earlier output of colorize (name it to colorize it)"))
        else:
            files.append(path)
    single = len(paths) == 1 and not paths[0].is_dir()
    targets = output_paths(files, [p for p in paths if p.is_dir()], output, suffix, single)

    def written_by(path):
        return [targets[path], compare_path_for(targets[path], suffix)] if compare else [targets[path]]

    producer = {_key(out): path for path in files for out in written_by(path)}
    own_outputs = {path for path in files if producer.get(_key(path), path) != path}
    for path in own_outputs:
        log.info("not colorizing %s: it is the output of %s", path, producer[_key(path)])
    inputs = {_key(path): path for path in files if path not in own_outputs}
    jobs, claimed = [], {}
    for path in files:
        if path in own_outputs:
            continue
        target = targets[path]
        clash = next((inputs[_key(out)] for out in written_by(path) if _key(out) in inputs), None)
        if clash is not None:
            result.failed.append((path, f"its output would replace the input {clash}; choose another -o"))
        elif _key(target) in claimed:
            result.failed.append((path, f"its output {target} is also that of {claimed[_key(target)]}; use another -o"))
        elif target.is_dir():
            result.failed.append((path, f"its output {target} is a folder, not a file; move it or choose another -o"))
        elif target.exists() and not overwrite:
            claimed[_key(target)] = path
            result.skipped.append((path, target))
        else:
            claimed[_key(target)] = path
            jobs.append((path, target))
    return jobs


def shard_of(keys: list[str], shard: tuple[int, int]) -> set[str]:
    """The keys in share ``k`` of ``n`` (``shard = (k, n)``, 1 <= k <= n): every n-th of the sorted
    keys from the k-th on. The same listing always gives the same shares, they never overlap,
    and together they hold every key once (Slurm arrays, Kubernetes indexed jobs).

    Raises:
        ValueError: k outside 1..n.

    Example:
        >>> sorted(shard_of(["c", "a", "b", "d"], (2, 2)))
        ['b', 'd']
    """
    index, count = shard
    if not 1 <= index <= count:
        raise ValueError(f"shard must be K/N with 1 <= K <= N. Received: shard={index}/{count}")
    return {key for position, key in enumerate(sorted(set(keys))) if position % count == index - 1}


def _keep_shard(jobs: list, result: "PredictResult", shard: tuple[int, int]) -> list:
    """The jobs (and the kept outputs and failures in ``result``) of one shard of the sorted input files."""
    mine = shard_of([_key(path) for path, _ in [*jobs, *result.skipped, *result.failed]], shard)
    result.skipped[:] = [item for item in result.skipped if _key(item[0]) in mine]
    result.failed[:] = [item for item in result.failed if _key(item[0]) in mine]
    return [job for job in jobs if _key(job[0]) in mine]


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))
