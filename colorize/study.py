"""Blind preference studies: two colorizers' outputs in shuffled pairs, raters' answers, the score.

A study folder (``make_study``) holds::

    sheets/sheet_NN.png   numbered pairs for judges who only see images (pair N: A left, B right)
    sheets/BRIEF.md       what a judge is asked, and the CSV to write
    pairs/NNN_A.png       each pair's two sides as separate images, for ``colorize serve --study``
    pairs/NNN_B.png
    answers/RATER.csv     each rater's answers: pair,choice,confidence,reason (choice A, B or tie)
    key.json              which side shows DIR_A's image: never shown to a rater; each pair's
                          ``blotchiness`` [DIR_A's, DIR_B's] and the ``difference`` between
                          the two (``colorize.measures``), kept with the verdicts so the
                          number can be checked against them once the images are gone

Which program is on which side is drawn per pair, so a rater cannot learn a side. The
score (``score_study``) is the share of answers that prefer DIR_A, ties counted half, with
a 95 % Wilson interval, per rater, pooled and per group of photos (the file name's prefix), and a
pooled interval with the photos resampled; where the key holds the measures, how often the
less blotchy side is the one every rater chose (``blotch_agreement``). The format is that of the project's judging
kit (``blind_pairs.py``): its judges' CSVs and key read here.

Example:
    >>> made = make_study("out/default", "out/vivid", "study")  # doctest: +SKIP
    >>> record_answer("study", "alice", 1, "A")  # doctest: +SKIP
    >>> score_study("study").pooled.share  # doctest: +SKIP
    1.0
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import random
import re
from pathlib import Path

from colorize.errors import ColorizeError
from colorize.io.files import atomic_write_bytes, find_images

CHOICES = ("A", "B", "tie")
ANSWER_FIELDS = ("pair", "choice", "confidence", "reason")
RATER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
PAIR_MAX_SIDE = 1024  # the page's images: large enough to judge, small enough to load at once
_OUTPUT_ENDINGS = ("_colorized", "_colorised", "-colorized", "_color")

BRIEF = """Blind judging. This folder holds sheet_01.png .. sheet_{last:02d}.png with {count} numbered pairs (pair N A
on the left, pair N B on the right). In each pair both images are automatic colorizations of the same
black-and-white photograph by two different programs; which program is on which side is random.

For every pair, look at both images and decide which one looks more like a real colour photograph a
person would be happy to keep: natural, plausible colours; no blotches, smears or colour bleeding across
edges; skin, sky, foliage, clothing and materials believable; not washed out, not garish. Do not reward
mere vividness or mere safety. If they are truly equal say "tie" (sparingly).

Write CSV lines: pair,choice,confidence,reason (choice A/B/tie; confidence 1-3; reason at most 12 words).
Judge by looking only; open no other file.
"""


class StudyError(ColorizeError):
    """A study folder, its key or an answer is missing or malformed; the message says which."""


@dataclasses.dataclass(frozen=True)
class Preference:
    """How often DIR_A was preferred: ``preferred`` of ``count`` answers (ties count half).

    ``left`` is the share of the non-tie answers that chose the left side (A), whichever
    program it showed: the sides are drawn at random, so a rater far from 0.5 leans on
    position, which the drawn sides cancel but which adds noise (None where every answer is a tie).
    """

    rater: str
    preferred: float
    count: int
    low: float
    high: float
    left: float | None = None

    @property
    def share(self) -> float:
        return self.preferred / self.count if self.count else 0.0


@dataclasses.dataclass(frozen=True)
class StudyScore:
    """Per-rater preferences for DIR_A and the pooled one (every answer counted once)."""

    dir_a: str
    dir_b: str
    raters: list[Preference]
    pooled: Preference
    #: The pooled share's 95 % interval with the photos resampled (a percentile bootstrap over
    #: pairs, each keeping all its raters' answers), never narrower than ``pooled``'s Wilson
    #: interval (a bootstrap collapses where every answer is the same): wider where raters agree.
    by_photo: tuple[float, float] = (0.0, 0.0)
    #: The pooled preference per group of photos: the file name's part before its first ``_``
    #: (``old_1920Street`` -> ``old``; names without one are in no group), in name order.
    groups: list[Preference] = dataclasses.field(default_factory=list)
    #: On the pairs every rater answered with one side (no tie): (agreeing, pairs), where
    #: the less blotchy side agrees (an equal measure counts half); None without measures.
    blotch_agreement: tuple[float, int] | None = None


def output_stem(path: str | os.PathLike) -> str:
    """The name a colorizer's output shares with its source (``photo_colorized.png`` -> ``photo``)."""
    stem = Path(path).stem
    for ending in _OUTPUT_ENDINGS:
        if stem.endswith(ending):
            return stem[: -len(ending)]
    return stem


