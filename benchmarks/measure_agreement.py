"""How often a measure picks the judges' winner, on the pairs of blind studies where the judges agree.

  python benchmarks/measure_agreement.py STUDY_DIR [STUDY_DIR ...]

STUDY_DIR holds ``key.json`` (from ``blind_pairs.py make``) and ``judge*.csv`` verdicts; the
two folders the key names must still hold the images. A pair counts when every judge chose
the same side (no ties); the measure then "agrees" when the judged winner has the lower
blotchiness (:func:`colorize.measures.blotchiness`, on each image's own L and a*b*). Where
both images measure the same, the measure cannot tell them apart: such a pair counts as
half, and how many there were is printed. Studies against the real photo (a folder named
``truth``) are left out of the pooled lines: they ask whether a colorization passes for a
real photo, which a blotch number cannot answer (the real photo has more colour and so more
colour changes than a calm colorization). The last pooled line keeps the pairs where at
least two judges' reasons name a blotch (blotch, smear, bleed, patch, halo, stain, ...).
"""

import csv
import json
import pathlib
import re
import sys

import numpy as np
from PIL import Image

from colorize import measures
from colorize.color import np_ops

EXTENSIONS = (".png", ".jpg", ".jpeg")
BLOTCH_WORDS = re.compile(r"blotch|smear|bleed|patch|splotch|halo|spot|stain|mottl|speck", re.IGNORECASE)


def _image(folder: pathlib.Path, name: str) -> pathlib.Path:
    for candidate in sorted(folder.iterdir()):
        stem = candidate.stem.removesuffix("_colorized")
        if stem == name and candidate.suffix.lower() in EXTENSIONS:
            return candidate
    raise FileNotFoundError(f"{name} not in {folder}")


def _blotchiness(path: pathlib.Path) -> float:
    rgb = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0
    lab = np_ops.rgb_to_lab(rgb)
    return measures.blotchiness(lab[..., 0], lab[..., 1:])


def agreement(study: pathlib.Path) -> list[tuple[float, bool]]:
    """(agreement: 1, 0 or 0.5 where the measure scores both the same; reasons name a blotch) per agreed pair."""
    key = json.loads((study / "key.json").read_text())
    verdicts = [{int(row["pair"]): (row["choice"].strip(), row.get("reason") or "") for row in csv.DictReader(open(path))}
                for path in sorted(study.glob("judge*.csv"))]  # fmt: skip
    results = []
    for pair in key["pairs"]:
        votes = [verdict.get(pair["pair"], (None, "")) for verdict in verdicts]
        choices = {choice for choice, _ in votes}
        if len(choices) != 1 or choices & {"tie", None}:
            continue
        winner_is_a = choices.pop() == pair["dir_a_side"]
        a = _blotchiness(_image(pathlib.Path(key["dir_a"]), pair["name"]))
        b = _blotchiness(_image(pathlib.Path(key["dir_b"]), pair["name"]))
        agree = 0.5 if a == b else float((a < b) == winner_is_a)
        results.append((agree, sum(bool(BLOTCH_WORDS.search(reason)) for _, reason in votes) >= 2))
    return results


def _line(label: str, results: list[tuple[float, bool]]) -> str:
    agree = sum(value for value, _ in results)
    equal = sum(value == 0.5 for value, _ in results)
    return (f"{label}: blotchiness picks the judges' winner in {agree:g}/{len(results)} agreed pairs "
            f"({100 * agree / max(len(results), 1):.0f} %; {equal} measure the same, counted half)")


if __name__ == "__main__":
    pooled = []
    for folder in sys.argv[1:]:
        results = agreement(pathlib.Path(folder))
        print(_line(folder, results))
        if "truth" not in json.loads((pathlib.Path(folder) / "key.json").read_text())["dir_b"]:
            pooled += results
    if len(sys.argv) > 2:
        print(_line("pooled, two colorizations", pooled))
        print(_line("pooled, two colorizations, the reasons name a blotch", [r for r in pooled if r[1]]))
