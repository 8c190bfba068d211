"""Files: atomic writes with the umask's mode, and finding the images in folders and lists.

:func:`atomic_write_bytes` (and :func:`atomic_output` for writers that want a file
name) is the one way the package writes a file: through a temporary sibling renamed
into place, with the mode the umask gives (``tempfile.mkstemp`` alone would leave 0600).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

from colorize.io.decode import IMAGE_EXTENSIONS

NOT_FOLLOWED = "a symbolic link to a folder, not followed (pass it as an input to include it)"
PARTIAL = "a partial file an interrupted write left (safe to delete)"

_UMASK_LOCK = threading.Lock()


def file_mode() -> int:
    """The mode a new file gets from the process's umask (0o644 under umask 022)."""
    try:  # Linux: read it without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary file name beside ``path``; on success it becomes ``path``.

    For writers that need a file name (``model.save``, ``TFRecordWriter``). The file
    gets ``mode`` (default: what the umask gives) and is renamed over ``path`` in one
    step, so readers see the old file or the new one, never a partial one; on any
    error (or a kill) the temporary file is removed (or left hidden, ``.NAME.*.part``).

    Example:
        >>> with atomic_output("out/model.keras") as temporary:  # doctest: +SKIP
        ...     model.save(temporary)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part" + path.suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, file_mode() if mode is None else mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, with the umask's mode (see :func:`atomic_output`).

    Example:
        >>> atomic_write_bytes("report/metrics.json", b"{}")  # doctest: +SKIP
    """
    path = Path(path)
    with atomic_output(path) as temporary:
        with open(temporary, "wb") as stream:
            stream.write(data)
    return path


def is_partial(path: str | os.PathLike) -> bool:
    """True for the temporary names :func:`atomic_output` writes through (``.NAME.XXXX.part.EXT``):
    what a killed run leaves behind, never a photo."""
    path = Path(path)
    return path.name.startswith(".") and (path.suffix == ".part" or path.stem.endswith(".part"))


def is_image_name(path: str | os.PathLike) -> bool:
    """True when the file name has one of :data:`IMAGE_EXTENSIONS` (any case)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def find_images(sources: Iterable[str | os.PathLike]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files, folders (recursively) and text files of paths into image files.

    Args:
        sources: image files, folders, or ``.txt`` files listing one path per line
            (relative paths are taken relative to the text file's folder).

    Returns:
        ``(files, skipped)``: image paths in a stable (sorted) order without
        duplicates, and ``(path, reason)`` for every source that was passed over.

    Example:
        >>> files, skipped = find_images(["photos/"])  # doctest: +SKIP
    """
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for source in sources:
        source = Path(source)
        if not source.exists():
            skipped.append((source, "no such file or folder"))
        elif source.is_dir():
            for path in sorted(source.rglob("*")):  # symbolic links to folders are not followed
                if path.is_symlink() and path.is_dir():
                    skipped.append((path, NOT_FOLLOWED))
                elif is_partial(path):
                    skipped.append((path, PARTIAL))
                elif is_image_name(path):
                    files.append(path)
                elif path.is_file() and not path.name.startswith("."):
                    skipped.append((path, f"not an image file name ({path.suffix or 'no extension'})"))
        elif source.suffix.lower() == ".txt":
            for line in source.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                listed = Path(line)
                if not listed.is_absolute():
                    listed = source.parent / listed
                if listed.exists():
                    files.append(listed)
                else:
                    skipped.append((listed, f"listed in {source.name} but missing"))
        else:
            files.append(source)
    unique = list(dict.fromkeys(files))
    return unique, skipped