def _listing(folder: Path) -> dict[str, Path]:
    files, _ = find_images([folder])
    listing: dict[str, Path] = {}
    for path in files:
        listing.setdefault(output_stem(path), path)
    return listing


def make_study(
    dir_a: str | os.PathLike,
    dir_b: str | os.PathLike,
    output: str | os.PathLike,
    seed: int = 0,
    sheet_height: int = 420,
    per_sheet: int = 2,
) -> list[dict]:
    """Write a blind study of DIR_A against DIR_B: shuffled pairs, sheets, and the key apart.

    Files pair up by name (``photo.png`` with ``photo_colorized.png``). The order of the
    pairs and the side each program takes are drawn from ``seed``.

    Args:
        dir_a: one program's outputs (the score is how often these are preferred).
        dir_b: the other program's outputs, with the same names.
        output: the study folder; it must not exist yet, or be empty.
        seed: the shuffle's seed (the same seed gives the same study).
        sheet_height: each image's height on the sheets, in pixels.
        per_sheet: pairs per sheet.

    Returns:
        The key: ``{"pair", "name", "dir_a_side", "blotchiness", "difference"}`` for every
        pair, in pair order (``blotchiness``: DIR_A's image's, DIR_B's; ``difference``: the
        mean a*b* distance between the two).

    Raises:
        StudyError: the folders share no names, or ``output`` holds files already.

    Example:
        >>> key = make_study("out/default", "out/vivid", "study", seed=1)  # doctest: +SKIP
    """
    from PIL import Image

    dir_a, dir_b, output = Path(dir_a), Path(dir_b), Path(output)
    listing_a, listing_b = _listing(dir_a), _listing(dir_b)
    names = sorted(set(listing_a) & set(listing_b))
    if not names:
        raise StudyError(f"{dir_a} and {dir_b} have no image names in common (photo.png pairs with photo_colorized.png)")
    if output.exists() and any(output.iterdir()):
        raise StudyError(f"{output} is not empty; pass a new folder for the study")
    rng = random.Random(seed)
    rng.shuffle(names)
    for folder in ("sheets", "pairs", "answers"):
        (output / folder).mkdir(parents=True, exist_ok=True)
    key, rows = [], []
    for number, name in enumerate(names, start=1):
        a_left = rng.random() < 0.5
        left, right = (listing_a[name], listing_b[name]) if a_left else (listing_b[name], listing_a[name])
        shown = [_open_rgb(left), _open_rgb(right)]
        for side, image in zip("AB", shown):
            atomic_write_bytes(output / "pairs" / f"{number:03d}_{side}.png", _png(_fit_within(image)))
        rows.append(_sheet_row(number, shown, sheet_height))
        measured = _measured_pair(*shown) if a_left else _measured_pair(*shown[::-1])
        key.append({"pair": number, "name": name, "dir_a_side": "A" if a_left else "B", **measured})
    sheets = [rows[start : start + per_sheet] for start in range(0, len(rows), per_sheet)]
    for index, sheet_rows in enumerate(sheets, start=1):
        sheet = Image.new("RGB", (max(row.width for row in sheet_rows), sum(row.height + 10 for row in sheet_rows)),
                          "white")  # fmt: skip
        top = 0
        for row in sheet_rows:
            sheet.paste(row, (0, top))
            top += row.height + 10
        atomic_write_bytes(output / "sheets" / f"sheet_{index:02d}.png", _png(sheet))
    brief = BRIEF.format(last=len(sheets), count=len(names))
    atomic_write_bytes(output / "sheets" / "BRIEF.md", brief.encode("utf-8"))
    document = {"dir_a": str(dir_a), "dir_b": str(dir_b), "seed": seed, "pairs": key}
    atomic_write_bytes(output / "key.json", (json.dumps(document, indent=1) + "\n").encode("utf-8"))
    return key


