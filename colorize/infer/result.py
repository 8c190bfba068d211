"""What a files/folders run did: :class:`PredictResult`."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass
class PredictResult:
    """What a files/folders run did.

    Attributes:
        written: ``(input, output)`` for every colorized input.
        skipped: ``(input, existing output)`` kept because the output exists (no overwrite).
        failed: ``(input, reason)`` for every input that could not be colorized.
        compared: side-by-side images written (with ``compare=True``).
        ignored: ``(path, reason)`` for what a folder search passed over without it
            being a failure: files that are not images by name, earlier outputs of
            colorize, symbolic links to folders (not followed).
        notes: ``(input, note)`` for colorized inputs worth a word (only the first
            frame of a multi-frame file was used).
    """

    written: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    skipped: list[tuple[Path, Path]] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    compared: list[Path] = dataclasses.field(default_factory=list)
    ignored: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    notes: list[tuple[Path, str]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no input failed."""
        return not self.failed
