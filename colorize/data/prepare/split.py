"""The split: train/val/test fractions, and each file's split from a hash of its content."""

from __future__ import annotations

import math
from typing import Iterable


def parse_split(split: str | Iterable[float]) -> tuple[float, float, float]:
    """Normalise ``"0.8,0.1,0.1"`` or ``(8, 1, 1)`` to three fractions summing to 1.

    Raises:
        ValueError: not three non-negative numbers with a positive sum.
    """
    if isinstance(split, str):
        try:
            values = [float(v) for v in split.split(",")]
        except ValueError:
            raise ValueError(f"split must be three numbers like 0.8,0.1,0.1. Received: split={split!r}") from None
    else:
        values = [float(v) for v in split]
    if len(values) != 3 or any(v < 0 or not math.isfinite(v) for v in values) or sum(values) <= 0:
        raise ValueError(
            f"split must be three non-negative numbers (train,val,test) like 0.8,0.1,0.1. Received: split={split!r}"
        )
    total = sum(values)
    return tuple(v / total for v in values)


def _split_of(digest: str, fractions: tuple[float, float, float]) -> str:
    """The split of a file, from its content hash: stable when other files come and go."""
    position = int(digest[:12], 16) / float(16**12)
    if position < fractions[0]:
        return "train"
    if position < fractions[0] + fractions[1]:
        return "val"
    return "test" if fractions[2] > 0 else ("val" if fractions[1] > 0 else "train")


def split_of(digest: str, split: str | Iterable[float] = "0.8,0.1,0.1") -> str:
    """The split ("train", "val" or "test") ``colorize prepare`` gives a file of this content.

    Args:
        digest: the SHA-1 hex digest of the file's bytes.
        split: the fractions given to prepare (its default ``0.8,0.1,0.1``).

    Example:
        >>> split_of("f" * 40)
        'test'
    """
    return _split_of(digest, parse_split(split))