def _measured_pair(first, second) -> dict:
    """The key's measures of one pair of RGB images (PIL): each side's
    :func:`colorize.measures.blotchiness` on its own L and a*b*, and how far apart the two are
    (:func:`colorize.measures.colour_difference`)."""
    import numpy as np

    from colorize import measures
    from colorize.color import np_ops

    labs = [np_ops.rgb_to_lab(np.asarray(image, np.float32) / 255.0) for image in (first, second)]
    return {"blotchiness": [round(measures.blotchiness(lab[..., 0], lab[..., 1:]), 4) for lab in labs],
            "difference": round(measures.colour_difference(labs[0][..., 1:], labs[1][..., 1:]), 3)}  # fmt: skip


def record_measures(study: str | os.PathLike) -> dict:
    """Measure every pair's two images in the key's DIR_A and DIR_B and keep the numbers in ``key.json``.

    For studies made without them (the judging kit's ``blind_pairs.py``), while the images
    are still there. Returns the updated key.

    Raises:
        StudyError: no key, or a folder or an image the key names is missing.
    """
    key = read_key(study)
    listings = []
    for folder in (key["dir_a"], key["dir_b"]):
        if not Path(folder).is_dir():
            raise StudyError(f"{folder} (named in {Path(study) / 'key.json'}) is not a folder here; "
                             f"run from the folder the study was made in")  # fmt: skip
        listings.append(_listing(Path(folder)))
    for pair in key["pairs"]:
        paths = [listing.get(pair["name"]) for listing in listings]
        for folder, path in zip((key["dir_a"], key["dir_b"]), paths):
            if path is None:
                raise StudyError(f"{pair['name']} (pair {pair['pair']}) is not in {folder}")
        pair.update(_measured_pair(*map(_open_rgb, paths)))
    atomic_write_bytes(Path(study) / "key.json", (json.dumps(key, indent=1) + "\n").encode("utf-8"))
    return key


def _open_rgb(path: Path):
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")  # re-encoded below: no metadata travels


def _fit_within(image, side: int = PAIR_MAX_SIDE):
    from PIL import Image

    scale = side / max(image.size)
    if scale >= 1:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)


def _sheet_row(number: int, shown, height: int):
    from PIL import Image, ImageDraw

    fitted = [image.resize((max(1, round(image.width * height / image.height)), height), Image.LANCZOS)
              for image in shown]  # fmt: skip
    left, right = fitted
    row = Image.new("RGB", (left.width + right.width + 30, height + 24), "white")
    row.paste(left, (0, 24))
    row.paste(right, (left.width + 30, 24))
    draw = ImageDraw.Draw(row)
    draw.text((4, 4), f"pair {number}  A", fill="black")
    draw.text((left.width + 34, 4), f"pair {number}  B", fill="black")
    return row


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def read_key(study: str | os.PathLike) -> dict:
    """The study's key (``key.json``): ``dir_a``, ``dir_b`` and ``pairs``."""
    path = Path(study) / "key.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        document["pairs"] = [{**pair, "pair": int(pair["pair"])} for pair in document["pairs"]]
    except FileNotFoundError:
        raise StudyError(f"{path} not found; is {study} a folder written by `colorize study make`?") from None
    except (ValueError, KeyError, TypeError) as error:
        raise StudyError(f"{path} is not a study key ({error})") from None
    return document


def pair_numbers(study: str | os.PathLike) -> list[int]:
    """The study's pair numbers, in the order they are shown, read from ``pairs/`` (not the key)."""
    names = (path.name.split("_")[0] for path in (Path(study) / "pairs").glob("*_A.png"))
    return sorted({int(name) for name in names if name.isdigit()})


def check_rater(rater: str) -> str:
    """``rater`` if it makes a safe file name (letters, digits, ``._-``; up to 40), else ValueError."""
    if not RATER_PATTERN.match(rater or ""):
        raise ValueError(f"a rater's name is 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit; "
                         f"Received: rater={rater!r}")  # fmt: skip
    return rater


def answers_path(study: str | os.PathLike, rater: str) -> Path:
    return Path(study) / "answers" / f"{check_rater(rater)}.csv"


def read_answers(path: str | os.PathLike) -> dict[int, dict]:
    """A rater's CSV (pair,choice,confidence,reason) as ``{pair: row}``; a later line for a pair wins.

    Lines without a pair number (a header, a note) are passed over; ``choice`` is normalised
    to ``A``, ``B`` or ``tie``, and a line with any other choice is passed over.
    """
    answers: dict[int, dict] = {}
    with open(path, newline="", encoding="utf-8") as stream:
        for row in csv.reader(stream):
            if len(row) < 2:
                continue
            try:
                pair = int(row[0])
            except ValueError:
                continue
            choice = _normalised_choice(row[1])
            if choice is None:
                continue
            answers[pair] = {"pair": pair, "choice": choice, "confidence": (row[2] if len(row) > 2 else "").strip(),
                             "reason": ",".join(row[3:]).strip()}  # fmt: skip
    return answers


