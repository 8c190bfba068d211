"""How often a measure picks the judges' winner, on the pairs of a blind study where the judges agree.

  python benchmarks/measure_agreement.py STUDY_DIR [STUDY_DIR ...]

STUDY_DIR holds ``key.json`` (from ``blind_pairs.py make``) and ``judge*.csv`` verdicts; the
two folders the key names must still hold the images. A pair counts when every judge chose
the same side (no ties); the measure then "agrees" when the judged winner has the lower
blotchiness (:func:`colorize.measures.blotchiness`, on each image's own L and a*b*).
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


def agreement(study: pathlib.Path) -> tuple[int, int]:
    key = json.loads((study / "key.json").read_text())
    verdicts = [{int(row["pair"]): row["choice"].strip() for row in csv.DictReader(open(path))}
                for path in sorted(study.glob("judge*.csv"))]  # fmt: skip
    agreed = agree = 0
    for pair in key["pairs"]:
        choices = {verdict.get(pair["pair"]) for verdict in verdicts}
        if len(choices) != 1 or choices & {"tie", None}:
            continue
        winner_is_a = choices.pop() == pair["dir_a_side"]
        a = _blotchiness(_image(pathlib.Path(key["dir_a"]), pair["name"]))
        b = _blotchiness(_image(pathlib.Path(key["dir_b"]), pair["name"]))
        agreed += 1
        agree += (a < b) == winner_is_a
    return agree, agreed


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        agree, agreed = agreement(pathlib.Path(folder))
        print(f"{folder}: blotchiness picks the judges' winner in {agree}/{agreed} agreed pairs "
              f"({100 * agree / max(agreed, 1):.0f} %)")
