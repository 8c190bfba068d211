"""How often the blotch number picks the judges' winner, on the pairs of blind studies where the judges agree.

  colorize study measure STUDY_DIR     # once, while the images the key names are still there
  python benchmarks/measure_agreement.py STUDY_DIR [STUDY_DIR ...]

STUDY_DIR holds ``key.json`` and the judges' ``judge*.csv``. The numbers come from the key
(each pair's ``blotchiness``, :func:`colorize.measures.blotchiness` on each image's own L and
a*b*, kept by ``colorize study make`` or ``colorize study measure``), so the check runs from a
clone without the images; a study whose key has no measures is named and left out. A pair
counts when every judge chose the same side (no ties); the measure "agrees" when the judged
winner has the lower blotchiness (an equal measure counts half: :func:`colorize.study.blotch_agreement`).
Studies against the real photo (a folder named ``truth``) are left out of the pooled lines:
they ask whether a colorization passes for a real photo, which a blotch number cannot answer
(the real photo has more colour and so more colour changes than a calm colorization). The
pooled lines then keep the pairs where at least two judges' reasons name a blotch (blotch,
smear, bleed, patch, halo, stain, ...), and split the pairs by how far apart their two images
are (the key's ``difference``, :func:`colorize.measures.colour_difference`, mean a*b* units;
keys measured before it was kept are left out of those lines): judges also agree on
near-identical pairs, and there no number of the images can pick their winner.
"""

import pathlib
import re
import sys
from typing import NamedTuple

from colorize import study as studies

BLOTCH_WORDS = re.compile(r"blotch|smear|bleed|patch|splotch|halo|spot|stain|mottl|speck", re.IGNORECASE)


#: The bands (lower bounds, mean a*b* units) the pooled pairs are split into by their ``difference``.
DIFFERENCE_BANDS = (0.0, 1.0, 3.0, 6.0)

#: The confidence (1-3) every judge of a pair must have given for the "sure" line.
SURE = 2


class Agreed(NamedTuple):
    """One pair all the judges agreed on."""

    agrees: float  # 1 where the less blotchy side won, 0 where it lost, 0.5 where both measure the same
    named: bool  # at least two judges' reasons name a blotch
    difference: float | None  # the key's mean a*b* distance between the two sides, where measured
    sure: bool  # every judge gave a confidence of SURE or more


def agreement(study: pathlib.Path) -> tuple[list[Agreed], list[float]] | None:
    """Each agreed pair, and the difference of every pair the key has one for; None without measures."""
    key = studies.read_key(study)
    if not all("blotchiness" in pair for pair in key["pairs"]):
        return None
    verdicts = [studies.read_answers(path) for path in sorted(study.glob("judge*.csv"))]
    choices = studies.choices_of(key, verdicts)
    results = []
    for pair, a_won in studies.agreed_pairs(key, choices, len(verdicts)):
        named = sum(bool(BLOTCH_WORDS.search(verdict[pair["pair"]]["reason"])) for verdict in verdicts) >= 2
        sure = all(_confidence(verdict[pair["pair"]]) >= SURE for verdict in verdicts)
        results.append(Agreed(studies.pair_agreement(pair, a_won), named, pair.get("difference"), sure))
    return results, [pair["difference"] for pair in key["pairs"] if "difference" in pair]


def _confidence(answer: dict) -> int:
    """A judge's confidence in a pair, 0 where not given as a number."""
    try:
        return int(answer["confidence"])
    except ValueError:
        return 0


def _line(label: str, results: list[Agreed]) -> str:
    agree = sum(result.agrees for result in results)
    equal = sum(result.agrees == 0.5 for result in results)
    return (f"{label}: blotchiness picks the judges' winner in {agree:g}/{len(results)} agreed pairs "
            f"({100 * agree / max(len(results), 1):.0f} %; {equal} measure the same, counted half)")


if __name__ == "__main__":
    pooled, differences, unmeasured = [], [], []
    for folder in map(pathlib.Path, sys.argv[1:]):
        measured = agreement(folder)
        if measured is None:
            unmeasured.append(folder.name)
            continue
        results, apart = measured
        print(_line(str(folder), results))
        if "truth" not in studies.read_key(folder)["dir_b"]:
            pooled += results
            differences += apart
    if len(sys.argv) > 2:
        print(_line("pooled, two colorizations", pooled))
        print(_line("pooled, two colorizations, the reasons name a blotch", [r for r in pooled if r.named]))
        bounds = (*DIFFERENCE_BANDS, float("inf"))
        for low, high in zip(bounds, bounds[1:]):
            band = [r for r in pooled if r.difference is not None and low <= r.difference < high]
            label = f"{low:g} and over" if high == float("inf") else f"{low:g} to {high:g}"
            shown = sum(low <= difference < high for difference in differences)
            print(_line(f"pooled, two colorizations {label} a*b* units apart (the judges agreed on "
                        f"{len(band)} of {shown} pairs)", band))
        print(_line(f"pooled, two colorizations, every judge sure (confidence {SURE} or more)", [r for r in pooled if r.sure]))
    if unmeasured:
        print(f"no measures in the key (colorize study measure, while the images exist): {', '.join(unmeasured)}")