def _normalised_choice(value: str) -> str | None:
    value = value.strip()
    if value.lower() == "tie" or value.upper() == "T":
        return "tie"
    return value.upper() if value.upper() in ("A", "B") else None


def record_answer(study: str | os.PathLike, rater: str, pair: int, choice: str) -> Path:
    """Record (or replace) ``rater``'s answer for ``pair``; the CSV is rewritten atomically.

    Callers that record from several threads hold one lock around this (the CSV is read,
    changed and replaced). Returns the CSV's path.
    """
    normalised = _normalised_choice(str(choice))
    if normalised is None:
        raise ValueError(f"choice must be one of {', '.join(CHOICES)}; Received: choice={choice!r}")
    if int(pair) not in pair_numbers(study):
        raise ValueError(f"the study has no pair {pair}")
    path = answers_path(study, rater)
    answers = read_answers(path) if path.exists() else {}
    answers[int(pair)] = {"pair": int(pair), "choice": normalised, "confidence": "", "reason": ""}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ANSWER_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(answers[number] for number in sorted(answers))
    return atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))


def wilson_interval(successes: float, count: float, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % for z = 1.96); (0, 0) for no answers.

    Example:
        >>> [round(bound, 3) for bound in wilson_interval(5, 10)]
        [0.237, 0.763]
    """
    if count == 0:
        return (0.0, 0.0)
    share = successes / count
    centre = (share + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(share * (1 - share) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _points(answer: dict, sides: dict[int, str]) -> float:
    """What one answer gives DIR_A: 1 for its side, 1/2 for a tie, 0 for DIR_B's side."""
    return 0.5 if answer["choice"] == "tie" else float(answer["choice"] == sides[answer["pair"]])


def _preference(label: str, answers: list[dict], sides: dict[int, str]) -> Preference:
    """The :class:`Preference` of ``answers`` (rows of :func:`read_answers`) for DIR_A."""
    preferred = sum(_points(answer, sides) for answer in answers)
    decided = [answer["choice"] for answer in answers if answer["choice"] != "tie"]
    left = decided.count("A") / len(decided) if decided else None
    return Preference(label, preferred, len(answers), *wilson_interval(preferred, len(answers)), left=left)


