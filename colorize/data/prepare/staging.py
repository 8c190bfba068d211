"""Staging and the swap: a set is written into a hidden sibling folder and swapped into place atomically.

A kill at any moment leaves either the old set or the new one, never a mix; leftovers of
a killed run (found by their process id) are removed by the next one.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

from colorize.errors import ColorizeError
from colorize.layout import AB_DISTRIBUTION_NAME, MANIFEST_NAME

log = logging.getLogger(__name__)


# What a prepare run writes into its folder (and the training embeddings cache kept there).
_OWN_NAMES = ("*.tfrecord", "*-of-*.npy", ".*.tfrecord.tmp-*", ".*.part*", AB_DISTRIBUTION_NAME, MANIFEST_NAME, "embeddings")


def _check_output_free(output_dir: Path, overwrite: bool) -> None:
    """Refuse to replace a prepared set without ``overwrite``, and a folder of other files ever."""
    if not output_dir.exists():
        return
    if not output_dir.is_dir():
        raise ColorizeError(f"output {output_dir} is a file; -o needs a folder (new or empty)")
    entries = list(output_dir.iterdir())
    if not entries:
        return
    if (output_dir / MANIFEST_NAME).is_file():
        if not overwrite:
            raise ColorizeError(
                f"{output_dir} already holds a prepared data set; pass --overwrite to replace it "
                "(the new set is swapped in whole when complete), or choose another -o folder"
            )
        return
    own = all(any(entry.match(pattern) for pattern in _OWN_NAMES) for entry in entries)
    if not own:
        raise ColorizeError(
            f"{output_dir} is not empty and holds no prepared data set ({entries[0].name} ...); "
            "prepare writes a whole folder: choose a new or empty -o folder"
        )
    if not overwrite:
        raise ColorizeError(
            f"{output_dir} holds an incomplete data set (no {MANIFEST_NAME}: an interrupted prepare); "
            "pass --overwrite to replace it"
        )


def _staging_dir(output_dir: Path) -> Path:
    return output_dir.parent / f".{output_dir.name}.tmp-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(output_dir: Path) -> None:
    """Delete staging folders of killed prepare runs into ``output_dir`` (not of running ones)."""
    parent = output_dir.parent
    if not parent.is_dir():
        return
    for kind in ("tmp", "old"):
        for path in parent.glob(f".{output_dir.name}.{kind}-*"):
            pid = path.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            if kind == "old" and not output_dir.exists():
                os.rename(path, output_dir)  # killed between the two renames of the fallback swap
                log.warning("restored %s from %s (a killed prepare)", output_dir, path)
                continue
            log.info("removing %s, left by a killed prepare", path)
            shutil.rmtree(path, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, f"could not swap {first} and {second}: {os.strerror(code)}")


def _swap_in(staging: Path, output_dir: Path) -> None:
    """Make the complete set in ``staging`` the one at ``output_dir``; delete what was there."""
    if not output_dir.exists():
        os.rename(staging, output_dir)
        return
    if _exchange(staging, output_dir):
        shutil.rmtree(staging)  # now the old set (or the empty folder)
        return
    old = output_dir.parent / f".{output_dir.name}.old-{os.getpid()}"
    os.rename(output_dir, old)
    os.rename(staging, output_dir)
    shutil.rmtree(old)


def _disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return type(error).__name__ == "ResourceExhaustedError" or "No space left on device" in str(error)
