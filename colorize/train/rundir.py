"""The training run directory: its layout, its checks and its bookkeeping.

A run directory holds everything a long run needs: the effective configuration,
the history, TensorBoard logs, the best and last models, the backup for --resume,
sample images and the loss curves; their file names are :mod:`colorize.layout`'s.

A folder holding ``config.json`` and ``history.csv`` is a run; runs are never trained on.

Example:
    >>> from colorize.train import rundir
    >>> history = rundir.read_history("runs/unet/history.csv")  # doctest: +SKIP
    >>> rundir.best_epoch(history)  # doctest: +SKIP
    (3, {'loss': 0.08, 'val_loss': 0.09})
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import shutil
from pathlib import Path

from colorize import layout
from colorize.errors import ColorizeError

log = logging.getLogger(__name__)


def is_run_dir(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a run (config.json and history.csv)."""
    folder = Path(folder)
    return (folder / layout.CONFIG_NAME).exists() and (folder / layout.HISTORY_NAME).exists()


def run_dirs_under(folder: str | os.PathLike) -> list[Path]:
    """Training run directories (config.json + history.csv) inside ``folder``: never training data."""
    return sorted(path.parent for path in Path(folder).rglob(layout.CONFIG_NAME) if (path.parent / layout.HISTORY_NAME).is_file())


def check_start(run_dir: Path, resume: bool) -> None:
    """A new run needs a folder without a run in it; ``resume`` needs one with config.json.

    Raises:
        ColorizeError: the folder does not fit (the message says what to pass instead).
    """
    if resume and not (run_dir / layout.CONFIG_NAME).is_file():
        raise ColorizeError(f"{run_dir} is not a run directory (no config.json); pass the -o folder of a run")
    if not resume and is_run_dir(run_dir):
        raise ColorizeError(
            f"{run_dir} already holds a run; use --resume to continue it or choose another -o directory"
        )
    if resume and not (run_dir / layout.BACKUP_DIR).exists():
        log.warning("%s has no backup of a finished epoch; starting from epoch 1", run_dir)


def check_apart(run_dir: Path, data: Path) -> None:
    """A run directory must not lie inside the data, nor the data inside it (it would be trained on).

    Raises:
        ValueError: one lies inside the other.
    """
    run, source = run_dir.resolve(), data.resolve()
    if run == source or source in run.parents:
        raise ValueError(
            f"run directory {run_dir} is inside the data folder {data}: its samples and plots would be "
            "trained on next time; choose an -o folder outside the data"
        )
    if run in source.parents:
        raise ValueError(f"data {data} is inside the run directory {run_dir}; choose an -o folder apart from the data")


@contextlib.contextmanager
def removed_unless_finished(run_dir: Path, keep_on: tuple[type[BaseException], ...] = ()):
    """Make ``run_dir``; if the block fails before an epoch finished, remove it again (when made here).

    A failure of a type in ``keep_on`` (an interrupt that saved a checkpoint) keeps it.
    """
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield run_dir
    except BaseException as error:
        if created and not isinstance(error, keep_on) and not read_history(run_dir / layout.HISTORY_NAME):
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing finished: leave no half-made run behind
        raise


def write_config(run_dir: Path, values: dict) -> Path:
    """Write ``values`` as RUN_DIR/config.json (atomically)."""
    from colorize.io.files import atomic_write_bytes

    path = run_dir / layout.CONFIG_NAME
    atomic_write_bytes(path, (json.dumps(values, indent=2) + "\n").encode("utf-8"))
    return path


def worker_output_dir(run_dir: Path, strategy) -> Path:
    """Multi-worker runs: the chief writes the run directory, other workers a scratch copy."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", 0) or 0
    if task_type in (None, "chief") or (task_type == "worker" and task_id == 0):
        return run_dir
    return run_dir / "workers" / f"{task_type}_{task_id}"


def save_model_quietly(model, path: Path) -> None:
    """Save ``model`` to ``path``; a failure is logged, not raised (an interrupt must still report)."""
    from colorize.saving import save_model

    try:
        save_model(model, path)
    except Exception:  # noqa: BLE001 - an interrupt must still report, even if saving fails
        log.warning("could not save %s", path, exc_info=True)


def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """Read history.csv into a list of per-epoch dicts (empty if there is none)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as stream:
        rows = []
        for row in csv.DictReader(stream):
            parsed = {}
            for key, value in row.items():
                try:
                    parsed[key] = float(value)
                except (TypeError, ValueError):
                    continue
            rows.append(parsed)
    return rows


def best_epoch(history: list[dict[str, float]]) -> tuple[int | None, dict[str, float]]:
    """The 1-based epoch with the lowest finite val_loss and its metrics; (None, {}) when there is none."""
    scored = [row for row in history if math.isfinite(row.get("val_loss", math.nan))]
    if not scored:
        return None, {}
    best = min(scored, key=lambda row: row["val_loss"])
    return int(best.get("epoch", 0)) + 1, {key: value for key, value in best.items() if key != "epoch"}


def result_files(run_dir: Path, history: list[dict[str, float]], title: str) -> dict[str, Path]:
    """The files of a finished run by name (loss.png drawn here from ``history``)."""
    if history:
        from colorize import visualize

        curves = {key: [row[key] for row in history] for key in history[0] if key.endswith("loss")}
        if curves:
            visualize.plot_curves(run_dir / layout.LOSS_PLOT_NAME, curves, title=title)
    return run_files(run_dir)


def run_files(run_dir: Path) -> dict[str, Path]:
    """The files a run directory holds, by name, as they are (nothing is written)."""
    files = {"run_dir": run_dir, "config": run_dir / layout.CONFIG_NAME, "history": run_dir / layout.HISTORY_NAME}
    named = {"loss_curve": layout.LOSS_PLOT_NAME, "best": layout.BEST_NAME, "last": layout.LAST_NAME,
             "samples": layout.SAMPLES_DIR, "tensorboard": layout.LOGS_DIR}  # fmt: skip
    files.update({name: run_dir / entry for name, entry in named.items() if (run_dir / entry).exists()})
    return files
