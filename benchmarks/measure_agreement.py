"""How often a measure picks the judges' winner, on the pairs of a blind study where the judges agree.

  python benchmarks/measure_agreement.py STUDY_DIR [STUDY_DIR ...]

STUDY_DIR holds ``key.json`` (from ``blind_pairs.py make``) and ``judge*.csv`` verdicts; the
two folders the key names must still hold the images. A pair counts when every judge chose
the same side (no ties); the measure then "agrees" when the judged winner has the lower
blotchiness (:func:`colorize.measures.blotchiness`, on each image's own L and a*b*). Where
both images measure the same (two calm colorizations often both score 0), the measure
cannot tell them apart: such a pair counts as half, and how many there were is printed.
"""

import csv
import json
import pathlib
import sys

import numpy as np
from PIL import Image

from colorize import measures
from colorize.color import np_ops

EXTENSIONS = (".png", ".jpg", ".jpeg")


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


def agreement(study: pathlib.Path) -> tuple[float, int, int]:
    """(agreements, agreed pairs, pairs the measure scores equal) of one study; an equal pair counts half."""
    key = json.loads((study / "key.json").read_text())
    verdicts = [{int(row["pair"]): row["choice"].strip() for row in csv.DictReader(open(path))}
                for path in sorted(study.glob("judge*.csv"))]  # fmt: skip
    agreed = equal = 0
    agree = 0.0
    for pair in key["pairs"]:
        choices = {verdict.get(pair["pair"]) for verdict in verdicts}
        if len(choices) != 1 or choices & {"tie", None}:
            continue
        winner_is_a = choices.pop() == pair["dir_a_side"]
        a = _blotchiness(_image(pathlib.Path(key["dir_a"]), pair["name"]))
        b = _blotchiness(_image(pathlib.Path(key["dir_b"]), pair["name"]))
        agreed += 1
        if a == b:
            equal += 1
            agree += 0.5
        else:
            agree += (a < b) == winner_is_a
    return agree, agreed, equal


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        agree, agreed, equal = agreement(pathlib.Path(folder))
        print(f"{folder}: blotchiness picks the judges' winner in {agree:g}/{agreed} agreed pairs "
              f"({100 * agree / max(agreed, 1):.0f} %; {equal} pairs measure the same, counted half)")