def _resampled_by_photo(answers: list[dict], sides: dict[int, str], resamples: int = 2000) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the pooled share, pairs drawn with replacement (seeded)."""
    import numpy as np

    pairs = sorted({answer["pair"] for answer in answers})
    index = {pair: position for position, pair in enumerate(pairs)}
    preferred, count = np.zeros(len(pairs)), np.zeros(len(pairs))
    for answer in answers:
        position = index[answer["pair"]]
        preferred[position] += _points(answer, sides)
        count[position] += 1
    draws = np.random.default_rng(0).integers(0, len(pairs), size=(resamples, len(pairs)))
    shares = preferred[draws].sum(axis=1) / count[draws].sum(axis=1)
    low, high = np.percentile(shares, [2.5, 97.5])
    return (float(low), float(high))


def score_study(study: str | os.PathLike, extra_answers=()) -> StudyScore:
    """How often DIR_A was preferred, per rater (each CSV of ``answers/`` and ``extra_answers``), pooled
    and per group of photos.

    An answer for DIR_A's side counts 1, a tie 1/2, DIR_B's side 0; answers for pairs the
    key does not hold are passed over. The pooled Wilson interval treats every answer as
    independent (raters who agree with each other make it too narrow); ``by_photo``
    resamples the photos instead, so a decision can rest on it.

    Raises:
        StudyError: no key, or no answers at all.
    """
    key = read_key(study)
    sides = {pair["pair"]: pair["dir_a_side"] for pair in key["pairs"]}
    names = {pair["pair"]: str(pair.get("name", "")) for pair in key["pairs"]}
    files = sorted((Path(study) / "answers").glob("*.csv")) + [Path(path) for path in extra_answers]
    raters, everything, choices = [], [], {}
    for path in files:
        answers = [answer for pair, answer in read_answers(path).items() if pair in sides]
        raters.append(_preference(path.stem, answers, sides))
        everything += answers
        for answer in answers:
            choices.setdefault(answer["pair"], []).append(answer["choice"])
    if not everything:
        raise StudyError(f"no answers yet in {Path(study) / 'answers'} (or the CSVs given)")
    pooled, by_photo, groups = _pooled(everything, sides, names)
    agreement = blotch_agreement(key, choices, len(files))
    return StudyScore(key["dir_a"], key["dir_b"], raters, pooled, by_photo, groups, agreement)


def _pooled(answers: list[dict], sides: dict[int, str], names: dict[int, str]):
    """Every answer pooled: its :class:`Preference`, the interval resampled by photo (never
    narrower than the Wilson one) and one preference per group of photos (name prefixes)."""
    grouped: dict[str, list[dict]] = {}
    for answer in answers:
        prefix, underscore, _ = names[answer["pair"]].partition("_")
        if underscore:
            grouped.setdefault(prefix, []).append(answer)
    pooled = _preference("pooled", answers, sides)
    low, high = _resampled_by_photo(answers, sides)
    groups = [_preference(group, grouped[group], sides) for group in sorted(grouped)]
    return pooled, (min(low, pooled.low), max(high, pooled.high)), groups


def pool_studies(studies) -> StudyScore:
    """Several studies of one comparison on different photos, scored as one: every answer once.

    Each study's answers are the CSVs in its ``answers/`` folder and those beside its key
    (where ``benchmarks/studies`` keeps the judging kit's verdicts). ``raters`` holds each
    study's own pooled preference (labelled with its folder's name); ``by_photo`` resamples
    the photos of all of them together (a photo of two studies counts as two).

    Raises:
        StudyError: a study without a key or without answers.
    """
    everything, sides, names, per_study = [], {}, {}, []
    keys = [read_key(study) for study in studies]
    for number, (study, key) in enumerate(zip(studies, keys)):
        offset = number * 1_000_000  # a pair number unique over the studies
        study_sides = {offset + pair["pair"]: pair["dir_a_side"] for pair in key["pairs"]}
        sides.update(study_sides)
        names.update({offset + pair["pair"]: str(pair.get("name", "")) for pair in key["pairs"]})
        files = sorted((Path(study) / "answers").glob("*.csv")) + sorted(Path(study).glob("*.csv"))
        answers = [dict(answer, pair=offset + pair) for path in files
                   for pair, answer in read_answers(path).items() if offset + pair in study_sides]  # fmt: skip
        if not answers:
            raise StudyError(f"no answers in {study} (its answers/ folder or CSVs beside its key)")
        per_study.append(_preference(Path(study).name, answers, sides))
        everything += answers
    pooled, by_photo, groups = _pooled(everything, sides, names)
    return StudyScore(keys[0]["dir_a"], keys[0]["dir_b"], per_study, pooled, by_photo, groups)


def choices_of(key: dict, verdicts: list[dict[int, dict]]) -> dict[int, list[str]]:
    """Each key pair's choices, one per rater's verdicts (:func:`read_answers`) that answered it."""
    return {pair["pair"]: [verdict[pair["pair"]]["choice"] for verdict in verdicts if pair["pair"] in verdict]
            for pair in key["pairs"]}  # fmt: skip


def agreed_pairs(key: dict, choices: dict[int, list[str]], raters: int) -> list[tuple[dict, bool]]:
    """(key entry, whether DIR_A won) of each pair all ``raters`` answered with the same side (no tie)."""
    agreed = []
    for pair in key["pairs"]:
        given = choices.get(pair["pair"], [])
        if len(given) == raters and len(set(given)) == 1 and given[0] != "tie":
            agreed.append((pair, given[0] == pair["dir_a_side"]))
    return agreed


def blotch_agreement(key: dict, choices: dict[int, list[str]], raters: int) -> tuple[float, int] | None:
    """(agreeing, pairs): on the agreed pairs, how often the less blotchy side is the raters' choice.

    ``choices`` maps a pair to each rater's choice; an equal measure counts half. None when
    the key holds no measures (:func:`record_measures` adds them).
    """
    if raters == 0 or not all("blotchiness" in pair for pair in key["pairs"]):
        return None
    agreed = agreed_pairs(key, choices, raters)
    return (sum(pair_agreement(pair, a_won) for pair, a_won in agreed), len(agreed))


def pair_agreement(pair: dict, a_won: bool) -> float:
    """1 where the key entry's less blotchy side won, 0 where it lost, 1/2 where both measure the same."""
    a, b = pair["blotchiness"]
    return 0.5 if a == b else float((a < b) == a_won)
