"""Would another blotch number agree with the judges more often? Three candidates, side by side.

  python benchmarks/blotch_variants.py STUDY_DIR [STUDY_DIR ...]   # from the folder the studies were made in

For each two-colorization study whose images are still where its key says (``dir_a``,
``dir_b``), on the pairs every judge gave to the same side, how often each number is lower on
the judged winner (an equal number counts half):

* ``blotchiness``: the shipped measure, the share of flat pixel pairs whose a*b* step is over
  :data:`colorize.measures.JUMP_AB` (:func:`colorize.measures.blotchiness`);
* ``mean step``: the mean a*b* step across the same flat pairs (no threshold: faint and strong
  patches count by their size);
* ``chroma``: the mean chroma of the whole image (a calmer image wins), a control: a measure
  that any gray image wins, so a blotch number must do better than it to mean anything.

A last line keeps the pairs where ``blotchiness`` and ``chroma`` point to different sides (the
less blotchy image is the more colourful one): only there can a blotch number tell the judges
something "less colour wins" does not.

Studies against the real photo are passed over (a calm colorization always has fewer steps
than the truth).
"""

import pathlib
import sys

import numpy as np

from colorize import measures
from colorize.color import np_ops
from colorize import study as studies


def lab_of(path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
    lab = np_ops.rgb_to_lab(np.asarray(studies._open_rgb(path), np.float32) / 255.0)
    return lab[..., 0], lab[..., 1:]


def numbers(path: pathlib.Path) -> dict[str, float]:
    lightness, ab = lab_of(path)
    steps = measures.flat_pair_steps(lightness, ab)
    return {
        "blotchiness": measures.blotchiness(lightness, ab),
        "mean step": float(steps.mean()) if steps.size else 0.0,
        "chroma": float(np.linalg.norm(ab, axis=-1).mean()),
    }


def study_agreement(folder: pathlib.Path) -> dict[str, list[float]] | None:
    key = studies.read_key(folder)
    if "truth" in key["dir_b"] or not all(pathlib.Path(key[side]).is_dir() for side in ("dir_a", "dir_b")):
        return None
    listings = [studies._listing(pathlib.Path(key[side])) for side in ("dir_a", "dir_b")]
    verdicts = [studies.read_answers(path) for path in sorted(folder.glob("judge*.csv"))]
    choices = studies.choices_of(key, verdicts)
    agreement: dict[str, list[float]] = {}
    for pair, a_won in studies.agreed_pairs(key, choices, len(verdicts)):
        first, second = (numbers(listing[pair["name"]]) for listing in listings)
        for name in first:
            value = 0.5 if first[name] == second[name] else float((first[name] < second[name]) == a_won)
            agreement.setdefault(name, []).append(value)
        opposed = (first["blotchiness"] - second["blotchiness"]) * (first["chroma"] - second["chroma"]) < 0
        agreement.setdefault("opposed", []).append(float(opposed))
    return agreement


if __name__ == "__main__":
    pooled: dict[str, list[float]] = {}
    names = ("blotchiness", "mean step", "chroma")
    print(f"{'study':28} {'pairs':>5} " + " ".join(f"{name:>12}" for name in names))
    for folder in map(pathlib.Path, sys.argv[1:]):
        result = study_agreement(folder)
        if result is None:
            print(f"{folder.name:28} (against the truth, or its images are not here: passed over)")
            continue
        pairs = len(next(iter(result.values()), []))
        print(f"{folder.name:28} {pairs:5} " + " ".join(f"{100 * np.mean(result[n]):11.0f}%" for n in names))
        for name in (*names, "opposed"):
            pooled.setdefault(name, []).extend(result.get(name, []))
    if pooled:
        pairs = len(pooled["blotchiness"])
        print(f"{'pooled':28} {pairs:5} " + " ".join(f"{100 * np.mean(pooled[n]):11.1f}%" for n in names))
        opposed = np.asarray(pooled["opposed"], bool)
        print(f"{'pooled, blotch and chroma opposed':28} {int(opposed.sum()):5} "
              + " ".join(f"{100 * np.mean(np.asarray(pooled[n])[opposed]):11.1f}%" for n in names))
